package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// splitCodes are the receiver faults that name one bad pupil or result:
// halving the batch isolates it and lets the rest through.
var splitCodes = map[string]bool{
	soap.CodeLeerlingOngeldig:     true,
	soap.CodeScoreOngeldig:        true,
	soap.CodeEldResultaatOngeldig: true,
}

// SealedPrefix starts an ECK iD in stored evidence: the pupil's sealed
// value from the store, base64, which the vault can open again.
const SealedPrefix = "sealed:"

// attempt is one claimed batch on its way: what handle has found so far.
type attempt struct {
	w      *Worker
	c      gateway.Claim
	o      Outcome
	school gateway.School
	rs     []gateway.Result
	pupils map[gateway.PupilID]gateway.Pupil
	tests  []gateway.TestDefinition
	// to is the batch's recipient; nil for the school's LAS.
	to *gateway.Recipient
}

// unknownPupils says why a batch's pupils cannot be named to its receiver.
func (a *attempt) unknownPupils() string {
	if !a.withEckIDs() {
		return "the pupils of these results have no LAS key, or are no longer in the school's data; only the school's LAS may be sent ECK iDs, so " +
			a.to.Name + " cannot be told who they are"
	}
	return "the pupils of these results are no longer in the school's data (removed after the retention period, or known by neither LAS key nor ECK iD)"
}

// withEckIDs reports whether the batch's receiver gets ECK iDs: only the
// school's LAS does.
func (a *attempt) withEckIDs() bool { return a.to == nil || a.to.LAS }

// fail leaves the batch claimed (it is claimed again when its lease lapses).
func (a *attempt) fail(err error) Outcome {
	b := a.c.Batch
	a.o.Err = fmt.Errorf("deliver batch %s of school %s: %w", b.ID, b.School, err)
	a.w.Log.Warn("delivery failed; the batch is claimed again when its lease lapses", "school", b.School, "batch", b.ID, "error", a.o.Err)
	return a.o
}

// settle ends the claim in st (a shutdown must not leave a batch half-settled).
func (a *attempt) settle(ctx context.Context, st gateway.Settlement, details map[string]string) Outcome {
	st.At = a.w.Now().UTC()
	sctx := context.WithoutCancel(ctx)
	if _, err := a.w.Store.Settle(sctx, a.c, st); err != nil {
		return a.fail(err)
	}
	a.o.State, a.o.Reason, a.o.ErrorClass = st.State, st.Reason, st.ErrorClass
	a.w.audit(sctx, a.c.Batch, gateway.AuditDelivery, st, details)
	return a.o
}

// consented asks the consent gate; done is set (with the outcome) when the
// batch must not go on: held without consent, or claimed again later.
func (a *attempt) consented(ctx context.Context) (Outcome, bool) {
	p := a.c.Batch.Needs()
	err := a.w.Consent.Require(ctx, a.school.ID, p)
	switch {
	case errors.Is(err, gateway.ErrConsentRequired):
		return a.settle(ctx, gateway.Settlement{State: gateway.BatchHeld, Reason: heldReasonFor(p), ErrorClass: gateway.ClassConsent}, nil), true
	case err != nil:
		return a.fail(err), true
	}
	return Outcome{}, false
}

func (a *attempt) reject(ctx context.Context, reason string) Outcome {
	return a.settle(ctx, gateway.Settlement{State: gateway.BatchRejected, ErrorClass: gateway.ClassRequest, Reason: reason}, nil)
}

// handle delivers one claimed batch and settles it. Consent is asked when
// the batch is taken and again at the moment of sending; the decrypt entry
// is written after that last check and before any ECK iD is opened.
func (w *Worker) handle(ctx context.Context, c gateway.Claim) Outcome {
	b := c.Batch
	a := &attempt{w: w, c: c, o: Outcome{School: b.School, Batch: b.ID, Results: len(b.Keys)}}
	var err error
	a.school, err = w.Store.School(ctx, b.School)
	if errors.Is(err, gateway.ErrNotFound) {
		return a.reject(ctx, "the school was removed")
	} else if err != nil {
		return a.fail(err)
	}
	if b.Recipient != "" {
		r, ok := a.school.Recipient(b.Recipient)
		if !ok || r.Processing != b.Needs() {
			return a.reject(ctx, "the recipient "+b.Recipient+" was removed")
		}
		a.to = &r
	}
	if out, done := a.consented(ctx); done {
		return out
	}
	if b.Export != "" {
		if a.to == nil {
			return a.reject(ctx, "an export batch without a recipient")
		}
		return a.exportPush(ctx)
	}
	if out, done := a.load(ctx); done {
		return out
	}
	if a.to != nil && a.to.Kind == gateway.RecipientWebhook {
		return a.push(ctx)
	}
	return a.send(ctx)
}

// load reads the batch's results, their pupils and the school's tests; a
// batch whose pupils are gone is rejected or split.
func (a *attempt) load(ctx context.Context) (Outcome, bool) {
	w, id := a.w, a.school.ID
	var err error
	if a.rs, err = w.Store.Results(ctx, id, a.c.Batch.Keys); err != nil {
		return a.fail(err), true
	}
	if len(a.rs) == 0 {
		return a.reject(ctx, "its results were deleted (retention or offboarding) before they were sent"), true
	}
	pupils, sendable, missing, err := w.pupilsOf(ctx, id, a.rs, a.withEckIDs())
	if err != nil {
		return a.fail(err), true
	}
	if len(missing) > 0 {
		if len(sendable) == 0 {
			return a.reject(ctx, a.unknownPupils()), true
		}
		return w.split(ctx, a.c, [][]string{keysOf(sendable), keysOf(missing)}, "results for pupils the gateway cannot name to this receiver were set apart"), true
	}
	a.pupils, a.rs = pupils, sendable
	if a.tests, err = w.Store.Tests(ctx, id); err != nil {
		return a.fail(err), true
	}
	return Outcome{}, false
}

// send checks consent at the moment of sending, records the decryption,
// opens the ECK iDs, sends and settles.
func (a *attempt) send(ctx context.Context) Outcome {
	w, b := a.w, a.c.Batch
	sender, endpoint, err := a.connect(ctx)
	if err != nil {
		return a.reject(ctx, "no connection to the results receiver: "+err.Error())
	}
	if out, done := a.consented(ctx); done {
		return out
	}
	sentAt := w.Now().UTC()
	sent, err := w.Store.Settle(ctx, a.c, gateway.Settlement{State: gateway.BatchSent, At: sentAt, Lease: w.Options.Lease, CountAttempt: true})
	if err != nil {
		return a.fail(err)
	}
	// The entry comes first: no ECK iD is opened unless its decryption is
	// on record, and a send that fails later keeps the entry.
	if n := sealedOf(a.pupils, a.rs); n > 0 && a.withEckIDs() {
		if err := w.auditDecrypt(ctx, b, n); err != nil {
			return a.fail(err)
		}
	}
	msg, sealed, err := w.message(a.school, a.pupils, a.rs, a.tests, a.to)
	if err != nil {
		return a.settle(ctx, gateway.Settlement{State: gateway.BatchRejected, ErrorClass: gateway.ClassRequest,
			Reason: "the results message could not be built: " + err.Error()}, nil)
	}
	ex, err := sender.SendResults(ctx, msg)
	if err != nil {
		return w.failed(ctx, a.c, sent, err, batchScrubber(sender, a.pupils, sealed))
	}
	answered := w.Now().UTC()
	evID, everr := w.keepEvidence(ctx, a.school.ID, sent, endpoint, sentAt, answered, ex, sealed, a.rs)
	st := gateway.Settlement{State: gateway.BatchAccepted, Evidence: evID}
	if everr != nil {
		// The receiver accepted: that is the fact to record. The evidence
		// failure is kept on the batch and logged.
		st.Reason = "accepted; evidence not kept: " + everr.Error()
		w.Log.Error("evidence not kept", "school", b.School, "batch", b.ID, "error", everr)
	}
	d := map[string]string{"results": strconv.Itoa(len(a.rs)), "evidence": evID, "attempt": strconv.Itoa(sent.Attempts)}
	if a.to != nil {
		d["recipient"], d["processing"], d["records"], d["sha256"] = a.to.Name, string(b.Needs()), strconv.Itoa(len(a.rs)), ex.RequestSHA256
	}
	return a.settle(ctx, st, d)
}

// connect builds the sender of the batch's receiver: the school's LAS (or
// its results receiver profile), or a uwlr recipient.
func (a *attempt) connect(ctx context.Context) (Sender, string, error) {
	if a.to == nil {
		return a.w.Connect(ctx, a.school)
	}
	if a.w.ConnectRecipient == nil {
		return nil, "", errors.New("no connection to recipients configured")
	}
	return a.w.ConnectRecipient(ctx, a.school, *a.to)
}

// sealedOf counts the distinct pupils of rs whose sealed ECK iD a message
// would open.
func sealedOf(pupils map[gateway.PupilID]gateway.Pupil, rs []gateway.Result) int {
	seen := map[gateway.PupilID]bool{}
	for _, r := range rs {
		if p := pupils[r.Pupil]; len(p.SealedEckID) > 0 {
			seen[r.Pupil] = true
		}
	}
	return len(seen)
}

// batchScrubber scrubs a receiver's text about one batch before it is kept
// or shown: what the sender's own scrubber finds (the school's keys, ECK iDs
// by their shape), and the LAS keys and ECK iDs of the batch's pupils in
// any echo form (a fault may name the pupil it refuses, base64-encoded too).
func batchScrubber(sender Sender, pupils map[gateway.PupilID]gateway.Pupil, sealed map[string]string) *soap.Scrubber {
	var sc *soap.Scrubber
	if s, ok := sender.(interface{ Scrubber() *soap.Scrubber }); ok {
		sc = s.Scrubber()
	}
	keys := make([]string, 0, len(pupils))
	for _, p := range pupils {
		keys = append(keys, p.LASKey)
	}
	eckids := make([]string, 0, len(sealed))
	for plain := range sealed {
		eckids = append(eckids, plain)
	}
	return sc.With(soap.ScrubLASKey, keys...).With(soap.ScrubEckID, eckids...)
}

func keysOf(rs []gateway.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}

// pupilsOf loads the pupils of rs and splits rs into results whose pupil is
// known (with an LAS key or an ECK iD) and results whose pupil is not.
// Without eck (a receiver that never gets ECK iDs), a pupil needs an LAS key.
func (w *Worker) pupilsOf(ctx context.Context, school gateway.SchoolID, rs []gateway.Result, eck bool) (map[gateway.PupilID]gateway.Pupil, []gateway.Result, []gateway.Result, error) {
	var ids []gateway.PupilID
	for _, r := range rs {
		if !slices.Contains(ids, r.Pupil) {
			ids = append(ids, r.Pupil)
		}
	}
	pupils, err := w.Store.PupilsByID(ctx, school, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	var ok, missing []gateway.Result
	for _, r := range rs {
		p, found := pupils[r.Pupil]
		if found && (p.LASKey != "" || (eck && len(p.SealedEckID) > 0)) {
			ok = append(ok, r)
		} else {
			missing = append(missing, r)
		}
	}
	return pupils, ok, missing, nil
}

// message builds the request: it opens each pupil's ECK iD (the only place
// the gateway does) and returns, per plain ECK iD, the sealed form the
// evidence keeps instead.
func (w *Worker) message(school gateway.School, pupils map[gateway.PupilID]gateway.Pupil, rs []gateway.Result,
	tests []gateway.TestDefinition, to *gateway.Recipient) (msg *uwlr.LeerresultatenVerzoek, sealed map[string]string, err error) {
	eck := to == nil || to.LAS
	var order []gateway.PupilID
	by := map[gateway.PupilID][]gateway.Result{}
	for _, r := range rs {
		if _, ok := by[r.Pupil]; !ok {
			order = append(order, r.Pupil)
		}
		by[r.Pupil] = append(by[r.Pupil], r)
	}
	sealed = map[string]string{}
	var prs []mapping.PupilResults
	for _, id := range order {
		p := pupils[id]
		pr := mapping.PupilResults{LASKey: p.LASKey, Results: by[id]}
		if eck && len(p.SealedEckID) > 0 {
			plain, err := w.Opener.Open(vault.PupilEckID(school.ID, p.ID), p.SealedEckID)
			if err != nil {
				return nil, nil, fmt.Errorf("pupil %s: open ECK iD: %w", p.ID, err)
			}
			pr.EckID = string(plain)
			sealed[pr.EckID] = SealedPrefix + base64.StdEncoding.EncodeToString(p.SealedEckID)
		}
		prs = append(prs, pr)
	}
	xsd, scoreType := school.Xsdversie, school.ScoreTypeOf()
	if school.Results != nil && school.Results.Xsdversie != "" {
		xsd = school.Results.Xsdversie
	}
	if to != nil {
		xsd, scoreType = or(to.Xsdversie, school.Xsdversie), or(to.ScoreType, gateway.ScoreInteger)
	}
	m, err := mapping.LeerresultatenVerzoek(mapping.ResultsMessage{School: school, Schooljaar: gateway.SchoolYearAt(w.Now()),
		CreatedAt: w.Now(), Author: w.Options.Author, Xsdversie: xsd, ScoreType: scoreType}, prs, tests)
	if err != nil {
		return nil, nil, err
	}
	return m, sealed, nil
}

// keepEvidence stores the signed evidence of an accepted delivery. The
// request keeps its ECK iDs only in sealed form.
func (w *Worker) keepEvidence(ctx context.Context, school gateway.SchoolID, b gateway.Batch, endpoint string,
	sentAt, answered time.Time, ex *soap.Exchange, sealed map[string]string, rs []gateway.Result) (string, error) {
	if w.Sign == nil || ex == nil {
		return "", errors.New("no evidence signer configured")
	}
	req := ex.Request
	for plain, s := range sealed {
		req = bytes.ReplaceAll(req, []byte(plain), []byte(s))
	}
	for plain := range sealed {
		if bytes.Contains(req, []byte(plain)) {
			return "", errors.New("an ECK iD could not be replaced by its sealed form")
		}
	}
	id := "ev_" + b.ID + "_" + strconv.Itoa(b.Attempts)
	doc, err := w.Sign(gateway.DeliveryEvidence{ID: id, Batch: b.ID, School: school, Attempt: b.Attempts, Endpoint: endpoint, SentAt: sentAt,
		AnsweredAt: answered, RequestSHA256: ex.RequestSHA256, Request: req, Response: ex.Response})
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	gz, err := gzipDoc(doc)
	if err != nil {
		return "", err
	}
	e := gateway.Evidence{ID: id, School: school, Batch: b.ID, CreatedAt: answered, Pupils: pupilsIn(rs), Keys: keysOf(rs), Doc: gz}
	if err := w.Store.PutEvidence(context.WithoutCancel(ctx), e); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return id, nil
}

// audit records a settled batch.
func (w *Worker) audit(ctx context.Context, b gateway.Batch, kind gateway.AuditKind, st gateway.Settlement, details map[string]string) {
	if w.Audit == nil {
		return
	}
	d := map[string]string{"batch": b.ID, "state": string(st.State), "keys": strconv.Itoa(len(b.Keys))}
	if st.ErrorClass != "" {
		d["error_class"] = string(st.ErrorClass)
	}
	if st.FaultCode != "" {
		d["fault_code"] = st.FaultCode
	}
	for k, v := range details {
		if v != "" {
			d[k] = v
		}
	}
	if _, err := w.Audit.Append(ctx, gateway.AuditChainOf(b.School), kind, b.School, "delivery", d); err != nil {
		w.Log.Error("audit entry not written", "school", b.School, "batch", b.ID, "kind", string(kind), "error", err)
	}
}

// auditDecrypt records that ECK iDs are about to be opened: purpose, count
// and batch, never values. Without an audit log nothing may be opened.
func (w *Worker) auditDecrypt(ctx context.Context, b gateway.Batch, n int) error {
	if w.Audit == nil {
		return errors.New("no audit log: ECK iDs are opened only once their decryption is on record")
	}
	_, err := w.Audit.Append(ctx, gateway.AuditChainOf(b.School), gateway.AuditDecrypt, b.School, "delivery",
		map[string]string{"purpose": "results delivery (BrengLeerresultaten)", "eckids": strconv.Itoa(n), "batch": b.ID})
	if err != nil {
		return fmt.Errorf("record the decryption: %w", err)
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
