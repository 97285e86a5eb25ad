package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// failedLoginEntries are the gateway chain's failed-login entries (an
// aggregate of a window counts once, whatever it counts).
func (f *fixture) failedLoginEntries(t testing.TB) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	for _, e := range f.loginAudit(t) {
		if e.Details["ok"] == "false" {
			out = append(out, e)
		}
	}
	return out
}

// failedLogins are the failed-login records (not the records of reads).
func (f *fixture) failedLogins(t testing.TB) []gateway.Login {
	t.Helper()
	var out []gateway.Login
	for _, l := range f.logins(t) {
		if !l.OK && l.What == "" {
			out = append(out, l)
		}
	}
	return out
}

// retryAfter is the whole seconds of a 429's Retry-After header.
func retryAfter(t testing.TB, r response) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("%v: Retry-After %q, want whole seconds >= 1", r, r.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// webLogin posts the login form from a client address.
func (f *fixture) webLogin(t testing.TB, secret, from string, h http.Header) response {
	t.Helper()
	hd := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, v := range h {
		hd[k] = v
	}
	return f.do(t, req{Method: http.MethodPost, Path: "/login", Body: []byte(url.Values{"token": {secret}}.Encode()), Header: hd, From: from})
}

// TestLoginFlood: 50 bad tokens from one address. After the burst every
// attempt is a 429 with Retry-After and is not checked against the store;
// the audit chain grows by one entry at once and one aggregate when the
// window closes (count, first, last), not by one per attempt. A good token
// from another address works throughout, and from the flooded address once
// its bucket has refilled (the server's clock is driven, never slept on).
func TestLoginFlood(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		const flooded, other = "127.0.0.9", "127.0.0.10"
		unknown, _, err := app.GenerateToken(bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		bad := []string{unknown, "uwlr_short", f.tok.Revoked.Secret, f.tok.Expired.Secret}
		before, beforeRecords := len(f.failedLoginEntries(t)), len(f.failedLogins(t))
		var refused, throttled int
		var last response
		for i := range 50 {
			r := f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Secret: bad[i%len(bad)], From: flooded})
			switch r.Status {
			case http.StatusUnauthorized:
				if throttled > 0 {
					t.Fatalf("attempt %d: 401 after a 429: the bucket refilled without the clock moving", i)
				}
				refused++
			case http.StatusTooManyRequests:
				r.problem(t, http.StatusTooManyRequests)
				retryAfter(t, r)
				throttled++
				last = r
			default:
				t.Fatalf("attempt %d: %v; want 401 or 429", i, r)
			}
		}
		if refused != app.DefaultLoginBurst || throttled != 50-app.DefaultLoginBurst {
			t.Errorf("%d refused and %d throttled, want the burst (%d) refused and the rest throttled", refused, throttled, app.DefaultLoginBurst)
		}
		if got := len(f.failedLoginEntries(t)) - before; got != 1 {
			t.Errorf("the flood added %d failed-login audit entries while it lasted, want 1 (the first of its window)", got)
		}
		if got := len(f.failedLogins(t)) - beforeRecords; got != 1 {
			t.Errorf("the flood added %d failed-login records, want 1", got)
		}

		// Another address is not affected; the flooded one waits.
		f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Secret: f.tok.Operator.Secret, From: other}).json(t, http.StatusOK, nil)
		f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Secret: f.tok.Operator.Secret, From: flooded}).problem(t, http.StatusTooManyRequests)
		f.clock.Advance(retryAfter(t, last))
		f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Secret: f.tok.Operator.Secret, From: flooded}).json(t, http.StatusOK, nil)

		// The window closes: one aggregate for the address.
		f.clock.Advance(app.DefaultLoginWindow)
		if err := f.gw.FlushLogins(context.Background()); err != nil {
			t.Fatal(err)
		}
		entries := f.failedLoginEntries(t)
		if got := len(entries) - before; got != 2 {
			t.Fatalf("%d failed-login audit entries after the window closed, want 2 (the first at once, then one aggregate)", got)
		}
		agg := entries[len(entries)-1].Details
		first, ferr := time.Parse(time.RFC3339Nano, agg["first"])
		lastAt, lerr := time.Parse(time.RFC3339Nano, agg["last"])
		if agg["count"] != strconv.Itoa(app.DefaultLoginBurst) || agg["throttled"] != "41" || agg["remote"] != flooded ||
			ferr != nil || lerr != nil || lastAt.Before(first) || !strings.Contains(agg["reasons"], "unknown token") {
			t.Errorf("aggregate %v: want count %d, throttled 41, remote %s, first <= last, the reasons", agg, app.DefaultLoginBurst, flooded)
		}
		if got := metricValue(t, f, `uwlr_logins_throttled_total{via="api"}`); got != 41 {
			t.Errorf("uwlr_logins_throttled_total = %v, want 41", got)
		}
	})
}

// TestWebLoginFlood: the login form is throttled the same way, and a
// throttled form shows the page with 429 and Retry-After.
func TestWebLoginFlood(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	const from = "127.0.0.11"
	for i := range app.DefaultLoginBurst {
		if r := f.webLogin(t, f.tok.Revoked.Secret, from, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("web attempt %d: %v, want 401", i, r)
		}
	}
	r := f.webLogin(t, f.tok.AdminA.Secret, from, nil)
	if r.Status != http.StatusTooManyRequests || r.mediaType() != "text/html" {
		t.Fatalf("web login past the burst: %v, want a 429 page", r)
	}
	f.clock.Advance(retryAfter(t, r))
	if r := f.webLogin(t, f.tok.AdminA.Secret, from, nil); r.Status != http.StatusSeeOther {
		t.Errorf("web login after the bucket refilled: %v, want 303", r)
	}
}

// TestRefusedTokensLookAlike: a revoked, an expired, an unknown and a
// malformed token get the same 401, byte for byte, on the API and on the
// login page; only the audit entry knows which it was.
func TestRefusedTokensLookAlike(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		unknown, _, err := app.GenerateToken(bytes.NewReader(bytes.Repeat([]byte{5}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct{ name, secret, reason string }{
			{"revoked", f.tok.Revoked.Secret, "revoked token"},
			{"expired", f.tok.Expired.Secret, "expired token"},
			{"unknown", unknown, "unknown token"},
			{"malformed", "uwlr_nope", "malformed token"},
		}
		var api, web []byte
		for i, c := range cases {
			from := "127.0.1." + strconv.Itoa(i+1)
			r := f.do(t, req{Method: http.MethodGet, Path: "/api/v1/schools", Secret: c.secret, From: from})
			p := r.problem(t, http.StatusUnauthorized)
			if strings.Contains(p.Detail, c.reason) {
				t.Errorf("%s: the 401 says why (%q)", c.name, p.Detail)
			}
			if api == nil {
				api = r.Body
			} else if !bytes.Equal(r.Body, api) || r.Header.Get("WWW-Authenticate") != `Bearer realm="uwlr-gateway", error="invalid_token"` {
				t.Errorf("%s: API answer %s (%s), want the same as the first: %s", c.name, r.Body, r.Header.Get("WWW-Authenticate"), api)
			}
			w := f.webLogin(t, c.secret, "127.0.1."+strconv.Itoa(i+11), nil)
			if w.Status != http.StatusUnauthorized {
				t.Errorf("%s: web login %v, want 401", c.name, w)
			}
			if web == nil {
				web = w.Body
			} else if !bytes.Equal(w.Body, web) {
				t.Errorf("%s: the login page differs from the first refusal's", c.name)
			}
		}
		reasons := map[string]int{}
		for _, e := range f.failedLoginEntries(t) {
			reasons[e.Details["reason"]]++
		}
		for _, c := range cases {
			if reasons[c.reason] != 2 {
				t.Errorf("audit has %d entries with reason %q, want 2 (API and web): %v", reasons[c.reason], c.reason, reasons)
			}
		}
	})
}

// TestLoginCrossSite: a login form posted from another site is refused
// with 403 before the token is looked at; the browser's own page logs in.
func TestLoginCrossSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	self := f.http.URL
	for _, c := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"other origin", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"null origin", http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {self}}, http.StatusForbidden},
		{"same-site fetch", http.Header{"Sec-Fetch-Site": {"same-site"}}, http.StatusForbidden},
		{"own origin", http.Header{"Origin": {self}}, http.StatusSeeOther},
		{"same-origin fetch", http.Header{"Sec-Fetch-Site": {"same-origin"}}, http.StatusSeeOther},
		{"typed address", http.Header{"Sec-Fetch-Site": {"none"}}, http.StatusSeeOther},
		{"not a browser", nil, http.StatusSeeOther},
	} {
		before := len(f.loginAudit(t))
		r := f.webLogin(t, f.tok.AdminA.Secret, "", c.header)
		if r.Status != c.want {
			t.Errorf("%s: %v, want %d", c.name, r, c.want)
		}
		if c.want == http.StatusForbidden {
			if strings.Contains(r.Header.Get("Set-Cookie"), "uwlr_session") {
				t.Errorf("%s: a cross-site login got a session", c.name)
			}
			if got := len(f.loginAudit(t)); got != before {
				t.Errorf("%s: a cross-site post was taken as a login attempt", c.name)
			}
		}
	}
}

// TestStatusMessageKeys: ?msg= names a message of a fixed list; anything
// else shows nothing, and a page action redirects with a key.
func TestStatusMessageKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	s := f.loginSession(t, f.tok.AdminA)
	page := func(query string) string {
		t.Helper()
		resp := f.noRedirect(t, http.MethodGet, "/schools/"+string(f.A.ID)+"?"+query, nil, s.cookie)
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("school page ?%s: %d", query, resp.StatusCode)
		}
		return b.String()
	}
	for _, q := range []string{"msg=" + url.QueryEscape("Uw sessie is verlopen: log in op evil.example"), "msg=msg.contact", "msg=title", "msg="} {
		if p := page(q); strings.Contains(p, `class="message"`) {
			t.Errorf("?%s shows a message", q)
		}
	}
	if p := page("msg=contact"); !strings.Contains(p, `<p class="message" role="status">Contactpersoon opgeslagen.</p>`) {
		t.Error("?msg=contact does not show its message")
	}
	if p := page("msg=consent&held=2&released=x"); !strings.Contains(p, "Toestemming bijgewerkt. 2 batches met resultaten vastgehouden.</p>") {
		t.Error("?msg=consent&held=2 does not show the held count (and only that)")
	}
	form := url.Values{"csrf": {s.csrf}, "name": {"Bea de Beheerder"}, "email": {"bea@school.example"}}
	resp := f.noRedirect(t, http.MethodPost, "/schools/"+string(f.A.ID)+"/contact", form, s.cookie)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/schools/"+string(f.A.ID)+"?msg=contact" {
		t.Errorf("contact form: %d to %q, want a redirect with ?msg=contact", resp.StatusCode, loc)
	}
}
