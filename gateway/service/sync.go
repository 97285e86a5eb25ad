package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// useSince: send laatstontvangengegevens only to vendors known to honour it.
func useSince(s gateway.School) bool { return soap.UseSince(s.Vendor) }

// withLock runs fn holding the school's sync lock, renewing it while fn
// runs; fn's context ends when the lock is lost (another instance took it
// after a stall), and the fence makes a stale commit fail anyway. It
// returns gateway.ErrConflict when another process holds the lock.
func (g *Gateway) withLock(ctx context.Context, school gateway.SchoolID, fn func(ctx context.Context, l gateway.Lock) error) error {
	l, err := g.st.AcquireLock(ctx, school, g.o.Instance, g.o.LockTTL, g.now())
	if err != nil {
		return fmt.Errorf("sync lock of school %s: %w", school, err)
	}
	return g.hold(ctx, l, fn)
}

// hold runs fn with the acquired lock l (see withLock) and releases it.
func (g *Gateway) hold(ctx context.Context, l gateway.Lock, fn func(ctx context.Context, l gateway.Lock) error) error {
	school := l.School
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(g.o.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				nl, err := g.st.RenewLock(lctx, l, g.o.LockTTL, g.now())
				if err != nil {
					if lctx.Err() == nil {
						g.slog.Warn("sync lock lost; stopping the sync", "school", school, "error", err)
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
	if rerr := g.st.ReleaseLock(context.WithoutCancel(ctx), l); rerr != nil && !errors.Is(rerr, gateway.ErrConflict) {
		g.slog.Warn("sync lock not released", "school", school, "error", rerr)
	}
	return err
}

// Sync syncs one school now under its lock (ErrConflict while another
// process syncs it), with the options of the CLI (dry run, schooljaar).
func (g *Gateway) Sync(ctx context.Context, s gateway.School, o pull.Options) (pull.Result, error) {
	var res pull.Result
	err := g.withLock(ctx, s.ID, func(ctx context.Context, l gateway.Lock) error {
		cl, err := g.LASClient(s)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, g.o.SyncTimeout)
		defer cancel()
		o.Lock = &l
		start := g.now()
		res, err = g.Syncer().Sync(sctx, s, cl, o)
		if g.o.ObserveSync != nil {
			g.o.ObserveSync(s, res.Run, g.now().Sub(start))
		}
		return err
	})
	return res, err
}

// UseSince reports whether laatstontvangengegevens may be sent to the
// school's vendor.
func UseSince(s gateway.School) bool { return useSince(s) }

// SyncSchool syncs one school under its lock and records the outcome in the
// school's schedule state. With scheduled set (the nightly run), a school
// that is no longer due once the lock is held (another instance synced it
// meanwhile) is skipped: ran is false then. ErrConflict: another instance
// holds the lock.
func (g *Gateway) SyncSchool(ctx context.Context, s gateway.School, scheduled bool) (res pull.Result, ran bool, err error) {
	err = g.withLock(ctx, s.ID, func(ctx context.Context, l gateway.Lock) error {
		state, err := g.st.ScheduleState(ctx, s.ID)
		if err != nil {
			return err
		}
		if scheduled && g.o.Planner != nil {
			// A run that succeeded but died before recording the state
			// (a crash between commit and this write) counts too.
			runs, err := g.st.SyncRuns(ctx, s.ID, 1)
			if err != nil {
				return err
			}
			if len(runs) > 0 && okStatus(runs[0].Status) && runs[0].StartedAt.After(state.LastSuccessAt) {
				state.LastSuccessAt = runs[0].StartedAt
			}
			if !g.o.Planner.IsDue(s, state, g.now()) {
				return nil
			}
		}
		// The school record may have changed (LastPulledAt) since it was listed.
		if s, err = g.st.School(ctx, s.ID); err != nil {
			return err
		}
		ran = true
		cl, err := g.LASClient(s)
		if err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, g.o.SyncTimeout)
		defer cancel()
		start := g.now()
		var serr error
		res, serr = g.Syncer().Sync(sctx, s, cl, pull.Options{UseSince: useSince(s), Lock: &l})
		if g.o.ObserveSync != nil {
			g.o.ObserveSync(s, res.Run, g.now().Sub(start))
		}
		state = record(g.o.Planner, state, start.UTC(), okStatus(res.Run.Status))
		if err := g.st.PutScheduleState(context.WithoutCancel(ctx), s.ID, state); err != nil {
			return errors.Join(serr, fmt.Errorf("record schedule state: %w", err))
		}
		return serr
	})
	return res, ran, err
}

// record updates a schedule state with the outcome of a sync.
func record(p Planner, st gateway.ScheduleState, at time.Time, ok bool) gateway.ScheduleState {
	if p != nil {
		return p.Record(st, at, ok)
	}
	st.LastAttemptAt = at
	if ok {
		st.LastSuccessAt, st.Failures = at, 0
	} else {
		st.Failures++
	}
	return st
}

// okStatus: the sync did its job for the night. A refusal (no
// las_exchange) counts as done: the LAS did not fail, and a retry would be
// refused again.
func okStatus(st gateway.SyncStatus) bool {
	return st == gateway.SyncApplied || st == gateway.SyncUnchanged || st == gateway.SyncHeld || st == gateway.SyncRefused
}
