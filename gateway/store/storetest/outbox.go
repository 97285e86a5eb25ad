package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// outboxTests specify the Outbox, EvidenceStore and pupil lookup/purge parts
// of gateway.Store.
var outboxTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"TestsRoundTrip", testTestsRoundTrip},
	{"EnqueueNewChangedUnchanged", testEnqueueNewChangedUnchanged},
	{"EnqueueHeld", testEnqueueHeld},
	{"ClaimSettleAccepted", testClaimSettleAccepted},
	{"ClaimLeaseLapses", testClaimLeaseLapses},
	{"RetryWaitsUntilDue", testRetryWaitsUntilDue},
	{"RejectThenRequeue", testRejectThenRequeue},
	{"HoldAndRelease", testHoldAndRelease},
	{"Split", testSplit},
	{"DeletedSchoolLeavesQueue", testDeletedSchoolLeavesQueue},
	{"ConcurrentConsumersClaimOnce", testConcurrentConsumers},
	{"OutboxUnknownSchool", testOutboxUnknownSchool},
	{"EvidenceRoundTrip", testEvidenceRoundTrip},
	{"ResultsDelete", testResultsDelete},
	{"PupilsByIDAndPurge", testPupilsByIDAndPurge},
	{"DeleteBatchesEndedOnly", testDeleteBatches},
}

var o0 = time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)

func testDefs() []gateway.TestDefinition {
	return []gateway.TestDefinition{
		{Code: gateway.Term{Value: "TAAL-E5"}, Name: "Taal E5", Trial: true},
		{Code: gateway.Term{Value: "REK-M4", Vocabulary: "cito"}, Name: "Rekenen M4",
			Norming: &gateway.Norming{Weight: "1.5", Norms: []gateway.Norm{{Term: "A", Begin: 0, End: 10,
				Colour: &gateway.NormColor{Red: 1, Green: 2, Blue: 3, Transparency: "0.5"}, GradeFrom: "5.5", GradeTo: "10"}}},
			Parts: []gateway.TestPart{{Seq: 1, Code: gateway.Term{Value: "P1"}, Name: "Deel 1"}}},
	}
}

// results returns n results of school id with keys prefix-0..n-1; marker
// goes into the digest, so two calls with different markers differ.
func results(id gateway.SchoolID, prefix, marker string, n int) []gateway.Result {
	rs := make([]gateway.Result, n)
	for i := range rs {
		rs[i] = gateway.Result{Key: fmt.Sprintf("%s-%d", prefix, i), School: id, Pupil: gateway.PupilID(fmt.Sprintf("p%d", i%3)),
			Test: "REK-M4", Part: "P1", Date: "2026-02-1" + fmt.Sprint(i%10), Score: fmt.Sprint(i), Processor: "t1",
			Digest: marker + fmt.Sprint(i), SubmittedAt: o0}
		if i%4 == 3 {
			rs[i].Score = ""
			n := 12
			rs[i].OSO = &gateway.OSOResult{Score: &gateway.OSOScore{Items: &n, Ability: "301.5"},
				References: []gateway.OSOReference{{Code: "R1", ComparisonGroup: "V1", Value: "55"}}}
		}
	}
	return rs
}

func newBatch(id string, state gateway.BatchState) gateway.Batch {
	return gateway.Batch{ID: id, State: state, CreatedAt: o0, NextAttemptAt: o0}
}

func mustEnqueue(t *testing.T, s gateway.Store, id gateway.SchoolID, rs []gateway.Result, b gateway.Batch) gateway.Enqueued {
	t.Helper()
	out, err := s.Enqueue(ctxFor(t), id, rs, b)
	if err != nil {
		t.Fatalf("Enqueue(%s): %v", b.ID, err)
	}
	return out
}

func claim(t *testing.T, s gateway.Store, consumer string, now time.Time, lease time.Duration) []gateway.Claim {
	t.Helper()
	cs, err := s.Claim(ctxFor(t), gateway.ClaimRequest{Consumer: consumer, Max: 50, Lease: lease, Now: now})
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return cs
}

func claimedIDs(cs []gateway.Claim) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.Batch.ID)
	}
	slices.Sort(ids)
	return ids
}

func settle(t *testing.T, s gateway.Store, c gateway.Claim, st gateway.Settlement) gateway.Batch {
	t.Helper()
	b, err := s.Settle(ctxFor(t), c, st)
	if err != nil {
		t.Fatalf("Settle(%s, %s): %v", c.Batch.ID, st.State, err)
	}
	return b
}

func mustBatch(t *testing.T, s gateway.Store, id gateway.SchoolID, batch string) gateway.Batch {
	t.Helper()
	b, err := s.Batch(ctxFor(t), id, batch)
	if err != nil {
		t.Fatalf("Batch(%s): %v", batch, err)
	}
	return b
}

func depth(t *testing.T, s gateway.Store, id gateway.SchoolID) map[gateway.BatchState]int {
	t.Helper()
	d, err := s.OutboxDepth(ctxFor(t), id)
	if err != nil {
		t.Fatalf("OutboxDepth: %v", err)
	}
	for k, v := range d {
		if v == 0 {
			delete(d, k)
		}
	}
	return d
}

func testTestsRoundTrip(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	got, err := s.Tests(ctx, "11AA00")
	if err != nil || len(got) != 0 {
		t.Fatalf("Tests of a new school = %v, %v; want none", got, err)
	}
	defs := testDefs()
	if err := s.PutTests(ctx, "11AA00", defs); err != nil {
		t.Fatalf("PutTests: %v", err)
	}
	got, _ = s.Tests(ctx, "11AA00")
	want := []gateway.TestDefinition{defs[1], defs[0]} // ordered by code
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tests = %+v\nwant %+v", got, want)
	}
	renamed := defs[0]
	renamed.Name = "Taal E5 (nieuw)"
	if err := s.PutTests(ctx, "11AA00", []gateway.TestDefinition{renamed}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Tests(ctx, "11AA00")
	if len(got) != 2 || got[1].Name != renamed.Name {
		t.Fatalf("after replacing TAAL-E5: %+v", got)
	}
	if err := s.PutTests(ctx, "11AA00", []gateway.TestDefinition{{Name: "no code"}}); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("PutTests without code: %v, want ErrInvalid", err)
	}
}

func testEnqueueNewChangedUnchanged(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	rs := results("11AA00", "r", "v1-", 5)
	out := mustEnqueue(t, s, "11AA00", rs, newBatch("b1", gateway.BatchQueued))
	if !reflect.DeepEqual(out, gateway.Enqueued{Batch: "b1", New: 5}) {
		t.Fatalf("first Enqueue = %+v", out)
	}
	stored, err := s.Results(ctx, "11AA00", []string{"r-4", "nope", "r-0", "r-3"})
	if err != nil {
		t.Fatal(err)
	}
	want := []gateway.Result{rs[4], rs[0], rs[3]}
	for i := range want {
		want[i].Batch = "b1"
	}
	if len(stored) != 3 {
		t.Fatalf("Results = %d results, want 3 (unknown keys skipped)", len(stored))
	}
	for i := range want {
		if !stored[i].SubmittedAt.Equal(want[i].SubmittedAt) {
			t.Errorf("result %s SubmittedAt %v, want %v", want[i].Key, stored[i].SubmittedAt, want[i].SubmittedAt)
		}
		stored[i].SubmittedAt = want[i].SubmittedAt
	}
	if !reflect.DeepEqual(stored, want) {
		t.Fatalf("Results =\n%+v\nwant\n%+v", stored, want)
	}
	b := mustBatch(t, s, "11AA00", "b1")
	if b.School != "11AA00" || b.State != gateway.BatchQueued || !slices.Equal(b.Keys, []string{"r-0", "r-1", "r-2", "r-3", "r-4"}) ||
		!b.CreatedAt.Equal(o0) || !b.NextAttemptAt.Equal(o0) {
		t.Fatalf("batch b1 = %+v", b)
	}

	// The same results again: nothing new, no batch.
	out = mustEnqueue(t, s, "11AA00", rs, newBatch("b2", gateway.BatchQueued))
	if !reflect.DeepEqual(out, gateway.Enqueued{Unchanged: 5}) {
		t.Fatalf("resubmission = %+v, want 5 unchanged and no batch", out)
	}
	if _, err := s.Batch(ctx, "11AA00", "b2"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("Batch(b2) after a resubmission without news: %v, want ErrNotFound", err)
	}

	// One corrected, one new, three unchanged.
	next := append(slices.Clone(rs[:4]), results("11AA00", "x", "v1-", 1)...)
	next[2].Score, next[2].Digest = "99", "v2-2"
	out = mustEnqueue(t, s, "11AA00", next, newBatch("b3", gateway.BatchQueued))
	if !reflect.DeepEqual(out, gateway.Enqueued{Batch: "b3", New: 1, Changed: 1, Unchanged: 3}) {
		t.Fatalf("correction = %+v", out)
	}
	if b := mustBatch(t, s, "11AA00", "b3"); !slices.Equal(b.Keys, []string{"r-2", "x-0"}) {
		t.Fatalf("batch b3 keys = %v", b.Keys)
	}
	stored, _ = s.Results(ctx, "11AA00", []string{"r-2", "r-1"})
	if stored[0].Score != "99" || stored[0].Batch != "b3" || stored[1].Batch != "b1" {
		t.Fatalf("after correction: r-2 = %+v, r-1 batch %s", stored[0], stored[1].Batch)
	}
	var all []string
	if err := s.WalkResults(ctx, "11AA00", func(r gateway.Result) error { all = append(all, r.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"r-0", "r-1", "r-2", "r-3", "r-4", "x-0"}) {
		t.Fatalf("WalkResults = %v", all)
	}
	var ids []string
	if err := s.WalkBatches(ctx, "11AA00", func(b gateway.Batch) error { ids = append(ids, b.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"b1", "b3"}) {
		t.Fatalf("WalkBatches = %v, want [b1 b3]", ids)
	}
	if d := depth(t, s, "11AA00"); !reflect.DeepEqual(d, map[gateway.BatchState]int{gateway.BatchQueued: 2}) {
		t.Fatalf("depth = %v", d)
	}
	for _, bad := range []gateway.Batch{newBatch("", gateway.BatchQueued), newBatch("b9", gateway.BatchAccepted)} {
		if _, err := s.Enqueue(ctx, "11AA00", results("11AA00", "z", "v", 1), bad); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("Enqueue(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	noDigest := results("11AA00", "z", "", 1)
	noDigest[0].Digest = ""
	if _, err := s.Enqueue(ctx, "11AA00", noDigest, newBatch("b9", gateway.BatchQueued)); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("Enqueue of a result without digest: %v, want ErrInvalid", err)
	}
}

func testEnqueueHeld(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchHeld))
	if cs := claim(t, s, "w1", o0.Add(time.Hour), time.Minute); len(cs) != 0 {
		t.Fatalf("a held batch was claimed: %v", claimedIDs(cs))
	}
	n, err := s.ReleaseBatches(ctxFor(t), "11AA00", gateway.ProcessingLASExchange, o0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("ReleaseBatches = %d, %v; want 1", n, err)
	}
	if cs := claim(t, s, "w1", o0.Add(time.Hour), time.Minute); !slices.Equal(claimedIDs(cs), []string{"b1"}) {
		t.Fatalf("after release claimed %v, want [b1]", claimedIDs(cs))
	}
}

func testClaimSettleAccepted(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 3), newBatch("b1", gateway.BatchQueued))
	if cs := claim(t, s, "w1", o0.Add(-time.Second), time.Minute); len(cs) != 0 {
		t.Fatalf("claimed %v before it was due", claimedIDs(cs))
	}
	now := o0.Add(time.Second)
	cs := claim(t, s, "w1", now, time.Minute)
	if len(cs) != 1 || cs[0].Batch.ID != "b1" || cs[0].Token == "" || len(cs[0].Batch.Keys) != 3 {
		t.Fatalf("Claim = %+v, want b1 with 3 keys and a token", cs)
	}
	if again := claim(t, s, "w2", now, time.Minute); len(again) != 0 {
		t.Fatalf("a leased batch was claimed again by w2: %v", claimedIDs(again))
	}
	if n, _ := s.InFlight(ctxFor(t), "11AA00", now); n != 1 {
		t.Errorf("InFlight = %d, want 1", n)
	}
	b := settle(t, s, cs[0], gateway.Settlement{State: gateway.BatchSent, At: now, Lease: time.Minute, CountAttempt: true})
	if b.State != gateway.BatchSent || b.Attempts != 1 || !b.SentAt.Equal(now) {
		t.Fatalf("after sent: %+v", b)
	}
	if got := mustBatch(t, s, "11AA00", "b1"); got.State != gateway.BatchSent || got.Attempts != 1 {
		t.Fatalf("stored after sent: %+v", got)
	}
	done := now.Add(2 * time.Second)
	b = settle(t, s, cs[0], gateway.Settlement{State: gateway.BatchAccepted, At: done, Evidence: "ev1"})
	if b.State != gateway.BatchAccepted || b.Evidence != "ev1" || !b.AnsweredAt.Equal(done) || b.Attempts != 1 {
		t.Fatalf("after accepted: %+v", b)
	}
	if got := mustBatch(t, s, "11AA00", "b1"); !reflect.DeepEqual(got.Keys, b.Keys) || got.State != gateway.BatchAccepted || got.Evidence != "ev1" {
		t.Fatalf("stored after accepted: %+v", got)
	}
	if again := claim(t, s, "w2", done.Add(time.Hour), time.Minute); len(again) != 0 {
		t.Fatalf("an accepted batch was claimed: %v", claimedIDs(again))
	}
	if n, _ := s.InFlight(ctxFor(t), "11AA00", done); n != 0 {
		t.Errorf("InFlight after accepted = %d, want 0", n)
	}
	if _, err := s.Settle(ctxFor(t), cs[0], gateway.Settlement{State: gateway.BatchRejected, At: done}); !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("settling an ended claim: %v, want ErrConflict", err)
	}
	if d := depth(t, s, "11AA00"); !reflect.DeepEqual(d, map[gateway.BatchState]int{gateway.BatchAccepted: 1}) {
		t.Fatalf("depth = %v", d)
	}
}

// A worker that dies keeps its lease until it lapses; then another worker
// gets the batch, and the first can no longer settle it.
func testClaimLeaseLapses(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchQueued))
	lease := 100 * time.Millisecond
	first := claim(t, s, "dead", time.Now(), lease)
	if len(first) != 1 {
		t.Fatalf("first claim = %v", claimedIDs(first))
	}
	settle(t, s, first[0], gateway.Settlement{State: gateway.BatchSent, At: time.Now(), Lease: lease, CountAttempt: true})
	// Real time: Redis measures an entry's idle time itself. Claim until
	// the store hands the batch out.
	var second []gateway.Claim
	observe.WaitFor(t, fmt.Sprintf("the batch to be handed out again after its %v lease", lease), func() (bool, string) {
		second = claim(t, s, "alive", time.Now(), time.Minute)
		return len(second) > 0, "claims came back empty"
	})
	if len(second) != 1 || second[0].Batch.ID != "b1" || second[0].Token == first[0].Token {
		t.Fatalf("after the lease lapsed, claim = %+v", second)
	}
	if second[0].Batch.State != gateway.BatchSent || second[0].Batch.Attempts != 1 {
		t.Errorf("reclaimed batch = %+v, want state sent with 1 attempt (it may have reached the receiver)", second[0].Batch)
	}
	if _, err := s.Settle(ctxFor(t), first[0], gateway.Settlement{State: gateway.BatchAccepted, At: time.Now()}); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("the dead worker settled a batch taken over: %v, want ErrConflict", err)
	}
	b := settle(t, s, second[0], gateway.Settlement{State: gateway.BatchAccepted, At: time.Now()})
	if b.State != gateway.BatchAccepted {
		t.Fatalf("after takeover: %+v", b)
	}
}

func testRetryWaitsUntilDue(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchQueued))
	cs := claim(t, s, "w1", o0, time.Minute)
	if len(cs) != 1 {
		t.Fatalf("claim = %v", claimedIDs(cs))
	}
	settle(t, s, cs[0], gateway.Settlement{State: gateway.BatchSent, At: o0, Lease: time.Minute, CountAttempt: true})
	due := o0.Add(30 * time.Second)
	b := settle(t, s, cs[0], gateway.Settlement{State: gateway.BatchQueued, At: o0, NextAttemptAt: due,
		Reason: "LAS unavailable", ErrorClass: "temporary", FaultCode: "Server.TijdelijkNietBeschikbaar"})
	if b.State != gateway.BatchQueued || !b.NextAttemptAt.Equal(due) || b.Reason != "LAS unavailable" || b.Attempts != 1 {
		t.Fatalf("after retry: %+v", b)
	}
	if early := claim(t, s, "w2", due.Add(-time.Second), time.Minute); len(early) != 0 {
		t.Fatalf("claimed %v before the retry was due", claimedIDs(early))
	}
	late := claim(t, s, "w2", due.Add(time.Second), time.Minute)
	if len(late) != 1 || late[0].Batch.Attempts != 1 || late[0].Batch.Reason != "LAS unavailable" {
		t.Fatalf("claim after due = %+v", late)
	}
}

func testRejectThenRequeue(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchQueued))
	mustEnqueue(t, s, "11AA00", results("11AA00", "q", "v", 2), newBatch("b2", gateway.BatchQueued))
	cs := claim(t, s, "w1", o0, time.Minute)
	if len(cs) != 2 {
		t.Fatalf("claim = %v", claimedIDs(cs))
	}
	for _, c := range cs {
		settle(t, s, c, gateway.Settlement{State: gateway.BatchSent, At: o0, Lease: time.Minute, CountAttempt: true})
		settle(t, s, c, gateway.Settlement{State: gateway.BatchRejected, At: o0, Reason: "key refused", ErrorClass: "credential",
			FaultCode: "Client.AutorisatieOngeldig"})
	}
	if got := mustBatch(t, s, "11AA00", "b1"); got.State != gateway.BatchRejected || got.ErrorClass != "credential" || got.FaultCode != "Client.AutorisatieOngeldig" {
		t.Fatalf("rejected batch = %+v", got)
	}
	if none := claim(t, s, "w1", o0.Add(time.Hour), time.Minute); len(none) != 0 {
		t.Fatalf("a rejected batch was claimed: %v", claimedIDs(none))
	}
	later := o0.Add(2 * time.Hour)
	n, err := s.Requeue(ctxFor(t), "11AA00", []string{"b2", "nope"}, later)
	if err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1", n, err)
	}
	got := mustBatch(t, s, "11AA00", "b2")
	if got.State != gateway.BatchQueued || got.Attempts != 0 || got.Reason != "" || !got.NextAttemptAt.Equal(later) {
		t.Fatalf("requeued batch = %+v", got)
	}
	if again := claim(t, s, "w1", later, time.Minute); !slices.Equal(claimedIDs(again), []string{"b2"}) {
		t.Fatalf("after requeue claimed %v, want [b2]", claimedIDs(again))
	}
	if d := depth(t, s, "11AA00"); !reflect.DeepEqual(d, map[gateway.BatchState]int{gateway.BatchQueued: 1, gateway.BatchRejected: 1}) {
		t.Fatalf("depth = %v", d)
	}
}

func testHoldAndRelease(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustSchool(t, s, "22BB00")
	ctx := ctxFor(t)
	for i := range 3 {
		mustEnqueue(t, s, "11AA00", results("11AA00", fmt.Sprintf("r%d", i), "v", 2), newBatch(fmt.Sprintf("b%d", i), gateway.BatchQueued))
	}
	mustEnqueue(t, s, "22BB00", results("22BB00", "r", "v", 2), newBatch("other", gateway.BatchQueued))
	// One batch of 11AA00 is in flight: holding must leave it to its worker.
	cs, err := s.Claim(ctx, gateway.ClaimRequest{Consumer: "w1", Max: 1, Lease: 24 * time.Hour, Now: o0})
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim one = %v, %v", cs, err)
	}
	inflight := cs[0]
	at := o0.Add(time.Second)
	n, err := s.HoldBatches(ctx, "11AA00", gateway.ProcessingLASExchange, "las_exchange revoked", at)
	if err != nil {
		t.Fatal(err)
	}
	if inflight.Batch.School == "11AA00" {
		if n != 2 {
			t.Fatalf("HoldBatches = %d, want 2 (the leased one stays with its worker)", n)
		}
		if n, _ := s.InFlight(ctx, "11AA00", at); n != 1 {
			t.Errorf("InFlight = %d, want 1", n)
		}
	} else if n != 3 {
		t.Fatalf("HoldBatches = %d, want 3", n)
	}
	held := 0
	err = s.WalkBatches(ctx, "11AA00", func(b gateway.Batch) error {
		if b.State == gateway.BatchHeld {
			held++
			if b.Reason != "las_exchange revoked" || b.ErrorClass != "consent" {
				t.Errorf("held batch %s = %+v", b.ID, b)
			}
		}
		return nil
	})
	if err != nil || held != n {
		t.Fatalf("held batches = %d (%v), want %d", held, err, n)
	}
	got := claim(t, s, "w2", at.Add(time.Hour), time.Minute)
	for _, c := range got {
		if c.Batch.School == "11AA00" {
			t.Fatalf("batch %s of 11AA00 was claimed (held, or leased to w1)", c.Batch.ID)
		}
		settle(t, s, c, gateway.Settlement{State: gateway.BatchAccepted, At: at})
	}
	rel := at.Add(2 * time.Hour)
	n, err = s.ReleaseBatches(ctx, "11AA00", gateway.ProcessingLASExchange, rel)
	if err != nil || n != held {
		t.Fatalf("ReleaseBatches = %d, %v; want %d", n, err, held)
	}
	after := claim(t, s, "w3", rel, time.Minute)
	if len(after) != held {
		t.Fatalf("after release claimed %v, want the %d released batches", claimedIDs(after), held)
	}
	for _, c := range after {
		if c.Batch.School != "11AA00" || c.Batch.Reason != "" || c.Batch.State != gateway.BatchQueued {
			t.Errorf("released claim %+v", c.Batch)
		}
	}
	if n, _ := s.HoldBatches(ctx, "22BB00", gateway.ProcessingLASExchange, "x", rel); n != 0 && inflight.Batch.School == "22BB00" {
		t.Errorf("holding 22BB00 moved its leased batch")
	}
}

func testSplit(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 4), newBatch("b1", gateway.BatchQueued))
	cs := claim(t, s, "w1", o0, time.Minute)
	settle(t, s, cs[0], gateway.Settlement{State: gateway.BatchSent, At: o0, Lease: time.Minute, CountAttempt: true})
	parts := []gateway.Batch{
		{ID: "b1.1", Keys: []string{"r-0", "r-1"}, CreatedAt: o0, NextAttemptAt: o0},
		{ID: "b1.2", Keys: []string{"r-2", "r-3"}, CreatedAt: o0, NextAttemptAt: o0},
	}
	if err := s.Split(ctxFor(t), cs[0], parts, o0); err != nil {
		t.Fatalf("Split: %v", err)
	}
	parent := mustBatch(t, s, "11AA00", "b1")
	if parent.State != gateway.BatchSplit || !slices.Equal(parent.Children, []string{"b1.1", "b1.2"}) {
		t.Fatalf("parent = %+v", parent)
	}
	child := mustBatch(t, s, "11AA00", "b1.2")
	if child.State != gateway.BatchQueued || child.Parent != "b1" || !slices.Equal(child.Keys, []string{"r-2", "r-3"}) || child.School != "11AA00" {
		t.Fatalf("child = %+v", child)
	}
	rs, _ := s.Results(ctxFor(t), "11AA00", []string{"r-0", "r-3"})
	if rs[0].Batch != "b1.1" || rs[1].Batch != "b1.2" {
		t.Fatalf("results point at %s, %s; want b1.1, b1.2", rs[0].Batch, rs[1].Batch)
	}
	if got := claim(t, s, "w2", o0, time.Minute); !slices.Equal(claimedIDs(got), []string{"b1.1", "b1.2"}) {
		t.Fatalf("after split claimed %v", claimedIDs(got))
	}
	if err := s.Split(ctxFor(t), cs[0], parts, o0); !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("splitting an ended claim: %v, want ErrConflict", err)
	}
	if d := depth(t, s, "11AA00"); !reflect.DeepEqual(d, map[gateway.BatchState]int{gateway.BatchQueued: 2, gateway.BatchSplit: 1}) {
		t.Fatalf("depth = %v", d)
	}
}

func testDeletedSchoolLeavesQueue(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	mustSchool(t, s, "22BB00")
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchQueued))
	mustEnqueue(t, s, "22BB00", results("22BB00", "r", "v", 2), newBatch("b2", gateway.BatchQueued))
	if err := s.DeleteSchool(ctxFor(t), "11AA00"); err != nil {
		t.Fatal(err)
	}
	got := claim(t, s, "w1", o0, time.Minute)
	if !slices.Equal(claimedIDs(got), []string{"b2"}) {
		t.Fatalf("after deleting 11AA00 claimed %v, want only [b2]", claimedIDs(got))
	}
	settle(t, s, got[0], gateway.Settlement{State: gateway.BatchAccepted, At: o0})
	if got := claim(t, s, "w1", o0.Add(time.Hour), time.Minute); len(got) != 0 {
		t.Fatalf("the deleted school's entry came back: %v", claimedIDs(got))
	}
}

// Several workers claiming at once never get the same batch.
func testConcurrentConsumers(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	const n = 24
	for i := range n {
		mustEnqueue(t, s, "11AA00", results("11AA00", fmt.Sprintf("r%02d", i), "v", 2), newBatch(fmt.Sprintf("b%02d", i), gateway.BatchQueued))
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				cs, err := s.Claim(context.Background(), gateway.ClaimRequest{Consumer: fmt.Sprintf("w%d", w), Max: 3, Lease: time.Minute, Now: o0})
				if err != nil {
					errs <- err
					return
				}
				for _, c := range cs {
					mu.Lock()
					got[c.Batch.ID]++
					mu.Unlock()
					if _, err := s.Settle(context.Background(), c, gateway.Settlement{State: gateway.BatchAccepted, At: o0}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d of %d batches were claimed", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("batch %s was claimed %d times", id, k)
		}
	}
}

func testOutboxUnknownSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	checks := map[string]error{}
	_, checks["Tests"] = s.Tests(ctx, "99ZZ00")
	checks["PutTests"] = s.PutTests(ctx, "99ZZ00", testDefs())
	_, checks["Enqueue"] = s.Enqueue(ctx, "99ZZ00", results("99ZZ00", "r", "v", 1), newBatch("b1", gateway.BatchQueued))
	_, checks["Results"] = s.Results(ctx, "99ZZ00", []string{"r"})
	checks["WalkResults"] = s.WalkResults(ctx, "99ZZ00", func(gateway.Result) error { return nil })
	_, checks["Batch"] = s.Batch(ctx, "99ZZ00", "b1")
	checks["WalkBatches"] = s.WalkBatches(ctx, "99ZZ00", func(gateway.Batch) error { return nil })
	_, checks["OutboxDepth"] = s.OutboxDepth(ctx, "99ZZ00")
	_, checks["InFlight"] = s.InFlight(ctx, "99ZZ00", o0)
	_, checks["HoldBatches"] = s.HoldBatches(ctx, "99ZZ00", gateway.ProcessingLASExchange, "x", o0)
	_, checks["ReleaseBatches"] = s.ReleaseBatches(ctx, "99ZZ00", gateway.ProcessingLASExchange, o0)
	_, checks["Requeue"] = s.Requeue(ctx, "99ZZ00", []string{"b1"}, o0)
	checks["PutEvidence"] = s.PutEvidence(ctx, gateway.Evidence{ID: "e1", School: "99ZZ00"})
	_, checks["Evidence"] = s.Evidence(ctx, "99ZZ00", "e1")
	checks["WalkEvidence"] = s.WalkEvidence(ctx, "99ZZ00", func(gateway.Evidence) error { return nil })
	_, checks["PupilsByID"] = s.PupilsByID(ctx, "99ZZ00", []gateway.PupilID{"p1"})
	_, checks["PurgePupils"] = s.PurgePupils(ctx, "99ZZ00", []gateway.PupilID{"p1"})
	_, checks["DeleteResults"] = s.DeleteResults(ctx, "99ZZ00", []string{"r"})
	_, checks["DeleteEvidence"] = s.DeleteEvidence(ctx, "99ZZ00", []string{"e1"})
	for name, err := range checks {
		if !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("%s on an unknown school: %v, want ErrNotFound", name, err)
		}
	}
	mustSchool(t, s, "11AA00")
	if _, err := s.Batch(ctx, "11AA00", "nope"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Batch(unknown id): %v, want ErrNotFound", err)
	}
	if _, err := s.Evidence(ctx, "11AA00", "nope"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Evidence(unknown id): %v, want ErrNotFound", err)
	}
}

func testEvidenceRoundTrip(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	doc := []byte("\x1f\x8b binary <Evidence/>\x00\xff")
	e := gateway.Evidence{ID: "ev1", School: "11AA00", Batch: "b1", CreatedAt: t1, Pupils: []gateway.PupilID{"p1", "p2"},
		Keys: []string{"r-1", "r-2"}, Doc: doc}
	if err := s.PutEvidence(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEvidence(ctx, gateway.Evidence{ID: "ev2", School: "11AA00", Batch: "b2", CreatedAt: t0, Doc: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Evidence(ctx, "11AA00", "ev1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(e.CreatedAt) {
		t.Errorf("CreatedAt %v, want %v", got.CreatedAt, e.CreatedAt)
	}
	got.CreatedAt = e.CreatedAt
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("Evidence = %+v\nwant %+v", got, e)
	}
	var walked []string
	err = s.WalkEvidence(ctx, "11AA00", func(x gateway.Evidence) error {
		if x.Doc != nil {
			t.Errorf("WalkEvidence returned the document of %s", x.ID)
		}
		walked = append(walked, x.ID+":"+x.Batch)
		return nil
	})
	slices.Sort(walked)
	if err != nil || !slices.Equal(walked, []string{"ev1:b1", "ev2:b2"}) {
		t.Fatalf("WalkEvidence = %v, %v", walked, err)
	}
	n, err := s.DeleteEvidence(ctx, "11AA00", []string{"ev1", "nope"})
	if err != nil || n != 1 {
		t.Fatalf("DeleteEvidence = %d, %v; want 1", n, err)
	}
	if _, err := s.Evidence(ctx, "11AA00", "ev1"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("deleted evidence: %v", err)
	}
	if err := s.PutEvidence(ctx, gateway.Evidence{School: "11AA00"}); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("PutEvidence without id: %v, want ErrInvalid", err)
	}
}

func testResultsDelete(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	rs := results("11AA00", "r", "v", 4)
	mustEnqueue(t, s, "11AA00", rs, newBatch("b1", gateway.BatchQueued))
	n, err := s.DeleteResults(ctx, "11AA00", []string{"r-1", "r-3", "nope"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteResults = %d, %v; want 2", n, err)
	}
	left, _ := s.Results(ctx, "11AA00", []string{"r-0", "r-1", "r-2", "r-3"})
	if len(left) != 2 || left[0].Key != "r-0" || left[1].Key != "r-2" {
		t.Fatalf("after delete: %+v", left)
	}
	// A deleted result submitted again is new.
	out := mustEnqueue(t, s, "11AA00", rs[:2], newBatch("b2", gateway.BatchQueued))
	if out.New != 1 || out.Unchanged != 1 {
		t.Fatalf("resubmission after delete = %+v, want 1 new, 1 unchanged", out)
	}
}

func testPupilsByIDAndPurge(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	if m, err := s.PupilsByID(ctx, "11AA00", []gateway.PupilID{"x"}); err != nil || len(m) != 0 {
		t.Fatalf("PupilsByID without snapshot = %v, %v", m, err)
	}
	ps := pupils("11AA00", "a", 20, 3)
	commitSnapshot(t, s, "11AA00", "run1", ps, nil, nil, nil)
	want := []gateway.PupilID{ps[3].ID, ps[7].ID}
	m, err := s.PupilsByID(ctx, "11AA00", append(slices.Clone(want), "unknown"))
	if err != nil || len(m) != 2 {
		t.Fatalf("PupilsByID = %d pupils, %v; want 2", len(m), err)
	}
	if !reflect.DeepEqual(m[ps[7].ID].CompositeGroupKeys, ps[7].CompositeGroupKeys) || m[ps[7].ID].LASKey != ps[7].LASKey {
		t.Errorf("PupilsByID(%s) = %+v", ps[7].ID, m[ps[7].ID])
	}
	// A held sync waits in a kept stage: the purge reaches it too.
	st, err := s.Stage(ctx, "11AA00", "run2")
	if err != nil {
		t.Fatal(err)
	}
	stage(t, st, ps, 500, nil, nil, nil)
	if err := st.Keep(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgePupils(ctx, "11AA00", append(slices.Clone(want), "unknown"))
	if err != nil || n != 2 {
		t.Fatalf("PurgePupils = %d, %v; want 2", n, err)
	}
	if left := readPupils(t, s, "11AA00"); len(left) != 18 {
		t.Fatalf("%d pupils after purging 2 of 20", len(left))
	}
	kept, err := s.OpenStage(ctx, "11AA00", "run2")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range readStaged(t, kept) {
		if slices.Contains(want, p.ID) {
			t.Fatalf("purged pupil %s is still in the held sync", p.ID)
		}
	}
	if err := kept.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if left := readPupils(t, s, "11AA00"); len(left) != 18 {
		t.Fatalf("approving the held sync brought purged pupils back: %d pupils", len(left))
	}
}

// Only ended batches can be deleted (retention); the depth follows.
func testDeleteBatches(t *testing.T, s gateway.Store) {
	mustSchool(t, s, "11AA00")
	ctx := ctxFor(t)
	mustEnqueue(t, s, "11AA00", results("11AA00", "r", "v", 2), newBatch("b1", gateway.BatchQueued))
	mustEnqueue(t, s, "11AA00", results("11AA00", "q", "v", 2), newBatch("b2", gateway.BatchQueued))
	cs := claim(t, s, "w1", o0, time.Minute)
	for _, c := range cs {
		if c.Batch.ID == "b1" {
			settle(t, s, c, gateway.Settlement{State: gateway.BatchAccepted, At: o0})
		}
	}
	n, err := s.DeleteBatches(ctx, "11AA00", []string{"b1", "b2", "nope"})
	if err != nil || n != 1 {
		t.Fatalf("DeleteBatches = %d, %v; want 1 (b2 has not ended)", n, err)
	}
	if _, err := s.Batch(ctx, "11AA00", "b1"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("deleted batch b1: %v", err)
	}
	if _, err := s.Batch(ctx, "11AA00", "b2"); err != nil {
		t.Errorf("batch b2 (in flight) was deleted: %v", err)
	}
	var ids []string
	_ = s.WalkBatches(ctx, "11AA00", func(b gateway.Batch) error { ids = append(ids, b.ID); return nil })
	if !slices.Equal(ids, []string{"b2"}) {
		t.Errorf("WalkBatches after delete = %v", ids)
	}
	if d := depth(t, s, "11AA00"); d[gateway.BatchAccepted] != 0 || d[gateway.BatchQueued] != 1 {
		t.Errorf("depth after delete = %v", d)
	}
	if _, err := s.DeleteBatches(ctx, "99ZZ00", []string{"b1"}); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("DeleteBatches of an unknown school: %v", err)
	}
}
