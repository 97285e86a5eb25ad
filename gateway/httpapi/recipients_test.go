package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// feedName is the feed recipient the tests register; feedRecipientBody
// registers it.
const feedName = "dash"

var feedRecipientBody = []byte(`{"name": "dash", "processing": "dashboards", "kind": "feed", "basis": "verwerkersovereenkomst 2026"}`)

// webhookSecret is a fresh Standard Webhooks signing secret.
func webhookSecret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

type recipientList struct {
	School     gateway.SchoolID        `json:"school"`
	Recipients []gateway.RecipientView `json:"recipients"`
}

func (f *fixture) recipientNames(t testing.TB, id gateway.SchoolID) []string {
	t.Helper()
	var out []string
	for _, r := range f.school(id).Recipients {
		out = append(out, r.Name)
	}
	return out
}

// TestRecipientsAPI: the school's admin and an operator register
// recipients (the secret sealed, never shown or logged), everyone in scope
// lists and reads them, bad input is refused naming why and stores
// nothing, a name is used once, viewers neither add nor remove, and
// another school's admin cannot tell the routes from a school that does
// not exist.
func TestRecipientsAPI(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		a := "/api/v1/schools/" + string(f.A.ID) + "/recipients"
		var list recipientList
		f.get(t, a, f.tok.ViewerA).json(t, http.StatusOK, &list)
		if list.School != f.A.ID || list.Recipients == nil || len(list.Recipients) != 0 {
			t.Fatalf("recipients before any = %+v, want an empty list", list)
		}

		secret := webhookSecret(t)
		hook := map[string]any{"name": "hook", "processing": "dashboards", "kind": "webhook", "url": "https://dash.example/hooks",
			"country": "nl", "basis": "verwerkersovereenkomst 2026", "secret": secret}
		r := f.post(t, a, f.tok.AdminA, mustJSON(t, hook))
		var v gateway.RecipientView
		r.json(t, http.StatusCreated, &v)
		if loc := r.Header.Get("Location"); loc != a+"/hook" {
			t.Errorf("Location %q, want %s/hook", loc, a)
		}
		if v.Name != "hook" || v.Kind != gateway.RecipientWebhook || v.Country != "NL" || !v.HasSecret || v.HasKey ||
			v.CreatedBy != "Anna Admin (token tok-admin-a)" || !v.LastSentAt.IsZero() {
			t.Errorf("registered %+v", v)
		}
		f.post(t, a, f.tok.Operator, feedRecipientBody).json(t, http.StatusCreated, nil)

		f.get(t, a, f.tok.ViewerA).json(t, http.StatusOK, &list)
		if len(list.Recipients) != 2 || list.Recipients[0].Name != "hook" || list.Recipients[1].Name != feedName {
			t.Errorf("recipients = %+v, want hook and dash in registration order", list.Recipients)
		}
		var one gateway.RecipientView
		f.get(t, a+"/hook", f.tok.ViewerAll).json(t, http.StatusOK, &one)
		if one != v {
			t.Errorf("GET hook = %+v, want %+v", one, v)
		}
		f.get(t, a+"/nope", f.tok.ViewerA).problem(t, http.StatusNotFound)

		badInput(t, f, a)
		f.post(t, a, f.tok.AdminA, feedRecipientBody).problem(t, http.StatusConflict)

		// Viewers read only; another school's admin sees nothing.
		f.post(t, a, f.tok.ViewerA, mustJSON(t, map[string]any{"name": "v", "processing": "dashboards", "kind": "feed", "basis": "x"})).problem(t, http.StatusForbidden)
		f.do(t, req{Method: http.MethodDelete, Path: a + "/hook", Secret: f.tok.ViewerA.Secret}).problem(t, http.StatusForbidden)
		b := "/api/v1/schools/" + string(f.B.ID) + "/recipients"
		f.get(t, b, f.tok.AdminA).problem(t, http.StatusNotFound)
		f.post(t, b, f.tok.AdminA, feedRecipientBody).problem(t, http.StatusNotFound)
		f.get(t, b+"/"+feedName, f.tok.ViewerA).problem(t, http.StatusNotFound)
		f.do(t, req{Method: http.MethodDelete, Path: b + "/" + feedName, Secret: f.tok.AdminA.Secret}).problem(t, http.StatusNotFound)
		if got := f.recipientNames(t, f.B.ID); len(got) != 0 {
			t.Errorf("school B has recipients %v", got)
		}
		if del := f.do(t, req{Method: http.MethodDelete, Path: a + "/hook", Secret: f.tok.AdminA.Secret}); del.Status != http.StatusNoContent || len(del.Body) != 0 {
			t.Fatalf("DELETE hook: %v, want 204 without a body", del)
		}

		// Removed: gone, and a second remove is a 404.
		if got := f.recipientNames(t, f.A.ID); len(got) != 1 || got[0] != feedName {
			t.Fatalf("after removing hook school A has %v", got)
		}
		f.get(t, a+"/hook", f.tok.AdminA).problem(t, http.StatusNotFound)
		f.do(t, req{Method: http.MethodDelete, Path: a + "/hook", Secret: f.tok.AdminA.Secret}).problem(t, http.StatusNotFound)

		var acts []string
		for _, e := range f.audit(t, gateway.AuditChainOf(f.A.ID)) {
			if e.Kind == gateway.AuditRecipient {
				acts = append(acts, e.Details["action"]+" "+e.Details["recipient"]+" by "+e.Actor)
			}
		}
		want := "add hook by Anna Admin (token tok-admin-a)|add dash by Olga Operator (token tok-operator)|remove hook by Anna Admin (token tok-admin-a)"
		if strings.Join(acts, "|") != want {
			t.Errorf("recipient audit entries %q, want %q", acts, want)
		}
		if strings.Contains(f.logs.String(), secret) || strings.Contains(f.everything(t), secret) || strings.Contains(string(r.Body), "whsec_") {
			t.Error("the webhook secret is in the log, the audit or an answer")
		}
	})
}

// badInput: every bad registration is a 4xx problem naming why, and
// stores nothing.
func badInput(t *testing.T, f *fixture, a string) {
	t.Helper()
	before := f.recipientNames(t, f.A.ID)
	good := func(change map[string]any) []byte {
		m := map[string]any{"name": "x1", "processing": "dashboards", "kind": "webhook", "url": "https://dash.example/x",
			"basis": "overeenkomst", "secret": webhookSecret(t)}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return mustJSON(t, m)
	}
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		detail string // in the problem's detail or a field's reason
		field  string
	}{
		{"unknown processing", good(map[string]any{"processing": "marketing"}), http.StatusUnprocessableEntity, `unknown processing "marketing"`, ""},
		{"las_exchange", good(map[string]any{"processing": "las_exchange", "kind": "uwlr"}), http.StatusUnprocessableEntity, "the school's LAS", ""},
		{"kind for processing", good(map[string]any{"processing": "research", "kind": "feed", "url": nil, "secret": nil}), http.StatusUnprocessableEntity, `kind "feed" does not serve research`, ""},
		{"http outside loopback", good(map[string]any{"url": "http://dash.example/x"}), http.StatusUnprocessableEntity, "https is required outside loopback", ""},
		{"webhook without secret", good(map[string]any{"secret": nil}), http.StatusUnprocessableEntity, "needs its signing secret", ""},
		{"bad secret", good(map[string]any{"secret": "hunter2"}), http.StatusUnprocessableEntity, "does not start with", ""},
		{"no basis", good(map[string]any{"basis": nil}), http.StatusUnprocessableEntity, "basis", ""},
		{"bad name", good(map[string]any{"name": "../etc"}), http.StatusUnprocessableEntity, "recipient name", ""},
		{"unknown field", good(map[string]any{"colour": "red"}), http.StatusUnprocessableEntity, "is not a known field", "/colour"},
		{"duplicate key", []byte(`{"name": "x1", "processing": "dashboards", "kind": "feed", "basis": "b", "name": "x2"}`), http.StatusUnprocessableEntity, "is given more than once", "/name"},
		{"wrong type", good(map[string]any{"quote_soapaction": "yes"}), http.StatusUnprocessableEntity, "must be a JSON boolean", "/quote_soapaction"},
		{"two values", append(good(nil), []byte(` {}`)...), http.StatusUnprocessableEntity, "more than one JSON value", ""},
		{"empty", []byte{}, http.StatusUnprocessableEntity, "the body is empty", ""},
		{"too large", append([]byte(`{"name": "`), append(bytes.Repeat([]byte("a"), 64<<10), `"}`...)...), http.StatusRequestEntityTooLarge, "larger than", ""},
	} {
		p := f.post(t, a, f.tok.AdminA, c.body).problem(t, c.status)
		text := p.Detail
		for _, e := range p.Errors {
			text += " | " + e.Field + ": " + e.Reason
		}
		if !strings.Contains(text, c.detail) || (c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field)) {
			t.Errorf("%s: problem %+v, want %q (field %q)", c.name, p, c.detail, c.field)
		}
	}
	if after := f.recipientNames(t, f.A.ID); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("bad registrations stored recipients: before %v, after %v", before, after)
	}
}
