package lassim_test

// Shared helpers: an in-process simulator behind a real loopback HTTP server,
// soap clients for its schools, and collectors for what a response held.

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// t0 is the creation time of every generated world in these tests.
var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// jaar is the schooljaar the simulated LAS holds. 2024-2025 is the last year
// of the XSD's enumeration, so answers can be validated against the schema.
const jaar = "2024-2025"

// simEnv is one simulator served over loopback HTTP.
type simEnv struct {
	srv      *httptest.Server
	world    *lassim.World
	sim      *lassim.Sim
	profile  lassim.Profile
	endpoint string
	// finished receives the path of every request whose handler returned.
	finished chan string
}

// startSim generates a world from opts (defaults: 1 school, 100 pupils, the
// standard profile, schooljaar jaar, created at t0), serves it on a loopback
// httptest server and returns it. tweak may set Sim fields before serving.
func startSim(t *testing.T, opts lassim.Options, tweak func(*lassim.Sim)) *simEnv {
	t.Helper()
	if opts.Schools == 0 {
		opts.Schools = 1
	}
	if opts.Pupils == 0 {
		opts.Pupils = 100
	}
	if opts.Profile.Name == "" {
		opts.Profile = lassim.Profiles["standard"]
	}
	if opts.Schooljaar == "" {
		opts.Schooljaar = jaar
	}
	if opts.Now.IsZero() {
		opts.Now = t0
	}
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String() + opts.Profile.Path
	if opts.Endpoint == "" {
		opts.Endpoint = endpoint
	}
	world := lassim.NewWorld(opts)
	sim := lassim.NewSim(world, opts.Profile, opts.Seed)
	if tweak != nil {
		tweak(sim)
	}
	e := &simEnv{srv: srv, world: world, sim: sim, profile: opts.Profile, endpoint: endpoint, finished: make(chan string, 1000)}
	h := sim.Handler(endpoint)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			select {
			case e.finished <- r.URL.Path:
			default:
			}
		}()
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

// conn is a correct connection for school i, the subscription key included.
func (e *simEnv) conn(i int) soap.Connection {
	conn := e.world.Schools[i].Creds.Connection()
	conn.Endpoint = e.endpoint
	return conn
}

func (e *simEnv) client(i int) *soap.Client { return soap.NewClient(e.srv.Client(), e.conn(i)) }

// collected is everything one leerlinggegevens answer held, in document order.
type collected struct {
	sum         *soap.Summary
	schools     []uwlr.School
	vestigingen []uwlr.Vestiging
	groups      []uwlr.Groep
	comps       []uwlr.SamengesteldeGroep
	pupils      []uwlr.Leerling
	teachers    []uwlr.Leerkracht
}

func (c *collected) handler() soap.Handler {
	return soap.Handler{
		School:             func(s *uwlr.School) error { c.schools = append(c.schools, *s); return nil },
		Vestiging:          func(v *uwlr.Vestiging) error { c.vestigingen = append(c.vestigingen, *v); return nil },
		Groep:              func(g *uwlr.Groep) error { c.groups = append(c.groups, *g); return nil },
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error { c.comps = append(c.comps, *g); return nil },
		Leerling:           func(l *uwlr.Leerling) error { c.pupils = append(c.pupils, *l); return nil },
		Leerkracht:         func(l *uwlr.Leerkracht) error { c.teachers = append(c.teachers, *l); return nil },
	}
}

// pull runs HaalLeerlinggegevens for school i and collects the answer.
func (e *simEnv) pull(t *testing.T, i int, r soap.Request) *collected {
	t.Helper()
	if r.Schooljaar == "" {
		r.Schooljaar = jaar
	}
	c := &collected{}
	sum, err := e.client(i).HaalLeerlinggegevens(ctxT(t), r, c.handler())
	if err != nil {
		t.Fatalf("HaalLeerlinggegevens: %v", err)
	}
	c.sum = sum
	return c
}

// raw fetches the raw (decompressed) response envelope of op for school i.
func (e *simEnv) raw(t *testing.T, i int, op uwlr.Operation) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.client(i).Fetch(ctxT(t), op, soap.Request{Schooljaar: jaar}, nil, &buf, nil); err != nil {
		t.Fatalf("Fetch %s: %v", op.Name, err)
	}
	if buf.Len() == 0 {
		t.Fatalf("Fetch %s: empty body", op.Name)
	}
	return buf.Bytes()
}

// ctxT is a context that ends with the test (bounded, so no test hangs).
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// soapError asserts err is a *soap.Error and returns it.
func soapError(t *testing.T, err error) *soap.Error {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want a *soap.Error")
	}
	var se *soap.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *soap.Error", err, err)
	}
	return se
}

// body cuts the single body element out of a response envelope written by
// soap.Server (prefix soap:); the answer element declares its own namespace,
// so the result is a standalone document.
func body(t *testing.T, env []byte) []byte {
	t.Helper()
	s := string(env)
	i := strings.Index(s, "<soap:Body>")
	j := strings.LastIndex(s, "</soap:Body>")
	if i < 0 || j < i {
		t.Fatalf("no soap:Body in response:\n%.2000s", s)
	}
	return []byte(s[i+len("<soap:Body>") : j])
}

// childNames lists the local names of the direct children of the first
// element named parent, in document order.
func childNames(t *testing.T, doc []byte, parent string) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth := -1 // depth below parent; -1 until parent is found
	var names []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			switch {
			case depth < 0 && tt.Name.Local == parent:
				depth = 0
			case depth >= 0:
				if depth == 0 {
					names = append(names, tt.Name.Local)
				}
				depth++
			}
		case xml.EndElement:
			if depth == 0 {
				return names
			}
			if depth > 0 {
				depth--
			}
		}
	}
	t.Fatalf("no element <%s> found", parent)
	return nil
}
