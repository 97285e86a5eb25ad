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
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
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
	case <-time.After(observe.Patience):
		t.Fatalf("serve did not start within %v:\n%s", observe.Patience, p.out.String())
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

// nightOffset is the clock offset that puts the gateway one minute before
// the end of tomorrow's 01:00-01:05 window (Europe/Amsterdam): every
// school's start time in the window has come (the last possible one is a
// minute before the window closes), none is in school hours, and the
// window stays open for the longest time the schedule allows once all
// schools are due, 60 s, to start every sync (and again those of a killed
// instance).
func nightOffset(t *testing.T) time.Duration {
	t.Helper()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(ams)
	target := time.Date(now.Year(), now.Month(), now.Day()+1, 1, 4, 0, 0, ams)
	return target.Sub(time.Now())
}

// TestMultiInstance: three serve processes on one Redis share 50 schools
// and their results. Every school is synced exactly once in the night's
// window and every result is delivered exactly once, although one instance
// is killed with SIGKILL while it holds sync locks and another while it
// holds outbox entries: their locks expire and their pending outbox
// entries are taken over. Both kills come at an observed state (the
// process is stopped, found holding, then killed), never at a time.
func TestMultiInstance(t *testing.T) {
	dir := t.TempDir()
	s := startSimN(t, dir, 50, "--pupils", "12", "--latency", "300ms")
	lg := s.gate(t)
	g := newGatewayOnly(t, "redis", s, "")
	g.quickRetries() // the killed instances' locks and leases run out
	token := enrolAll(t, g, dir)
	env := []string{fmt.Sprintf("UWLR_SCHEDULE_CLOCK_OFFSET=%ds", int(nightOffset(t).Seconds())),
		"UWLR_SCHEDULE_WINDOW_START=01:00", "UWLR_SCHEDULE_WINDOW_END=01:05", "UWLR_SCHEDULE_TICK=500ms",
		"UWLR_SCHEDULE_LOCK_TTL=3s", "UWLR_SCHEDULE_CAP_STANDARD=6", "UWLR_SERVER_SHUTDOWN_TIMEOUT=10s", "UWLR_LOG_LEVEL=warn",
		// Requests held at the closed gate time out and are retried: they
		// must not become dead letters.
		"UWLR_DELIVERY_MAX_ATTEMPTS=1000"}
	g.env = append(g.env, env...) // CLI runs share the clock
	// The first instance syncs alone at first; it is killed as soon as it
	// is found holding sync locks (its syncs wait 300 ms on las-sim), and
	// the two others, started after, must take its schools over.
	rdb := redisClient(t)
	first := startServe(t, g)
	heldByDead := freezeAndKill(t, first.cmd.Process.Pid, "instance 1 to hold a sync lock", func() int {
		return locksOwnedBy(t, rdb, g.prefix, first.cmd.Process.Pid)
	})
	<-first.done
	procs := []*serveProc{first, startServe(t, g), startServe(t, g)}
	schools := waitAllSynced(t, procs[1], procs[2], token)
	for _, id := range schools {
		wantSyncedOnce(t, procs[2], token, id)
	}

	// Results: 12 per school, delivered by the two instances left; one of
	// them is killed while it holds outbox entries, after the first
	// school's results arrived and before the others could.
	keys := submitSchool(t, g, dir, s.all[0])
	observe.WaitFor(t, "the first school's results at las-sim", func() (bool, string) {
		n := s.progress(t).taken
		return n >= len(keys), fmt.Sprintf("it has %d", n)
	})
	lg.Close()
	for _, c := range s.all[1:6] {
		keys = append(keys, submitSchool(t, g, dir, c)...)
	}
	victim := fmt.Sprintf("-%d-", procs[1].cmd.Process.Pid)
	orphans := freezeAndKill(t, procs[1].cmd.Process.Pid, "instance 2 to hold outbox entries", func() int {
		return pendingFor(t, rdb, g.prefix, victim)
	})
	<-procs[1].done
	if atKill := s.progress(t).taken; atKill >= len(keys) {
		t.Fatalf("las-sim had all %d results when instance 2 was killed: not mid-delivery", atKill)
	}
	lg.Open()
	for _, c := range s.all[6:] {
		keys = append(keys, submitSchool(t, g, dir, c)...)
	}
	g.results = keys
	observe.WaitFor(t, fmt.Sprintf("all %d results at las-sim", len(keys)), func() (bool, string) {
		n := s.progress(t).taken
		return n >= len(keys), fmt.Sprintf("it has %d", n)
	})
	in := s.intake(t)
	g.wantExactlyOnce(in)
	for _, id := range schools {
		wantSettled(t, procs[2], token, id, 12)
	}
	stopServe(t, procs[2])
	g.must("audit", "verify")
	if n := pendingFor(t, rdb, g.prefix, victim); n != 0 {
		t.Errorf("%d outbox entries are still pending for the killed instance", n)
	}
	t.Logf("50 schools synced once each by 3 instances (one killed holding %d sync locks); %d results delivered once (one more killed holding %d outbox entries, taken over); las-sim saw %d resends",
		heldByDead, len(keys), orphans, in.resent)
}

// enrolAll enrols every simulated school with las_exchange granted and
// returns an operator token.
func enrolAll(t *testing.T, g *gw, dir string) string {
	t.Helper()
	for i, c := range g.sim.all {
		key := filepath.Join(dir, fmt.Sprintf("school%d.key", i))
		if err := os.WriteFile(key, []byte(c.Autorisatiesleutel), 0o600); err != nil {
			t.Fatal(err)
		}
		g.must("school", "add", "--brin", c.Brin, "--dependancecode", c.Dependancecode, "--endpoint", g.sim.endpoint,
			"--klantcode", c.Klantcode, "--klantnaam", c.Klantnaam, "--key-file", key)
		g.must("consent", "set", "--school", c.Brin+c.Dependancecode, "--processing", "las_exchange", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-1")
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(g.must("token", "create", "--role", "operator", "--name", "e2e", "--json")), &tok); err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// waitAllSynced waits until every school has been pulled and returns the
// school ids.
func waitAllSynced(t *testing.T, p, other *serveProc, token string) []string {
	t.Helper()
	var ids []string
	observe.WaitFor(t, "every school to be synced in the window", func() (bool, string) {
		var l struct {
			Schools []struct {
				ID           string     `json:"id"`
				LastPulledAt *time.Time `json:"last_pulled_at"`
			} `json:"schools"`
		}
		api(t, p.addr, token, "/api/v1/schools", &l)
		ids = ids[:0]
		synced := 0
		for _, sc := range l.Schools {
			ids = append(ids, sc.ID)
			if sc.LastPulledAt != nil {
				synced++
			}
		}
		return synced == len(l.Schools) && synced > 0, fmt.Sprintf("%d of %d were synced (the window closes 60 s after the clock was set)\n--- one instance:\n%s\n--- the other:\n%s",
			synced, len(l.Schools), p.out.String(), other.out.String())
	})
	return ids
}

// wantSyncedOnce: one successful run for the school in the window.
func wantSyncedOnce(t *testing.T, p *serveProc, token, id string) {
	t.Helper()
	var h struct {
		Runs []struct {
			Status string `json:"status"`
		} `json:"runs"`
	}
	api(t, p.addr, token, "/api/v1/schools/"+id+"/syncs?limit=50", &h)
	ok := 0
	for _, r := range h.Runs {
		if r.Status == "applied" || r.Status == "unchanged" {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("school %s: %d successful syncs (%v), want exactly 1", id, ok, h.Runs)
	}
}

// submitSchool submits one result per pupil of the school and returns the
// result keys.
func submitSchool(t *testing.T, g *gw, dir string, c simCreds) []string {
	t.Helper()
	id := c.Brin + c.Dependancecode
	var ps []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", id, "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	var keys, recs []string
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
	return keys
}

// wantSettled waits until the school's n results have accepted receipts:
// nothing stuck in sent or queued.
func wantSettled(t *testing.T, p *serveProc, token, id string, n int) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("school %s to have %d accepted receipts", id, n), func() (bool, string) {
		var rs struct {
			Counts map[string]int `json:"counts"`
		}
		api(t, p.addr, token, "/api/v1/schools/"+id+"/results", &rs)
		return rs.Counts["accepted"] == n, fmt.Sprintf("receipts %v", rs.Counts)
	})
}

// stopServe sends SIGTERM and wants exit status 0, with the background
// work ended within the shutdown timeout by serve's own account (it says
// so when it is not), however long the machine takes to get there.
func stopServe(t *testing.T, p *serveProc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, p.out.String())
		}
	case <-time.After(observe.Patience):
		t.Fatalf("serve did not stop within %v of SIGTERM:\n%s", observe.Patience, p.out.String())
	}
	if out := p.out.String(); strings.Contains(out, "did not end in time") || strings.Contains(out, "http shutdown") {
		t.Errorf("serve did not finish its work within its shutdown timeout:\n%s", out)
	}
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
