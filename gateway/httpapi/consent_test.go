package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// TestOnlyTheSchoolGrants: the school itself opts in. On the API an
// operator's grant is refused (403, saying who may grant) and changes
// nothing, an operator may revoke, and the school's own admin grants; the
// web page keeps the same rule.
func TestOnlyTheSchoolGrants(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID) + "/consent/"
		p := f.put(t, a+"dashboards", f.tok.Operator, []byte(`{"granted":true}`)).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "only the school itself grants") || !strings.Contains(p.Detail, "school-admin token") {
			t.Errorf("operator grant refused with %q, want who may grant", p.Detail)
		}
		f.put(t, a+"las_exchange", f.tok.Operator, []byte(`{"granted":false}`)).json(t, http.StatusOK, nil)
		f.put(t, a+"dashboards", f.tok.AdminA, []byte(`{"granted":true}`)).json(t, http.StatusOK, nil)
		c := f.consent(t)
		if c[gateway.ProcessingLASExchange] || !c[gateway.ProcessingDashboards] {
			t.Errorf("consent after the API steps = %v, want las_exchange revoked by the operator, dashboards granted by the school", c)
		}

		// The page: the operator's grant is a 403, the school admin's goes through.
		op, admin := f.loginSession(t, f.tok.Operator), f.loginSession(t, f.tok.AdminA)
		if st := op.postConsent(t, f, "las_exchange", true); st != http.StatusForbidden {
			t.Errorf("operator grant on the page: status %d, want 403", st)
		}
		if f.consent(t)[gateway.ProcessingLASExchange] {
			t.Fatal("the operator's grant on the page changed consent")
		}
		if st := admin.postConsent(t, f, "las_exchange", true); st != http.StatusSeeOther {
			t.Errorf("school-admin grant on the page: status %d, want 303", st)
		}
		if !f.consent(t)[gateway.ProcessingLASExchange] {
			t.Error("the school admin's grant on the page did not take")
		}
	})
}

// TestLogoutEndsTheSessionOnTheServer: after logout a copy of the session
// cookie is refused, and so is every session of a revoked token.
func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		s := f.loginSession(t, f.tok.AdminA)
		copied := s.cookie
		if st := s.get(t, f, "/schools/"+string(f.A.ID)); st != http.StatusOK {
			t.Fatalf("school page with a fresh session: %d", st)
		}
		form := url.Values{"csrf": {s.csrf}}
		if st := s.post(t, f, "/logout", form); st != http.StatusSeeOther {
			t.Fatalf("logout: %d", st)
		}
		s.cookie = copied
		if st := s.get(t, f, "/schools/"+string(f.A.ID)); st != http.StatusSeeOther {
			t.Errorf("the session cookie after logout: status %d, want a redirect to the login page", st)
		}
		again := f.loginSession(t, f.tok.AdminA)
		if st := again.get(t, f, "/schools/"+string(f.A.ID)); st != http.StatusOK {
			t.Errorf("a new login after logout: %d", st)
		}
	})
}

func (f *fixture) consent(t *testing.T) gateway.Consent {
	t.Helper()
	c, err := f.store.Consent(ctxT(t), f.A.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// webSession is a logged-in browser: its session cookie and CSRF token.
type pageSession struct {
	cookie *http.Cookie
	csrf   string
}

func (f *fixture) loginSession(t *testing.T, tok token) *pageSession {
	t.Helper()
	resp := f.noRedirect(t, http.MethodPost, "/login", url.Values{"token": {tok.Secret}}, nil)
	s := &pageSession{}
	for _, c := range resp.Cookies() {
		if c.Name == "uwlr_session" {
			s.cookie = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || s.cookie == nil {
		t.Fatalf("login with %s: status %d, no session cookie", tok.ID, resp.StatusCode)
	}
	page := f.noRedirect(t, http.MethodGet, "/schools/"+string(f.A.ID), nil, s.cookie)
	b, _ := io.ReadAll(page.Body)
	m := csrfField.FindSubmatch(b)
	if m == nil {
		t.Fatalf("school page (status %d) has no CSRF token", page.StatusCode)
	}
	s.csrf = string(m[1])
	return s
}

func (s *pageSession) get(t *testing.T, f *fixture, path string) int {
	return f.noRedirect(t, http.MethodGet, path, nil, s.cookie).StatusCode
}

func (s *pageSession) post(t *testing.T, f *fixture, path string, form url.Values) int {
	return f.noRedirect(t, http.MethodPost, path, form, s.cookie).StatusCode
}

func (s *pageSession) postConsent(t *testing.T, f *fixture, processing string, grant bool) int {
	form := url.Values{"csrf": {s.csrf}, "processing": {processing}, "granted": {map[bool]string{true: "true", false: "false"}[grant]}}
	return s.post(t, f, "/schools/"+string(f.A.ID)+"/consent", form)
}

// noRedirect does one request without following a redirect.
func (f *fixture) noRedirect(t *testing.T, method, path string, form url.Values, c *http.Cookie) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, f.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c != nil {
		req.AddCookie(c)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
