package consent_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
)

func newGate(t *testing.T) (*consent.Gate, gateway.Store) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "g.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutSchool(context.Background(), gateway.School{ID: "12AB00", Brin: "12AB", Dependancecode: "00"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC)
	return consent.New(st, func() time.Time { return now }).WithAudit(audit.New(st, func() time.Time { return now })), st
}

func TestRequireAndSet(t *testing.T) {
	g, st := newGate(t)
	ctx := context.Background()
	for _, p := range gateway.Processings {
		if err := g.Require(ctx, "12AB00", p); !errors.Is(err, gateway.ErrConsentRequired) {
			t.Errorf("Require(%s) by default: %v, want ErrConsentRequired (default off)", p, err)
		}
	}
	if err := g.Require(ctx, "12AB00", "bogus"); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("Require(bogus): %v", err)
	}
	for _, tt := range []struct {
		name string
		p    gateway.Processing
		by   string
		want error
	}{
		{"unknown processing", "bogus", "admin", gateway.ErrInvalid},
		{"nobody named", gateway.ProcessingResearch, "  ", gateway.ErrInvalid},
	} {
		if _, err := g.Apply(ctx, "12AB00", tt.p, true, tt.by); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := g.Apply(ctx, "99ZZ00", gateway.ProcessingResearch, true, "admin"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("unknown school: %v", err)
	}
	a, err := g.Apply(ctx, "12AB00", gateway.ProcessingResearch, true, "admin")
	if err != nil || !a.Changed || a.Change.Old || !a.Change.New || a.Held+a.Released != 0 {
		t.Fatalf("grant research = %+v, %v", a, err)
	}
	if err := g.Require(ctx, "12AB00", gateway.ProcessingResearch); err != nil {
		t.Errorf("after grant: %v", err)
	}
	if err := g.Require(ctx, "12AB00", gateway.ProcessingLASExchange); !errors.Is(err, gateway.ErrConsentRequired) {
		t.Errorf("las_exchange after granting research: %v (processings are separate)", err)
	}
	again, err := g.Apply(ctx, "12AB00", gateway.ProcessingResearch, true, "admin")
	if err != nil || again.Changed {
		t.Errorf("granting again = %+v, %v; want unchanged", again, err)
	}
	hist, _ := st.ConsentHistory(ctx, "12AB00")
	if len(hist) != 1 {
		t.Errorf("%d history entries, want 1 (an unchanged setting is not recorded)", len(hist))
	}
	var kinds []gateway.AuditKind
	_ = st.WalkAudit(ctx, gateway.AuditChainOf("12AB00"), func(e gateway.AuditEntry) error {
		kinds = append(kinds, e.Kind)
		if e.Actor != "admin" || e.Details["processing"] != "research" || e.Details["new"] != "granted" {
			t.Errorf("audit entry %+v", e)
		}
		return nil
	})
	if len(kinds) != 1 || kinds[0] != gateway.AuditConsent {
		t.Errorf("audit entries %v, want one consent.change", kinds)
	}
}

// Revoking las_exchange holds queued result batches; granting releases them.
func TestLASExchangeHoldsAndReleasesBatches(t *testing.T) {
	g, st := newGate(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC)
	if _, err := g.Apply(ctx, "12AB00", gateway.ProcessingLASExchange, true, "admin"); err != nil {
		t.Fatal(err)
	}
	r := gateway.Result{Key: "r1", Pupil: "p1", Test: "T", Date: "2026-10-01", Score: "1", Digest: "d1"}
	if _, err := st.Enqueue(ctx, "12AB00", []gateway.Result{r}, gateway.Batch{ID: "b1", State: gateway.BatchQueued, CreatedAt: at, NextAttemptAt: at}); err != nil {
		t.Fatal(err)
	}
	a, err := g.Apply(ctx, "12AB00", gateway.ProcessingLASExchange, false, "admin")
	if err != nil || a.Held != 1 || a.StillInFlight != 0 {
		t.Fatalf("revoke = %+v, %v; want 1 batch held", a, err)
	}
	if b, _ := st.Batch(ctx, "12AB00", "b1"); b.State != gateway.BatchHeld || b.Reason != consent.HeldReason {
		t.Fatalf("batch after revoke: %+v", b)
	}
	a, err = g.Apply(ctx, "12AB00", gateway.ProcessingLASExchange, true, "admin")
	if err != nil || a.Released != 1 {
		t.Fatalf("grant = %+v, %v; want 1 batch released", a, err)
	}
	if b, _ := st.Batch(ctx, "12AB00", "b1"); b.State != gateway.BatchQueued {
		t.Fatalf("batch after grant: %+v", b)
	}
}
