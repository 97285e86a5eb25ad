package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// The fixture runs the real thing: las-sim over loopback HTTP with two
// schools, a real store (bbolt or Redis), a real vault keyring, the real
// app.App behind httpapi.App, and the admin server behind
// httptest. Nothing of ours is mocked (STYLE R4, R5, R14).

const schooljaar = "2026-2027"

// simPupils is the number of pupils per las-sim school: enough for a sync
// to be held when half of them vanish, small enough to stay fast.
const simPupils = 40

// stores are the two real stores; tests that depend on the store run on both.
var stores = teststores.All

// forEachStore runs fn on a fresh fixture over each store, in parallel.
func forEachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, s := range stores {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, s.Open))
		})
	}
}

// clock is the fixture's time: the server, the service and the syncs all
// read it, and a test moves it forward instead of sleeping.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects the JSON log lines of the server and the service.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// token is an admin token as the test knows it: the secret a client sends
// and the record the store keeps.
type token struct {
	Secret string
	gateway.Token
}

type tokens struct {
	Operator, AdminA, ViewerA, ViewerAll, Revoked, Expired token
	// more are the tokens a test created (dashboard tokens).
	more []token
}

func (ts tokens) all() []token {
	return append([]token{ts.Operator, ts.AdminA, ts.ViewerA, ts.ViewerAll, ts.Revoked, ts.Expired}, ts.more...)
}

// fixture is a running gateway admin server over two synced las-sim
// schools: A with las_exchange granted, B with it revoked after its sync.
type fixture struct {
	t       *testing.T
	store   gateway.Store // the raw store (no scope): for setup and assertions
	keys    *vault.Keyring
	world   *lassim.World
	sim     *lassim.Sim
	simA    *lassim.School
	simB    *lassim.School
	A, B    gateway.School
	gw      *app.App
	srv     *httpapi.Server
	http    *httptest.Server
	metrics *httpapi.Metrics
	logs    *logBuffer
	clock   *clock
	tok     tokens
	reqs    atomic.Int64
	// las is a gate in front of las-sim: it counts the requests the
	// gateway sends the LAS and, while shut, holds them.
	las observe.Gate
}

// fileBasis and hookBasis are the legal bases (legal.bases) of every
// fixture; their recipients, a legal recipient of kind file and one of kind
// webhook, are registered by the tests that export under them.
var (
	fileBasis = gateway.LegalBase{Name: "wet-x", Reference: "Besluit leermiddelen art. 3", Recipient: "inspectie",
		Fields: []string{"school", "jaargroep", "birth_year"}}
	hookBasis = gateway.LegalBase{Name: "wet-y", Reference: "Besluit leermiddelen art. 4", Recipient: "inspectie-hook",
		Fields: []string{"school", "las_key", "test", "score"}}
	legalBases = []gateway.LegalBase{fileBasis, hookBasis}
)

// start is a Monday evening in November (no school-year rollover).
var start = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, open func(testing.TB) gateway.Store) *fixture {
	t.Helper()
	return newFixtureWith(t, open, nil)
}

// newFixtureWith is newFixture whose admin server sees the store through
// serverStore (nil: the store itself), e.g. to act as another process at
// a chosen moment.
func newFixtureWith(t *testing.T, open func(testing.TB) gateway.Store, serverStore func(gateway.Store) gateway.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: &clock{now: start}, logs: &logBuffer{}}
	ctx := ctxT(t)

	// las-sim with two schools, served over loopback HTTP.
	var h http.Handler
	simSrv := httptest.NewServer(f.las.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })))
	t.Cleanup(simSrv.Close)
	prof := lassim.Profiles["standard"]
	endpoint := simSrv.URL + prof.Path
	f.world = lassim.NewWorld(lassim.Options{Seed: 17, Schools: 2, Pupils: simPupils, Profile: prof, Schooljaar: schooljaar,
		Now: start.Add(-24 * time.Hour), Endpoint: endpoint})
	f.sim = lassim.NewSim(f.world, prof, 17)
	h = f.sim.Handler(endpoint)
	f.simA, f.simB = f.world.Schools[0], f.world.Schools[1]

	f.store = open(t)
	var err error
	if f.keys, err = vault.Generate(rand.Reader, start); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.metrics = httpapi.NewMetrics(httpapi.Gauges{Outbox: f.outboxDepth})
	st := f.store
	if serverStore != nil {
		st = serverStore(f.store)
	}
	var err2 error
	f.gw, err2 = app.New(app.Options{Store: st, Keys: f.keys, Log: logger, Now: f.clock.Now, Client: simSrv.Client(),
		Instance: "httpapi-test", Delivery: app.Delivery{BatchSize: 25, Concurrency: 2, Lease: time.Minute, MaxAttempts: 3,
			RetryBase: time.Second, RetryMax: time.Minute},
		Observer: f.metrics, InFlightWait: 10 * time.Second, LegalBases: legalBases})
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.gw.Close(cctx); err != nil {
			t.Errorf("close gateway: %v", err)
		}
	})

	// Enrol both schools with their sealed keys, grant las_exchange, sync.
	f.A = f.enrol(ctx, f.simA, f.simA.Creds.Autorisatiesleutel)
	f.B = f.enrol(ctx, f.simB, f.simB.Creds.Autorisatiesleutel)
	for _, s := range []gateway.School{f.A, f.B} {
		if _, err := f.gw.SetConsent(ctx, s.ID, gateway.ProcessingLASExchange, true, gateway.Actor{Via: "cli", Name: "fixture", Instruction: "test instruction"}); err != nil {
			t.Fatal(err)
		}
		res, err := f.gw.Sync(ctx, s.ID, app.SyncOptions{Schooljaar: schooljaar})
		if err != nil || res.Run.Status != gateway.SyncApplied {
			t.Fatalf("fixture sync of %s = %s, %v; want applied", s.ID, res.Run.Status, err)
		}
	}
	if _, err := f.gw.SetConsent(ctx, f.B.ID, gateway.ProcessingLASExchange, false, gateway.Actor{Via: "cli", Name: "fixture"}); err != nil {
		t.Fatal(err)
	}
	f.A, f.B = f.school(f.A.ID), f.school(f.B.ID)

	// Tokens of every kind.
	now := f.clock.Now()
	f.tok = tokens{
		Operator:  f.newToken(ctx, gateway.Token{ID: "tok-operator", Name: "Olga Operator", Role: gateway.RoleOperator}),
		AdminA:    f.newToken(ctx, gateway.Token{ID: "tok-admin-a", Name: "Anna Admin", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{f.A.ID}}),
		ViewerA:   f.newToken(ctx, gateway.Token{ID: "tok-viewer-a", Name: "Vera Viewer", Role: gateway.RoleViewer, Schools: []gateway.SchoolID{f.A.ID}}),
		ViewerAll: f.newToken(ctx, gateway.Token{ID: "tok-viewer-all", Name: "Victor Viewer", Role: gateway.RoleViewer}),
		Revoked:   f.newToken(ctx, gateway.Token{ID: "tok-revoked", Name: "Rita Revoked", Role: gateway.RoleOperator, RevokedAt: now.Add(-time.Hour)}),
		Expired:   f.newToken(ctx, gateway.Token{ID: "tok-expired", Name: "Evert Expired", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{f.A.ID}, ExpiresAt: now.Add(-time.Minute)}),
	}

	f.srv = httpapi.New(httpapi.Options{App: f.gw, Log: logger, Now: f.clock.Now, Metrics: f.metrics})
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	// Registered last, so it runs first: nothing secret or personal may
	// have reached the logs, the audit chains or the login records.
	t.Cleanup(f.checkNoLeaks)
	return f
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// enrol stores a las-sim school with key sealed as its autorisatiesleutel.
func (f *fixture) enrol(ctx context.Context, s *lassim.School, key string) gateway.School {
	f.t.Helper()
	c := s.Creds
	id := gateway.SchoolIDFor(c.Brin, c.Dependancecode, "")
	sealed, err := f.keys.Sealer().Seal(vault.SchoolSecret(id, vault.FieldAutorisatiesleutel), []byte(key))
	if err != nil {
		f.t.Fatal(err)
	}
	sc := gateway.School{ID: id, Brin: c.Brin, Dependancecode: c.Dependancecode, Vendor: "standard", Endpoint: c.Endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Xsdversie: c.Xsdversie, SealedKey: sealed, CreatedAt: f.clock.Now()}
	if err := f.store.PutSchool(ctx, sc); err != nil {
		f.t.Fatal(err)
	}
	return sc
}

func (f *fixture) newToken(ctx context.Context, t gateway.Token) token {
	f.t.Helper()
	secret, hash, err := app.GenerateToken(rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	t.Hash, t.CreatedAt = hash, f.clock.Now().Add(-24*time.Hour)
	if err := f.store.PutToken(ctx, t); err != nil {
		f.t.Fatal(err)
	}
	return token{Secret: secret, Token: t}
}

func (f *fixture) school(id gateway.SchoolID) gateway.School {
	f.t.Helper()
	s, err := f.store.School(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// outboxDepth is the metrics gauge: batches by state over every school.
func (f *fixture) outboxDepth(ctx context.Context) (map[gateway.BatchState]int, error) {
	schools, err := f.store.Schools(ctx)
	if err != nil {
		return nil, err
	}
	out := map[gateway.BatchState]int{}
	for _, s := range schools {
		d, err := f.store.OutboxDepth(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		for st, n := range d {
			out[st] += n
		}
	}
	return out, nil
}

// response is one answer of the server, read in full.
type response struct {
	Method, Path string
	RequestID    string
	Status       int
	Header       http.Header
	Body         []byte
}

// req is a request the fixture sends.
type req struct {
	Method string
	Path   string // with the query string
	Secret string // the bearer token; "" sends no Authorization header
	Auth   string // a raw Authorization header (overrides Secret)
	Body   []byte
	Header http.Header
	// From is the client's loopback address (127.0.0.1 when empty): the
	// server throttles failed logins per address.
	From string
}

// do sends r with a fresh X-Request-Id, so its log line can be found.
func (f *fixture) do(t testing.TB, r req) response {
	t.Helper()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	hr, err := http.NewRequestWithContext(ctxT(t), r.Method, f.http.URL+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		hr.Header[k] = v
	}
	if _, set := hr.Header["Content-Type"]; r.Body != nil && !set {
		hr.Header.Set("Content-Type", "application/json")
	}
	switch {
	case r.Auth != "":
		hr.Header.Set("Authorization", r.Auth)
	case r.Secret != "":
		hr.Header.Set("Authorization", "Bearer "+r.Secret)
	}
	id := fmt.Sprintf("test-%s-%06d", strings.ReplaceAll(strings.ToLower(f.t.Name()), "/", "."), f.reqs.Add(1))
	if len(id) > 64 {
		id = fmt.Sprintf("test-%d-%06d", time.Now().UnixNano(), f.reqs.Load())
	}
	id = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	hr.Header.Set("X-Request-Id", id)
	client := clientFrom(r.From)
	resp, err := client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	if got := resp.Header.Get("X-Request-Id"); got != id {
		t.Errorf("%s %s: X-Request-Id = %q, want the one sent (%q)", r.Method, r.Path, got, id)
	}
	return response{Method: r.Method, Path: r.Path, RequestID: id, Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// clientFrom is an HTTP client whose connections come from the loopback
// address from (any of 127.0.0.0/8 on Linux; "" lets the system choose),
// not following redirects.
func clientFrom(from string) *http.Client {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c.Transport = &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	}
	return c
}

// get, post and put are do with a token.
func (f *fixture) get(t testing.TB, path string, tok token) response {
	t.Helper()
	return f.do(t, req{Method: http.MethodGet, Path: path, Secret: tok.Secret})
}

func (f *fixture) post(t testing.TB, path string, tok token, body []byte) response {
	t.Helper()
	return f.do(t, req{Method: http.MethodPost, Path: path, Secret: tok.Secret, Body: body})
}

func (f *fixture) put(t testing.TB, path string, tok token, body []byte) response {
	t.Helper()
	return f.do(t, req{Method: http.MethodPut, Path: path, Secret: tok.Secret, Body: body})
}

func (r response) String() string {
	b := r.Body
	if len(b) > 600 {
		b = append(b[:600:600], "…"...)
	}
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.Path, r.Status, b)
}

func (r response) mediaType() string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt
}

// json checks the status and the JSON media type and decodes the body.
func (r response) json(t testing.TB, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want status %d", r, status)
	}
	if mt := r.mediaType(); mt != "application/json" {
		t.Fatalf("%v: Content-Type %q, want application/json", r, mt)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%v: decode: %v", r, err)
		}
	}
}

// problem checks an RFC 9457 answer: the status, the media type, and that
// the document agrees with the status and names the request path.
func (r response) problem(t testing.TB, status int) httpapi.Problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want status %d", r, status)
	}
	if mt := r.mediaType(); mt != "application/problem+json" {
		t.Fatalf("%v: Content-Type %q, want application/problem+json", r, mt)
	}
	var p httpapi.Problem
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%v: decode problem: %v", r, err)
	}
	path, _, _ := strings.Cut(r.Path, "?")
	if p.Status != status || p.Type == "" || p.Title == "" || p.Instance != path {
		t.Fatalf("%v: problem %+v does not agree with status %d and path %s", r, p, status, path)
	}
	return p
}

// fieldsOf lists the fields a problem names, in order.
func fieldsOf(p httpapi.Problem) []string {
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// logLines returns the parsed JSON log lines so far.
func (f *fixture) logLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(f.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// routeOf is the mux pattern the server logged for a request: the
// access log line ("http request") carries the request id and the pattern
// http.ServeMux matched ("unmatched" when none did).
func (f *fixture) routeOf(t testing.TB, r response) string {
	t.Helper()
	var route string
	n := 0
	for _, l := range f.logLines(t) {
		if l["msg"] == "http request" && l["request_id"] == r.RequestID {
			route, _ = l["route"].(string)
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%v: %d access log lines with request id %s, want exactly 1", r, n, r.RequestID)
	}
	return route
}

// audit returns a chain's entries (raw store).
func (f *fixture) audit(t testing.TB, chain string) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	if err := f.store.WalkAudit(context.Background(), chain, func(e gateway.AuditEntry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// loginAudit returns the login entries of the gateway chain.
func (f *fixture) loginAudit(t testing.TB) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	for _, e := range f.audit(t, gateway.AuditChainGateway) {
		if e.Kind == gateway.AuditLogin {
			out = append(out, e)
		}
	}
	return out
}

func (f *fixture) logins(t testing.TB) []gateway.Login {
	t.Helper()
	var out []gateway.Login
	if err := f.store.WalkLogins(context.Background(), func(l gateway.Login) error { out = append(out, l); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// everything returns the text of every audit entry and login record.
func (f *fixture) everything(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	chains, err := f.store.AuditChains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		for _, e := range f.audit(t, c) {
			j, _ := json.Marshal(e)
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	for _, l := range f.logins(t) {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// checkNoLeaks: no token secret and no ECK iD or birth date of a las-sim
// pupil appears in a log line, an audit entry or a login record.
func (f *fixture) checkNoLeaks() {
	t := f.t
	logs, kept := f.logs.String(), f.everything(t)
	for _, tk := range f.tok.all() {
		if strings.Contains(logs, tk.Secret) {
			t.Errorf("the secret of token %s is in the log", tk.ID)
		}
		if strings.Contains(kept, tk.Secret) {
			t.Errorf("the secret of token %s is in an audit entry or login record", tk.ID)
		}
	}
	for _, s := range f.world.Schools {
		for _, p := range s.Pupils() {
			if p.Eckid != "" && (strings.Contains(logs, p.Eckid) || strings.Contains(kept, p.Eckid)) {
				t.Errorf("the ECK iD of las-sim pupil %s is in the log or the audit", p.Key)
			}
			if strings.Contains(logs, `"`+p.Geboortedatum+`"`) {
				t.Errorf("the birth date of las-sim pupil %s is in the log", p.Key)
			}
		}
	}
}

// waitFor polls cond until it holds or the deadline passes (no bare sleeps).
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}

// pupilIDs lists the synced pupils of a school (ids and LAS keys only).
func (f *fixture) pupils(t testing.TB, school gateway.SchoolID) []gateway.Pupil {
	t.Helper()
	var out []gateway.Pupil
	if err := f.store.Pupils(context.Background(), school, func(p gateway.Pupil) error {
		out = append(out, gateway.Pupil{ID: p.ID, School: p.School, LASKey: p.LASKey, LeftOn: p.LeftOn})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// resultsFile is a valid results file for n pupils of the school.
func (f *fixture) resultsFile(t testing.TB, school gateway.SchoolID, n int) []byte {
	t.Helper()
	ps := f.pupils(t, school)
	if len(ps) < n {
		t.Fatalf("school %s has %d pupils, want at least %d", school, len(ps), n)
	}
	var rs []map[string]any
	for i := range n {
		r := map[string]any{"test": "REK-M4", "date": "2026-10-0" + fmt.Sprint(1+i%9), "score": 10 + i}
		if i%2 == 0 {
			r["pupil_id"] = string(ps[i].ID)
		} else {
			r["las_key"] = ps[i].LASKey
		}
		rs = append(rs, r)
	}
	return mustJSON(t, map[string]any{"school": school, "tests": []any{map[string]any{"code": "REK-M4", "name": "Rekenen M4"}}, "results": rs})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
