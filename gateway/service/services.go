package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

var _ httpapi.Services = (*Gateway)(nil)

// TestConnection asks the school's LAS for its structure (school and
// groups, no pupil data, so no consent is needed) and keeps the outcome as
// the school's connection check, with the fault's class and fix hint.
func (g *Gateway) TestConnection(ctx context.Context, s gateway.School) (gateway.ConnectionCheck, error) {
	start := g.now()
	chk := gateway.ConnectionCheck{At: start.UTC()}
	cl, err := g.LASClient(s)
	if err != nil {
		chk.ErrorClass, chk.Message, chk.Hint = "request", err.Error(), "The school's stored credentials could not be opened: enter the key again (school add)."
	} else {
		sum, err := cl.HaalStructuur(ctx, soap.Request{Schooljaar: gateway.SchoolYearAt(start)}, soap.Handler{})
		var se *soap.Error
		switch {
		case err == nil:
			chk.OK, chk.Groups = true, sum.Groepen+sum.SamengesteldeGroepen
		case errors.As(err, &se):
			chk.ErrorClass, chk.FaultCode, chk.Message, chk.Hint = string(se.Class), se.Code, se.Error(), se.Hint
		default:
			chk.ErrorClass, chk.Message = "temporary", err.Error()
		}
	}
	chk.ElapsedMS = g.now().Sub(start).Milliseconds()
	if err := g.st.PutConnectionCheck(context.WithoutCancel(ctx), s.ID, chk); err != nil {
		return chk, err
	}
	return chk, nil
}

// SyncNow starts a sync of the school in the background, holding its lock.
func (g *Gateway) SyncNow(ctx context.Context, s gateway.School, by string) error {
	if err := g.gate.Require(ctx, s.ID, gateway.ProcessingLASExchange); err != nil {
		return err
	}
	l, err := g.st.AcquireLock(ctx, s.ID, g.o.Instance, g.o.LockTTL, g.now())
	if err != nil {
		return fmt.Errorf("school %s: a sync is already running: %w", s.ID, err)
	}
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		err := g.hold(g.bgCtx, l, func(ctx context.Context, l gateway.Lock) error {
			cl, err := g.LASClient(s)
			if err != nil {
				return err
			}
			sctx, cancel := context.WithTimeout(ctx, g.o.SyncTimeout)
			defer cancel()
			start := g.now()
			res, err := g.Syncer().Sync(sctx, s, cl, pull.Options{UseSince: useSince(s), Lock: &l})
			if g.o.ObserveSync != nil {
				g.o.ObserveSync(s, res.Run, g.now().Sub(start))
			}
			return err
		})
		if err != nil {
			g.slog.Warn("sync now failed", "school", s.ID, "by", by, "error", err)
		}
	}()
	return nil
}

// HeldSync describes the held sync of a school.
func (g *Gateway) HeldSync(ctx context.Context, s gateway.School) (httpapi.HeldSync, error) {
	d, err := pull.HeldDiff(ctx, g.st, s.ID)
	if err != nil {
		return httpapi.HeldSync{}, err
	}
	h := httpapi.HeldSync{School: d.School, Run: d.Run, Added: d.Added, Changed: d.Changed, Left: d.Left, Changes: []httpapi.HeldChange{}}
	for _, c := range d.Changes {
		h.Changes = append(h.Changes, httpapi.HeldChange{Pupil: c.Pupil, LASKey: c.LASKey, Kind: c.Kind, Fields: c.Fields})
	}
	return h, nil
}

// Approve applies the held sync under the school's lock.
func (g *Gateway) Approve(ctx context.Context, s gateway.School, by string) (gateway.SyncRun, error) {
	var run gateway.SyncRun
	err := g.withLock(ctx, s.ID, func(ctx context.Context, l gateway.Lock) error {
		var err error
		run, err = g.Syncer().Approve(ctx, s, by, pull.ApproveOptions{Lock: &l})
		return err
	})
	return run, err
}

// SubmitResults validates a results file against the school's pupils and
// stored tests and queues it; problems mean nothing was stored.
func (g *Gateway) SubmitResults(ctx context.Context, s gateway.School, body []byte, by string) (httpapi.Submitted, []httpapi.FieldProblem, error) {
	b, problems, err := g.ReadResults(ctx, s, body)
	if err != nil {
		return httpapi.Submitted{}, nil, err
	}
	if len(problems) > 0 {
		out := make([]httpapi.FieldProblem, len(problems))
		for i, p := range problems {
			out[i] = httpapi.FieldProblem{Field: p.Position, Reason: p.Reason}
		}
		return httpapi.Submitted{}, out, nil
	}
	sub, err := g.Submit(ctx, s, b, by, nil)
	if err != nil {
		return httpapi.Submitted{}, nil, err
	}
	return httpapi.Submitted{Results: sub.Results, New: sub.New, Changed: sub.Changed, Unchanged: sub.Unchanged, Tests: sub.Tests,
		Batches: sub.Batches, Held: sub.Held}, nil, nil
}

// pupilIndex finds a school's current pupils by id and LAS key (intake.Pupils).
type pupilIndex struct {
	byID  map[gateway.PupilID]gateway.Pupil
	byKey map[string]gateway.Pupil
}

func (p pupilIndex) ByID(id gateway.PupilID) (gateway.Pupil, bool) { x, ok := p.byID[id]; return x, ok }
func (p pupilIndex) ByLASKey(k string) (gateway.Pupil, bool)       { x, ok := p.byKey[k]; return x, ok }

// ReadResults validates a results file for a school (nothing is stored).
func (g *Gateway) ReadResults(ctx context.Context, s gateway.School, data []byte) (intake.Batch, []intake.Problem, error) {
	idx := pupilIndex{byID: map[gateway.PupilID]gateway.Pupil{}, byKey: map[string]gateway.Pupil{}}
	err := g.st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
		// The index needs ids and keys only: drop everything else now.
		x := gateway.Pupil{ID: p.ID, School: p.School, LASKey: p.LASKey, LeftOn: p.LeftOn}
		idx.byID[p.ID] = x
		if p.LASKey != "" {
			idx.byKey[p.LASKey] = x
		}
		return nil
	})
	if err != nil {
		return intake.Batch{}, nil, err
	}
	stored := map[string]gateway.TestDefinition{}
	tests, err := g.st.Tests(ctx, s.ID)
	if err != nil {
		return intake.Batch{}, nil, err
	}
	for _, t := range tests {
		stored[t.Code.Value] = t
	}
	return intake.Read(bytes.NewReader(data), idx, intake.Options{School: s.ID, ScoreType: s.ScoreTypeOf(), Now: g.now(), StoredTests: stored})
}

// Submit queues validated results.
func (g *Gateway) Submit(ctx context.Context, s gateway.School, b intake.Batch, by string, progress func(done, total int)) (delivery.Submitted, error) {
	return delivery.Submit(ctx, g.st, g.gate, g.log, s.ID, b.Tests, b.Results,
		delivery.SubmitOptions{BatchSize: g.o.Delivery.BatchSize, Now: g.now(), By: by, Progress: progress})
}

// Receipts returns every result's receipt.
func (g *Gateway) Receipts(ctx context.Context, s gateway.School) ([]httpapi.Receipt, error) {
	return Receipts(ctx, g.st, s.ID)
}

// Receipts returns every result's receipt, as the API shows them.
func Receipts(ctx context.Context, st gateway.Store, school gateway.SchoolID) ([]httpapi.Receipt, error) {
	rcs, err := delivery.Receipts(ctx, st, school)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.Receipt, len(rcs))
	for i, r := range rcs {
		out[i] = httpapi.Receipt{Key: r.Key, Pupil: r.Pupil, Test: r.Test, Part: r.Part, Date: r.Date, State: r.State, At: r.At,
			Reason: r.Reason, ErrorClass: r.ErrorClass, FaultCode: r.FaultCode, Batch: r.Batch, Attempts: r.Attempts, Evidence: r.Evidence}
		if r.State == gateway.BatchQueued && !r.NextAttempt.IsZero() {
			t := r.NextAttempt
			out[i].NextAttempt = &t
		}
	}
	return out, nil
}

// VerifyAudit checks every audit chain.
func (g *Gateway) VerifyAudit(ctx context.Context) (httpapi.AuditReport, error) {
	rep, err := audit.Verify(ctx, g.st)
	if err != nil {
		return httpapi.AuditReport{}, err
	}
	out := httpapi.AuditReport{OK: rep.OK(), Chains: rep.Chains, Entries: rep.Entries, Problems: []httpapi.AuditProblem{}}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, httpapi.AuditProblem{Chain: p.Chain, Seq: p.Seq, Kind: p.Kind, Detail: p.Detail})
	}
	return out, nil
}

// NextRun is when the scheduler next syncs the school.
func (g *Gateway) NextRun(ctx context.Context, s gateway.School) time.Time {
	if g.o.Planner == nil {
		return time.Time{}
	}
	st, err := g.st.ScheduleState(ctx, s.ID)
	if err != nil {
		return time.Time{}
	}
	return g.o.Planner.NextRun(s, st, g.now())
}

// SetConsent changes consent through the audited gate.
func (g *Gateway) SetConsent(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (httpapi.ConsentApplied, error) {
	a, err := g.gate.Apply(ctx, school, p, grant, by)
	return httpapi.ConsentApplied{Change: a.Change, Changed: a.Changed, Held: a.Held, Released: a.Released, StillInFlight: a.StillInFlight}, err
}
