package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// lasGate is a reverse proxy the test puts between the gateway and
// las-sim (real HTTP on both sides). It counts the requests on their way
// to the LAS and, while shut, keeps new ones waiting until it opens again
// or their client gives up. A test then acts at an observed point of an
// exchange ("a request is on the wire", "every worker waits on the LAS")
// instead of after some time.
type lasGate struct {
	mu       sync.Mutex
	arrived  int           // requests that reached the gate
	inFlight int           // of those, not answered yet
	waiting  int           // of those, held at the shut gate
	shut     chan struct{} // nil while open; closed when it opens
}

// gate puts a lasGate in front of las-sim: s.endpoint becomes the gate's,
// so call it before the school is enrolled.
func (s *sim) gate(t *testing.T) *lasGate {
	t.Helper()
	target, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	g := &lasGate{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	// A killed or timed-out client ends its request: expected here, so the
	// proxy answers 502 to nobody instead of logging it.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.enter(r) {
			return // the client gave up while the gate was shut
		}
		defer g.leave()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { g.open(); srv.Close() })
	s.endpoint = srv.URL + target.Path
	return g
}

// enter counts a request and holds it while the gate is shut; false when
// its client went away meanwhile (it is then not passed on).
func (g *lasGate) enter(r *http.Request) bool {
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

func (g *lasGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
}

// close makes new requests wait.
func (g *lasGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut == nil {
		g.shut = make(chan struct{})
	}
}

// open lets the waiting requests and all new ones through.
func (g *lasGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shut != nil {
		close(g.shut)
		g.shut = nil
	}
}

// counts returns arrived, in flight and waiting.
func (g *lasGate) counts() (arrived, inFlight, waiting int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived, g.inFlight, g.waiting
}

// arrivedCount returns how many requests reached the gate so far.
func (g *lasGate) arrivedCount() int {
	a, _, _ := g.counts()
	return a
}

func (g *lasGate) String() string {
	a, f, w := g.counts()
	return fmt.Sprintf("the gate saw %d requests, %d in flight, %d waiting", a, f, w)
}
