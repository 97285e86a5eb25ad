package pull

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// ErrNothingHeld: the school has no held sync.
var ErrNothingHeld = fmt.Errorf("%w: no held sync", gateway.ErrNotFound)

// HeldDiff compares the held stage of a school with its current snapshot.
// Memory holds one side's pupils (the current snapshot, without ECK iDs).
func HeldDiff(ctx context.Context, st gateway.Store, school gateway.SchoolID) (*gateway.HeldDiff, error) {
	runID, err := st.StagedRun(ctx, school)
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, ErrNothingHeld
	} else if err != nil {
		return nil, fmt.Errorf("diff %s: %w", school, err)
	}
	stage, err := st.OpenStage(ctx, school, runID)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", school, err)
	}
	current := map[gateway.PupilID]gateway.Pupil{}
	if err := st.Pupils(ctx, school, func(p gateway.Pupil) error {
		p.SealedEckID = nil
		current[p.ID] = p
		return nil
	}); err != nil {
		return nil, fmt.Errorf("diff %s: %w", school, err)
	}
	d := &gateway.HeldDiff{School: school, Run: runID, Changes: []gateway.HeldChange{}}
	err = stage.Pupils(ctx, func(p gateway.Pupil) error {
		old, ok := current[p.ID]
		delete(current, p.ID)
		switch {
		case !ok:
			d.Added++
			d.Changes = append(d.Changes, gateway.HeldChange{Pupil: p.ID, LASKey: p.LASKey, Kind: "added"})
		case old.LeftOn == "" && p.LeftOn != "":
			d.Left++
			d.Changes = append(d.Changes, gateway.HeldChange{Pupil: p.ID, LASKey: p.LASKey, Kind: "left"})
		case old.LeftOn != "" && p.LeftOn == "":
			d.Changed++
			d.Changes = append(d.Changes, gateway.HeldChange{Pupil: p.ID, LASKey: p.LASKey, Kind: "returned", Fields: changed(pupilFields, &old, &p)})
		default:
			if f := changed(pupilFields, &old, &p); len(f) > 0 {
				d.Changed++
				d.Changes = append(d.Changes, gateway.HeldChange{Pupil: p.ID, LASKey: p.LASKey, Kind: "changed", Fields: f})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", school, err)
	}
	// Pupils in the snapshot but not in the stage would be dropped; the
	// sync never does that, so report them as left to be safe.
	for id, p := range current {
		d.Left++
		d.Changes = append(d.Changes, gateway.HeldChange{Pupil: id, LASKey: p.LASKey, Kind: "left"})
	}
	sort.SliceStable(d.Changes, func(i, j int) bool { return d.Changes[i].Pupil < d.Changes[j].Pupil })
	return d, nil
}

// ApproveOptions tune Approve.
type ApproveOptions struct {
	// Lock, when set, is the school's sync lock the approver holds: the held
	// stage is opened and committed with it as the fence. When another
	// process has taken the lock over, nothing is applied, the held sync
	// stays held, and a failed run (error class "conflict") is recorded.
	Lock *gateway.Lock
}

// Approve applies the held stage of a school and records the run.
func (s *Syncer) Approve(ctx context.Context, school gateway.School, by string, opts ...ApproveOptions) (gateway.SyncRun, error) {
	var lock *gateway.Lock
	for _, o := range opts {
		if o.Lock != nil {
			lock = o.Lock
		}
	}
	d, err := HeldDiff(ctx, s.Store, school.ID)
	if err != nil {
		return gateway.SyncRun{}, err
	}
	// Consent is checked at the moment of the act: applying LAS data is one.
	if err := s.Consent.Require(ctx, school.ID, gateway.ProcessingLASExchange); err != nil {
		return gateway.SyncRun{}, err
	}
	start := s.now().UTC()
	stage, err := s.Store.OpenStage(ctx, school.ID, d.Run, fence(lock)...)
	if err != nil {
		err = lockLost(lock, fmt.Errorf("approve %s: %w", school.ID, err))
		return s.approveLockLost(ctx, d, school.ID, start, lock, by, err)
	}
	if err := stage.Commit(ctx); err != nil {
		err = lockLost(lock, fmt.Errorf("approve %s: commit: %w", school.ID, err))
		return s.approveLockLost(ctx, d, school.ID, start, lock, by, err)
	}
	run := gateway.SyncRun{ID: d.Run + "_approved", School: school.ID, StartedAt: start, FinishedAt: s.now().UTC(),
		Status: gateway.SyncApplied, Added: d.Added, Changed: d.Changed, Left: d.Left,
		Warnings: []string{"approved by " + by}}
	// The held run counted the pupils, teachers and groups of the stage.
	if runs, err := s.Store.SyncRuns(ctx, school.ID, 100); err == nil {
		for _, r := range runs {
			if r.ID == d.Run {
				run.Pupils, run.Teachers, run.Groups = r.Pupils, r.Teachers, r.Groups
				break
			}
		}
	}
	// LastPulledAt stays at the last sync that was applied in full: the next
	// incremental pull then asks for everything since before the held data,
	// which may repeat changes but never loses one.
	if err := s.Store.AddSyncRun(ctx, run); err != nil {
		return run, fmt.Errorf("approve %s: record run: %w", school.ID, err)
	}
	if err := s.audit(ctx, gateway.AuditSyncApprove, run, by); err != nil {
		return run, fmt.Errorf("approve %s: %w", school.ID, err)
	}
	return run, nil
}

// approveLockLost records a failed approval when it failed because the
// approver's sync lock was taken over (the held sync stays held); other
// failures are returned as they are, without a run.
func (s *Syncer) approveLockLost(ctx context.Context, d *gateway.HeldDiff, school gateway.SchoolID, start time.Time, lock *gateway.Lock, by string, err error) (gateway.SyncRun, error) {
	if lock == nil || !errors.Is(err, gateway.ErrConflict) {
		return gateway.SyncRun{}, err
	}
	run := gateway.SyncRun{ID: d.Run + "_approved", School: school, StartedAt: start, FinishedAt: s.now().UTC(),
		Status: gateway.SyncFailed, ErrorClass: ErrorClassConflict, Error: err.Error(),
		Warnings: []string{"approval not applied: the sync lock was lost"}}
	if aerr := s.Store.AddSyncRun(ctx, run); aerr != nil {
		return run, fmt.Errorf("%w (and recording the run failed: %v)", err, aerr)
	}
	if aerr := s.audit(ctx, gateway.AuditSyncApprove, run, by); aerr != nil {
		return run, fmt.Errorf("%w (and auditing the run failed: %v)", err, aerr)
	}
	return run, err
}
