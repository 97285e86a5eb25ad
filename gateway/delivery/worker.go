package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Store is what a Worker needs of gateway.Store.
type Store interface {
	Schools(ctx context.Context) ([]gateway.School, error)
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	Claim(ctx context.Context, r gateway.ClaimRequest) ([]gateway.Claim, error)
	Settle(ctx context.Context, c gateway.Claim, s gateway.Settlement) (gateway.Batch, error)
	Split(ctx context.Context, c gateway.Claim, parts []gateway.Batch, at time.Time) error
	Results(ctx context.Context, school gateway.SchoolID, keys []string) ([]gateway.Result, error)
	PupilsByID(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (map[gateway.PupilID]gateway.Pupil, error)
	Tests(ctx context.Context, school gateway.SchoolID) ([]gateway.TestDefinition, error)
	PutEvidence(ctx context.Context, e gateway.Evidence) error
	WalkBatches(ctx context.Context, school gateway.SchoolID, fn func(gateway.Batch) error) error
}

// opener opens sealed ECK iDs: the vault's Opener, given to this package only.
type opener interface {
	Open(place vault.Place, sealed []byte) ([]byte, error)
}

// Sender sends one results message (a *soap.Client).
type Sender interface {
	SendResults(ctx context.Context, msg *uwlr.LeerresultatenVerzoek) (*soap.Exchange, error)
}

// Connect returns the sender for a school's results receiver and its
// endpoint (for the evidence).
type Connect func(ctx context.Context, s gateway.School) (Sender, string, error)

// ConnectRecipient returns the sender for a school's uwlr recipient (a
// dashboard that speaks UWLR) and its endpoint.
type ConnectRecipient func(ctx context.Context, s gateway.School, r gateway.Recipient) (Sender, string, error)

// Pusher posts one signed JSON message (Standard Webhooks) to a webhook
// recipient; id is stable across resends of a batch.
type Pusher interface {
	Push(ctx context.Context, id string, body []byte) (Pushed, error)
}

// Pushed is a recipient's answer to a push.
type Pushed struct {
	Status        int
	SentAt        time.Time
	RequestSHA256 string
}

// Push returns the pusher of a school's webhook recipient.
type Push func(ctx context.Context, s gateway.School, r gateway.Recipient) (Pusher, error)

// ExportSigner signs the evidence of one export (gateway/evidence.SignExport
// with the gateway's key).
type ExportSigner func(e gateway.ExportEvidence) ([]byte, error)

// Signer signs the evidence of one accepted delivery (the request as
// stored: ECK iDs sealed, key removed; the digest of the exact bytes sent;
// the answer) and returns the document to keep (gateway/evidence.Sign with
// the gateway's key).
type Signer func(e gateway.DeliveryEvidence) ([]byte, error)

// Options tune a Worker.
type Options struct {
	Concurrency int           // batches sent at the same time; default 4
	Lease       time.Duration // how long a claimed batch is ours; default 2m (longer than las.timeout)
	MaxAttempts int           // after this many failed attempts a batch is rejected; default 25
	RetryBase   time.Duration // first backoff; default 10s
	RetryMax    time.Duration // longest backoff; default 30m
	Poll        time.Duration // how long a Claim waits for work; default 1s
	Name        string        // consumer name prefix; default host-pid
	Author      string        // auteur in results messages; default "uwlr-gateway"
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 25
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 10 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.Author == "" {
		o.Author = "uwlr-gateway"
	}
	return o
}

// Outcome is what happened to one claimed batch.
type Outcome struct {
	School  gateway.SchoolID
	Batch   string
	State   gateway.BatchState // accepted, queued (retry), rejected, held, split
	Results int
	Reason  string
	// ErrorClass classifies a failure; empty when accepted or split.
	ErrorClass gateway.ErrorClass
	Err        error // set when the batch could not be settled (it is claimed again later)
}

// Worker sends batches from the outbox.
type Worker struct {
	Store   Store
	Opener  opener
	Consent gate
	Connect Connect
	// ConnectRecipient and Push reach the school's recipients (uwlr and
	// webhook); SignExport signs what a push sent.
	ConnectRecipient ConnectRecipient
	Push             Push
	SignExport       ExportSigner
	// Build builds the export an export batch names, when it is sent.
	Build   BuildExport
	Sign    Signer
	Audit   auditor
	Log     *slog.Logger
	Now     func() time.Time
	Options Options
	// Settled, when set, is called after each claimed batch (progress).
	Settled func(Outcome)

	once sync.Once
	rng  *rand.Rand
	rmu  sync.Mutex
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.Options = w.Options.withDefaults()
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Log == nil {
			w.Log = slog.New(slog.DiscardHandler)
		}
		w.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	})
}

func (w *Worker) jitter() float64 {
	w.rmu.Lock()
	defer w.rmu.Unlock()
	return w.rng.Float64()
}

// Run sends batches until ctx ends; transient store failures are logged and
// retried. It returns nil when ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	var wg sync.WaitGroup
	for i := range w.Options.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, fmt.Sprintf("%s-%d", w.Options.Name, i), nil)
		}()
	}
	wg.Wait()
	return nil
}

// Drained summarises a Drain.
type Drained struct {
	Outcomes map[gateway.BatchState]int `json:"batches"` // by the state each claimed batch ended in
	Results  map[gateway.BatchState]int `json:"results"`
	// Waiting counts the queued batches whose retry is not due yet;
	// NextAttempt is the earliest of them.
	Waiting     int       `json:"waiting"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Errors      int       `json:"errors"`
}

// Drain sends every batch that is due, and waits for batches leased by a
// worker that died until their lease lapses, then returns. A retry that
// comes due as the workers finish is sent in another round. Batches
// waiting for a later retry are left for a later run (Waiting says how
// many).
func (w *Worker) Drain(ctx context.Context) (Drained, error) {
	w.init()
	d := Drained{Outcomes: map[gateway.BatchState]int{}, Results: map[gateway.BatchState]int{}}
	var mu sync.Mutex
	record := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		if o.Err != nil {
			d.Errors++
			return
		}
		d.Outcomes[o.State]++
		d.Results[o.State] += o.Results
	}
	for {
		w.drainRound(ctx, record)
		if err := ctx.Err(); err != nil {
			return d, err
		}
		p, err := w.pending(ctx)
		if err != nil {
			return d, err
		}
		d.Waiting, d.NextAttempt = p.waiting, p.next
		if p.due == 0 {
			return d, nil
		}
	}
}

// drainRound runs the workers until none is busy and nothing is due.
func (w *Worker) drainRound(ctx context.Context, record func(Outcome)) {
	var busy atomic.Int64
	idle := make(chan struct{})
	var idleOnce sync.Once
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range w.Options.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(dctx, fmt.Sprintf("%s-%d", w.Options.Name, i), &drainState{busy: &busy, record: record, done: func() {
				idleOnce.Do(func() { close(idle) })
			}, check: w.pending})
		}()
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
}

// drainState lets the worker loops of a Drain tell when all is done.
type drainState struct {
	busy   *atomic.Int64
	record func(Outcome)
	done   func()
	check  func(context.Context) (pendingWork, error)
}

type pendingWork struct {
	due     int // queued and due, or sent (leased, possibly by a dead worker)
	waiting int // queued with a retry later
	next    time.Time
}

// pending counts the batches that are still to be sent now, and those
// waiting for a later retry.
func (w *Worker) pending(ctx context.Context) (pendingWork, error) {
	var p pendingWork
	schools, err := w.Store.Schools(ctx)
	if err != nil {
		return p, err
	}
	now := w.Now()
	for _, s := range schools {
		err := w.Store.WalkBatches(ctx, s.ID, func(b gateway.Batch) error {
			switch {
			case b.State == gateway.BatchSent:
				p.due++
			case b.State == gateway.BatchQueued && !b.NextAttemptAt.After(now):
				p.due++
			case b.State == gateway.BatchQueued:
				p.waiting++
				if p.next.IsZero() || b.NextAttemptAt.Before(p.next) {
					p.next = b.NextAttemptAt
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, gateway.ErrNotFound) {
			return p, err
		}
	}
	return p, nil
}

// loop claims and handles one batch at a time until ctx ends (or, in a
// drain, until no worker is busy and nothing is due).
func (w *Worker) loop(ctx context.Context, consumer string, ds *drainState) {
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		wait := w.Options.Poll
		if ds != nil {
			wait = 0
		}
		cs, err := w.Store.Claim(ctx, gateway.ClaimRequest{Consumer: consumer, Max: 1, Lease: w.Options.Lease, Wait: wait, Now: w.Now()})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.Log.Warn("outbox claim failed; retrying", "consumer", consumer, "error", err)
			sleep(ctx, pause)
			pause = min(pause*2, 5*time.Second)
			continue
		}
		pause = 50 * time.Millisecond
		if len(cs) == 0 {
			if ds == nil {
				continue
			}
			if ds.busy.Load() == 0 {
				p, err := ds.check(ctx)
				if err == nil && p.due == 0 && ds.busy.Load() == 0 {
					ds.done()
					return
				}
			}
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		for _, c := range cs {
			if ds != nil {
				ds.busy.Add(1)
			}
			o := w.handle(ctx, c)
			if ds != nil {
				ds.record(o)
				ds.busy.Add(-1)
			}
			if w.Settled != nil {
				w.Settled(o)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff is the wait before attempt n+1 after n failed attempts:
// RetryBase·2^(n-1), at most RetryMax, with the upper half jittered.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.Options.RetryBase
	for i := 1; i < attempts && d < w.Options.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.Options.RetryMax)
	return d/2 + time.Duration(w.jitter()*float64(d/2))
}
