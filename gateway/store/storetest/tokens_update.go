package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// testTokenUpdate: UpdateToken is an atomic read-modify-write. A change of
// one field by one writer never undoes another writer's change (a
// revocation racing last-use updates survives), fn's error and an id or
// hash change write nothing, an unknown token is ErrNotFound.
func testTokenUpdate(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	_, err := s.UpdateToken(ctx, "tok-none", func(*gateway.Token) error { t.Error("fn called for an unknown token"); return nil })
	checkNotFound(t, "UpdateToken of an unknown token", err)
	base := gateway.Token{ID: "tok-u", Name: "u", Hash: "hash-u", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{"12AB00"}, CreatedAt: t0}
	if err := s.PutToken(ctx, base); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateToken(ctx, base.ID, func(x *gateway.Token) error { x.Name = "changed"; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateToken with a failing fn = %v, want fn's error", err)
	}
	for name, change := range map[string]func(*gateway.Token){"id": func(x *gateway.Token) { x.ID = "tok-other" },
		"hash": func(x *gateway.Token) { x.Hash = "hash-other" }} {
		if _, err := s.UpdateToken(ctx, base.ID, func(x *gateway.Token) error { change(x); return nil }); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("UpdateToken changing the %s = %v, want ErrInvalid", name, err)
		}
	}
	checkOne(t, "the token after refused updates", mustToken(t, s, base.Hash), base)

	// 30 last-use updates and one revocation, all at once.
	var wg sync.WaitGroup
	revokedAt := t1.UTC()
	for i := range 31 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateToken(ctx, base.ID, func(x *gateway.Token) error {
				if i == 0 {
					x.RevokedAt = revokedAt
				} else {
					x.SessionGen++
					x.LastUsedAt = t0.Add(time.Duration(i) * time.Second)
				}
				return nil
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	got := mustToken(t, s, base.Hash)
	if !got.RevokedAt.Equal(revokedAt) || got.SessionGen != 30 {
		t.Errorf("after concurrent updates: revoked %v, session generation %d; want the revocation kept and 30 generations", got.RevokedAt, got.SessionGen)
	}
	if got.Name != base.Name || fmt.Sprint(got.Schools) != fmt.Sprint(base.Schools) {
		t.Errorf("an update changed fields it did not touch: %+v", got)
	}
}

func mustToken(t *testing.T, s gateway.Store, hash string) gateway.Token {
	t.Helper()
	tok, err := s.TokenByHash(ctxFor(t), hash)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
