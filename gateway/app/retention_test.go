package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// closeApp closes a at the end of the test.
func closeApp(t *testing.T, a *app.App) {
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Close(c); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
}

// After a retention run that purged 200 pupils, and the login of an admin
// two years ago, none of them is in the bbolt file any more (its free pages
// included), while the pupils who stay are.
func TestRetentionLeavesNothingInTheBoltFile(t *testing.T) {
	dir := t.TempDir()
	st, err := app.OpenStore(ctx(t), app.StoreConfig{Driver: "bolt", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	old := now.AddDate(-2, 0, -1)
	const id = gateway.SchoolID("12AB00")
	if err := st.PutSchool(ctx(t), gateway.School{ID: id, CreatedAt: old, LastPulledAt: now.Add(-24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConsent(ctx(t), gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, New: true, By: "cli", At: old}); err != nil {
		t.Fatal(err)
	}
	var purged, kept [][]byte
	var ps []gateway.Pupil
	for i := range 250 {
		p := gateway.Pupil{ID: gateway.PupilID(fmt.Sprintf("p%03d", i)), School: id, LASKey: fmt.Sprintf("k%03d", i)}
		if i < 200 {
			p.LastName, p.BirthDate, p.LeftOn = fmt.Sprintf("Vertrokken%03d", i), fmt.Sprintf("2011-%02d-%02d", 1+i%12, 1+i%28), "2023-07-14"
			purged = append(purged, []byte(p.LastName), []byte(p.BirthDate))
		} else {
			p.LastName, p.BirthDate = fmt.Sprintf("Gebleven%03d", i), "2016-04-04"
			kept = append(kept, []byte(p.LastName))
		}
		ps = append(ps, p)
	}
	stage, err := st.Stage(ctx(t), id, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if err := stage.PutPupils(ctx(t), ps); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// An admin logged in two years ago, from an address of its own.
	then, err := app.New(app.Options{Store: st, Now: func() time.Time { return old }})
	if err != nil {
		t.Fatal(err)
	}
	closeApp(t, then)
	if err := then.RecordLogin(ctx(t), gateway.LoginAttempt{Token: gateway.Token{ID: "tok-admin7"}, OK: false, Via: "api", Remote: "203.0.113.77", RequestID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	purged = append(purged, []byte("203.0.113.77"), []byte("tok-admin7"))

	a, err := app.New(app.Options{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	closeApp(t, a)
	rc, err := a.RunRetention(ctx(t), app.RetentionOptions{})
	if err != nil || rc.Pupils != 200 || rc.Logins != 1 || rc.AuditPersonal != 1 || !rc.Compacted {
		t.Fatalf("RunRetention = %+v, %v; want 200 pupils, 1 login, 1 personal part, compacted", rc, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range purged {
		if bytes.Contains(raw, v) {
			t.Errorf("the store file still holds %q", v)
		}
	}
	for _, v := range kept {
		if !bytes.Contains(raw, v) {
			t.Errorf("the store file lost %q", v)
		}
	}
	// The store goes on, and the audit log is intact.
	if rep, err := a.VerifyAudit(ctx(t)); err != nil || !rep.OK {
		t.Errorf("VerifyAudit after the purge = %+v, %v", rep, err)
	}
	es, err := a.AuditEntries(ctx(t), gateway.AuditChainGateway, 0)
	if err != nil || len(es) < 2 || es[0].Kind != gateway.AuditLogin || es[0].Actor != audit.Expired || es[0].Details["remote"] != audit.Expired {
		t.Errorf("gateway chain as shown: %+v, %v; want the login with (expired) for its account and address", es, err)
	}
}

// A school whose syncs stopped is stale after Options.RetentionStaleAfter:
// its pupils are marked left as of the last sync; the next sync that finds
// them makes them current again.
func TestRetentionStaleSchoolComesBack(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.sync(f.app, f.A)
		later := start.Add(101 * 24 * time.Hour)
		a, err := app.New(app.Options{Store: f.store, Now: func() time.Time { return later }, RetentionStaleAfter: 100 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		closeApp(t, a)
		rc, err := a.RunRetention(ctx(t), app.RetentionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		left := func() (marked, current int) {
			err := f.store.Pupils(ctx(t), f.A, func(p gateway.Pupil) error {
				if p.LeftOn == start.In(gateway.Amsterdam).Format(time.DateOnly) {
					marked++
				} else if p.LeftOn == "" {
					current++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return marked, current
		}
		var sr retention.SchoolReceipt
		for _, s := range rc.Schools {
			if s.School == f.A {
				sr = s
			}
		}
		if m, c := left(); sr.Stale != retention.StaleNoSync || m == 0 || c != 0 || sr.MarkedLeft != m {
			t.Fatalf("after retention: %d marked as of the last sync, %d current; receipt %+v", m, c, sr)
		}
		f.sync(f.app, f.A)
		if m, c := left(); m != 0 || c == 0 {
			t.Errorf("after the next sync: %d still marked, %d current", m, c)
		}
	})
}
