package gateway

// The scoped store's audit, login, secret, token, lock and status methods
// (see ScopedStore).

import (
	"context"
	"time"
)

// --- AuditStore

// AppendAudit: checks the chain, and the entry's School when set (a school
// admin cannot put an entry about school B into its own chain either).
func (s scopedStore) AppendAudit(ctx context.Context, e AuditEntry) error {
	if err := chainInScope(ctx, e.Chain); err != nil {
		return err
	}
	if err := optionalInScope(ctx, e.School); err != nil {
		return err
	}
	return s.st.AppendAudit(ctx, e)
}

// AuditHead: checks the chain (out of scope is ErrNotFound, not the zero
// entry an unknown chain gets).
func (s scopedStore) AuditHead(ctx context.Context, chain string) (AuditEntry, error) {
	if err := chainInScope(ctx, chain); err != nil {
		return AuditEntry{}, err
	}
	return s.st.AuditHead(ctx, chain)
}

// WalkAudit: checks the chain.
func (s scopedStore) WalkAudit(ctx context.Context, chain string, fn func(AuditEntry) error) error {
	if err := chainInScope(ctx, chain); err != nil {
		return err
	}
	return s.st.WalkAudit(ctx, chain, fn)
}

// AuditChains: filtered to the chains the scope allows.
func (s scopedStore) AuditChains(ctx context.Context) ([]string, error) {
	all, err := s.st.AuditChains(ctx)
	if err != nil {
		return nil, err
	}
	if sc, ok := ScopeFrom(ctx); !ok || sc.All {
		return all, nil
	}
	out := all[:0:0]
	for _, c := range all {
		if chainInScope(ctx, c) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// --- LoginStore

// AddLogin: a login record about a school (Login.School) may be added by a
// scope with that school; one without a school is gateway-wide and needs
// Scope.All (ErrForbidden).
func (s scopedStore) AddLogin(ctx context.Context, l Login) error {
	if l.School == "" {
		if err := needAll(ctx, "add login "+l.ID); err != nil {
			return err
		}
	} else if err := inScope(ctx, l.School); err != nil {
		return err
	}
	return s.st.AddLogin(ctx, l)
}

// WalkLogins: filtered; fn sees only logins of schools in scope (a login
// without a school only with Scope.All).
func (s scopedStore) WalkLogins(ctx context.Context, fn func(Login) error) error {
	sc, ok := ScopeFrom(ctx)
	if !ok || sc.All {
		return s.st.WalkLogins(ctx, fn)
	}
	return s.st.WalkLogins(ctx, func(l Login) error {
		if l.School == "" || !sc.Allows(l.School) {
			return nil
		}
		return fn(l)
	})
}

// DeleteLogins: deletes by id across every school (retention), so it needs
// Scope.All.
func (s scopedStore) DeleteLogins(ctx context.Context, ids []string) (int, error) {
	if err := needAll(ctx, "delete logins"); err != nil {
		return 0, err
	}
	return s.st.DeleteLogins(ctx, ids)
}

// --- SecretStore: the gateway's own secrets need Scope.All.

func (s scopedStore) GatewaySecret(ctx context.Context, name string) ([]byte, error) {
	if err := needAll(ctx, "gateway secret "+name); err != nil {
		return nil, err
	}
	return s.st.GatewaySecret(ctx, name)
}

func (s scopedStore) PutGatewaySecret(ctx context.Context, name string, v []byte, ifAbsent bool) ([]byte, error) {
	if err := needAll(ctx, "put gateway secret "+name); err != nil {
		return nil, err
	}
	return s.st.PutGatewaySecret(ctx, name, v, ifAbsent)
}

// --- TokenStore: tokens are gateway-wide (a token may span schools, and
// finding one by hash is how a caller gets its scope in the first place),
// so every method needs Scope.All.

func (s scopedStore) PutToken(ctx context.Context, t Token) error {
	if err := needAll(ctx, "put token "+t.ID); err != nil {
		return err
	}
	return s.st.PutToken(ctx, t)
}

func (s scopedStore) TokenByHash(ctx context.Context, hash string) (Token, error) {
	if err := needAll(ctx, "token by hash"); err != nil {
		return Token{}, err
	}
	return s.st.TokenByHash(ctx, hash)
}

func (s scopedStore) Tokens(ctx context.Context) ([]Token, error) {
	if err := needAll(ctx, "list tokens"); err != nil {
		return nil, err
	}
	return s.st.Tokens(ctx)
}

// --- LockStore: checks the school, or Lock.School.

func (s scopedStore) AcquireLock(ctx context.Context, id SchoolID, owner string, ttl time.Duration, now time.Time) (Lock, error) {
	if err := inScope(ctx, id); err != nil {
		return Lock{}, err
	}
	return s.st.AcquireLock(ctx, id, owner, ttl, now)
}

func (s scopedStore) RenewLock(ctx context.Context, l Lock, ttl time.Duration, now time.Time) (Lock, error) {
	if err := inScope(ctx, l.School); err != nil {
		return Lock{}, err
	}
	return s.st.RenewLock(ctx, l, ttl, now)
}

func (s scopedStore) ReleaseLock(ctx context.Context, l Lock) error {
	if err := inScope(ctx, l.School); err != nil {
		return err
	}
	return s.st.ReleaseLock(ctx, l)
}

// --- StatusStore: checks the school.

func (s scopedStore) PutConnectionCheck(ctx context.Context, id SchoolID, c ConnectionCheck) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.PutConnectionCheck(ctx, id, c)
}

func (s scopedStore) ConnectionCheck(ctx context.Context, id SchoolID) (ConnectionCheck, error) {
	if err := inScope(ctx, id); err != nil {
		return ConnectionCheck{}, err
	}
	return s.st.ConnectionCheck(ctx, id)
}

func (s scopedStore) PutScheduleState(ctx context.Context, id SchoolID, st ScheduleState) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.PutScheduleState(ctx, id, st)
}

func (s scopedStore) ScheduleState(ctx context.Context, id SchoolID) (ScheduleState, error) {
	if err := inScope(ctx, id); err != nil {
		return ScheduleState{}, err
	}
	return s.st.ScheduleState(ctx, id)
}

// Close takes no context, so no scope: it closes the wrapped store.
func (s scopedStore) Close() error { return s.st.Close() }
