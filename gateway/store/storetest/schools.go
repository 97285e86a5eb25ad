package storetest

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func testSchoolRoundTrip(t *testing.T, s gateway.Store) {
	want := mustSchool(t, s, "12AB00")
	got, err := s.School(ctxFor(t), "12AB00")
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "School", got, want)

	// Empty optional fields and zero times stay empty and zero.
	bare := gateway.School{ID: "99ZZ00", Endpoint: "https://x", SealedKey: []byte{1}}
	if err := s.PutSchool(ctxFor(t), bare); err != nil {
		t.Fatalf("PutSchool: %v", err)
	}
	got, err = s.School(ctxFor(t), bare.ID)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "bare School", got, bare)
	if !got.CreatedAt.IsZero() || !got.LastPulledAt.IsZero() {
		t.Errorf("zero times came back as %v, %v", got.CreatedAt, got.LastPulledAt)
	}
}

func testSchoolNotValidated(t *testing.T, s gateway.Store) {
	// Validate is the caller's job: a school with only an id is stored.
	sc := gateway.School{ID: "schoolkey-without-brin"}
	if err := sc.Validate(); err == nil {
		t.Fatal("fixture should be invalid")
	}
	if err := s.PutSchool(ctxFor(t), sc); err != nil {
		t.Fatalf("PutSchool of an unvalidated school: %v", err)
	}
	got, err := s.School(ctxFor(t), sc.ID)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "School", got, sc)
}

func testSchoolReplaceKeepsData(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	sc := mustSchool(t, s, id)
	ps := pupils(id, "A", 10, 1)
	ts := teachers(id, 3)
	gs, cs := groups(id)
	commitSnapshot(t, s, id, "run1", ps, ts, gs, cs)
	change := gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, New: true, By: "admin", At: t0}
	if err := s.SetConsent(ctxFor(t), change); err != nil {
		t.Fatalf("SetConsent: %v", err)
	}
	run := gateway.SyncRun{ID: "run1", School: id, StartedAt: t0, FinishedAt: t1, Status: gateway.SyncApplied}
	if err := s.AddSyncRun(ctxFor(t), run); err != nil {
		t.Fatalf("AddSyncRun: %v", err)
	}

	sc.LastPulledAt = t1.Add(1)
	sc.Endpoint = "https://new.example"
	sc.SealedKey = nil
	if err := s.PutSchool(ctxFor(t), sc); err != nil {
		t.Fatalf("PutSchool (replace): %v", err)
	}
	got, err := s.School(ctxFor(t), id)
	if err != nil {
		t.Fatalf("School: %v", err)
	}
	checkOne(t, "replaced School", got, sc)
	checkSnapshot(t, s, id, ps, ts, gs, cs)
	c, err := s.Consent(ctxFor(t), id)
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	checkOne(t, "Consent", c, gateway.Consent{gateway.ProcessingLASExchange: true})
	runs, err := s.SyncRuns(ctxFor(t), id, 10)
	if err != nil {
		t.Fatalf("SyncRuns: %v", err)
	}
	checkEqual(t, "SyncRuns", runs, []gateway.SyncRun{run})
}

func testSchoolsOrdered(t *testing.T, s gateway.Store) {
	got, err := s.Schools(ctxFor(t))
	if err != nil {
		t.Fatalf("Schools (empty store): %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Schools of an empty store: %d schools", len(got))
	}
	ids := []gateway.SchoolID{"30CC00", "10AA01", "key-b", "10AA00", "20BB00", "KEY-A"}
	var want []gateway.School
	for _, id := range ids {
		sc := gateway.School{ID: id, Klantnaam: "k" + string(id)}
		if err := s.PutSchool(ctxFor(t), sc); err != nil {
			t.Fatalf("PutSchool(%s): %v", id, err)
		}
		want = append(want, sc)
	}
	// Replacing one must not duplicate it.
	want[0].Klantnaam = "replaced"
	if err := s.PutSchool(ctxFor(t), want[0]); err != nil {
		t.Fatalf("PutSchool: %v", err)
	}
	got, err = s.Schools(ctxFor(t))
	if err != nil {
		t.Fatalf("Schools: %v", err)
	}
	// Byte order of the id: digits < upper case < lower case.
	order := []int{3, 1, 4, 0, 5, 2}
	var sorted []gateway.School
	for _, i := range order {
		sorted = append(sorted, want[i])
	}
	checkEqual(t, "Schools", got, sorted)
}

func testUnknownSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	mustSchool(t, s, "12AB00") // another school exists
	const id = "99XX00"
	_, err := s.School(ctx, id)
	checkNotFound(t, "School", err)
	checkNotFound(t, "DeleteSchool", s.DeleteSchool(ctx, id))
	checkNotFound(t, "SetConsent", s.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: gateway.ProcessingLegal, New: true, At: t0}))
	_, err = s.Consent(ctx, id)
	checkNotFound(t, "Consent", err)
	_, err = s.ConsentHistory(ctx, id)
	checkNotFound(t, "ConsentHistory", err)
	_, err = s.Stage(ctx, id, "run1")
	checkNotFound(t, "Stage", err)
	_, err = s.StagedRun(ctx, id)
	checkNotFound(t, "StagedRun", err)
	_, err = s.OpenStage(ctx, id, "run1")
	checkNotFound(t, "OpenStage", err)
	called := false
	err = s.Pupils(ctx, id, func(gateway.Pupil) error { called = true; return nil })
	checkNotFound(t, "Pupils", err)
	if called {
		t.Error("Pupils of an unknown school called fn")
	}
	_, err = s.Teachers(ctx, id)
	checkNotFound(t, "Teachers", err)
	_, _, err = s.Groups(ctx, id)
	checkNotFound(t, "Groups", err)
	checkNotFound(t, "AddSyncRun", s.AddSyncRun(ctx, gateway.SyncRun{ID: "r", School: id, Status: gateway.SyncFailed}))
	_, err = s.SyncRuns(ctx, id, 10)
	checkNotFound(t, "SyncRuns", err)
}

func testDeleteSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	fill := func(id gateway.SchoolID) ([]gateway.Pupil, []gateway.Teacher, []gateway.Group, []gateway.CompositeGroup) {
		mustSchool(t, s, id)
		ps, ts := pupils(id, "A", 50, 3), teachers(id, 4)
		gs, cs := groups(id)
		commitSnapshot(t, s, id, "run1", ps, ts, gs, cs)
		st, err := s.Stage(ctx, id, "run2")
		if err != nil {
			t.Fatalf("Stage: %v", err)
		}
		stage(t, st, pupils(id, "B", 20, 4), 7, nil, nil, nil)
		if err := st.Keep(ctx); err != nil {
			t.Fatalf("Keep: %v", err)
		}
		for _, p := range []gateway.Processing{gateway.ProcessingLASExchange, gateway.ProcessingResearch} {
			if err := s.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: p, New: true, By: "a", At: t0}); err != nil {
				t.Fatalf("SetConsent: %v", err)
			}
		}
		if err := s.AddSyncRun(ctx, gateway.SyncRun{ID: "run1", School: id, StartedAt: t0, Status: gateway.SyncApplied}); err != nil {
			t.Fatalf("AddSyncRun: %v", err)
		}
		return ps, ts, gs, cs
	}
	const gone, kept = "12AB00", "12AB01"
	fill(gone)
	ps, ts, gs, cs := fill(kept)

	if err := s.DeleteSchool(ctx, gone); err != nil {
		t.Fatalf("DeleteSchool: %v", err)
	}
	_, err := s.School(ctx, gone)
	checkNotFound(t, "School after DeleteSchool", err)
	checkNotFound(t, "second DeleteSchool", s.DeleteSchool(ctx, gone))
	all, err := s.Schools(ctx)
	if err != nil {
		t.Fatalf("Schools: %v", err)
	}
	if len(all) != 1 || all[0].ID != kept {
		t.Errorf("Schools after delete: %v", all)
	}

	// Re-created under the same id, the school starts from nothing.
	mustSchool(t, s, gone)
	checkSnapshot(t, s, gone, nil, nil, nil, nil)
	if c, err := s.Consent(ctx, gone); err != nil || len(c) != 0 {
		t.Errorf("Consent of re-created school: %v, %v", c, err)
	}
	if h, err := s.ConsentHistory(ctx, gone); err != nil || len(h) != 0 {
		t.Errorf("ConsentHistory of re-created school: %d changes, %v", len(h), err)
	}
	if r, err := s.SyncRuns(ctx, gone, 10); err != nil || len(r) != 0 {
		t.Errorf("SyncRuns of re-created school: %d runs, %v", len(r), err)
	}
	_, err = s.StagedRun(ctx, gone)
	checkNotFound(t, "StagedRun of re-created school", err)
	_, err = s.OpenStage(ctx, gone, "run2")
	checkNotFound(t, "OpenStage of re-created school", err)

	// The other school is untouched.
	checkSnapshot(t, s, kept, ps, ts, gs, cs)
	if c, err := s.Consent(ctx, kept); err != nil || len(c) != 2 {
		t.Errorf("Consent of other school: %v, %v", c, err)
	}
	if h, err := s.ConsentHistory(ctx, kept); err != nil || len(h) != 2 {
		t.Errorf("ConsentHistory of other school: %d changes, %v", len(h), err)
	}
	if r, err := s.SyncRuns(ctx, kept, 10); err != nil || len(r) != 1 {
		t.Errorf("SyncRuns of other school: %d runs, %v", len(r), err)
	}
	if run, err := s.StagedRun(ctx, kept); err != nil || run != "run2" {
		t.Errorf("StagedRun of other school: %q, %v", run, err)
	}
}

func testDeleteSchoolDuringStage(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, pupils(id, "A", 10, 1), 5, nil, nil, nil)
	if err := s.DeleteSchool(ctx, id); err != nil {
		t.Fatalf("DeleteSchool: %v", err)
	}
	if err := st.Commit(ctx); err == nil {
		t.Error("Commit of a stage of a deleted school succeeded")
	}
	_, err = s.School(ctx, id)
	checkNotFound(t, "School after Commit of deleted school's stage", err)
	mustSchool(t, s, id)
	checkSnapshot(t, s, id, nil, nil, nil, nil)
}
