package app

import (
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

// Receipts returns the receipt of every result of the school, ordered by key.
func (a *App) Receipts(ctx context.Context, id gateway.SchoolID) ([]gateway.Receipt, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return nil, err
	}
	rcs, err := delivery.Receipts(ctx, a.st, s.ID)
	if err != nil {
		return nil, err
	}
	return rcs, a.logRead(ctx, s.ID, "receipts", len(rcs))
}

// RetryResults queues rejected batches (dead letters) of the school again
// and records it; it returns how many batches and results were queued. A
// result key that is unknown is ErrNotFound.
func (a *App) RetryResults(ctx context.Context, id gateway.SchoolID, sel delivery.RetrySelection, by string) (batches, results int, err error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	return delivery.Retry(ctx, a.st, a.log, s.ID, sel, or(by, "cli"), a.now())
}
