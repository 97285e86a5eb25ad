package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Outbox buckets: per school "tests", "results", "batches", "evidence";
// one top-level "outbox" bucket is the queue, keyed by due time so a cursor
// meets the due batches first (see doc.go).
var (
	bktTests    = []byte("tests")
	bktResults  = []byte("results")
	bktBatches  = []byte("batches")
	bktEvidence = []byte("evidence")
	bktOutbox   = []byte("outbox")
)

// lease is a claim held in memory: the file lock makes this process the
// only one using the store, so a restart ends every lease.
type lease struct {
	token string
	until time.Time
}

// queueKey is due (unix ms, 8 bytes big endian) | school | 0 | batch.
func queueKey(due time.Time, school gateway.SchoolID, batch string) []byte {
	k := make([]byte, 8, 8+len(school)+1+len(batch))
	binary.BigEndian.PutUint64(k, uint64(max(due.UnixMilli(), 0)))
	k = append(k, school...)
	k = append(k, 0)
	return append(k, batch...)
}

func parseQueueKey(k []byte) (time.Time, gateway.SchoolID, string, bool) {
	if len(k) < 10 {
		return time.Time{}, "", "", false
	}
	due := time.UnixMilli(int64(binary.BigEndian.Uint64(k[:8])))
	school, batch, ok := bytes.Cut(k[8:], []byte{0})
	return due, gateway.SchoolID(school), string(batch), ok
}

func leaseKey(school gateway.SchoolID, batch string) string { return string(school) + "\x00" + batch }

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PutTests stores test definitions, replacing those with the same code.
func (s *Store) PutTests(ctx context.Context, id gateway.SchoolID, tests []gateway.TestDefinition) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		tb, err := sb.CreateBucketIfNotExists(bktTests)
		if err != nil {
			return err
		}
		for _, t := range tests {
			if t.Code.Value == "" {
				return fmt.Errorf("%w: test without code", gateway.ErrInvalid)
			}
			if err := putJSON(tb, []byte(t.Code.Value), t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put tests of school %s: %w", id, err)
	}
	return nil
}

// Tests returns the school's test definitions, ordered by code.
func (s *Store) Tests(ctx context.Context, id gateway.SchoolID) ([]gateway.TestDefinition, error) {
	var out []gateway.TestDefinition
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		out, err = listJSON[gateway.TestDefinition](sb.Bucket(bktTests))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tests of school %s: %w", id, err)
	}
	return out, nil
}

// Enqueue stores results and one batch of the new and changed ones, in one
// transaction.
func (s *Store) Enqueue(ctx context.Context, id gateway.SchoolID, rs []gateway.Result, b gateway.Batch, also ...gateway.Batch) (gateway.Enqueued, error) {
	var out gateway.Enqueued
	if err := gateway.CheckNewBatches(b, also); err != nil {
		return out, fmt.Errorf("enqueue school %s: %w", id, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = gateway.Enqueued{Batch: b.ID}
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		res, err := sb.CreateBucketIfNotExists(bktResults)
		if err != nil {
			return err
		}
		batch := b
		batch.School, batch.Keys = id, nil
		seen := map[string]bool{}
		for i, r := range rs {
			if r.Key == "" || r.Digest == "" {
				return fmt.Errorf("%w: result %d without key or digest", gateway.ErrInvalid, i)
			}
			if seen[r.Key] {
				return fmt.Errorf("%w: result key %s twice in one batch", gateway.ErrInvalid, r.Key)
			}
			var old gateway.Result
			if v := res.Get([]byte(r.Key)); v != nil {
				if err := json.Unmarshal(v, &old); err != nil {
					return fmt.Errorf("decode result %s: %w", r.Key, err)
				}
			}
			switch old.Digest {
			case r.Digest:
				out.Unchanged++
				continue
			case "":
				out.New++
			default:
				out.Changed++
			}
			seen[r.Key] = true
			r.School, r.Batch = id, b.ID
			if err := putJSON(res, []byte(r.Key), r); err != nil {
				return err
			}
			batch.Keys = append(batch.Keys, r.Key)
		}
		if len(batch.Keys) == 0 {
			out.Batch = ""
			return nil
		}
		for _, x := range append([]gateway.Batch{batch}, also...) {
			x.School, x.Keys = id, batch.Keys
			if x.UpdatedAt.IsZero() {
				x.UpdatedAt = x.CreatedAt
			}
			if err := s.putBatch(tx, sb, x); err != nil {
				return err
			}
			if x.ID != b.ID {
				out.Also = append(out.Also, x.ID)
			}
		}
		return nil
	})
	if err != nil {
		return gateway.Enqueued{}, fmt.Errorf("enqueue school %s: %w", id, err)
	}
	return out, nil
}

// EnqueueExport stores an export batch (no results) and queues it.
func (s *Store) EnqueueExport(ctx context.Context, id gateway.SchoolID, b gateway.Batch) error {
	if err := gateway.CheckExportBatch(b); err != nil {
		return fmt.Errorf("enqueue export of school %s: %w", id, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		b.School, b.Keys = id, nil
		if b.UpdatedAt.IsZero() {
			b.UpdatedAt = b.CreatedAt
		}
		return s.putBatch(tx, sb, b)
	})
	if err != nil {
		return fmt.Errorf("enqueue export of school %s: %w", id, err)
	}
	return nil
}

// putBatch writes a batch and, when it is queued, its queue entry.
func (s *Store) putBatch(tx *bolt.Tx, sb *bolt.Bucket, b gateway.Batch) error {
	bb, err := sb.CreateBucketIfNotExists(bktBatches)
	if err != nil {
		return err
	}
	if err := putJSON(bb, []byte(b.ID), b); err != nil {
		return err
	}
	if b.State != gateway.BatchQueued {
		return nil
	}
	q, err := tx.CreateBucketIfNotExists(bktOutbox)
	if err != nil {
		return err
	}
	return q.Put(queueKey(b.NextAttemptAt, b.School, b.ID), []byte{})
}

// dequeue removes the queue entry of b (as stored) when it has one.
func dequeue(tx *bolt.Tx, b gateway.Batch) error {
	q := tx.Bucket(bktOutbox)
	if q == nil {
		return nil
	}
	return q.Delete(queueKey(b.NextAttemptAt, b.School, b.ID))
}

func getBatch(sb *bolt.Bucket, id string) (gateway.Batch, error) {
	var b gateway.Batch
	bb := sb.Bucket(bktBatches)
	if bb == nil {
		return b, fmt.Errorf("batch %s: %w", id, gateway.ErrNotFound)
	}
	v := bb.Get([]byte(id))
	if v == nil {
		return b, fmt.Errorf("batch %s: %w", id, gateway.ErrNotFound)
	}
	err := json.Unmarshal(v, &b)
	return b, err
}

// Results returns the stored results with the given keys, in that order.
func (s *Store) Results(ctx context.Context, id gateway.SchoolID, keys []string) ([]gateway.Result, error) {
	out := make([]gateway.Result, 0, len(keys))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		res := sb.Bucket(bktResults)
		if res == nil {
			return nil
		}
		for _, k := range keys {
			v := res.Get([]byte(k))
			if v == nil {
				continue
			}
			var r gateway.Result
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode result %s: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("results of school %s: %w", id, err)
	}
	return out, nil
}

// WalkResults calls fn for every result of the school, page by page.
func (s *Store) WalkResults(ctx context.Context, id gateway.SchoolID, fn func(gateway.Result) error) error {
	err := walkPages(ctx, s, id, bktResults, fn)
	if err != nil {
		return fmt.Errorf("walk results of school %s: %w", id, err)
	}
	return nil
}

// walkPages decodes the records of a school's bucket in pages, each page
// in its own read transaction, and calls fn outside of them.
func walkPages[T any](ctx context.Context, s *Store, id gateway.SchoolID, bucket []byte, fn func(T) error) error {
	var after []byte
	for {
		var page []T
		var last []byte
		err := s.view(ctx, func(tx *bolt.Tx) error {
			sb, err := schoolBucket(tx, id)
			if err != nil {
				return err
			}
			b := sb.Bucket(bucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(page) < pageSize; k, v = c.Next() {
				var x T
				if err := json.Unmarshal(v, &x); err != nil {
					return fmt.Errorf("decode %s: %w", k, err)
				}
				page = append(page, x)
				last = bytes.Clone(k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, x := range page {
			if err := fn(x); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = last
	}
}

// DeleteResults deletes results by key.
func (s *Store) DeleteResults(ctx context.Context, id gateway.SchoolID, keys []string) (int, error) {
	n, err := s.deleteIn(ctx, id, bktResults, keys)
	if err != nil {
		return 0, fmt.Errorf("delete results of school %s: %w", id, err)
	}
	return n, nil
}

// deleteIn deletes keys from one of a school's buckets in one transaction
// and returns how many existed.
func (s *Store) deleteIn(ctx context.Context, id gateway.SchoolID, bucket []byte, keys []string) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		b := sb.Bucket(bucket)
		if b == nil {
			return nil
		}
		for _, k := range keys {
			if b.Get([]byte(k)) == nil {
				continue
			}
			n++
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Batch returns one batch.
func (s *Store) Batch(ctx context.Context, id gateway.SchoolID, batchID string) (gateway.Batch, error) {
	var b gateway.Batch
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		b, err = getBatch(sb, batchID)
		return err
	})
	if err != nil {
		return gateway.Batch{}, fmt.Errorf("batch of school %s: %w", id, err)
	}
	return b, nil
}

// WalkBatches calls fn for every batch, ordered by id.
func (s *Store) WalkBatches(ctx context.Context, id gateway.SchoolID, fn func(gateway.Batch) error) error {
	if err := walkPages(ctx, s, id, bktBatches, fn); err != nil {
		return fmt.Errorf("walk batches of school %s: %w", id, err)
	}
	return nil
}

// Claim leases due batches to r.Consumer, polling until r.Wait passes.
func (s *Store) Claim(ctx context.Context, r gateway.ClaimRequest) ([]gateway.Claim, error) {
	if r.Max <= 0 || r.Lease <= 0 || r.Consumer == "" {
		return nil, fmt.Errorf("claim: %w: claim needs a consumer, max > 0 and a lease", gateway.ErrInvalid)
	}
	deadline := time.Now().Add(r.Wait)
	for {
		out, err := s.claimOnce(ctx, r)
		if err != nil || len(out) > 0 || !time.Now().Before(deadline) {
			return out, err
		}
		t := time.NewTimer(min(25*time.Millisecond, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("claim: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Store) claimOnce(ctx context.Context, r gateway.ClaimRequest) ([]gateway.Claim, error) {
	var out []gateway.Claim
	s.lmu.Lock()
	defer s.lmu.Unlock()
	// An idle worker polls often: look in a read transaction first, and
	// write only when a due entry is not leased here (a write transaction
	// syncs the file even when it changes nothing).
	work := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		q := tx.Bucket(bktOutbox)
		if q == nil {
			return nil
		}
		c := q.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			due, school, id, ok := parseQueueKey(k)
			if ok && due.After(r.Now) {
				return nil
			}
			if l, leased := s.leases[leaseKey(school, id)]; !ok || !leased || !l.until.After(r.Now) {
				work = true
				return nil
			}
		}
		return nil
	})
	if err != nil || !work {
		return nil, err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		out = out[:0]
		q := tx.Bucket(bktOutbox)
		if q == nil {
			return nil
		}
		var drop [][]byte
		c := q.Cursor()
		for k, _ := c.First(); k != nil && len(out) < r.Max; k, _ = c.Next() {
			due, school, id, ok := parseQueueKey(k)
			if !ok {
				drop = append(drop, bytes.Clone(k))
				continue
			}
			if due.After(r.Now) {
				break
			}
			if l, ok := s.leases[leaseKey(school, id)]; ok && l.until.After(r.Now) {
				continue
			}
			sb := tx.Bucket(schoolBucketName(school))
			var b gateway.Batch
			var err error
			if sb != nil {
				b, err = getBatch(sb, id)
			}
			if sb == nil || errors.Is(err, gateway.ErrNotFound) || (b.State != gateway.BatchQueued && b.State != gateway.BatchSent) {
				drop = append(drop, bytes.Clone(k))
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, gateway.Claim{Batch: b, Token: newToken(), Entry: string(k)})
		}
		for _, k := range drop {
			if err := q.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	for _, c := range out {
		s.leases[leaseKey(c.Batch.School, c.Batch.ID)] = lease{token: c.Token, until: r.Now.Add(r.Lease)}
	}
	return out, nil
}

// current checks that c is the live claim of its batch. s.lmu must be held.
func (s *Store) current(c gateway.Claim) error {
	l, ok := s.leases[leaseKey(c.Batch.School, c.Batch.ID)]
	if !ok || l.token != c.Token {
		return fmt.Errorf("batch %s: claim lapsed or was taken over: %w", c.Batch.ID, gateway.ErrConflict)
	}
	return nil
}

// Settle moves a claimed batch to its next state.
func (s *Store) Settle(ctx context.Context, c gateway.Claim, st gateway.Settlement) (gateway.Batch, error) {
	id := c.Batch.School
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if err := s.current(c); err != nil {
		return gateway.Batch{}, fmt.Errorf("settle school %s: %w", id, err)
	}
	var next gateway.Batch
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		stored, err := getBatch(sb, c.Batch.ID)
		if err != nil {
			return err
		}
		next = stored.Apply(st)
		if st.State == gateway.BatchSent {
			// The queue entry stays: if this process dies, the batch is sent again.
			return putJSON(sb.Bucket(bktBatches), []byte(next.ID), next)
		}
		if err := dequeue(tx, stored); err != nil {
			return err
		}
		return s.putBatch(tx, sb, next)
	})
	if err != nil {
		return gateway.Batch{}, fmt.Errorf("settle school %s: %w", id, err)
	}
	k := leaseKey(id, c.Batch.ID)
	if st.State == gateway.BatchSent {
		s.leases[k] = lease{token: c.Token, until: st.At.Add(st.Lease)}
	} else {
		delete(s.leases, k)
	}
	return next, nil
}

// Split ends a claimed batch and queues its parts, in one transaction.
func (s *Store) Split(ctx context.Context, c gateway.Claim, parts []gateway.Batch, at time.Time) error {
	id := c.Batch.School
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if err := s.current(c); err != nil {
		return fmt.Errorf("split school %s: %w", id, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		parent, err := getBatch(sb, c.Batch.ID)
		if err != nil {
			return err
		}
		if err := dequeue(tx, parent); err != nil {
			return err
		}
		parent.State, parent.UpdatedAt, parent.AnsweredAt, parent.Children = gateway.BatchSplit, at, at, nil
		res := sb.Bucket(bktResults)
		for _, p := range parts {
			p.School, p.State, p.Parent = id, gateway.BatchQueued, parent.ID
			p.Recipient, p.Processing = parent.Recipient, parent.Processing
			if p.UpdatedAt.IsZero() {
				p.UpdatedAt = p.CreatedAt
			}
			parent.Children = append(parent.Children, p.ID)
			if err := s.putBatch(tx, sb, p); err != nil {
				return err
			}
			for _, k := range p.Keys {
				v := res.Get([]byte(k))
				if v == nil {
					continue
				}
				var r gateway.Result
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				if r.Batch != parent.ID {
					continue // a recipient's copy split: the result follows its LAS batch
				}
				r.Batch = p.ID
				if err := putJSON(res, []byte(k), r); err != nil {
					return err
				}
			}
		}
		return s.putBatch(tx, sb, parent)
	})
	if err != nil {
		return fmt.Errorf("split school %s: %w", id, err)
	}
	delete(s.leases, leaseKey(id, c.Batch.ID))
	return nil
}

// move changes every unleased batch of the school in state from.
func (s *Store) move(ctx context.Context, id gateway.SchoolID, op string, from gateway.BatchState, pick func(gateway.Batch) bool,
	now time.Time, change func(*gateway.Batch)) (int, error) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		bb := sb.Bucket(bktBatches)
		if bb == nil {
			return nil
		}
		var todo []gateway.Batch
		err = bb.ForEach(func(k, v []byte) error {
			var b gateway.Batch
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("decode batch %s: %w", k, err)
			}
			if b.State != from || !pick(b) {
				return nil
			}
			if l, ok := s.leases[leaseKey(id, b.ID)]; ok && l.until.After(now) {
				return nil
			}
			todo = append(todo, b)
			return nil
		})
		if err != nil {
			return err
		}
		for _, b := range todo {
			if err := dequeue(tx, b); err != nil {
				return err
			}
			change(&b)
			if err := s.putBatch(tx, sb, b); err != nil {
				return err
			}
			delete(s.leases, leaseKey(id, b.ID))
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s batches of school %s: %w", op, id, err)
	}
	return n, nil
}

// HoldBatches moves the school's unleased queued batches to held.
func (s *Store) HoldBatches(ctx context.Context, id gateway.SchoolID, p gateway.Processing, reason string, at time.Time) (int, error) {
	return s.move(ctx, id, "hold", gateway.BatchQueued, needing(p), at, func(b *gateway.Batch) {
		b.State, b.Reason, b.ErrorClass, b.UpdatedAt = gateway.BatchHeld, reason, "consent", at
	})
}

// ReleaseBatches queues every held batch of the school again.
func (s *Store) ReleaseBatches(ctx context.Context, id gateway.SchoolID, p gateway.Processing, at time.Time) (int, error) {
	return s.move(ctx, id, "release", gateway.BatchHeld, needing(p), at, func(b *gateway.Batch) {
		b.State, b.Reason, b.ErrorClass, b.UpdatedAt, b.NextAttemptAt = gateway.BatchQueued, "", "", at, at
	})
}

// Requeue queues rejected batches again with their attempts reset.
func (s *Store) Requeue(ctx context.Context, id gateway.SchoolID, ids []string, at time.Time) (int, error) {
	return s.move(ctx, id, "requeue", gateway.BatchRejected, withID(ids), at, func(b *gateway.Batch) {
		b.State, b.Reason, b.ErrorClass, b.FaultCode, b.UpdatedAt, b.NextAttemptAt, b.Attempts =
			gateway.BatchQueued, "", "", "", at, at, 0
	})
}

// InFlight counts the school's batches leased at now.
func (s *Store) InFlight(ctx context.Context, id gateway.SchoolID, now time.Time) (int, error) {
	if _, err := s.School(ctx, id); err != nil {
		return 0, err
	}
	s.lmu.Lock()
	defer s.lmu.Unlock()
	n := 0
	prefix := string(id) + "\x00"
	for k, l := range s.leases {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix && l.until.After(now) {
			n++
		}
	}
	return n, nil
}

// OutboxDepth counts the school's batches by state.
func (s *Store) OutboxDepth(ctx context.Context, id gateway.SchoolID) (map[gateway.BatchState]int, error) {
	out := map[gateway.BatchState]int{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		return forEachJSON(sb.Bucket(bktBatches), func(b gateway.Batch) error {
			out[b.State]++
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox depth of school %s: %w", id, err)
	}
	return out, nil
}

// DeleteBatches deletes ended and held batches by id (held batches have
// no queue entry).
func (s *Store) DeleteBatches(ctx context.Context, id gateway.SchoolID, ids []string) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		for _, bid := range ids {
			b, err := getBatch(sb, bid)
			if errors.Is(err, gateway.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !b.State.Terminal() && b.State != gateway.BatchHeld {
				continue
			}
			if err := sb.Bucket(bktBatches).Delete([]byte(bid)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete batches of school %s: %w", id, err)
	}
	return n, nil
}

// needing picks the batches that need consent to p.
func needing(p gateway.Processing) func(gateway.Batch) bool {
	return func(b gateway.Batch) bool { return b.Needs() == p }
}

// withID picks the batches with one of ids.
func withID(ids []string) func(gateway.Batch) bool {
	return func(b gateway.Batch) bool { return slices.Contains(ids, b.ID) }
}
