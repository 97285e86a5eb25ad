package retention_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// leftOn returns each current pupil's LeftOn.
func leftOn(t *testing.T, st gateway.Store, id gateway.SchoolID) map[gateway.PupilID]string {
	t.Helper()
	out := map[gateway.PupilID]string{}
	if err := st.Pupils(t.Context(), id, func(p gateway.Pupil) error { out[p.ID] = p.LeftOn; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// A school whose consent was revoked is no longer refreshed: a school year
// later its current pupils are marked left as of its last successful sync,
// and two years after that sync they are purged, with their results and
// the batch that was held when consent went.
func TestRunStaleRevoked(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			lastSync := at(2024, 6, 1, 2, 0)
			if _, err := st.UpdateSchool(ctx, schoolA, func(s *gateway.School) error { s.LastPulledAt = lastSync; return nil }); err != nil {
				t.Fatal(err)
			}
			commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p02"}, {ID: "p03", LeftOn: "2024-01-10"}})
			enqueue(t, st, schoolA, "b1", []gateway.Result{res("r1", "p01", "2024-05-01", false), res("r2", "p02", "2024-05-01", false)})
			revoked := at(2024, 7, 1, 9, 0)
			grant(t, st, schoolA, false, revoked)
			if n, err := st.HoldBatches(ctx, schoolA, gateway.ProcessingLASExchange, "las_exchange revoked", revoked); err != nil || n != 1 {
				t.Fatalf("HoldBatches = %d, %v", n, err)
			}

			// A school year after the revocation: marked, nothing purged yet.
			yearOn := at(2025, 7, 1, 5, 30)
			dry, err := retention.Run(ctx, st, retention.Options{Now: yearOn, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if s := dry.Schools[0]; s.MarkedLeft != 2 || s.Stale != retention.StaleRevoked || s.LeftAsOf != "2024-06-01" || s.Pupils != 0 {
				t.Fatalf("dry run a year on: %+v", s)
			}
			if got := leftOn(t, st, schoolA); got["p01"] != "" {
				t.Fatalf("the dry run marked pupils: %v", got)
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: yearOn})
			if err != nil || rc.Schools[0] != dry.Schools[0] || rc.StaleSchools != 1 || rc.MarkedLeft != 2 {
				t.Fatalf("run a year on: %+v, %v; want what the dry run said: %+v", rc, err, dry.Schools[0])
			}
			want := map[gateway.PupilID]string{"p01": "2024-06-01", "p02": "2024-06-01", "p03": "2024-01-10"}
			if got := leftOn(t, st, schoolA); !maps.Equal(got, want) {
				t.Errorf("left dates a year on: %v, want %v", got, want)
			}
			e := entries(t, st, gateway.AuditChainOf(schoolA))
			if len(e) != 1 || e[0].Details["stale"] != retention.StaleRevoked || e[0].Details["left_as_of"] != "2024-06-01" || e[0].Details["marked_left"] != "2" {
				t.Errorf("school receipt a year on: %+v", e)
			}
			if again, err := retention.Run(ctx, st, retention.Options{Now: yearOn.Add(time.Hour)}); err != nil || again.MarkedLeft != 0 || again.Schools[0].Changed() {
				t.Errorf("second run a year on: %+v, %v; want nothing more marked", again.Schools, err)
			}

			// p03 goes two years after it left; p01 and p02 two years after the last sync, not a day earlier.
			steps := []struct {
				now            time.Time
				pupils         []string
				results, batch int
			}{
				{at(2026, 1, 10, 5, 30), []string{"p01", "p02"}, 0, 0},
				{at(2026, 5, 31, 23, 59), []string{"p01", "p02"}, 0, 0},
				{at(2026, 6, 1, 0, 0), nil, 2, 1},
			}
			for _, s := range steps {
				rc, err := retention.Run(ctx, st, retention.Options{Now: s.now})
				if err != nil {
					t.Fatal(err)
				}
				var left []string
				for id := range leftOn(t, st, schoolA) {
					left = append(left, string(id))
				}
				slices.Sort(left)
				if !slices.Equal(left, s.pupils) || rc.Results != s.results || rc.Batches != s.batch {
					t.Errorf("at %v: pupils %v, %d results, %d batches purged; want %v, %d, %d", s.now, left, rc.Results, rc.Batches, s.pupils, s.results, s.batch)
				}
			}
			var batches []string
			_ = st.WalkBatches(ctx, schoolA, func(b gateway.Batch) error { batches = append(batches, b.ID); return nil })
			if len(batches) != 0 {
				t.Errorf("batches left: %v", batches)
			}
			if r, err := audit.Verify(ctx, st); err != nil || !r.OK {
				t.Errorf("audit.Verify = %+v, %v", r, err)
			}
		})
	}
}

// A school with las_exchange whose syncs stopped succeeding is stale after
// StaleAfter (a school year by default) and no sooner; an approved held
// sync counts as a success, a dry run does not. (That a sync which finds
// the pupils again makes them current is tested in gateway/app.)
func TestRunStaleNoSync(t *testing.T) {
	st := openBolt(t)
	ctx := t.Context()
	putSchool(t, st, schoolA)
	lastSync := at(2025, 1, 10, 2, 0)
	if _, err := st.UpdateSchool(ctx, schoolA, func(s *gateway.School) error { s.LastPulledAt = lastSync; return nil }); err != nil {
		t.Fatal(err)
	}
	commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}})
	run := func(now time.Time, after time.Duration) retention.SchoolReceipt {
		t.Helper()
		rc, err := retention.Run(ctx, st, retention.Options{Now: now, StaleAfter: after, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		return rc.Schools[0]
	}
	if s := run(lastSync.Add(retention.DefaultStaleAfter-time.Minute), 0); s.Stale != "" || s.MarkedLeft != 0 {
		t.Errorf("a minute before a school year: %+v", s)
	}
	if s := run(lastSync.Add(retention.DefaultStaleAfter), 0); s.Stale != retention.StaleNoSync || s.LeftAsOf != "2025-01-10" || s.MarkedLeft != 1 {
		t.Errorf("a school year after the last sync: %+v", s)
	}
	if s := run(lastSync.Add(100*24*time.Hour), 90*24*time.Hour); s.Stale != retention.StaleNoSync {
		t.Errorf("100 days on with stale_after 90 days: %+v", s)
	}
	// A held sync approved in the summer: data refreshed then.
	approved := at(2025, 8, 20, 10, 0)
	if err := st.AddSyncRun(ctx, gateway.SyncRun{ID: "approve-1", School: schoolA, StartedAt: approved, FinishedAt: approved, Status: gateway.SyncApplied}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSyncRun(ctx, gateway.SyncRun{ID: "dry", School: schoolA, StartedAt: approved.Add(time.Hour), Status: gateway.SyncApplied, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if s := run(lastSync.Add(retention.DefaultStaleAfter), 0); s.Stale != "" {
		t.Errorf("after an approved sync: %+v", s)
	}
	if s := run(approved.Add(retention.DefaultStaleAfter), 0); s.Stale != retention.StaleNoSync || s.LeftAsOf != "2025-08-20" {
		t.Errorf("a school year after the approval (a dry run does not count): %+v", s)
	}
}
