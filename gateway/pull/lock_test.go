package pull_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// hooked is the real SOAP client with a hook that runs once, when the
// first pupil of the answer arrives: in the middle of a sync run.
type hooked struct {
	c    *soap.Client
	once sync.Once
	hook func()
}

func (h *hooked) HaalLeerlinggegevens(ctx context.Context, r soap.Request, hd soap.Handler) (*soap.Summary, error) {
	next := hd.Leerling
	hd.Leerling = func(l *uwlr.Leerling) error {
		h.once.Do(h.hook)
		return next(l)
	}
	return h.c.HaalLeerlinggegevens(ctx, r, hd)
}

func (f *fixture) acquire(owner string, ttl time.Duration, now time.Time) gateway.Lock {
	f.t.Helper()
	l, err := f.store.AcquireLock(context.Background(), f.school.ID, owner, ttl, now)
	if err != nil {
		f.t.Fatalf("AcquireLock(%s): %v", owner, err)
	}
	return l
}

// samePupils fails unless the snapshot is exactly before (ids, keys, names
// and leave dates).
func (f *fixture) samePupils(what string, before []gateway.Pupil) {
	f.t.Helper()
	after := f.pupils()
	if len(after) != len(before) {
		f.t.Fatalf("%s: %d pupils, want the old %d", what, len(after), len(before))
	}
	for i := range before {
		a, b := after[i], before[i]
		if a.ID != b.ID || a.LASKey != b.LASKey || a.LastName != b.LastName || a.LeftOn != b.LeftOn || !a.UpdatedAt.Equal(b.UpdatedAt) {
			f.t.Fatalf("%s: pupil %d changed", what, i)
		}
	}
}

func checkLockLost(t *testing.T, what string, run gateway.SyncRun, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("%s: error %v, want ErrConflict", what, err)
	}
	if run.Status != gateway.SyncFailed || run.ErrorClass != pull.ErrorClassConflict || !strings.Contains(run.Error, "sync lock was lost") {
		t.Errorf("%s: run %s/%s %q; want failed/conflict saying the sync lock was lost", what, run.Status, run.ErrorClass, run.Error)
	}
}

// A sync whose holder lost the lock during the run (it stalled past its
// lease and another process took over) applies nothing; the new holder's
// sync applies.
func TestSyncWithLockTakenOverAppliesNothing(t *testing.T) {
	f := newFixture(t, 150)
	f.grant()
	f.sync(pull.Options{})
	before := f.pupils()
	// Two pupils leave: a change the thresholds let through.
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[2:] })

	ctx := context.Background()
	f.now = f.now.Add(time.Minute)
	la := f.acquire("serve-a", time.Minute, f.now)
	var lb gateway.Lock
	las := &hooked{c: f.client, hook: func() {
		// serve-a is stalled past its lease; serve-b takes the school over.
		lb = f.acquire("serve-b", time.Minute, f.now.Add(2*time.Minute))
	}}
	res, err := f.syncer.Sync(ctx, f.school, las, pull.Options{Schooljaar: schooljaar, Lock: &la})
	if lb.Token <= la.Token {
		t.Fatalf("the takeover did not happen during the run (tokens %d, %d)", la.Token, lb.Token)
	}
	checkLockLost(t, "sync with a lock taken over", res.Run, err)
	if res.Run.Left != 2 {
		t.Errorf("the run counted %d left, want 2 (it read the whole answer)", res.Run.Left)
	}
	f.samePupils("after a sync with a lost lock", before)
	runs, _ := f.store.SyncRuns(ctx, f.school.ID, 1)
	if len(runs) != 1 || runs[0].ID != res.Run.ID || runs[0].ErrorClass != pull.ErrorClassConflict {
		t.Errorf("last recorded run = %+v, want the failed/conflict run", runs)
	}
	if _, err := f.store.StagedRun(ctx, f.school.ID); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("a staging area was left behind: %v", err)
	}

	// The stale holder tries again: refused before the LAS is even asked.
	calls := f.sim.Calls(uwlr.OpHaalLeerlinggegevens.Name)
	res, err = f.syncer.Sync(ctx, f.school, f.client, pull.Options{Schooljaar: schooljaar, Lock: &la})
	checkLockLost(t, "sync with a stale lock", res.Run, err)
	if n := f.sim.Calls(uwlr.OpHaalLeerlinggegevens.Name); n != calls {
		t.Errorf("a sync with a stale lock called the LAS %d times", n-calls)
	}
	f.samePupils("after a sync with a stale lock", before)

	// The new holder's sync goes through.
	res, err = f.syncer.Sync(ctx, f.school, f.client, pull.Options{Schooljaar: schooljaar, Lock: &lb})
	if err != nil || res.Run.Status != gateway.SyncApplied || res.Run.Left != 2 {
		t.Fatalf("sync of the new holder = %+v, %v; want applied with 2 left", res.Run, err)
	}
	left := 0
	for _, p := range f.pupils() {
		if p.LeftOn != "" {
			left++
		}
	}
	if left != 2 {
		t.Errorf("%d pupils left after the new holder's sync, want 2", left)
	}
}

// Approving a held sync under a lock that was taken over applies nothing
// and keeps the held sync for the new holder to approve.
func TestApproveWithLockTakenOver(t *testing.T) {
	f := newFixture(t, 100)
	f.grant()
	f.sync(pull.Options{})
	before := f.pupils()
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[:len(ls)*7/10] })
	held := f.sync(pull.Options{})
	if held.Run.Status != gateway.SyncHeld {
		t.Fatalf("sync = %s, want held", held.Run.Status)
	}

	ctx := context.Background()
	la := f.acquire("serve-a", time.Minute, f.now)
	lb := f.acquire("serve-b", time.Minute, f.now.Add(time.Minute))
	run, err := f.syncer.Approve(ctx, f.school, "test admin", pull.ApproveOptions{Lock: &la})
	checkLockLost(t, "approve with a lock taken over", run, err)
	f.samePupils("after an approval with a lost lock", before)
	if r, err := f.store.StagedRun(ctx, f.school.ID); err != nil || r != held.Run.ID {
		t.Fatalf("held sync after a refused approval = %q, %v; want %s still held", r, err, held.Run.ID)
	}
	runs, _ := f.store.SyncRuns(ctx, f.school.ID, 1)
	if len(runs) != 1 || runs[0].Status != gateway.SyncFailed || runs[0].ErrorClass != pull.ErrorClassConflict {
		t.Errorf("last recorded run = %+v, want the failed approval", runs)
	}

	run, err = f.syncer.Approve(ctx, f.school, "test admin", pull.ApproveOptions{Lock: &lb})
	if err != nil || run.Status != gateway.SyncApplied || run.Left != held.Run.Left {
		t.Fatalf("approve by the new holder = %+v, %v", run, err)
	}
	if _, err := pull.HeldDiff(ctx, f.store, f.school.ID); !errors.Is(err, pull.ErrNothingHeld) {
		t.Errorf("held diff after approval: %v, want ErrNothingHeld", err)
	}
}
