package schedule_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

// failsafe bounds a test that would otherwise hang on a bug; it is never
// waited for when the code works, so it is generous for a busy machine.
func failsafe(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// books is the caller's side of the contract: it lists schools with their
// states and records each sync's outcome the way Sync must.
type books struct {
	cfg     schedule.Config
	mu      sync.Mutex
	schools []gateway.School
	states  map[gateway.SchoolID]gateway.ScheduleState
	syncs   map[gateway.SchoolID]int
}

func newBooks(cfg schedule.Config, schools []gateway.School) *books {
	return &books{cfg: cfg, schools: schools, states: map[gateway.SchoolID]gateway.ScheduleState{}, syncs: map[gateway.SchoolID]int{}}
}

func (b *books) list(context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.schools, maps.Clone(b.states), nil
}

func (b *books) record(id gateway.SchoolID, start time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.syncs[id]++
	b.states[id] = b.cfg.Record(b.states[id], start, ok)
}

func TestRunnerKeepsVendorCaps(t *testing.T) {
	ctx := failsafe(t)
	cfg := exact() // every school starts at 01:00
	cfg.VendorCaps = map[string]int{"a": 2, "b": 3, "c": 4}
	caps := cfg.VendorCaps
	var schools []gateway.School
	total := map[string]int{}
	for i := range 40 {
		v := []string{"a", "b", "c"}[i%3]
		schools = append(schools, gateway.School{ID: gateway.SchoolID(fmt.Sprintf("%02dAB00", i)), Vendor: v})
		total[v]++
	}
	now := at(t, "2025-10-06 03:00")
	b := newBooks(cfg, schools)

	type event struct {
		vendor string
		start  bool
	}
	events := make(chan event, 2*len(schools))
	release := make(chan struct{})
	var mu sync.Mutex
	cur, most := map[string]int{}, map[string]int{}
	r := &schedule.Runner{
		Config: cfg,
		Now:    func() time.Time { return now },
		List:   b.list,
		Sync: func(ctx context.Context, s gateway.School) error {
			mu.Lock()
			cur[s.Vendor]++
			most[s.Vendor] = max(most[s.Vendor], cur[s.Vendor])
			mu.Unlock()
			events <- event{s.Vendor, true}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			mu.Lock()
			cur[s.Vendor]--
			mu.Unlock()
			b.record(s.ID, now, true)
			events <- event{s.Vendor, false}
			return nil
		},
	}

	// Release one sync at a time, and only once every vendor runs as many
	// as its cap allows: so each cap is reached, and any overshoot seen.
	controller := make(chan error, 1)
	go func() {
		inflight, waiting, done := map[string]int{}, maps.Clone(total), 0
		apply := func() error {
			select {
			case e := <-events:
				if e.start {
					inflight[e.vendor]++
					waiting[e.vendor]--
				} else {
					inflight[e.vendor]--
					done++
				}
				return nil
			case <-ctx.Done():
				return fmt.Errorf("controller: %d of %d done, in flight %v: %w", done, len(schools), inflight, ctx.Err())
			}
		}
		saturated := func() bool {
			for v, c := range caps {
				if inflight[v] < min(c, inflight[v]+waiting[v]) {
					return false
				}
			}
			return true
		}
		for done < len(schools) {
			for !saturated() {
				if err := apply(); err != nil {
					controller <- err
					return
				}
			}
			select {
			case release <- struct{}{}:
			case <-ctx.Done():
				controller <- ctx.Err()
				return
			}
			for d := done; done == d; {
				if err := apply(); err != nil {
					controller <- err
					return
				}
			}
		}
		controller <- nil
	}()

	started, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-controller; err != nil {
		t.Fatal(err)
	}
	if started != len(schools) {
		t.Errorf("started %d, want %d", started, len(schools))
	}
	for v, c := range caps {
		if most[v] != c {
			t.Errorf("vendor %s: at most %d at once, want its cap %d", v, most[v], c)
		}
	}
	for _, s := range schools {
		if b.syncs[s.ID] != 1 {
			t.Errorf("%s synced %d times, want once", s.ID, b.syncs[s.ID])
		}
	}
	// Synced tonight: nothing is due any more.
	if started, err := r.RunOnce(ctx); err != nil || started != 0 {
		t.Errorf("second pass: started %d, %v; want 0", started, err)
	}
}

func TestRunnerNeverRunsASchoolTwiceAtOnce(t *testing.T) {
	ctx := failsafe(t)
	cfg := exact()
	b := newBooks(cfg, []gateway.School{school("12AB00")})
	now := at(t, "2025-10-06 03:00")
	inSync, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	r := &schedule.Runner{
		Config: cfg,
		Now:    func() time.Time { return now },
		List:   b.list,
		Sync: func(ctx context.Context, s gateway.School) error {
			calls.Add(1)
			select {
			case inSync <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			b.record(s.ID, now, true)
			return nil
		},
	}
	first := make(chan int, 1)
	go func() {
		n, _ := r.RunOnce(ctx)
		first <- n
	}()
	<-inSync
	// The school is due (its state says so) but in flight: not again.
	if n, err := r.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("second RunOnce while the first syncs: started %d, %v", n, err)
	}
	close(release)
	if n := <-first; n != 1 {
		t.Errorf("first RunOnce started %d", n)
	}
	if calls.Load() != 1 {
		t.Errorf("Sync called %d times", calls.Load())
	}
}

// TestRunThroughANight drives Run with a fake clock from 00:50 to 06:10,
// one tick a minute, with 60 schools that sync at once and succeed: each
// starts exactly once, inside the window, and Run returns when ctx ends.
// The clock moves on only when the syncs a pass started have ended.
func TestRunThroughANight(t *testing.T) {
	ctx, cancel := context.WithCancel(failsafe(t))
	defer cancel()
	cfg := schedule.DefaultConfig()
	var schools []gateway.School
	for i := range 60 {
		schools = append(schools, gateway.School{ID: gateway.SchoolID(fmt.Sprintf("%02dCD00", i)), Vendor: []string{"magister", "", "esis"}[i%3]})
	}
	b := newBooks(cfg, schools)
	var clock atomic.Int64
	clock.Store(at(t, "2025-10-06 00:50").UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	var mu sync.Mutex
	var outside []string
	r := &schedule.Runner{
		Config: cfg,
		Now:    now,
		List:   b.list,
		Sync: func(ctx context.Context, s gateway.School) error {
			start := now()
			if l := start.In(ams); l.Hour() < 1 || l.Hour() >= 6 {
				mu.Lock()
				outside = append(outside, fmt.Sprintf("%s at %s", s.ID, l))
				mu.Unlock()
			}
			b.record(s.ID, start, true)
			return nil
		},
	}
	type pass struct {
		started int
		err     error
	}
	ticks, passes, ended := make(chan time.Time), make(chan pass), make(chan gateway.SchoolID, len(schools))
	schedule.SetTicks(r, ticks)
	schedule.AfterPass(r, func(n int, err error) { passes <- pass{n, err} })
	schedule.AfterSync(r, func(id gateway.SchoolID) { ended <- id })
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()

	settle := func() {
		p := <-passes
		if p.err != nil {
			t.Fatal(p.err)
		}
		for range p.started {
			<-ended
		}
	}
	settle()
	for clock.Load() < at(t, "2025-10-06 06:10").UnixNano() {
		clock.Add(int64(time.Minute))
		ticks <- now()
		settle()
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v, want nil after ctx ends", err)
	}
	for _, s := range schools {
		if b.syncs[s.ID] != 1 {
			t.Errorf("%s synced %d times, want once", s.ID, b.syncs[s.ID])
		}
	}
	if len(outside) > 0 {
		t.Errorf("synced outside the window: %v", outside)
	}
}

func TestRunWaitsForSyncsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(failsafe(t))
	defer cancel()
	cfg := exact()
	b := newBooks(cfg, []gateway.School{school("12AB00"), school("12AB01")})
	now := at(t, "2025-10-06 03:00")
	inSync := make(chan struct{}, 2)
	var ended atomic.Int32
	r := &schedule.Runner{
		Config: cfg,
		Now:    func() time.Time { return now },
		List:   b.list,
		Tick:   time.Hour, // only the first pass matters here
		Sync: func(ctx context.Context, s gateway.School) error {
			inSync <- struct{}{}
			<-ctx.Done() // a sync ends when its context does
			ended.Add(1)
			return ctx.Err()
		},
	}
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	<-inSync
	<-inSync
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ended.Load() != 2 {
		t.Errorf("Run returned with %d of 2 syncs ended", 2-ended.Load())
	}
}

// TestSyncContextEndsAtSchoolHours: a sync started at 07:50 on a Monday
// gets 10 minutes, not the 30-minute SyncTimeout.
func TestSyncContextEndsAtSchoolHours(t *testing.T) {
	ctx := t.Context() // no failsafe: its deadline would be the nearest
	cfg := exact()
	cfg.WindowStart, cfg.WindowEnd = "05:00", "08:00"
	b := newBooks(cfg, []gateway.School{school("12AB00")})
	tests := []struct {
		now  time.Time
		want time.Duration
	}{
		{at(t, "2025-10-06 07:50"), 10 * time.Minute},
		{at(t, "2025-10-11 07:50"), 30 * time.Minute}, // Saturday: no school hours
		{at(t, "2025-10-07 05:10"), 30 * time.Minute},
	}
	for _, tc := range tests {
		var left time.Duration
		r := &schedule.Runner{
			Config: cfg,
			Now:    func() time.Time { return tc.now },
			List:   b.list,
			Sync: func(ctx context.Context, s gateway.School) error {
				dl, ok := ctx.Deadline()
				if !ok {
					return errors.New("no deadline")
				}
				left = time.Until(dl)
				return nil
			},
		}
		if n, err := r.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("%s: RunOnce = %d, %v", tc.now, n, err)
		}
		if left > tc.want || left < tc.want-time.Minute {
			t.Errorf("%s: sync had %s left, want about %s", tc.now.In(ams), left, tc.want)
		}
	}
}

func TestRunOnceStartsNothingOutsideTheWindow(t *testing.T) {
	ctx := failsafe(t)
	cfg := exact()
	b := newBooks(cfg, []gateway.School{school("12AB00")})
	for _, now := range []time.Time{at(t, "2025-10-06 00:59"), at(t, "2025-10-06 06:00"), at(t, "2025-10-06 10:00"), at(t, "2025-10-11 10:00")} {
		r := &schedule.Runner{
			Config: cfg,
			Now:    func() time.Time { return now },
			List:   b.list,
			Sync:   func(context.Context, gateway.School) error { t.Error("Sync called"); return nil },
		}
		if n, err := r.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("%s: RunOnce = %d, %v", now.In(ams), n, err)
		}
	}
}

func TestRunnerErrors(t *testing.T) {
	ctx := failsafe(t)
	listFails := errors.New("store down")
	ok := func(context.Context, gateway.School) error { return nil }
	tests := []struct {
		name string
		r    *schedule.Runner
		is   error
	}{
		{"invalid config", &schedule.Runner{List: newBooks(exact(), nil).list, Sync: ok}, gateway.ErrInvalid},
		{"no Sync", &schedule.Runner{Config: exact(), List: newBooks(exact(), nil).list}, gateway.ErrInvalid},
		{"List fails", &schedule.Runner{Config: exact(), Sync: ok, List: func(context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
			return nil, nil, listFails
		}}, listFails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.r.RunOnce(ctx); !errors.Is(err, tc.is) {
				t.Errorf("RunOnce = %v, want %v", err, tc.is)
			}
		})
	}
	r := &schedule.Runner{Config: schedule.Config{}, List: newBooks(exact(), nil).list, Sync: ok}
	if err := r.Run(ctx); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("Run with an invalid config = %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	r = &schedule.Runner{Config: exact(), List: newBooks(exact(), nil).list, Sync: ok}
	if _, err := r.RunOnce(done); !errors.Is(err, context.Canceled) {
		t.Errorf("RunOnce on an ended ctx = %v", err)
	}
}

// TestRunnerLogsIDsOnly: the log names the school by id, never its name
// or other fields.
func TestRunnerLogsIDsOnly(t *testing.T) {
	ctx := failsafe(t)
	cfg := exact()
	s := gateway.School{ID: "12AB00", Brin: "12AB", Vendor: "esis", Klantnaam: "Basisschool De Zonnebloem", Klantcode: "K-98765", Endpoint: "https://las.example/uwlr"}
	b := newBooks(cfg, []gateway.School{s})
	var buf bytes.Buffer
	r := &schedule.Runner{
		Config: cfg,
		Now:    func() time.Time { return at(t, "2025-10-06 03:00") },
		List:   b.list,
		Log:    slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sync: func(context.Context, gateway.School) error {
			return fmt.Errorf("pull school %s: %w", "12AB00", gateway.ErrTransient)
		},
	}
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"school":"12AB00"`) || !strings.Contains(out, "sync failed") {
		t.Errorf("log lacks the school id or the failure:\n%s", out)
	}
	for _, secret := range []string{s.Klantnaam, s.Klantcode, s.Endpoint} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

// TestRunnerDoesNotTrustStaleStates: a pass that read the states while a
// school was still syncing must not start it again once that sync has
// ended (and recorded its success after the pass read the states).
func TestRunnerDoesNotTrustStaleStates(t *testing.T) {
	ctx := failsafe(t)
	cfg := exact()
	b := newBooks(cfg, []gateway.School{school("12AB00")})
	now := at(t, "2025-10-06 03:00")
	inSync, release := make(chan struct{}), make(chan struct{})
	listed, proceed := make(chan struct{}), make(chan struct{})
	var lists, calls atomic.Int32
	r := &schedule.Runner{
		Config: cfg,
		Now:    func() time.Time { return now },
		List: func(ctx context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
			schools, states, err := b.list(ctx)
			if lists.Add(1) == 2 { // the second pass: hold on to a stale list
				listed <- struct{}{}
				<-proceed
			}
			return schools, states, err
		},
		Sync: func(ctx context.Context, s gateway.School) error {
			calls.Add(1)
			select {
			case inSync <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			b.record(s.ID, now, true)
			return nil
		},
	}
	ended := make(chan gateway.SchoolID, 1)
	schedule.AfterSync(r, func(id gateway.SchoolID) { ended <- id })

	first := make(chan int, 1)
	go func() { n, _ := r.RunOnce(ctx); first <- n }()
	<-inSync
	second := make(chan int, 1)
	go func() { n, _ := r.RunOnce(ctx); second <- n }()
	<-listed // the second pass holds states from before the success
	close(release)
	<-ended
	close(proceed)
	if n := <-second; n != 0 {
		t.Errorf("second pass started %d on a stale state", n)
	}
	if n := <-first; n != 1 {
		t.Errorf("first pass started %d", n)
	}
	if calls.Load() != 1 {
		t.Errorf("Sync called %d times, want once", calls.Load())
	}
}
