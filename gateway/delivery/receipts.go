package delivery

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// receiptStore is what Receipts needs of gateway.Store.
type receiptStore interface {
	WalkBatches(ctx context.Context, school gateway.SchoolID, fn func(gateway.Batch) error) error
	WalkResults(ctx context.Context, school gateway.SchoolID, fn func(gateway.Result) error) error
}

// Receipts returns the receipt of every result of the school, ordered by
// key. Batch keys are not kept in memory, only each batch's state.
func Receipts(ctx context.Context, st receiptStore, school gateway.SchoolID) ([]gateway.Receipt, error) {
	batches := map[string]gateway.Batch{}
	err := st.WalkBatches(ctx, school, func(b gateway.Batch) error {
		b.Keys = nil
		batches[b.ID] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receipts of school %s: %w", school, err)
	}
	var out []gateway.Receipt
	err = st.WalkResults(ctx, school, func(r gateway.Result) error {
		b := batches[r.Batch]
		rc := gateway.Receipt{Key: r.Key, Pupil: r.Pupil, Test: r.Test, Part: r.Part, Date: r.Date, State: b.State, At: b.UpdatedAt,
			Reason: b.Reason, ErrorClass: b.ErrorClass, FaultCode: b.FaultCode, Batch: r.Batch, Attempts: b.Attempts,
			Evidence: b.Evidence}
		if b.State == gateway.BatchQueued && !b.NextAttemptAt.IsZero() {
			t := b.NextAttemptAt
			rc.NextAttempt = &t
		}
		if b.ID == "" {
			rc.State, rc.Reason = gateway.BatchQueued, "its batch is missing"
		}
		out = append(out, rc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receipts of school %s: %w", school, err)
	}
	slices.SortFunc(out, func(a, b gateway.Receipt) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

// RetrySelection says which dead letters to queue again.
type RetrySelection struct {
	All     bool
	Batches []string // rejected batches by id
	Keys    []string // the rejected batches holding these result keys
}

// retryStore is what Retry needs of gateway.Store.
type retryStore interface {
	receiptStore
	Results(ctx context.Context, school gateway.SchoolID, keys []string) ([]gateway.Result, error)
	Requeue(ctx context.Context, school gateway.SchoolID, ids []string, at time.Time) (int, error)
}

// Retry queues rejected batches of the school again (attempts reset) and
// records it in the audit log. It returns how many batches and results were
// queued. A result key that is unknown is ErrNotFound; named batches that
// are not rejected (or unknown) are left alone.
func Retry(ctx context.Context, st retryStore, audit auditor, school gateway.SchoolID, sel RetrySelection, by string, now time.Time) (int, int, error) {
	rejected := map[string]int{}
	err := st.WalkBatches(ctx, school, func(b gateway.Batch) error {
		if b.State == gateway.BatchRejected {
			rejected[b.ID] = len(b.Keys)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("retry school %s: %w", school, err)
	}
	want := map[string]bool{}
	if sel.All {
		for id := range rejected {
			want[id] = true
		}
	}
	for _, id := range sel.Batches {
		if _, ok := rejected[id]; ok {
			want[id] = true
		}
	}
	if len(sel.Keys) > 0 {
		rs, err := st.Results(ctx, school, sel.Keys)
		if err != nil {
			return 0, 0, fmt.Errorf("retry school %s: %w", school, err)
		}
		if len(rs) < len(sel.Keys) {
			return 0, 0, fmt.Errorf("retry school %s: %d of the given result keys are unknown: %w", school, len(sel.Keys)-len(rs), gateway.ErrNotFound)
		}
		for _, r := range rs {
			if _, ok := rejected[r.Batch]; ok {
				want[r.Batch] = true
			}
		}
	}
	ids := make([]string, 0, len(want))
	results := 0
	for id := range want {
		ids = append(ids, id)
		results += rejected[id]
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return 0, 0, nil
	}
	n, err := st.Requeue(ctx, school, ids, now.UTC())
	if err != nil {
		return 0, 0, fmt.Errorf("retry school %s: %w", school, err)
	}
	if audit != nil {
		_, err := audit.Append(ctx, gateway.AuditChainOf(school), gateway.AuditResultsRetry, school, by,
			map[string]string{"batches": strconv.Itoa(n), "results": strconv.Itoa(results)})
		if err != nil {
			return n, results, fmt.Errorf("retry school %s: audit: %w", school, err)
		}
	}
	return n, results, nil
}
