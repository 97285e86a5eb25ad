package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// AuthFailure is why a token was refused; its text is safe to log and show.
type AuthFailure string

func (f AuthFailure) Error() string { return string(f) }

// Is makes an AuthFailure a gateway.ErrForbidden.
func (f AuthFailure) Is(target error) bool { return target == gateway.ErrForbidden }

// Authenticate finds the active token with this secret, for a caller at
// client address remote. Failed logins are limited per address
// (throttle.go): past the limit it answers *LoginThrottled without looking
// at the token (nor the store). A refusal is an AuthFailure (with the
// token when one was found: revoked, expired; its text is the reason for
// the login record, not for the caller); a store failure is returned as it
// is. It records nothing: see RecordLogin. It reads without a scope:
// finding its token is how a caller gets one.
func (a *App) Authenticate(ctx context.Context, secret, remote string) (gateway.Token, error) {
	key, now, th := clientKey(remote), a.now(), a.edge().throttle
	if wait, ok := th.reserve(key, now); !ok {
		a.edge().fails.throttle(key, now)
		return gateway.Token{}, &LoginThrottled{Wait: wait}
	}
	t, err := a.authenticate(ctx, secret)
	if af := AuthFailure(""); !errors.As(err, &af) {
		th.refund(key, now) // a good token, or the store failed: not the caller's failure
	}
	return t, err
}

// authenticate looks the secret up.
func (a *App) authenticate(ctx context.Context, secret string) (gateway.Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) < len(tokenPrefix)+40 {
		return gateway.Token{}, AuthFailure("malformed token")
	}
	t, err := a.raw.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, gateway.ErrNotFound) {
		return gateway.Token{}, AuthFailure("unknown token")
	} else if err != nil {
		return gateway.Token{}, err
	}
	return t, a.usable(t)
}

// usable checks that a token may be used now.
func (a *App) usable(t gateway.Token) error {
	now := a.now()
	switch {
	case !t.RevokedAt.IsZero():
		return AuthFailure("revoked token")
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return AuthFailure("expired token")
	case !t.Role.Valid():
		return AuthFailure("token with an unknown role")
	}
	return nil
}

// SessionToken returns the active token a web session names by its hash,
// when the session was made in the token's current session generation; an
// AuthFailure when there is none (any more): the token was revoked or has
// expired, or the session was ended (logout).
func (a *App) SessionToken(ctx context.Context, hash string, gen uint64) (gateway.Token, error) {
	t, err := a.raw.TokenByHash(ctx, hash)
	if errors.Is(err, gateway.ErrNotFound) {
		return gateway.Token{}, AuthFailure("unknown token")
	} else if err != nil {
		return gateway.Token{}, err
	}
	if err := a.usable(t); err != nil {
		return t, err
	}
	if gen != t.SessionGen {
		return t, AuthFailure("ended session")
	}
	return t, nil
}

// RecordLogin audits a login or failed login in the gateway chain (the
// processing agreement's login logging) and keeps a login record for
// retention; a successful one sets the token's last use. A failed login is
// counted in its address's window (throttle_logins.go): only the first of
// a window is written at once, the rest as one aggregate when the window
// closes. It never records a secret. Failures to record are returned
// joined; the login itself stands.
func (a *App) RecordLogin(ctx context.Context, l gateway.LoginAttempt) error {
	// The gateway records the login itself: the caller's scope (if any) does
	// not limit what it writes to its own chain.
	ctx = gatewayScope(ctx)
	if l.OK {
		return a.recordLogin(ctx, l)
	}
	f := failure{reason: l.Reason, account: or(l.Token.ID, "unknown"), via: l.Via}
	first, closed := a.edge().fails.fail(clientKey(l.Remote), f, a.now())
	// The windows that closed meanwhile first: the chain stays in time order.
	errs := []error{a.writeAggregates(ctx, closed, 0)}
	if first {
		errs = append(errs, a.recordLogin(ctx, l))
	}
	return errors.Join(errs...)
}

// recordLogin writes one login's audit entry and login record.
func (a *App) recordLogin(ctx context.Context, l gateway.LoginAttempt) error {
	now := a.now().UTC()
	t := l.Token
	account := or(t.ID, "unknown")
	d := map[string]string{"account": account, "ok": strconv.FormatBool(l.OK), "via": l.Via, "remote": l.Remote, "request_id": l.RequestID}
	if t.Role != "" {
		d["role"] = string(t.Role)
	}
	if l.Reason != "" {
		d["reason"] = l.Reason
	}
	var errs []error
	if _, err := a.log.Append(ctx, gateway.AuditChainGateway, gateway.AuditLogin, "", account, d); err != nil {
		errs = append(errs, fmt.Errorf("login not audited: %w", err))
	}
	rec := gateway.Login{ID: fmt.Sprintf("%d-%s", now.UnixNano(), l.RequestID), Account: account, At: now, OK: l.OK}
	if len(t.Schools) == 1 {
		rec.School = t.Schools[0]
	}
	if err := a.raw.AddLogin(ctx, rec); err != nil {
		errs = append(errs, fmt.Errorf("login record not kept: %w", err))
	}
	if l.OK && t.ID != "" {
		// Only the last use changes: a revocation made meanwhile stays.
		if _, err := a.raw.UpdateToken(ctx, t.ID, func(x *gateway.Token) error { x.LastUsedAt = now; return nil }); err != nil {
			errs = append(errs, fmt.Errorf("token last use not kept: %w", err))
		}
	}
	return errors.Join(errs...)
}
