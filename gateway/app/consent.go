package app

import (
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// SetConsent grants or revokes one processing for one school through the
// audited gate; revoking las_exchange holds queued results and waits for
// deliveries under way, granting it releases them.
func (a *App) SetConsent(ctx context.Context, id gateway.SchoolID, p gateway.Processing, grant bool, by string) (gateway.ConsentApplied, error) {
	if _, err := a.school(ctx, id); err != nil {
		return gateway.ConsentApplied{}, err
	}
	return a.gate.Apply(ctx, id, p, grant, by)
}

// Consent returns a school's current opt-ins and every change, oldest first.
func (a *App) Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, []gateway.ConsentChange, error) {
	if _, err := a.school(ctx, id); err != nil {
		return nil, nil, err
	}
	cur, err := a.st.Consent(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	hist, err := a.st.ConsentHistory(ctx, id)
	return cur, hist, err
}
