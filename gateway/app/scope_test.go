package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

// schoolActs are the use cases that name one school, each as a call.
func schoolActs(f *fixture) map[string]func(ctx context.Context, id gateway.SchoolID) error {
	a := f.app
	return map[string]func(ctx context.Context, id gateway.SchoolID) error{
		"School":       func(ctx context.Context, id gateway.SchoolID) error { _, err := a.School(ctx, id); return err },
		"SchoolStatus": func(ctx context.Context, id gateway.SchoolID) error { _, err := a.SchoolStatus(ctx, id); return err },
		"Consent":      func(ctx context.Context, id gateway.SchoolID) error { _, _, err := a.Consent(ctx, id); return err },
		"SetConsent": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.SetConsent(ctx, id, gateway.ProcessingResearch, false, gateway.Actor{Via: "cli", Name: "t"})
			return err
		},
		"Sync": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.Sync(ctx, id, app.SyncOptions{Schooljaar: schooljaar})
			return err
		},
		"SyncRuns": func(ctx context.Context, id gateway.SchoolID) error { _, err := a.SyncRuns(ctx, id, 5); return err },
		"Pupils": func(ctx context.Context, id gateway.SchoolID) error {
			return a.Pupils(ctx, id, func(gateway.Pupil) error { return nil })
		},
		"HeldDiff":       func(ctx context.Context, id gateway.SchoolID) error { _, err := a.HeldDiff(ctx, id); return err },
		"Approve":        func(ctx context.Context, id gateway.SchoolID) error { _, err := a.Approve(ctx, id, "t"); return err },
		"TestConnection": func(ctx context.Context, id gateway.SchoolID) error { _, err := a.TestConnection(ctx, id); return err },
		"SubmitResults": func(ctx context.Context, id gateway.SchoolID) error {
			_, _, err := a.SubmitResults(ctx, id, []byte(`{"tests": [], "results": []}`), "t", nil)
			return err
		},
		"Receipts": func(ctx context.Context, id gateway.SchoolID) error { _, err := a.Receipts(ctx, id); return err },
		"RetryResults": func(ctx context.Context, id gateway.SchoolID) error {
			_, _, err := a.RetryResults(ctx, id, delivery.RetrySelection{All: true}, "t")
			return err
		},
		"SetReceiver": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.SetReceiver(ctx, id, app.Receiver{Endpoint: f.srv.URL + "/results"}, "t")
			return err
		},
		"ClearReceiver": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.ClearReceiver(ctx, id, "t")
			return err
		},
		"AuditEntries": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.AuditEntries(ctx, gateway.AuditChainOf(id), 10)
			return err
		},
		"ExportAudit": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.ExportAudit(ctx, id, "t")
			return err
		},
		"FindEvidence": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.FindEvidence(ctx, id, "b_none")
			return err
		},
		"SchoolContact": func(ctx context.Context, id gateway.SchoolID) error { _, err := a.SchoolContact(ctx, id); return err },
		"SetSchoolContact": func(ctx context.Context, id gateway.SchoolID) error {
			_, err := a.SetSchoolContact(ctx, id, gateway.SchoolContact{Name: "Bea Beheer", Email: "beheer@school.example"}, "t")
			return err
		},
		"RemoveSchool": func(ctx context.Context, id gateway.SchoolID) error { return a.RemoveSchool(ctx, id, "t") },
	}
}

// TestScopeAtTheApplicationLayer: a use case called for school B on a
// caller's scope of A fails as if B did not exist (ErrNotFound), whichever
// edge calls it; the same call for A is not refused for scope.
func TestScopeAtTheApplicationLayer(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.sync(f.app, f.A)
		f.sync(f.app, f.B)
		acts := schoolActs(f)
		names := make([]string, 0, len(acts))
		for n := range acts {
			names = append(names, n)
		}
		slices.Sort(names)
		before := f.school(f.B)
		for _, name := range names {
			if name == "RemoveSchool" {
				continue // last: it deletes
			}
			if err := acts[name](scoped(t, f.A), f.B); !errors.Is(err, gateway.ErrNotFound) {
				t.Errorf("%s(school B) on A's scope = %v, want ErrNotFound", name, err)
			}
			if err := acts[name](scoped(t, f.A), f.A); errors.Is(err, gateway.ErrNotFound) && !expectedNotFound(name) {
				t.Errorf("%s(school A) on A's scope = %v: refused as if out of scope", name, err)
			}
		}
		if err := acts["RemoveSchool"](scoped(t, f.A), f.B); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("RemoveSchool(B) on A's scope = %v, want ErrNotFound", err)
		}
		after := f.school(f.B)
		if after.Results != nil || after.Contact != nil || !after.LastPulledAt.Equal(before.LastPulledAt) {
			t.Errorf("school B changed through A's scope: %+v", after)
		}
		checkListsFiltered(t, f)
		checkGatewayWideForbidden(t, f)
	})
}

// expectedNotFound: acts that find nothing for A for reasons of their own.
func expectedNotFound(name string) bool {
	return name == "HeldDiff" || name == "Approve" || name == "FindEvidence" || name == "ExportAudit" || name == "SchoolContact"
}

func checkListsFiltered(t *testing.T, f *fixture) {
	schools, err := f.app.Schools(scoped(t, f.A))
	if err != nil || len(schools) != 1 || schools[0].ID != f.A {
		t.Errorf("Schools on A's scope = %v, %v; want only A", schools, err)
	}
	rep, err := f.app.VerifyAudit(scoped(t, f.A))
	if err != nil || rep.Chains != 1 || !rep.OK {
		t.Errorf("VerifyAudit on A's scope = %+v, %v; want A's chain only", rep, err)
	}
	if got, err := f.app.OutboxDepth(scoped(t, f.B)); err != nil || len(got) != 0 {
		t.Errorf("OutboxDepth on B's scope = %v, %v", got, err)
	}
}

// checkGatewayWideForbidden: acts over every school need the gateway-wide
// scope.
func checkGatewayWideForbidden(t *testing.T, f *fixture) {
	a := f.app
	acts := map[string]func(ctx context.Context) error{
		"CreateToken": func(ctx context.Context) error {
			_, _, err := a.CreateToken(ctx, app.TokenRequest{Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{f.A}}, "t")
			return err
		},
		"Tokens":      func(ctx context.Context) error { _, err := a.Tokens(ctx); return err },
		"RevokeToken": func(ctx context.Context) error { _, err := a.RevokeToken(ctx, "tok_x", "t"); return err },
		"Rewrap":      func(ctx context.Context) error { _, err := a.Rewrap(ctx, nil); return err },
		"RunRetention": func(ctx context.Context) error {
			_, err := a.RunRetention(ctx, app.RetentionOptions{DryRun: true})
			return err
		},
		"SessionKey": func(ctx context.Context) error { _, err := a.SessionKey(ctx); return err },
		"BreachReport": func(ctx context.Context) error {
			_, err := a.BreachReport(ctx, app.BreachRequest{From: start.Add(-time.Hour), To: start, School: f.A, Format: "json"}, "t")
			return err
		},
		"EvidenceKey": func(ctx context.Context) error { _, err := a.EvidenceKey(ctx); return err },
		"GatewayAudit": func(ctx context.Context) error {
			_, err := a.AuditEntries(ctx, gateway.AuditChainGateway, 1)
			return notFoundAsForbidden(err)
		},
	}
	for name, act := range acts {
		if err := act(scoped(t, f.A)); !errors.Is(err, gateway.ErrForbidden) {
			t.Errorf("%s on A's scope = %v, want ErrForbidden", name, err)
		}
		if err := act(gateway.WithScope(ctx(t), gateway.Scope{All: true})); errors.Is(err, gateway.ErrForbidden) {
			t.Errorf("%s on the gateway-wide scope = %v: refused", name, err)
		}
	}
}

// notFoundAsForbidden: a chain out of scope does not exist to the caller.
func notFoundAsForbidden(err error) error {
	if errors.Is(err, gateway.ErrNotFound) {
		return gateway.ErrForbidden
	}
	return err
}
