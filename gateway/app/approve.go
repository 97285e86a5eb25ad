package app

import (
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
)

// HeldDiff says exactly what the school's held sync would change (pupils by
// id and LAS key, field names only). pull.ErrNothingHeld (an ErrNotFound)
// when nothing is held.
func (a *App) HeldDiff(ctx context.Context, id gateway.SchoolID) (*gateway.HeldDiff, error) {
	if _, err := a.school(ctx, id); err != nil {
		return nil, err
	}
	d, err := pull.HeldDiff(ctx, a.st, id)
	if err != nil {
		return nil, err
	}
	return d, a.logRead(ctx, id, "held diff", len(d.Changes))
}

// Approve applies the school's held sync under its lock and records who
// approved it. pull.ErrNothingHeld when nothing is held;
// ErrConsentRequired without las_exchange.
func (a *App) Approve(ctx context.Context, id gateway.SchoolID, by string) (gateway.SyncRun, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.SyncRun{}, err
	}
	syncer, err := a.syncer()
	if err != nil {
		return gateway.SyncRun{}, err
	}
	var run gateway.SyncRun
	err = a.withLock(ctx, id, func(ctx context.Context, l gateway.Lock) error {
		var err error
		run, err = syncer.Approve(ctx, s, by, pull.ApproveOptions{Lock: &l})
		return err
	})
	return run, err
}
