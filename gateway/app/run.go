package app

import (
	"context"
	"sync"
)

// Run does the gateway's background work until ctx ends: the delivery
// worker and, with a schedule, the nightly syncs and the nightly retention.
// When ctx ends it stops taking new work and returns once what it holds has
// ended (a sync discards its stage, a delivery is requeued with the same
// keys); the caller bounds that wait by abandoning Run.
func (a *App) Run(ctx context.Context) error {
	w, err := a.worker(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	if a.o.Schedule != nil && a.o.Nightly {
		wg.Add(2)
		go func() { defer wg.Done(); _ = a.runner().Run(ctx) }()
		go func() { defer wg.Done(); a.nightlyRetention(ctx) }()
	}
	wg.Wait()
	return nil
}

// Ready reports whether the store answers (for /readyz).
func (a *App) Ready(ctx context.Context) error {
	_, err := a.raw.Schools(ctx)
	return err
}
