package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// lasGate is a reverse proxy the test puts between the gateway and
// las-sim (real HTTP on both sides), behind an observe.Gate: it counts the
// requests on their way to the LAS and, while shut, keeps new ones waiting.
type lasGate struct{ *observe.Gate }

// gate puts a lasGate in front of las-sim: s.endpoint becomes the gate's,
// so call it before the school is enrolled.
func (s *sim) gate(t *testing.T) *lasGate {
	t.Helper()
	target, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	g := &lasGate{&observe.Gate{}}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	// A killed or timed-out client ends its request: expected here, so the
	// proxy answers 502 to nobody instead of logging it.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	srv := httptest.NewServer(g.Wrap(proxy))
	t.Cleanup(func() { g.Open(); srv.Close() })
	s.endpoint = srv.URL + target.Path
	return g
}

// arrivedCount returns how many requests reached the gate so far.
func (g *lasGate) arrivedCount() int {
	a, _, _ := g.Counts()
	return a
}

func (g *lasGate) String() string {
	a, f, w := g.Counts()
	return fmt.Sprintf("the gate saw %d requests, %d in flight, %d waiting", a, f, w)
}
