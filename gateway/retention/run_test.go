package retention_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

const (
	schoolA = gateway.SchoolID("12AB00") // has expired data
	schoolB = gateway.SchoolID("34CD00") // has none
	gone    = gateway.SchoolID("99ZZ00") // never enrolled (offboarded long ago)
)

// runAt is the fixed clock of the fixture: 15 March 2026, 10:00 in Amsterdam.
var runAt = at(2026, 3, 15, 10, 0)

// commitPupils commits a snapshot of pupils.
func commitPupils(t *testing.T, st gateway.Store, id gateway.SchoolID, ps []gateway.Pupil) {
	t.Helper()
	ctx := t.Context()
	stage, err := st.Stage(ctx, id, "run-"+string(id))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		ps[i].School = id
		ps[i].LastName, ps[i].FirstName, ps[i].BirthDate = "Jansen", "Sanne", "2014-05-06"
	}
	if err := stage.PutPupils(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// enqueue stores results through the outbox, in one queued batch.
func enqueue(t *testing.T, st gateway.Store, id gateway.SchoolID, batch string, rs []gateway.Result) {
	t.Helper()
	for i := range rs {
		rs[i].School, rs[i].Test, rs[i].Score = id, "REK", "42"
		rs[i].Digest = "d-" + rs[i].Key
		rs[i].SubmittedAt = at(2024, 1, 1, 9, 0)
	}
	created := at(2024, 1, 1, 9, 0)
	out, err := st.Enqueue(t.Context(), id, rs, gateway.Batch{ID: batch, State: gateway.BatchQueued, CreatedAt: created, NextAttemptAt: created})
	if err != nil || out.New != len(rs) {
		t.Fatalf("Enqueue: %+v, %v", out, err)
	}
}

func res(key string, pupil gateway.PupilID, date string, trial bool) gateway.Result {
	return gateway.Result{Key: key, Pupil: pupil, Date: date, Trial: trial}
}

// fixture fills a store:
//
//	school A pupils: p01 current; p02 left 2y-1d ago (stays); p03 left 2y
//	ago to the day and p04 long ago (both go); p05 with an unreadable
//	LeftOn (skipped); p06 current with an old trial result; and a result
//	and an evidence record of p77, a pupil the school no longer knows.
//	school B: one current pupil, nothing expired.
func fixture(t *testing.T, st gateway.Store) {
	t.Helper()
	ctx := t.Context()
	putSchool(t, st, schoolA)
	putSchool(t, st, schoolB)
	commitPupils(t, st, schoolA, []gateway.Pupil{
		{ID: "p01"}, {ID: "p02", LeftOn: "2024-03-16"}, {ID: "p03", LeftOn: "2024-03-15"},
		{ID: "p04", LeftOn: "2023-01-10"}, {ID: "p05", LeftOn: "31-12-2020"}, {ID: "p06"},
	})
	commitPupils(t, st, schoolB, []gateway.Pupil{{ID: "q01"}, {ID: "q02", LeftOn: "2025-07-31"}})
	enqueue(t, st, schoolA, "b1", []gateway.Result{
		res("r-p01-a", "p01", "2023-06-01", false),
		res("r-p02-a", "p02", "2023-06-01", false),
		res("r-p03-a", "p03", "2023-06-01", false),
		res("r-p03-b", "p03", "2026-01-01", true), // recent, but its pupil goes
		res("r-p04-a", "p04", "2022-06-01", false),
		res("r-p06-old", "p06", "2024-03-15", true),   // trial, 2 years ago: goes
		res("r-p06-new", "p06", "2024-03-16", true),   // trial, 2y-1d: stays
		res("r-p06-norm", "p06", "2019-01-01", false), // ordinary: stays with its pupil
		res("r-p06-bad", "p06", "not a date", true),   // trial, unreadable date: skipped
		res("r-p77-a", "p77", "2023-06-01", false),    // pupil no longer known (purged before): goes
	})
	enqueue(t, st, schoolB, "b1", []gateway.Result{res("r-q01-a", "q01", "2020-01-01", false)})
	for _, e := range []gateway.Evidence{
		{ID: "ev1", School: schoolA, Batch: "b1", Pupils: []gateway.PupilID{"p01", "p03"}, Keys: []string{"r-p01-a", "r-p03-a"}},
		{ID: "ev2", School: schoolA, Batch: "b1", Pupils: []gateway.PupilID{"p06"}, Keys: []string{"r-p06-old"}},
		{ID: "ev3", School: schoolA, Batch: "b1", Pupils: []gateway.PupilID{"p01", "p02"}, Keys: []string{"r-p01-a", "r-p02-a"}},
		{ID: "ev5", School: schoolA, Batch: "b1", Pupils: []gateway.PupilID{"p77"}, Keys: []string{"r-x"}}, // written after p77 was purged
		{ID: "ev4", School: schoolB, Batch: "b1", Pupils: []gateway.PupilID{"q01"}, Keys: []string{"r-q01-a"}},
	} {
		e.CreatedAt, e.Doc = at(2024, 1, 2, 9, 0), []byte("<signed/>")
		if err := st.PutEvidence(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []gateway.Login{
		{ID: "l1", Account: "alice", School: schoolA, Pupil: "p03", At: at(2026, 1, 1, 9, 0)}, // pupil purged: goes
		{ID: "l2", Account: "alice", At: at(2024, 1, 1, 9, 0)},                                // alice's latest record that stays (l1 goes) is 2y old: goes
		{ID: "l10", Account: "ivy", At: at(2023, 5, 1, 9, 0)},                                 // 2y old, though ivy used the account since (l11): goes
		{ID: "l11", Account: "ivy", At: at(2026, 2, 1, 9, 0)},
		{ID: "l3", Account: "bob", At: at(2024, 3, 15, 9, 0)},                                           // last use 2y ago: goes
		{ID: "l4", Account: "carol", At: time.Date(2024, 3, 15, 23, 30, 0, 0, time.UTC)},                // 16 March in Amsterdam: stays
		{ID: "l5", Account: "dave", School: schoolA, Pupil: "p99", At: at(2025, 12, 1, 9, 0)},           // pupil unknown: goes
		{ID: "l6", Account: "erin", School: gone, Pupil: "x01", At: at(2025, 12, 1, 9, 0)},              // school gone: goes
		{ID: "l7", Account: "frank", School: schoolA, Pupil: "p02", At: at(2025, 12, 1, 9, 0)},          // pupil kept: stays
		{ID: "l8", Account: "gina", School: schoolA, Pupil: "p01", At: at(2025, 12, 1, 9, 0), OK: true}, // stays
		{ID: "l9", Account: "hank", School: schoolA, Pupil: "p04", At: at(2023, 1, 5, 9, 0)},            // both rules: goes
	} {
		if err := st.AddLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

// state is everything Run may change, in a comparable form.
type state struct {
	pupils, results, evidence, logins []string
	chains                            map[string]uint64 // chain -> head seq
}

func snapshot(t *testing.T, st gateway.Store) state {
	t.Helper()
	ctx := t.Context()
	s := state{chains: map[string]uint64{}}
	schools, err := st.Schools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range schools {
		id := sc.ID
		if err := st.Pupils(ctx, id, func(p gateway.Pupil) error {
			s.pupils = append(s.pupils, string(p.ID))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.WalkResults(ctx, id, func(r gateway.Result) error {
			s.results = append(s.results, r.Key)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.WalkEvidence(ctx, id, func(e gateway.Evidence) error {
			s.evidence = append(s.evidence, e.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.WalkLogins(ctx, func(l gateway.Login) error {
		s.logins = append(s.logins, l.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	chains, err := st.AuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		h, err := st.AuditHead(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		s.chains[c] = h.Seq
	}
	for _, l := range [][]string{s.pupils, s.results, s.evidence, s.logins} {
		slices.Sort(l)
	}
	return s
}

func (s state) equal(o state) bool {
	return slices.Equal(s.pupils, o.pupils) && slices.Equal(s.results, o.results) && slices.Equal(s.evidence, o.evidence) &&
		slices.Equal(s.logins, o.logins) && maps.Equal(s.chains, o.chains)
}

// entries returns the entries of a chain.
func entries(t *testing.T, st gateway.Store, chain string) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	if err := st.WalkAudit(t.Context(), chain, func(e gateway.AuditEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRun(t *testing.T) {
	wantA := retention.SchoolReceipt{School: schoolA, Pupils: 2, Results: 4, TrialResults: 1, Evidence: 3, Skipped: 2}
	wantB := retention.SchoolReceipt{School: schoolB}
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			fixture(t, st)
			before := snapshot(t, st)

			// A dry run reports and changes nothing.
			dry, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true, Actor: "test"})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if after := snapshot(t, st); !after.equal(before) {
				t.Fatalf("the dry run changed the store:\n%+v\nwas\n%+v", after, before)
			}
			if !dry.DryRun || dry.Today != "2026-03-15" || dry.Cutoff != "2024-03-15" || !dry.At.Equal(runAt) {
				t.Errorf("dry receipt header: %+v", dry)
			}

			// The real run deletes exactly what the dry run said.
			real, err := retention.Run(ctx, st, retention.Options{Now: runAt, Actor: "test"})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !slices.Equal(real.Schools, []retention.SchoolReceipt{wantA, wantB}) || real.Logins != 7 {
				t.Errorf("receipt schools %+v, logins %d; want %+v and 7 logins", real.Schools, real.Logins, []retention.SchoolReceipt{wantA, wantB})
			}
			if real.Pupils != 2 || real.Results != 4 || real.TrialResults != 1 || real.Evidence != 3 || real.Skipped != 2 || real.DryRun {
				t.Errorf("receipt totals: %+v", real)
			}
			dry.DryRun = false
			if !slices.Equal(dry.Schools, real.Schools) || dry.Logins != real.Logins || dry.Pupils != real.Pupils ||
				dry.Results != real.Results || dry.TrialResults != real.TrialResults || dry.Evidence != real.Evidence {
				t.Errorf("dry run %+v differs from real run %+v", dry, real)
			}

			got := snapshot(t, st)
			want := state{
				pupils:   []string{"p01", "p02", "p05", "p06", "q01", "q02"},
				results:  []string{"r-p01-a", "r-p02-a", "r-p06-bad", "r-p06-new", "r-p06-norm", "r-q01-a"},
				evidence: []string{"ev3", "ev4"},
				logins:   []string{"l11", "l4", "l7", "l8"},
			}
			for name, pair := range map[string][2][]string{"pupils": {got.pupils, want.pupils}, "results": {got.results, want.results},
				"evidence": {got.evidence, want.evidence}, "logins": {got.logins, want.logins}} {
				if !slices.Equal(pair[0], pair[1]) {
					t.Errorf("%s left: %v, want %v", name, pair[0], pair[1])
				}
			}

			// Audit: one receipt on school A's chain, none on B's, the totals on the gateway chain.
			ea := entries(t, st, gateway.AuditChainOf(schoolA))
			if len(ea) != 1 || ea[0].Kind != gateway.AuditRetentionPurge || ea[0].Actor != "test" || !ea[0].At.Equal(runAt) || ea[0].School != schoolA {
				t.Fatalf("school A chain: %+v", ea)
			}
			wantDetails := map[string]string{"pupils": "2", "results": "4", "trial_results": "1", "evidence": "3", "batches": "0", "skipped": "2",
				"held_batches": "0", "held_results": "0", "sync_run_texts": "0", "check_texts": "0", "batch_texts": "0",
				"today": "2026-03-15", "left_on_or_before": "2024-03-15", "tested_on_or_before": "2024-03-15", "texts_on_or_before": "2025-03-15",
				"period_years": "2"}
			if !maps.Equal(ea[0].Details, wantDetails) {
				t.Errorf("school A receipt details %v, want %v", ea[0].Details, wantDetails)
			}
			if eb := entries(t, st, gateway.AuditChainOf(schoolB)); len(eb) != 0 {
				t.Errorf("school B purged nothing but has entries %+v", eb)
			}
			eg := entries(t, st, gateway.AuditChainGateway)
			if len(eg) != 1 || eg[0].Kind != gateway.AuditRetentionPurge || eg[0].Details["pupils"] != "2" || eg[0].Details["logins"] != "7" ||
				eg[0].Details["schools"] != "2" || eg[0].Details["schools_purged"] != "1" || eg[0].Details["logged_in_on_or_before"] != "2024-03-15" {
				t.Errorf("gateway chain: %+v", eg)
			}
			noPersonalData(t, fmt.Sprint(ea, eg, real))
			if r, err := audit.Verify(ctx, st); err != nil || !r.OK {
				t.Errorf("audit.Verify = %+v, %v", r, err)
			}

			// Idempotent: a second run purges nothing, and says so in the log.
			again, err := retention.Run(ctx, st, retention.Options{Now: runAt.Add(time.Hour), Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range again.Schools {
				if s.Purged() {
					t.Errorf("second run purged at %s: %+v", s.School, s)
				}
			}
			if again.Logins != 0 || again.Pupils+again.Results+again.TrialResults+again.Evidence != 0 {
				t.Errorf("second run: %+v", again)
			}
			if s := snapshot(t, st); !slices.Equal(s.pupils, want.pupils) || !slices.Equal(s.results, want.results) ||
				!slices.Equal(s.evidence, want.evidence) || !slices.Equal(s.logins, want.logins) {
				t.Errorf("second run changed data: %+v", s)
			}
			if n := len(entries(t, st, gateway.AuditChainOf(schoolA))); n != 1 {
				t.Errorf("second run wrote a school receipt: %d entries", n)
			}
			if eg := entries(t, st, gateway.AuditChainGateway); len(eg) != 2 || eg[1].Details["pupils"] != "0" {
				t.Errorf("second run's gateway receipt: %+v", eg)
			}
		})
	}
}

// noPersonalData fails when a fixture name or birth date shows up.
func noPersonalData(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"Jansen", "Sanne", "2014-05-06"} {
		if strings.Contains(s, bad) {
			t.Errorf("output holds personal data %q: %s", bad, s)
		}
	}
}

// A held sync loses the purged pupils too.
func TestRunPurgesHeldSync(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p02", LeftOn: "2020-01-01"}})
			stage, err := st.Stage(ctx, schoolA, "held")
			if err != nil {
				t.Fatal(err)
			}
			if err := stage.PutPupils(ctx, []gateway.Pupil{{ID: "p01", School: schoolA}, {ID: "p02", School: schoolA, LeftOn: "2020-01-01"}}); err != nil {
				t.Fatal(err)
			}
			if err := stage.Keep(ctx); err != nil {
				t.Fatal(err)
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil || rc.Pupils != 1 {
				t.Fatalf("Run = %+v, %v; want 1 pupil purged", rc, err)
			}
			held, err := st.OpenStage(ctx, schoolA, "held")
			if err != nil {
				t.Fatal(err)
			}
			var ids []gateway.PupilID
			if err := held.Pupils(ctx, func(p gateway.Pupil) error { ids = append(ids, p.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, []gateway.PupilID{"p01"}) {
				t.Errorf("held sync holds %v, want [p01]", ids)
			}
			if e := entries(t, st, gateway.AuditChainOf(schoolA)); len(e) != 1 || e[0].Actor != "retention" {
				t.Errorf("school chain: %+v", e)
			}
		})
	}
}

// Around 29 February: a pupil who left on 2024-02-29, and a trial result of
// that day, are kept through 2026-02-28 and go on 2026-03-01 (Amsterdam).
func TestRunLeapDay(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01", LeftOn: "2024-02-29"}, {ID: "p02"}, {ID: "p03", LeftOn: "2024-03-02"}})
			enqueue(t, st, schoolA, "b1", []gateway.Result{res("r1", "p02", "2024-02-29", true), res("r2", "p02", "2024-03-02", true)})
			steps := []struct {
				now           time.Time
				pupils, trial int
			}{
				{at(2026, 2, 28, 23, 59), 0, 0},
				{time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), 1, 1}, // 00:00 on 1 March in Amsterdam
				{at(2026, 3, 1, 23, 59), 0, 0},
				{at(2026, 3, 2, 0, 0), 1, 1}, // p03 and r2, two years to the day
			}
			for i, s := range steps {
				rc, err := retention.Run(ctx, st, retention.Options{Now: s.now})
				if err != nil {
					t.Fatal(err)
				}
				if rc.Pupils != s.pupils || rc.TrialResults != s.trial {
					t.Errorf("step %d at %v: %+v, want %d pupils and %d trial results", i, s.now, rc, s.pupils, s.trial)
				}
			}
			if got := snapshot(t, st); !slices.Equal(got.pupils, []string{"p02"}) || len(got.results) != 0 {
				t.Errorf("left: %+v", got)
			}
		})
	}
}

func TestRunInvalid(t *testing.T) {
	st := openBolt(t)
	if _, err := retention.Run(t.Context(), st, retention.Options{}); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("Run without Now: %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	putSchool(t, st, schoolA)
	if _, err := retention.Run(ctx, st, retention.Options{Now: runAt}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}
}

// A run that stopped between deleting results and purging the pupils (a
// crash) is finished by the next one: nothing is orphaned.
func TestRunFinishesAStoppedRun(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			fixture(t, st)
			// The first run "crashes" when it comes to purging pupils.
			crashing := &failingPurge{Store: st}
			rc, err := retention.Run(ctx, crashing, retention.Options{Now: runAt})
			if err == nil || rc.Schools[0].Error == "" || rc.Schools[0].Pupils != 0 || rc.Schools[0].Results != 4 {
				t.Fatalf("crashing run: %+v, %v", rc, err)
			}
			if strings.Contains(err.Error(), "Jansen") {
				t.Errorf("error holds personal data: %v", err)
			}
			mid := snapshot(t, st)
			if !slices.Contains(mid.pupils, "p03") || slices.Contains(mid.results, "r-p03-a") || slices.Contains(mid.evidence, "ev1") {
				t.Fatalf("after the crash: %+v", mid)
			}
			rc, err = retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil || rc.Schools[0].Pupils != 2 || rc.Schools[0].Results != 0 || rc.Schools[0].Evidence != 0 {
				t.Fatalf("second run: %+v, %v", rc, err)
			}
			end := snapshot(t, st)
			if !slices.Equal(end.pupils, []string{"p01", "p02", "p05", "p06", "q01", "q02"}) || !slices.Equal(end.logins, []string{"l11", "l4", "l7", "l8"}) {
				t.Errorf("after the second run: %+v", end)
			}
			ea := entries(t, st, gateway.AuditChainOf(schoolA))
			if len(ea) != 2 || ea[0].Details["outcome"] != "incomplete" || ea[1].Details["pupils"] != "2" {
				t.Errorf("school A receipts: %+v", ea)
			}
		})
	}
}

// failingPurge is a store whose PurgePupils fails.
type failingPurge struct{ gateway.Store }

func (f *failingPurge) PurgePupils(context.Context, gateway.SchoolID, []gateway.PupilID) (int, error) {
	return 0, fmt.Errorf("simulated crash: %w", gateway.ErrTransient)
}

// An ended batch whose results are all gone is deleted too (it lists their
// keys); one with a result left, and one still in the queue, stay.
func TestRunDeletesEndedBatches(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p04", LeftOn: "2023-01-10"}})
			enqueue(t, st, schoolA, "b-gone", []gateway.Result{res("g1", "p04", "2022-06-01", false), res("g2", "p04", "2022-07-01", false)})
			enqueue(t, st, schoolA, "b-mixed", []gateway.Result{res("m1", "p04", "2022-06-02", false), res("m2", "p01", "2022-06-02", false)})
			enqueue(t, st, schoolA, "b-queued", []gateway.Result{res("q1", "p04", "2022-06-03", false)})
			cs, err := st.Claim(ctx, gateway.ClaimRequest{Consumer: "t", Max: 10, Lease: time.Minute, Now: runAt})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Batch.ID != "b-queued" {
					if _, err := st.Settle(ctx, c, gateway.Settlement{State: gateway.BatchAccepted, At: runAt}); err != nil {
						t.Fatal(err)
					}
				}
			}
			dry, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true, Actor: "test"})
			if err != nil || dry.Batches != 1 || dry.Schools[0].Batches != 1 {
				t.Fatalf("dry run = %+v, %v; want 1 batch", dry, err)
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt, Actor: "test"})
			if err != nil || rc.Batches != 1 || rc.Results != 4 {
				t.Fatalf("run = %+v, %v; want 1 batch and 4 results", rc, err)
			}
			var left []string
			_ = st.WalkBatches(ctx, schoolA, func(b gateway.Batch) error { left = append(left, b.ID); return nil })
			if !slices.Equal(left, []string{"b-mixed", "b-queued"}) {
				t.Errorf("batches left %v, want [b-mixed b-queued]", left)
			}
		})
	}
}
