package report_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

func readIncident(t *testing.T) *report.Incident {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "incident.json"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := report.ParseIncident(data)
	if err != nil {
		t.Fatal(err)
	}
	return &in
}

// TestBreachIncidentGolden: with every fact of testdata/incident.json the
// draft holds every field of the processing agreement's list: discovery,
// duration, nature, the part of security that failed and how, cause,
// detection, measures, consequences and risk, the categories with their
// encryption, the numbers at the window's start and end, special
// categories none, the contact person.
func TestBreachIncidentGolden(t *testing.T) {
	for _, sc := range stores {
		t.Run(sc.Name, func(t *testing.T) {
			st := sc.Open(t)
			fixture(t, st)
			r, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now, Incident: readIncident(t)})
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
			golden(t, "breach_incident.golden.md", []byte(md))
			golden(t, "breach_incident.golden.json", js)

			for _, want := range []string{
				"- Discovered: 2026-03-14T16:45:00+01:00\n",
				"- Duration: 13 days, 23 hours and 59 minutes",
				"- Nature: read, copy\n",
				"- Reported by: P. Privacy, data protection officer of the processor\n",
				"### Which part of the security failed\n\nThe Redis server holding the gateway's store.\n",
				"### How it failed\n\nA firewall change",
				"### Cause\n\nHuman error",
				"### How the breach was discovered\n\nThe hosting provider's abuse desk",
				"### Measures taken\n\nThe firewall rule was restored and a Redis password set on 14 March.\nThe vault keys",
				"### Possible consequences\n\nNames, birth dates",
				"### Risk\n\nMedium:",
				"Every fact of the notification is given.",
				"| ECK iD | pupils | 2 | yes (AES-256-GCM) |",
				"| Pupils (including pupils marked as left) | 2 to 5 | 3 | 3 |",
				"- Special categories of personal data: None.",
				"- Contact person: Bea de Beheerder, bea\\_beheer@school.example, phone 020 123 45 67",
			} {
				if !strings.Contains(md, want) {
					t.Errorf("the Markdown lacks %q", want)
				}
			}
			if strings.Contains(md, ": not given") || strings.Contains(md, "Not given") || strings.Contains(md, "Facts not given") {
				t.Errorf("every fact is given, yet the Markdown says one is not")
			}
			if strings.Count(md, contactEmail[4:]) != 1 || strings.Count(string(js), contactEmail) != 1 {
				t.Errorf("the contact's address appears %d times in the Markdown, %d in the JSON; want once each",
					strings.Count(md, contactEmail[4:]), strings.Count(string(js), contactEmail))
			}
			var back struct {
				Incident map[string]json.RawMessage `json:"incident"`
			}
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"discovered_at", "nature", "component", "how", "cause", "detection", "measures", "consequences", "risk", "reporter"} {
				if v, ok := back.Incident[k]; !ok || string(v) == "null" {
					t.Errorf("incident.%s = %s in the JSON", k, v)
				}
			}
			if string(back.Incident["not_given"]) != "[]" {
				t.Errorf("incident.not_given = %s, want []", back.Incident["not_given"])
			}
		})
	}
}

// TestBreachIncidentPartial: the facts not given are listed as such, each
// in its place; none is filled in.
func TestBreachIncidentPartial(t *testing.T) {
	st := openBolt(t)
	fixture(t, st)
	in, err := report.ParseIncident([]byte(`{"nature": ["theft"], "cause": "a laptop left on a train"}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now, Incident: &in, School: schoolA})
	if err != nil {
		t.Fatal(err)
	}
	md := r.Markdown()
	for _, want := range []string{"- Discovered: not given\n", "- Nature: theft\n", "### Cause\n\na laptop left on a train\n",
		"### Risk\n\nNot given.\n", "Facts not given (keys of the incident file): discovered_at, component, how, detection, measures, consequences, risk."} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "Reported by") || strings.Count(md, "Not given.") != 6 {
		t.Errorf("the Markdown invents a fact:\n%s", md)
	}
}

// TestBreachIncidentRefused: a discovery after the report or before the
// window's start is bad input naming discovered_at.
func TestBreachIncidentRefused(t *testing.T) {
	st := openBolt(t)
	fixture(t, st)
	for _, tc := range []struct {
		name string
		at   time.Time
		why  string
	}{
		{"after the report", now.Add(time.Minute), "after the time of the report"},
		{"before the window", from.Add(-time.Second), "before the window's start"},
	} {
		in := report.Incident{DiscoveredAt: &tc.at}
		_, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now, Incident: &in})
		var bad gateway.InvalidFields
		if !errors.As(err, &bad) || len(bad) != 1 || bad[0].Position != "discovered_at" || !strings.Contains(bad[0].Reason, tc.why) {
			t.Errorf("%s: %v, want discovered_at %s", tc.name, err, tc.why)
		}
	}
	for _, at := range []time.Time{from, now} { // both ends are fine
		in := report.Incident{DiscoveredAt: &at}
		if _, err := report.Breach(t.Context(), st, report.BreachOptions{From: from, To: to, Now: now, Incident: &in}); err != nil {
			t.Errorf("discovered at %v: %v", at, err)
		}
	}
}

// TestHeldAtDerivation: what the audit chain and the change dates can and
// cannot tell of the window's start.
func TestHeldAtDerivation(t *testing.T) {
	ctx := t.Context()
	st := openBolt(t)
	next := []time.Time{}
	log := audit.New(st, func() time.Time { at := next[0]; next = next[1:]; return at })
	entry := func(id gateway.SchoolID, at time.Time, kind gateway.AuditKind, d map[string]string) {
		t.Helper()
		next = append(next, at)
		if _, err := log.School(ctx, id, kind, "test", d); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id gateway.SchoolID, created time.Time, ps ...gateway.Pupil) {
		t.Helper()
		if err := st.PutSchool(ctx, gateway.School{ID: id, Endpoint: "https://las.example", SealedKey: []byte{1}, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
		stage, err := st.Stage(ctx, id, "run1")
		if err != nil {
			t.Fatal(err)
		}
		if err := stage.PutPupils(ctx, ps); err != nil {
			t.Fatal(err)
		}
		if err := stage.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	late := at(2026, 3, 5, 9, 0) // in the window
	pupil := func(id gateway.PupilID, updated time.Time) gateway.Pupil {
		return gateway.Pupil{ID: id, LastName: "X", UpdatedAt: updated}
	}

	// 11AA00: enrolled in the window: it held nothing at the start.
	put("11AA00", late, pupil("p1", late.Add(time.Hour)))
	entry("11AA00", late, gateway.AuditSchoolAdd, map[string]string{"action": "enrolled"})
	entry("11AA00", late.Add(time.Hour), gateway.AuditSync, syncDetails("applied", 1, 4))
	// 22BB00: offboarded in the window and enrolled again: the first
	// enrolment's data at the start is unknown.
	put("22BB00", late, pupil("p1", late.Add(time.Hour)))
	entry("22BB00", at(2026, 1, 5, 9, 0), gateway.AuditSync, syncDetails("applied", 9, 3))
	entry("22BB00", at(2026, 3, 2, 9, 0), gateway.AuditSchoolRemove, map[string]string{"action": "offboarded"})
	entry("22BB00", late, gateway.AuditSchoolAdd, map[string]string{"action": "enrolled"})
	// 33CC00: a pupil without a change date, a purge receipt without a
	// count, and syncs that changed nothing (dry run, held, failed) after
	// one that did (2 teachers).
	put("33CC00", at(2026, 1, 1, 0, 0), pupil("p1", at(2026, 1, 2, 0, 0)), pupil("p2", time.Time{}))
	entry("33CC00", at(2026, 1, 2, 0, 0), gateway.AuditSync, syncDetails("applied", 2, 2))
	dry := syncDetails("applied", 2, 7)
	dry["dry_run"] = "true"
	entry("33CC00", at(2026, 2, 1, 0, 0), gateway.AuditSync, dry)
	entry("33CC00", at(2026, 2, 2, 0, 0), gateway.AuditSync, syncDetails("held", 2, 8))
	entry("33CC00", at(2026, 2, 3, 0, 0), gateway.AuditSync, syncDetails("failed", 0, 0))
	entry("33CC00", at(2026, 3, 10, 0, 0), gateway.AuditRetentionPurge, map[string]string{"results": "1"})
	// 44DD00: a sync entry that does not say its status or teachers.
	put("44DD00", at(2026, 1, 1, 0, 0))
	entry("44DD00", at(2026, 1, 2, 0, 0), gateway.AuditSync, map[string]string{"pupils": "3"})

	r, err := report.Breach(ctx, st, report.BreachOptions{From: from, To: to, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := map[gateway.SchoolID][4]string{ // pupils and teachers at the start, at the end
		"11AA00": {"0..0", "0..0", "1..1", "4..4"},
		"22BB00": {"0..", "3..3", "1..1", "0..0"}, // the first enrolment's 3 teachers; its pupils were deleted uncounted
		"33CC00": {"1..", "2..2", "1..2", "2..2"},
		"44DD00": {"0..0", "0..", "0..0", "0.."},
	}
	for _, s := range r.Schools {
		got := [4]string{rangeOf(s.AtStart.Pupils), rangeOf(s.AtStart.Teachers), rangeOf(s.AtEnd.Pupils), rangeOf(s.AtEnd.Teachers)}
		if got != want[s.School] {
			t.Errorf("school %s: pupils, teachers at the start and end %v, want %v", s.School, got, want[s.School])
		}
	}
	if len(r.Schools) != 4 {
		t.Errorf("%d schools", len(r.Schools))
	}
}
