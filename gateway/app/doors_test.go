package app_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestConsentOpensOnlyItsOwnDoor: with one processing granted and the
// other three off, only that processing's flows move: las_exchange syncs
// and sends results to the LAS; dashboards pushes to the webhook and
// serves the feed; legal discloses; research exports. Every one of the 12
// (granted, other) pairs is checked, in both directions.
func TestConsentOpensOnlyItsOwnDoor(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		h := newHook(t)
		basis := gateway.LegalBase{Name: "wet", Reference: "art. 1", Recipient: "insp", Fields: []string{"school", "jaargroep"}}
		a := f.appWith(func(o *app.Options) { o.LegalBases = []gateway.LegalBase{basis} })
		f.sync(a, f.A)
		for _, in := range []app.RecipientInput{
			{Name: "dash", Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientWebhook, URL: h.srv.URL, Secret: h.secret, Basis: "b"},
			{Name: "feed", Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientFeed, Basis: "b"},
			{Name: "insp", Processing: gateway.ProcessingLegal, Kind: gateway.RecipientFile, Basis: "b"},
			{Name: "uni", Processing: gateway.ProcessingResearch, Kind: gateway.RecipientFile, Basis: "b"},
		} {
			if _, err := a.RegisterRecipient(ctx(t), f.A, in, "admin"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.AddStudy(ctx(t), f.A, app.StudyInput{Name: "s", Purpose: "p", Recipient: "uni", Until: "2027-07-31", K: 2}, "admin"); err != nil {
			t.Fatal(err)
		}
		for i, granted := range gateway.Processings {
			for _, p := range gateway.Processings {
				f.grant(f.A, p, p == granted)
			}
			lasCalls, hookCalls := f.sim.Calls(uwlr.OpBrengLeerresultaten.Name), len(h.requests())
			if _, _, err := a.SubmitResults(ctx(t), f.A, f.resultsFor(f.A, fmt.Sprintf("2026-10-%02d", 10+i)), "admin", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Deliver(ctx(t), app.DeliverOptions{}); err != nil {
				t.Fatal(err)
			}
			opened := map[gateway.Processing][]bool{
				gateway.ProcessingLASExchange: {f.sim.Calls(uwlr.OpBrengLeerresultaten.Name) > lasCalls, syncs(t, a, f.A)},
				gateway.ProcessingDashboards:  {len(h.requests()) > hookCalls, allowed(t, "feed", feedErr(t, a, f.A))},
				gateway.ProcessingLegal:       {allowed(t, "legal", exportErr(a.ExportLegal(ctx(t), f.A, "wet", true, "admin")))},
				gateway.ProcessingResearch:    {allowed(t, "research", exportErr(a.ExportResearch(ctx(t), f.A, "s", true, "admin")))},
			}
			for p, doors := range opened {
				for j, open := range doors {
					if open != (p == granted) {
						t.Errorf("%s alone granted: door %d of %s open = %v", granted, j, p, open)
					}
				}
			}
		}
	})
}

func syncs(t *testing.T, a *app.App, id gateway.SchoolID) bool {
	t.Helper()
	_, err := a.Sync(ctx(t), id, app.SyncOptions{Schooljaar: schooljaar})
	return allowed(t, "sync", err)
}

func feedErr(t *testing.T, a *app.App, id gateway.SchoolID) error {
	t.Helper()
	page, err := a.Feed(ctx(t), id, "feed", "", 0)
	if err == nil && len(page.Results) == 0 {
		t.Fatal("the feed answered with no results")
	}
	return err
}

func exportErr[T any](_ T, err error) error { return err }

// allowed is true for no error, false for a consent refusal; anything
// else fails the test.
func allowed(t *testing.T, what string, err error) bool {
	t.Helper()
	switch {
	case err == nil:
		return true
	case errors.Is(err, gateway.ErrConsentRequired):
		return false
	}
	t.Fatalf("%s: %v", what, err)
	return false
}
