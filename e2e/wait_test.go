package e2e_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// progress is what las-sim's results log says so far, read incrementally
// (the whole-file intake is for the final checks).
type progress struct {
	taken  int // distinct result keys taken in
	lines  int // results messages accepted
	resent int // results acknowledged again, not taken in twice
}

// logTail reads a growing results log from where it stopped last time.
type logTail struct {
	mu   sync.Mutex
	off  int64
	rest []byte
	keys map[string]bool
	p    progress
}

// progress returns las-sim's counts now. Safe for concurrent use.
func (s *sim) progress(t *testing.T) progress {
	t.Helper()
	p, err := s.tail.read(s.log)
	if err != nil {
		t.Fatalf("results log: %v", err)
	}
	return p
}

func (l *logTail) read(path string) (progress, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return l.p, nil
	} else if err != nil {
		return l.p, err
	}
	defer f.Close()
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return l.p, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return l.p, err
	}
	l.off += int64(len(b))
	l.rest = append(l.rest, b...)
	if l.keys == nil {
		l.keys = map[string]bool{}
	}
	// las-sim writes whole lines; a line without its newline yet waits
	// for the next read.
	for {
		i := bytes.IndexByte(l.rest, '\n')
		if i < 0 {
			return l.p, nil
		}
		var line struct {
			Results []struct {
				Key string `json:"key"`
			} `json:"results"`
			Resent []string `json:"resent"`
		}
		if err := json.Unmarshal(l.rest[:i], &line); err != nil {
			return l.p, err
		}
		l.rest = l.rest[i+1:]
		l.p.lines++
		l.p.resent += len(line.Resent)
		for _, r := range line.Results {
			if !l.keys[r.Key] {
				l.keys[r.Key] = true
				l.p.taken++
			}
		}
	}
}

// proc is a gateway command running in the background.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // how it ended, once done is closed
}

// start starts the gateway command; the test's cleanup kills it if it is
// still running.
func (g *gw) start(args ...string) *proc {
	g.t.Helper()
	p := &proc{cmd: exec.Command(gatewayBin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = g.env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	g.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and reports whether that signal is what ended the
// process (false: it had ended on its own before).
func (p *proc) kill(t *testing.T) bool {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	<-p.done
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// stop sends SIGTERM and waits (up to observe.Patience) for the process to end.
func (p *proc) stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(observe.Patience):
		t.Fatalf("the process did not end within %v of SIGTERM:\n%s", observe.Patience, p.out.String())
		return nil
	}
}

// freezeAndKill kills a process at a moment when held (say, the sync
// locks or outbox entries it owns) is not zero, and returns that count. It
// stops the process (SIGSTOP) before it counts, so what it counted is what
// the process held when SIGKILL came: a running process could let go in
// between. While held is zero the process runs on; after observe.Patience
// the test fails.
func freezeAndKill(t *testing.T, pid int, what string, held func() int) int {
	t.Helper()
	n := 0
	observe.WaitFor(t, what, func() (bool, string) {
		if held() == 0 {
			return false, "it held none"
		}
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("SIGSTOP %d: %v", pid, err)
		}
		if n = held(); n > 0 {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("SIGKILL %d: %v", pid, err)
			}
			return true, ""
		}
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatalf("SIGCONT %d: %v", pid, err)
		}
		return false, "it let go before it was stopped"
	})
	return n
}
