package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Role is what an admin API token may do.
type Role string

const (
	// RoleOperator may do everything, for every school.
	RoleOperator Role = "operator"
	// RoleSchoolAdmin may read and act for the schools on its token only.
	RoleSchoolAdmin Role = "school-admin"
	// RoleViewer may read, for the schools on its token (all when none).
	RoleViewer Role = "viewer"
	// RoleDashboard may read one thing: the results feed of its recipient,
	// for the schools on its token, while each grants dashboards.
	RoleDashboard Role = "dashboard"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleOperator || r == RoleSchoolAdmin || r == RoleViewer || r == RoleDashboard
}

// Token is an admin API token as stored: never the token itself, only its
// SHA-256 (Hash, hex). Schools limits a school-admin or viewer token.
type Token struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Hash    string     `json:"hash"`
	Role    Role       `json:"role"`
	Schools []SchoolID `json:"schools,omitempty"`
	// Recipient is the feed recipient a dashboard token reads for.
	Recipient  string    `json:"recipient,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// SessionGen ends web sessions on the server: a session carries the
	// generation it was made in and is refused once the token's has moved
	// on (logout, revocation).
	SessionGen uint64 `json:"session_gen,omitzero"`
}

// LogValue logs a token by id and role only.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", t.ID), slog.String("role", string(t.Role)))
}

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// LoginAttempt is one login or failed login to the admin API or web page,
// as the edge saw it (what the login logging records).
type LoginAttempt struct {
	// Token is the token used (the zero token when none was found).
	Token  Token
	OK     bool
	Via    string // "api" or "web"
	Remote string // the caller's IP address
	// RequestID ties the record to the request's log line.
	RequestID string
	Reason    string // why it failed
}

// Scope is the set of schools a caller may see. The zero Scope (All false,
// no schools) sees nothing.
type Scope struct {
	All     bool
	Schools []SchoolID
}

// Allows reports whether the scope includes school.
func (s Scope) Allows(school SchoolID) bool { return s.All || slices.Contains(s.Schools, school) }

// ScopeOf is the scope a token grants.
func (t Token) ScopeOf() Scope {
	if t.Role == RoleOperator || (t.Role == RoleViewer && len(t.Schools) == 0) {
		return Scope{All: true}
	}
	return Scope{Schools: slices.Clone(t.Schools)}
}

type scopeKey struct{}

// WithScope returns a context that carries the caller's school scope;
// ScopedStore enforces it in every query.
func WithScope(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFrom returns the scope in ctx, and whether there is one. Without a
// scope (the CLI, the scheduler) everything is in scope.
func ScopeFrom(ctx context.Context) (Scope, bool) {
	s, ok := ctx.Value(scopeKey{}).(Scope)
	return s, ok
}

// inScope returns ErrNotFound when ctx carries a scope without school: to
// a caller outside its scope a school does not exist.
func inScope(ctx context.Context, school SchoolID) error {
	if s, ok := ScopeFrom(ctx); ok && !s.Allows(school) {
		return fmt.Errorf("school %s: %w", school, ErrNotFound)
	}
	return nil
}

// TokenStore keeps admin API tokens; part of Store.
type TokenStore interface {
	// PutToken creates or replaces a token (by ID).
	PutToken(ctx context.Context, t Token) error
	// TokenByHash finds a token by the SHA-256 of its secret, or ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens lists every token, ordered by ID.
	Tokens(ctx context.Context) ([]Token, error)
	// UpdateToken reads the token with this id, lets fn change it and
	// stores it, atomically against every other writer (a revocation and a
	// last-use update never undo each other). ErrNotFound when there is no
	// such token (fn is not called); fn's error is returned as it is and
	// nothing is written; ErrInvalid when fn changed the ID or the Hash. fn
	// may run more than once and must not call the store.
	UpdateToken(ctx context.Context, id string, fn func(*Token) error) (Token, error)
}

// Lock is a per-school lease with a fencing token: Token grows with every
// acquisition, so a holder that paused past Until (and lost the lock to
// another) can be refused by anything that checks the token.
type Lock struct {
	School SchoolID  `json:"school"`
	Owner  string    `json:"owner"`
	Token  uint64    `json:"token"`
	Until  time.Time `json:"until"`
}

// LockStore keeps per-school sync locks; part of Store.
type LockStore interface {
	// AcquireLock takes the school's lock for owner until now+ttl, with a
	// new, larger fencing token; ErrConflict while another owner holds it.
	AcquireLock(ctx context.Context, school SchoolID, owner string, ttl time.Duration, now time.Time) (Lock, error)
	// RenewLock extends a held lock; ErrConflict when it is no longer held
	// with l.Token (it lapsed and was taken, or was released).
	RenewLock(ctx context.Context, l Lock, ttl time.Duration, now time.Time) (Lock, error)
	// ReleaseLock gives the lock up if it is still held with l.Token.
	ReleaseLock(ctx context.Context, l Lock) error
}

// StageOption tunes Store.Stage and Store.OpenStage.
type StageOption struct {
	// Fence, when set, makes Commit refuse (ErrConflict) unless the school's
	// lock is still held with this fencing token.
	Fence *Lock
}

// ConnectionCheck is the outcome of the last connection test of a school.
type ConnectionCheck struct {
	At         time.Time  `json:"at"`
	OK         bool       `json:"ok"`
	ErrorClass ErrorClass `json:"error_class,omitempty"`
	FaultCode  string     `json:"fault_code,omitempty"`
	Message    string     `json:"message,omitempty"`
	Hint       string     `json:"hint,omitempty"`
	ElapsedMS  int64      `json:"elapsed_ms"`
	Groups     int        `json:"groups"`
}

// ScheduleState is what the scheduler remembers of a school.
type ScheduleState struct {
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	LastSuccessAt time.Time `json:"last_success_at,omitzero"`
	// Failures counts consecutive failed nightly syncs.
	Failures int `json:"failures"`
}

// StatusStore keeps the last connection check and the schedule state of a
// school; part of Store.
type StatusStore interface {
	PutConnectionCheck(ctx context.Context, school SchoolID, c ConnectionCheck) error
	// ConnectionCheck returns the last check, or ErrNotFound when none was made.
	ConnectionCheck(ctx context.Context, school SchoolID) (ConnectionCheck, error)
	PutScheduleState(ctx context.Context, school SchoolID, s ScheduleState) error
	// ScheduleState returns the state; the zero state when none was stored.
	ScheduleState(ctx context.Context, school SchoolID) (ScheduleState, error)
}
