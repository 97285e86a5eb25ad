package delivery_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// patience bounds every wait on an observed event (a count of receipts, a
// request at las-sim): generous, so a slow or busy machine makes a test
// slower, never red.
const patience = 2 * time.Minute

// waitFor polls cond until it reports done. cond also describes what it
// saw; after patience the test fails with what it waited for and that.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		done, seen := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; %s", patience, what, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// callGate sits at las-sim's door: while shut it keeps the requests that
// arrive waiting until it opens (or their client gives up), so a test can
// act while every worker waits on the LAS.
type callGate struct {
	mu      sync.Mutex
	waiting int
	shut    chan struct{} // nil while open; closed when it opens
}

// pass holds r while the gate is shut; false when its client went away
// meanwhile (it then does not reach las-sim).
func (g *callGate) pass(r *http.Request) bool {
	g.mu.Lock()
	shut := g.shut
	if shut != nil {
		g.waiting++
	}
	g.mu.Unlock()
	if shut == nil {
		return true
	}
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	select {
	case <-shut:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (g *callGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut == nil {
		g.shut = make(chan struct{})
	}
}

func (g *callGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut != nil {
		close(g.shut)
		g.shut = nil
	}
}

// waitingNow counts the requests held at the gate.
func (g *callGate) waitingNow() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}
