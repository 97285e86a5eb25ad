package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// BatchState is where a batch of results is on its way to the receiver. A
// result's receipt has the state of the batch that delivers it.
type BatchState string

const (
	// BatchQueued: waiting to be sent (NextAttemptAt says when; after a
	// retryable failure Reason says why it waits).
	BatchQueued BatchState = "queued"
	// BatchSent: the request was sent, or is being sent; no answer recorded yet.
	// After a crash a sent batch is sent again with the same keys.
	BatchSent BatchState = "sent"
	// BatchAccepted: the receiver confirmed the batch (leerresultaten_bevestiging).
	BatchAccepted BatchState = "accepted"
	// BatchRejected: dead letter. A credential, request or version fault (or
	// too many retries); Reason and ErrorClass say why. `results retry` queues
	// it again.
	BatchRejected BatchState = "rejected"
	// BatchHeld: the school has not granted the batch's processing
	// (las_exchange, or dashboards for a dashboard's batch); granting it
	// again queues the batch.
	BatchHeld BatchState = "held"
	// BatchSplit: the receiver refused a request that named one bad pupil or
	// result; the results moved to smaller batches (Children).
	BatchSplit BatchState = "split"
)

// BatchStates lists the states in display order.
var BatchStates = []BatchState{BatchQueued, BatchSent, BatchAccepted, BatchRejected, BatchHeld, BatchSplit}

// Terminal reports whether nothing more happens to a batch in this state
// unless a person acts (retry) or consent changes.
func (s BatchState) Terminal() bool {
	return s == BatchAccepted || s == BatchRejected || s == BatchSplit
}

// Batch is one delivery unit: up to a capped number of results of one
// school, sent in one BrengLeerresultaten request. Its keys never change, so
// a resend after a crash carries the same result keys.
type Batch struct {
	ID        string     `json:"id"`
	School    SchoolID   `json:"school"`
	Keys      []string   `json:"keys"`
	State     BatchState `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// NextAttemptAt is when a queued batch is due.
	NextAttemptAt time.Time `json:"next_attempt_at"`
	Attempts      int       `json:"attempts"`
	// Reason says why the batch is held, waits for a retry, or was rejected.
	Reason     string     `json:"reason,omitempty"`
	ErrorClass ErrorClass `json:"error_class,omitempty"`
	FaultCode  string     `json:"fault_code,omitempty"`
	// Evidence is the id of the signed evidence of the accepted delivery.
	Evidence   string    `json:"evidence,omitempty"`
	SentAt     time.Time `json:"sent_at,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitempty"`
	// Parent is the batch this one was split from; Children the batches a
	// split batch handed its results to.
	Parent   string   `json:"parent,omitempty"`
	Children []string `json:"children,omitempty"`
	// Recipient names the school's recipient this batch goes to; empty
	// means the school's LAS (or its results receiver profile).
	Recipient string `json:"recipient,omitempty"`
	// Processing is the consent the batch needs at take and at send;
	// empty means las_exchange (batches stored before recipients existed).
	Processing Processing `json:"processing,omitempty"`
	// Export names what an export batch sends (no results, no keys): the
	// study of a research export or the basis of a legal disclosure. The
	// export is built when the batch is sent, from the data of that moment.
	Export string `json:"export,omitempty"`
}

// Needs is the processing whose consent the batch needs.
func (b Batch) Needs() Processing {
	if b.Processing == "" {
		return ProcessingLASExchange
	}
	return b.Processing
}

// LogValue logs a batch by ids and counts.
func (b Batch) LogValue() slog.Value {
	return slog.GroupValue(slog.String("school", string(b.School)), slog.String("batch", b.ID),
		slog.Int("results", len(b.Keys)), slog.String("state", string(b.State)))
}

// Claim is a batch handed to one delivery worker. Token fences the claim: a
// worker whose lease expired and was taken over cannot settle the batch.
type Claim struct {
	Batch Batch
	Token string
	// Entry is the store's own handle of the queue entry (opaque).
	Entry string
}

// ClaimRequest asks for due batches.
type ClaimRequest struct {
	Consumer string        // a name of this worker (process and goroutine)
	Max      int           // at most this many batches
	Lease    time.Duration // the claim lapses after this long unless settled or renewed
	Wait     time.Duration // wait up to this long when nothing is due
	Now      time.Time
}

// Settlement is the next state of a claimed batch.
type Settlement struct {
	State BatchState
	At    time.Time
	// Lease renews the claim (with State BatchSent).
	Lease time.Duration
	// NextAttemptAt is when a BatchQueued settlement (a retry) is due.
	NextAttemptAt time.Time
	Reason        string
	ErrorClass    ErrorClass
	FaultCode     string
	Evidence      string
	// CountAttempt adds one to Attempts (with State BatchSent).
	CountAttempt bool
}

// Apply returns the batch moved to the state of st (the stores call it
// when they settle a claim).
func (b Batch) Apply(st Settlement) Batch {
	b.State, b.UpdatedAt = st.State, st.At
	switch st.State {
	case BatchSent:
		b.SentAt = st.At
		if st.CountAttempt {
			b.Attempts++
		}
	case BatchQueued:
		b.NextAttemptAt = st.NextAttemptAt
		b.AnsweredAt = st.At
	case BatchAccepted, BatchRejected, BatchHeld:
		b.AnsweredAt = st.At
	}
	if st.State != BatchSent {
		b.Reason, b.ErrorClass, b.FaultCode = st.Reason, st.ErrorClass, st.FaultCode
	}
	if st.Evidence != "" {
		b.Evidence = st.Evidence
	}
	return b
}

// CheckNewBatches checks the batches of one Enqueue: b and every copy in
// also are queued or held, with an id of their own.
func CheckNewBatches(b Batch, also []Batch) error {
	seen := map[string]bool{}
	for _, x := range append([]Batch{b}, also...) {
		switch {
		case x.State != BatchQueued && x.State != BatchHeld:
			return fmt.Errorf("%w: a new batch is queued or held, not %s", ErrInvalid, x.State)
		case x.ID == "":
			return fmt.Errorf("%w: batch without id", ErrInvalid)
		case seen[x.ID]:
			return fmt.Errorf("%w: batch id %s twice in one enqueue", ErrInvalid, x.ID)
		}
		seen[x.ID] = true
	}
	return nil
}

// CheckExportBatch checks a new export batch: queued or held, with an id,
// a recipient, a processing other than las_exchange and what it exports.
func CheckExportBatch(b Batch) error {
	switch {
	case b.State != BatchQueued && b.State != BatchHeld:
		return fmt.Errorf("%w: a new batch is queued or held, not %s", ErrInvalid, b.State)
	case b.ID == "":
		return fmt.Errorf("%w: batch without id", ErrInvalid)
	case b.Recipient == "" || b.Export == "" || b.Needs() == ProcessingLASExchange:
		return fmt.Errorf("%w: an export batch names its recipient, its processing and what it exports", ErrInvalid)
	case len(b.Keys) > 0:
		return fmt.Errorf("%w: an export batch holds no result keys", ErrInvalid)
	}
	return nil
}

// Enqueued is the outcome of Outbox.Enqueue.
type Enqueued struct {
	Batch     string // the new batch; empty when nothing was new or changed
	New       int
	Changed   int // keys that existed with another digest (corrections)
	Unchanged int // keys that existed with the same digest: not queued again
	// Also are the ids of the copies created with the batch (none when
	// nothing was new or changed).
	Also []string
}

// Outbox keeps a school's test definitions, results and the batches that
// deliver them; it is part of Store and specified by storetest.
//
// A batch waiting to be sent always has an entry in the store's queue; a
// claim leases it to one worker, and a lease that lapses (the worker died)
// makes it claimable again. Every method returns ErrNotFound for an unknown
// school or batch.
type Outbox interface {
	// PutTests stores test definitions, replacing those with the same code.
	PutTests(ctx context.Context, school SchoolID, tests []TestDefinition) error
	// Tests returns the school's test definitions, ordered by code.
	Tests(ctx context.Context, school SchoolID) ([]TestDefinition, error)

	// Enqueue stores results and, atomically with them, one new batch b
	// (b.ID, b.State BatchQueued or BatchHeld, b.CreatedAt, b.NextAttemptAt
	// set by the caller) holding the keys that are new or whose Digest
	// changed. Results whose key exists with the same digest are left alone.
	// A queued batch is put in the queue. Result.Batch is set by the store
	// (to b). Each batch of also (another recipient's copy: ID, State,
	// Recipient, Processing set) gets the same keys in the same step, so a
	// crash never leaves results queued for one recipient and lost for
	// another; its id is in Enqueued.Also.
	Enqueue(ctx context.Context, school SchoolID, rs []Result, b Batch, also ...Batch) (Enqueued, error)
	// EnqueueExport stores an export batch b (ID, State BatchQueued or
	// BatchHeld, Recipient, Processing and Export set; no keys) and queues
	// it when queued.
	EnqueueExport(ctx context.Context, school SchoolID, b Batch) error
	// Results returns the stored results with the given keys, in that order;
	// unknown keys are skipped.
	Results(ctx context.Context, school SchoolID, keys []string) ([]Result, error)
	// WalkResults calls fn for every result of the school (in no set order).
	WalkResults(ctx context.Context, school SchoolID, fn func(Result) error) error
	// DeleteResults deletes results by key and returns how many existed.
	DeleteResults(ctx context.Context, school SchoolID, keys []string) (int, error)

	// Batch returns one batch.
	Batch(ctx context.Context, school SchoolID, id string) (Batch, error)
	// WalkBatches calls fn for every batch of the school, ordered by ID
	// (callers make batch ids that sort by creation time).
	WalkBatches(ctx context.Context, school SchoolID, fn func(Batch) error) error

	// Claim leases up to r.Max due batches (state queued, or sent by a worker
	// whose lease lapsed) to r.Consumer, waiting up to r.Wait for one.
	// Batches of deleted schools and held batches are dropped from the queue.
	Claim(ctx context.Context, r ClaimRequest) ([]Claim, error)
	// Settle moves a claimed batch to s.State: BatchSent keeps the claim
	// (renewing the lease); the other states end it. BatchQueued (a retry)
	// requeues it at s.NextAttemptAt. ErrConflict when the claim is no
	// longer current (its lease lapsed and another worker took the batch,
	// or the batch was held meanwhile).
	Settle(ctx context.Context, c Claim, s Settlement) (Batch, error)
	// Split ends a claimed batch in state BatchSplit and queues parts (each
	// with ID, Keys, CreatedAt, NextAttemptAt set) in its place, pointing the
	// results at their new batch; all or nothing. ErrConflict as in Settle.
	Split(ctx context.Context, c Claim, parts []Batch, at time.Time) error

	// HoldBatches moves the school's queued batches that need p (Batch.Needs)
	// and are not leased to a worker to BatchHeld with reason (consent
	// revoked); it returns how many.
	HoldBatches(ctx context.Context, school SchoolID, p Processing, reason string, at time.Time) (int, error)
	// ReleaseBatches queues every held batch of the school that needs p
	// again, due at at.
	ReleaseBatches(ctx context.Context, school SchoolID, p Processing, at time.Time) (int, error)
	// Requeue queues the given rejected batches again (attempts reset), due
	// at at; other states are left alone. It returns how many were queued.
	Requeue(ctx context.Context, school SchoolID, ids []string, at time.Time) (int, error)
	// InFlight counts the school's batches that are leased to a worker at now.
	InFlight(ctx context.Context, school SchoolID, now time.Time) (int, error)
	// OutboxDepth counts the school's batches by state.
	OutboxDepth(ctx context.Context, school SchoolID) (map[BatchState]int, error)
	// DeleteBatches deletes ended batches (accepted, rejected, split) and
	// held batches by id, for retention once their results are gone (or,
	// for a held batch, once it has been held too long); queued and sent
	// batches are left alone. It returns how many it deleted.
	DeleteBatches(ctx context.Context, school SchoolID, ids []string) (int, error)
}

// Evidence is the signed record of one delivery: the request as sent (ECK
// iDs sealed, the autorisatiesleutel removed), the receiver's answer and an
// XML-DSig signature, as one XML document (Doc, possibly compressed by the
// caller). Pupils and Keys say whom and what it concerns, for retention.
type Evidence struct {
	ID        string    `json:"id"`
	School    SchoolID  `json:"school"`
	Batch     string    `json:"batch"`
	CreatedAt time.Time `json:"created_at"`
	Pupils    []PupilID `json:"pupils"`
	Keys      []string  `json:"keys"`
	Doc       []byte    `json:"doc,omitempty"`
}

// EvidenceStore keeps signed evidence per school; part of Store.
type EvidenceStore interface {
	// PutEvidence stores one record (replacing one with the same id).
	PutEvidence(ctx context.Context, e Evidence) error
	// Evidence returns one record with its document, or ErrNotFound.
	Evidence(ctx context.Context, school SchoolID, id string) (Evidence, error)
	// WalkEvidence calls fn for every record of the school, without Doc.
	WalkEvidence(ctx context.Context, school SchoolID, fn func(Evidence) error) error
	// DeleteEvidence deletes records by id and returns how many existed.
	DeleteEvidence(ctx context.Context, school SchoolID, ids []string) (int, error)
}
