package storetest

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func testSnapshotEmpty(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	checkSnapshot(t, s, id, nil, nil, nil, nil)
	st, err := s.Stage(ctxFor(t), id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if st.RunID() != "run1" {
		t.Errorf("RunID: %q", st.RunID())
	}
	if got := readStaged(t, st); len(got) != 0 {
		t.Errorf("new stage has %d pupils", len(got))
	}
	// An empty stage commits to an empty snapshot.
	if err := st.Commit(ctxFor(t)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkSnapshot(t, s, id, nil, nil, nil, nil)
}

func testStageCommit(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 20, 1)
	oldT := teachers(id, 2)
	commitSnapshot(t, s, id, "run0", old, oldT, nil, nil)

	ps := pupils(id, "NEW", 3000, 2)
	ts := teachers(id, 25)
	gs, cs := groups(id)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, ps, 1000, ts, gs, cs)

	// Readers still see the old snapshot; the stage shows the new one.
	checkSnapshot(t, s, id, old, oldT, nil, nil)
	checkEqual(t, "Stage.Pupils", readStaged(t, st), sortedPupils(ps))

	if err := st.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkSnapshot(t, s, id, ps, ts, gs, cs)
	if _, err := s.StagedRun(ctx, id); err == nil {
		t.Error("StagedRun after Commit found a staging area")
	}
}

func testStageCommitReplacesAll(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	gs, cs := groups(id)
	commitSnapshot(t, s, id, "run1", pupils(id, "A", 100, 1), teachers(id, 5), gs, cs)
	// Fewer pupils (some the same ids), no teachers, no groups: exactly that.
	next := pupils(id, "B", 40, 1)
	commitSnapshot(t, s, id, "run2", next, nil, nil, nil)
	checkSnapshot(t, s, id, next, nil, nil, nil)
}

func testStageDiscard(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 30, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(id, "NEW", 50, 2), 10, teachers(id, 3), nil, nil)
	if err := st.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	checkSnapshot(t, s, id, old, nil, nil, nil)
	_, err = s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun after Discard", err)

	// A new stage starts empty, not with the discarded pupils.
	st, err = s.Stage(ctx, id, "run2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if got := readStaged(t, st); len(got) != 0 {
		t.Errorf("stage after a discarded one has %d pupils", len(got))
	}
	if err := st.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
}

func testStageKeepOpenCommit(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 30, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)

	ps := pupils(id, "HELD", 1500, 2)
	ts := teachers(id, 4)
	gs, cs := groups(id)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, ps, 1000, ts, gs, cs)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	checkSnapshot(t, s, id, old, nil, nil, nil)

	run, err := s.StagedRun(ctx, id)
	if err != nil || run != "run1" {
		t.Fatalf("StagedRun: %q, %v; want run1", run, err)
	}
	held, err := s.OpenStage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("OpenStage: %v", err)
	}
	if held.RunID() != "run1" {
		t.Errorf("RunID of reopened stage: %q", held.RunID())
	}
	checkEqual(t, "reopened Stage.Pupils", readStaged(t, held), sortedPupils(ps))
	checkSnapshot(t, s, id, old, nil, nil, nil)

	if err := held.Commit(ctx); err != nil {
		t.Fatalf("Commit of reopened stage: %v", err)
	}
	checkSnapshot(t, s, id, ps, ts, gs, cs)
	_, err = s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun after committing the kept stage", err)
	_, err = s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage after committing the kept stage", err)
}

func testStageKeepOpenDiscard(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 30, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(id, "HELD", 10, 2), 10, nil, nil, nil)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	held, err := s.OpenStage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("OpenStage: %v", err)
	}
	if err := held.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	checkSnapshot(t, s, id, old, nil, nil, nil)
	_, err = s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun after discarding the kept stage", err)
	_, err = s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage after discarding the kept stage", err)
}

func testStagedRunOnlyWhenKept(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	_, err := s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun with no stage", err)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(id, "A", 5, 1), 5, nil, nil, nil)
	_, err = s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun with a stage being written", err)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	if run, err := s.StagedRun(ctx, id); err != nil || run != "run1" {
		t.Errorf("StagedRun: %q, %v; want run1", run, err)
	}
}

func testOpenStageWrongRun(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	_, err := s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage with no stage", err)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	_, err = s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage of a stage not kept", err)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	_, err = s.OpenStage(ctx, id, "run2")
	checkNotFound(t, "OpenStage with a wrong run id", err)
	_, err = s.OpenStage(ctx, id, "")
	checkNotFound(t, "OpenStage with an empty run id", err)
}

func testStageReplacesKept(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	first, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, first, pupils(id, "ONE", 20, 1), 20, nil, nil, nil)
	if err := first.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}
	second, err := s.Stage(ctx, id, "run2")
	if err != nil {
		t.Fatalf("Stage (second): %v", err)
	}
	if got := readStaged(t, second); len(got) != 0 {
		t.Errorf("replacing stage starts with %d pupils", len(got))
	}
	_, err = s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage of the replaced kept stage", err)
	if _, err := s.StagedRun(ctx, id); err == nil {
		t.Error("StagedRun reports the replaced kept stage")
	}
	ps := pupils(id, "TWO", 30, 2)
	stage(t, second, ps, 7, nil, nil, nil)
	if err := second.Keep(ctx); err != nil {
		t.Fatalf("Keep (second): %v", err)
	}
	if run, err := s.StagedRun(ctx, id); err != nil || run != "run2" {
		t.Fatalf("StagedRun: %q, %v; want run2", run, err)
	}
	held, err := s.OpenStage(ctx, id, "run2")
	if err != nil {
		t.Fatalf("OpenStage: %v", err)
	}
	checkEqual(t, "Stage.Pupils of replacing stage", readStaged(t, held), sortedPupils(ps))
	if err := held.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkSnapshot(t, s, id, ps, nil, nil, nil)
}

func testStageReplacedHandle(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 10, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)
	first, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, first, pupils(id, "ONE", 10, 2), 10, nil, nil, nil)
	second, err := s.Stage(ctx, id, "run2")
	if err != nil {
		t.Fatalf("Stage (second): %v", err)
	}
	if err := first.Commit(ctx); err == nil {
		t.Error("Commit of a replaced stage succeeded")
	}
	checkSnapshot(t, s, id, old, nil, nil, nil)
	ps := pupils(id, "TWO", 10, 3)
	stage(t, second, ps, 10, nil, nil, nil)
	if err := second.Commit(ctx); err != nil {
		t.Fatalf("Commit of the replacing stage: %v", err)
	}
	checkSnapshot(t, s, id, ps, nil, nil, nil)
}

func testStageUseAfterEnd(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	ps := pupils(id, "A", 10, 1)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, ps, 10, nil, nil, nil)
	if err := st.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := st.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := st.PutPupils(ctx, pupils(id, "B", 3, 2)); err == nil {
		t.Error("PutPupils after Commit succeeded")
	}
	if err := st.Keep(ctx); err == nil {
		t.Error("Keep after Commit succeeded")
	}
	if err := st.Discard(ctx); err == nil {
		t.Error("Discard after Commit succeeded")
	}
	checkSnapshot(t, s, id, ps, nil, nil, nil)

	st, err = s.Stage(ctx, id, "run2")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if err := st.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := st.Commit(ctx); err == nil {
		t.Error("Commit after Discard succeeded")
	}
	if err := st.PutTeachers(ctx, teachers(id, 1)); err == nil {
		t.Error("PutTeachers after Discard succeeded")
	}
	if err := st.Pupils(ctx, func(gateway.Pupil) error { return nil }); err == nil {
		t.Error("Stage.Pupils after Discard succeeded")
	}
	checkSnapshot(t, s, id, ps, nil, nil, nil)
}

// testStageRewriteDuringWalk: the sync walks its stage and overwrites some
// pupils by id as it goes (dropping links to groups the answer never
// defined). The walk sees every pupil once, and the stage holds the new
// versions.
func testStageRewriteDuringWalk(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	ps := pupils(id, "A", 2500, 1)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, ps, 1000, nil, nil, nil)
	want := sortedPupils(ps)
	var batch []gateway.Pupil
	seen := map[gateway.PupilID]int{}
	err = st.Pupils(ctx, func(p gateway.Pupil) error {
		seen[p.ID]++
		if len(seen)%3 != 0 {
			return nil
		}
		p.GroupKey = "rewritten"
		batch = append(batch, p)
		if len(batch) == 100 {
			err := st.PutPupils(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil {
		err = st.PutPupils(ctx, batch)
	}
	if err != nil {
		t.Fatalf("rewrite during Stage.Pupils: %v", err)
	}
	if len(seen) != len(ps) {
		t.Errorf("the walk saw %d distinct pupils, want %d", len(seen), len(ps))
	}
	for pid, n := range seen {
		if n != 1 {
			t.Fatalf("the walk saw pupil %s %d times", pid, n)
		}
	}
	for i := range want {
		if (i+1)%3 == 0 {
			want[i].GroupKey = "rewritten"
		}
	}
	checkEqual(t, "Stage.Pupils after the rewrite", readStaged(t, st), want)
	if err := st.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	checkSnapshot(t, s, id, want, nil, nil, nil)
}
