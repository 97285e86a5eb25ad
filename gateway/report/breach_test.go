package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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
// The contact person of school A is the one personal datum a report
// holds (contactName, contactEmail, contactPhone); who set it is not.
var personal = []string{"Jansen", "Sanne", "Sophie", "S.M.", "2014-05-06", "LAS-4711", "LAS-4712", "Vries",
	"Pieter", "p.devries@school.example", "Bakker", "eck-plain", "sealed-eck", "secret-key", "Anna Admin", "Olga Operator"}

const (
	contactName  = "Bea de Beheerder"
	contactEmail = "bea_beheer@school.example"
	contactPhone = "020 123 45 67"
)

// fixture fills a store with school A (data in and out of the window) and
// school B (nothing but its enrolment).
func fixture(t *testing.T, st gateway.Store) {
	t.Helper()
	ctx := t.Context()
	clock := []time.Time{
		at(2026, 1, 10, 9, 0),  // school A enrolled: before the window
		at(2026, 1, 10, 9, 5),  // key generated: before
		at(2026, 2, 2, 2, 0),   // sync, 1 teacher: before
		at(2026, 3, 2, 8, 0),   // consent granted: in
		at(2026, 3, 2, 8, 30),  // sync, 2 teachers: in
		at(2026, 3, 3, 10, 0),  // delivery: in
		at(2026, 3, 10, 5, 30), // retention purged 2 pupils: in
		at(2026, 3, 15, 9, 0),  // sync, unchanged: after
		at(2026, 3, 4, 12, 0),  // login: in
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
		LastPulledAt: at(2026, 3, 2, 8, 30), Contact: &gateway.SchoolContact{Name: contactName, Email: contactEmail,
			Phone: contactPhone, UpdatedAt: at(2026, 1, 12, 14, 0), UpdatedBy: "Anna Admin (token tok-a-admin)"}}
	b := gateway.School{ID: schoolB, Brin: "34CD", Dependancecode: "00", Endpoint: "https://las.example/b",
		SealedKey: []byte("secret-key"), CreatedAt: at(2026, 1, 10, 9, 0)}
	for _, s := range []gateway.School{a, b} {
		if err := st.PutSchool(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	check(log.School(ctx, schoolA, gateway.AuditSchoolAdd, "cli", map[string]string{"action": "enrolled"}))
	check(log.Gateway(ctx, gateway.AuditKeyGenerate, "cli", nil))
	check(log.School(ctx, schoolA, gateway.AuditSync, "scheduler", syncDetails("applied", 2, 1)))
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
			BirthDate: "2014-05-06", YearGroup: "6", GroupKey: "g6a", CompositeGroupKeys: []string{"c1"}, LeftOn: left,
			UpdatedAt: at(2026, 2, 2, 2, 0)} // unchanged since the sync before the window
	}
	// p03 was added by the sync in the window: the store cannot tell
	// whether it was held at the window's start.
	if err := stage.PutPupils(ctx, []gateway.Pupil{
		pupil("p01", "LAS-4711", ""), pupil("p02", "LAS-4712", "2026-02-02"),
		{ID: "p03", School: schoolA, LastName: "Bakker", YearGroup: "6", UpdatedAt: at(2026, 3, 2, 8, 30)}, // no LAS key, ECK iD, birth date or gender
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
	check(log.School(ctx, schoolA, gateway.AuditSync, "scheduler", syncDetails("applied", 3, 2)))

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
	check(log.School(ctx, schoolA, gateway.AuditRetentionPurge, "retention", map[string]string{"pupils": "2", "results": "0"}))
	check(log.School(ctx, schoolA, gateway.AuditSync, "scheduler", syncDetails("unchanged", 3, 2)))
	check(log.Gateway(ctx, gateway.AuditLogin, "api", map[string]string{"account": "admin-a"}))
	fixtureTokens(t, st)

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

// syncDetails are the details the sync puts in its audit entry.
func syncDetails(status string, pupils, teachers int) map[string]string {
	return map[string]string{"run": "r", "status": status, "pupils": fmt.Sprint(pupils), "added": "0", "changed": "0",
		"left": "0", "teachers": fmt.Sprint(teachers), "groups": "1", "warnings": "0"}
}

// fixtureTokens stores admin tokens active at different moments: at the
// window's start school A has 2 (tok-a-admin, tok-ab-old), at its end 2
// (tok-a-admin, tok-a-viewer), now 2; school B 2 (tok-ab-old, tok-b-exp),
// 1, now 2 (and tok-b-late); the gateway-wide tokens 1 (tok-op), 2 (and
// tok-all), 2.
func fixtureTokens(t *testing.T, st gateway.Store) {
	t.Helper()
	for _, tk := range []gateway.Token{
		{ID: "tok-a-admin", Name: "Anna Admin", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{schoolA}, CreatedAt: at(2026, 1, 10, 9, 30)},
		{ID: "tok-a-viewer", Name: "Vera", Role: gateway.RoleViewer, Schools: []gateway.SchoolID{schoolA}, CreatedAt: at(2026, 3, 5, 9, 0)},
		{ID: "tok-ab-old", Name: "Old", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{schoolA, schoolB},
			CreatedAt: at(2026, 1, 1, 0, 0), RevokedAt: at(2026, 3, 7, 0, 0)},
		{ID: "tok-b-exp", Name: "Bob", Role: gateway.RoleViewer, Schools: []gateway.SchoolID{schoolB}, CreatedAt: at(2026, 1, 1, 0, 0),
			ExpiresAt: at(2026, 3, 20, 0, 0)},
		{ID: "tok-b-late", Name: "Late", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{schoolB}, CreatedAt: at(2026, 3, 15, 9, 30)},
		{ID: "tok-op", Name: "Olga Operator", Role: gateway.RoleOperator, CreatedAt: at(2025, 12, 1, 0, 0)},
		{ID: "tok-all", Name: "Victor", Role: gateway.RoleViewer, CreatedAt: at(2026, 3, 14, 12, 0)},
	} {
		tk.Hash = "hash-" + tk.ID
		if err := st.PutToken(t.Context(), tk); err != nil {
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
			checkAsOf(t, r)
			if len(r.Incident.NotGiven) != 9 || r.Incident.DiscoveredAt != nil || r.Incident.Nature != nil {
				t.Errorf("without an incident every fact is not given: %+v", r.Incident)
			}
			if !strings.Contains(md, "- Discovered: not given\n") || strings.Count(md, "Not given.") != 7 {
				t.Errorf("Markdown without an incident does not say every fact is not given")
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
	empty := report.Totals{AtStart: r.Totals.AtStart, AtEnd: r.Totals.AtEnd}
	if err != nil || len(r.Schools) != 0 || r.Totals != empty || rangeOf(r.Totals.AtStart.Pupils) != "0..0" || rangeOf(r.Totals.AtEnd.Teachers) != "0..0" {
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

// rangeOf writes a Range as "a..b" ("a.." without an upper bound).
func rangeOf(r report.Range) string {
	if r.AtMost == nil {
		return fmt.Sprintf("%d..", r.AtLeast)
	}
	return fmt.Sprintf("%d..%d", r.AtLeast, *r.AtMost)
}

// checkAsOf: the fixture's counts at the window's start and end, the
// contact person, the duration and the special categories.
func checkAsOf(t *testing.T, r report.BreachReport) {
	t.Helper()
	a, b := r.Schools[0], r.Schools[1]
	for _, c := range []struct {
		what string
		h    report.HeldAt
		at   time.Time
		// pupils, pupils left, teachers, accounts
		pupils, teachers string
		left, accounts   int
	}{
		// p01, p02 unchanged since before the window; p03 changed in it;
		// 2 purged in it. One teacher after the sync before the window.
		{"A at the start", a.AtStart, from, "2..5", "1..1", 1, 2},
		{"A at the end", a.AtEnd, to, "3..3", "2..2", 1, 2},
		{"B at the start", b.AtStart, from, "0..0", "0..", 0, 2}, // never synced, no enrolment entry: teachers unknown
		{"B at the end", b.AtEnd, to, "0..0", "0..", 0, 1},
		{"totals at the start", r.Totals.AtStart, from, "2..5", "1..", 1, 3},
		{"totals at the end", r.Totals.AtEnd, to, "3..3", "2..", 1, 3},
	} {
		if !c.h.At.Equal(c.at) || rangeOf(c.h.Pupils) != c.pupils || c.h.PupilsLeft != c.left || rangeOf(c.h.Teachers) != c.teachers || c.h.Accounts != c.accounts {
			t.Errorf("%s: %+v (pupils %s, teachers %s); want pupils %s, left %d, teachers %s, accounts %d", c.what, c.h,
				rangeOf(c.h.Pupils), rangeOf(c.h.Teachers), c.pupils, c.left, c.teachers, c.accounts)
		}
	}
	if a.Accounts != 2 || b.Accounts != 2 || r.Totals.Accounts != 4 || r.GatewayAccounts != (report.AccountCounts{AtStart: 1, AtEnd: 2, Now: 2}) {
		t.Errorf("accounts now: A %d, B %d, total %d, gateway %+v", a.Accounts, b.Accounts, r.Totals.Accounts, r.GatewayAccounts)
	}
	if a.SubmittedBatches != 2 || a.SubmittedResults != 4 || r.Totals.SubmittedResults != 4 {
		t.Errorf("submitted in the window: %d batches, %d results (total %d)", a.SubmittedBatches, a.SubmittedResults, r.Totals.SubmittedResults)
	}
	if c := a.Contact; c == nil || c.Name != contactName || c.Email != contactEmail || c.Phone != contactPhone || b.Contact != nil {
		t.Errorf("contacts: A %+v, B %+v", a.Contact, b.Contact)
	}
	if r.Duration.Seconds != int64(to.Sub(from).Seconds()) || r.Duration.Text != "13 days, 23 hours and 59 minutes" {
		t.Errorf("duration %+v", r.Duration)
	}
	if r.SpecialCategories.Held || !strings.HasPrefix(r.SpecialCategories.Statement, "None.") || !strings.Contains(r.SpecialCategories.Statement, "etniciteit") {
		t.Errorf("special categories %+v", r.SpecialCategories)
	}
}
