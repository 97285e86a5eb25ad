package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// withLock runs fn holding the school's sync lock, renewing it while fn
// runs; fn's context ends when the lock is lost (another instance took it
// after a stall), and the fence makes a stale commit fail anyway. It
// returns gateway.ErrConflict when another process holds the lock.
func (a *App) withLock(ctx context.Context, school gateway.SchoolID, fn func(ctx context.Context, l gateway.Lock) error) error {
	l, err := a.st.AcquireLock(ctx, school, a.o.Instance, a.o.LockTTL, a.now())
	if errors.Is(err, gateway.ErrConflict) {
		return fmt.Errorf("sync lock of school %s: %w: %w", school, errLockBusy, err)
	} else if err != nil {
		return fmt.Errorf("sync lock of school %s: %w", school, err)
	}
	return a.hold(ctx, l, fn)
}

// errLockBusy: another process holds the school's sync lock (wrapped
// together with gateway.ErrConflict).
var errLockBusy = errors.New("another process holds it")

// hold runs fn with the acquired lock l (see withLock) and releases it.
func (a *App) hold(ctx context.Context, l gateway.Lock, fn func(ctx context.Context, l gateway.Lock) error) error {
	school := l.School
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(a.o.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				nl, err := a.st.RenewLock(lctx, l, a.o.LockTTL, a.now())
				if err != nil {
					if lctx.Err() == nil {
						a.slog.Warn("sync lock lost; stopping the sync", "school", school, "error", err)
					}
					cancel()
					return
				}
				l = nl
			}
		}
	}()
	err := fn(lctx, l)
	cancel()
	<-renewed
	if rerr := a.st.ReleaseLock(context.WithoutCancel(ctx), l); rerr != nil && !errors.Is(rerr, gateway.ErrConflict) {
		a.slog.Warn("sync lock not released", "school", school, "error", rerr)
	}
	return err
}
