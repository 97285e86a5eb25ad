package delivery_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const schooljaar = "2026-2027"

// stores are the two real stores; tests that depend on the store run on both.
var stores = teststores.All

var (
	keyOnce sync.Once
	key     *evidence.Key
	keyErr  error
)

// evidenceKey is one signing key for the whole test binary (RSA-3072 takes
// a moment to generate).
func evidenceKey(t testing.TB) *evidence.Key {
	t.Helper()
	keyOnce.Do(func() { key, keyErr = evidence.GenerateKey(rand.Reader, time.Now(), "delivery test") })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return key
}

// fixture is one simulated LAS school synced into a real store.
type fixture struct {
	t       testing.TB
	sim     *lassim.Sim
	sch     *lassim.School
	srv     *httptest.Server
	store   gateway.Store
	keys    *vault.Keyring
	school  gateway.School
	gate    *consent.Gate
	log     *audit.Log
	results *os.File
	logPath string
	door    observe.Gate // in front of las-sim; open unless a test shuts it

	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t testing.TB, open func(testing.TB) gateway.Store, pupils int, tune func(*lassim.Sim)) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)}
	var h http.Handler
	f.srv = httptest.NewServer(f.door.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })))
	t.Cleanup(func() { f.door.Open(); f.srv.Close() })
	prof := lassim.Profiles["standard"]
	endpoint := f.srv.URL + prof.Path
	world := lassim.NewWorld(lassim.Options{Seed: 5, Schools: 1, Pupils: pupils, Profile: prof, Schooljaar: schooljaar,
		Now: f.now.Add(-time.Hour), Endpoint: endpoint})
	f.sim = lassim.NewSim(world, prof, 5)
	f.logPath = filepath.Join(t.TempDir(), "results.jsonl")
	var err error
	if f.results, err = os.OpenFile(f.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.results.Close() })
	f.sim.Results = f.results
	if tune != nil {
		tune(f.sim)
	}
	h = f.sim.Handler(endpoint)
	f.sch = world.Schools[0]
	f.store = open(t)
	if f.keys, err = vault.Generate(rand.Reader, f.now); err != nil {
		t.Fatal(err)
	}
	c := f.sch.Creds
	id := gateway.SchoolIDFor(c.Brin, c.Dependancecode, "")
	sealed, err := f.keys.Sealer().Seal(vault.SchoolSecret(id, vault.FieldAutorisatiesleutel), []byte(c.Autorisatiesleutel))
	if err != nil {
		t.Fatal(err)
	}
	f.school = gateway.School{ID: id, Brin: c.Brin, Dependancecode: c.Dependancecode, Vendor: "standard", Endpoint: endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Xsdversie: c.Xsdversie, SealedKey: sealed}
	ctx := context.Background()
	if err := f.store.PutSchool(ctx, f.school); err != nil {
		t.Fatal(err)
	}
	f.log = audit.New(f.store, f.clock)
	f.gate = consent.New(f.store, f.clock).WithAudit(f.log)
	f.gate.InFlightWait = 10 * time.Second
	f.setConsent(true)
	sy := &pull.Syncer{Store: f.store, Sealer: f.keys.Sealer(), Consent: f.gate, Thresholds: pull.DefaultThresholds, Now: f.clock}
	cl := soap.NewClient(f.srv.Client(), c.Connection())
	if _, err := sy.Sync(ctx, f.school, cl, pull.Options{Schooljaar: schooljaar}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return f
}

func (f *fixture) setConsent(grant bool) gateway.ConsentApplied {
	f.t.Helper()
	a, err := f.gate.Apply(context.Background(), f.school.ID, gateway.ProcessingLASExchange, grant, "test admin")
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// worker returns a delivery worker over the fixture's store and las-sim.
func (f *fixture) worker(o delivery.Options) *delivery.Worker {
	k := evidenceKey(f.t)
	if o.RetryBase == 0 {
		o.RetryBase = time.Second
	}
	return &delivery.Worker{
		Store:   f.store,
		Opener:  f.keys.Opener(),
		Consent: consent.New(f.store, f.clock),
		Connect: func(ctx context.Context, s gateway.School) (delivery.Sender, string, error) {
			secret, err := f.keys.SecretOpener().Open(vault.SchoolSecret(s.ID, vault.FieldAutorisatiesleutel), s.SealedKey)
			if err != nil {
				return nil, "", err
			}
			conn := f.sch.Creds.Connection()
			conn.Autorisatiesleutel = string(secret)
			conn.Endpoint = s.Endpoint
			return soap.NewClient(f.srv.Client(), conn), s.Endpoint, nil
		},
		Sign:    func(e gateway.DeliveryEvidence) ([]byte, error) { return evidence.Sign(k, e) },
		Audit:   f.log,
		Now:     f.clock,
		Options: o,
	}
}

// pupils returns the synced pupils, without names.
func (f *fixture) pupils() []gateway.Pupil {
	f.t.Helper()
	var ps []gateway.Pupil
	if err := f.store.Pupils(context.Background(), f.school.ID, func(p gateway.Pupil) error { ps = append(ps, p); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return ps
}

// submit takes n results in through the intake (one per pupil round-robin,
// each pupil a different date) and returns them.
func (f *fixture) submit(n, batchSize int) ([]gateway.Result, gateway.Submission) {
	f.t.Helper()
	ps := f.pupils()
	var recs []map[string]any
	for i := range n {
		p := ps[i%len(ps)]
		r := map[string]any{"test": "REK-M4", "date": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/len(ps)).Format(time.DateOnly), "score": i % 40}
		if i%3 == 0 || p.LASKey == "" {
			r["pupil_id"] = string(p.ID)
		} else {
			r["las_key"] = p.LASKey
		}
		recs = append(recs, r)
	}
	doc, _ := json.Marshal(map[string]any{"school": f.school.ID, "tests": []any{map[string]any{"code": "REK-M4", "name": "Rekenen M4"}}, "results": recs})
	idx := pupilIndex{}
	for _, p := range ps {
		idx.add(p)
	}
	b, problems, err := intake.Read(bytes.NewReader(doc), idx, intake.Options{School: f.school.ID, Now: f.clock()})
	if err != nil || len(problems) > 0 {
		f.t.Fatalf("intake: %v %v", err, problems)
	}
	sub, err := delivery.Submit(context.Background(), f.store, consent.New(f.store, f.clock), f.log, f.school.ID, b.Tests, b.Results,
		delivery.SubmitOptions{BatchSize: batchSize, Now: f.clock(), By: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	return b.Results, sub
}

type pupilIndex struct {
	byID  map[gateway.PupilID]gateway.Pupil
	byKey map[string]gateway.Pupil
}

func (p *pupilIndex) add(x gateway.Pupil) {
	if p.byID == nil {
		p.byID, p.byKey = map[gateway.PupilID]gateway.Pupil{}, map[string]gateway.Pupil{}
	}
	p.byID[x.ID] = x
	if x.LASKey != "" {
		p.byKey[x.LASKey] = x
	}
}
func (p pupilIndex) ByID(id gateway.PupilID) (gateway.Pupil, bool) { x, ok := p.byID[id]; return x, ok }
func (p pupilIndex) ByLASKey(k string) (gateway.Pupil, bool)       { x, ok := p.byKey[k]; return x, ok }

// logged is what las-sim's results log says: every result taken in (by
// key, with the ECK iD it came with) and how many keys came again.
type logged struct {
	keys   map[string]int // key -> times taken in (as new or as update)
	eckids map[string]string
	lasKey map[string]string
	resent int
}

func (f *fixture) logged() logged {
	f.t.Helper()
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		f.t.Fatal(err)
	}
	l := logged{keys: map[string]int{}, eckids: map[string]string{}, lasKey: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Results []struct {
				Key        string `json:"key"`
				Leerlingid string `json:"leerlingid"`
				Eckid      string `json:"eckid"`
			} `json:"results"`
			Resent []string `json:"resent"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			f.t.Fatal(err)
		}
		for _, r := range line.Results {
			l.keys[r.Key]++
			l.eckids[r.Key] = r.Eckid
			l.lasKey[r.Key] = r.Leerlingid
		}
		l.resent += len(line.Resent)
	}
	return l
}

// wantEckIDs checks that every result reached las-sim exactly once, under
// its pupil's LAS key (or ECK iD) and with the pupil's own ECK iD, as las-sim
// generated it.
func (f *fixture) wantExactlyOnce(rs []gateway.Result) logged {
	f.t.Helper()
	l := f.logged()
	byID := map[gateway.PupilID]gateway.Pupil{}
	for _, p := range f.pupils() {
		byID[p.ID] = p
	}
	worldEck := map[string]string{}
	for _, p := range f.sch.Pupils() {
		worldEck[p.Key] = p.Eckid
		if p.Key == "" {
			worldEck[p.Eckid] = p.Eckid
		}
	}
	if len(l.keys) != len(rs) {
		f.t.Errorf("las-sim took in %d distinct keys, want %d", len(l.keys), len(rs))
	}
	for _, r := range rs {
		n := l.keys[r.Key]
		if n != 1 {
			f.t.Errorf("result %s taken in %d times, want exactly once", r.Key, n)
			continue
		}
		p := byID[r.Pupil]
		want := p.LASKey
		if want == "" {
			want = l.eckids[r.Key] // a 2.3 pupil goes by ECK iD in leerlingid too
		}
		if l.lasKey[r.Key] != want {
			f.t.Errorf("result %s arrived for pupil %s, want %s", r.Key, l.lasKey[r.Key], want)
		}
		if got, exp := l.eckids[r.Key], worldEck[l.lasKey[r.Key]]; got != exp {
			f.t.Errorf("result %s arrived with ECK iD %.40s…, want the pupil's own %.40s…", r.Key, got, exp)
		}
	}
	return l
}

func (f *fixture) receipts() map[gateway.BatchState]int {
	f.t.Helper()
	rcs, err := delivery.Receipts(context.Background(), f.store, f.school.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[gateway.BatchState]int{}
	for _, r := range rcs {
		out[r.State]++
	}
	return out
}

func (f *fixture) brengCalls() int { return f.sim.Calls(uwlr.OpBrengLeerresultaten.Name) }

func forStores(t *testing.T, fn func(t *testing.T, open func(testing.TB) gateway.Store)) {
	for _, s := range stores {
		t.Run(s.Name, func(t *testing.T) { fn(t, s.Open) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var _ = fmt.Sprint
