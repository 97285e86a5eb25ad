package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// auditWatch is a writer that, at its first write, looks at the school's
// audit chain: what was recorded before a byte of the capture was written.
type auditWatch struct {
	t       *testing.T
	f       *fixture
	id      gateway.SchoolID
	n       int
	kindsAt []gateway.AuditKind // the chain's kinds at the first write
}

func (w *auditWatch) Write(p []byte) (int, error) {
	if w.n == 0 {
		err := w.f.store.WalkAudit(ctx(w.t), gateway.AuditChainOf(w.id), func(e gateway.AuditEntry) error {
			w.kindsAt = append(w.kindsAt, e.Kind)
			return nil
		})
		if err != nil {
			w.t.Error(err)
		}
	}
	w.n += len(p)
	return len(p), nil
}

// TestFetchRawIsAuditedFirst: the raw capture's audit entry is on the
// school's chain before the first byte is written; without las_exchange
// nothing is written at all; the delete-by date follows las.capture_ttl's
// default of 30 days.
func TestFetchRawIsAuditedFirst(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		c := f.world.Schools[0].Creds
		tgt := app.Target{Endpoint: c.Endpoint, Brin: c.Brin, Dependancecode: c.Dependancecode, Klantcode: c.Klantcode,
			Klantnaam: c.Klantnaam, Key: c.Autorisatiesleutel, Xsdversie: c.Xsdversie}
		rc := app.RawCapture{LASRun: app.LASRun{School: f.A, By: "tester"}, Reason: "ticket 1", File: "raw.xml"}

		w := &auditWatch{t: t, f: f, id: f.A}
		cp, err := f.app.FetchRaw(ctx(t), rc, tgt, uwlr.OpHaalLeerlinggegevens, schooljaar, w)
		if err != nil || cp.Err != nil || !cp.Saved || !cp.Raw || int64(w.n) != cp.Bytes {
			t.Fatalf("FetchRaw = %+v, %v; wrote %d bytes", cp, err, w.n)
		}
		if len(w.kindsAt) == 0 || w.kindsAt[len(w.kindsAt)-1] != gateway.AuditLASCapture {
			t.Errorf("at the first byte the chain ended in %v, want las.capture", w.kindsAt)
		}
		if want := start.Add(app.DefaultCaptureTTL).UTC(); !cp.DeleteBy.Equal(want) || app.DefaultCaptureTTL != 30*24*time.Hour {
			t.Errorf("delete by %v, want %v (30 days)", cp.DeleteBy, want)
		}

		if _, err := f.app.SetConsent(ctx(t), f.A, gateway.ProcessingLASExchange, false, gateway.Actor{Via: "cli", Name: "test"}); err != nil {
			t.Fatal(err)
		}
		w = &auditWatch{t: t, f: f, id: f.A}
		_, err = f.app.FetchRaw(ctx(t), rc, tgt, uwlr.OpHaalLeerlinggegevens, schooljaar, w)
		if !errors.Is(err, gateway.ErrConsentRequired) || w.n != 0 {
			t.Errorf("without las_exchange: %v, %d bytes written; want ErrConsentRequired and nothing", err, w.n)
		}
		rc.Reason = " "
		if _, err := f.app.FetchRaw(ctx(t), rc, tgt, uwlr.OpHaalLeerlinggegevens, schooljaar, w); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("without a reason: %v, want ErrInvalid", err)
		}
	})
}
