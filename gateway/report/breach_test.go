package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ instead of comparing with them")

var amsterdam = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, amsterdam)
}

const (
	schoolA = gateway.SchoolID("12AB00")
	schoolB = gateway.SchoolID("34CD00")
)

// The window of the fixture's breach, and when the report is made.
var (
	from = at(2026, 3, 1, 0, 0)
	to   = at(2026, 3, 14, 23, 59)
	now  = at(2026, 3, 15, 10, 0)
)

// personal is every piece of personal data in the fixture: none may show in
// a report.
var personal = []string{"Jansen", "Sanne", "Sophie", "S.M.", "2014-05-06", "LAS-4711", "LAS-4712", "Vries",
	"Pieter", "p.devries@school.example", "Bakker", "eck-plain", "sealed-eck", "secret-key"}

// fixture fills a store with school A (data in and out of the window) and
// school B (nothing but its enrolment).
func fixture(t *testing.T, st gateway.Store) {
	t.Helper()
	ctx := t.Context()
	clock := []time.Time{
		at(2026, 1, 10, 9, 0), // school A enrolled: before the window
		at(2026, 1, 10, 9, 5), // key generated: before
		at(2026, 3, 2, 8, 0),  // consent granted: in
		at(2026, 3, 2, 8, 30), // sync: in
		at(2026, 3, 3, 10, 0), // delivery: in
		at(2026, 3, 15, 9, 0), // sync: after
		at(2026, 3, 4, 12, 0), // login: in
	}
	next := 0
	log := audit.New(st, func() time.Time { next++; return clock[next-1] })
	check := func(_ gateway.AuditEntry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	a := gateway.School{ID: schoolA, Brin: "12AB", Dependancecode: "00", Endpoint: "https://las.example/a",
		SealedKey: []byte("secret-key"), SealedKeyPassphrase: []byte("secret-key"), CreatedAt: at(2026, 1, 10, 9, 0),
		LastPulledAt: at(2026, 3, 2, 8, 30)}
	b := gateway.School{ID: schoolB, Brin: "34CD", Dependancecode: "00", Endpoint: "https://las.example/b",
		SealedKey: []byte("secret-key"), CreatedAt: at(2026, 1, 10, 9, 0)}
	for _, s := range []gateway.School{a, b} {
		if err := st.PutSchool(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	check(log.School(ctx, schoolA, gateway.AuditSchoolAdd, "cli", map[string]string{"action": "enrolled"}))
	check(log.Gateway(ctx, gateway.AuditKeyGenerate, "cli", nil))
	if err := st.SetConsent(ctx, gateway.ConsentChange{School: schoolA, Processing: gateway.ProcessingLASExchange, New: true,
		By: "admin", At: at(2026, 3, 2, 8, 0)}); err != nil {
		t.Fatal(err)
	}
	check(log.School(ctx, schoolA, gateway.AuditConsent, "admin", map[string]string{"processing": "las_exchange"}))

	stage, err := st.Stage(ctx, schoolA, "run1")
	if err != nil {
		t.Fatal(err)
	}
	pupil := func(id gateway.PupilID, key, left string) gateway.Pupil {
		return gateway.Pupil{ID: id, School: schoolA, LASKey: key, SealedEckID: []byte("sealed-eck"), EckIndex: []byte("idx-" + key),
			LastName: "Jansen", FirstName: "Sanne", GivenNames: "Sanne Sophie", Initials: "S.M.", Gender: "2",
			BirthDate: "2014-05-06", YearGroup: "6", GroupKey: "g6a", CompositeGroupKeys: []string{"c1"}, LeftOn: left}
	}
	if err := stage.PutPupils(ctx, []gateway.Pupil{
		pupil("p01", "LAS-4711", ""), pupil("p02", "LAS-4712", "2025-07-31"),
		{ID: "p03", School: schoolA, LastName: "Bakker", YearGroup: "6"}, // no LAS key, ECK iD, birth date or gender
	}); err != nil {
		t.Fatal(err)
	}
	if err := stage.PutTeachers(ctx, []gateway.Teacher{
		{School: schoolA, Key: "t1", LastName: "Vries", Prefix: "de", FirstName: "Pieter", Email: "p.devries@school.example",
			Roles: []string{"leerkracht"}, GroupKeys: []string{"g6a"}, SealedEckID: []byte("sealed-eck")},
		{School: schoolA, Key: "t2", LastName: "Bakker"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	check(log.School(ctx, schoolA, gateway.AuditSync, "scheduler", map[string]string{"pupils": "3"}))

	results := func(keys ...string) []gateway.Result {
		var rs []gateway.Result
		for i, k := range keys {
			rs = append(rs, gateway.Result{Key: k, Pupil: "p01", Test: "REK", Date: "2026-02-20", Score: "42", Digest: "d-" + k, Trial: i == 0})
		}
		return rs
	}
	// Batch b1 (3 results) is accepted in the window, b2 (1) after it, b3 (1) waits.
	enqueue := func(id string, due time.Time, keys ...string) {
		if _, err := st.Enqueue(ctx, schoolA, results(keys...), gateway.Batch{ID: id, State: gateway.BatchQueued, CreatedAt: due, NextAttemptAt: due}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("b1", at(2026, 3, 3, 9, 0), "r1", "r2", "r3")
	accept(t, st, at(2026, 3, 3, 9, 30))
	enqueue("b2", at(2026, 3, 14, 23, 0), "r4")
	accept(t, st, at(2026, 3, 15, 0, 0)) // just after the window
	enqueue("b3", at(2026, 3, 15, 9, 0), "r5")
	if err := st.PutEvidence(ctx, gateway.Evidence{ID: "ev1", School: schoolA, Batch: "b1", CreatedAt: at(2026, 3, 3, 9, 30),
		Pupils: []gateway.PupilID{"p01"}, Keys: []string{"r1", "r2", "r3"}, Doc: []byte("<signed>eck-plain</signed>")}); err != nil {
		t.Fatal(err)
	}
	check(log.School(ctx, schoolA, gateway.AuditDelivery, "worker", map[string]string{"batch": "b1"}))
	check(log.School(ctx, schoolA, gateway.AuditSync, "scheduler", map[string]string{"pupils": "3"}))
	check(log.Gateway(ctx, gateway.AuditLogin, "api", map[string]string{"account": "admin-a"}))

	for _, l := range []gateway.Login{
		{ID: "l1", Account: "admin-a", School: schoolA, Pupil: "p01", At: at(2026, 3, 4, 12, 0), OK: true}, // in
		{ID: "l2", Account: "admin-a", School: schoolA, At: at(2026, 2, 1, 12, 0), OK: true},               // before
		{ID: "l3", Account: "admin-a", School: schoolA, At: at(2026, 3, 14, 23, 59)},                       // in (the last minute)
		{ID: "l4", Account: "operator", At: at(2026, 3, 5, 12, 0), OK: true},                               // in, no school
	} {
		if err := st.AddLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
}

// accept claims the due batch and settles it as accepted at at.
func accept(t *testing.T, st gateway.Store, at time.Time) {
	t.Helper()
	cs, err := st.Claim(t.Context(), gateway.ClaimRequest{Consumer: "test", Max: 1, Lease: time.Minute, Now: at})
	if err != nil || len(cs) != 1 {
		t.Fatalf("Claim: %d claims, %v", len(cs), err)
	}
	if _, err := st.Settle(t.Context(), cs[0], gateway.Settlement{State: gateway.BatchAccepted, At: at, Evidence: "ev1"}); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func noPersonalData(t *testing.T, what, s string) {
	t.Helper()
	for _, p := range personal {
		if strings.Contains(s, p) {
			t.Errorf("%s holds personal data %q", what, p)
		}
	}
}

func TestBreachGolden(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			fixture(t, st)
			r, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			md := r.Markdown()
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			noPersonalData(t, "Markdown", md)
			noPersonalData(t, "JSON", string(js))
			golden(t, "breach.golden.md", []byte(md))
			golden(t, "breach.golden.json", js)

			// Spot checks, so a wrong golden file does not go unnoticed.
			a := r.Schools[0]
			if r.Scope != "all" || len(r.Schools) != 2 || a.School != schoolA || a.Pupils != 3 || a.PupilsLeft != 1 || a.Teachers != 2 ||
				a.Results != 5 || a.TrialResults != 3 || a.DeliveredBatches != 1 || a.DeliveredResults != 3 || a.Evidence != 1 ||
				a.Logins != 3 || a.LoginsInWindow != 2 || !a.Consent[gateway.ProcessingLASExchange] || a.Consent[gateway.ProcessingResearch] {
				t.Errorf("school A: %+v", a)
			}
			if a.Audit[gateway.AuditSync] != 1 || a.Audit[gateway.AuditConsent] != 1 || a.Audit[gateway.AuditDelivery] != 1 || a.Audit[gateway.AuditSchoolAdd] != 0 {
				t.Errorf("school A audit counts: %v", a.Audit)
			}
			if r.GatewayAudit[gateway.AuditLogin] != 1 || r.GatewayAudit[gateway.AuditKeyGenerate] != 0 {
				t.Errorf("gateway audit counts: %v", r.GatewayAudit)
			}
			if r.Totals.Logins != 4 || r.Totals.LoginsInWindow != 3 || r.Totals.Pupils != 3 || r.Totals.Schools != 2 {
				t.Errorf("totals: %+v", r.Totals)
			}
			enc := map[string]bool{}
			for _, c := range a.Categories {
				enc[c.Name] = c.Encrypted
			}
			if len(enc) != 14 || !enc["pupil_eckid"] || !enc["school_credentials"] || !enc["teacher_eckid"] || enc["pupil_birth_date"] || enc["test_results"] {
				t.Errorf("school A categories: %+v", a.Categories)
			}
			if b := r.Schools[1]; b.Pupils != 0 || b.LastSyncAt != nil || len(b.Categories) != 1 || b.Categories[0].Name != "school_credentials" {
				t.Errorf("school B: %+v", b)
			}
		})
	}
}

func TestBreachOneSchool(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			fixture(t, st)
			r, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, School: schoolB, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if r.Scope != string(schoolB) || len(r.Schools) != 1 || r.Schools[0].School != schoolB || r.Totals.Logins != 0 || r.Totals.Schools != 1 {
				t.Errorf("report on school B: %+v", r)
			}
			if md := r.Markdown(); !strings.Contains(md, "- Scope: school 34CD00\n") || !strings.Contains(md, "- Last sync: never\n") {
				t.Errorf("Markdown:\n%s", md)
			}
			_, err = report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, School: "99ZZ00", Now: now})
			if !errors.Is(err, gateway.ErrNotFound) {
				t.Errorf("unknown school: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestBreachInvalidWindow(t *testing.T) {
	st := openBolt(t)
	tests := []struct {
		name string
		o    report.BreachOptions
	}{
		{"from after to", report.BreachOptions{From: to, To: from, Now: now}},
		{"empty window", report.BreachOptions{From: from, To: from, Now: now}},
		{"no from", report.BreachOptions{To: to, Now: now}},
		{"no to", report.BreachOptions{From: from, Now: now}},
		{"no window", report.BreachOptions{Now: now}},
		{"no now", report.BreachOptions{From: from, To: to}},
	}
	for _, tc := range tests {
		if _, err := report.Breach(t.Context(), st, tc.o); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	// A good window on an empty store is an empty report, not an error.
	r, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now})
	if err != nil || len(r.Schools) != 0 || r.Totals != (report.Totals{}) {
		t.Errorf("empty store: %+v, %v", r, err)
	}
}

func TestWindowContains(t *testing.T) {
	w := report.Window{From: from, To: to}
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{from, true}, {to, true}, {from.Add(-time.Nanosecond), false}, {to.Add(time.Nanosecond), false}, {at(2026, 3, 7, 12, 0), true},
	} {
		if got := w.Contains(tc.t); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}
