package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// failed settles a batch whose send failed: retry, split or reject. The
// reason and fault code it keeps are scrubbed with sc.
func (w *Worker) failed(ctx context.Context, c gateway.Claim, sent gateway.Batch, err error, sc *soap.Scrubber) Outcome {
	b := c.Batch
	o := Outcome{School: b.School, Batch: b.ID, Results: len(b.Keys)}
	var se *soap.Error
	var ce classified
	class, code, reason := gateway.ClassTemporary, "", err.Error()
	switch {
	case errors.As(err, &se):
		class, code = se.Class, se.Code
		if se.Hint != "" {
			reason = se.Error() + ". " + se.Hint
		}
	case errors.As(err, &ce):
		class = ce.ErrorClass()
	}
	code, reason = sc.Scrub(code), sc.Scrub(reason)
	retryable := class.Retryable() || errors.Is(err, gateway.ErrTransient) || ctx.Err() != nil
	if errors.As(err, &se) {
		retryable = se.Retryable() || ctx.Err() != nil
	}
	now := w.Now().UTC()
	sctx := context.WithoutCancel(ctx)
	settle := func(st gateway.Settlement) Outcome {
		st.At = now
		if _, err := w.Store.Settle(sctx, c, st); err != nil {
			o.Err = fmt.Errorf("deliver batch %s of school %s: %w", b.ID, b.School, err)
			return o
		}
		o.State, o.Reason, o.ErrorClass = st.State, st.Reason, st.ErrorClass
		w.audit(sctx, b, gateway.AuditDelivery, st, map[string]string{"attempt": strconv.Itoa(sent.Attempts)})
		return o
	}
	switch {
	case ctx.Err() != nil:
		// Interrupted (shutdown): the receiver may or may not have it; send
		// it again soon, with the same keys.
		return settle(gateway.Settlement{State: gateway.BatchQueued, NextAttemptAt: now, Reason: "interrupted: " + reason, ErrorClass: class, FaultCode: code})
	case retryable && sent.Attempts >= w.Options.MaxAttempts:
		return settle(gateway.Settlement{State: gateway.BatchRejected, ErrorClass: class, FaultCode: code,
			Reason: fmt.Sprintf("gave up after %d attempts: %s", sent.Attempts, reason)})
	case retryable:
		return settle(gateway.Settlement{State: gateway.BatchQueued, NextAttemptAt: now.Add(w.backoff(sent.Attempts)),
			Reason: fmt.Sprintf("attempt %d failed: %s", sent.Attempts, reason), ErrorClass: class, FaultCode: code})
	case splitCodes[code] && len(b.Keys) > 1:
		rs, rerr := w.Store.Results(sctx, b.School, b.Keys)
		if rerr != nil || len(rs) < 2 {
			break
		}
		return w.split(sctx, c, halves(rs), "the receiver refused a pupil or score ("+code+"): the batch was halved to find it")
	}
	return settle(gateway.Settlement{State: gateway.BatchRejected, ErrorClass: class, FaultCode: code, Reason: reason})
}

// classified is an error that knows its class (a webhook recipient's answer).
type classified interface{ ErrorClass() gateway.ErrorClass }

// split ends the claimed batch and queues parts, each a list of keys.
func (w *Worker) split(ctx context.Context, c gateway.Claim, parts [][]string, why string) Outcome {
	b := c.Batch
	o := Outcome{School: b.School, Batch: b.ID, Results: len(b.Keys), State: gateway.BatchSplit, Reason: why}
	now := w.Now().UTC()
	var bs []gateway.Batch
	for i, keys := range parts {
		if len(keys) == 0 {
			continue
		}
		bs = append(bs, gateway.Batch{ID: fmt.Sprintf("%s.%d", b.ID, i+1), Keys: keys, CreatedAt: now, UpdatedAt: now,
			NextAttemptAt: now, Reason: why})
	}
	if err := w.Store.Split(context.WithoutCancel(ctx), c, bs, now); err != nil {
		o.State, o.Err = "", fmt.Errorf("split batch %s of school %s: %w", b.ID, b.School, err)
		return o
	}
	w.audit(ctx, b, gateway.AuditDelivery, gateway.Settlement{State: gateway.BatchSplit, Reason: why}, map[string]string{"parts": strconv.Itoa(len(bs))})
	return o
}

// halves splits results in two, keeping each pupil's results together when
// there is more than one pupil.
func halves(rs []gateway.Result) [][]string {
	var order []gateway.PupilID
	by := map[gateway.PupilID][]string{}
	for _, r := range rs {
		if _, ok := by[r.Pupil]; !ok {
			order = append(order, r.Pupil)
		}
		by[r.Pupil] = append(by[r.Pupil], r.Key)
	}
	if len(order) == 1 {
		keys := by[order[0]]
		return [][]string{keys[:len(keys)/2], keys[len(keys)/2:]}
	}
	var a, b []string
	for i, p := range order {
		if i < len(order)/2 {
			a = append(a, by[p]...)
		} else {
			b = append(b, by[p]...)
		}
	}
	return [][]string{a, b}
}
