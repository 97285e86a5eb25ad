package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Recipients' copies of a batch: stored in the same step as the results
// with the same keys, claimed and held by their own processing.
var copyTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"EnqueueCopies", testEnqueueCopies},
	{"EnqueueCopiesNothingNew", testEnqueueCopiesNothingNew},
	{"EnqueueCopiesBad", testEnqueueCopiesBad},
	{"HoldReleaseByProcessing", testHoldReleaseByProcessing},
	{"SplitCopy", testSplitCopy},
	{"EnqueueExport", testEnqueueExport},
}

func dashboardCopy(id string, state gateway.BatchState) gateway.Batch {
	b := newBatch(id, state)
	b.Recipient, b.Processing = "dash", gateway.ProcessingDashboards
	return b
}

func testEnqueueCopies(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	out, err := s.Enqueue(ctx, "11AA00", results("11AA00", "r", "v1-", 4), newBatch("b1", gateway.BatchQueued),
		dashboardCopy("b1d", gateway.BatchHeld), dashboardCopy("b1e", gateway.BatchQueued))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, gateway.Enqueued{Batch: "b1", New: 4, Also: []string{"b1d", "b1e"}}) {
		t.Fatalf("Enqueue = %+v", out)
	}
	for _, id := range []string{"b1", "b1d", "b1e"} {
		b, err := s.Batch(ctx, "11AA00", id)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Keys) != 4 || b.School != "11AA00" {
			t.Fatalf("batch %s = %+v, want the 4 keys", id, b)
		}
	}
	d, _ := s.Batch(ctx, "11AA00", "b1d")
	if d.Recipient != "dash" || d.Needs() != gateway.ProcessingDashboards || d.State != gateway.BatchHeld {
		t.Fatalf("copy = %+v", d)
	}
	stored, err := s.Results(ctx, "11AA00", []string{"r-0"})
	if err != nil || len(stored) != 1 || stored[0].Batch != "b1" {
		t.Fatalf("a result points at the first batch (receipts follow the LAS): %+v %v", stored, err)
	}
	var claimed []string
	for _, c := range claim(t, s, "w", o0, time.Minute) {
		claimed = append(claimed, c.Batch.ID)
	}
	slices.Sort(claimed)
	if !slices.Equal(claimed, []string{"b1", "b1e"}) {
		t.Fatalf("claimed %v, want the two queued batches and not the held copy", claimed)
	}
	depth, err := s.OutboxDepth(ctx, "11AA00")
	if err != nil || depth[gateway.BatchHeld] != 1 {
		t.Fatalf("depth = %v %v", depth, err)
	}
}

func testEnqueueCopiesNothingNew(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	rs := results("11AA00", "r", "v1-", 3)
	mustEnqueue(t, s, "11AA00", rs, newBatch("b1", gateway.BatchQueued))
	out, err := s.Enqueue(ctxFor(t), "11AA00", rs, newBatch("b2", gateway.BatchQueued), dashboardCopy("b2d", gateway.BatchQueued))
	if err != nil {
		t.Fatal(err)
	}
	if out.Batch != "" || len(out.Also) != 0 || out.Unchanged != 3 {
		t.Fatalf("Enqueue of unchanged results = %+v, want no batch and no copy", out)
	}
	if _, err := s.Batch(ctxFor(t), "11AA00", "b2d"); err == nil {
		t.Fatal("a copy of nothing was stored")
	}
}

func testEnqueueCopiesBad(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	rs := results("11AA00", "r", "v1-", 2)
	for name, also := range map[string]gateway.Batch{
		"same id":   dashboardCopy("b1", gateway.BatchQueued),
		"no id":     dashboardCopy("", gateway.BatchQueued),
		"bad state": dashboardCopy("b1d", gateway.BatchAccepted),
	} {
		if _, err := s.Enqueue(ctx, "11AA00", rs, newBatch("b1", gateway.BatchQueued), also); err == nil {
			t.Fatalf("%s: Enqueue accepted it", name)
		}
	}
	got, err := s.Results(ctx, "11AA00", []string{"r-0", "r-1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("a refused Enqueue stored results: %+v %v", got, err)
	}
}

func testHoldReleaseByProcessing(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	if _, err := s.Enqueue(ctx, "11AA00", results("11AA00", "r", "v1-", 2), newBatch("b1", gateway.BatchQueued),
		dashboardCopy("b1d", gateway.BatchQueued)); err != nil {
		t.Fatal(err)
	}
	state := func(id string) gateway.BatchState {
		b, err := s.Batch(ctx, "11AA00", id)
		if err != nil {
			t.Fatal(err)
		}
		return b.State
	}
	if n, err := s.HoldBatches(ctx, "11AA00", gateway.ProcessingDashboards, "dashboards revoked", o0); err != nil || n != 1 {
		t.Fatalf("HoldBatches(dashboards) = %d, %v; want 1", n, err)
	}
	if state("b1") != gateway.BatchQueued || state("b1d") != gateway.BatchHeld {
		t.Fatalf("after holding dashboards: LAS %s, copy %s", state("b1"), state("b1d"))
	}
	if n, err := s.HoldBatches(ctx, "11AA00", gateway.ProcessingLASExchange, "las revoked", o0); err != nil || n != 1 {
		t.Fatalf("HoldBatches(las_exchange) = %d, %v; want 1", n, err)
	}
	if n, err := s.ReleaseBatches(ctx, "11AA00", gateway.ProcessingDashboards, o0); err != nil || n != 1 {
		t.Fatalf("ReleaseBatches(dashboards) = %d, %v; want 1", n, err)
	}
	if state("b1") != gateway.BatchHeld || state("b1d") != gateway.BatchQueued {
		t.Fatalf("after releasing dashboards: LAS %s, copy %s", state("b1"), state("b1d"))
	}
	cs := claim(t, s, "w", o0, time.Minute)
	if len(cs) != 1 || cs[0].Batch.ID != "b1d" {
		t.Fatalf("claimed %+v, want only the released copy", cs)
	}
}

// A copy that is split hands its keys to parts of the same recipient; the
// results keep pointing at their LAS batch.
func testSplitCopy(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	if _, err := s.Enqueue(ctx, "11AA00", results("11AA00", "r", "v1-", 4), newBatch("b1", gateway.BatchHeld),
		dashboardCopy("b1d", gateway.BatchQueued)); err != nil {
		t.Fatal(err)
	}
	cs := claim(t, s, "w", o0, time.Minute)
	if len(cs) != 1 {
		t.Fatalf("claimed %d, want the copy", len(cs))
	}
	parts := []gateway.Batch{{ID: "b1d.1", Keys: []string{"r-0", "r-1"}, CreatedAt: o0, NextAttemptAt: o0},
		{ID: "b1d.2", Keys: []string{"r-2", "r-3"}, CreatedAt: o0, NextAttemptAt: o0}}
	if err := s.Split(ctx, cs[0], parts, o0); err != nil {
		t.Fatal(err)
	}
	p, err := s.Batch(ctx, "11AA00", "b1d.2")
	if err != nil || p.Recipient != "dash" || p.Needs() != gateway.ProcessingDashboards {
		t.Fatalf("part = %+v %v, want the copy's recipient and processing", p, err)
	}
	rs, err := s.Results(ctx, "11AA00", []string{"r-0", "r-3"})
	if err != nil || len(rs) != 2 || rs[0].Batch != "b1" || rs[1].Batch != "b1" {
		t.Fatalf("results after a copy's split = %+v %v, want them still on b1", rs, err)
	}
}

// An export batch has no results: it is stored, claimed and held by its
// processing like any other.
func testEnqueueExport(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	b := newBatch("x1", gateway.BatchQueued)
	b.Recipient, b.Processing, b.Export = "uni", gateway.ProcessingResearch, "study-1"
	if err := s.EnqueueExport(ctx, "11AA00", b); err != nil {
		t.Fatal(err)
	}
	bad := b
	bad.ID, bad.Export = "x2", ""
	if err := s.EnqueueExport(ctx, "11AA00", bad); err == nil {
		t.Fatal("an export batch without what it exports was stored")
	}
	if err := s.EnqueueExport(ctx, "99ZZ00", b); err == nil {
		t.Fatal("an export batch of an unknown school was stored")
	}
	got, err := s.Batch(ctx, "11AA00", "x1")
	if err != nil || got.Export != "study-1" || got.Needs() != gateway.ProcessingResearch || len(got.Keys) != 0 {
		t.Fatalf("batch = %+v, %v", got, err)
	}
	if n, err := s.HoldBatches(ctx, "11AA00", gateway.ProcessingDashboards, "r", o0); err != nil || n != 0 {
		t.Fatalf("holding dashboards held %d, %v", n, err)
	}
	cs := claim(t, s, "w", o0, time.Minute)
	if len(cs) != 1 || cs[0].Batch.ID != "x1" {
		t.Fatalf("claimed %+v", cs)
	}
	if _, err := s.Settle(ctx, cs[0], gateway.Settlement{State: gateway.BatchAccepted, At: o0}); err != nil {
		t.Fatal(err)
	}
	depth, err := s.OutboxDepth(ctx, "11AA00")
	if err != nil || depth[gateway.BatchAccepted] != 1 {
		t.Fatalf("depth %v %v", depth, err)
	}
}
