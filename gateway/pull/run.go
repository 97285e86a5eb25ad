package pull

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// run is one sync of one school. Its methods are the stages, in order:
// begin (consent, the current snapshot, a new stage); fetch, which streams
// the answer through the record stages (pupil, teacher, group,
// compositeGroup) and settles its end (dangling links, warnings); finish
// (carry over, unchanged detection, thresholds, keep or commit); and record,
// which records and audits the run however it ended.
type run struct {
	s       *Syncer
	o       Options
	school  gateway.School
	start   time.Time
	rec     gateway.SyncRun
	reasons []string // why the run is held

	snap        *snapshot                  // the current pupils, indexed (no names)
	oldTeachers []gateway.Teacher          // the current teachers, ordered by key
	sealedBy    map[string]gateway.Teacher // the same, by key, to keep unchanged seals
	stage       gateway.Stage
	ended       bool // the stage was committed, kept or discarded

	check    *mapping.Checker
	batch    []gateway.Pupil // pupils not yet written to the stage
	teachers []gateway.Teacher
	groups   []gateway.Group
	comps    []gateway.CompositeGroup
}

func (s *Syncer) newRun(school gateway.School, o Options) *run {
	start := s.now()
	return &run{s: s, o: o, school: school, start: start,
		rec:   gateway.SyncRun{ID: newID("run_"), School: school.ID, StartedAt: start.UTC(), DryRun: o.DryRun},
		check: mapping.NewChecker(school.ID), batch: make([]gateway.Pupil, 0, s.batchSize())}
}

// sync runs the stages up to the status the run ends with.
func (r *run) sync(ctx context.Context, las fetcher) (gateway.SyncStatus, error) {
	if status, err := r.begin(ctx); err != nil {
		return status, err
	}
	defer r.discard(ctx) // a no-op once the stage is committed or kept
	outcome, err := r.fetch(ctx, las)
	if err != nil {
		return gateway.SyncFailed, err
	}
	return r.finish(ctx, outcome)
}

// begin checks consent (at the moment of the act), reads what the run
// compares against and opens the stage.
func (r *run) begin(ctx context.Context) (gateway.SyncStatus, error) {
	id := r.school.ID
	if err := r.s.Consent.Require(ctx, id, gateway.ProcessingLASExchange); err != nil {
		if errors.Is(err, gateway.ErrConsentRequired) {
			return gateway.SyncRefused, err
		}
		return gateway.SyncFailed, err
	}
	snap, err := loadSnapshot(ctx, r.s.Store, id)
	if err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: read current snapshot: %w", id, err)
	}
	r.snap = snap
	if r.oldTeachers, err = r.s.Store.Teachers(ctx, id); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: read current teachers: %w", id, err)
	}
	r.sealedBy = make(map[string]gateway.Teacher, len(r.oldTeachers))
	for _, t := range r.oldTeachers {
		r.sealedBy[t.Key] = t
	}
	if r.stage, err = r.s.Store.Stage(ctx, id, r.rec.ID, fence(r.o.Lock)...); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: stage: %w", id, err)
	}
	return "", nil
}

// discard drops the stage unless it was committed or kept (or dropped).
func (r *run) discard(ctx context.Context) {
	if r.stage == nil || r.ended {
		return
	}
	r.ended = true
	_ = r.stage.Discard(context.WithoutCancel(ctx))
}

// fetch streams the school's answer into the stage and settles its end.
func (r *run) fetch(ctx context.Context, las fetcher) (soap.Outcome, error) {
	req := soap.Request{Schooljaar: r.o.Schooljaar}
	if req.Schooljaar == "" {
		req.Schooljaar = gateway.SchoolYearAt(r.start)
	}
	// A school none of whose pupils is current (retention marked them left
	// when its data was no longer refreshed) is pulled whole: an
	// incremental answer (geenwijzigingen) would leave them marked left.
	if r.o.UseSince && !r.school.LastPulledAt.IsZero() && (r.snap.active > 0 || len(r.snap.updated) == 0) {
		req.Since = r.school.LastPulledAt
	}
	sum, err := las.HaalLeerlinggegevens(ctx, req, r.handler(ctx))
	if err == nil {
		err = r.flush(ctx)
	}
	if err == nil {
		err = r.settle(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("sync %s: %w", r.school.ID, err)
	}
	return sum.Outcome, nil
}

// handler feeds every record to the checker (the one validation pass) and
// the usable ones to the record stages.
func (r *run) handler(ctx context.Context) soap.Handler {
	c := r.check
	return soap.Handler{
		Answer:             func(k soap.AnswerKind) error { c.Begin(k); return nil },
		School:             func(s *uwlr.School) error { c.School(s); return nil },
		Vestiging:          func(v *uwlr.Vestiging) error { c.Vestiging(v); return nil },
		Groep:              r.group,
		SamengesteldeGroep: r.compositeGroup,
		Leerling:           func(l *uwlr.Leerling) error { return r.pupil(ctx, l) },
		Leerkracht:         r.teacher,
	}
}

// settle ends the answer: links to groups it never defined are dropped from
// the teachers and from the pupils already staged, and its warnings, each
// problem once, become the run's.
func (r *run) settle(ctx context.Context) error {
	if d := r.check.Finish(); d.Count() > 0 {
		for i := range r.teachers {
			d.Teacher(&r.teachers[i])
		}
		if err := r.restage(ctx, d); err != nil {
			return fmt.Errorf("drop dangling group links: %w", err)
		}
	}
	r.rec.Warnings = mapping.Strings(r.check.Warnings())
	if n := r.check.Dropped(); n > 0 {
		r.rec.Warnings = append(r.rec.Warnings, fmt.Sprintf("%d more warnings not kept (at most %d are)", n, soap.MaxWarnings))
	}
	return nil
}

// finish decides what becomes of the stage: nothing to apply, held, or
// committed; and for a dry run only what a real run would do.
func (r *run) finish(ctx context.Context, outcome soap.Outcome) (gateway.SyncStatus, error) {
	id := r.school.ID
	// geenwijzigingen, or nothing at all for a school we hold nothing of:
	// nothing to apply. geengegevens for a school that has pupils goes on as
	// an empty answer: every pupil would be marked left, so the thresholds
	// hold it for a person to approve instead of applying it silently.
	if outcome == soap.OutcomeGeenWijzigingen || outcome == soap.OutcomeGeenGegevens && r.snap.active == 0 {
		r.discard(ctx)
		if outcome == soap.OutcomeGeenGegevens {
			return gateway.SyncUnchanged, nil
		}
		return r.unchanged(ctx)
	}
	if err := r.carryOver(ctx); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: carry over left pupils: %w", id, err)
	}
	sort.Slice(r.teachers, func(i, j int) bool { return r.teachers[i].Key < r.teachers[j].Key })
	if err := r.stage.PutTeachers(ctx, r.teachers); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: stage teachers: %w", id, err)
	}
	if err := r.stage.PutGroups(ctx, r.groups, r.comps); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: stage groups: %w", id, err)
	}
	r.rec.Teachers, r.rec.Groups = len(r.teachers), len(r.groups)+len(r.comps)
	if r.rec.Added == 0 && r.rec.Changed == 0 && r.rec.Left == 0 && sameTeachers(r.oldTeachers, r.teachers) && r.sameGroups(ctx) {
		r.discard(ctx)
		return r.unchanged(ctx)
	}
	r.reasons = r.s.Thresholds.check(r.start, r.snap.active, r.rec.Left, r.rec.Changed)
	held := gateway.SyncApplied
	if len(r.reasons) > 0 {
		held = gateway.SyncHeld
	}
	switch {
	case r.o.DryRun:
		// The run says what a real sync would do (applied or held, with the
		// reasons); DryRun is set on it and nothing is kept.
		r.discard(ctx)
		return held, nil
	case held == gateway.SyncHeld:
		if err := r.stage.Keep(ctx); err != nil {
			return gateway.SyncFailed, fmt.Errorf("sync %s: keep held stage: %w", id, err)
		}
		r.ended = true
		return gateway.SyncHeld, nil
	}
	if err := r.stage.Commit(ctx); err != nil {
		return gateway.SyncFailed, fmt.Errorf("sync %s: commit: %w", id, err)
	}
	r.ended = true
	if err := r.markPulled(ctx); err != nil {
		return gateway.SyncFailed, err
	}
	return gateway.SyncApplied, nil
}

// unchanged ends a run that has nothing to apply; a real one records that
// the school was pulled.
func (r *run) unchanged(ctx context.Context) (gateway.SyncStatus, error) {
	if !r.o.DryRun {
		if err := r.markPulled(ctx); err != nil {
			return gateway.SyncFailed, err
		}
	}
	return gateway.SyncUnchanged, nil
}

// markPulled records the start of this run as the school's last pull. It
// changes that field only, on the school as it is now: the record read at
// the start of the run may be stale (a key rewrap or a new results receiver
// since), and writing it back would undo those changes.
func (r *run) markPulled(ctx context.Context) error {
	at := r.start.UTC()
	_, err := r.s.Store.UpdateSchool(ctx, r.school.ID, func(s *gateway.School) error {
		s.LastPulledAt = at
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync %s: record the pull time: %w", r.school.ID, err)
	}
	return nil
}

// record ends every run, whatever happened: it classifies the error,
// records the run (counts only, the error text scrubbed) and audits it.
func (r *run) record(ctx context.Context, status gateway.SyncStatus, err error) (Result, error) {
	run := &r.rec
	run.Status, run.FinishedAt = status, r.s.now().UTC()
	if err != nil {
		var se *soap.Error
		if errors.As(err, &se) {
			run.ErrorClass = se.Class
		} else if errors.Is(err, gateway.ErrConflict) {
			run.ErrorClass = ErrorClassConflict
			err = lockLost(r.o.Lock, err)
		}
		run.Error = r.o.Scrubber.Scrub(err.Error())
	}
	if aerr := r.s.Store.AddSyncRun(context.WithoutCancel(ctx), *run); aerr != nil && err == nil {
		err = fmt.Errorf("sync %s: record run: %w", r.school.ID, aerr)
	}
	actor := r.o.Actor
	if actor == "" {
		actor = "sync"
	}
	if aerr := r.s.audit(ctx, gateway.AuditSync, *run, actor); aerr != nil && err == nil {
		err = fmt.Errorf("sync %s: %w", r.school.ID, aerr)
	}
	return Result{Run: *run, Reasons: r.reasons}, err
}
