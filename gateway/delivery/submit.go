package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// DefaultBatchSize caps the results of one BrengLeerresultaten request. UWLR
// sets no limit; 500 results make a request of about 150 KB.
const DefaultBatchSize = 500

// NewBatchID returns a batch id that sorts by creation time: "b" + the unix
// time in nanoseconds (16 hex digits) + "_" + 8 random hex digits.
func NewBatchID(now time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read does not fail
	return fmt.Sprintf("b%016x_%s", uint64(now.UnixNano()), hex.EncodeToString(r[:]))
}

// submitStore is what Submit needs of gateway.Store.
type submitStore interface {
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	PutTests(ctx context.Context, school gateway.SchoolID, tests []gateway.TestDefinition) error
	Enqueue(ctx context.Context, school gateway.SchoolID, rs []gateway.Result, b gateway.Batch) (gateway.Enqueued, error)
}

// gate is the consent check.
type gate interface {
	Require(ctx context.Context, school gateway.SchoolID, p gateway.Processing) error
}

// auditor appends audit entries (gateway/audit.Log).
type auditor interface {
	Append(ctx context.Context, chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) (gateway.AuditEntry, error)
}

// SubmitOptions tune Submit.
type SubmitOptions struct {
	BatchSize int // default DefaultBatchSize
	Now       time.Time
	By        string // who submits (recorded in the audit log)
	// Progress, when set, is told how many results were taken in so far.
	Progress func(done, total int)
}

// Submit takes validated results of one school into the outbox: the test
// definitions first, then the results in batches of at most BatchSize (one
// pupil's results stay together where they fit), each batch stored with
// its results in one step. A result whose key is already stored with the
// same digest is not queued again, so submitting a file twice, or again
// after an interruption, queues each result once. Without las_exchange the
// batches are held, not queued.
func Submit(ctx context.Context, st submitStore, consent gate, audit auditor, school gateway.SchoolID,
	tests []gateway.TestDefinition, rs []gateway.Result, o SubmitOptions) (gateway.Submission, error) {
	out := gateway.Submission{School: school, Results: len(rs), Tests: len(tests), Batches: []string{}}
	size := o.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	if _, err := st.School(ctx, school); err != nil {
		return out, fmt.Errorf("submit results of school %s: %w", school, err)
	}
	state, reason := gateway.BatchQueued, ""
	if err := consent.Require(ctx, school, gateway.ProcessingLASExchange); err != nil {
		if !errors.Is(err, gateway.ErrConsentRequired) {
			return out, fmt.Errorf("submit results of school %s: %w", school, err)
		}
		state, reason, out.Held = gateway.BatchHeld, heldReason, true
	}
	if len(tests) > 0 {
		if err := st.PutTests(ctx, school, tests); err != nil {
			return out, fmt.Errorf("submit results of school %s: store test definitions: %w", school, err)
		}
	}
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b gateway.Result) int {
		if a.Pupil < b.Pupil {
			return -1
		} else if a.Pupil > b.Pupil {
			return 1
		}
		return 0
	})
	for i := 0; i < len(rs); i += size {
		chunk := rs[i:min(i+size, len(rs))]
		b := gateway.Batch{ID: NewBatchID(now), State: state, CreatedAt: now, UpdatedAt: now, NextAttemptAt: now, Reason: reason}
		if state == gateway.BatchHeld {
			b.ErrorClass = "consent"
		}
		e, err := st.Enqueue(ctx, school, chunk, b)
		if err != nil {
			return out, fmt.Errorf("submit results of school %s: batch %d of %d (results %d-%d; the earlier batches are stored, submit the file again to complete): %w",
				school, i/size+1, (len(rs)+size-1)/size, i+1, i+len(chunk), err)
		}
		out.New += e.New
		out.Changed += e.Changed
		out.Unchanged += e.Unchanged
		if e.Batch != "" {
			out.Batches = append(out.Batches, e.Batch)
		}
		if o.Progress != nil {
			o.Progress(i+len(chunk), len(rs))
		}
	}
	if audit != nil {
		_, err := audit.Append(ctx, gateway.AuditChainOf(school), gateway.AuditResultsSubmit, school, o.By, map[string]string{
			"results": strconv.Itoa(out.Results), "new": strconv.Itoa(out.New), "changed": strconv.Itoa(out.Changed),
			"unchanged": strconv.Itoa(out.Unchanged), "batches": strconv.Itoa(len(out.Batches)), "tests": strconv.Itoa(out.Tests),
			"held": strconv.FormatBool(out.Held)})
		if err != nil {
			return out, fmt.Errorf("submit results of school %s: audit: %w", school, err)
		}
	}
	return out, nil
}

// heldReason is the reason on a batch held for lack of consent.
const heldReason = "las_exchange is not granted: the results wait until a school admin grants it"
