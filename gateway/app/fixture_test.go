package app_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
)

const schooljaar = "2026-2027"

// start is a Tuesday night in November: outside school hours, no rollover.
var start = time.Date(2026, 11, 24, 1, 30, 0, 0, time.UTC)

// fixture is the application layer over a real store, a real keyring and
// las-sim on loopback HTTP with two schools, both enrolled through the
// application layer itself and granted las_exchange.
type fixture struct {
	t     *testing.T
	store gateway.Store
	keys  *vault.Keyring
	app   *app.App
	world *lassim.World
	sim   *lassim.Sim
	srv   *httptest.Server
	A, B  gateway.SchoolID
	// onRequest, when set, runs in las-sim before it answers a request
	// (the moment a sync is under way).
	onRequest atomic.Pointer[func(r *http.Request)]
}

func newFixture(t *testing.T, open func(testing.TB) gateway.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, store: open(t)}
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := f.onRequest.Load(); fn != nil {
			(*fn)(r)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	prof := lassim.Profiles["standard"]
	endpoint := f.srv.URL + prof.Path
	f.world = lassim.NewWorld(lassim.Options{Seed: 5, Schools: 2, Pupils: 40, Profile: prof, Schooljaar: schooljaar,
		Now: start.Add(-24 * time.Hour), Endpoint: endpoint})
	f.sim = lassim.NewSim(f.world, prof, 5)
	h = f.sim.Handler(endpoint)
	var err error
	if f.keys, err = vault.Generate(rand.Reader, start); err != nil {
		t.Fatal(err)
	}
	f.app = f.newApp(f.keys)
	f.A = f.enrol(f.world.Schools[0])
	f.B = f.enrol(f.world.Schools[1])
	return f
}

// newApp is an application layer over the fixture's store with keys kr, as
// another process would have (its own locks, its own instance name).
func (f *fixture) newApp(kr *vault.Keyring) *app.App {
	f.t.Helper()
	return f.newAppWith(kr, nil)
}

// appWith is an application layer over the fixture's store and keys with
// options changed by change.
func (f *fixture) appWith(change func(*app.Options)) *app.App {
	f.t.Helper()
	return f.newAppWith(f.keys, change)
}

func (f *fixture) newAppWith(kr *vault.Keyring, change func(*app.Options)) *app.App {
	f.t.Helper()
	o := app.Options{Store: f.store, Keys: kr, Now: func() time.Time { return start }, Client: f.srv.Client(),
		Instance: "app-test-" + rand.Text()[:8], Delivery: app.Delivery{BatchSize: 50, Concurrency: 2, Lease: time.Minute},
		InFlightWait: 10 * time.Second}
	if change != nil {
		change(&o)
	}
	a, err := app.New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			f.t.Errorf("close app: %v", err)
		}
	})
	return a
}

// enrol enrols a las-sim school through the application layer and grants
// it las_exchange.
func (f *fixture) enrol(s *lassim.School) gateway.SchoolID {
	f.t.Helper()
	c := s.Creds
	sc, created, err := f.app.EnrolSchool(ctx(f.t), app.Enrolment{Brin: c.Brin, Dependancecode: c.Dependancecode, Endpoint: c.Endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Key: c.Autorisatiesleutel, Xsdversie: c.Xsdversie}, "fixture")
	if err != nil || !created {
		f.t.Fatalf("enrol %s: created %v, %v", c.Brin, created, err)
	}
	if _, err := f.app.SetConsent(ctx(f.t), sc.ID, gateway.ProcessingLASExchange, true, gateway.Actor{Via: "cli", Name: "fixture", Instruction: "test instruction"}); err != nil {
		f.t.Fatal(err)
	}
	return sc.ID
}

// sync syncs a school and insists it was applied or unchanged.
func (f *fixture) sync(a *app.App, id gateway.SchoolID) {
	f.t.Helper()
	res, err := a.Sync(ctx(f.t), id, app.SyncOptions{Schooljaar: schooljaar})
	if err != nil || (res.Run.Status != gateway.SyncApplied && res.Run.Status != gateway.SyncUnchanged) {
		f.t.Fatalf("sync %s = %s, %v", id, res.Run.Status, err)
	}
}

func (f *fixture) school(id gateway.SchoolID) gateway.School {
	f.t.Helper()
	s, err := f.store.School(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// scoped is a context whose caller may see only the given schools.
func scoped(t testing.TB, ids ...gateway.SchoolID) context.Context {
	return gateway.WithScope(ctx(t), gateway.Scope{Schools: ids})
}

func forEachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	teststores.Run(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		t.Parallel()
		fn(t, newFixture(t, open))
	})
}
