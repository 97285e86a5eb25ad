package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// section is the part of the page about one processing's recipients.
func section(t *testing.T, page string, p gateway.Processing) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `id="recipients-`+string(p)+`"`)
	if !ok {
		t.Fatalf("the page has no recipients section for %s:\n%s", p, page)
	}
	s, _, _ := strings.Cut(rest, `<div class="switch"`)
	return s
}

// postRemove posts a Remove button of school A's page.
func (f *fixture) postRemove(t *testing.T, cookie, csrf, name string) response {
	t.Helper()
	return f.do(t, req{Method: http.MethodPost, Path: "/schools/" + string(f.A.ID) + "/recipients/" + name + "/remove",
		Body: []byte(url.Values{"csrf": {csrf}}.Encode()), Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}}})
}

// TestRecipientsOnSchoolPage: under each consent switch the page shows
// what stops when it is off and the recipients that depend on it, with
// what was sent to them last; the school's admin removes one with its
// button (CSRF checked), a viewer sees no button and is refused.
func TestRecipientsOnSchoolPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	a := "/api/v1/schools/" + string(f.A.ID)
	hook := map[string]any{"name": "hook", "processing": "dashboards", "kind": "webhook", "url": "https://dash.example/hooks",
		"basis": "verwerkersovereenkomst Dash BV", "secret": webhookSecret(t)}
	f.post(t, a+"/recipients", f.tok.AdminA, mustJSON(t, hook)).json(t, http.StatusCreated, nil)
	f.post(t, a+"/recipients", f.tok.AdminA, feedRecipientBody).json(t, http.StatusCreated, nil)
	uni := map[string]any{"name": "uni", "processing": "research", "kind": "file", "country": "BE", "basis": "onderzoeksovereenkomst"}
	f.post(t, a+"/recipients", f.tok.AdminA, mustJSON(t, uni)).json(t, http.StatusCreated, nil)

	// The feed hands out a page: its recipient shows what was sent, and when.
	f.put(t, a+"/consent/dashboards", f.tok.AdminA, []byte(`{"granted": true}`)).json(t, http.StatusOK, nil)
	f.post(t, a+"/results", f.tok.AdminA, f.resultsFile(t, f.A.ID, 4)).json(t, http.StatusAccepted, nil)
	f.readFeed(t, a+"/feeds/results", f.dashboardToken(t, feedName, f.A.ID))
	sentAt := f.clock.Now().In(gateway.Amsterdam).Format("2006-01-02 15:04")

	cookie, csrf := f.webSession(t, f.tok.AdminA)
	page := f.page(t, cookie)
	dash := section(t, page, gateway.ProcessingDashboards)
	hookRow, _, _ := strings.Cut(dash[strings.Index(dash, `id="recipient-hook"`)+1:], "</tr>")
	for _, want := range []string{`id="recipient-hook"`, "https://dash.example/hooks", "verwerkersovereenkomst Dash BV", `id="remove-hook"`,
		`id="recipient-dash"`, "pulls from the results feed", "results stop going to these dashboards; queued results wait"} {
		if !strings.Contains(dash, want) {
			t.Errorf("the dashboards section lacks %q:\n%s", want, dash)
		}
	}
	if !strings.Contains(hookRow, "nothing sent yet") || !strings.Contains(dash, sentAt+": 4 records") {
		t.Errorf("the dashboards section does not say what was sent last (hook: nothing yet; dash: 4 records at %s):\n%s", sentAt, dash)
	}
	research := section(t, page, gateway.ProcessingResearch)
	for _, want := range []string{`id="recipient-uni"`, "export file for the operator", "country BE", "nothing sent yet", "no research export can be made"} {
		if !strings.Contains(research, want) {
			t.Errorf("the research section lacks %q:\n%s", want, research)
		}
	}
	if las := section(t, page, gateway.ProcessingLASExchange); !strings.Contains(las, "The school&#39;s LAS: "+f.A.Endpoint) ||
		!strings.Contains(las, "syncs and results to the LAS stop") || strings.Contains(las, "recipient-") {
		t.Errorf("the las_exchange section:\n%s", las)
	}
	if legal := section(t, page, gateway.ProcessingLegal); !strings.Contains(legal, "No recipient is registered yet.") ||
		!strings.Contains(legal, "no legal disclosure can be made") {
		t.Errorf("the legal section:\n%s", legal)
	}
	if !strings.Contains(page, "Exchanging learning and test results with dashboards") {
		t.Error("the page lost the agreement's description of dashboards")
	}
	if nl := f.do(t, req{Method: http.MethodGet, Path: "/schools/" + string(f.A.ID) + "?lang=nl", Header: http.Header{"Cookie": {cookie}}}); !strings.Contains(string(nl.Body), "nog niets verzonden") ||
		!strings.Contains(string(nl.Body), "gaan er geen resultaten meer naar deze dashboards") {
		t.Errorf("the Dutch page lacks the recipients' texts: %v", nl)
	}

	// A viewer sees the recipients, no button, and cannot remove one.
	vcookie, vcsrf := f.webSession(t, f.tok.ViewerA)
	if vpage := f.page(t, vcookie); !strings.Contains(vpage, `id="recipient-hook"`) || strings.Contains(vpage, `id="remove-`) {
		t.Errorf("the viewer's page:\n%s", section(t, vpage, gateway.ProcessingDashboards))
	}
	if r := f.postRemove(t, vcookie, vcsrf, "hook"); r.Status != http.StatusForbidden {
		t.Errorf("a viewer's Remove: %v, want 403", r)
	}
	if r := f.postRemove(t, cookie, "forged", "hook"); r.Status != http.StatusForbidden {
		t.Errorf("a Remove without the page's CSRF token: %v, want 403", r)
	}
	if got := strings.Join(f.recipientNames(t, f.A.ID), ","); got != "hook,dash,uni" {
		t.Fatalf("refused Removes changed the recipients: %s", got)
	}

	// The school's admin removes it.
	r := f.postRemove(t, cookie, csrf, "hook")
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/schools/"+string(f.A.ID)+"?msg=") {
		t.Fatalf("the admin's Remove: %v, Location %q", r, loc)
	}
	if got := strings.Join(f.recipientNames(t, f.A.ID), ","); got != "dash,uni" {
		t.Errorf("after Remove school A has %s", got)
	}
	if page := f.page(t, cookie); strings.Contains(page, `id="recipient-hook"`) {
		t.Errorf("the page after Remove still lists hook")
	}
	if r := f.postRemove(t, cookie, csrf, "hook"); r.Status != http.StatusNotFound {
		t.Errorf("removing it again: %v, want 404", r)
	}
	var removedBy string
	for _, e := range f.audit(t, gateway.AuditChainOf(f.A.ID)) {
		if e.Kind == gateway.AuditRecipient && e.Details["action"] == "remove" {
			removedBy = e.Details["recipient"] + " by " + e.Actor
		}
	}
	if !strings.HasPrefix(removedBy, "hook by Anna Admin (token tok-admin-a)") {
		t.Errorf("the removal is audited as %q", removedBy)
	}
}
