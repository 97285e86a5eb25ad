package app

import (
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// DeliverOptions tune Deliver.
type DeliverOptions struct {
	// Follow keeps delivering until ctx ends; otherwise Deliver returns
	// once nothing is due.
	Follow bool
	// Concurrency overrides delivery.concurrency when above 0.
	Concurrency int
	// Settled, when set, is told about every claimed batch (progress).
	Settled func(delivery.Outcome)
}

// Deliver sends queued results from the outbox (BrengLeerresultaten),
// checking las_exchange when a batch is taken and again at the moment of
// sending. Without Follow it returns what it settled once nothing is due.
func (a *App) Deliver(ctx context.Context, o DeliverOptions) (delivery.Drained, error) {
	w, err := a.worker(ctx)
	if err != nil {
		return delivery.Drained{}, err
	}
	if o.Concurrency > 0 {
		w.Options.Concurrency = o.Concurrency
	}
	observe := w.Settled
	w.Settled = func(out delivery.Outcome) {
		observe(out)
		if o.Settled != nil {
			o.Settled(out)
		}
	}
	if o.Follow {
		return delivery.Drained{}, w.Run(ctx)
	}
	d, err := w.Drain(ctx)
	if err != nil {
		return d, fmt.Errorf("deliver: %w", err)
	}
	return d, nil
}

// worker is a delivery worker: the only place the vault's Opener for ECK
// iDs is handed out. It works on the unscoped store: it claims batches of
// every school.
func (a *App) worker(ctx context.Context) (*delivery.Worker, error) {
	kr, err := a.keyring()
	if err != nil {
		return nil, err
	}
	key, err := a.EvidenceKey(ctx)
	if err != nil {
		return nil, err
	}
	d := a.o.Delivery
	return &delivery.Worker{
		Store:   a.raw,
		Opener:  kr.Opener(),
		Consent: consent.New(a.raw, a.now),
		Connect: func(ctx context.Context, s gateway.School) (delivery.Sender, string, error) {
			return a.resultsClient(s)
		},
		ConnectRecipient: func(ctx context.Context, s gateway.School, r gateway.Recipient) (delivery.Sender, string, error) {
			return a.recipientClient(s, r)
		},
		Push: func(ctx context.Context, s gateway.School, r gateway.Recipient) (delivery.Pusher, error) {
			return a.pusher(s, r)
		},
		SignExport: func(e gateway.ExportEvidence) ([]byte, error) { return evidence.SignExport(key, e) },
		Build:      a.buildExport,
		Sign:       func(e gateway.DeliveryEvidence) ([]byte, error) { return evidence.Sign(key, e) },
		Audit:      a.log,
		Log:        a.slog,
		Now:        a.now,
		Options: delivery.Options{Concurrency: d.Concurrency, Lease: d.Lease, MaxAttempts: d.MaxAttempts, RetryBase: d.RetryBase,
			RetryMax: d.RetryMax, Name: a.o.Instance},
		Settled: func(o delivery.Outcome) {
			if o.Err == nil && a.o.Observer != nil {
				a.o.Observer.ObserveDelivery(o.State, o.ErrorClass, o.Results)
			}
		},
	}, nil
}
