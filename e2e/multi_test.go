package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// serveProc is one running `uwlr-gateway serve`.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	out  *syncBuffer
	done chan error
}

func startServe(t *testing.T, g *gw, env ...string) *serveProc {
	t.Helper()
	port := freePort(t)
	p := &serveProc{addr: fmt.Sprintf("127.0.0.1:%d", port), out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(gatewayBin, "serve")
	p.cmd.Env = append(append(append([]string{}, g.env...), env...), "UWLR_SERVER_ADDR="+p.addr)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := false
		for sc.Scan() {
			fmt.Fprintln(p.out, sc.Text())
			if !once && strings.Contains(sc.Text(), "uwlr-gateway serving on") {
				once = true
				close(ready)
			}
		}
	}()
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-p.done:
		t.Fatalf("serve exited before serving (%v):\n%s", err, p.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", p.out.String())
	}
	return p
}

// api does a GET with the operator token and decodes the JSON answer.
func api(t *testing.T, addr, token, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// nightOffset is the clock offset that puts the gateway 5 seconds before
// the end of tomorrow's 01:00-01:05 window (Europe/Amsterdam): every
// school's slot in the window has come, none is in school hours.
func nightOffset(t *testing.T) time.Duration {
	t.Helper()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(ams)
	target := time.Date(now.Year(), now.Month(), now.Day()+1, 1, 4, 55, 0, ams)
	return target.Sub(time.Now())
}

// TestMultiInstance: three serve processes on one Redis share 50 schools
// and their results. Every school is synced exactly once in the night's
// window and every result is delivered exactly once, although one instance
// is killed with SIGKILL while it syncs and another while it delivers:
// their locks expire and their pending outbox entries are taken over.
func TestMultiInstance(t *testing.T) {
	dir := t.TempDir()
	s := startSimN(t, dir, 50, "--pupils", "12", "--latency", "300ms")
	g := newGatewayOnly(t, "redis", s, "")
	// Enrol the 50 schools, grant las_exchange (the first school from
	// newGatewayOnly's own enrolment code path is not used).
	for i, c := range s.all {
		key := filepath.Join(dir, fmt.Sprintf("school%d.key", i))
		if err := os.WriteFile(key, []byte(c.Autorisatiesleutel), 0o600); err != nil {
			t.Fatal(err)
		}
		g.must("school", "add", "--brin", c.Brin, "--dependancecode", c.Dependancecode, "--endpoint", s.endpoint,
			"--klantcode", c.Klantcode, "--klantnaam", c.Klantnaam, "--key-file", key)
		g.must("consent", "set", "--school", c.Brin+c.Dependancecode, "--processing", "las_exchange", "--grant", "--by", "e2e")
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(g.must("token", "create", "--role", "operator", "--name", "e2e", "--json")), &tok); err != nil {
		t.Fatal(err)
	}
	env := []string{fmt.Sprintf("UWLR_SCHEDULE_CLOCK_OFFSET=%ds", int(nightOffset(t).Seconds())),
		"UWLR_SCHEDULE_WINDOW_START=01:00", "UWLR_SCHEDULE_WINDOW_END=01:05", "UWLR_SCHEDULE_TICK=500ms",
		"UWLR_SCHEDULE_LOCK_TTL=3s", "UWLR_SCHEDULE_CAP_STANDARD=6", "UWLR_SERVER_SHUTDOWN_TIMEOUT=10s", "UWLR_LOG_LEVEL=warn"}
	g.env = append(g.env, env...) // CLI runs share the clock
	var procs []*serveProc
	for range 3 {
		procs = append(procs, startServe(t, g))
	}
	// Kill one instance while it syncs (each sync waits 300 ms on las-sim),
	// at a moment it holds sync locks.
	rdb := redisClient(t)
	killedPid := procs[0].cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for locksOwnedBy(t, rdb, g.prefix, killedPid) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("instance 1 never held a sync lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[0].done
	heldByDead := locksOwnedBy(t, rdb, g.prefix, killedPid)
	if heldByDead == 0 {
		t.Fatal("instance 1 held no sync lock when it was killed: the test proves nothing")
	}

	type schoolList struct {
		Schools []struct {
			ID           string     `json:"id"`
			LastPulledAt *time.Time `json:"last_pulled_at"`
		} `json:"schools"`
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		var l schoolList
		api(t, procs[1].addr, tok.Token, "/api/v1/schools", &l)
		synced := 0
		for _, sc := range l.Schools {
			if sc.LastPulledAt != nil {
				synced++
			}
		}
		if synced == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s only %d of 50 schools were synced\n--- instance 2:\n%s\n--- instance 3:\n%s", synced, procs[1].out.String(), procs[2].out.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Exactly once: one successful run per school in the window.
	var l schoolList
	api(t, procs[2].addr, tok.Token, "/api/v1/schools", &l)
	for _, sc := range l.Schools {
		var h struct {
			Runs []struct {
				Status string `json:"status"`
			} `json:"runs"`
		}
		api(t, procs[2].addr, tok.Token, "/api/v1/schools/"+sc.ID+"/syncs?limit=50", &h)
		ok := 0
		for _, r := range h.Runs {
			if r.Status == "applied" || r.Status == "unchanged" {
				ok++
			}
		}
		if ok != 1 {
			t.Errorf("school %s: %d successful syncs (%v), want exactly 1", sc.ID, ok, h.Runs)
		}
	}

	// Results: 12 per school, delivered by the two instances left; one of
	// them is killed mid-delivery.
	var keys []string
	for _, c := range s.all {
		id := c.Brin + c.Dependancecode
		var ps []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", id, "--json")), &ps); err != nil {
			t.Fatal(err)
		}
		var recs []string
		for i, p := range ps {
			k := fmt.Sprintf("m-%s-%02d", id, i)
			keys = append(keys, k)
			recs = append(recs, fmt.Sprintf(`{"key": %q, "pupil_id": %q, "test": "REK", "date": "2025-11-20", "score": %d}`, k, p.ID, i))
		}
		f := filepath.Join(dir, "results-"+id+".json")
		doc := fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [%s]}`, id, strings.Join(recs, ","))
		if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		g.must("results", "submit", "--file", f)
	}
	// Kill the second instance while it holds outbox entries.
	victim := fmt.Sprintf("-%d-", procs[1].cmd.Process.Pid)
	for pendingFor(t, rdb, g.prefix, victim) == 0 && time.Now().Before(deadline.Add(time.Minute)) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := procs[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[1].done
	orphans := pendingFor(t, rdb, g.prefix, victim)
	if orphans == 0 {
		t.Fatal("instance 2 held no outbox entry when it was killed: the test proves nothing")
	}
	deadline = time.Now().Add(90 * time.Second)
	for len(s.intake(t).taken) < len(keys) && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	in := s.intake(t)
	g.results = keys
	g.wantExactlyOnce(in)
	// Settled in the store too: nothing stuck in sent or queued.
	for _, sc := range l.Schools {
		var rs struct {
			Counts map[string]int `json:"counts"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			api(t, procs[2].addr, tok.Token, "/api/v1/schools/"+sc.ID+"/results", &rs)
			if rs.Counts["accepted"] == 12 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if rs.Counts["accepted"] != 12 {
			t.Errorf("school %s receipts %v, want 12 accepted", sc.ID, rs.Counts)
		}
	}
	if err := procs[2].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-procs[2].done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, procs[2].out.String())
		}
	case <-time.After(20 * time.Second):
		t.Error("serve did not stop within 20 s of SIGTERM")
	}
	g.must("audit", "verify")
	if n := pendingFor(t, rdb, g.prefix, victim); n != 0 {
		t.Errorf("%d outbox entries are still pending for the killed instance", n)
	}
	t.Logf("50 schools synced once each by 3 instances (one killed holding %d sync locks); %d results delivered once (one more killed holding %d outbox entries, taken over); las-sim saw %d resends",
		heldByDead, len(keys), orphans, in.resent)
}

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// locksOwnedBy counts the schools whose sync lock names the process pid as
// owner (owners are "<host>-<pid>").
func locksOwnedBy(t *testing.T, rdb *redis.Client, prefix string, pid int) int {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"{*}:lock").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		owner, _ := rdb.HGet(ctx, k, "owner").Result()
		if strings.HasSuffix(owner, fmt.Sprintf("-%d", pid)) {
			n++
		}
	}
	return n
}

// pendingFor counts the outbox stream entries delivered to consumers whose
// name contains part and not acknowledged.
func pendingFor(t *testing.T, rdb *redis.Client, prefix, part string) int {
	t.Helper()
	ps, err := rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{Stream: prefix + "outbox:stream", Group: "delivery",
		Start: "-", End: "+", Count: 10000}).Result()
	if err != nil && !strings.Contains(err.Error(), "NOGROUP") {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		if strings.Contains(p.Consumer, part) {
			n++
		}
	}
	return n
}
