package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// phpTimeout bounds every single php invocation.
const phpTimeout = 60 * time.Second

// phpBinary finds php once per test binary and checks it has ext/soap.
var phpBinary = sync.OnceValues(func() (string, error) {
	php, err := exec.LookPath("php")
	if err != nil {
		return "", fmt.Errorf("php is not on PATH (%w); the interop tests need PHP 8 with ext/soap, e.g. `apt-get install php-cli php-soap php-xml`", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), phpTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, php, "-m").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("`%s -m` failed: %w\n%s", php, err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if strings.EqualFold(strings.TrimSpace(sc.Text()), "soap") {
			return php, nil
		}
	}
	return "", fmt.Errorf("`%s -m` does not list the soap extension; install it (e.g. `apt-get install php-soap`). php -m said:\n%s", php, out)
})

// requirePHP returns the php binary or fails the test: a missing PHP must
// not turn the interop proof into a silent skip.
func requirePHP(t *testing.T) string {
	t.Helper()
	php, err := phpBinary()
	if err != nil {
		t.Fatal(err)
	}
	return php
}

// phpScript is the absolute path of a script in interop/php (go test runs
// in the package directory).
func phpScript(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("php", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("PHP script: %v", err)
	}
	return p
}

// phpArgs are the ini overrides for every run: errors go to stderr so they
// can never corrupt the JSON on stdout.
var phpArgs = []string{"-d", "display_errors=stderr", "-d", "error_reporting=-1", "-d", "soap.wsdl_cache_enabled=0"}

// runPHPJSON runs `php <script> args...` with env added to the environment,
// requires exit status 0 and decodes its stdout (one JSON object, unknown
// fields rejected) into out.
func runPHPJSON(t *testing.T, env []string, script string, out any, args ...string) {
	t.Helper()
	php := requirePHP(t)
	ctx, cancel := context.WithTimeout(t.Context(), phpTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, php, append(append(append([]string{}, phpArgs...), phpScript(t, script)), args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	t.Logf("%sphp %s %s: %v", strings.Join(append(env, ""), " "), script, strings.Join(redactArgs(args), " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("php %s failed: %v\nstderr:\n%s\nstdout:\n%s", script, err, stderr.String(), stdout.String())
	}
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("php %s printed no valid JSON: %v\nstderr:\n%s\nstdout:\n%s", script, err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Logf("php %s stderr:\n%s", script, stderr.String())
	}
}

// redactArgs hides the autorisatiesleutel (argument 3 of client.php) in logs.
func redactArgs(args []string) []string {
	out := append([]string(nil), args...)
	if len(out) > 2 {
		out[2] = "[key]"
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for one writer goroutine (a server or
// a child process) and a reading test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. The port is
// released before php binds it; another process could take it in between,
// which would show up as php exiting early with "Address already in use".
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// startPHPServer runs `php -S 127.0.0.1:<port> php/router.php` with env
// added to the environment, waits until it accepts connections and returns
// its base URL and log. The process is killed when the test ends.
func startPHPServer(t *testing.T, env ...string) (string, *lockedBuffer) {
	t.Helper()
	php := requirePHP(t)
	router := phpScript(t, "router.php")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))

	// Not t.Context(): the server must outlive the subtests and is stopped
	// by the cleanup below. The timeout is a last resort against a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	args := append(append([]string{}, phpArgs...), "-S", addr, "-t", filepath.Dir(router), router)
	cmd := exec.CommandContext(ctx, php, args...)
	cmd.Env = append(os.Environ(), env...)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start php -S: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel() // kills the php process (and only it) by its pid
		<-exited
		if t.Failed() {
			t.Logf("php -S log:\n%s", log.String())
		}
	})

	// Poll until php accepts TCP connections: a bounded number of dial
	// attempts on a short ticker, not a fixed sleep.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	const attempts = 500 // 10 s
	for i := 0; ; i++ {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("php -S %s exited before accepting connections: %v\nlog:\n%s", addr, err, log.String())
		case <-tick.C:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if i == attempts {
			t.Fatalf("php -S %s did not accept connections within %d attempts: %v\nlog:\n%s", addr, attempts, err, log.String())
		}
	}
	t.Logf("php -S %s ready after %v", addr, time.Since(start).Round(time.Millisecond))
	return "http://" + addr, log
}

// readJSONLines decodes every line of a JSON-lines text.
func readJSONLines[T any](t *testing.T, what, text string) []T {
	t.Helper()
	var out []T
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: bad JSON line %q: %v", what, line, err)
		}
		out = append(out, v)
	}
	return out
}

// show renders v as JSON for failure messages (pointers as their values).
func show(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
