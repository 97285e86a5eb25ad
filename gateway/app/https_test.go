package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// TestEnrolPlainHTTP: a plain http:// LAS endpoint outside loopback is
// refused unless the enrolment says --insecure-http, which the school's
// audit chain records.
func TestEnrolPlainHTTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		e := app.Enrolment{Brin: "99ZZ", Endpoint: "http://las.example/uwlr", Klantcode: "k", Klantnaam: "n", Key: "a-key-of-enough-length-0001"}
		if _, _, err := f.app.EnrolSchool(ctx(t), e, "admin"); !errors.Is(err, gateway.ErrInvalid) || !strings.Contains(err.Error(), "https") {
			t.Fatalf("plain http outside loopback: %v, want ErrInvalid naming https", err)
		}
		e.InsecureHTTP = true
		s, _, err := f.app.EnrolSchool(ctx(t), e, "admin")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		err = f.store.WalkAudit(context.Background(), gateway.AuditChainOf(s.ID), func(a gateway.AuditEntry) error {
			found = found || (a.Kind == gateway.AuditSchoolAdd && a.Details["insecure_http"] == "true")
			return nil
		})
		if err != nil || !found {
			t.Fatalf("the enrolment's insecure_http is not on the audit chain (%v)", err)
		}
	})
}
