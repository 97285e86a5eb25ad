package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// resultsFile writes a results file for the school's pupils: one result per
// pupil (by LAS key), with score(i) as the JSON score text.
func resultsFile(t *testing.T, e *e2eEnv, s *e2eSchool, date string, score func(i int) string) string {
	t.Helper()
	ps, _ := e.pupils(s)
	var recs []string
	for i, p := range ps {
		recs = append(recs, fmt.Sprintf(`{"las_key": %q, "test": "REK", "date": %q, "score": %s}`, p.LASKey, date, score(i)))
	}
	return writeFile(t, "results-"+date+".json", fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [%s]}`,
		s.id, strings.Join(recs, ",")))
}

func statusCounts(t *testing.T, e *e2eEnv, s *e2eSchool) map[string]int {
	t.Helper()
	out, _ := e.must(0, "results", "status", "--school", s.id, "--json")
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	return st.Counts
}

// TestResultsReceiverProfile: a school's results can also go to another
// receiver than its LAS endpoint (a dashboards recipient), with its own key
// and score typing.
func TestResultsReceiverProfile(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	s := e.enrol(20)
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "admin", "--instruction", "signed instruction 2026-1")
	e.syncSchool(s, 0)
	// A second simulated system with the same school (same seed): the
	// results-only receiver.
	var rsim *lassim.Sim
	recv := startLAS(t, "standard", 20, func(x *lassim.Sim) { rsim = x })
	recvKey := writeFile(t, "receiver.key", recv.creds.Autorisatiesleutel)

	// Integer receiver (the default): a decimal score is refused at intake.
	dec := resultsFile(t, e, s, "2025-10-01", func(i int) string { return fmt.Sprintf("%d.5", i) })
	if out, _ := e.must(2, "results", "submit", "--file", dec); !strings.Contains(out, "results[0].score") || !strings.Contains(out, "nothing was stored") {
		t.Errorf("a decimal score for an integer receiver: %s", out)
	}
	if c := statusCounts(t, e, s); len(c) != 0 && c["queued"]+c["held"] != 0 {
		t.Errorf("a refused file stored results: %v", c)
	}

	// A receiver at another endpoint is a third party: it needs its own
	// key and is a dashboards recipient, sent to only while dashboards is
	// granted.
	if _, out := e.must(2, "school", "receiver", "set", "--school", s.id, "--endpoint", recv.endpoint); !strings.Contains(out, "own autorisatiesleutel") {
		t.Errorf("a receiver elsewhere without its own key: %s", out)
	}
	e.must(0, "school", "receiver", "set", "--school", s.id, "--endpoint", recv.endpoint, "--key-file", recvKey)
	if out, _ := e.must(0, "school", "show", "--school", s.id); !strings.Contains(out, "recipient results-receiver (dashboards, uwlr) "+recv.endpoint) {
		t.Errorf("school show does not name the receiver: %s", out)
	}
	e.must(0, "results", "submit", "--file", resultsFile(t, e, s, "2025-10-02", func(i int) string { return fmt.Sprint(i) }))
	e.must(0, "deliver")
	if n := rsim.Calls(uwlr.OpBrengLeerresultaten.Name); n != 0 {
		t.Fatalf("without dashboards the receiver got %d requests", n)
	}
	e.must(0, "consent", "set", "--school", s.id, "--processing", "dashboards", "--grant", "--by", "admin", "--instruction", "signed instruction 2026-2")
	e.must(0, "deliver")
	if n := rsim.Calls(uwlr.OpBrengLeerresultaten.Name); n == 0 {
		t.Fatal("the receiver got no BrengLeerresultaten")
	}
	if c := statusCounts(t, e, s); c["accepted"] != 20 {
		t.Fatalf("receipts %v, want 20 accepted", c)
	}

	// A decimal receiver: the intake takes 6.5 and the request carries it
	// as given (las-sim, an integer receiver, then refuses it: the fault
	// proves the score went out unchanged).
	e.must(0, "school", "receiver", "set", "--school", s.id, "--endpoint", recv.endpoint, "--key-file", recvKey, "--score-type", "decimal")
	e.must(0, "results", "submit", "--file", dec)
	e.must(0, "deliver")
	out, _ := e.must(0, "results", "status", "--school", s.id, "--state", "rejected", "--json")
	if !strings.Contains(out, "Client.ScoreOngeldig") || !strings.Contains(out, `"state": "rejected"`) {
		t.Fatalf("decimal scores to an integer system: %s", out)
	}

	// Cleared: results go to the LAS endpoint again.
	before := rsim.Calls(uwlr.OpBrengLeerresultaten.Name)
	e.must(0, "school", "receiver", "clear", "--school", s.id)
	e.must(0, "results", "submit", "--file", resultsFile(t, e, s, "2025-10-03", func(i int) string { return fmt.Sprint(i + 1) }))
	e.must(0, "deliver")
	if n := rsim.Calls(uwlr.OpBrengLeerresultaten.Name); n != before {
		t.Errorf("after clear the receiver got %d more requests", n-before)
	}
	if c := statusCounts(t, e, s); c["accepted"] != 40 {
		t.Errorf("receipts %v, want 40 accepted", c)
	}
}

// TestAuditVerifyFindsTampering: an audit entry edited in Redis, or the
// personal part kept beside it (who made the change), makes `audit verify`
// fail and name it.
func TestAuditVerifyFindsTampering(t *testing.T) {
	e := newE2EEnv(t, "redis")
	s := e.enrol(10)
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "admin", "--instruction", "signed instruction 2026-1")
	e.syncSchool(s, 0)
	e.must(0, "audit", "verify")
	ctx := context.Background()
	chain := e.prefix + "audit:{school/" + s.id + "}:"
	part, err := e.rdb.HGet(ctx, chain+"personal", "2").Result()
	if err != nil || !strings.Contains(part, `"admin (cli`) {
		t.Fatalf("personal part of seq 2: %q, %v; want the actor admin", part, err)
	}
	if err := e.rdb.HSet(ctx, chain+"personal", "2", strings.Replace(part, `"admin (cli`, `"mallory (cli`, 1)).Err(); err != nil {
		t.Fatal(err)
	}
	out, _ := e.must(1, "audit", "verify")
	if !strings.Contains(out, "personal") || !strings.Contains(out, "school/"+s.id) {
		t.Fatalf("audit verify after an edit of a personal part: %s", out)
	}
	if err := e.rdb.HSet(ctx, chain+"personal", "2", part).Err(); err != nil {
		t.Fatal(err)
	}
	e.must(0, "audit", "verify")

	entry, err := e.rdb.LIndex(ctx, chain+"log", 1).Result()
	if err != nil {
		t.Fatalf("LINDEX: %v", err)
	}
	forged := strings.Replace(entry, `"las_exchange"`, `"research"`, 1)
	if forged == entry {
		t.Fatalf("entry %s has no processing to change", entry)
	}
	if err := e.rdb.LSet(ctx, chain+"log", 1, forged).Err(); err != nil {
		t.Fatal(err)
	}
	out, _ = e.must(1, "audit", "verify")
	if !strings.Contains(out, "edited") || !strings.Contains(out, "school/"+s.id) {
		t.Fatalf("audit verify after an edit: %s", out)
	}
}
