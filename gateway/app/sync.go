package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// SyncOptions tune a sync asked for by a person (CLI, API).
type SyncOptions struct {
	// DryRun fetches and compares, and changes nothing.
	DryRun bool
	// Schooljaar asks for another school year than the current one.
	Schooljaar string
	// Progress, when set, is told the number of pupils read so far.
	Progress func(pupils int)
	// By is who started the sync (recorded in its audit entry).
	By string
}

// syncer is the sync of this gateway (audited, sealing with the vault).
func (a *App) syncer() (*pull.Syncer, error) {
	kr, err := a.keyring()
	if err != nil {
		return nil, err
	}
	return &pull.Syncer{Store: a.st, Sealer: kr.Sealer(), Consent: a.gate, Thresholds: pull.DefaultThresholds,
		Audit: a.log, Now: a.now}, nil
}

// Sync syncs one school now under its sync lock (ErrConflict while another
// process syncs it). A refusal for missing las_exchange is an error
// wrapping ErrConsentRequired, with a run of status refused.
func (a *App) Sync(ctx context.Context, id gateway.SchoolID, o SyncOptions) (pull.Result, error) {
	if _, err := a.school(ctx, id); err != nil {
		return pull.Result{}, err
	}
	var res pull.Result
	err := a.withLock(ctx, id, func(ctx context.Context, l gateway.Lock) error {
		var err error
		res, err = a.syncLocked(ctx, id, l, o)
		return err
	})
	return res, err
}

// syncLocked runs one sync holding the lock l. The school is read again
// under the lock: its record may have changed (LastPulledAt, credentials)
// since it was listed.
func (a *App) syncLocked(ctx context.Context, id gateway.SchoolID, l gateway.Lock, o SyncOptions) (pull.Result, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return pull.Result{}, err
	}
	syncer, err := a.syncer()
	if err != nil {
		return pull.Result{}, err
	}
	cl, err := a.lasClient(s)
	if err != nil {
		return pull.Result{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, a.o.SyncTimeout)
	defer cancel()
	start := a.now()
	res, err := syncer.Sync(sctx, s, cl, pull.Options{DryRun: o.DryRun, Schooljaar: o.Schooljaar, Progress: o.Progress,
		UseSince: soap.UseSince(s.Vendor), Lock: &l, Actor: o.By, Scrubber: cl.Scrubber()})
	if a.o.Observer != nil {
		a.o.Observer.ObserveSync(s.Vendor, res.Run.Status, a.now().Sub(start), res.Run.Pupils)
	}
	return res, err
}

// SyncReport is the outcome of one school's sync in SyncMany.
type SyncReport struct {
	School  gateway.SchoolID
	Result  pull.Result
	Err     error
	Elapsed time.Duration
}

// SyncMany syncs schools (nil: every school in scope), at most concurrency
// at a time, each under its own lock and timeout, and tells report about
// each as it ends (from several goroutines, one call at a time). It stops
// starting new schools when ctx ends and returns how many were reported.
func (a *App) SyncMany(ctx context.Context, ids []gateway.SchoolID, concurrency int, o SyncOptions, report func(SyncReport)) (int, error) {
	if concurrency < 1 {
		return 0, fmt.Errorf("%w: concurrency must be at least 1", gateway.ErrInvalid)
	}
	if ids == nil {
		var err error
		if ids, err = a.schoolIDs(ctx, ""); err != nil {
			return 0, err
		}
	}
	var mu sync.Mutex
	done := 0
	work := make(chan gateway.SchoolID)
	var wg sync.WaitGroup
	for range min(concurrency, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				start := a.now()
				res, err := a.Sync(ctx, id, o)
				mu.Lock()
				done++
				report(SyncReport{School: id, Result: res, Err: err, Elapsed: a.now().Sub(start)})
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return done, ctx.Err()
}

// SyncNow starts a sync of the school in the background, holding its lock
// (its outcome appears in the sync history). ErrConsentRequired without
// las_exchange; ErrConflict while a sync runs.
func (a *App) SyncNow(ctx context.Context, id gateway.SchoolID, by string) error {
	if _, err := a.school(ctx, id); err != nil {
		return err
	}
	if err := a.gate.Require(ctx, id, gateway.ProcessingLASExchange); err != nil {
		return err
	}
	l, err := a.st.AcquireLock(ctx, id, a.o.Instance, a.o.LockTTL, a.now())
	if err != nil {
		return fmt.Errorf("school %s: a sync is already running: %w", id, err)
	}
	// The background sync outlives the request but keeps its scope.
	bctx := a.bgCtx
	if sc, ok := gateway.ScopeFrom(ctx); ok {
		bctx = gateway.WithScope(bctx, sc)
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		err := a.hold(bctx, l, func(ctx context.Context, l gateway.Lock) error {
			_, err := a.syncLocked(ctx, id, l, SyncOptions{By: by})
			return err
		})
		if err != nil {
			a.slog.Warn("sync now failed", "school", id, "by", by, "error", err)
		}
	}()
	return nil
}

// SyncScheduled is the nightly sync of one school, under its lock, with
// the outcome recorded in the school's schedule state. A school that is no
// longer due once the lock is held (another instance synced it meanwhile)
// is skipped: ran is false then. ErrConflict: another instance holds the
// lock.
func (a *App) SyncScheduled(ctx context.Context, id gateway.SchoolID) (ran bool, err error) {
	err = a.withLock(ctx, id, func(ctx context.Context, l gateway.Lock) error {
		s, err := a.school(ctx, id)
		if err != nil {
			return err
		}
		state, err := a.st.ScheduleState(ctx, id)
		if err != nil {
			return err
		}
		if due, err := a.stillDue(ctx, s, &state); err != nil || !due {
			return err
		}
		ran = true
		start := a.now()
		res, serr := a.syncLocked(ctx, id, l, SyncOptions{})
		state = a.record(state, start.UTC(), okStatus(res.Run.Status))
		if err := a.st.PutScheduleState(context.WithoutCancel(ctx), id, state); err != nil {
			return errors.Join(serr, fmt.Errorf("record schedule state: %w", err))
		}
		return serr
	})
	return ran, err
}

// stillDue re-checks under the lock that the school is due. A run that
// succeeded but died before recording the state (a crash between commit
// and the state write) counts too.
func (a *App) stillDue(ctx context.Context, s gateway.School, state *gateway.ScheduleState) (bool, error) {
	if a.o.Schedule == nil || !a.o.Nightly {
		return true, nil
	}
	runs, err := a.st.SyncRuns(ctx, s.ID, 1)
	if err != nil {
		return false, err
	}
	if len(runs) > 0 && okStatus(runs[0].Status) && runs[0].StartedAt.After(state.LastSuccessAt) {
		state.LastSuccessAt = runs[0].StartedAt
	}
	return a.o.Schedule.IsDue(s, *state, a.now()), nil
}

// record updates a schedule state with the outcome of a sync.
func (a *App) record(st gateway.ScheduleState, at time.Time, ok bool) gateway.ScheduleState {
	if a.o.Schedule != nil && a.o.Nightly {
		return a.o.Schedule.Record(st, at, ok)
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

// SyncRuns returns a school's sync runs, newest first, at most limit.
func (a *App) SyncRuns(ctx context.Context, id gateway.SchoolID, limit int) ([]gateway.SyncRun, error) {
	if _, err := a.school(ctx, id); err != nil {
		return nil, err
	}
	runs, err := a.st.SyncRuns(ctx, id, limit)
	if runs == nil {
		runs = []gateway.SyncRun{}
	}
	return runs, err
}

// Pupils calls fn for every synced pupil of the school (ECK iD sealed);
// the read is logged (how many pupils were handed out).
func (a *App) Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error {
	if _, err := a.school(ctx, id); err != nil {
		return err
	}
	n := 0
	err := a.st.Pupils(ctx, id, func(p gateway.Pupil) error { n++; return fn(p) })
	return errors.Join(err, a.logRead(ctx, id, "pupils", n))
}
