package app

import (
	"bytes"
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

// SubmitResults validates a results file (the format of `results schema`)
// against the school's current pupils and stored tests and queues its
// results in batches for the school's LAS. When any record is bad the
// problems are returned (every one, by position and reason) and nothing is
// stored. Without las_exchange the batches are queued held. by is recorded
// in the audit log; progress, when set, is told how many results were
// queued so far.
func (a *App) SubmitResults(ctx context.Context, id gateway.SchoolID, data []byte, by string, progress func(done, total int)) (gateway.Submission, []gateway.Problem, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.Submission{}, nil, err
	}
	b, problems, err := a.readResults(ctx, s, data)
	if err != nil || len(problems) > 0 {
		return gateway.Submission{}, problems, err
	}
	sub, err := delivery.Submit(ctx, a.st, a.gate, a.log, s.ID, b.Tests, b.Results,
		delivery.SubmitOptions{BatchSize: a.o.Delivery.BatchSize, Now: a.now(), By: or(by, "cli"), Progress: progress})
	return sub, nil, err
}

// pupilIndex finds a school's current pupils by id and LAS key (intake.Pupils).
type pupilIndex struct {
	byID  map[gateway.PupilID]gateway.Pupil
	byKey map[string]gateway.Pupil
}

func (p pupilIndex) ByID(id gateway.PupilID) (gateway.Pupil, bool) { x, ok := p.byID[id]; return x, ok }
func (p pupilIndex) ByLASKey(k string) (gateway.Pupil, bool)       { x, ok := p.byKey[k]; return x, ok }

// readResults validates a results file for a school (nothing is stored).
func (a *App) readResults(ctx context.Context, s gateway.School, data []byte) (intake.Batch, []gateway.Problem, error) {
	idx := pupilIndex{byID: map[gateway.PupilID]gateway.Pupil{}, byKey: map[string]gateway.Pupil{}}
	err := a.st.Pupils(ctx, s.ID, func(p gateway.Pupil) error {
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
	tests, err := a.st.Tests(ctx, s.ID)
	if err != nil {
		return intake.Batch{}, nil, err
	}
	for _, t := range tests {
		stored[t.Code.Value] = t
	}
	return intake.Read(bytes.NewReader(data), idx, intake.Options{School: s.ID, ScoreType: s.ScoreTypeOf(), Now: a.now(), StoredTests: stored})
}
