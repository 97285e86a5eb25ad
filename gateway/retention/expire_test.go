package retention_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// An account in use every week keeps only its login records of the last two
// years: each goes two years after its own login.
func TestRunLoginsOfAnAccountInUse(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			var want []string
			for i, day := 0, at(2023, 3, 1, 9, 0); day.Before(runAt); i, day = i+1, day.AddDate(0, 0, 7) {
				l := gateway.Login{ID: fmt.Sprintf("l%03d", i), Account: "tok-daily", At: day, OK: true}
				if err := st.AddLogin(ctx, l); err != nil {
					t.Fatal(err)
				}
				if retention.Today(day).String() > "2024-03-15" {
					want = append(want, l.ID)
				}
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, st).logins
			if !slices.Equal(got, want) || rc.Logins == 0 {
				t.Errorf("%d logins purged; left %v, want %v", rc.Logins, got, want)
			}
		})
	}
}

// The personal part of audit entries goes two years after the entry; the
// chains still verify, and show "(expired)" where it was.
func TestRunAuditPersonal(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			var clock time.Time
			log := audit.New(st, func() time.Time { return clock })
			write := func(when time.Time, actor string, d map[string]string) {
				t.Helper()
				clock = when
				if _, err := log.Gateway(ctx, gateway.AuditLogin, actor, d); err != nil {
					t.Fatal(err)
				}
			}
			write(at(2024, 1, 1, 9, 0), "tok-1", map[string]string{"account": "tok-1", "remote": "192.0.2.1"})    // goes
			write(at(2024, 3, 15, 23, 59), "tok-2", map[string]string{"account": "tok-2", "remote": "192.0.2.2"}) // 2y to the day: goes
			write(at(2024, 3, 16, 0, 0), "tok-3", map[string]string{"account": "tok-3", "remote": "192.0.2.3"})   // stays
			write(at(2023, 1, 1, 9, 0), "cli", map[string]string{"term": "2"})                                    // nothing personal
			clock = at(2023, 6, 1, 9, 0)
			if _, err := log.School(ctx, schoolA, gateway.AuditConsent, "Jan de Vries", map[string]string{"processing": "research"}); err != nil {
				t.Fatal(err)
			}
			dry, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true})
			if err != nil || dry.AuditPersonal != 3 {
				t.Fatalf("dry run: %d personal parts, %v; want 3", dry.AuditPersonal, err)
			}
			if es := entries(t, st, gateway.AuditChainGateway); es[0].PersonalExpired() {
				t.Fatal("the dry run deleted a personal part")
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil || rc.AuditPersonal != 3 {
				t.Fatalf("run: %d personal parts, %v; want 3", rc.AuditPersonal, err)
			}
			es := entries(t, st, gateway.AuditChainGateway)
			for i, want := range []bool{true, true, false} {
				if es[i].PersonalExpired() != want {
					t.Errorf("gateway entry %d: expired %v, want %v (%+v)", i+1, es[i].PersonalExpired(), want, es[i])
				}
			}
			if s := audit.Shown(es[0]); s.Actor != audit.Expired || s.Details["remote"] != audit.Expired {
				t.Errorf("expired entry shown as %+v", s)
			}
			if s := audit.Shown(es[2]); s.Actor != "tok-3" || s.Details["remote"] != "192.0.2.3" {
				t.Errorf("kept entry shown as %+v", s)
			}
			if ea := entries(t, st, gateway.AuditChainOf(schoolA)); !ea[0].PersonalExpired() {
				t.Errorf("school chain entry: %+v", ea[0])
			}
			if r, err := audit.Verify(ctx, st); err != nil || !r.OK {
				t.Errorf("audit.Verify after deleting personal parts = %+v, %v", r, err)
			}
			if s := fmt.Sprint(entries(t, st, gateway.AuditChainGateway)[:2]); strings.Contains(s, "192.0.2.1") || strings.Contains(s, "tok-2") {
				t.Errorf("expired entries still hold their personal values: %s", s)
			}
			if again, err := retention.Run(ctx, st, retention.Options{Now: runAt}); err != nil || again.AuditPersonal != 0 {
				t.Errorf("second run: %d, %v", again.AuditPersonal, err)
			}
		})
	}
}

// Free texts go one year after they were written; codes and classes stay.
func TestRunExpiresTexts(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			old, kept := at(2025, 3, 15, 23, 59), at(2025, 3, 16, 0, 0) // a year before runAt to the day, and a day less
			for i, when := range []time.Time{old, kept} {
				if err := st.AddSyncRun(ctx, gateway.SyncRun{ID: fmt.Sprint("run", i), School: schoolA, StartedAt: when, FinishedAt: when,
					Status: gateway.SyncFailed, Warnings: []string{"leerling k-1"}, ErrorClass: gateway.ClassRequest, Error: "fout bij k-1"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.PutConnectionCheck(ctx, schoolA, gateway.ConnectionCheck{At: old, ErrorClass: gateway.ClassCredential, FaultCode: "F1", Message: "sleutel onbekend"}); err != nil {
				t.Fatal(err)
			}
			dry, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true})
			want := gateway.ExpiredTexts{SyncRuns: 1, ConnectionChecks: 1}
			if err != nil || dry.Texts != want || dry.TextCutoff != "2025-03-15" {
				t.Fatalf("dry run: %+v (cutoff %s), %v; want %+v", dry.Texts, dry.TextCutoff, err, want)
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil || rc.Texts != want || rc.Schools[0].Texts != want {
				t.Fatalf("run: %+v, %v", rc.Texts, err)
			}
			runs, _ := st.SyncRuns(ctx, schoolA, 0)
			if len(runs) != 2 || runs[1].HasTexts() || runs[1].ErrorClass != gateway.ClassRequest || !runs[0].HasTexts() {
				t.Errorf("runs after the run: %+v", runs)
			}
			if c, err := st.ConnectionCheck(ctx, schoolA); err != nil || c.Message != "" || c.FaultCode != "F1" || c.ErrorClass != gateway.ClassCredential {
				t.Errorf("connection check after the run: %+v, %v", c, err)
			}
			if e := entries(t, st, gateway.AuditChainOf(schoolA)); len(e) != 1 || e[0].Details["sync_run_texts"] != "1" || e[0].Details["check_texts"] != "1" {
				t.Errorf("school receipt: %+v", e)
			}
		})
	}
}

// A batch held two years ago (las_exchange not granted since) goes with its
// results, even while its pupil is at school; one held a day later stays;
// a held batch whose results went with their pupil goes too; a result
// submitted again in a newer batch stays with that batch.
func TestRunHeldBatches(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			ctx := t.Context()
			putSchool(t, st, schoolA)
			commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p04", LeftOn: "2023-01-10"}})
			enqueue(t, st, schoolA, "b1", []gateway.Result{res("h1", "p01", "2024-01-01", false), res("h2", "p01", "2024-01-01", false)})
			if _, err := st.HoldBatches(ctx, schoolA, gateway.ProcessingLASExchange, "las_exchange revoked", at(2024, 3, 15, 12, 0)); err != nil {
				t.Fatal(err)
			}
			enqueue(t, st, schoolA, "b2", []gateway.Result{res("k1", "p01", "2024-02-01", false), res("g1", "p04", "2022-06-01", false)})
			if _, err := st.HoldBatches(ctx, schoolA, gateway.ProcessingLASExchange, "las_exchange revoked", at(2024, 3, 16, 12, 0)); err != nil {
				t.Fatal(err)
			}
			enqueue(t, st, schoolA, "b3", []gateway.Result{res("g2", "p04", "2022-06-01", false)})
			if _, err := st.HoldBatches(ctx, schoolA, gateway.ProcessingLASExchange, "las_exchange revoked", at(2026, 1, 1, 12, 0)); err != nil {
				t.Fatal(err)
			}
			// h2 is submitted again (a correction): its newer version is in b4, queued.
			r := res("h2", "p01", "2024-01-01", false)
			r.School, r.Test, r.Score, r.Digest, r.SubmittedAt = schoolA, "REK", "43", "d-h2-v2", at(2026, 2, 1, 9, 0)
			if _, err := st.Enqueue(ctx, schoolA, []gateway.Result{r}, gateway.Batch{ID: "b4", State: gateway.BatchQueued, CreatedAt: r.SubmittedAt, NextAttemptAt: r.SubmittedAt}); err != nil {
				t.Fatal(err)
			}
			dry, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := retention.Run(ctx, st, retention.Options{Now: runAt})
			if err != nil {
				t.Fatal(err)
			}
			got := rc.Schools[0]
			if got.HeldBatches != 1 || got.HeldResults != 1 || got.Batches != 1 || got.Results != 2 {
				t.Errorf("receipt %+v; want b1 held too long with h1, b3 without results, g1 and g2 with p04", got)
			}
			if dry.Schools[0].HeldBatches != got.HeldBatches || dry.Schools[0].HeldResults != got.HeldResults || dry.Schools[0].Batches != got.Batches {
				t.Errorf("dry run %+v differs from the run %+v", dry.Schools[0], got)
			}
			var batches []string
			_ = st.WalkBatches(ctx, schoolA, func(b gateway.Batch) error { batches = append(batches, b.ID); return nil })
			if !slices.Equal(batches, []string{"b2", "b4"}) {
				t.Errorf("batches left %v, want [b2 b4]", batches)
			}
			if s := snapshot(t, st); !slices.Equal(s.results, []string{"h2", "k1"}) {
				t.Errorf("results left %v, want [h2 k1]", s.results)
			}
		})
	}
}
