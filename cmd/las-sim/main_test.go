package main_test

// These tests run the real las-sim binary, built once in TestMain, and talk
// to it over loopback HTTP(S) with the gateway's own SOAP client.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// simBin is the las-sim binary built by TestMain.
var simBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "las-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simBin = filepath.Join(dir, "las-sim")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goTool, "build", "-o", simBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/las-sim: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for the copying goroutine of exec and
// the test reading it.
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

// simProc is one running las-sim process.
type simProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

// startSim starts las-sim with args and waits (bounded) for its
// "listening on URL" line.
func startSim(t *testing.T, args ...string) *simProc {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &simProc{cmd: exec.Command(simBin, args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout = pw
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	lines := make(chan string, 16)
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(2 * time.Minute) // against a hang; generous for a busy machine
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				<-p.done
				t.Fatalf("las-sim %v exited before listening (%v); stderr:\n%s", args, p.err, p.stderr.String())
			}
			if u, found := strings.CutPrefix(l, "listening on "); found {
				p.url = u
				return p
			}
		case <-deadline:
			t.Fatalf("las-sim %v printed no 'listening on' line in 2 minutes; stderr:\n%s", args, p.stderr.String())
		}
	}
}

// stop sends SIGTERM and returns the exit code (bounded wait).
func (p *simProc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute): // against a hang; generous for a busy machine
		t.Fatalf("las-sim did not exit within 2 minutes of SIGTERM")
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("las-sim: %v", p.err)
	return -1
}

// cred is one entry of the credentials file.
type cred struct {
	Brin               string `json:"brin"`
	Dependancecode     string `json:"dependancecode"`
	Klantcode          string `json:"klantcode"`
	Klantnaam          string `json:"klantnaam"`
	Autorisatiesleutel string `json:"autorisatiesleutel"`
	Endpoint           string `json:"endpoint"`
	Pupils             int    `json:"pupils"`
	Profile            string `json:"profile"`
	Xsdversie          string `json:"xsdversie"`
	ClientCertRequired bool   `json:"client_cert_required"`
}

// readCreds reads the credentials file and checks that it is a JSON array of
// n objects with every field a client needs.
func readCreds(t *testing.T, path string, n int) []cred {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v (%v), want 0600: it holds keys", st.Mode().Perm(), err)
	}
	var raw []map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("credentials file is not a JSON array of objects: %v\n%s", err, b)
	}
	if len(raw) != n {
		t.Fatalf("credentials file has %d entries, want %d", len(raw), n)
	}
	for i, o := range raw {
		for _, k := range []string{"brin", "dependancecode", "klantcode", "klantnaam", "autorisatiesleutel", "endpoint"} {
			if s, ok := o[k].(string); !ok || s == "" {
				t.Errorf("entry %d: %s = %#v, want a non-empty string", i, k, o[k])
			}
		}
		if _, ok := o["pupils"].(float64); !ok {
			t.Errorf("entry %d: pupils = %#v, want a number", i, o["pupils"])
		}
	}
	var out []cred
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connFor(c cred, endpoint string) soap.Connection {
	return soap.Connection{Endpoint: endpoint, Autorisatiesleutel: c.Autorisatiesleutel, Klantcode: c.Klantcode,
		Klantnaam: c.Klantnaam, Brincode: c.Brin, Dependancecode: c.Dependancecode, Xsdversie: c.Xsdversie}
}
