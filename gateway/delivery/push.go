package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// EventResults is the type of a results message pushed to a dashboard.
const EventResults = "results.submitted"

// Payload is the JSON body of a results push (Standard Webhooks: type,
// timestamp, data). It names pupils by their LAS key only: never an ECK iD,
// a name or a birth date.
type Payload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      PayloadData `json:"data"`
}

// PayloadData is the school and its results.
type PayloadData struct {
	School  gateway.SchoolID          `json:"school"`
	Results []gateway.DashboardResult `json:"results"`
}

// PushedResults maps results to what a dashboard receives (the feed's
// items too).
func PushedResults(school gateway.SchoolID, pupils map[gateway.PupilID]gateway.Pupil, rs []gateway.Result) []gateway.DashboardResult {
	out := make([]gateway.DashboardResult, 0, len(rs))
	for _, r := range rs {
		out = append(out, gateway.DashboardResultOf(school, pupils[r.Pupil], r))
	}
	return out
}

// MessageID is the webhook-id of a batch's push: the same on every resend.
func MessageID(batch string) string { return "msg_" + batch }

// push sends a webhook recipient's batch: consent at the moment of
// sending, the export on the school's audit chain before a byte leaves,
// then the signed evidence of what was sent.
func (a *attempt) push(ctx context.Context) Outcome {
	w := a.w
	if w.Push == nil || w.SignExport == nil {
		return a.reject(ctx, "no webhook sender configured")
	}
	pusher, err := w.Push(ctx, a.school, *a.to)
	if err != nil {
		return a.reject(ctx, "no connection to the recipient: "+err.Error())
	}
	body, err := json.Marshal(Payload{Type: EventResults, Timestamp: w.Now().UTC(),
		Data: PayloadData{School: a.school.ID, Results: PushedResults(a.school.ID, a.pupils, a.rs)}})
	if err != nil {
		return a.reject(ctx, "the results message could not be built: "+err.Error())
	}
	return a.pushMessage(ctx, pusher, body, len(a.rs), func(sent gateway.Batch, ans Pushed, digest string) (string, error) {
		return w.keepExportEvidence(ctx, sent, *a.to, ans, digest, a.rs)
	}, map[string]string{"results": strconv.Itoa(len(a.rs))})
}

// pushMessage sends one message to the batch's webhook recipient: consent
// at the moment of sending, the batch marked sent, the export on the
// school's audit chain before a byte leaves, then the push; an accepted
// push keeps its signed evidence (keep) and settles with details added.
func (a *attempt) pushMessage(ctx context.Context, pusher Pusher, body []byte, records int,
	keep func(sent gateway.Batch, ans Pushed, digest string) (string, error), details map[string]string) Outcome {
	w, b := a.w, a.c.Batch
	if out, done := a.consented(ctx); done {
		return out
	}
	sent, err := w.Store.Settle(ctx, a.c, gateway.Settlement{State: gateway.BatchSent, At: w.Now().UTC(), Lease: w.Options.Lease, CountAttempt: true})
	if err != nil {
		return a.fail(err)
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	if err := w.auditExport(ctx, b, *a.to, records, digest); err != nil {
		return a.fail(err)
	}
	ans, err := pusher.Push(ctx, MessageID(b.ID), body)
	if err != nil {
		return w.failed(ctx, a.c, sent, err, a.keysScrubber())
	}
	evID, everr := keep(sent, ans, digest)
	st := gateway.Settlement{State: gateway.BatchAccepted, Evidence: evID}
	if everr != nil {
		st.Reason = "accepted; evidence not kept: " + everr.Error()
		w.Log.Error("evidence not kept", "school", b.School, "batch", b.ID, "error", everr)
	}
	d := map[string]string{"evidence": evID, "attempt": strconv.Itoa(sent.Attempts), "recipient": a.to.Name,
		"processing": string(b.Needs()), "records": strconv.Itoa(records), "sha256": digest, "status": strconv.Itoa(ans.Status)}
	maps.Copy(d, details)
	return a.settle(ctx, st, d)
}

// keysScrubber scrubs the batch's pupils' LAS keys from a recipient's text.
func (a *attempt) keysScrubber() *soap.Scrubber {
	keys := make([]string, 0, len(a.pupils))
	for _, p := range a.pupils {
		keys = append(keys, p.LASKey)
	}
	return soap.NewScrubber().With(soap.ScrubLASKey, keys...)
}

// auditExport records, before the data leaves, what goes to whom: the
// processing, the recipient, how many records and the digest of the body.
func (w *Worker) auditExport(ctx context.Context, b gateway.Batch, r gateway.Recipient, records int, digest string) error {
	if w.Audit == nil {
		return errors.New("no audit log: nothing leaves for a recipient unless it is on record")
	}
	_, err := w.Audit.Append(ctx, gateway.AuditChainOf(b.School), gateway.AuditExport, b.School, "delivery", map[string]string{
		"processing": string(b.Needs()), "recipient": r.Name, "kind": string(r.Kind), "records": strconv.Itoa(records),
		"sha256": digest, "batch": b.ID, "country": r.Country})
	if err != nil {
		return fmt.Errorf("record the export: %w", err)
	}
	return nil
}

// keepExportEvidence signs and stores the evidence of one accepted push.
func (w *Worker) keepExportEvidence(ctx context.Context, b gateway.Batch, r gateway.Recipient, ans Pushed, digest string,
	rs []gateway.Result) (string, error) {
	pupils := pupilsIn(rs)
	return w.keepSigned(ctx, gateway.ExportEvidence{ID: "ex_" + b.ID + "_" + strconv.Itoa(b.Attempts), School: b.School, Processing: b.Needs(),
		Recipient: r.Name, Endpoint: r.Endpoint(), Basis: r.Basis, Records: len(rs), SHA256: digest, CreatedAt: w.Now().UTC(),
		Details: map[string]string{"batch": b.ID, "message": MessageID(b.ID), "status": strconv.Itoa(ans.Status), "attempt": strconv.Itoa(b.Attempts)}},
		pupils, keysOf(rs))
}

// keepSigned signs export evidence and stores it (compressed), with the
// pupils and result keys it concerns (for retention).
func (w *Worker) keepSigned(ctx context.Context, ev gateway.ExportEvidence, pupils []gateway.PupilID, keys []string) (string, error) {
	doc, err := w.SignExport(ev)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	gz, err := gzipDoc(doc)
	if err != nil {
		return "", err
	}
	e := gateway.Evidence{ID: ev.ID, School: ev.School, Batch: ev.Details["batch"], CreatedAt: ev.CreatedAt, Pupils: pupils, Keys: keys, Doc: gz}
	if err := w.Store.PutEvidence(context.WithoutCancel(ctx), e); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return ev.ID, nil
}

// KeysOf lists the keys of results.
func KeysOf(rs []gateway.Result) []string { return keysOf(rs) }

// gzipDoc compresses an evidence document as the store keeps it.
func gzipDoc(doc []byte) ([]byte, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := zw.Write(doc); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return gz.Bytes(), nil
}

// pupilsIn lists the distinct pupils of rs, in order.
func pupilsIn(rs []gateway.Result) []gateway.PupilID {
	var pupils []gateway.PupilID
	for _, r := range rs {
		if !slices.Contains(pupils, r.Pupil) {
			pupils = append(pupils, r.Pupil)
		}
	}
	return pupils
}
