package app

import (
	"bytes"
	"cmp"
	"context"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

// Limits of the results intake. They are the defaults of the config keys
// intake.max_problems and intake.max_body_bytes (until those exist, these
// constants are the values).
const (
	// DefaultMaxResultProblems caps the problems listed for a refused
	// results file; the rest are counted ("and N more"), so that a file of
	// a million bad records costs a thousand problems of memory and a
	// problem document of some 100 KB.
	DefaultMaxResultProblems = 1000
	// DefaultMaxResultsBytes caps a results file (the CLI checks its size,
	// the API its body): about a million results.
	DefaultMaxResultsBytes int64 = 64 << 20
)

// SubmitResults is SubmitResultsFrom over a file held in memory.
func (a *App) SubmitResults(ctx context.Context, id gateway.SchoolID, data []byte, by string, progress func(done, total int)) (gateway.Submission, []gateway.Problem, error) {
	return a.SubmitResultsFrom(ctx, id, bytes.NewReader(data), by, progress)
}

// SubmitResultsFrom validates a results file (the format of `results
// schema`) against the school's current pupils and stored tests and queues
// its results in batches for the school's LAS. The file is read as a
// stream, record by record (the caller caps its size). When any record is
// bad the problems are returned, the first DefaultMaxResultProblems by
// position and reason and then one that counts the rest (intake.Count adds
// them up), and nothing is stored. Without las_exchange the batches are
// queued held. by is recorded in the audit log; progress, when set, is told
// how many results were queued so far. A failing reader (a body past its
// cap, a canceled ctx) is an error that wraps the reader's.
func (a *App) SubmitResultsFrom(ctx context.Context, id gateway.SchoolID, r io.Reader, by string, progress func(done, total int)) (gateway.Submission, []gateway.Problem, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.Submission{}, nil, err
	}
	b, problems, err := a.readResults(ctx, s, ctxReader{ctx: ctx, r: r})
	if err != nil || len(problems) > 0 {
		return gateway.Submission{}, problems, err
	}
	sub, err := delivery.Submit(ctx, a.st, a.gate, a.log, s.ID, b.Tests, b.Results,
		delivery.SubmitOptions{BatchSize: a.o.Delivery.BatchSize, Now: a.now(), By: or(by, "cli"), Progress: progress})
	return sub, nil, err
}

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// pupilIndex finds a school's current pupils by id and LAS key (intake.Pupils).
type pupilIndex struct {
	byID  map[gateway.PupilID]gateway.Pupil
	byKey map[string]gateway.Pupil
}

func (p pupilIndex) ByID(id gateway.PupilID) (gateway.Pupil, bool) { x, ok := p.byID[id]; return x, ok }
func (p pupilIndex) ByLASKey(k string) (gateway.Pupil, bool)       { x, ok := p.byKey[k]; return x, ok }

// readResults validates a results file for a school (nothing is stored).
func (a *App) readResults(ctx context.Context, s gateway.School, r io.Reader) (intake.Batch, []gateway.Problem, error) {
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
	return intake.Read(r, idx, intake.Options{School: s.ID, ScoreType: s.ScoreTypeOf(), Now: a.now(), StoredTests: stored,
		MaxProblems: cmp.Or(a.o.MaxResultProblems, DefaultMaxResultProblems)})
}
