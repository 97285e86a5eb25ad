package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// retentionRules are the rules every `retention run --json` lists, in order.
var retentionRules = []string{"pupil_left", "results_of_pupil", "trial_result", "evidence", "batch_without_results", "held_batch",
	"held_batch_results", "login_record", "audit_personal", "sync_run_texts", "connection_check_text", "batch_reason", "stale_school"}

// TestRetentionStaleSchoolE2E: a school whose las_exchange is revoked is no
// longer refreshed. `retention run --dry-run --json` lists every rule with
// what it would do: mark the current pupils left as of the last sync. Two
// years after that sync a run purges them, deletes the personal part of
// the audit entries of then (who granted the consent), and the audit log
// still verifies and shows "(expired)" where the name was.
func TestRetentionStaleSchoolE2E(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	s := e.enrol(20)
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")
	if m := e.syncSchool(s, 0); m["status"] != "applied" {
		t.Fatalf("sync: %v", m)
	}
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--revoke", "--by", "Alice Admin")
	today := time.Now().In(amsterdamLoc(t))

	run := func(args ...string) retentionReceipt { t.Helper(); return runRetentionJSON(t, e, args...) }
	count := func(rc retentionReceipt, name string) int {
		t.Helper()
		for _, r := range rc.Rules {
			if r.Rule == name {
				return r.Count
			}
		}
		t.Fatalf("no rule %s in %+v", name, rc.Rules)
		return 0
	}
	dry := run("--dry-run")
	var names []string
	for _, r := range dry.Rules {
		names = append(names, r.Rule)
	}
	if !slices.Equal(names, retentionRules) {
		t.Errorf("rules %v, want %v", names, retentionRules)
	}
	if !dry.DryRun || dry.MarkedLeft != 20 || count(dry, "stale_school") != 20 || len(dry.Schools) != 1 ||
		dry.Schools[0].Stale != "las_exchange not granted" || dry.Schools[0].LeftAsOf != today.Format(time.DateOnly) {
		t.Errorf("dry run: %+v", dry)
	}
	if ps, _ := e.pupils(s); len(ps) != 20 || ps[0].LeftOn != "" {
		t.Errorf("the dry run marked pupils: %+v", ps)
	}
	if rc := run(); rc.MarkedLeft != 20 {
		t.Errorf("run: %+v", rc)
	}
	if ps, _ := e.pupils(s); len(ps) != 20 || ps[0].LeftOn != today.Format(time.DateOnly) {
		t.Errorf("after the run: %+v", ps)
	}

	later := today.AddDate(2, 0, 1).Format(time.DateOnly)
	rc := run("--now", later)
	if rc.Pupils != 20 || count(rc, "pupil_left") != 20 || rc.AuditPersonal == 0 || !rc.Compacted {
		t.Errorf("run two years on: %+v", rc)
	}
	if ps, _ := e.pupils(s); len(ps) != 0 {
		t.Errorf("pupils two years on: %d", len(ps))
	}
	e.must(0, "audit", "verify")
	out, _ := e.must(0, "audit", "show", "--school", s.id, "--limit", "0")
	if strings.Contains(out, "Alice Admin") || !strings.Contains(out, "(expired)") {
		t.Errorf("audit show two years on:\n%s", out)
	}
	out, _ = e.must(0, "retention", "run", "--now", later, "--dry-run")
	if !strings.Contains(out, "stale_school") || !strings.Contains(out, "pupil_left") {
		t.Errorf("retention run (text) lists no rules:\n%s", out)
	}
}

// retentionReceipt is what the tests read of `retention run --json`.
type retentionReceipt struct {
	DryRun     bool   `json:"dry_run"`
	Cutoff     string `json:"cutoff"`
	TextCutoff string `json:"text_cutoff"`
	Pupils     int    `json:"pupils"`
	MarkedLeft int    `json:"marked_left"`
	Compacted  bool   `json:"compacted"`
	Schools    []struct {
		School     string `json:"school"`
		Stale      string `json:"stale"`
		LeftAsOf   string `json:"left_as_of"`
		MarkedLeft int    `json:"marked_left"`
	} `json:"schools"`
	AuditPersonal int `json:"audit_personal"`
	Rules         []struct {
		Rule       string `json:"rule"`
		Action     string `json:"action"`
		Count      int    `json:"count"`
		OnOrBefore string `json:"on_or_before"`
	} `json:"rules"`
}

func runRetentionJSON(t *testing.T, e *e2eEnv, args ...string) retentionReceipt {
	t.Helper()
	out, _ := e.must(0, append([]string{"retention", "run", "--json"}, args...)...)
	var rc retentionReceipt
	if err := json.Unmarshal([]byte(out), &rc); err != nil {
		t.Fatalf("retention run --json: %v\n%s", err, out)
	}
	return rc
}

func amsterdamLoc(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
