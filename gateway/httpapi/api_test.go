package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// schoolRoute is one API route under /api/v1/schools/{school}.
type schoolRoute struct {
	method string
	path   string // after /api/v1/schools/{school}
	write  bool
	body   func(t testing.TB, f *fixture, school gateway.SchoolID) []byte
}

func (r schoolRoute) url(school gateway.SchoolID) string {
	return "/api/v1/schools/" + url.PathEscape(string(school)) + r.path
}

func (r schoolRoute) String() string { return r.method + " {school}" + r.path }

func grantBody(granted bool) func(testing.TB, *fixture, gateway.SchoolID) []byte {
	return func(testing.TB, *fixture, gateway.SchoolID) []byte {
		return []byte(`{"granted": ` + strconv.FormatBool(granted) + `}`)
	}
}

// schoolRoutes is every route of server.go that names a school.
var schoolRoutes = []schoolRoute{
	{method: http.MethodGet, path: ""},
	{method: http.MethodPost, path: "/connection-test", write: true},
	{method: http.MethodGet, path: "/consent"},
	{method: http.MethodPut, path: "/consent/las_exchange", write: true, body: grantBody(true)},
	{method: http.MethodPut, path: "/consent/research", write: true, body: grantBody(true)},
	{method: http.MethodPost, path: "/syncs", write: true},
	{method: http.MethodGet, path: "/syncs"},
	{method: http.MethodGet, path: "/held-sync"},
	{method: http.MethodPost, path: "/held-sync/approve", write: true},
	{method: http.MethodPost, path: "/results", write: true, body: func(t testing.TB, f *fixture, s gateway.SchoolID) []byte {
		return f.resultsFile(t, s, 3)
	}},
	{method: http.MethodGet, path: "/results"},
	{method: http.MethodGet, path: "/audit"},
	{method: http.MethodGet, path: "/contact"},
	{method: http.MethodPut, path: "/contact", write: true, body: func(testing.TB, *fixture, gateway.SchoolID) []byte {
		return []byte(`{"name": "Bea de Beheerder", "email": "bea@school.example"}`)
	}},
	{method: http.MethodGet, path: "/recipients"},
	{method: http.MethodPost, path: "/recipients", write: true, body: func(testing.TB, *fixture, gateway.SchoolID) []byte {
		return feedRecipientBody
	}},
	{method: http.MethodGet, path: "/recipients/" + feedName},
	{method: http.MethodDelete, path: "/recipients/" + feedName, write: true},
	{method: http.MethodGet, path: "/feeds/results"},
	{method: http.MethodGet, path: "/studies"},
	{method: http.MethodPost, path: "/studies", write: true, body: func(testing.TB, *fixture, gateway.SchoolID) []byte {
		return studyBody(studyName, fileRecipient)
	}},
	{method: http.MethodGet, path: "/studies/" + studyName},
	{method: http.MethodPost, path: "/studies/" + studyName + "/exports", write: true},
	{method: http.MethodPost, path: "/legal/" + fileBasis.Name + "/exports", write: true},
}

func (f *fixture) call(t testing.TB, r schoolRoute, school gateway.SchoolID, tok token) response {
	t.Helper()
	return f.callWith(t, r, school, school, tok)
}

// callWith sends r for school with the body made for bodyFor (a school
// that does not exist has no pupils to make a results file of).
func (f *fixture) callWith(t testing.TB, r schoolRoute, school, bodyFor gateway.SchoolID, tok token) response {
	t.Helper()
	var body []byte
	if r.body != nil {
		body = r.body(t, f, bodyFor)
	}
	return f.do(t, req{Method: r.method, Path: r.url(school), Secret: tok.Secret, Body: body})
}

// schoolState is what a school's routes could change: compared before and
// after a caller outside its scope (or a viewer) tried them all.
type schoolState struct {
	Consent    gateway.Consent
	Runs       int
	Audit      int
	Outbox     map[gateway.BatchState]int
	Connection bool
	Staged     bool
	Contact    *gateway.SchoolContact
	Recipients []gateway.Recipient
	Studies    []gateway.Study
}

func (f *fixture) state(t testing.TB, id gateway.SchoolID) schoolState {
	t.Helper()
	ctx := context.Background()
	var s schoolState
	var err error
	if s.Consent, err = f.store.Consent(ctx, id); err != nil {
		t.Fatal(err)
	}
	runs, err := f.store.SyncRuns(ctx, id, 1000)
	if err != nil {
		t.Fatal(err)
	}
	s.Runs = len(runs)
	s.Audit = len(f.audit(t, gateway.AuditChainOf(id)))
	if s.Outbox, err = f.store.OutboxDepth(ctx, id); err != nil {
		t.Fatal(err)
	}
	for k, n := range s.Outbox {
		if n == 0 {
			delete(s.Outbox, k)
		}
	}
	_, err = f.store.ConnectionCheck(ctx, id)
	s.Connection = err == nil
	_, err = f.store.StagedRun(ctx, id)
	s.Staged = err == nil
	s.Contact = f.school(id).Contact
	s.Recipients = f.school(id).Recipients
	s.Studies = f.school(id).Studies
	return s
}

func sameState(a, b schoolState) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func listIDs(t testing.TB, r response) []gateway.SchoolID {
	t.Helper()
	var out struct {
		Schools []httpapi.SchoolView `json:"schools"`
	}
	r.json(t, http.StatusOK, &out)
	var ids []gateway.SchoolID
	for _, s := range out.Schools {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestScoping: a token for school A cannot tell school B from a school
// that does not exist, and changes nothing of it; viewers never write;
// only operators verify the audit.
func TestScoping(t *testing.T) {
	t.Parallel()
	// The table covers every school route the server registers.
	for _, k := range knownRoutes {
		method, path, _ := strings.Cut(k.pattern, " ")
		rest, ok := strings.CutPrefix(path, "/api/v1/schools/{school}")
		if !ok {
			continue
		}
		covered := false
		for _, r := range schoolRoutes {
			covered = covered || r.method == method && r.path == strings.NewReplacer("{processing}", "research", "{name}", feedName,
				"{study}", studyName, "{basis}", fileBasis.Name).Replace(rest)
		}
		if !covered {
			t.Errorf("schoolRoutes lacks %s", k.pattern)
		}
	}
	forEachStore(t, func(t *testing.T, f *fixture) {
		const ghost = gateway.SchoolID("99ZZ00")
		both := []gateway.SchoolID{f.A.ID, f.B.ID}
		slices.Sort(both)
		for _, c := range []struct {
			tok  token
			want []gateway.SchoolID
		}{
			{f.tok.Operator, both},
			{f.tok.ViewerAll, both},
			{f.tok.AdminA, []gateway.SchoolID{f.A.ID}},
			{f.tok.ViewerA, []gateway.SchoolID{f.A.ID}},
		} {
			if got := listIDs(t, f.get(t, "/api/v1/schools", c.tok)); !slices.Equal(got, c.want) {
				t.Errorf("%s lists %v, want %v", c.tok.ID, got, c.want)
			}
		}

		before := f.state(t, f.B.ID)
		for _, tok := range []token{f.tok.AdminA, f.tok.ViewerA} {
			for _, r := range schoolRoutes {
				t.Run(tok.ID+"/"+r.String(), func(t *testing.T) {
					// The answer for B is the answer for a school that does not exist.
					p := f.call(t, r, f.B.ID, tok).problem(t, http.StatusNotFound)
					ghostP := f.callWith(t, r, ghost, f.B.ID, tok).problem(t, http.StatusNotFound)
					if p.Type != "urn:uwlr-gateway:problem:not-found" || p.Type != ghostP.Type || p.Title != ghostP.Title ||
						strings.ReplaceAll(p.Detail, string(f.B.ID), string(ghost)) != ghostP.Detail {
						t.Errorf("school B answers %+v, a school that does not exist %+v", p, ghostP)
					}
				})
			}
		}
		if after := f.state(t, f.B.ID); !sameState(before, after) {
			t.Errorf("callers outside school B changed it: before %+v, after %+v", before, after)
		}

		// An operator and a viewer of every school see B.
		for _, tok := range []token{f.tok.Operator, f.tok.ViewerAll} {
			for _, r := range schoolRoutes {
				if r.write {
					continue
				}
				resp := f.call(t, r, f.B.ID, tok)
				if r.path == "/held-sync" { // B has no held sync: a 404 about that, not about B
					if p := resp.problem(t, http.StatusNotFound); strings.Contains(p.Detail, "school "+string(f.B.ID)) {
						t.Errorf("%s: %s: %+v, want the no-held-sync answer", tok.ID, r, p)
					}
					continue
				}
				if r.path == "/contact" { // B has no contact person: a 404 saying so
					if p := resp.problem(t, http.StatusNotFound); !strings.Contains(p.Detail, "no contact person set") {
						t.Errorf("%s: %s: %+v, want the no-contact answer", tok.ID, r, p)
					}
					continue
				}
				if r.path == "/recipients/"+feedName { // B has no recipient: a 404 saying so
					if p := resp.problem(t, http.StatusNotFound); !strings.Contains(p.Detail, "has no recipient") {
						t.Errorf("%s: %s: %+v, want the no-recipient answer", tok.ID, r, p)
					}
					continue
				}
				if r.path == "/studies/"+studyName { // B has no study: a 404 saying so
					if p := resp.problem(t, http.StatusNotFound); !strings.Contains(p.Detail, "has no study") {
						t.Errorf("%s: %s: %+v, want the no-study answer", tok.ID, r, p)
					}
					continue
				}
				if r.path == "/feeds/results" { // a viewer reads no feed; an operator names its recipient
					want := map[gateway.Role]int{gateway.RoleViewer: http.StatusForbidden, gateway.RoleOperator: http.StatusUnprocessableEntity}[tok.Role]
					resp.problem(t, want)
					continue
				}
				resp.json(t, http.StatusOK, nil)
			}
		}

		// Viewers may not write, in their own scope either.
		beforeA := f.state(t, f.A.ID)
		for _, tok := range []token{f.tok.ViewerA, f.tok.ViewerAll} {
			for _, r := range schoolRoutes {
				if !r.write {
					continue
				}
				p := f.call(t, r, f.A.ID, tok).problem(t, http.StatusForbidden)
				if p.Type != "urn:uwlr-gateway:problem:forbidden" {
					t.Errorf("%s: %s: problem type %q", tok.ID, r, p.Type)
				}
			}
		}
		if after := f.state(t, f.A.ID); !sameState(beforeA, after) {
			t.Errorf("viewers changed school A: before %+v, after %+v", beforeA, after)
		}

		// Only an operator verifies the audit chains.
		for _, tok := range []token{f.tok.AdminA, f.tok.ViewerA, f.tok.ViewerAll} {
			f.post(t, "/api/v1/audit/verify", tok, nil).problem(t, http.StatusForbidden)
		}
		var rep gateway.AuditReport
		f.post(t, "/api/v1/audit/verify", f.tok.Operator, nil).json(t, http.StatusOK, &rep)
		if !rep.OK || rep.Chains < 3 || rep.Entries == 0 || len(rep.Problems) != 0 {
			t.Errorf("audit verify = %+v, want ok over the gateway chain and both schools' chains", rep)
		}
	})
}

// TestAuth: every refused token is a 401 problem with WWW-Authenticate,
// and every failed login (a token was presented) is audited and kept as a
// login record, by token id and reason, never by secret.
func TestAuth(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		unknown, _, err := app.GenerateToken(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		type attempt struct {
			name    string
			auth    string // Authorization header
			reason  string // "" when no token was presented: not a login attempt
			account string
			secret  string // what must never be kept
		}
		attempts := []attempt{
			{name: "no header"},
			{name: "basic", auth: "Basic b2xnYTpzZWNyZXQtenE5eDc=", secret: "b2xnYTpzZWNyZXQtenE5eDc="},
			{name: "bearer without token", auth: "Bearer"},
			{name: "not a token", auth: "Bearer not-a-token-zq9x7", reason: "malformed token", account: "unknown", secret: "not-a-token-zq9x7"},
			{name: "too short", auth: "Bearer uwlr_tooshort-zq9x7", reason: "malformed token", account: "unknown", secret: "uwlr_tooshort-zq9x7"},
			{name: "unknown", auth: "Bearer " + unknown, reason: "unknown token", account: "unknown", secret: unknown},
			{name: "revoked", auth: "Bearer " + f.tok.Revoked.Secret, reason: "revoked token", account: f.tok.Revoked.ID, secret: f.tok.Revoked.Secret},
			{name: "expired", auth: "Bearer " + f.tok.Expired.Secret, reason: "expired token", account: f.tok.Expired.ID, secret: f.tok.Expired.Secret},
		}
		var wantLogins []attempt
		var generic string // the one text of every refused token
		n := 0
		for _, a := range attempts {
			for _, path := range []string{"/api/v1/schools", "/api/v1/schools/" + string(f.A.ID) + "/syncs", "/api/v1/audit/verify"} {
				method := http.MethodGet
				if strings.HasSuffix(path, "/verify") || strings.HasSuffix(path, "/syncs") {
					method = http.MethodPost
				}
				// Each attempt from its own address: each is the first
				// failure of its address's window, audited at once.
				n++
				r := f.do(t, req{Method: method, Path: path, Auth: a.auth, From: fmt.Sprintf("127.0.2.%d", n)})
				p := r.problem(t, http.StatusUnauthorized)
				if p.Type != "urn:uwlr-gateway:problem:unauthorized" {
					t.Errorf("%s: %s: problem type %q", a.name, path, p.Type)
				}
				ch := r.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `realm="uwlr-gateway"`) {
					t.Errorf("%s: %s: WWW-Authenticate %q, want a Bearer challenge", a.name, path, ch)
				}
				if a.reason != "" {
					wantLogins = append(wantLogins, a)
					if generic == "" {
						generic = p.Detail
					}
					if !strings.Contains(ch, `error="invalid_token"`) || p.Detail != generic || strings.Contains(p.Detail, a.reason) {
						t.Errorf("%s: challenge %q, detail %q; want invalid_token and the generic %q (never the reason)", a.name, ch, p.Detail, generic)
					}
				}
			}
		}
		// A failed web login is a failed login too.
		form := url.Values{"token": {f.tok.Revoked.Secret}}
		r := f.do(t, req{Method: http.MethodPost, Path: "/login", Body: []byte(form.Encode()),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, From: "127.0.3.1"})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("web login with a revoked token: %v", r)
		}
		wantLogins = append(wantLogins, attempt{name: "web", reason: "revoked token", account: f.tok.Revoked.ID})

		entries := f.loginAudit(t)
		logins := f.logins(t)
		if len(entries) != len(wantLogins) || len(logins) != len(wantLogins) {
			t.Fatalf("%d login audit entries and %d login records, want %d of each", len(entries), len(logins), len(wantLogins))
		}
		for i, a := range wantLogins {
			e, l := entries[i], logins[i]
			via := "api"
			if a.name == "web" {
				via = "web"
			}
			d := e.Details
			if e.Chain != gateway.AuditChainGateway || e.Actor != a.account || d["ok"] != "false" || d["reason"] != a.reason ||
				d["account"] != a.account || d["via"] != via || d["request_id"] == "" {
				t.Errorf("%s: audit entry %+v, want a failed %s login of %s (%s)", a.name, e, via, a.account, a.reason)
			}
			if l.OK || l.Account != a.account {
				t.Errorf("%s: login record %+v, want a failed login of %s", a.name, l, a.account)
			}
		}
		kept, logs := f.everything(t), f.logs.String()
		for _, a := range attempts {
			if a.secret != "" && (strings.Contains(kept, a.secret) || strings.Contains(logs, a.secret)) {
				t.Errorf("%s: the presented secret was kept in the audit, a login record or the log", a.name)
			}
		}
		if got := metricValue(t, f, `uwlr_logins_total{ok="false",via="api"}`); got != float64(len(wantLogins)-1) {
			t.Errorf("uwlr_logins_total of failed api logins = %v, want %d", got, len(wantLogins)-1)
		}

		// A successful first use is a login; more use within the hour is not.
		okLogins := func() []gateway.AuditEntry {
			var out []gateway.AuditEntry
			for _, e := range f.loginAudit(t) {
				if e.Details["ok"] == "true" {
					out = append(out, e)
				}
			}
			return out
		}
		f.get(t, "/api/v1/schools", f.tok.AdminA).json(t, http.StatusOK, nil)
		f.get(t, "/api/v1/schools", f.tok.AdminA).json(t, http.StatusOK, nil)
		f.clock.Advance(30 * time.Minute)
		f.get(t, "/api/v1/schools/"+string(f.A.ID), f.tok.AdminA).json(t, http.StatusOK, nil)
		got := okLogins()
		if len(got) != 1 {
			t.Fatalf("%d successful logins audited after three uses within the hour, want 1: %+v", len(got), got)
		}
		if e := got[0]; e.Actor != f.tok.AdminA.ID || e.Details["role"] != string(gateway.RoleSchoolAdmin) || e.Details["via"] != "api" {
			t.Errorf("login entry %+v, want school-admin %s via api", e, f.tok.AdminA.ID)
		}
		last := f.logins(t)
		if l := last[len(last)-1]; !l.OK || l.Account != f.tok.AdminA.ID || l.School != f.A.ID {
			t.Errorf("login record %+v, want a login of %s for school %s", l, f.tok.AdminA.ID, f.A.ID)
		}
		// Two quiet hours later the token logs in again.
		f.clock.Advance(2 * time.Hour)
		f.get(t, "/api/v1/schools", f.tok.AdminA).json(t, http.StatusOK, nil)
		if got := okLogins(); len(got) != 2 {
			t.Errorf("%d successful logins audited after two quiet hours, want 2", len(got))
		}
		// The auth scheme is case-insensitive (RFC 9110 section 11.1).
		f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Auth: "bearer " + f.tok.Operator.Secret}).json(t, http.StatusOK, nil)
	})
}

// revokeDuringLogin is the real store, except that while the server keeps
// the login record of the first use of one token, another process revokes
// that token (what `uwlr-gateway token revoke` does).
type revokeDuringLogin struct {
	gateway.Store
	id   string
	once sync.Once
	err  error
}

func (s *revokeDuringLogin) AddLogin(ctx context.Context, l gateway.Login) error {
	if l.OK && l.Account == s.id {
		s.once.Do(func() {
			ts, err := s.Store.Tokens(ctx)
			if err != nil {
				s.err = err
				return
			}
			for _, t := range ts {
				if t.ID == s.id {
					t.RevokedAt = time.Now().UTC()
					s.err = s.Store.PutToken(ctx, t)
				}
			}
		})
	}
	return s.Store.AddLogin(ctx, l)
}

// TestRevokedDuringFirstUseStaysRevoked: recording a token's login must
// not write back the token as it was read before a concurrent revocation.
func TestRevokedDuringFirstUseStaysRevoked(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			var hook *revokeDuringLogin
			f := newFixtureWith(t, s.Open, func(st gateway.Store) gateway.Store {
				hook = &revokeDuringLogin{Store: st, id: "tok-admin-a"}
				return hook
			})
			// The request itself was authenticated before the revocation.
			f.get(t, "/api/v1/schools", f.tok.AdminA).json(t, http.StatusOK, nil)
			if hook.err != nil {
				t.Fatal(hook.err)
			}
			f.get(t, "/api/v1/schools", f.tok.AdminA).problem(t, http.StatusUnauthorized)
			if e := f.loginAudit(t); len(e) == 0 || e[len(e)-1].Details["reason"] != "revoked token" {
				t.Errorf("after the revocation the refusal is not audited as a revoked token: %+v", e)
			}
			ts, err := f.store.Tokens(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range ts {
				if tk.ID == f.tok.AdminA.ID && tk.RevokedAt.IsZero() {
					t.Errorf("the stored token %s lost its revocation", tk.ID)
				}
			}
		})
	}
}

// TestBadInput: every refused input is a problem naming the bad field.
func TestBadInput(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		cases := []struct {
			name   string
			method string
			path   string
			body   string
			status int
			fields []string
			reason string
		}{
			{"bad JSON", http.MethodPut, a + "/consent/dashboards", `{"granted":`, 422, []string{""}, ""},
			{"not an object", http.MethodPut, a + "/consent/dashboards", `[true]`, 422, []string{""}, "must be a JSON object"},
			{"empty body", http.MethodPut, a + "/consent/dashboards", ``, 422, []string{""}, "empty"},
			{"wrong type", http.MethodPut, a + "/consent/dashboards", `{"granted":"yes"}`, 422, []string{"/granted"}, "must be a JSON boolean"},
			{"missing granted", http.MethodPut, a + "/consent/dashboards", `{}`, 422, []string{"/granted"}, "required"},
			{"null granted", http.MethodPut, a + "/consent/dashboards", `{"granted":null}`, 422, []string{"/granted"}, ""},
			{"unknown field", http.MethodPut, a + "/consent/dashboards", `{"granted":true,"colour":"red"}`, 422, []string{"/colour"}, "not a known field"},
			{"two values", http.MethodPut, a + "/consent/dashboards", `{"granted":true}{"granted":false}`, 422, []string{""}, "more than one JSON value"},
			{"too large", http.MethodPut, a + "/consent/dashboards", `{"granted":true,"pad":"` + strings.Repeat("x", 1<<20) + `"}`, 413, []string{""}, "larger than"},
			{"unknown processing", http.MethodPut, a + "/consent/teleport", `{"granted":true}`, 422, []string{"processing"}, ""},
			{"limit not a number", http.MethodGet, a + "/syncs?limit=ten", "", 422, []string{"limit"}, ""},
			{"limit zero", http.MethodGet, a + "/syncs?limit=0", "", 422, []string{"limit"}, ""},
			{"limit negative", http.MethodGet, a + "/syncs?limit=-3", "", 422, []string{"limit"}, ""},
			{"limit too large", http.MethodGet, a + "/syncs?limit=1001", "", 422, []string{"limit"}, ""},
			{"audit limit too large", http.MethodGet, a + "/audit?limit=10001", "", 422, []string{"limit"}, ""},
			{"audit limit fraction", http.MethodGet, a + "/audit?limit=1.5", "", 422, []string{"limit"}, ""},
			{"unknown state", http.MethodGet, a + "/results?state=lost", "", 422, []string{"state"}, ""},
			{"results not JSON", http.MethodPost, a + "/results", `results please`, 422, nil, ""},
			{"contact empty", http.MethodPut, a + "/contact", `{}`, 422, []string{"/name", "/email"}, "required"},
			{"contact unknown field", http.MethodPut, a + "/contact", `{"name":"Bea","email":"bea@school.example","role":"dpo"}`, 422, []string{"/role"}, "not a known field"},
			{"contact wrong type", http.MethodPut, a + "/contact", `{"name":["Bea"],"email":"bea@school.example"}`, 422, []string{"/name"}, "must be a JSON string"},
			{"contact bad email", http.MethodPut, a + "/contact", `{"name":"Bea","email":"Bea <bea@school.example>"}`, 422, []string{"/email"}, "not an e-mail address"},
			{"contact bad phone", http.MethodPut, a + "/contact", `{"name":"Bea","email":"bea@school.example","phone":"ring"}`, 422, []string{"/phone"}, "digits"},
			{"contact two values", http.MethodPut, a + "/contact", `{"name":"Bea","email":"bea@school.example"}{}`, 422, []string{""}, "more than one JSON value"},
		}
		before := f.state(t, f.A.ID)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body []byte
				if c.method != http.MethodGet {
					body = []byte(c.body)
				}
				p := f.do(t, req{Method: c.method, Path: c.path, Secret: f.tok.AdminA.Secret, Body: body}).problem(t, c.status)
				if c.status == 422 && p.Type != "urn:uwlr-gateway:problem:invalid" {
					t.Errorf("problem type %q", p.Type)
				}
				if c.fields != nil && !slices.Equal(fieldsOf(p), c.fields) {
					t.Errorf("problem names fields %q, want %q: %+v", fieldsOf(p), c.fields, p)
				}
				if c.status == 422 && len(p.Errors) == 0 {
					t.Errorf("a 422 without errors: %+v", p)
				}
				for _, e := range p.Errors {
					// A reason speaks JSON, never the server's Go types.
					if e.Reason == "" || strings.Contains(e.Reason, "struct") || strings.Contains(e.Reason, "*bool") || strings.Contains(e.Reason, `json:"`) {
						t.Errorf("field %q with reason %q", e.Field, e.Reason)
					}
				}
				if c.reason != "" && (len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Reason, c.reason)) {
					t.Errorf("reasons %+v, want one saying %q", p.Errors, c.reason)
				}
			})
		}
		if after := f.state(t, f.A.ID); !sameState(before, after) {
			t.Errorf("refused input changed school A: before %+v, after %+v", before, after)
		}
	})
}

// TestResultsRefusedWhole: a results file with bad records is refused as
// a whole, every bad record named by position, and nothing is stored.
func TestResultsRefusedWhole(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		ps := f.pupils(t, f.A.ID)
		doc := map[string]any{"school": f.A.ID, "tests": []any{map[string]any{"code": "REK-M4", "name": "Rekenen M4"}},
			"results": []any{
				map[string]any{"test": "REK-M4", "date": "2026-10-01", "score": 12, "pupil_id": string(ps[0].ID)},
				map[string]any{"test": "REK-M4", "date": "2026-10-01", "score": 12, "pupil_id": "no-such-pupil"},
				map[string]any{"test": "REK-M4", "date": "2026-10-01", "score": 13, "las_key": ps[2].LASKey},
				map[string]any{"test": "REK-M4", "date": "2027-06-01", "score": 14, "pupil_id": string(ps[3].ID)},
				map[string]any{"test": "REK-M4", "date": "2026-10-01", "score": "many", "pupil_id": string(ps[4].ID)},
				map[string]any{"test": "NOPE", "date": "2026-10-01", "score": 15, "pupil_id": string(ps[5].ID)},
			}}
		before := f.state(t, f.A.ID)
		r := f.post(t, "/api/v1/schools/"+string(f.A.ID)+"/results", f.tok.AdminA, mustJSON(t, doc))
		p := r.problem(t, http.StatusUnprocessableEntity)
		bad := map[int]bool{}
		pos := regexp.MustCompile(`^results\[(\d+)\]`)
		for _, e := range p.Errors {
			m := pos.FindStringSubmatch(e.Field)
			if m == nil || e.Reason == "" {
				t.Errorf("problem %+v does not name a record by position with a reason", e)
				continue
			}
			n, _ := strconv.Atoi(m[1])
			bad[n] = true
		}
		if want := map[int]bool{1: true, 3: true, 4: true, 5: true}; !mapsEqual(bad, want) {
			t.Errorf("bad records named: %v, want %v (problem %+v)", bad, want, p)
		}
		if !strings.Contains(p.Detail, "nothing was stored") {
			t.Errorf("detail %q does not say nothing was stored", p.Detail)
		}
		var rc struct {
			Counts   map[string]int    `json:"counts"`
			Receipts []gateway.Receipt `json:"receipts"`
		}
		f.get(t, "/api/v1/schools/"+string(f.A.ID)+"/results", f.tok.AdminA).json(t, http.StatusOK, &rc)
		if len(rc.Receipts) != 0 || len(rc.Counts) != 0 {
			t.Errorf("after a refused file the school has receipts %+v", rc)
		}
		if after := f.state(t, f.A.ID); !sameState(before, after) {
			t.Errorf("a refused results file changed school A: before %+v, after %+v", before, after)
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestResultsTooLarge: a results body past the cap is a 413 problem. The
// store plays no part, so one store suffices.
func TestResultsTooLarge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, teststores.Bolt)
	body := bytes.Repeat([]byte(" "), 64<<20+1)
	p := f.post(t, "/api/v1/schools/"+string(f.A.ID)+"/results", f.tok.AdminA, body).problem(t, http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "split") {
		t.Errorf("413 detail %q does not say what to do", p.Detail)
	}
}

type consentState struct {
	School  gateway.SchoolID            `json:"school"`
	Consent map[string]bool             `json:"consent"`
	History []httpapi.ConsentChangeView `json:"history"`
}

type consentApplied struct {
	School     gateway.SchoolID   `json:"school"`
	Processing gateway.Processing `json:"processing"`
	Granted    bool               `json:"granted"`
	Changed    bool               `json:"changed"`
	Held       int                `json:"held_batches"`
	Released   int                `json:"released_batches"`
	InFlight   int                `json:"still_in_flight"`
}

// TestConsent: a consent change through the API takes effect, holds and
// releases queued results, and the history and audit say who made it.
func TestConsent(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		var sub gateway.Submission
		f.post(t, a+"/results", f.tok.AdminA, f.resultsFile(t, f.A.ID, 30)).json(t, http.StatusAccepted, &sub)
		if sub.Held || len(sub.Batches) < 2 {
			t.Fatalf("submitted %+v, want at least two queued batches", sub)
		}
		steps := []struct {
			tok        token
			processing gateway.Processing
			grant      bool
			changed    bool
			held       int
			released   int
		}{
			{f.tok.AdminA, gateway.ProcessingDashboards, true, true, 0, 0},
			{f.tok.AdminA, gateway.ProcessingDashboards, true, false, 0, 0},
			{f.tok.Operator, gateway.ProcessingLASExchange, false, true, len(sub.Batches), 0},
			{f.tok.AdminA, gateway.ProcessingLASExchange, true, true, 0, len(sub.Batches)},
			{f.tok.AdminA, gateway.ProcessingResearch, false, false, 0, 0},
		}
		for i, s := range steps {
			f.clock.Advance(time.Minute)
			var got consentApplied
			f.put(t, a+"/consent/"+string(s.processing), s.tok, []byte(`{"granted":`+strconv.FormatBool(s.grant)+`}`)).json(t, http.StatusOK, &got)
			want := consentApplied{School: f.A.ID, Processing: s.processing, Granted: s.grant, Changed: s.changed, Held: s.held, Released: s.released}
			if got != want {
				t.Errorf("step %d: PUT consent = %+v, want %+v", i, got, want)
			}
		}
		var cs consentState
		f.get(t, a+"/consent", f.tok.ViewerA).json(t, http.StatusOK, &cs)
		if want := map[string]bool{"las_exchange": true, "dashboards": true, "legal": false, "research": false}; !mapsEqual(cs.Consent, want) {
			t.Errorf("consent = %v, want %v", cs.Consent, want)
		}
		// The fixture granted las_exchange; then come the three changes above.
		var tail []httpapi.ConsentChangeView
		for _, h := range cs.History {
			if !strings.HasPrefix(h.By, "fixture") {
				tail = append(tail, h)
			}
		}
		wantBy := []string{"Anna Admin (token tok-admin-a)", "Olga Operator (token tok-operator)", "Anna Admin (token tok-admin-a)"}
		wantP := []gateway.Processing{gateway.ProcessingDashboards, gateway.ProcessingLASExchange, gateway.ProcessingLASExchange}
		if len(tail) != 3 {
			t.Fatalf("consent history %+v, want three changes made through the API", cs.History)
		}
		for i, h := range tail {
			if h.By != wantBy[i] || h.Processing != wantP[i] || h.New == h.Old || h.At.IsZero() {
				t.Errorf("history[%d] = %+v, want %s by %s", i, h, wantP[i], wantBy[i])
			}
		}
		var rc struct {
			Counts map[string]int `json:"counts"`
		}
		f.get(t, a+"/results", f.tok.AdminA).json(t, http.StatusOK, &rc)
		if rc.Counts["queued"] != 30 || rc.Counts["held"] != 0 {
			t.Errorf("after revoking and granting again the receipts are %v, want 30 queued", rc.Counts)
		}
		// The audit chain of A names the token for each change.
		var n int
		for _, e := range f.audit(t, gateway.AuditChainOf(f.A.ID)) {
			if strings.Contains(e.Actor, "(token tok-admin-a)") || strings.Contains(e.Actor, "(token tok-operator)") {
				n++
			}
		}
		if n < 4 { // results submitted, dashboards, las_exchange twice
			t.Errorf("%d audit entries of school A name an API token, want at least 4", n)
		}
	})
}

// TestConnectionTest: the test answers ok for a working school and a
// classified fault with a hint for a school whose stored key is wrong.
func TestConnectionTest(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		var chk gateway.ConnectionCheck
		f.post(t, "/api/v1/schools/"+string(f.A.ID)+"/connection-test", f.tok.AdminA, nil).json(t, http.StatusOK, &chk)
		if !chk.OK || chk.Groups == 0 || chk.ErrorClass != "" || chk.At.IsZero() {
			t.Errorf("connection test of A = %+v, want ok with groups", chk)
		}
		// B's stored key becomes one the LAS does not know.
		f.enrol(context.Background(), f.simB, strings.Repeat("0", len(f.simB.Creds.Autorisatiesleutel)))
		calls := f.sim.Calls(uwlr.OpHaalLeerlinggegevens.Name)
		f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/connection-test", f.tok.Operator, nil).json(t, http.StatusOK, &chk)
		if chk.OK || chk.ErrorClass != "credential" || chk.FaultCode == "" || chk.Hint == "" {
			t.Errorf("connection test with a wrong key = %+v, want a credential fault with a hint", chk)
		}
		if n := f.sim.Calls(uwlr.OpHaalLeerlinggegevens.Name); n != calls {
			t.Errorf("a connection test asked for pupil data %d times", n-calls)
		}
		var v httpapi.SchoolView
		f.get(t, "/api/v1/schools/"+string(f.B.ID), f.tok.ViewerAll).json(t, http.StatusOK, &v)
		if v.Connection == nil || v.Connection.OK || v.Connection.Hint != chk.Hint {
			t.Errorf("school B shows connection %+v, want the failed check", v.Connection)
		}
		if bytes.Contains(f.get(t, "/api/v1/schools/"+string(f.B.ID), f.tok.ViewerAll).Body, []byte(f.simB.Creds.Autorisatiesleutel)) {
			t.Error("the school view shows the autorisatiesleutel")
		}
	})
}

type syncRuns struct {
	School gateway.SchoolID  `json:"school"`
	Runs   []gateway.SyncRun `json:"runs"`
}

func (f *fixture) runs(t testing.TB, school gateway.SchoolID, tok token) []gateway.SyncRun {
	t.Helper()
	var out syncRuns
	f.get(t, "/api/v1/schools/"+string(school)+"/syncs?limit=1000", tok).json(t, http.StatusOK, &out)
	return out.Runs
}

// waitRun polls the sync history until it holds more than n runs and
// returns the newest.
func (f *fixture) waitRun(t testing.TB, school gateway.SchoolID, n int) gateway.SyncRun {
	t.Helper()
	var runs []gateway.SyncRun
	waitFor(t, "the sync run in the history", 2*time.Minute, func() bool {
		runs = f.runs(t, school, f.tok.ViewerAll)
		return len(runs) > n
	})
	return runs[0]
}

// waitLockFree waits until no sync holds the school's lock (a sync records
// its run just before it lets the lock go).
func (f *fixture) waitLockFree(t testing.TB, school gateway.SchoolID) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, "the sync lock to be released", 2*time.Minute, func() bool {
		l, err := f.store.AcquireLock(ctx, school, "test-probe", time.Minute, f.clock.Now())
		if errors.Is(err, gateway.ErrConflict) {
			return false
		} else if err != nil {
			t.Fatal(err)
		}
		if err := f.store.ReleaseLock(ctx, l); err != nil {
			t.Fatal(err)
		}
		return true
	})
}

// TestSyncNow: a sync starts in the background and shows in the history;
// a held lock and missing consent are 409s.
func TestSyncNow(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		n := len(f.runs(t, f.A.ID, f.tok.AdminA))
		f.clock.Advance(time.Minute)
		r := f.post(t, a+"/syncs", f.tok.AdminA, nil)
		var started struct {
			School gateway.SchoolID `json:"school"`
			Status string           `json:"status"`
		}
		r.json(t, http.StatusAccepted, &started)
		if started.School != f.A.ID || started.Status != "started" || r.Header.Get("Location") != a+"/syncs" {
			t.Errorf("POST syncs = %+v, Location %q", started, r.Header.Get("Location"))
		}
		run := f.waitRun(t, f.A.ID, n)
		if run.Status != gateway.SyncUnchanged || run.School != f.A.ID {
			t.Errorf("the sync started through the API = %+v, want unchanged", run)
		}
		var limited syncRuns
		f.get(t, a+"/syncs?limit=1", f.tok.ViewerA).json(t, http.StatusOK, &limited)
		if len(limited.Runs) != 1 || limited.Runs[0].ID != run.ID {
			t.Errorf("syncs?limit=1 = %+v, want the newest run only", limited.Runs)
		}

		// Another process holds the lock: 409.
		f.waitLockFree(t, f.A.ID)
		ctx := context.Background()
		l, err := f.store.AcquireLock(ctx, f.A.ID, "another-instance", time.Minute, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		p := f.post(t, a+"/syncs", f.tok.AdminA, nil).problem(t, http.StatusConflict)
		if p.Type != "urn:uwlr-gateway:problem:conflict" {
			t.Errorf("POST syncs while locked: %+v", p)
		}
		p = f.post(t, a+"/held-sync/approve", f.tok.AdminA, nil).problem(t, http.StatusConflict)
		if p.Type != "urn:uwlr-gateway:problem:conflict" {
			t.Errorf("POST approve while locked: %+v", p)
		}
		if err := f.store.ReleaseLock(ctx, l); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		f.post(t, a+"/syncs", f.tok.AdminA, nil).json(t, http.StatusAccepted, nil)
		f.waitRun(t, f.A.ID, n+1)

		// B has no las_exchange: consent required, and no run is recorded.
		nb := len(f.runs(t, f.B.ID, f.tok.Operator))
		p = f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/syncs", f.tok.Operator, nil).problem(t, http.StatusConflict)
		if p.Type != "urn:uwlr-gateway:problem:consent-required" || !strings.Contains(p.Detail, "las_exchange") {
			t.Errorf("POST syncs without consent: %+v", p)
		}
		if got := len(f.runs(t, f.B.ID, f.tok.Operator)); got != nb {
			t.Errorf("a refused sync start recorded %d runs", got-nb)
		}
		f.waitLockFree(t, f.A.ID)
	})
}

type heldSync struct {
	School  gateway.SchoolID     `json:"school"`
	Run     string               `json:"run"`
	Added   int                  `json:"added"`
	Changed int                  `json:"changed"`
	Left    int                  `json:"left"`
	Changes []gateway.HeldChange `json:"changes"`
}

// TestHeldSync: a sync that would remove half the pupils is held; the API
// shows its diff by ids and LAS keys only, and approving applies it.
func TestHeldSync(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		if p := f.get(t, a+"/held-sync", f.tok.AdminA).problem(t, http.StatusNotFound); !strings.Contains(p.Detail, "held") {
			t.Errorf("GET held-sync with none held: %+v", p)
		}
		f.post(t, a+"/held-sync/approve", f.tok.AdminA, nil).problem(t, http.StatusNotFound)
		f.waitLockFree(t, f.A.ID)

		everyone := f.simA.Pupils()
		f.clock.Advance(time.Minute)
		var gone []uwlr.Leerling
		f.simA.EditPupils(f.clock.Now(), func(ls []uwlr.Leerling) []uwlr.Leerling {
			gone = append(gone, ls[len(ls)/2:]...)
			return ls[:len(ls)/2]
		})
		n := len(f.runs(t, f.A.ID, f.tok.AdminA))
		f.clock.Advance(time.Minute)
		f.post(t, a+"/syncs", f.tok.AdminA, nil).json(t, http.StatusAccepted, nil)
		run := f.waitRun(t, f.A.ID, n)
		if run.Status != gateway.SyncHeld || run.Left != len(gone) {
			t.Fatalf("sync after half the pupils left = %+v, want held with %d left", run, len(gone))
		}
		var v httpapi.SchoolView
		f.get(t, a, f.tok.ViewerA).json(t, http.StatusOK, &v)
		if v.HeldSync == nil || *v.HeldSync != run.ID {
			t.Errorf("school A shows held sync %v, want %s", v.HeldSync, run.ID)
		}

		r := f.get(t, a+"/held-sync", f.tok.ViewerA)
		var h heldSync
		r.json(t, http.StatusOK, &h)
		if h.School != f.A.ID || h.Run != run.ID || h.Left != len(gone) || h.Added != 0 || len(h.Changes) != len(gone) {
			t.Fatalf("held sync = %+v, want %d left in run %s", h, len(gone), run.ID)
		}
		goneKeys := map[string]bool{}
		for _, l := range gone {
			goneKeys[l.Key] = true
		}
		ids := map[string]bool{}
		for _, p := range f.pupils(t, f.A.ID) {
			ids[string(p.ID)] = true
		}
		for _, c := range h.Changes {
			if c.Kind != "left" || !goneKeys[c.LASKey] || !ids[string(c.Pupil)] {
				t.Errorf("change %+v, want a pupil that left, by id and LAS key", c)
			}
		}
		// Ids and LAS keys only: no name, birth date or ECK iD of any pupil.
		body := string(r.Body)
		for _, l := range everyone {
			for what, v := range map[string]string{"surname": l.Achternaam, "first name": l.Roepnaam, "given names": l.Voornamen,
				"birth date": l.Geboortedatum, "ECK iD": l.Eckid} {
				if v != "" && strings.Contains(body, v) {
					t.Errorf("the held sync shows the %s of pupil %s", what, l.Key)
				}
			}
		}
		if !strings.Contains(body, `"las_key"`) {
			t.Error("the held sync does not show LAS keys")
		}

		// A viewer cannot approve; the school admin can.
		f.post(t, a+"/held-sync/approve", f.tok.ViewerA, nil).problem(t, http.StatusForbidden)
		f.waitLockFree(t, f.A.ID)
		f.clock.Advance(time.Minute)
		var applied gateway.SyncRun
		f.post(t, a+"/held-sync/approve", f.tok.AdminA, nil).json(t, http.StatusOK, &applied)
		if applied.Status != gateway.SyncApplied || applied.Left != len(gone) {
			t.Errorf("approve = %+v, want applied with %d left", applied, len(gone))
		}
		f.get(t, a+"/held-sync", f.tok.ViewerA).problem(t, http.StatusNotFound)
		f.post(t, a+"/held-sync/approve", f.tok.AdminA, nil).problem(t, http.StatusNotFound)
		left := 0
		for _, p := range f.pupils(t, f.A.ID) {
			if p.LeftOn != "" {
				left++
			}
		}
		if left != len(gone) {
			t.Errorf("%d pupils marked left after approval, want %d", left, len(gone))
		}
		var after httpapi.SchoolView
		f.get(t, a, f.tok.ViewerA).json(t, http.StatusOK, &after)
		if after.HeldSync != nil || after.LastSync == nil || after.LastSync.Status != gateway.SyncApplied {
			t.Errorf("after approval school A shows held %v, last sync %+v", after.HeldSync, after.LastSync)
		}
	})
}

type receipts struct {
	School   gateway.SchoolID  `json:"school"`
	Counts   map[string]int    `json:"counts"`
	Receipts []gateway.Receipt `json:"receipts"`
}

// TestResults: submitted results are queued (or held without consent),
// their receipts show where each stands, and delivery moves them on.
func TestResults(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		file := f.resultsFile(t, f.A.ID, 12)
		var sub gateway.Submission
		f.post(t, a+"/results", f.tok.AdminA, file).json(t, http.StatusAccepted, &sub)
		if sub.Results != 12 || sub.New != 12 || sub.Tests != 1 || sub.Held || len(sub.Batches) == 0 {
			t.Errorf("submitted = %+v, want 12 new results queued", sub)
		}
		var rc receipts
		f.get(t, a+"/results", f.tok.ViewerA).json(t, http.StatusOK, &rc)
		if len(rc.Receipts) != 12 || rc.Counts["queued"] != 12 {
			t.Fatalf("receipts = %+v, want 12 queued", rc)
		}
		for _, r := range rc.Receipts {
			if r.Key == "" || r.Pupil == "" || r.Test != "REK-M4" || r.Batch == "" || r.State != gateway.BatchQueued {
				t.Errorf("receipt %+v", r)
			}
		}
		f.get(t, a+"/results?state=accepted", f.tok.ViewerA).json(t, http.StatusOK, &rc)
		if len(rc.Receipts) != 0 || rc.Counts["queued"] != 12 {
			t.Errorf("results?state=accepted = %+v, want no receipts and the counts of all", rc)
		}

		// The same file again changes nothing.
		f.post(t, a+"/results", f.tok.AdminA, file).json(t, http.StatusAccepted, &sub)
		if sub.Unchanged != 12 || sub.New != 0 || len(sub.Batches) != 0 {
			t.Errorf("the same file again = %+v, want 12 unchanged", sub)
		}

		// Delivery (the service's real worker against las-sim).
		if _, err := f.gw.Deliver(ctxT(t), app.DeliverOptions{}); err != nil {
			t.Fatal(err)
		}
		f.get(t, a+"/results?state=accepted", f.tok.ViewerA).json(t, http.StatusOK, &rc)
		if len(rc.Receipts) != 12 || rc.Counts["accepted"] != 12 {
			t.Fatalf("after delivery receipts = %+v, want 12 accepted", rc.Counts)
		}
		for _, r := range rc.Receipts {
			if r.Evidence == "" || r.Attempts != 1 {
				t.Errorf("accepted receipt %+v, want evidence after one attempt", r)
			}
		}

		// B has no las_exchange: its results wait, held.
		b := "/api/v1/schools/" + string(f.B.ID)
		f.post(t, b+"/results", f.tok.Operator, f.resultsFile(t, f.B.ID, 4)).json(t, http.StatusAccepted, &sub)
		if !sub.Held {
			t.Errorf("results for B without las_exchange = %+v, want held", sub)
		}
		f.get(t, b+"/results?state=held", f.tok.ViewerAll).json(t, http.StatusOK, &rc)
		if len(rc.Receipts) != 4 || rc.Counts["held"] != 4 {
			t.Errorf("receipts of B = %+v, want 4 held", rc)
		}
	})
}

type auditEntries struct {
	School  gateway.SchoolID     `json:"school"`
	Entries []gateway.AuditEntry `json:"entries"`
}

// TestAuditList: the school's chain, oldest first, newest n with ?limit.
func TestAuditList(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID)
		f.put(t, a+"/consent/legal", f.tok.AdminA, []byte(`{"granted":true}`)).json(t, http.StatusOK, nil)
		var all auditEntries
		f.get(t, a+"/audit", f.tok.ViewerA).json(t, http.StatusOK, &all)
		stored := f.audit(t, gateway.AuditChainOf(f.A.ID))
		if len(all.Entries) != len(stored) || len(stored) < 3 {
			t.Fatalf("GET audit shows %d entries, the chain holds %d", len(all.Entries), len(stored))
		}
		for i, e := range all.Entries {
			if e.Chain != gateway.AuditChainOf(f.A.ID) || e.Seq != uint64(i+1) || e.Hash != stored[i].Hash || (e.School != "" && e.School != f.A.ID) {
				t.Errorf("entry %d = %+v", i, e)
			}
		}
		last := all.Entries[len(all.Entries)-1]
		if !strings.Contains(last.Actor, "tok-admin-a") || last.Details["processing"] != "legal" {
			t.Errorf("newest entry %+v, want the consent change by the school admin", last)
		}
		var two auditEntries
		f.get(t, a+"/audit?limit=2", f.tok.ViewerA).json(t, http.StatusOK, &two)
		if len(two.Entries) != 2 || two.Entries[1].Hash != last.Hash || two.Entries[0].Seq != last.Seq-1 {
			t.Errorf("audit?limit=2 = %+v, want the newest two, oldest first", two.Entries)
		}
	})
}

// TestHealth: /healthz is alive; /readyz is ready until Drain.
func TestHealth(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		var h map[string]string
		f.do(t, req{Method: http.MethodGet, Path: "/healthz"}).json(t, http.StatusOK, &h)
		if h["status"] != "ok" {
			t.Errorf("healthz = %v", h)
		}
		f.do(t, req{Method: http.MethodGet, Path: "/readyz"}).json(t, http.StatusOK, &h)
		if h["status"] != "ready" {
			t.Errorf("readyz = %v", h)
		}
		f.srv.Drain()
		f.do(t, req{Method: http.MethodGet, Path: "/readyz"}).json(t, http.StatusServiceUnavailable, &h)
		if h["status"] != "draining" {
			t.Errorf("readyz while draining = %v", h)
		}
		f.do(t, req{Method: http.MethodGet, Path: "/healthz"}).json(t, http.StatusOK, nil)
		// Draining stops new traffic at the balancer; requests still work.
		f.get(t, "/api/v1/schools", f.tok.Operator).json(t, http.StatusOK, nil)
	})
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// metricSamples scrapes /metrics: series (name{labels}) -> value.
func metricSamples(t testing.TB, f *fixture) (map[string]float64, string) {
	t.Helper()
	r := f.do(t, req{Method: http.MethodGet, Path: "/metrics"})
	if r.Status != http.StatusOK || r.mediaType() != "text/plain" {
		t.Fatalf("GET /metrics: %v", r)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("metrics line %q is not a sample", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[m[1]+m[2]] = v
	}
	return out, string(r.Body)
}

func metricValue(t testing.TB, f *fixture, series string) float64 {
	t.Helper()
	s, _ := metricSamples(t, f)
	return s[series]
}

// TestMetrics: the gateway's metrics are exposed, with closed label sets:
// no school id, token id or secret as a label value.
func TestMetrics(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.get(t, "/api/v1/schools/"+string(f.A.ID), f.tok.AdminA).json(t, http.StatusOK, nil)
		f.get(t, "/api/v1/schools/"+string(f.B.ID), f.tok.AdminA).problem(t, http.StatusNotFound)
		f.get(t, "/api/v1/schools", f.tok.Revoked).problem(t, http.StatusUnauthorized)
		f.post(t, "/api/v1/schools/"+string(f.A.ID)+"/results", f.tok.AdminA, f.resultsFile(t, f.A.ID, 5)).json(t, http.StatusAccepted, nil)
		f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools/" + string(f.B.ID) + "/nothing-here"})

		samples, text := metricSamples(t, f)
		for _, name := range []string{"uwlr_http_request_duration_seconds_count", "uwlr_logins_total", "uwlr_outbox_batches", "uwlr_sync_duration_seconds_count"} {
			found := false
			for s := range samples {
				if s == name || strings.HasPrefix(s, name+"{") {
					found = true
				}
			}
			if !found {
				t.Errorf("metric %s is missing", name)
			}
		}
		want := map[string]float64{
			`uwlr_http_request_duration_seconds_count{code="2xx",route="GET /api/v1/schools/{school}"}`: 1,
			`uwlr_http_request_duration_seconds_count{code="4xx",route="GET /api/v1/schools/{school}"}`: 1,
			`uwlr_http_request_duration_seconds_count{code="4xx",route="GET /api/v1/schools"}`:          1,
			`uwlr_http_request_duration_seconds_count{code="4xx",route="unmatched"}`:                    1,
			`uwlr_logins_total{ok="true",via="api"}`:                                                    1,
			`uwlr_logins_total{ok="false",via="api"}`:                                                   1,
			`uwlr_outbox_batches{state="queued"}`:                                                       1,
			`uwlr_outbox_batches{state="held"}`:                                                         0,
			`uwlr_sync_duration_seconds_count{outcome="applied",vendor="standard"}`:                     2,
		}
		for s, v := range want {
			if got, ok := samples[s]; !ok || got != v {
				t.Errorf("%s = %v (present %v), want %v", s, got, ok, v)
			}
		}
		forbidden := []string{string(f.A.ID), string(f.B.ID)}
		for _, tk := range f.tok.all() {
			forbidden = append(forbidden, tk.ID, tk.Secret, tk.Hash)
		}
		for s := range samples {
			for _, m := range labelPair.FindAllStringSubmatch(s, -1) {
				for _, bad := range forbidden {
					if strings.Contains(m[2], bad) {
						t.Errorf("series %s has label %s=%q, which names %q", s, m[1], m[2], bad)
					}
				}
				if m[1] == "route" && m[2] != "unmatched" && !regexp.MustCompile(`^[A-Z]+ /`).MatchString(m[2]) {
					t.Errorf("route label %q is not a mux pattern", m[2])
				}
			}
		}
		for _, tk := range f.tok.all() {
			if strings.Contains(text, tk.Secret) {
				t.Errorf("the metrics show the secret of %s", tk.ID)
			}
		}
	})
}

// TestSecretsNeverLogged drives the whole API with every token and then
// greps the JSON log: no secret, and every access log line is one request.
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, teststores.Bolt)
	for _, tk := range f.tok.all() {
		for _, r := range schoolRoutes {
			if r.write {
				continue
			}
			f.call(t, r, f.A.ID, tk)
		}
		f.post(t, "/api/v1/audit/verify", tk, nil)
	}
	logs := f.logs.String()
	for _, tk := range f.tok.all() {
		if strings.Contains(logs, tk.Secret) {
			t.Errorf("the log holds the secret of %s", tk.ID)
		}
	}
	var access int
	for _, l := range f.logLines(t) {
		if l["msg"] == "http request" {
			access++
			if _, ok := l["route"].(string); !ok {
				t.Errorf("access log line without a route: %v", l)
			}
		}
	}
	if want := int(f.reqs.Load()); access != want {
		t.Errorf("%d access log lines for %d requests", access, want)
	}
}
