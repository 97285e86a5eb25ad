package storetest

import (
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func testConsentEmpty(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "12AB00")
	c, err := s.Consent(ctxFor(t), "12AB00")
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	if len(c) != 0 {
		t.Errorf("Consent of a new school: %v, want empty", c)
	}
	h, err := s.ConsentHistory(ctxFor(t), "12AB00")
	if err != nil {
		t.Fatalf("ConsentHistory: %v", err)
	}
	if len(h) != 0 {
		t.Errorf("ConsentHistory of a new school: %d changes, want none", len(h))
	}
}

func testConsentHistory(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	changes := []gateway.ConsentChange{
		{School: id, Processing: gateway.ProcessingLASExchange, Old: false, New: true, By: "admin@school", At: t0},
		{School: id, Processing: gateway.ProcessingResearch, Old: false, New: true, By: "admin@school", At: t0.Add(time.Minute)},
		{School: id, Processing: gateway.ProcessingDashboards, Old: false, New: true, By: "op", At: t1},
		{School: id, Processing: gateway.ProcessingResearch, Old: true, New: false, By: "dpo", At: t1.Add(time.Hour)},
		// Same instant as the previous change: order is insertion order.
		{School: id, Processing: gateway.ProcessingLegal, Old: false, New: true, By: "dpo", At: t1.Add(time.Hour)},
	}
	want := []gateway.Consent{
		{gateway.ProcessingLASExchange: true},
		{gateway.ProcessingLASExchange: true, gateway.ProcessingResearch: true},
		{gateway.ProcessingLASExchange: true, gateway.ProcessingResearch: true, gateway.ProcessingDashboards: true},
		{gateway.ProcessingLASExchange: true, gateway.ProcessingDashboards: true},
		{gateway.ProcessingLASExchange: true, gateway.ProcessingDashboards: true, gateway.ProcessingLegal: true},
	}
	for i, c := range changes {
		if err := s.SetConsent(ctxFor(t), c); err != nil {
			t.Fatalf("SetConsent %d: %v", i, err)
		}
		got, err := s.Consent(ctxFor(t), id)
		if err != nil {
			t.Fatalf("Consent: %v", err)
		}
		// A withdrawn processing may be absent or false: compare granted ones.
		if !equal(granted(got), want[i]) {
			t.Errorf("Consent after change %d: %v, want %v", i, got, want[i])
		}
		h, err := s.ConsentHistory(ctxFor(t), id)
		if err != nil {
			t.Fatalf("ConsentHistory: %v", err)
		}
		checkEqual(t, "ConsentHistory", h, changes[:i+1])
	}
}

func granted(c gateway.Consent) gateway.Consent {
	out := gateway.Consent{}
	for p, ok := range c {
		if ok {
			out[p] = true
		}
	}
	return out
}

func testConsentIsolation(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "12AB00")
	mustSchool(t, s, "12AB01")
	c := gateway.ConsentChange{School: "12AB00", Processing: gateway.ProcessingLegal, New: true, By: "a", At: t0}
	if err := s.SetConsent(ctxFor(t), c); err != nil {
		t.Fatalf("SetConsent: %v", err)
	}
	other, err := s.Consent(ctxFor(t), "12AB01")
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	if len(granted(other)) != 0 {
		t.Errorf("Consent of the other school: %v", other)
	}
	h, err := s.ConsentHistory(ctxFor(t), "12AB01")
	if err != nil {
		t.Fatalf("ConsentHistory: %v", err)
	}
	if len(h) != 0 {
		t.Errorf("ConsentHistory of the other school: %d changes", len(h))
	}
	got, err := s.Consent(ctxFor(t), "12AB00")
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	if !equal(granted(got), gateway.Consent{gateway.ProcessingLegal: true}) {
		t.Errorf("Consent: %v", got)
	}
}

func testSyncRuns(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id, other = "12AB00", "12AB01"
	mustSchool(t, s, id)
	mustSchool(t, s, other)
	if runs, err := s.SyncRuns(ctx, id, 10); err != nil || len(runs) != 0 {
		t.Fatalf("SyncRuns of a new school: %d runs, %v", len(runs), err)
	}
	var added []gateway.SyncRun
	for i := range 5 {
		r := gateway.SyncRun{
			ID: "run" + string(rune('a'+i)), School: id,
			StartedAt: t1.Add(time.Duration(i) * time.Hour), FinishedAt: t1.Add(time.Duration(i)*time.Hour + time.Minute),
			Status: gateway.SyncApplied, DryRun: i == 2,
			Pupils: 100 + i, Added: i, Changed: 2 * i, Left: 3, Teachers: 7, Groups: 8,
		}
		if i == 3 {
			r.Status, r.ErrorClass, r.Error = gateway.SyncFailed, "temporary", "las timeout"
			r.Warnings = []string{"w1", "w2"}
		}
		if err := s.AddSyncRun(ctx, r); err != nil {
			t.Fatalf("AddSyncRun: %v", err)
		}
		added = append(added, r)
	}
	if err := s.AddSyncRun(ctx, gateway.SyncRun{ID: "x", School: other, StartedAt: t1.Add(99 * time.Hour), Status: gateway.SyncHeld}); err != nil {
		t.Fatalf("AddSyncRun (other): %v", err)
	}
	newest := make([]gateway.SyncRun, len(added))
	for i, r := range added {
		newest[len(added)-1-i] = r
	}
	for _, limit := range []int{1, 3, 5, 100} {
		got, err := s.SyncRuns(ctx, id, limit)
		if err != nil {
			t.Fatalf("SyncRuns(limit %d): %v", limit, err)
		}
		checkEqual(t, "SyncRuns", got, newest[:min(limit, len(newest))])
	}
	got, err := s.SyncRuns(ctx, other, 100)
	if err != nil {
		t.Fatalf("SyncRuns (other): %v", err)
	}
	if len(got) != 1 || got[0].ID != "x" {
		t.Errorf("SyncRuns of the other school: %+v", got)
	}
}
