package httpapi_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
)

// The contact person's values: none may reach the log or the audit.
const (
	beaName  = "Bea de Beheerder"
	beaEmail = "bea.beheer@school.example"
	beaPhone = "020 765 43 21"
)

// TestContactAPI: the school's own admin sets the contact person, its
// viewer reads it and may not change it, another school's admin cannot
// tell it from a school that does not exist; the audit says who changed
// which fields, and neither it nor the log holds a value.
func TestContactAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID) + "/contact"
		p := f.get(t, a, f.tok.ViewerA).problem(t, http.StatusNotFound)
		if !strings.Contains(p.Detail, "no contact person set") {
			t.Errorf("before one is set: %+v", p)
		}
		body := mustJSON(t, map[string]string{"name": " " + beaName + " ", "email": beaEmail, "phone": beaPhone})
		var got httpapi.ContactView
		f.put(t, a, f.tok.AdminA, body).json(t, http.StatusOK, &got)
		if got.School != f.A.ID || got.Name != beaName || got.Email != beaEmail || got.Phone != beaPhone ||
			got.UpdatedBy != "Anna Admin (token tok-admin-a)" || !got.UpdatedAt.Equal(f.clock.Now()) {
			t.Errorf("PUT contact = %+v", got)
		}
		for _, tok := range []token{f.tok.ViewerA, f.tok.ViewerAll, f.tok.Operator} {
			var read httpapi.ContactView
			f.get(t, a, tok).json(t, http.StatusOK, &read)
			if read != got {
				t.Errorf("%s reads %+v, want %+v", tok.ID, read, got)
			}
		}
		f.put(t, a, f.tok.ViewerA, mustJSON(t, map[string]string{"name": "Eve", "email": "eve@evil.example"})).problem(t, http.StatusForbidden)
		// Without a phone the phone is gone; the operator is recorded.
		f.clock.Advance(1)
		var again httpapi.ContactView
		f.put(t, a, f.tok.Operator, mustJSON(t, map[string]string{"name": beaName, "email": beaEmail})).json(t, http.StatusOK, &again)
		if again.Phone != "" || again.UpdatedBy != "Olga Operator (token tok-operator)" {
			t.Errorf("PUT without a phone = %+v", again)
		}
		if s := f.school(f.A.ID); s.Contact == nil || s.Contact.Email != beaEmail || s.Contact.Phone != "" {
			t.Errorf("stored contact %+v", s.Contact)
		}

		var entries []gateway.AuditEntry
		for _, e := range f.audit(t, gateway.AuditChainOf(f.A.ID)) {
			if e.Kind == gateway.AuditSchoolContact {
				entries = append(entries, e)
			}
		}
		if len(entries) != 2 || entries[0].Actor != "Anna Admin (token tok-admin-a)" || entries[0].Details["fields"] != "name,email,phone" ||
			entries[1].Actor != "Olga Operator (token tok-operator)" || entries[1].Details["fields"] != "phone" || entries[1].Details["action"] != "changed" {
			t.Errorf("school.contact entries: %+v", entries)
		}
		noContactValues(t, f)
	})
}

// noContactValues: the contact's values are in no log line, audit entry
// or login record.
func noContactValues(t *testing.T, f *fixture) {
	t.Helper()
	logs, kept := f.logs.String(), f.everything(t)
	for _, v := range []string{beaName, beaEmail, beaPhone, "Beheerder"} {
		if strings.Contains(logs, v) {
			t.Errorf("the log holds the contact's %q", v)
		}
		if strings.Contains(kept, v) {
			t.Errorf("an audit entry or login record holds the contact's %q", v)
		}
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webSession logs in on the page with tok and returns the session cookie
// and the CSRF token of school A's page.
func (f *fixture) webSession(t *testing.T, tok token) (cookie, csrf string) {
	t.Helper()
	r := f.do(t, req{Method: http.MethodPost, Path: "/login", Body: []byte(url.Values{"token": {tok.Secret}}.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "uwlr_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if r.Status != http.StatusSeeOther || cookie == "" {
		t.Fatalf("web login: %v", r)
	}
	page := f.page(t, cookie)
	if m := csrfField.FindStringSubmatch(page); m != nil {
		csrf = html.UnescapeString(m[1])
	}
	return cookie, csrf
}

// page is school A's page (English) as the session sees it.
func (f *fixture) page(t *testing.T, cookie string) string {
	t.Helper()
	r := f.do(t, req{Method: http.MethodGet, Path: "/schools/" + string(f.A.ID) + "?lang=en", Header: http.Header{"Cookie": {cookie}}})
	if r.Status != http.StatusOK {
		t.Fatalf("school page: %v", r)
	}
	return string(r.Body)
}

// postContact posts the page's contact form.
func (f *fixture) postContact(t *testing.T, cookie, csrf string, form url.Values) response {
	t.Helper()
	if csrf != "" {
		form.Set("csrf", csrf)
	}
	return f.do(t, req{Method: http.MethodPost, Path: "/schools/" + string(f.A.ID) + "/contact", Body: []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}}})
}

// TestContactPage: the school's admin sees the contact section with a
// form and saves it (CSRF checked); bad input is refused naming the field;
// a viewer sees the contact without a form and cannot post one.
func TestContactPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	cookie, csrf := f.webSession(t, f.tok.AdminA)
	if page := f.page(t, cookie); !strings.Contains(page, `id="contact-none"`) || !strings.Contains(page, `id="contact-save"`) {
		t.Errorf("before a contact is set the admin's page lacks the empty state or the form:\n%s", page)
	}
	good := url.Values{"name": {beaName}, "email": {beaEmail}, "phone": {beaPhone}}
	for _, bad := range []string{"", "forged"} {
		if r := f.postContact(t, cookie, bad, url.Values{"name": {beaName}, "email": {beaEmail}}); r.Status != http.StatusForbidden {
			t.Errorf("contact form with csrf %q: %v, want 403", bad, r)
		}
	}
	r := f.postContact(t, cookie, csrf, url.Values{"name": {beaName}, "email": {"bea at school"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "email: is not an e-mail address") {
		t.Errorf("bad e-mail address: %v", r)
	}
	if s := f.school(f.A.ID); s.Contact != nil {
		t.Fatalf("refused forms stored %+v", s.Contact)
	}
	r = f.postContact(t, cookie, csrf, good)
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/schools/"+string(f.A.ID)+"?msg=") {
		t.Fatalf("contact form: %v, Location %q", r, loc)
	}
	page := f.page(t, cookie)
	for _, want := range []string{`<dd id="contact-name">` + beaName + `</dd>`, `<dd id="contact-email">` + beaEmail + `</dd>`,
		`<dd id="contact-phone">` + beaPhone + `</dd>`, "by Anna Admin (token tok-admin-a)", `value="` + beaEmail + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if s := f.school(f.A.ID); s.Contact == nil || s.Contact.Name != beaName || s.Contact.UpdatedBy != "Anna Admin (token tok-admin-a)" {
		t.Errorf("stored contact %+v", s.Contact)
	}

	// A viewer of the school sees it, without a form, and cannot post one.
	vcookie, vcsrf := f.webSession(t, f.tok.ViewerA)
	vpage := f.page(t, vcookie)
	if !strings.Contains(vpage, `<dd id="contact-email">`+beaEmail+`</dd>`) || strings.Contains(vpage, `id="contact-save"`) {
		t.Errorf("the viewer's page:\n%s", vpage)
	}
	if r := f.postContact(t, vcookie, vcsrf, url.Values{"name": {"Eve"}, "email": {"eve@evil.example"}}); r.Status != http.StatusForbidden {
		t.Errorf("a viewer's contact form: %v, want 403", r)
	}
	if s := f.school(f.A.ID); s.Contact.Name != beaName {
		t.Errorf("the viewer changed the contact: %+v", s.Contact)
	}
	noContactValues(t, f)
}
