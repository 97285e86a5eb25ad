package delivery_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Results reach las-sim exactly once, with the right pupils and ECK iDs;
// every accepted batch has evidence whose signature verifies and which
// holds no plain ECK iD; every decryption is in the audit log.
func TestDeliverExactlyOnce(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 60, nil)
		rs, sub := f.submit(250, 40)
		if sub.New != 250 || len(sub.Batches) != 7 || sub.Held {
			t.Fatalf("submitted %+v, want 250 new results in 7 batches", sub)
		}
		d, err := f.worker(delivery.Options{Concurrency: 3}).Drain(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if d.Results[gateway.BatchAccepted] != 250 || d.Outcomes[gateway.BatchAccepted] != 7 || d.Errors != 0 {
			t.Fatalf("Drain = %+v, want 250 results in 7 accepted batches", d)
		}
		l := f.wantExactlyOnce(rs)
		if l.resent != 0 {
			t.Errorf("%d resends without any crash", l.resent)
		}
		if got := f.receipts(); got[gateway.BatchAccepted] != 250 {
			t.Errorf("receipts = %v, want 250 accepted", got)
		}

		// Evidence: one per batch, signed, sealed ECK iDs only.
		plain := map[string]bool{}
		for _, p := range f.sch.Pupils() {
			if p.Eckid != "" {
				plain[p.Eckid] = true
			}
		}
		var evs []gateway.Evidence
		if err := f.store.WalkEvidence(ctxT(t), f.school.ID, func(e gateway.Evidence) error { evs = append(evs, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(evs) != 7 {
			t.Fatalf("%d evidence records, want 7", len(evs))
		}
		keys := 0
		for _, meta := range evs {
			e, err := f.store.Evidence(ctxT(t), f.school.ID, meta.ID)
			if err != nil {
				t.Fatal(err)
			}
			doc := gunzip(t, e.Doc)
			dv, err := evidence.Verify([]*x509.Certificate{evidenceKey(t).Certificate()}, doc)
			if err != nil {
				t.Fatalf("evidence %s does not verify: %v", e.ID, err)
			}
			if dv.Batch != e.Batch || dv.School != f.school.ID || len(dv.RequestSHA256) != 64 || !bytes.Contains(dv.Response, []byte("leerresultaten_bevestiging")) {
				t.Errorf("evidence %s = batch %s school %s sha %q", e.ID, dv.Batch, dv.School, dv.RequestSHA256)
			}
			for eck := range plain {
				if bytes.Contains(doc, []byte(eck)) || bytes.Contains(doc, []byte(eck[len(eck)-128:])) {
					t.Fatalf("evidence %s holds a plain ECK iD", e.ID)
				}
			}
			if !bytes.Contains(doc, []byte(delivery.SealedPrefix)) || bytes.Contains(doc, []byte(f.sch.Creds.Autorisatiesleutel)) {
				t.Errorf("evidence %s: sealed ECK iDs missing, or the autorisatiesleutel is in it", e.ID)
			}
			keys += len(e.Keys)
		}
		if keys != 250 {
			t.Errorf("evidence covers %d results, want 250", keys)
		}

		// Audit: one decrypt entry per batch, counts only; the chain verifies.
		decrypts, opened := 0, 0
		err = f.store.WalkAudit(ctxT(t), gateway.AuditChainOf(f.school.ID), func(e gateway.AuditEntry) error {
			if e.Kind == gateway.AuditDecrypt {
				decrypts++
				n, _ := strconv.Atoi(e.Details["eckids"])
				opened += n
			}
			for _, v := range e.Details {
				if plain[v] {
					t.Errorf("audit entry %d holds an ECK iD", e.Seq)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if decrypts != 7 || opened == 0 {
			t.Errorf("%d decrypt entries (%d ECK iDs), want 7", decrypts, opened)
		}
		rep, err := audit.Verify(ctxT(t), f.store)
		if err != nil || !rep.OK {
			t.Errorf("audit.Verify = %+v, %v", rep, err)
		}

		// Submitting the same results again queues nothing.
		_, again := f.submit(250, 40)
		if again.Unchanged != 250 || len(again.Batches) != 0 {
			t.Errorf("resubmission = %+v, want 250 unchanged and no batch", again)
		}
	})
}

// Without las_exchange results are held, not sent; granting releases them;
// revoking holds what is queued again.
func TestConsentHoldsAndReleases(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 30, nil)
		f.setConsent(false)
		rs, sub := f.submit(60, 20)
		if !sub.Held || len(sub.Batches) != 3 {
			t.Fatalf("submit without consent = %+v, want 3 held batches", sub)
		}
		w := f.worker(delivery.Options{Concurrency: 2})
		d, err := w.Drain(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if n := f.brengCalls(); n != 0 || d.Results[gateway.BatchAccepted] != 0 {
			t.Fatalf("without consent las-sim got %d requests (drain %+v)", n, d)
		}
		if got := f.receipts(); got[gateway.BatchHeld] != 60 {
			t.Fatalf("receipts = %v, want 60 held", got)
		}
		a := f.setConsent(true)
		if a.Released != 3 {
			t.Fatalf("granting released %d batches, want 3", a.Released)
		}
		if _, err := w.Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		f.wantExactlyOnce(rs)
		if got := f.receipts(); got[gateway.BatchAccepted] != 60 {
			t.Fatalf("receipts after grant = %v", got)
		}

		// Queued, then revoked before sending: held at once, nothing sent.
		f.submitMore(t, 5)
		before := f.brengCalls()
		a = f.setConsent(false)
		if a.Held != 1 {
			t.Fatalf("revoking held %d batches, want 1", a.Held)
		}
		if _, err := w.Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if n := f.brengCalls() - before; n != 0 {
			t.Fatalf("%d requests reached las-sim after the revocation", n)
		}
	})
}

// submitMore queues n results on a new date.
func (f *fixture) submitMore(t *testing.T, n int) {
	t.Helper()
	f.advance(72 * time.Hour)
	ps := f.pupils()
	rs := make([]gateway.Result, n)
	for i := range rs {
		rs[i] = gateway.Result{Key: "more-" + f.clock().Format("20060102") + "-" + string(rune('a'+i)), School: f.school.ID, Pupil: ps[i].ID,
			Test: "REK-M4", Date: f.clock().Format(time.DateOnly), Score: "7", Digest: "d" + string(rune('a'+i)), SubmittedAt: f.clock()}
	}
	if _, err := delivery.Submit(context.Background(), f.store, f.gate, f.log, f.school.ID, nil, rs, delivery.SubmitOptions{Now: f.clock()}); err != nil {
		t.Fatal(err)
	}
}

// Revoking consent while a worker is sending: once the revocation returns,
// no further request reaches las-sim; granting again delivers the rest,
// each result once. The revocation lands mid-run by construction: both
// workers' requests wait at las-sim's door until it has held the queued
// batches.
func TestRevokeMidRun(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 40, func(s *lassim.Sim) { s.Latency = 40 * time.Millisecond })
		f.gate.InFlightWait = observe.Patience
		rs, sub := f.submit(400, 10)
		if len(sub.Batches) != 40 {
			t.Fatalf("%d batches, want 40", len(sub.Batches))
		}
		ctx, cancel := context.WithCancel(ctxT(t))
		w := f.worker(delivery.Options{Concurrency: 2, Poll: 20 * time.Millisecond})
		claims := &claimCounter{Store: f.store}
		w.Store = claims
		done := make(chan struct{})
		go func() { defer close(done); _ = w.Run(ctx) }()
		f.waitAccepted(t, 60)
		f.door.Close()
		observe.WaitFor(t, "both workers to wait on las-sim", func() (bool, string) {
			_, _, n := f.door.Counts()
			return n == 2, fmt.Sprintf("%d wait", n)
		})
		a := f.revokeWhileWaiting(t)
		after, looked := f.brengCalls(), claims.n.Load()
		// Nothing may reach las-sim while both workers keep looking for
		// work: let them look ten more times.
		observe.WaitFor(t, "the workers to look for work after the revocation", func() (bool, string) {
			n := claims.n.Load() - looked
			return n >= 10, fmt.Sprintf("%d claims since", n)
		})
		if n := f.brengCalls() - after; n != 0 {
			t.Fatalf("%d requests reached las-sim after the revocation returned", n)
		}
		got := f.receipts()
		if got[gateway.BatchHeld] == 0 || got[gateway.BatchAccepted] == 400 || got[gateway.BatchQueued]+got[gateway.BatchSent] != 0 || a.StillInFlight != 0 {
			t.Fatalf("after revoking mid-run (held %d batches, %d still in flight): receipts %v", a.Held, a.StillInFlight, got)
		}
		f.setConsent(true)
		f.waitAccepted(t, 400)
		cancel()
		<-done
		f.wantExactlyOnce(rs)
	})
}

// revokeWhileWaiting revokes las_exchange while requests wait at the shut
// door, opens it once the revocation has held the queued batches, and
// returns what the revocation did once it returns.
func (f *fixture) revokeWhileWaiting(t *testing.T) gateway.ConsentApplied {
	t.Helper()
	type result struct {
		a   gateway.ConsentApplied
		err error
	}
	revoked := make(chan result, 1)
	go func() {
		a, err := f.gate.Apply(context.Background(), f.school.ID, gateway.ProcessingLASExchange, false, "test admin")
		revoked <- result{a, err}
	}()
	observe.WaitFor(t, "the revocation to hold the queued batches", func() (bool, string) {
		select {
		case r := <-revoked:
			t.Fatalf("the revocation returned (%+v, %v) while two deliveries were under way", r.a, r.err)
		default:
		}
		got := f.receipts()
		return got[gateway.BatchHeld] > 0, fmt.Sprintf("receipts %v", got)
	})
	f.door.Open()
	select {
	case r := <-revoked:
		if r.err != nil {
			t.Fatalf("revoke: %v", r.err)
		}
		return r.a
	case <-time.After(observe.Patience):
		t.Fatalf("the revocation did not return within %v of the deliveries under way ending", observe.Patience)
		return gateway.ConsentApplied{}
	}
}

// waitAccepted waits until n results have an accepted receipt.
func (f *fixture) waitAccepted(t *testing.T, n int) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("%d accepted results", n), func() (bool, string) {
		got := f.receipts()
		return got[gateway.BatchAccepted] >= n, fmt.Sprintf("receipts %v", got)
	})
}

// Temporary faults back off and retry with the same keys; after
// MaxAttempts the batch is a dead letter, and `retry` queues it again.
func TestRetryBackoffThenDeadLetter(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 20, nil)
		rs, _ := f.submit(10, 10)
		f.sim.FaultRate = 1 // every call: Server.TijdelijkNietBeschikbaar
		w := f.worker(delivery.Options{Concurrency: 1, MaxAttempts: 3, RetryBase: time.Minute, RetryMax: 10 * time.Minute})
		var waits []time.Duration
		for attempt := 1; attempt <= 3; attempt++ {
			d, err := w.Drain(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			rc := receiptOf(t, f, rs[0].Key)
			if attempt < 3 {
				if rc.State != gateway.BatchQueued || d.Waiting != 1 || rc.Attempts != attempt || rc.FaultCode != soap.CodeTijdelijkNietBeschikbaar {
					t.Fatalf("after attempt %d: receipt %+v, drain %+v", attempt, rc, d)
				}
				wait := rc.NextAttempt.Sub(f.clock())
				waits = append(waits, wait)
				f.advance(wait + time.Second)
			} else if rc.State != gateway.BatchRejected || !strings.Contains(rc.Reason, "gave up after 3 attempts") || rc.ErrorClass != "temporary" {
				t.Fatalf("after the last attempt: %+v", rc)
			}
		}
		// Backoff with jitter: attempt 1 waits 30s..60s, attempt 2 60s..120s.
		if waits[0] < 30*time.Second || waits[0] > time.Minute || waits[1] < time.Minute || waits[1] > 2*time.Minute {
			t.Errorf("backoffs %v, want 30-60s then 60-120s", waits)
		}
		if n := f.brengCalls(); n != 3 {
			t.Errorf("las-sim got %d calls, want 3", n)
		}
		f.sim.FaultRate = 0
		n, results, err := delivery.Retry(ctxT(t), f.store, f.log, f.school.ID, delivery.RetrySelection{Keys: []string{rs[3].Key}}, "test", f.clock())
		if err != nil || n != 1 || results != 10 {
			t.Fatalf("Retry = %d batches, %d results, %v", n, results, err)
		}
		if _, err := w.Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		f.wantExactlyOnce(rs)
	})
}

// A credential fault is a dead letter at once, with its class and hint.
func TestCredentialFaultIsDeadLetter(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 20, nil)
		rs, _ := f.submit(10, 10)
		s := f.school
		var err error
		if s.SealedKey, err = f.keys.Sealer().Seal(vault.SchoolSecret(s.ID, vault.FieldAutorisatiesleutel), []byte("wrong-key")); err != nil {
			t.Fatal(err)
		}
		if err := f.store.PutSchool(ctxT(t), s); err != nil {
			t.Fatal(err)
		}
		if _, err := f.worker(delivery.Options{}).Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		rc := receiptOf(t, f, rs[0].Key)
		if rc.State != gateway.BatchRejected || rc.ErrorClass != "credential" || rc.FaultCode != soap.CodeAutorisatieOngeldig ||
			!strings.Contains(rc.Reason, "autorisatiesleutel") || strings.Contains(rc.Reason, "wrong-key") {
			t.Fatalf("receipt = %+v", rc)
		}
		if f.brengCalls() != 1 {
			t.Errorf("%d calls, want 1 (no retries for a credential fault)", f.brengCalls())
		}
	})
}

// The receiver refuses a pupil it does not know: the batch is halved until
// that pupil's results stand alone; the others are accepted.
func TestSplitIsolatesUnknownPupil(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 20, nil)
		rs, _ := f.submit(16, 16)
		// One pupil leaves las-sim's world after our sync.
		victim := rs[5].Pupil
		var lasKey string
		for _, p := range f.pupils() {
			if p.ID == victim {
				lasKey = p.LASKey
			}
		}
		if lasKey == "" {
			t.Fatalf("pupil %s has no LAS key", victim)
		}
		f.sch.EditPupils(f.clock(), func(ls []uwlr.Leerling) []uwlr.Leerling {
			return slices.DeleteFunc(ls, func(l uwlr.Leerling) bool { return l.Key == lasKey })
		})
		if _, err := f.worker(delivery.Options{Concurrency: 1}).Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		var good []gateway.Result
		for _, r := range rs {
			rc := receiptOf(t, f, r.Key)
			if r.Pupil == victim {
				if rc.State != gateway.BatchRejected || rc.FaultCode != soap.CodeLeerlingOngeldig {
					t.Errorf("result of the unknown pupil: %+v", rc)
				}
				continue
			}
			if rc.State != gateway.BatchAccepted {
				t.Errorf("result %s of a known pupil: %+v", r.Key, rc)
			}
			good = append(good, r)
		}
		f.wantExactlyOnce(good)
	})
}

// A worker that dies after sending leaves its batch leased; once the lease
// lapses another worker sends it again with the same keys, and las-sim
// (which treats the key as the update handle) takes nothing in twice.
func TestCrashedWorkerBatchIsResentWithSameKeys(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 20, nil)
		rs, _ := f.submit(20, 20)
		w := f.worker(delivery.Options{Concurrency: 1, Lease: 200 * time.Millisecond})
		// The "dead" worker: claims, marks sent, sends, and never settles.
		cs, err := f.store.Claim(ctxT(t), gateway.ClaimRequest{Consumer: "dead", Max: 1, Lease: 200 * time.Millisecond, Now: f.clock()})
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim = %v, %v", cs, err)
		}
		if _, err := f.store.Settle(ctxT(t), cs[0], gateway.Settlement{State: gateway.BatchSent, At: f.clock(), Lease: 200 * time.Millisecond, CountAttempt: true}); err != nil {
			t.Fatal(err)
		}
		// While the lease holds, nobody else may send the batch.
		if cs2, err := f.store.Claim(ctxT(t), gateway.ClaimRequest{Consumer: "other", Max: 1, Lease: time.Minute, Now: f.clock()}); err != nil || len(cs2) != 0 {
			t.Fatalf("claimed during the lease: %v, %v", cs2, err)
		}
		// The lease lapses on the fixture's clock at once; Redis measures
		// the idle time of the queue entry itself, and Drain keeps
		// claiming until the batch it sees as sent is handed out again.
		f.advance(time.Second)
		if _, err := w.Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		f.wantExactlyOnce(rs)
		if got := f.receipts(); got[gateway.BatchAccepted] != 20 {
			t.Fatalf("receipts %v", got)
		}
		b, err := f.store.Batch(ctxT(t), f.school.ID, cs[0].Batch.ID)
		if err != nil || b.Attempts != 2 {
			t.Errorf("batch = %+v, %v; want 2 attempts (the dead worker's and the resend)", b, err)
		}
		if _, err := f.store.Settle(ctxT(t), cs[0], gateway.Settlement{State: gateway.BatchRejected, At: time.Now()}); !errors.Is(err, gateway.ErrConflict) {
			t.Errorf("the dead worker could still settle: %v", err)
		}
	})
}

func receiptOf(t *testing.T, f *fixture, key string) gateway.Receipt {
	t.Helper()
	rcs, err := delivery.Receipts(ctxT(t), f.store, f.school.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rcs {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no receipt for %s", key)
	return gateway.Receipt{}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// claimCounter is the worker's store, counting its claims (each is the
// worker looking for work).
type claimCounter struct {
	delivery.Store
	n atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, r gateway.ClaimRequest) ([]gateway.Claim, error) {
	c.n.Add(1)
	return c.Store.Claim(ctx, r)
}
