package app

import (
	"context"
	"errors"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// SchoolStatus says how a school stands: consent, last connection test and
// sync, next planned sync, a held sync and its outbox by state.
func (a *App) SchoolStatus(ctx context.Context, id gateway.SchoolID) (gateway.SchoolStatus, error) {
	st := gateway.SchoolStatus{School: id}
	if _, err := a.school(ctx, id); err != nil {
		return st, err
	}
	var err error
	if st.Consent, err = a.st.Consent(ctx, id); err != nil {
		return st, err
	}
	if chk, err := a.st.ConnectionCheck(ctx, id); err == nil {
		st.Connection = &chk
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return st, err
	}
	runs, err := a.st.SyncRuns(ctx, id, 1)
	if err != nil {
		return st, err
	}
	if len(runs) > 0 {
		st.LastSync = &runs[0]
	}
	st.NextRun = a.NextRun(ctx, id)
	if run, err := a.st.StagedRun(ctx, id); err == nil {
		st.HeldSync = run
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return st, err
	}
	st.Outbox, err = a.st.OutboxDepth(ctx, id)
	return st, err
}

// AuditKeyEvent records a key event (a key file generated or rotated) on
// the gateway chain.
func (a *App) AuditKeyEvent(ctx context.Context, kind gateway.AuditKind, details map[string]string) error {
	_, err := a.log.Gateway(ctx, kind, "cli", details)
	return err
}
