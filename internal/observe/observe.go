// Package observe helps tests act on observed events instead of on wall
// time: WaitFor polls a condition until it holds (failing, with what it saw,
// after a generous Patience), and Gate sits in front of an HTTP server (a
// simulated LAS), counting the requests on their way and, while shut,
// holding new ones until it opens. Tests only: nothing in the gateway
// imports it but the store contract tests (storetest).
package observe

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// Patience bounds every wait on an observed event: long enough that a busy
// machine never runs out of it, short enough that a broken test ends.
const Patience = 2 * time.Minute

// WaitFor polls cond until it reports done. cond also says what it saw;
// after Patience the test fails with what it waited for and that.
func WaitFor(t testing.TB, what string, cond func() (done bool, seen string)) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for {
		done, seen := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; %s", Patience, what, seen)
		}
		time.Sleep(5 * time.Millisecond) // the poll interval of an event wait, not a wait on time
	}
}

// Gate counts the requests a handler gets and, while shut, keeps new ones
// waiting until it opens or their client gives up (they then do not reach
// the handler). A test thus acts at an observed point of an exchange ("a
// request is on the wire", "every worker waits on the LAS"). The zero Gate
// is open.
type Gate struct {
	mu       sync.Mutex
	arrived  int           // requests that reached the gate
	inFlight int           // of those, not answered yet
	waiting  int           // of those, held at the shut gate
	shut     chan struct{} // nil while open; closed when it opens
}

// Wrap puts the gate in front of next.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.enter(r) {
			return // the client gave up while the gate was shut
		}
		defer g.leave()
		next.ServeHTTP(w, r)
	})
}

// enter counts a request and holds it while the gate is shut; false when
// its client went away meanwhile.
func (g *Gate) enter(r *http.Request) bool {
	g.mu.Lock()
	g.arrived++
	g.inFlight++
	shut := g.shut
	if shut != nil {
		g.waiting++
	}
	g.mu.Unlock()
	if shut == nil {
		return true
	}
	passed := true
	select {
	case <-shut:
	case <-r.Context().Done():
		passed = false
	}
	g.mu.Lock()
	g.waiting--
	if !passed {
		g.inFlight--
	}
	g.mu.Unlock()
	return passed
}

func (g *Gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
}

// Close makes new requests wait.
func (g *Gate) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut == nil {
		g.shut = make(chan struct{})
	}
}

// Open lets the waiting requests and all new ones through.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut != nil {
		close(g.shut)
		g.shut = nil
	}
}

// Counts returns the requests that arrived, those not answered yet, and
// those held at the shut gate.
func (g *Gate) Counts() (arrived, inFlight, waiting int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived, g.inFlight, g.waiting
}
