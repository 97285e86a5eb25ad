package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// How the document is held to the live server.
//
// http.ServeMux cannot list its patterns, and reading them out of
// server.go proves only what the source says, not what the mux serves. But
// the server's access log names, for every request, the pattern the mux
// matched (observe asks s.mux.Handler(r)) and the request's X-Request-Id;
// a request the mux has no route for logs "unmatched" (a 404 or a 405).
// So a request sent with a fresh X-Request-Id tells exactly which
// registered pattern served it. With that:
//
//   - every operation of the document is sent as a real request, and the
//     pattern that served it must be the document's path with its method
//     (both use {name} wildcards): the document names nothing the server
//     lacks;
//   - every route in knownRoutes is sent the same way and must be served by
//     exactly that pattern; the API ones must be in the document, the web
//     page's must not;
//   - every other method on a documented path must be a 405 whose Allow
//     header lists exactly the documented methods (plus HEAD for GET): no
//     method is served that the document does not name;
//   - knownRoutes itself is held to the source: every "METHOD /path"
//     literal in the package's Go files is in it, so a route added to
//     server.go without the document fails here first.

// knownRoutes is every route the server registers.
var knownRoutes = []struct {
	pattern string
	doc     bool // part of the OpenAPI document (the web page is not)
}{
	{"GET /api/v1/schools", true},
	{"GET /api/v1/schools/{school}", true},
	{"POST /api/v1/schools/{school}/connection-test", true},
	{"GET /api/v1/schools/{school}/consent", true},
	{"PUT /api/v1/schools/{school}/consent/{processing}", true},
	{"GET /api/v1/schools/{school}/contact", true},
	{"PUT /api/v1/schools/{school}/contact", true},
	{"POST /api/v1/schools/{school}/syncs", true},
	{"GET /api/v1/schools/{school}/syncs", true},
	{"GET /api/v1/schools/{school}/held-sync", true},
	{"POST /api/v1/schools/{school}/held-sync/approve", true},
	{"POST /api/v1/schools/{school}/results", true},
	{"GET /api/v1/schools/{school}/results", true},
	{"GET /api/v1/schools/{school}/audit", true},
	{"GET /api/v1/schools/{school}/recipients", true},
	{"POST /api/v1/schools/{school}/recipients", true},
	{"GET /api/v1/schools/{school}/recipients/{name}", true},
	{"DELETE /api/v1/schools/{school}/recipients/{name}", true},
	{"GET /api/v1/schools/{school}/feeds/results", true},
	{"GET /api/v1/schools/{school}/studies", true},
	{"POST /api/v1/schools/{school}/studies", true},
	{"GET /api/v1/schools/{school}/studies/{study}", true},
	{"POST /api/v1/schools/{school}/studies/{study}/exports", true},
	{"POST /api/v1/schools/{school}/legal/{basis}/exports", true},
	{"POST /api/v1/audit/verify", true},
	{"GET /api/v1/openapi.json", true},
	{"GET /healthz", true},
	{"GET /readyz", true},
	{"GET /metrics", true},
	{"GET /{$}", false},
	{"GET /static/style.css", false},
	{"GET /login", false},
	{"POST /login", false},
	{"POST /logout", false},
	{"GET /schools", false},
	{"GET /schools/{school}", false},
	{"POST /schools/{school}/consent", false},
	{"POST /schools/{school}/test-connection", false},
	{"POST /schools/{school}/approve", false},
	{"POST /schools/{school}/sync", false},
	{"POST /schools/{school}/contact", false},
	{"POST /schools/{school}/recipients/{name}/remove", false},
}

func loadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// docOps lists the document's operations as "METHOD /path".
func docOps(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[method+" "+path] = op
		}
	}
	return out
}

// concrete fills a pattern's wildcards with values that exist.
func concrete(pattern string, school gateway.SchoolID) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{school}", string(school))
	path = strings.ReplaceAll(path, "{processing}", string(gateway.ProcessingResearch))
	path = strings.ReplaceAll(path, "{name}", feedName)
	path = strings.ReplaceAll(path, "{study}", studyName)
	path = strings.ReplaceAll(path, "{basis}", fileBasis.Name)
	return strings.ReplaceAll(path, "{$}", "")
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	ids := map[string]string{}
	for key, op := range docOps(doc) {
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		} else if other, dup := ids[op.OperationID]; dup {
			t.Errorf("%s and %s share operationId %s", key, other, op.OperationID)
		}
		ids[op.OperationID] = key
		public := op.Security != nil && len(*op.Security) == 0
		_, path, _ := strings.Cut(key, " ")
		if strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json" {
			if public {
				t.Errorf("%s is documented without authentication", key)
			}
			if op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s does not document its 401", key)
			}
			if op.Responses.Status(http.StatusForbidden) == nil { // a dashboard token, at least
				t.Errorf("%s does not document its 403", key)
			}
		} else if !public {
			t.Errorf("%s is served without a token but documented with one", key)
		}
	}
	// The served document is the embedded one.
	f := newFixture(t, teststores.Bolt)
	r := f.do(t, req{Method: http.MethodGet, Path: "/api/v1/openapi.json"})
	r.json(t, http.StatusOK, nil)
	if !bytes.Equal(r.Body, httpapi.OpenAPI) {
		t.Error("GET /api/v1/openapi.json is not the embedded openapi.json")
	}
}

// TestKnownRoutesAreTheSourceRoutes holds knownRoutes to the package's
// source: every "METHOD /path" string literal in a non-test Go file.
func TestKnownRoutesAreTheSourceRoutes(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pat := regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /`)
	var found []string
	fset := gotoken.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == gotoken.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && pat.MatchString(s) {
					found = append(found, s)
				}
			}
			return true
		})
	}
	var known []string
	for _, k := range knownRoutes {
		known = append(known, k.pattern)
	}
	sort.Strings(found)
	sort.Strings(known)
	if !slices.Equal(found, known) {
		t.Errorf("route patterns in the source:\n%s\nknownRoutes:\n%s", strings.Join(found, "\n"), strings.Join(known, "\n"))
	}
}

// TestRoutesMatchDocument: see the comment at the top of this file.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	ops := docOps(doc)
	f := newFixture(t, teststores.Bolt)

	// Every operation of the document is served by its own pattern. No
	// token is sent: the route still matches (authentication runs inside
	// it) and nothing is changed.
	for key := range ops {
		method, _, _ := strings.Cut(key, " ")
		r := f.do(t, req{Method: method, Path: concrete(key, f.A.ID)})
		if got := f.routeOf(t, r); got != key {
			t.Errorf("%s: served by %q (status %d), want the documented route", key, got, r.Status)
		}
	}

	// Every known route is served by exactly its pattern; the API ones
	// are documented and the web page's are not.
	for _, k := range knownRoutes {
		method, _, _ := strings.Cut(k.pattern, " ")
		r := f.do(t, req{Method: method, Path: concrete(k.pattern, f.A.ID)})
		if got := f.routeOf(t, r); got != k.pattern {
			t.Errorf("%s: served by %q (status %d)", k.pattern, got, r.Status)
		}
		if _, inDoc := ops[k.pattern]; inDoc != k.doc {
			t.Errorf("%s: in the document %v, want %v", k.pattern, inDoc, k.doc)
		}
	}

	// On a documented path every other method is a 405 naming exactly
	// the documented methods.
	for path, item := range doc.Paths.Map() {
		var want []string
		for m := range item.Operations() {
			want = append(want, m)
			if m == http.MethodGet {
				want = append(want, http.MethodHead)
			}
		}
		sort.Strings(want)
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if item.GetOperation(m) != nil {
				continue
			}
			r := f.do(t, req{Method: m, Path: concrete("X "+path, f.A.ID)})
			var allow []string
			for _, a := range strings.Split(r.Header.Get("Allow"), ",") {
				allow = append(allow, strings.TrimSpace(a))
			}
			sort.Strings(allow)
			if r.Status != http.StatusMethodNotAllowed || f.routeOf(t, r) != "unmatched" || !slices.Equal(allow, want) {
				t.Errorf("%s %s: %d, Allow %q, route %q; want 405 allowing %v", m, path, r.Status, r.Header.Get("Allow"), f.routeOf(t, r), want)
			}
		}
	}
}

// validator checks real responses against the document and counts which
// statuses each operation was seen with.
type validator struct {
	router routers.Router
	seen   map[string]map[int]bool // operationId -> statuses validated
}

func newValidator(t testing.TB) *validator {
	t.Helper()
	doc := loadDoc(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{router: router, seen: map[string]map[int]bool{}}
}

// validate checks one response: its status must be documented for the
// operation, and its body must match the documented media type and schema.
// It returns the operation's id.
func (v *validator) validate(r response) (string, error) {
	// The document's server is "/": the router matches the path alone.
	rq, err := http.NewRequest(r.Method, r.Path, nil)
	if err != nil {
		return "", err
	}
	route, params, err := v.router.FindRoute(rq)
	if err != nil {
		return "", fmt.Errorf("no operation in the document: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: rq, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return route.Operation.OperationID, openapi3filter.ValidateResponse(context.Background(), in)
}

// check validates r and records its status for its operation.
func (v *validator) check(t testing.TB, r response) response {
	t.Helper()
	id, err := v.validate(r)
	if err != nil {
		t.Errorf("%v\ndoes not match the document (%s): %v", r, id, err)
	}
	if id != "" {
		if v.seen[id] == nil {
			v.seen[id] = map[int]bool{}
		}
		v.seen[id][r.Status] = true
	}
	return r
}

// TestValidatorRejects: the validator is not vacuous. Answers the server
// must never give fail it.
func TestValidatorRejects(t *testing.T) {
	t.Parallel()
	v := newValidator(t)
	jsonH := http.Header{"Content-Type": {"application/json"}}
	problemH := http.Header{"Content-Type": {"application/problem+json"}}
	for _, c := range []struct {
		name string
		r    response
	}{
		{"wrong type", response{Method: "GET", Path: "/api/v1/schools", Status: 200, Header: jsonH, Body: []byte(`{"schools":[{"id":7}]}`)}},
		{"missing required", response{Method: "GET", Path: "/api/v1/schools/12AB00/syncs", Status: 200, Header: jsonH, Body: []byte(`{"school":"12AB00"}`)}},
		{"unknown consent", response{Method: "GET", Path: "/api/v1/schools/12AB00/consent", Status: 200, Header: jsonH,
			Body: []byte(`{"school":"12AB00","history":[],"consent":{"las_exchange":true,"dashboards":false,"legal":false,"research":false,"marketing":true}}`)}},
		{"undocumented status", response{Method: "GET", Path: "/api/v1/schools", Status: 418, Header: problemH, Body: []byte(`{"type":"x","title":"x","status":418}`)}},
		{"problem as JSON", response{Method: "GET", Path: "/api/v1/schools/12AB00", Status: 404, Header: jsonH, Body: []byte(`{"type":"x","title":"x","status":404}`)}},
		{"bad enum", response{Method: "GET", Path: "/api/v1/schools/12AB00/held-sync", Status: 200, Header: jsonH,
			Body: []byte(`{"school":"12AB00","run":"r","added":0,"changed":0,"left":1,"changes":[{"pupil":"p","kind":"vanished"}]}`)}},
		{"no route", response{Method: "DELETE", Path: "/api/v1/schools", Status: 405, Header: problemH, Body: []byte(`{}`)}},
	} {
		if _, err := v.validate(c.r); err == nil {
			t.Errorf("%s: %v passed validation", c.name, c.r)
		}
	}
}

// TestResponsesMatchDocument drives every operation to a success and to
// each problem the test can cause, and validates every answer against the
// document with kin-openapi.
func TestResponsesMatchDocument(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		v := newValidator(t)
		a, b := "/api/v1/schools/"+string(f.A.ID), "/api/v1/schools/"+string(f.B.ID)
		ghost := "/api/v1/schools/99ZZ00"
		op, admin, viewer := f.tok.Operator, f.tok.AdminA, f.tok.ViewerA
		get := func(path string, tk token) response { return v.check(t, f.get(t, path, tk)) }
		post := func(path string, tk token, body []byte) response { return v.check(t, f.post(t, path, tk, body)) }
		put := func(path string, tk token, body []byte) response { return v.check(t, f.put(t, path, tk, body)) }

		// Public endpoints.
		v.check(t, f.do(t, req{Method: http.MethodGet, Path: "/api/v1/openapi.json"}))
		v.check(t, f.do(t, req{Method: http.MethodGet, Path: "/healthz"}))
		v.check(t, f.do(t, req{Method: http.MethodGet, Path: "/readyz"}))
		v.check(t, f.do(t, req{Method: http.MethodGet, Path: "/metrics"}))

		// Schools.
		get("/api/v1/schools", op)
		get("/api/v1/schools", token{}).problem(t, http.StatusUnauthorized)
		get("/api/v1/schools", f.tok.Expired).problem(t, http.StatusUnauthorized)
		get(ghost, op).problem(t, http.StatusNotFound)
		get(b, admin).problem(t, http.StatusNotFound)

		// Connection test: ok, a fault, refusals.
		post(a+"/connection-test", admin, nil).json(t, http.StatusOK, nil)
		f.enrol(context.Background(), f.simB, strings.Repeat("f", len(f.simB.Creds.Autorisatiesleutel)))
		var chk gateway.ConnectionCheck
		post(b+"/connection-test", op, nil).json(t, http.StatusOK, &chk)
		if chk.OK {
			t.Error("a connection test with a wrong key passed")
		}
		post(a+"/connection-test", viewer, nil).problem(t, http.StatusForbidden)
		post(b+"/connection-test", admin, nil).problem(t, http.StatusNotFound)
		post(a+"/connection-test", token{}, nil).problem(t, http.StatusUnauthorized)

		// Consent.
		get(a+"/consent", viewer).json(t, http.StatusOK, nil)
		get(b+"/consent", viewer).problem(t, http.StatusNotFound)
		put(a+"/consent/dashboards", admin, []byte(`{"granted":true}`)).json(t, http.StatusOK, nil)
		put(a+"/consent/dashboards", admin, []byte(`{"granted":"maybe"}`)).problem(t, http.StatusUnprocessableEntity)
		put(a+"/consent/teleport", admin, []byte(`{"granted":true}`)).problem(t, http.StatusUnprocessableEntity)
		put(a+"/consent/dashboards", admin, bytes.Repeat([]byte(" "), 1<<20+1)).problem(t, http.StatusRequestEntityTooLarge)
		put(a+"/consent/dashboards", viewer, []byte(`{"granted":true}`)).problem(t, http.StatusForbidden)
		put(b+"/consent/dashboards", admin, []byte(`{"granted":true}`)).problem(t, http.StatusNotFound)

		// The contact person: none yet, set, refused, read.
		bea := []byte(`{"name":"Bea de Beheerder","email":"bea@school.example","phone":"020 123 45 67"}`)
		get(a+"/contact", viewer).problem(t, http.StatusNotFound)
		put(a+"/contact", admin, bea).json(t, http.StatusOK, nil)
		put(a+"/contact", admin, []byte(`{"name":"","email":"bea"}`)).problem(t, http.StatusUnprocessableEntity)
		put(a+"/contact", admin, bytes.Repeat([]byte(" "), 1<<20+1)).problem(t, http.StatusRequestEntityTooLarge)
		put(a+"/contact", viewer, bea).problem(t, http.StatusForbidden)
		put(b+"/contact", admin, bea).problem(t, http.StatusNotFound)
		get(a+"/contact", viewer).json(t, http.StatusOK, nil)
		get(b+"/contact", admin).problem(t, http.StatusNotFound)
		put(a+"/contact", token{}, bea).problem(t, http.StatusUnauthorized)

		// Results: queued, refused, listed.
		post(a+"/results", admin, f.resultsFile(t, f.A.ID, 6)).json(t, http.StatusAccepted, nil)
		post(a+"/results", admin, []byte(`{"results":[{"test":"X"}]}`)).problem(t, http.StatusUnprocessableEntity)
		post(a+"/results", viewer, f.resultsFile(t, f.A.ID, 1)).problem(t, http.StatusForbidden)
		post(b+"/results", admin, f.resultsFile(t, f.B.ID, 1)).problem(t, http.StatusNotFound)
		get(a+"/results", viewer).json(t, http.StatusOK, nil)
		get(a+"/results?state=queued", viewer).json(t, http.StatusOK, nil)
		get(a+"/results?state=gone", viewer).problem(t, http.StatusUnprocessableEntity)
		get(b+"/results", viewer).problem(t, http.StatusNotFound)

		// Recipients and the results feed (dashboards is granted above);
		// studies and exports.
		recipientsMatchDocument(t, f, v)
		exportsMatchDocument(t, f, v)

		// Syncs and held syncs.
		get(a+"/held-sync", viewer).problem(t, http.StatusNotFound)
		post(a+"/held-sync/approve", admin, nil).problem(t, http.StatusNotFound)
		post(a+"/held-sync/approve", viewer, nil).problem(t, http.StatusForbidden)
		post(b+"/syncs", op, nil).problem(t, http.StatusConflict) // no las_exchange
		post(a+"/syncs", viewer, nil).problem(t, http.StatusForbidden)
		post(b+"/syncs", admin, nil).problem(t, http.StatusNotFound)
		n := len(f.runs(t, f.A.ID, op))
		f.clock.Advance(time.Minute)
		f.simA.EditPupils(f.clock.Now(), func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[:len(ls)/3] })
		f.clock.Advance(time.Minute)
		post(a+"/syncs", admin, nil).json(t, http.StatusAccepted, nil)
		if run := f.waitRun(t, f.A.ID, n); run.Status != gateway.SyncHeld {
			t.Fatalf("sync = %+v, want held", run)
		}
		f.waitLockFree(t, f.A.ID)
		get(a+"/syncs", viewer).json(t, http.StatusOK, nil)
		get(a+"/syncs?limit=0", viewer).problem(t, http.StatusUnprocessableEntity)
		get(b+"/syncs", viewer).problem(t, http.StatusNotFound)
		get(a, viewer).json(t, http.StatusOK, nil) // with connection, last sync, held sync, outbox
		get(a+"/held-sync", viewer).json(t, http.StatusOK, nil)
		get(b+"/held-sync", viewer).problem(t, http.StatusNotFound)
		l, err := f.store.AcquireLock(context.Background(), f.A.ID, "another-instance", time.Minute, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		post(a+"/syncs", admin, nil).problem(t, http.StatusConflict)
		post(a+"/held-sync/approve", admin, nil).problem(t, http.StatusConflict)
		if err := f.store.ReleaseLock(context.Background(), l); err != nil {
			t.Fatal(err)
		}
		post(a+"/held-sync/approve", admin, nil).json(t, http.StatusOK, nil)
		get(a, viewer).json(t, http.StatusOK, nil)

		// Audit.
		get(a+"/audit", viewer).json(t, http.StatusOK, nil)
		get(a+"/audit?limit=zero", viewer).problem(t, http.StatusUnprocessableEntity)
		get(b+"/audit", admin).problem(t, http.StatusNotFound)
		post("/api/v1/audit/verify", op, nil).json(t, http.StatusOK, nil)
		post("/api/v1/audit/verify", admin, nil).problem(t, http.StatusForbidden)
		post("/api/v1/audit/verify", token{}, nil).problem(t, http.StatusUnauthorized)

		// Not ready once draining.
		f.srv.Drain()
		v.check(t, f.do(t, req{Method: http.MethodGet, Path: "/readyz"})).json(t, http.StatusServiceUnavailable, nil)

		// Every operation was seen with a success, and with a problem
		// whenever the document names one.
		for key, o := range docOps(loadDoc(t)) {
			seen := v.seen[o.OperationID]
			var ok, bad bool
			for s := range seen {
				ok = ok || s < 300
				bad = bad || s >= 400
			}
			documentsProblem := false
			for code := range o.Responses.Map() {
				if n, err := strconv.Atoi(code); err == nil && n >= 400 {
					documentsProblem = true
				}
			}
			if !ok || (documentsProblem && !bad) {
				t.Errorf("%s (%s) was validated with statuses %v only", key, o.OperationID, slices.Sorted(maps.Keys(seen)))
			}
		}
	})
}
