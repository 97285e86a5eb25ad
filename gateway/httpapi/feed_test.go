package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// dashboardToken creates a dashboard token for recipient at schools, the
// way `token create --role dashboard` does.
func (f *fixture) dashboardToken(t testing.TB, recipient string, schools ...gateway.SchoolID) token {
	t.Helper()
	tk, secret, err := f.gw.CreateToken(ctxT(t), app.TokenRequest{Role: gateway.RoleDashboard, Schools: schools, Recipient: recipient,
		Name: "Dashboard " + string(schools[0])}, "test")
	if err != nil {
		t.Fatal(err)
	}
	tok := token{Secret: secret, Token: tk}
	f.tok.more = append(f.tok.more, tok)
	return tok
}

// nextLink is the URL of a Link header's rel="next" ("" when none).
var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// readFeed reads one page as tok.
func (f *fixture) readFeed(t testing.TB, path string, tok token) (gateway.FeedPage, string) {
	t.Helper()
	r := f.get(t, path, tok)
	var page gateway.FeedPage
	r.json(t, http.StatusOK, &page)
	next := ""
	if l := r.Header.Get("Link"); l != "" {
		m := nextLink.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("%v: Link %q", r, l)
		}
		next = m[1]
	}
	if (next != "") != page.More {
		t.Fatalf("%v: Link %q with more=%v", r, r.Header.Get("Link"), page.More)
	}
	return page, next
}

// TestResultsFeed: a dashboard token reads its recipient's feed of the
// school's results, by LAS key only, while the school grants dashboards;
// pages walk every result once; nothing else is served to it.
func TestResultsFeed(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a, b := "/api/v1/schools/"+string(f.A.ID), "/api/v1/schools/"+string(f.B.ID)
		f.post(t, a+"/recipients", f.tok.AdminA, feedRecipientBody).json(t, http.StatusCreated, nil)
		f.post(t, b+"/recipients", f.tok.Operator, feedRecipientBody).json(t, http.StatusCreated, nil)
		dashA, dashB := f.dashboardToken(t, feedName, f.A.ID), f.dashboardToken(t, feedName, f.B.ID)
		const n = 6
		f.post(t, a+"/results", f.tok.AdminA, f.resultsFile(t, f.A.ID, n)).json(t, http.StatusAccepted, nil)
		feed := a + "/feeds/results"

		// Not granted: 403, and not one result in the answer.
		for _, c := range []struct {
			path string
			tok  token
		}{{feed, dashA}, {feed + "?recipient=" + feedName, f.tok.AdminA}} {
			r := f.get(t, c.path, c.tok)
			p := r.problem(t, http.StatusForbidden)
			if p.Type != "urn:uwlr-gateway:problem:consent-required" || !strings.Contains(p.Detail, "does not grant dashboards") ||
				strings.Contains(string(r.Body), `"results"`) || strings.Contains(string(r.Body), "REK-M4") {
				t.Errorf("%s without dashboards: %v", c.tok.ID, r)
			}
		}

		f.put(t, a+"/consent/dashboards", f.tok.AdminA, []byte(`{"granted": true}`)).json(t, http.StatusOK, nil)
		page, next := f.readFeed(t, feed, dashA)
		if page.School != f.A.ID || page.Recipient != feedName || len(page.Results) != n || page.More || next != "" {
			t.Fatalf("the whole feed = %+v (next %q), want %d results and no more", page, next, n)
		}
		f.noPupilData(t, page)
		var admin gateway.FeedPage
		admin, _ = f.readFeed(t, feed+"?recipient="+feedName, f.tok.AdminA)
		if !slices.Equal(resultIDs(admin), resultIDs(page)) {
			t.Errorf("the school admin reads %v, the dashboard %v", resultIDs(admin), resultIDs(page))
		}

		// Pages of one walk every result exactly once, by the Link header.
		var walked []string
		for path, pages := feed+"?limit=1", 0; path != ""; pages++ {
			if pages > n {
				t.Fatalf("more than %d pages of one result", n)
			}
			p, next := f.readFeed(t, path, dashA)
			if len(p.Results) != 1 || next != "" && !strings.Contains(next, "cursor="+url.QueryEscape(p.Next)) {
				t.Fatalf("page %d = %+v, next %q", pages, p, next)
			}
			walked = append(walked, resultIDs(p)...)
			path = next
		}
		if !slices.Equal(walked, resultIDs(page)) {
			t.Errorf("paging walked %v, want each of %v once, in order", walked, resultIDs(page))
		}
		if end, next := f.readFeed(t, feed+"?cursor="+url.QueryEscape(page.Next), dashA); len(end.Results) != 0 || end.More || next != "" {
			t.Errorf("after the last result: %+v", end)
		}

		feedRefusals(t, f, dashA, dashB)

		// Revoked: closed again.
		f.put(t, a+"/consent/dashboards", f.tok.Operator, []byte(`{"granted": false}`)).json(t, http.StatusOK, nil)
		if r := f.get(t, feed, dashA); r.problem(t, http.StatusForbidden).Type != "urn:uwlr-gateway:problem:consent-required" ||
			strings.Contains(string(r.Body), "REK-M4") {
			t.Errorf("after revoking dashboards: %v", r)
		}

		// Every page handed out is on the school's audit chain as an export.
		var exports int
		for _, e := range f.audit(t, gateway.AuditChainOf(f.A.ID)) {
			if e.Kind == gateway.AuditExport && e.Details["recipient"] == feedName {
				exports++
			}
		}
		if want := 3 + n; exports != want {
			t.Errorf("%d feed exports on A's audit chain, want %d (one per page with results)", exports, want)
		}
	})
}

// feedRefusals: who may not read which feed.
func feedRefusals(t *testing.T, f *fixture, dashA, dashB token) {
	t.Helper()
	a, b := "/api/v1/schools/"+string(f.A.ID), "/api/v1/schools/"+string(f.B.ID)
	feed := a + "/feeds/results"
	for _, c := range []struct {
		path   string
		tok    token
		status int
		detail string
	}{
		{feed + "?recipient=other", dashA, http.StatusForbidden, "its own recipient only"},
		{feed + "?recipient=" + feedName, dashA, 0, ""}, // its own, named: served
		{feed, dashB, http.StatusNotFound, ""},          // a dashboard of another school
		{b + "/feeds/results", dashA, http.StatusNotFound, ""},
		{"/api/v1/schools/99ZZ00/feeds/results", dashA, http.StatusNotFound, ""},
		{feed + "?recipient=" + feedName, f.tok.ViewerA, http.StatusForbidden, "viewer"},
		{feed, f.tok.Operator, http.StatusUnprocessableEntity, "recipient"},
		{feed + "?recipient=nosuch", f.tok.Operator, http.StatusUnprocessableEntity, `no dashboards recipient "nosuch" of kind feed`},
		{b + "/feeds/results?recipient=" + feedName, f.tok.AdminA, http.StatusNotFound, ""},
		{feed + "?cursor=not-a-cursor!", dashA, http.StatusUnprocessableEntity, "cursor"},
		{feed + "?limit=0", dashA, http.StatusUnprocessableEntity, "limit"},
		{feed + "?limit=5001", dashA, http.StatusUnprocessableEntity, "limit"},
	} {
		r := f.get(t, c.path, c.tok)
		if c.status == 0 {
			r.json(t, http.StatusOK, nil)
			continue
		}
		p := r.problem(t, c.status)
		text := p.Detail
		for _, e := range p.Errors {
			text += " | " + e.Field + ": " + e.Reason
		}
		if !strings.Contains(text, c.detail) || strings.Contains(string(r.Body), "REK-M4") {
			t.Errorf("%s as %s: %v, want %q", c.path, c.tok.ID, r, c.detail)
		}
	}
}

func resultIDs(p gateway.FeedPage) []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

// noPupilData: every result names a pupil of the school by LAS key, and
// the page holds no pupil's name, birth date or ECK iD.
func (f *fixture) noPupilData(t *testing.T, page gateway.FeedPage) {
	t.Helper()
	keys := map[string]bool{}
	for _, p := range f.pupils(t, f.A.ID) {
		keys[p.LASKey] = true
	}
	for _, r := range page.Results {
		if r.Pupil == "" || !keys[r.Pupil] || r.ID == "" || r.Test != "REK-M4" {
			t.Errorf("result %+v does not name a pupil of school A by LAS key", r)
		}
	}
	body := string(mustJSON(t, page))
	for _, p := range f.simA.Pupils() {
		for what, v := range map[string]string{"ECK iD": p.Eckid, "birth date": p.Geboortedatum} {
			if v != "" && strings.Contains(body, v) {
				t.Errorf("the feed holds the %s of las-sim pupil %s", what, p.Key)
			}
		}
		for what, v := range map[string]string{"surname": p.Achternaam, "first names": p.Voornamen, "name": p.Roepnaam} {
			if v != "" && strings.Contains(body, `"`+v+`"`) {
				t.Errorf("the feed holds the %s of las-sim pupil %s", what, p.Key)
			}
		}
	}
}

// TestDashboardTokenReadsOnlyItsFeed walks every API route the server
// registers (knownRoutes, held to the source) with a dashboard token:
// each answers 403, for its school, another and one that does not exist,
// and changes nothing; the feed alone is served. It cannot log in to the
// web page: it is told what a bad token is told.
func TestDashboardTokenReadsOnlyItsFeed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	a := "/api/v1/schools/" + string(f.A.ID)
	f.post(t, a+"/recipients", f.tok.AdminA, feedRecipientBody).json(t, http.StatusCreated, nil)
	f.put(t, a+"/consent/dashboards", f.tok.AdminA, []byte(`{"granted": true}`)).json(t, http.StatusOK, nil)
	dash := f.dashboardToken(t, feedName, f.A.ID)
	const feedRoute = "GET /api/v1/schools/{school}/feeds/results"

	before, beforeB := f.state(t, f.A.ID), f.state(t, f.B.ID)
	walked := 0
	for _, k := range knownRoutes {
		method, path, _ := strings.Cut(k.pattern, " ")
		if !strings.HasPrefix(path, "/api/v1/") || path == "/api/v1/openapi.json" || k.pattern == feedRoute {
			continue
		}
		walked++
		for _, school := range []gateway.SchoolID{f.A.ID, f.B.ID, "99ZZ00"} {
			r := f.do(t, req{Method: method, Path: concrete(k.pattern, school), Secret: dash.Secret, Body: []byte(`{}`)})
			if p := r.problem(t, http.StatusForbidden); p.Detail != "a dashboard token may only read its results feed" {
				t.Errorf("%s for %s: %+v", k.pattern, school, p)
			}
		}
	}
	if walked < 19 {
		t.Fatalf("walked %d API routes: knownRoutes lost them", walked)
	}
	if after, afterB := f.state(t, f.A.ID), f.state(t, f.B.ID); !sameState(before, after) || !sameState(beforeB, afterB) {
		t.Errorf("the dashboard token changed a school: A %+v -> %+v, B %+v -> %+v", before, after, beforeB, afterB)
	}
	f.readFeed(t, concrete(feedRoute, f.A.ID), dash)

	// The web page: refused at login like a bad token, and no session.
	// (From two addresses: each is the first failed login of its
	// address's window, so each is audited at once.)
	bad := f.do(t, req{Method: http.MethodPost, Path: "/login", Body: []byte(url.Values{"token": {"uwlr_" + strings.Repeat("x", 43)}}.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, From: "127.0.4.1"})
	r := f.do(t, req{Method: http.MethodPost, Path: "/login", Body: []byte(url.Values{"token": {dash.Secret}}.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, From: "127.0.4.2"})
	if r.Status != http.StatusUnauthorized || r.Status != bad.Status || r.Header.Get("Set-Cookie") != "" ||
		!strings.Contains(string(r.Body), "Deze toegangssleutel is niet geldig.") {
		t.Errorf("web login with a dashboard token: %v (a bad token: %v)", r, bad)
	}
	var refused bool
	for _, e := range f.loginAudit(t) {
		d := e.Details
		refused = refused || d["account"] == dash.ID && d["ok"] == "false" && d["via"] == "web" && strings.Contains(d["reason"], "dashboard")
	}
	if !refused {
		t.Errorf("the dashboard token's web login is not audited as refused: %+v", f.loginAudit(t))
	}
}

// recipientsMatchDocument drives the recipients routes and the results
// feed (with dashboards granted and results queued by the caller) to a
// success and their problems, validating each answer.
func recipientsMatchDocument(t *testing.T, f *fixture, v *validator) {
	t.Helper()
	a, b := "/api/v1/schools/"+string(f.A.ID), "/api/v1/schools/"+string(f.B.ID)
	admin, viewer := f.tok.AdminA, f.tok.ViewerA
	check := func(r req) response { return v.check(t, f.do(t, r)) }
	check(req{Method: http.MethodGet, Path: a + "/recipients", Secret: viewer.Secret}).json(t, http.StatusOK, nil)
	check(req{Method: http.MethodGet, Path: b + "/recipients", Secret: viewer.Secret}).problem(t, http.StatusNotFound)
	check(req{Method: http.MethodPost, Path: a + "/recipients", Secret: admin.Secret, Body: feedRecipientBody}).json(t, http.StatusCreated, nil)
	check(req{Method: http.MethodPost, Path: a + "/recipients", Secret: admin.Secret, Body: feedRecipientBody}).problem(t, http.StatusConflict)
	check(req{Method: http.MethodPost, Path: a + "/recipients", Secret: admin.Secret, Body: []byte(`{"name":"x","processing":"marketing"}`)}).problem(t, http.StatusUnprocessableEntity)
	check(req{Method: http.MethodPost, Path: a + "/recipients", Secret: admin.Secret, Body: make([]byte, 64<<10+1)}).problem(t, http.StatusRequestEntityTooLarge)
	check(req{Method: http.MethodPost, Path: a + "/recipients", Secret: viewer.Secret, Body: feedRecipientBody}).problem(t, http.StatusForbidden)
	check(req{Method: http.MethodPost, Path: b + "/recipients", Secret: admin.Secret, Body: feedRecipientBody}).problem(t, http.StatusNotFound)
	check(req{Method: http.MethodGet, Path: a + "/recipients/" + feedName, Secret: viewer.Secret}).json(t, http.StatusOK, nil)
	check(req{Method: http.MethodGet, Path: a + "/recipients/nope", Secret: viewer.Secret}).problem(t, http.StatusNotFound)

	dash := f.dashboardToken(t, feedName, f.A.ID)
	feed := a + "/feeds/results"
	check(req{Method: http.MethodGet, Path: a + "/recipients", Secret: dash.Secret}).problem(t, http.StatusForbidden)
	r := check(req{Method: http.MethodGet, Path: feed + "?limit=2", Secret: dash.Secret})
	if r.json(t, http.StatusOK, nil); r.Header.Get("Link") == "" {
		t.Errorf("%v: no Link to the next page", r)
	}
	check(req{Method: http.MethodGet, Path: feed + "?recipient=" + feedName, Secret: viewer.Secret}).problem(t, http.StatusForbidden)
	check(req{Method: http.MethodGet, Path: feed + "?recipient=" + feedName, Secret: admin.Secret}).json(t, http.StatusOK, nil)
	check(req{Method: http.MethodGet, Path: feed, Secret: admin.Secret}).problem(t, http.StatusUnprocessableEntity)
	check(req{Method: http.MethodGet, Path: b + "/feeds/results", Secret: dash.Secret}).problem(t, http.StatusNotFound)
	check(req{Method: http.MethodGet, Path: feed, Secret: ""}).problem(t, http.StatusUnauthorized)

	check(req{Method: http.MethodDelete, Path: a + "/recipients/" + feedName, Secret: viewer.Secret}).problem(t, http.StatusForbidden)
	if r := check(req{Method: http.MethodDelete, Path: a + "/recipients/" + feedName, Secret: admin.Secret}); r.Status != http.StatusNoContent {
		t.Errorf("%v; want 204", r)
	}
	check(req{Method: http.MethodDelete, Path: a + "/recipients/" + feedName, Secret: admin.Secret}).problem(t, http.StatusNotFound)
}
