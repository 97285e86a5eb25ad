package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The binaries under test, built once by TestMain.
var gatewayBin, simBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "uwlr-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	gatewayBin, simBin = filepath.Join(dir, "uwlr-gateway"), filepath.Join(dir, "las-sim")
	for bin, pkg := range map[string]string{gatewayBin: "../cmd/uwlr-gateway", simBin: "../cmd/las-sim"} {
		if out, err := exec.Command(goTool, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// simCreds are one simulated school's credentials.
type simCreds struct {
	Brin               string `json:"brin"`
	Dependancecode     string `json:"dependancecode"`
	Klantcode          string `json:"klantcode"`
	Klantnaam          string `json:"klantnaam"`
	Autorisatiesleutel string `json:"autorisatiesleutel"`
}

// sim is a running las-sim process.
type sim struct {
	cmd      *exec.Cmd
	endpoint string
	log      string     // its results log
	tail     logTail    // what progress has read of it
	creds    simCreds   // the first school
	all      []simCreds // every school
}

func startSim(t *testing.T, dir string, args ...string) *sim {
	t.Helper()
	return startSimN(t, dir, 1, args...)
}

// startSimN starts las-sim with n schools.
func startSimN(t *testing.T, dir string, n int, args ...string) *sim {
	t.Helper()
	s := &sim{log: filepath.Join(dir, "results.jsonl")}
	creds := filepath.Join(dir, "credentials.json")
	s.cmd = exec.Command(simBin, append([]string{"--addr", "127.0.0.1:0", "--schools", fmt.Sprint(n), "--seed", "7",
		"--credentials-out", creds, "--results-log", s.log}, args...)...)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("las-sim did not start: %s", stderr.String())
	}
	s.endpoint, _ = strings.CutPrefix(sc.Text(), "listening on ")
	go func() {
		for sc.Scan() {
		}
	}()
	b, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s.all); err != nil || len(s.all) != n {
		t.Fatalf("credentials: %v", err)
	}
	s.creds = s.all[0]
	return s
}

// intake is what las-sim's results log says.
type intake struct {
	taken  map[string]int // result key -> times taken in
	eckids map[string]string
	resent int
	lines  int
}

func (s *sim) intake(t *testing.T) intake {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil {
		t.Fatal(err)
	}
	in := intake{taken: map[string]int{}, eckids: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Results []struct {
				Key   string `json:"key"`
				Eckid string `json:"eckid"`
			} `json:"results"`
			Resent []string `json:"resent"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("results log: %v", err)
		}
		in.lines++
		for _, r := range line.Results {
			in.taken[r.Key]++
			in.eckids[r.Key] = r.Eckid
		}
		in.resent += len(line.Resent)
	}
	return in
}

// gw runs the gateway binary against one store.
type gw struct {
	t       *testing.T
	dir     string
	env     []string
	prefix  string
	school  string
	sim     *sim
	results []string // keys submitted
}

func newGateway(t *testing.T, store string, s *sim, redisURLOverride string) *gw {
	t.Helper()
	g := newGatewayOnly(t, store, s, redisURLOverride)
	key := filepath.Join(g.dir, "school.key")
	if err := os.WriteFile(key, []byte(s.creds.Autorisatiesleutel), 0o600); err != nil {
		t.Fatal(err)
	}
	g.school = s.creds.Brin + s.creds.Dependancecode
	g.must("school", "add", "--brin", s.creds.Brin, "--dependancecode", s.creds.Dependancecode, "--endpoint", s.endpoint,
		"--klantcode", s.creds.Klantcode, "--klantnaam", s.creds.Klantnaam, "--key-file", key)
	g.must("consent", "set", "--school", g.school, "--processing", "las_exchange", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-1")
	g.must("sync", "--school", g.school)
	return g
}

// newGatewayOnly prepares a gateway (environment, key file) with no school.
func newGatewayOnly(t *testing.T, store string, s *sim, redisURLOverride string) *gw {
	t.Helper()
	dir := t.TempDir()
	var b [6]byte
	_, _ = rand.Read(b[:])
	g := &gw{t: t, dir: dir, sim: s, prefix: "uwlrtest:e2e:" + hex.EncodeToString(b[:]) + ":"}
	url := redisURL()
	if redisURLOverride != "" {
		url = redisURLOverride
	}
	g.env = append(os.Environ(),
		"UWLR_STORE_DRIVER="+store, "UWLR_STORE_REDIS_URL="+url, "UWLR_STORE_KEY_PREFIX="+g.prefix,
		"UWLR_DATA_DIR="+filepath.Join(dir, "data"), "UWLR_VAULT_KEYS_FILE="+filepath.Join(dir, "keys.json"),
		// Generous: a request may wait at a gate, or a whole-school sync
		// take long on a busy machine; quickRetries shortens both.
		"UWLR_LAS_TIMEOUT=2m", "UWLR_DELIVERY_LEASE=3m", "UWLR_DELIVERY_BATCH_SIZE=20", "UWLR_DELIVERY_RETRY_BASE=200ms", "UWLR_DELIVERY_RETRY_MAX=1s")
	if store == "redis" && redisURLOverride == "" {
		t.Cleanup(func() { deletePrefix(t, url, g.prefix) })
	}
	g.must("keys", "generate", "--out", filepath.Join(dir, "keys.json"))
	return g
}

// deletePrefix deletes this test's keys (SCAN + UNLINK), never FLUSH*.
func deletePrefix(t *testing.T, url, prefix string) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cursor uint64
	for {
		ks, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			t.Errorf("cleanup scan: %v", err)
			return
		}
		if len(ks) > 0 {
			c.Unlink(ctx, ks...)
		}
		if next == 0 {
			return
		}
		cursor = next
	}
}

// command returns the gateway command, not started.
func (g *gw) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, gatewayBin, args...)
	cmd.Env = g.env
	return cmd
}

// quickRetries gives the commands started after it a short LAS timeout and
// delivery lease, for tests where a killed process's leases must run out,
// or a request to a dead peer must fail, soon.
func (g *gw) quickRetries() {
	g.env = append(g.env, "UWLR_LAS_TIMEOUT=2s", "UWLR_DELIVERY_LEASE=3s")
}

// run runs the gateway to completion and returns exit code and output.
func (g *gw) run(args ...string) (int, string, string) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := g.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		g.t.Fatalf("uwlr-gateway %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

func (g *gw) must(args ...string) string {
	g.t.Helper()
	code, out, errOut := g.run(args...)
	if code != 0 {
		g.t.Fatalf("uwlr-gateway %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// submit writes a results file of n results (10 per pupil and date) and
// submits it.
func (g *gw) submit(n int) {
	g.t.Helper()
	var pupils []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", g.school, "--json")), &pupils); err != nil {
		g.t.Fatal(err)
	}
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{"key": fmt.Sprintf("e2e-%05d", i), "pupil_id": pupils[i%len(pupils)].ID, "test": "REK-M4",
			"date": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/len(pupils)).Format(time.DateOnly), "score": i % 50})
		g.results = append(g.results, fmt.Sprintf("e2e-%05d", i))
	}
	doc, _ := json.Marshal(map[string]any{"school": g.school, "tests": []any{map[string]any{"code": "REK-M4", "name": "Rekenen M4"}}, "results": recs})
	file := filepath.Join(g.dir, "results.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		g.t.Fatal(err)
	}
	g.must("results", "submit", "--file", file)
}

// status returns the receipt counts by state.
func (g *gw) status() map[string]int {
	g.t.Helper()
	var st struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(g.must("results", "status", "--school", g.school, "--json")), &st); err != nil {
		g.t.Fatal(err)
	}
	return st.Counts
}

// wantExactlyOnce: every submitted result was taken in by las-sim exactly
// once, with an ECK iD, and nothing else was.
func (g *gw) wantExactlyOnce(in intake) {
	g.t.Helper()
	if len(in.taken) != len(g.results) {
		g.t.Errorf("las-sim took in %d distinct keys, want %d", len(in.taken), len(g.results))
	}
	for _, k := range g.results {
		switch n := in.taken[k]; {
		case n == 0:
			g.t.Errorf("result %s never arrived (lost)", k)
		case n > 1:
			g.t.Errorf("result %s taken in %d times (duplicated)", k, n)
		case in.eckids[k] == "" || !strings.HasPrefix(in.eckids[k], "https://ketenid.nl/201703/"):
			g.t.Errorf("result %s arrived without a well-formed ECK iD", k)
		}
	}
}

// freePort returns a free loopback TCP port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
