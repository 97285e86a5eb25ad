package e2e_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGTERMMidSync: SIGTERM while a sync runs ends serve cleanly
// (exit 0, within the shutdown timeout) and applies nothing of that sync:
// the pupils are exactly as before and the run is recorded as failed.
func TestServeSIGTERMMidSync(t *testing.T) {
	dir := t.TempDir()
	// Every answer changes 10 pupils afterwards, so the next sync would
	// change data; each call waits 1.2 s, so the sync is on the wire when
	// SIGTERM comes.
	s := startSim(t, dir, "--pupils", "30", "--churn", "10", "--latency", "1200ms")
	g := newGateway(t, "bolt", s, "")
	before := g.must("pupils", "list", "--school", g.school, "--json")
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(g.must("token", "create", "--role", "operator", "--json")), &tok); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, g, "UWLR_SCHEDULE_ENABLED=false", "UWLR_SERVER_SHUTDOWN_TIMEOUT=10s")
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
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, srv.out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within its shutdown timeout:\n%s", srv.out.String())
	}
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
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-first.done; err != nil {
		t.Errorf("first serve after SIGTERM: %v", err)
	}
}
