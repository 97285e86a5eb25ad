package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	Enqueue(ctx context.Context, school gateway.SchoolID, rs []gateway.Result, b gateway.Batch, also ...gateway.Batch) (gateway.Enqueued, error)
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
// its results in one step, together with a copy for every dashboards
// recipient of the school (the recipients that take pushed or UWLR
// results; a feed reads the results themselves). A result whose key is
// already stored with the same digest is not queued again, so submitting a
// file twice, or again after an interruption, queues each result once.
// Without las_exchange the LAS batches are held, not queued; without
// dashboards the copies are.
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
	s, err := st.School(ctx, school)
	if err != nil {
		return out, fmt.Errorf("submit results of school %s: %w", school, err)
	}
	las, err := stateFor(ctx, consent, school, gateway.ProcessingLASExchange)
	if err != nil {
		return out, fmt.Errorf("submit results of school %s: %w", school, err)
	}
	out.Held = las.State == gateway.BatchHeld
	copies, err := dashboardCopies(ctx, consent, s)
	if err != nil {
		return out, fmt.Errorf("submit results of school %s: %w", school, err)
	}
	for _, c := range copies {
		out.Recipients = append(out.Recipients, gateway.SubmissionCopy{Recipient: c.Recipient, Batches: []string{}, Held: c.State == gateway.BatchHeld})
	}
	if len(tests) > 0 {
		if err := st.PutTests(ctx, school, tests); err != nil {
			return out, fmt.Errorf("submit results of school %s: store test definitions: %w", school, err)
		}
	}
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b gateway.Result) int { return strings.Compare(string(a.Pupil), string(b.Pupil)) })
	for i := 0; i < len(rs); i += size {
		chunk := rs[i:min(i+size, len(rs))]
		b := las.batch(now)
		also := make([]gateway.Batch, len(copies))
		for j, c := range copies {
			also[j] = c.batch(now)
		}
		e, err := st.Enqueue(ctx, school, chunk, b, also...)
		if err != nil {
			return out, fmt.Errorf("submit results of school %s: batch %d of %d (results %d-%d; the earlier batches are stored, submit the file again to complete): %w",
				school, i/size+1, (len(rs)+size-1)/size, i+1, i+len(chunk), err)
		}
		out.New += e.New
		out.Changed += e.Changed
		out.Unchanged += e.Unchanged
		if e.Batch != "" {
			out.Batches = append(out.Batches, e.Batch)
			for j := range e.Also {
				out.Recipients[j].Batches = append(out.Recipients[j].Batches, e.Also[j])
			}
		}
		if o.Progress != nil {
			o.Progress(i+len(chunk), len(rs))
		}
	}
	return out, auditSubmission(ctx, audit, out, o.By)
}

// auditSubmission records a submission on the school's chain.
func auditSubmission(ctx context.Context, audit auditor, out gateway.Submission, by string) error {
	if audit == nil {
		return nil
	}
	copies := 0
	for _, c := range out.Recipients {
		copies += len(c.Batches)
	}
	_, err := audit.Append(ctx, gateway.AuditChainOf(out.School), gateway.AuditResultsSubmit, out.School, by, map[string]string{
		"results": strconv.Itoa(out.Results), "new": strconv.Itoa(out.New), "changed": strconv.Itoa(out.Changed),
		"unchanged": strconv.Itoa(out.Unchanged), "batches": strconv.Itoa(len(out.Batches)), "tests": strconv.Itoa(out.Tests),
		"held": strconv.FormatBool(out.Held), "dashboard_recipients": strconv.Itoa(len(out.Recipients)),
		"dashboard_batches": strconv.Itoa(copies)})
	if err != nil {
		return fmt.Errorf("submit results of school %s: audit: %w", out.School, err)
	}
	return nil
}

// newBatch is how a new batch of one recipient starts: queued, or held
// while its processing is not granted.
type newBatch struct {
	Recipient  string
	Processing gateway.Processing
	State      gateway.BatchState
}

func (n newBatch) batch(now time.Time) gateway.Batch {
	b := gateway.Batch{ID: NewBatchID(now), State: n.State, CreatedAt: now, UpdatedAt: now, NextAttemptAt: now,
		Recipient: n.Recipient, Processing: n.Processing}
	if n.Processing == gateway.ProcessingLASExchange {
		b.Processing = "" // the LAS: as batches have always been stored
	}
	if n.State == gateway.BatchHeld {
		b.Reason, b.ErrorClass = heldReasonFor(n.Processing), gateway.ClassConsent
	}
	return b
}

// stateFor asks the gate whether p is granted now: queued if so, held if not.
func stateFor(ctx context.Context, consent gate, school gateway.SchoolID, p gateway.Processing) (newBatch, error) {
	n := newBatch{Processing: p, State: gateway.BatchQueued}
	if err := consent.Require(ctx, school, p); err != nil {
		if !errors.Is(err, gateway.ErrConsentRequired) {
			return n, err
		}
		n.State = gateway.BatchHeld
	}
	return n, nil
}

// dashboardCopies are the batches every results batch gets for the
// school's dashboards recipients that are sent to (webhook, uwlr).
func dashboardCopies(ctx context.Context, consent gate, s gateway.School) ([]newBatch, error) {
	var out []newBatch
	for _, r := range s.RecipientsOf(gateway.ProcessingDashboards) {
		if r.Kind != gateway.RecipientWebhook && r.Kind != gateway.RecipientUWLR {
			continue
		}
		n, err := stateFor(ctx, consent, s.ID, gateway.ProcessingDashboards)
		if err != nil {
			return nil, err
		}
		n.Recipient = r.Name
		out = append(out, n)
	}
	return out, nil
}

// heldReason is the reason on a batch held for lack of consent.
const heldReason = "las_exchange is not granted: the results wait until a school admin grants it"

// heldReasonFor is the reason on a batch held for lack of consent to p.
func heldReasonFor(p gateway.Processing) string {
	if p == gateway.ProcessingLASExchange || p == "" {
		return heldReason
	}
	return string(p) + " is not granted: the results wait until a school admin grants it"
}
