package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// testCommitAtomicForReaders commits snapshots while another goroutine reads:
// every read sees one whole snapshot, never a mix (ARCHITECTURE.md rule 6).
func testCommitAtomicForReaders(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id, n, commits = "12AB00", 2000, 4
	mustSchool(t, s, id)
	commitSnapshot(t, s, id, "run0", pupils(id, "M0", n, 1), nil, nil, nil)

	done := make(chan struct{})
	var wg sync.WaitGroup
	var reads int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				if reads > 0 {
					return
				}
			default:
			}
			markers := map[string]int{}
			count := 0
			err := s.Pupils(ctx, id, func(p gateway.Pupil) error {
				count++
				markers[p.LastName[:strings.IndexByte(p.LastName, '-')]]++
				return nil
			})
			reads++
			if err != nil {
				t.Errorf("Pupils during commits: %v", err)
				return
			}
			if len(markers) != 1 || count != n {
				t.Errorf("read %d saw a mixed snapshot: %d pupils, markers %v", reads, count, markers)
				return
			}
		}
	}()
	for i := 1; i <= commits; i++ {
		// Same pupil ids each time (seed 1), new marker in LastName.
		commitSnapshot(t, s, id, fmt.Sprintf("run%d", i), pupils(id, fmt.Sprintf("M%d", i), n, 1), nil, nil, nil)
	}
	close(done)
	wg.Wait()
	t.Logf("%d reads during %d commits", reads, commits)
	got := readPupils(t, s, id)
	checkEqual(t, "Pupils after the last commit", got, sortedPupils(pupils(id, fmt.Sprintf("M%d", commits), n, 1)))
}

func testSchoolIsolation(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const a, b = "12AB00", "34CD00"
	mustSchool(t, s, a)
	mustSchool(t, s, b)
	psA, psB := pupils(a, "A", 40, 1), pupils(b, "B", 60, 1) // same pupil ids in both
	tsA := teachers(a, 3)
	gsB, csB := groups(b)
	commitSnapshot(t, s, a, "runA", psA, tsA, nil, nil)
	commitSnapshot(t, s, b, "runB", psB, nil, gsB, csB)
	checkSnapshot(t, s, a, psA, tsA, nil, nil)
	checkSnapshot(t, s, b, psB, nil, gsB, csB)

	// A kept stage of A is invisible from B.
	st, err := s.Stage(ctx, a, "runA2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(a, "A2", 10, 2), 10, nil, nil, nil)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	_, err = s.StagedRun(ctx, b)
	checkNotFound(t, "StagedRun of the other school", err)
	_, err = s.OpenStage(ctx, b, "runA2")
	checkNotFound(t, "OpenStage of another school's run", err)

	// Staging B does not replace A's kept stage.
	stB, err := s.Stage(ctx, b, "runB2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	psB2 := pupils(b, "B2", 5, 3)
	stage(t, stB, psB2, 5, nil, nil, nil)
	if err := stB.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkSnapshot(t, s, a, psA, tsA, nil, nil)
	checkSnapshot(t, s, b, psB2, nil, nil, nil)
	if run, err := s.StagedRun(ctx, a); err != nil || run != "runA2" {
		t.Errorf("StagedRun of A after B's commit: %q, %v", run, err)
	}

	// Runs stay with their school.
	if err := s.AddSyncRun(ctx, gateway.SyncRun{ID: "runA", School: a, StartedAt: t0, Status: gateway.SyncApplied}); err != nil {
		t.Fatalf("AddSyncRun: %v", err)
	}
	if runs, err := s.SyncRuns(ctx, b, 10); err != nil || len(runs) != 0 {
		t.Errorf("SyncRuns of B: %d runs, %v", len(runs), err)
	}
}

func testPupilsCallbackError(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	commitSnapshot(t, s, id, "run1", pupils(id, "A", 50, 1), nil, nil, nil)
	stop := errors.New("stop here")
	calls := 0
	err := s.Pupils(ctxFor(t), id, func(gateway.Pupil) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Pupils: got %v, want the callback's error", err)
	}
	if calls != 3 {
		t.Errorf("Pupils called fn %d times after it failed on the 3rd", calls)
	}

	st, err := s.Stage(ctxFor(t), id, "run2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(id, "B", 20, 2), 20, nil, nil, nil)
	calls = 0
	err = st.Pupils(ctxFor(t), func(gateway.Pupil) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Stage.Pupils: got %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testContextCanceled(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	commitSnapshot(t, s, id, "run1", pupils(id, "A", 5, 1), nil, nil, nil)
	st, err := s.Stage(ctxFor(t), id, "run2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want context.Canceled", what, err)
		}
	}
	check("PutSchool", s.PutSchool(ctx, school("56EF00")))
	_, err = s.School(ctx, id)
	check("School", err)
	_, err = s.Schools(ctx)
	check("Schools", err)
	check("SetConsent", s.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: gateway.ProcessingLegal, New: true, At: t0}))
	_, err = s.Consent(ctx, id)
	check("Consent", err)
	_, err = s.ConsentHistory(ctx, id)
	check("ConsentHistory", err)
	_, err = s.Stage(ctx, id, "run3")
	check("Stage", err)
	_, err = s.StagedRun(ctx, id)
	check("StagedRun", err)
	_, err = s.OpenStage(ctx, id, "run2")
	check("OpenStage", err)
	check("Pupils", s.Pupils(ctx, id, func(gateway.Pupil) error { return nil }))
	_, err = s.Teachers(ctx, id)
	check("Teachers", err)
	_, _, err = s.Groups(ctx, id)
	check("Groups", err)
	check("AddSyncRun", s.AddSyncRun(ctx, gateway.SyncRun{ID: "r", School: id, Status: gateway.SyncFailed}))
	_, err = s.SyncRuns(ctx, id, 1)
	check("SyncRuns", err)
	check("Stage.PutPupils", st.PutPupils(ctx, pupils(id, "B", 3, 2)))
	check("Stage.PutTeachers", st.PutTeachers(ctx, teachers(id, 1)))
	gs, cs := groups(id)
	check("Stage.PutGroups", st.PutGroups(ctx, gs, cs))
	check("Stage.Pupils", st.Pupils(ctx, func(gateway.Pupil) error { return nil }))
	check("Stage.Commit", st.Commit(ctx))
	check("Stage.Keep", st.Keep(ctx))
	check("Stage.Discard", st.Discard(ctx))
	check("DeleteSchool", s.DeleteSchool(ctx, id))

	// Nothing changed: the school, its snapshot and the stage are all there.
	checkSnapshot(t, s, id, pupils(id, "A", 5, 1), nil, nil, nil)
	if got := readStaged(t, st); len(got) != 0 {
		t.Errorf("stage got %d pupils from calls with a cancelled context", len(got))
	}
	if err := st.Discard(ctxFor(t)); err != nil {
		t.Errorf("Discard after calls with a cancelled context: %v", err)
	}
}

func testContextCanceledDuringPupils(t *testing.T, s gateway.Store) {
	const id, n = "12AB00", 2500
	mustSchool(t, s, id)
	ps := pupils(id, "A", n, 1)
	commitSnapshot(t, s, id, "run1", ps, nil, nil, nil)
	walk := func(what string, run func(ctx context.Context, fn func(gateway.Pupil) error) error) {
		ctx, cancel := context.WithCancel(ctxFor(t))
		defer cancel()
		calls := 0
		err := run(ctx, func(gateway.Pupil) error {
			calls++
			if calls == 1 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s cancelled during the walk: got %v after %d of %d pupils, want context.Canceled", what, err, calls, n)
		}
	}
	walk("Pupils", func(ctx context.Context, fn func(gateway.Pupil) error) error { return s.Pupils(ctx, id, fn) })

	st, err := s.Stage(ctxFor(t), id, "run2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, ps, 1000, nil, nil, nil)
	walk("Stage.Pupils", st.Pupils)
}
