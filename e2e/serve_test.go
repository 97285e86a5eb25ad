package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// TestServeSIGTERMMidSync: SIGTERM while a sync runs ends serve cleanly
// (exit 0, its work ended within the shutdown timeout) and applies nothing
// of that sync: the pupils are exactly as before and the run is recorded
// as failed. SIGTERM comes while the sync's first request waits at a gate
// in front of las-sim, so the sync is on the wire however slow the
// machine.
func TestServeSIGTERMMidSync(t *testing.T) {
	dir := t.TempDir()
	// Every answer changes 10 pupils afterwards, so the next sync would
	// change data.
	s := startSim(t, dir, "--pupils", "30", "--churn", "10")
	lg := s.gate(t)
	g := newGateway(t, "bolt", s, "")
	before := g.must("pupils", "list", "--school", g.school, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(g.must("token", "create", "--role", "operator", "--json")), &tok); err != nil {
		t.Fatal(err)
	}
	// The held request must end by SIGTERM, not by the LAS timeout.
	srv := startServe(t, g, "UWLR_SCHEDULE_ENABLED=false", "UWLR_SERVER_SHUTDOWN_TIMEOUT=10s", "UWLR_LAS_TIMEOUT=5m", "UWLR_DELIVERY_LEASE=6m")
	lg.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/api/v1/schools/"+g.school+"/syncs", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sync now: %d", resp.StatusCode)
	}
	observe.WaitFor(t, "the sync's first request on the wire", func() (bool, string) {
		_, _, waiting := lg.Counts()
		return waiting > 0, lg.String()
	})
	stopServe(t, srv)
	after := g.must("pupils", "list", "--school", g.school, "--json")
	var hist []struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(g.must("sync", "history", "--school", g.school, "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Status != "failed" {
		t.Fatalf("sync history %v: want the interrupted run recorded as failed", hist)
	}
	if after != before {
		t.Fatal("an interrupted sync changed the pupils")
	}
	g.must("audit", "verify")
}

// TestServeEmbeddedStoreRefusesSecondProcess: a second serve on the same
// data dir stops at once with a clear message; the first keeps serving.
func TestServeEmbeddedStoreRefusesSecondProcess(t *testing.T) {
	dir := t.TempDir()
	s := startSim(t, dir, "--pupils", "10")
	g := newGateway(t, "bolt", s, "")
	first := startServe(t, g, "UWLR_SCHEDULE_ENABLED=false")
	code, _, stderr := g.run("serve")
	if code != 1 || !strings.Contains(stderr, "data dir is in use by another uwlr-gateway process") {
		t.Fatalf("second serve: exit %d, stderr %q", code, stderr)
	}
	resp, err := http.Get("http://" + first.addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the first serve is not ready after the refusal: %v %v", resp, err)
	}
	resp.Body.Close()
	stopServe(t, first)
}
