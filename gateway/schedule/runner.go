package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// DefaultTick is how often Run looks for due schools when Runner.Tick is 0.
const DefaultTick = 30 * time.Second

// Runner starts the nightly syncs that are due, at most Config.CapFor(vendor)
// at once per vendor, never the same school twice at once.
//
// Contract with Sync: the runner decides when; Sync does the work and
// keeps the books. Sync takes the school's lock (held elsewhere: return
// without recording anything, it is not a failure), reads the state under
// it and checks Config.IsDue again (another process may have synced the
// school meanwhile: return nil), syncs, and stores
// Config.Record(state, start, err == nil). The runner never writes
// ScheduleState. Sync must honour its ctx: it ends at
// Config.SyncTimeout, at the start of school hours, or when Run's ctx ends,
// whichever comes first. Its error is logged (school id and vendor only)
// and otherwise only counts through the state Sync records.
type Runner struct {
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// List returns the enrolled schools and their schedule states. The
	// runner only reads the map, possibly from several goroutines.
	List func(ctx context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error)
	// Sync syncs one school; see the contract above.
	Sync func(ctx context.Context, s gateway.School) error
	// Log receives one line per sync started and ended; nil discards.
	Log *slog.Logger
	// Tick is how often Run looks for due schools; 0 means DefaultTick.
	// Keep it at a minute or less: start times run until a minute before
	// the window closes.
	Tick time.Duration

	// ticks, when set (tests), replaces the Tick timer of Run.
	ticks <-chan time.Time
	// afterPass, when set (tests), is called after each pass of Run.
	afterPass func(started int, err error)
	// afterSync, when set (tests), is called when a sync has ended and
	// given back its place.
	afterSync func(gateway.SchoolID)

	mu      sync.Mutex
	running map[gateway.SchoolID]bool
	sems    map[string]chan struct{}
	// ended counts finished syncs; endedAt[id] is the count when the
	// school's last sync here finished. A pass that read the states before
	// that may hold a stale state for the school, and leaves it alone.
	ended   uint64
	endedAt map[gateway.SchoolID]uint64
}

// Run looks for due schools every Tick and starts their syncs (each pass
// starts every due school as its vendor gets room), until ctx ends. It then waits for the syncs in flight, whose contexts end with
// ctx, and returns nil. A failing List is logged and tried again at the
// next tick. It returns an error at once when the Runner is not usable.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.check(); err != nil {
		return err
	}
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		// Each pass waits for room until every due school has started: a
		// sync that ends at once (another instance holds the school's
		// lock) frees its place for the next school in the same pass, so
		// several instances do not keep trying the same first schools.
		n, err := r.pass(ctx, true, &inflight)
		if err != nil && ctx.Err() == nil {
			r.log().Error("schedule: pass failed", "err", err)
		}
		if r.afterPass != nil {
			r.afterPass(n, err)
		}
		if !r.wait(ctx) {
			return nil
		}
	}
}

// RunOnce makes one planning pass: it starts every school due now, each
// as soon as its vendor has room (the due list is not planned again while
// waiting, but each school is checked with Config.IsDue just before it
// starts), and waits for the syncs it started. It returns how many it
// started; an error only when it could not plan (an unusable Runner, List
// failed, ctx ended). Sync failures are logged, not returned.
func (r *Runner) RunOnce(ctx context.Context) (started int, err error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	var inflight sync.WaitGroup
	started, err = r.pass(ctx, true, &inflight)
	inflight.Wait()
	return started, err
}

func (r *Runner) check() error {
	if err := r.Config.Validate(); err != nil {
		return fmt.Errorf("schedule: runner: %w", err)
	}
	if r.List == nil || r.Sync == nil {
		return fmt.Errorf("%w: schedule: runner needs List and Sync", gateway.ErrInvalid)
	}
	return nil
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// wait blocks until the next tick; false when ctx ended first.
func (r *Runner) wait(ctx context.Context) bool {
	ticks := r.ticks
	if ticks == nil {
		every := r.Tick
		if every <= 0 {
			every = DefaultTick
		}
		t := time.NewTimer(every)
		defer t.Stop()
		ticks = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-ticks:
		return ctx.Err() == nil
	}
}

// pass plans once and starts the due syncs, adding them to inflight. With
// block it waits for room under each vendor's cap until every due school
// has started; without, it starts what fits now and leaves the rest to
// the next pass.
func (r *Runner) pass(ctx context.Context, block bool, inflight *sync.WaitGroup) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("schedule: pass: %w", err)
	}
	seen := r.endedCount()
	schools, states, err := r.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("schedule: pass: list schools: %w", err)
	}
	due := r.Config.Due(schools, states, r.now())
	if len(due) == 0 {
		return 0, nil
	}
	byID := make(map[gateway.SchoolID]gateway.School, len(schools))
	for _, s := range schools {
		byID[s.ID] = s
	}
	queues := make(map[string][]gateway.School)
	var vendors []string
	for _, id := range due {
		s := byID[id]
		v := vendorOf(s)
		if _, ok := queues[v]; !ok {
			vendors = append(vendors, v)
		}
		queues[v] = append(queues[v], s)
	}
	var started atomic.Int64
	var dispatchers sync.WaitGroup
	for _, v := range vendors {
		if ctx.Err() != nil {
			break
		}
		sem, q := r.semaphore(v), queues[v]
		if block {
			dispatchers.Go(func() { started.Add(int64(r.dispatch(ctx, sem, q, states, seen, true, inflight))) })
		} else {
			started.Add(int64(r.dispatch(ctx, sem, q, states, seen, false, inflight)))
		}
	}
	dispatchers.Wait()
	n := int(started.Load())
	r.log().Debug("schedule: pass", "due", len(due), "started", n)
	if err := ctx.Err(); err != nil {
		return n, fmt.Errorf("schedule: pass: %w", err)
	}
	return n, nil
}

// dispatch starts the syncs of one vendor's due schools, in order, each
// holding a place in sem; it returns how many it started. states were read
// when seen syncs had ended.
func (r *Runner) dispatch(ctx context.Context, sem chan struct{}, q []gateway.School,
	states map[gateway.SchoolID]gateway.ScheduleState, seen uint64, block bool, inflight *sync.WaitGroup) int {
	n := 0
	for _, s := range q {
		if ctx.Err() != nil {
			return n
		}
		if !r.claim(s.ID, seen) {
			continue // in flight in this runner, or its state is stale
		}
		if block {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				r.unclaim(s.ID)
				return n
			}
		} else {
			select {
			case sem <- struct{}{}:
			default:
				r.unclaim(s.ID)
				return n // the vendor is full: the next pass tries again
			}
		}
		now := r.now()
		if InSchoolHours(now) || !r.Config.IsDue(s, states[s.ID], now) {
			// Waiting for room took us out of the window (or past the
			// school's chance tonight).
			<-sem
			r.unclaim(s.ID)
			continue
		}
		n++
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			defer func() {
				r.finish(s.ID)
				<-sem
				if r.afterSync != nil {
					r.afterSync(s.ID)
				}
			}()
			r.syncOne(ctx, s, now)
		}()
	}
	return n
}

func (r *Runner) syncOne(ctx context.Context, s gateway.School, now time.Time) {
	// A duration, not a deadline: Now may be a test clock far from the
	// real one that context deadlines use.
	timeout := r.Config.SyncTimeout
	if untilSchool := nextSchoolHours(now).Sub(now); untilSchool < timeout {
		timeout = untilSchool
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := r.log().With("school", string(s.ID), "vendor", vendorOf(s))
	log.Info("schedule: sync started", "timeout", timeout)
	if err := r.Sync(sctx, s); err != nil {
		log.Warn("schedule: sync failed", "err", err)
		return
	}
	log.Info("schedule: sync done")
}

// claim marks the school in flight; false when it already is, or when
// its last sync here ended after the states were read (seen).
func (r *Runner) claim(id gateway.SchoolID, seen uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[id] || r.endedAt[id] > seen {
		return false
	}
	if r.running == nil {
		r.running = make(map[gateway.SchoolID]bool)
	}
	r.running[id] = true
	return true
}

// unclaim takes back a claim for a sync that did not start.
func (r *Runner) unclaim(id gateway.SchoolID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
}

// finish ends the claim of a sync that ran.
func (r *Runner) finish(id gateway.SchoolID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
	r.ended++
	if r.endedAt == nil {
		r.endedAt = make(map[gateway.SchoolID]uint64)
	}
	r.endedAt[id] = r.ended
}

func (r *Runner) endedCount() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

// semaphore returns the vendor's semaphore, made with its cap on first use.
func (r *Runner) semaphore(vendor string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sems == nil {
		r.sems = make(map[string]chan struct{})
	}
	sem, ok := r.sems[vendor]
	if !ok {
		sem = make(chan struct{}, r.Config.CapFor(vendor))
		r.sems[vendor] = sem
	}
	return sem
}
