package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

// queueExport puts an export for a webhook recipient in the outbox: held
// while p is not granted, built and pushed when a worker sends it (consent
// checked again then). It returns the batch and whether it is held.
func (a *App) queueExport(ctx context.Context, id gateway.SchoolID, r gateway.Recipient, p gateway.Processing, export, by string) (string, bool, error) {
	now := a.now().UTC()
	b := gateway.Batch{ID: delivery.NewBatchID(now), State: gateway.BatchQueued, CreatedAt: now, UpdatedAt: now, NextAttemptAt: now,
		Recipient: r.Name, Processing: p, Export: export}
	if err := a.gate.Require(ctx, id, p); errors.Is(err, gateway.ErrConsentRequired) {
		b.State, b.Reason, b.ErrorClass = gateway.BatchHeld, string(p)+" is not granted: the export waits until a school admin grants it", gateway.ClassConsent
	} else if err != nil {
		return "", false, err
	}
	if err := a.st.EnqueueExport(ctx, id, b); err != nil {
		return "", false, err
	}
	_, err := a.log.School(ctx, id, gateway.AuditExport, or(by, "cli"), map[string]string{"action": "queued", "processing": string(p),
		"export": export, "batch": b.ID, "held": strconv.FormatBool(b.State == gateway.BatchHeld)})
	return b.ID, b.State == gateway.BatchHeld, err
}

// buildExport builds what an export batch names, when the worker sends
// it: a study's research export or a legal disclosure, from the data of
// that moment.
func (a *App) buildExport(ctx context.Context, s gateway.School, b gateway.Batch) (delivery.Built, error) {
	switch b.Needs() {
	case gateway.ProcessingResearch:
		st, ok := s.Study(b.Export)
		if !ok {
			return delivery.Built{}, fmt.Errorf("the study %q was removed", b.Export)
		}
		ex, err := a.buildResearch(ctx, s.ID, st)
		if err != nil {
			return delivery.Built{}, err
		}
		m := ex.Manifest
		return delivery.Built{Type: "research.export", Records: m.Pupils + m.Results, Files: m.Files,
			Data:    map[string]any{"school": m.School, "study": st.Name, "manifest": m, "files": ex.Files},
			Details: map[string]string{"study": st.Name, "k": strconv.Itoa(m.K), "suppressed_pupils": strconv.Itoa(m.SuppressedPupils)}}, nil
	case gateway.ProcessingLegal:
		basis, err := a.legalBasis(b.Export)
		if err != nil {
			return delivery.Built{}, err
		}
		csv, n, err := a.legalCSV(ctx, s.ID, basis)
		if err != nil {
			return delivery.Built{}, err
		}
		return delivery.Built{Type: "legal.disclosure", Records: n, Files: map[string]string{"disclosure.csv": sha256Hex(csv)},
			Data: map[string]any{"school": s.ID, "basis": basis.Name, "reference": basis.Reference, "fields": basis.Fields,
				"csv": base64.StdEncoding.EncodeToString(csv)},
			Details: map[string]string{"basis": basis.Name}}, nil
	}
	return delivery.Built{}, fmt.Errorf("batch %s: %s has no exports", b.ID, b.Needs())
}

// fitsRecipient checks that an export is asked for the way its recipient
// takes it: written to files, or pushed to a webhook.
func fitsRecipient(r gateway.Recipient, toFiles bool) error {
	switch {
	case r.Kind == gateway.RecipientWebhook && toFiles:
		return invalidf("recipient %s is a webhook: the export is queued and pushed, not written (leave out --out)", r.Name)
	case r.Kind != gateway.RecipientWebhook && !toFiles:
		return invalidf("recipient %s takes files: say where to write the export (--out)", r.Name)
	}
	return nil
}
