package app_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// breachEntries returns the report.breach entries of the gateway chain.
func (f *fixture) breachEntries() []gateway.AuditEntry {
	f.t.Helper()
	var out []gateway.AuditEntry
	err := f.store.WalkAudit(ctx(f.t), gateway.AuditChainGateway, func(e gateway.AuditEntry) error {
		if e.Kind == gateway.AuditBreachReport {
			out = append(out, e)
		}
		return nil
	})
	if err != nil && !errors.Is(err, gateway.ErrNotFound) {
		f.t.Fatal(err)
	}
	return out
}

// TestBreachReport: a report over a window in which school A was enrolled
// and synced, with an incident file: its facts as given (the rest not
// given), the counts at the window's start and end, the contact person;
// recorded with whether an incident was given, never its facts. A bad
// incident file names each bad field and records nothing.
func TestBreachReport(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.sync(f.app, f.A)
		if _, err := f.app.SetSchoolContact(ctx(t), f.A, gateway.SchoolContact{Name: "Bea", Email: "bea@school.example"}, "admin"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.CreateToken(ctx(t), app.TokenRequest{Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{f.A}, Name: "Anna"}, "t"); err != nil {
			t.Fatal(err)
		}
		teachers, err := f.store.Teachers(ctx(t), f.A)
		if err != nil || len(teachers) == 0 {
			t.Fatalf("school A has %d teachers after its sync (%v)", len(teachers), err)
		}
		win := app.BreachRequest{From: start.Add(-time.Hour), To: start, Format: "json"}

		q := win
		q.Incident = []byte(`{"discovered_at": "` + start.Format(time.RFC3339) + `", "nature": ["read"], "cause": "a stolen laptop"}`)
		r, err := f.app.BreachReport(ctx(t), q, "dpo")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Schools) != 2 {
			t.Fatalf("%d schools", len(r.Schools))
		}
		a, b := r.Schools[0], r.Schools[1] // ordered by id
		if a.School != f.A {
			a, b = b, a
		}
		// A was enrolled at the window's end (the fixture's clock stands
		// still): nothing at its start, the synced pupils and teachers at its end.
		if n := a.AtStart.Pupils; n.AtLeast != 0 || n.AtMost == nil || *n.AtMost != 0 {
			t.Errorf("A's pupils at the start %+v, want exactly 0", n)
		}
		if n := a.AtEnd.Pupils; n.AtLeast != a.Pupils || n.AtMost == nil || *n.AtMost != a.Pupils || a.Pupils == 0 {
			t.Errorf("A's pupils at the end %+v, want exactly the %d held now", n, a.Pupils)
		}
		if n := a.AtEnd.Teachers; n.AtMost == nil || n.AtLeast != len(teachers) || *n.AtMost != len(teachers) {
			t.Errorf("A's teachers at the end %+v, want exactly %d", n, len(teachers))
		}
		if a.AtStart.Accounts != 0 || a.AtEnd.Accounts != 1 || a.Accounts != 1 || b.Accounts != 0 {
			t.Errorf("accounts: A %d, %d, %d; B %d", a.AtStart.Accounts, a.AtEnd.Accounts, a.Accounts, b.Accounts)
		}
		if a.Contact == nil || a.Contact.Email != "bea@school.example" || b.Contact != nil {
			t.Errorf("contacts: A %+v, B %+v", a.Contact, b.Contact)
		}
		in := r.Incident
		if in.DiscoveredAt == nil || !in.DiscoveredAt.Equal(start) || len(in.Nature) != 1 || in.Cause == nil || *in.Cause != "a stolen laptop" ||
			!slices.Equal(in.NotGiven, []string{"component", "how", "detection", "measures", "consequences", "risk"}) {
			t.Errorf("incident %+v", in)
		}
		entries := f.breachEntries()
		if len(entries) != 1 {
			t.Fatalf("%d report.breach entries, want 1", len(entries))
		}
		d := entries[0].Details
		if entries[0].Actor != "dpo" || d["incident"] != "given" || d["facts_not_given"] != "component,how,detection,measures,consequences,risk" || d["format"] != "json" {
			t.Errorf("audit entry %+v", entries[0])
		}
		if all, _ := json.Marshal(entries); strings.Contains(string(all), "laptop") || strings.Contains(string(all), "bea@") {
			t.Errorf("the audit entry holds a fact or the contact: %s", all)
		}

		// A bad incident file: each bad field named, nothing recorded.
		q.Incident = []byte(`{"nature": ["melt"], "colour": "red", "discovered_at": "2026-11-24"}`)
		_, err = f.app.BreachReport(ctx(t), q, "dpo")
		var bad gateway.InvalidFields
		if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), "incident file: ") {
			t.Fatalf("bad incident file: %v", err)
		}
		var names []string
		for _, p := range bad {
			names = append(names, p.Position)
		}
		if !slices.Equal(names, []string{"nature[0]", "colour", "discovered_at"}) {
			t.Errorf("bad incident file names %v", names)
		}
		// Discovered after the report is made.
		q.Incident = []byte(`{"discovered_at": "` + start.Add(time.Hour).Format(time.RFC3339) + `"}`)
		if _, err := f.app.BreachReport(ctx(t), q, "dpo"); !errors.As(err, &bad) || bad[0].Position != "discovered_at" {
			t.Errorf("a discovery after the report: %v", err)
		}
		if n := len(f.breachEntries()); n != 1 {
			t.Errorf("refused reports recorded: %d entries", n)
		}

		// Without an incident file every fact is not given.
		r, err = f.app.BreachReport(ctx(t), win, "")
		if err != nil || len(r.Incident.NotGiven) != 9 {
			t.Fatalf("report without an incident: %+v, %v", r.Incident, err)
		}
		if e := f.breachEntries(); len(e) != 2 || e[1].Details["incident"] != "none" || e[1].Actor != "cli" {
			t.Errorf("audit entry of a report without an incident: %+v", e[len(e)-1])
		}
	})
}
