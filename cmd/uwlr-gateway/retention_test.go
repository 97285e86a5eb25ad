package main

// End-to-end flows of `retention run` and `report breach`, on each store:
// pupils leave the simulated LAS, a sync marks them left, and a retention
// run dated two years later purges them; a breach report is written to
// stdout and to a file. Both commands are registered in root.go.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRetentionAndBreachReportE2E(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			// The runs below are dated two years on without a sync in
			// between: with the default retention.stale_after (a school
			// year) the school would count as no longer refreshed and
			// every pupil would go (TestRetentionStaleSchoolE2E).
			appendConfig(t, e, "retention:\n  stale_after: 26280h\n")
			s := e.enrol(40)
			secrets := collectSecrets(t, s.las)
			n := len(s.las.world.Schools[0].Pupils())
			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")
			if m := e.syncSchool(s, 0); m["status"] != "applied" {
				t.Fatalf("first sync: %v", m)
			}
			gone := removeShare(s.las, 0.05) // below the 10% that holds a sync
			if m := e.syncSchool(s, 0); m["status"] != "applied" || num(t, m, "left") != len(gone) || len(gone) == 0 {
				t.Fatalf("sync after %d left: %v", len(gone), m)
			}

			loc, err := time.LoadLocation("Europe/Amsterdam")
			if err != nil {
				t.Fatal(err)
			}
			today := time.Now().In(loc)
			early := today.AddDate(2, 0, -1).Format(time.DateOnly) // the left pupils are still kept
			late := today.AddDate(2, 0, 1).Format(time.DateOnly)   // they have expired

			type receipt struct {
				DryRun  bool   `json:"dry_run"`
				Today   string `json:"today"`
				Schools []struct {
					School string `json:"school"`
					Pupils int    `json:"pupils"`
				} `json:"schools"`
				Pupils int `json:"pupils"`
			}
			runJSON := func(args ...string) receipt {
				t.Helper()
				out, _ := e.must(0, append([]string{"retention", "run", "--json"}, args...)...)
				var rc receipt
				if err := json.Unmarshal([]byte(out), &rc); err != nil {
					t.Fatalf("retention run --json: %v\n%s", err, out)
				}
				return rc
			}
			if rc := runJSON("--now", early); rc.Pupils != 0 || rc.Today != early {
				t.Errorf("retention run --now %s: %+v, want nothing purged", early, rc)
			}
			rc := runJSON("--dry-run", "--now", late)
			if !rc.DryRun || rc.Pupils != len(gone) || len(rc.Schools) != 1 || rc.Schools[0].School != s.id {
				t.Errorf("dry run: %+v, want %d pupils", rc, len(gone))
			}
			if ps, _ := e.pupils(s); len(ps) != n {
				t.Errorf("after the dry run: %d pupils, want %d", len(ps), n)
			}
			if rc := runJSON("--now", late+"T12:00:00+01:00"); rc.DryRun || rc.Pupils != len(gone) {
				t.Errorf("retention run: %+v, want %d pupils purged", rc, len(gone))
			}
			ps, _ := e.pupils(s)
			if len(ps) != n-len(gone) {
				t.Errorf("after the run: %d pupils, want %d", len(ps), n-len(gone))
			}
			for _, p := range ps {
				if gone[p.LASKey] || p.LeftOn != "" {
					t.Errorf("pupil %s (left %q) was not purged", p.ID, p.LeftOn)
				}
			}
			out, _ := e.must(0, "retention", "run", "--now", late)
			if !strings.Contains(out, "1 of 1 schools: nothing to purge") || !strings.Contains(out, "total: purged 0 pupils") {
				t.Errorf("second run:\n%s", out)
			}
			if code, _, stderr := e.run("retention", "run", "--now", "next year"); code != exitUsage || !strings.Contains(stderr, "--now") {
				t.Errorf("bad --now: exit %d, %s", code, stderr)
			}

			// The breach report, as JSON on stdout.
			from, to := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
			out, _ = e.must(0, "report", "breach", "--from", from, "--to", to, "--format", "json")
			var r struct {
				Scope   string `json:"scope"`
				Schools []struct {
					School     string `json:"school"`
					Pupils     int    `json:"pupils"`
					PupilsLeft int    `json:"pupils_left"`
					Audit      map[string]int
					Categories []struct {
						Name      string `json:"name"`
						Encrypted bool   `json:"encrypted_at_rest"`
					} `json:"categories"`
				} `json:"schools"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("report breach --format json: %v\n%s", err, out)
			}
			if r.Scope != "all" || len(r.Schools) != 1 || r.Schools[0].Pupils != n-len(gone) || r.Schools[0].PupilsLeft != 0 {
				t.Errorf("breach report: %+v", r)
			}
			if a := r.Schools[0].Audit; a["sync"] < 2 || a["consent.change"] != 1 || a["retention.purge"] < 1 {
				t.Errorf("audit entries in the window: %v", a)
			}
			eck := false
			for _, c := range r.Schools[0].Categories {
				eck = eck || (c.Name == "pupil_eckid" && c.Encrypted)
			}
			if !eck {
				t.Errorf("categories %+v: want sealed pupil ECK iDs", r.Schools[0].Categories)
			}

			// As Markdown, to a private file.
			file := filepath.Join(t.TempDir(), "breach.md")
			out, _ = e.must(0, "report", "breach", "--from", from, "--to", to, "--school", s.id, "--out", file)
			if !strings.Contains(out, file) {
				t.Errorf("report breach --out: %q", out)
			}
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("report file mode %v, want 0600", fi.Mode().Perm())
			}
			md, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(md), "# Data breach notification") || !strings.Contains(string(md), "- Scope: school "+s.id) {
				t.Errorf("report file:\n%s", md)
			}
			if l := secrets.leaks(md, true); len(l) > 0 {
				t.Errorf("the report file holds %v", l)
			}

			for _, bad := range [][]string{
				{"report", "breach", "--from", to, "--to", from},
				{"report", "breach", "--from", from},
				{"report", "breach", "--from", "yesterday", "--to", to},
				{"report", "breach", "--from", from, "--to", to, "--format", "pdf"},
			} {
				if code, _, _ := e.run(bad...); code != exitUsage {
					t.Errorf("%s: exit %d, want %d", strings.Join(bad, " "), code, exitUsage)
				}
			}
			if code, _, stderr := e.run("report", "breach", "--from", from, "--to", to, "--school", "99ZZ00"); code != exitFailure || !strings.Contains(stderr, "not enrolled") {
				t.Errorf("unknown school: exit %d, %s", code, stderr)
			}

			// Nothing any of these commands printed holds a secret or a birth date.
			if l := secrets.leaks([]byte(e.outputs.String()), true); len(l) > 0 {
				t.Errorf("the command output holds %d secret values, e.g. %v", len(l), l[:min(3, len(l))])
			}
		})
	}
}

// appendConfig adds lines to the configuration file of e.
func appendConfig(t *testing.T, e *e2eEnv, lines string) {
	t.Helper()
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
