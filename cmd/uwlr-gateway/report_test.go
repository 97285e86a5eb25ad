package main

// `report breach --incident`, on each store: the facts of the file in the
// report, the contact person, the counts at the window's ends; a bad
// incident file is a usage error naming the field.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBreachReportIncidentE2E(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			s := e.enrol(20)
			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")
			if m := e.syncSchool(s, 0); m["status"] != "applied" {
				t.Fatalf("sync: %v", m)
			}
			e.must(0, "school", "contact", "set", "--school", s.id, "--name", "Bea de Beheerder", "--email", "bea@school.example")
			now := time.Now()
			from, to := now.AddDate(0, 0, -1).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
			incident := writeFile(t, "incident.json", fmt.Sprintf(`{
				"discovered_at": %q, "nature": ["copy"], "component": "the backup disk",
				"how": "left unencrypted", "cause": "a skipped step", "detection": "an audit",
				"measures": "disk wiped", "consequences": "names known to others", "risk": "low",
				"reporter": "P. Privacy"}`, now.Add(-time.Minute).Format(time.RFC3339)))

			out, _ := e.must(0, "report", "breach", "--from", from, "--to", to, "--incident", incident, "--format", "json")
			var r struct {
				Duration struct{ Seconds int64 } `json:"duration"`
				Incident map[string]any          `json:"incident"`
				Schools  []struct {
					School  string
					Pupils  int
					Contact *struct{ Name, Email string }
					AtStart struct {
						Pupils struct {
							AtLeast int  `json:"at_least"`
							AtMost  *int `json:"at_most"`
						}
					} `json:"at_start"`
					AtEnd struct {
						Pupils struct {
							AtLeast int  `json:"at_least"`
							AtMost  *int `json:"at_most"`
						}
					} `json:"at_end"`
				}
				SpecialCategories struct{ Held bool } `json:"special_categories"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("report breach --format json: %v\n%s", err, out)
			}
			if r.Duration.Seconds != 48*3600 && r.Duration.Seconds != 47*3600 && r.Duration.Seconds != 49*3600 { // a DST change may fall in
				t.Errorf("duration %d s", r.Duration.Seconds)
			}
			if r.Incident["cause"] != "a skipped step" || r.Incident["reporter"] != "P. Privacy" || fmt.Sprint(r.Incident["not_given"]) != "[]" {
				t.Errorf("incident %v", r.Incident)
			}
			if len(r.Schools) != 1 || r.Schools[0].Contact == nil || r.Schools[0].Contact.Email != "bea@school.example" || r.SpecialCategories.Held {
				t.Fatalf("report: %+v", r)
			}
			sc := r.Schools[0]
			// Enrolled and synced in the window: none at its start, all at its end.
			if sc.AtStart.Pupils.AtMost == nil || *sc.AtStart.Pupils.AtMost != 0 || sc.AtEnd.Pupils.AtLeast != sc.Pupils || sc.Pupils == 0 {
				t.Errorf("pupils at the start %+v, at the end %+v, now %d", sc.AtStart.Pupils, sc.AtEnd.Pupils, sc.Pupils)
			}
			md, _ := e.must(0, "report", "breach", "--from", from, "--to", to, "--incident", incident, "--school", s.id)
			for _, want := range []string{"- Nature: copy\n", "### Cause\n\na skipped step\n", "- Contact person: Bea de Beheerder, bea@school.example",
				"Every fact of the notification is given.", "- Special categories of personal data: None."} {
				if !strings.Contains(md, want) {
					t.Errorf("the Markdown lacks %q", want)
				}
			}
			// Without --incident, as before: every fact not given.
			if md, _ := e.must(0, "report", "breach", "--from", from, "--to", to); !strings.Contains(md, "- Discovered: not given\n") {
				t.Errorf("without --incident:\n%s", md)
			}

			// Bad incident files: exit 2 naming the field; an unreadable one exit 1.
			for _, tt := range []struct{ file, msg string }{
				{`{"cause": "x", "severity": "high"}`, "severity: is not a known key"},
				{`{"nature": ["read", "leak"]}`, "nature[1]: must be one of read, copy, alter, delete, theft"},
				{`{"discovered_at": "last Tuesday"}`, "discovered_at: must be an RFC 3339"},
				{`{"discovered_at": "` + now.Add(time.Hour).Format(time.RFC3339) + `"}`, "discovered_at: lies after the time of the report"},
				{`{"cause": `, "not JSON"},
			} {
				code, stdout, stderr := e.run("report", "breach", "--from", from, "--to", to, "--incident", writeFile(t, "bad.json", tt.file))
				if code != 2 || !strings.Contains(stderr, tt.msg) || stdout != "" {
					t.Errorf("incident %s: exit %d, stderr %q; want 2 saying %q and no report", tt.file, code, stderr, tt.msg)
				}
			}
			if code, _, stderr := e.run("report", "breach", "--from", from, "--to", to, "--incident", "/nonexistent/incident.json"); code != 1 {
				t.Errorf("an unreadable incident file: exit %d, %s", code, stderr)
			}
			out, _ = e.must(0, "audit", "show", "--gateway", "--json")
			if n := strings.Count(out, `"report.breach"`); n != 3 || !strings.Contains(out, `"incident": "given"`) || strings.Contains(out, "skipped step") {
				t.Errorf("audit: %d report.breach entries (want 3: refused reports are not recorded), or a fact in the log:\n%s", n, out)
			}
		})
	}
}
