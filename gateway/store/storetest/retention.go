package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// retentionTests specify what retention needs beyond deleting records:
// DeleteBatches of held batches, MarkPupilsLeft and ExpireTexts.
//
// Besides the method docs in gateway/store.go and gateway/outbox.go, they
// pin down:
//
//   - A deleted held batch is gone from WalkBatches, the depth and from
//     what ReleaseBatches and Claim see; queued batches are left alone.
//   - MarkPupilsLeft changes LeftOn only: every other field of a marked
//     pupil comes back as stored; pupils not named, or already marked,
//     are untouched; a named pupil of a kept staging area is marked too
//     (but not counted); a pupil named twice counts once. A school without
//     a snapshot marks nothing.
//   - ExpireTexts clears exactly Warnings and Error of a run, Message of a
//     connection check and Reason of a batch, for records whose texts date
//     (TextsAt) from strictly before the given time and that have texts;
//     the order of SyncRuns stays; a second call changes nothing.
var retentionTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"DeleteBatchesHeld", testDeleteBatchesHeld},
	{"MarkPupilsLeft", testMarkPupilsLeft},
	{"ExpireTexts", testExpireTexts},
}

func testDeleteBatchesHeld(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "11AA00"
	mustSchool(t, s, id)
	mustEnqueue(t, s, id, results(id, "h", "v", 2), newBatch("b1", gateway.BatchQueued))
	if n, err := s.HoldBatches(ctx, id, gateway.ProcessingLASExchange, "las_exchange revoked", o0); err != nil || n != 1 {
		t.Fatalf("HoldBatches = %d, %v", n, err)
	}
	mustEnqueue(t, s, id, results(id, "q", "v", 2), newBatch("b2", gateway.BatchQueued))
	mustEnqueue(t, s, id, results(id, "x", "v", 1), newBatch("b3", gateway.BatchHeld))
	n, err := s.DeleteBatches(ctx, id, []string{"b1", "b2", "b3"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteBatches = %d, %v; want 2 (the held b1 and b3, not the queued b2)", n, err)
	}
	var ids []string
	_ = s.WalkBatches(ctx, id, func(b gateway.Batch) error { ids = append(ids, b.ID); return nil })
	if len(ids) != 1 || ids[0] != "b2" {
		t.Errorf("WalkBatches after deleting the held batches = %v", ids)
	}
	if d := depth(t, s, id); d[gateway.BatchHeld] != 0 || d[gateway.BatchQueued] != 1 {
		t.Errorf("depth after delete = %v", d)
	}
	if n, err := s.ReleaseBatches(ctx, id, gateway.ProcessingLASExchange, o0); err != nil || n != 0 {
		t.Errorf("ReleaseBatches after deleting the held batches = %d, %v", n, err)
	}
	if got := claimedIDs(claim(t, s, "w1", o0.Add(time.Hour), time.Minute)); len(got) != 1 || got[0] != "b2" {
		t.Errorf("claimed %v, want [b2]", got)
	}
}

func testMarkPupilsLeft(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	if n, err := s.MarkPupilsLeft(ctx, id, []gateway.PupilID{"x"}, "2026-01-10"); err != nil || n != 0 {
		t.Errorf("MarkPupilsLeft without a snapshot = %d, %v", n, err)
	}
	ps := sortedPupils(pupils(id, "cur", 6, 1))
	for i := range ps {
		ps[i].LeftOn = ""
	}
	ps[1].LeftOn = "2025-07-31"
	commitSnapshot(t, s, id, "run1", ps, nil, nil, nil)
	held, err := s.Stage(ctx, id, "held")
	if err != nil {
		t.Fatal(err)
	}
	fresh := pupils(id, "new", 1, 2)[0]
	fresh.LeftOn = ""
	staged := sortedPupils([]gateway.Pupil{ps[0], ps[2], fresh})
	stage(t, held, staged, 500, nil, nil, nil)
	if err := held.Keep(ctx); err != nil {
		t.Fatal(err)
	}

	named := []gateway.PupilID{ps[0].ID, ps[1].ID, ps[2].ID, "unknown"}
	for _, p := range staged {
		named = append(named, p.ID)
	}
	n, err := s.MarkPupilsLeft(ctx, id, named, "2026-01-10")
	if err != nil || n != 2 {
		t.Fatalf("MarkPupilsLeft = %d, %v; want 2 (ps[1] was marked already)", n, err)
	}
	want := append([]gateway.Pupil(nil), ps...)
	want[0].LeftOn, want[2].LeftOn = "2026-01-10", "2026-01-10"
	checkEqual(t, "Pupils after MarkPupilsLeft", readPupils(t, s, id), want)
	wantStaged := append([]gateway.Pupil(nil), staged...)
	for i := range wantStaged {
		wantStaged[i].LeftOn = "2026-01-10"
	}
	reopened, err := s.OpenStage(ctx, id, "held")
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "kept stage after MarkPupilsLeft", readStaged(t, reopened), wantStaged)

	if n, err := s.MarkPupilsLeft(ctx, id, named, "2026-02-01"); err != nil || n != 0 {
		t.Errorf("MarkPupilsLeft again = %d, %v; want 0 (the dates stay)", n, err)
	}
	checkEqual(t, "Pupils after marking again", readPupils(t, s, id), want)
	if _, err := s.MarkPupilsLeft(ctx, id, named, ""); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("MarkPupilsLeft without a date: %v, want ErrInvalid", err)
	}
	_, err = s.MarkPupilsLeft(ctx, "99ZZ00", named, "2026-01-10")
	checkNotFound(t, "MarkPupilsLeft of an unknown school", err)
}

func testExpireTexts(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	before := o0
	old, recent := before.Add(-time.Nanosecond), before
	runs := []gateway.SyncRun{
		{ID: "r1", School: id, StartedAt: old.Add(-time.Hour), FinishedAt: old, Status: gateway.SyncFailed, Pupils: 3,
			Warnings: []string{"pupil las-7: no group"}, ErrorClass: gateway.ClassTemporary, Error: "LAS said: leerling las-7 onbekend"},
		{ID: "r2", School: id, StartedAt: old.Add(-time.Hour), FinishedAt: old, Status: gateway.SyncApplied},
		{ID: "r3", School: id, StartedAt: old, FinishedAt: recent, Status: gateway.SyncApplied, Warnings: []string{"recent"}},
		{ID: "r4", School: id, StartedAt: old, Status: gateway.SyncFailed, Error: "never finished"},
	}
	for _, r := range runs {
		if err := s.AddSyncRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	check := gateway.ConnectionCheck{At: old, ErrorClass: gateway.ClassCredential, FaultCode: "Client.Auth", Message: "sleutel las-7 onbekend", Hint: "check the key"}
	if err := s.PutConnectionCheck(ctx, id, check); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, id, results(id, "a", "v", 1), newBatch("b1", gateway.BatchQueued))
	mustEnqueue(t, s, id, results(id, "b", "v", 1), newBatch("b2", gateway.BatchQueued))
	var settled []gateway.Batch
	for _, c := range claim(t, s, "w1", o0, time.Minute) {
		at := old
		if c.Batch.ID == "b2" {
			at = recent
		}
		settled = append(settled, settle(t, s, c, gateway.Settlement{State: gateway.BatchRejected, At: at,
			Reason: "fault for leerling las-7", ErrorClass: gateway.ClassRequest, FaultCode: "Client.Leerling"}))
	}

	got, err := s.ExpireTexts(ctx, id, before)
	if err != nil || got != (gateway.ExpiredTexts{SyncRuns: 2, ConnectionChecks: 1, Batches: 1}) {
		t.Fatalf("ExpireTexts = %+v, %v; want 2 runs, 1 check, 1 batch", got, err)
	}
	wantRuns := []gateway.SyncRun{runs[3].WithoutTexts(), runs[2], runs[1], runs[0].WithoutTexts()}
	gotRuns, err := s.SyncRuns(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "SyncRuns after ExpireTexts", gotRuns, wantRuns)
	gotCheck, err := s.ConnectionCheck(ctx, id)
	checkOne(t, "ConnectionCheck after ExpireTexts", gotCheck, check.WithoutTexts())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range settled {
		want := b
		if b.ID == "b1" {
			want = b.WithoutTexts()
		}
		checkOne(t, "batch "+b.ID+" after ExpireTexts", mustBatch(t, s, id, b.ID), want)
	}
	if again, err := s.ExpireTexts(ctx, id, before); err != nil || again.Total() != 0 {
		t.Errorf("ExpireTexts again = %+v, %v; want nothing", again, err)
	}
	_, err = s.ExpireTexts(ctx, "99ZZ00", before)
	checkNotFound(t, "ExpireTexts of an unknown school", err)
}
