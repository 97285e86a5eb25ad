package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

// NextRun is when the scheduler next syncs the school (zero: none planned).
func (a *App) NextRun(ctx context.Context, id gateway.SchoolID) time.Time {
	if a.o.Schedule == nil || !a.o.Nightly {
		return time.Time{}
	}
	s, err := a.school(ctx, id)
	if err != nil {
		return time.Time{}
	}
	st, err := a.st.ScheduleState(ctx, id)
	if err != nil {
		return time.Time{}
	}
	return a.o.Schedule.NextRun(s, st, a.now())
}

// Upcoming lists the next nightly syncs of the schools in scope, soonest
// first, at most n (0: all), with the reason for each. ErrInvalid when the
// schedule is not valid (or there is none).
func (a *App) Upcoming(ctx context.Context, n int) ([]schedule.Planned, int, error) {
	if a.o.Schedule == nil {
		return nil, 0, fmt.Errorf("%w: no schedule configured", gateway.ErrInvalid)
	}
	if err := a.o.Schedule.Validate(); err != nil {
		return nil, 0, err
	}
	schools, states, err := a.scheduleStates(ctx)
	if err != nil {
		return nil, 0, err
	}
	return a.o.Schedule.Upcoming(schools, states, a.now(), n), len(schools), nil
}

// scheduleStates lists the schools in scope and their schedule states.
func (a *App) scheduleStates(ctx context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
	schools, err := a.st.Schools(ctx)
	if err != nil {
		return nil, nil, err
	}
	states := make(map[gateway.SchoolID]gateway.ScheduleState, len(schools))
	for _, s := range schools {
		ss, err := a.st.ScheduleState(ctx, s.ID)
		if err != nil && !errors.Is(err, gateway.ErrNotFound) {
			return nil, nil, err
		}
		states[s.ID] = ss
	}
	return schools, states, nil
}

// runner is the nightly scheduler over this App's schools.
func (a *App) runner() *schedule.Runner {
	return &schedule.Runner{Config: *a.o.Schedule, Now: a.now, Log: a.slog, Tick: a.o.Tick,
		List: a.scheduleStates,
		Sync: func(ctx context.Context, s gateway.School) error {
			_, err := a.SyncScheduled(ctx, s.ID)
			if errors.Is(err, errLockBusy) {
				a.slog.Debug("school skipped: another instance holds its sync lock", "school", s.ID)
				return nil
			}
			return err
		}}
}
