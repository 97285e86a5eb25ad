package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// group is the consumer group of the delivery workers.
const group = "delivery"

// reclaimIdle is how long an unacknowledged entry sits before Claim looks at
// its batch's lease; the lease (kept in the batch) decides the takeover.
const reclaimIdle = 100 * time.Millisecond

// enqueueRetries bounds the optimistic retries of Enqueue when another
// submission changes the same keys at the same moment.
const enqueueRetries = 20

func (s *Store) streamKey() string  { return s.prefix + "outbox:stream" }
func (s *Store) delayedKey() string { return s.prefix + "outbox:delayed" }

func (s *Store) batchKey(id gateway.SchoolID, batch string) string { return s.key(id, "batch:"+batch) }

func delayedMember(id gateway.SchoolID, batch string) string { return string(id) + "\n" + batch }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// PutTests stores test definitions, replacing those with the same code.
func (s *Store) PutTests(ctx context.Context, id gateway.SchoolID, tests []gateway.TestDefinition) error {
	if len(tests) == 0 {
		return wrap("put tests", id, s.mustExist(ctx, id))
	}
	fields := make([]any, 0, 2*len(tests))
	for _, t := range tests {
		if t.Code.Value == "" {
			return wrap("put tests", id, fmt.Errorf("%w: test without code", gateway.ErrInvalid))
		}
		data, err := json.Marshal(t)
		if err != nil {
			return wrap("put tests", id, err)
		}
		fields = append(fields, t.Code.Value, data)
	}
	code, err := hsetIfSchoolScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "tests")}, fields...).Int64()
	if err == nil {
		err = refused(code, id)
	}
	return wrap("put tests", id, err)
}

// Tests returns the school's test definitions, ordered by code.
func (s *Store) Tests(ctx context.Context, id gateway.SchoolID) ([]gateway.TestDefinition, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return nil, wrap("tests", id, err)
	}
	vals, err := s.rdb.HVals(ctx, s.key(id, "tests")).Result()
	if err != nil {
		return nil, wrap("tests", id, err)
	}
	out, err := decodeAll[gateway.TestDefinition](vals, id, "tests")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b gateway.TestDefinition) int { return cmp.Compare(a.Code.Value, b.Code.Value) })
	return out, nil
}

// errDigestChanged: the enqueue script found a digest changed since it was
// read (another submission came between); Enqueue reads again.
var errDigestChanged = errors.New("a result digest changed meanwhile")

// Enqueue stores results and one batch of the new and changed ones.
func (s *Store) Enqueue(ctx context.Context, id gateway.SchoolID, rs []gateway.Result, b gateway.Batch, also ...gateway.Batch) (gateway.Enqueued, error) {
	if err := gateway.CheckNewBatches(b, also); err != nil {
		return gateway.Enqueued{}, wrap("enqueue", id, err)
	}
	keys := make([]string, len(rs))
	for i, r := range rs {
		if r.Key == "" || r.Digest == "" {
			return gateway.Enqueued{}, wrap("enqueue", id, fmt.Errorf("%w: result %d without key or digest", gateway.ErrInvalid, i))
		}
		keys[i] = r.Key
	}
	for try := 0; try < enqueueRetries; try++ {
		if err := s.mustExist(ctx, id); err != nil {
			return gateway.Enqueued{}, wrap("enqueue", id, err)
		}
		var cur []any
		if len(keys) > 0 {
			var err error
			if cur, err = s.rdb.HMGet(ctx, s.key(id, "digests"), keys...).Result(); err != nil {
				return gateway.Enqueued{}, wrap("enqueue", id, err)
			}
		}
		out, args, batchKeys, err := s.enqueueArgs(id, rs, cur, b)
		if err != nil || len(batchKeys) == 0 {
			return out, wrap("enqueue", id, err)
		}
		redisKeys := []string{s.key(id, "digests"), s.key(id, "results"), s.key(id, "batches"), s.key(id, "depth"), s.streamKey(), s.key(id, "held")}
		argv := append([]any{len(batchKeys)}, args...)
		argv = append(argv, string(id), len(also)+1)
		for _, x := range append([]gateway.Batch{b}, also...) {
			x.School, x.Keys = id, batchKeys
			if x.UpdatedAt.IsZero() {
				x.UpdatedAt = x.CreatedAt
			}
			data, err := json.Marshal(x)
			if err != nil {
				return gateway.Enqueued{}, wrap("enqueue", id, err)
			}
			redisKeys = append(redisKeys, s.batchKey(id, x.ID))
			argv = append(argv, x.ID, string(x.State), data, ms(x.NextAttemptAt))
			if x.ID != b.ID {
				out.Also = append(out.Also, x.ID)
			}
		}
		err = s.durable(ctx, func(rc redis.Scripter) error {
			code, err := enqueueScript.Run(ctx, rc, redisKeys, argv...).Int64()
			if err == nil && code == -3 {
				err = errDigestChanged
			}
			return err
		})
		if errors.Is(err, errDigestChanged) {
			continue // another submission changed one of these keys: read again
		}
		if err != nil {
			return gateway.Enqueued{}, wrap("enqueue", id, err)
		}
		return out, nil
	}
	return gateway.Enqueued{}, wrap("enqueue", id, fmt.Errorf("%w: results keep changing under concurrent submissions", gateway.ErrConflict))
}

// EnqueueExport stores an export batch (no results) and queues it: the
// enqueue script with no results and one batch.
func (s *Store) EnqueueExport(ctx context.Context, id gateway.SchoolID, b gateway.Batch) error {
	if err := gateway.CheckExportBatch(b); err != nil {
		return wrap("enqueue export", id, err)
	}
	if err := s.mustExist(ctx, id); err != nil {
		return wrap("enqueue export", id, err)
	}
	b.School, b.Keys = id, nil
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = b.CreatedAt
	}
	data, err := json.Marshal(b)
	if err != nil {
		return wrap("enqueue export", id, err)
	}
	keys := []string{s.key(id, "digests"), s.key(id, "results"), s.key(id, "batches"), s.key(id, "depth"), s.streamKey(), s.key(id, "held"),
		s.batchKey(id, b.ID)}
	err = s.durable(ctx, func(rc redis.Scripter) error {
		return enqueueScript.Run(ctx, rc, keys, 0, string(id), 1, b.ID, string(b.State), data, ms(b.NextAttemptAt)).Err()
	})
	return wrap("enqueue export", id, err)
}

// enqueueArgs compares rs with the stored digests cur and returns the
// counts, the script arguments of the results that are new or changed, and
// their keys (none: nothing to store).
func (s *Store) enqueueArgs(id gateway.SchoolID, rs []gateway.Result, cur []any, b gateway.Batch) (gateway.Enqueued, []any, []string, error) {
	out := gateway.Enqueued{Batch: b.ID}
	var args []any
	var keys []string
	seen := map[string]bool{}
	for i, r := range rs {
		old, _ := cur[i].(string)
		switch {
		case seen[r.Key]:
			return gateway.Enqueued{}, nil, nil, fmt.Errorf("%w: result key %s twice in one batch", gateway.ErrInvalid, r.Key)
		case old == r.Digest:
			out.Unchanged++
			continue
		case old == "":
			out.New++
		default:
			out.Changed++
		}
		seen[r.Key] = true
		r.School, r.Batch = id, b.ID
		data, err := json.Marshal(r)
		if err != nil {
			return gateway.Enqueued{}, nil, nil, err
		}
		keys = append(keys, r.Key)
		args = append(args, r.Key, old, r.Digest, data)
	}
	if len(keys) == 0 {
		return gateway.Enqueued{Unchanged: out.Unchanged}, nil, nil, nil
	}
	return out, args, keys, nil
}

// Results returns the stored results with the given keys, in that order.
func (s *Store) Results(ctx context.Context, id gateway.SchoolID, keys []string) ([]gateway.Result, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return nil, wrap("results", id, err)
	}
	out := make([]gateway.Result, 0, len(keys))
	for chunk := range slices.Chunk(keys, batch) {
		vals, err := s.rdb.HMGet(ctx, s.key(id, "results"), chunk...).Result()
		if err != nil {
			return nil, wrap("results", id, err)
		}
		for _, v := range vals {
			data, ok := v.(string)
			if !ok {
				continue
			}
			var r gateway.Result
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				return nil, wrap("results: decode", id, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// WalkResults calls fn for every result of the school.
func (s *Store) WalkResults(ctx context.Context, id gateway.SchoolID, fn func(gateway.Result) error) error {
	if err := s.mustExist(ctx, id); err != nil {
		return wrap("walk results", id, err)
	}
	return wrap("walk results", id, s.scanHash(ctx, s.key(id, "results"), func(_, v string) error {
		var r gateway.Result
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return fmt.Errorf("decode result: %w", err)
		}
		return fn(r)
	}))
}

// scanHash calls fn for every field of a hash, with HSCAN.
func (s *Store) scanHash(ctx context.Context, key string, fn func(field, value string) error) error {
	var cursor uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		kv, next, err := s.rdb.HScan(ctx, key, cursor, "", 1000).Result()
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if err := fn(kv[i], kv[i+1]); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// DeleteResults deletes results by key.
func (s *Store) DeleteResults(ctx context.Context, id gateway.SchoolID, keys []string) (int, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return 0, wrap("delete results", id, err)
	}
	n := 0
	for chunk := range slices.Chunk(keys, batch) {
		var del *redis.IntCmd
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			del = p.HDel(ctx, s.key(id, "results"), chunk...)
			p.HDel(ctx, s.key(id, "digests"), chunk...)
			return nil
		})
		if err != nil {
			return n, wrap("delete results", id, err)
		}
		n += int(del.Val())
	}
	return n, nil
}

// Batch returns one batch.
func (s *Store) Batch(ctx context.Context, id gateway.SchoolID, batchID string) (gateway.Batch, error) {
	data, err := s.rdb.HGet(ctx, s.batchKey(id, batchID), "data").Result()
	if errors.Is(err, redis.Nil) {
		if err := s.mustExist(ctx, id); err != nil {
			return gateway.Batch{}, wrap("batch", id, err)
		}
		return gateway.Batch{}, wrap("batch", id, fmt.Errorf("batch %s: %w", batchID, gateway.ErrNotFound))
	}
	if err != nil {
		return gateway.Batch{}, wrap("batch", id, err)
	}
	var b gateway.Batch
	if err := json.Unmarshal([]byte(data), &b); err != nil {
		return gateway.Batch{}, wrap("batch: decode", id, err)
	}
	return b, nil
}

// WalkBatches calls fn for every batch of the school, ordered by id
// (the batches sorted set has one score, so it orders by member).
func (s *Store) WalkBatches(ctx context.Context, id gateway.SchoolID, fn func(gateway.Batch) error) error {
	if err := s.mustExist(ctx, id); err != nil {
		return wrap("walk batches", id, err)
	}
	ids, err := s.rdb.ZRange(ctx, s.key(id, "batches"), 0, -1).Result()
	if err != nil {
		return wrap("walk batches", id, err)
	}
	for chunk := range slices.Chunk(ids, batch) {
		if err := ctx.Err(); err != nil {
			return wrap("walk batches", id, err)
		}
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, b := range chunk {
				p.HGet(ctx, s.batchKey(id, b), "data")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return wrap("walk batches", id, err)
		}
		for _, c := range cmds {
			data, err := c.(*redis.StringCmd).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				return wrap("walk batches", id, err)
			}
			var b gateway.Batch
			if err := json.Unmarshal([]byte(data), &b); err != nil {
				return wrap("walk batches: decode", id, err)
			}
			if err := fn(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureGroup creates the consumer group (and the stream) when missing.
func (s *Store) ensureGroup(ctx context.Context) error {
	err := s.rdb.XGroupCreateMkStream(ctx, s.streamKey(), group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

// Claim leases due batches: it first moves due retries into the stream,
// takes over entries whose consumer went quiet for longer than a lease
// (XAUTOCLAIM), then reads new entries (XREADGROUP, blocking up to r.Wait).
func (s *Store) Claim(ctx context.Context, r gateway.ClaimRequest) ([]gateway.Claim, error) {
	if r.Max <= 0 || r.Lease <= 0 || r.Consumer == "" {
		return nil, wrap("claim", "", fmt.Errorf("%w: claim needs a consumer, max > 0 and a lease", gateway.ErrInvalid))
	}
	if err := s.ensureGroup(ctx); err != nil {
		return nil, wrap("claim", "", err)
	}
	now := r.Now
	if err := promoteScript.Run(ctx, s.rdb, []string{s.delayedKey(), s.streamKey()}, ms(now), 1000).Err(); err != nil {
		return nil, wrap("claim: promote retries", "", err)
	}
	var entries []redis.XMessage
	// Entries delivered to a worker and not acknowledged: the claim script
	// hands over those whose batch lease lapsed and leaves the rest. The
	// cursor moves on between calls, so live entries at the front of the
	// pending list cannot hide lapsed ones behind them.
	s.cmu.Lock()
	start := s.cursor
	s.cmu.Unlock()
	if start == "" {
		start = "0-0"
	}
	stale, next, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.streamKey(), Group: group, Consumer: r.Consumer,
		MinIdle: reclaimIdle, Start: start, Count: int64(r.Max)}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("claim: reclaim", "", err)
	}
	s.cmu.Lock()
	s.cursor = next
	s.cmu.Unlock()
	entries = append(entries, stale...)
	if len(entries) < r.Max {
		block := time.Duration(-1)
		if len(entries) == 0 && r.Wait > 0 {
			block = r.Wait
		}
		streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: r.Consumer,
			Streams: []string{s.streamKey(), ">"}, Count: int64(r.Max - len(entries)), Block: block}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				// The server lost the group (restarted without persistence): recreate it next time.
				return nil, wrap("claim", "", fmt.Errorf("%w: %w", gateway.ErrTransient, err))
			}
			return nil, wrap("claim: read", "", err)
		}
		for _, st := range streams {
			entries = append(entries, st.Messages...)
		}
	}
	var out []gateway.Claim
	for _, e := range entries {
		school, _ := e.Values["s"].(string)
		batchID, _ := e.Values["b"].(string)
		id := gateway.SchoolID(school)
		tok := token()
		res, err := claimScript.Run(ctx, s.rdb, []string{s.batchKey(id, batchID), s.key(id, "leased"), s.streamKey(), s.delayedKey()},
			group, e.ID, tok, ms(now), r.Lease.Milliseconds(), batchID, delayedMember(id, batchID)).Result()
		if err != nil {
			return out, wrap("claim", id, err)
		}
		data, ok := res.(string)
		if !ok {
			continue // dropped, busy or not due
		}
		var b gateway.Batch
		if err := json.Unmarshal([]byte(data), &b); err != nil {
			return out, wrap("claim: decode", id, err)
		}
		out = append(out, gateway.Claim{Batch: b, Token: tok, Entry: e.ID})
	}
	return out, nil
}

// Settle moves a claimed batch to its next state. Only the holder of the
// claim writes the batch while it is leased, so reading it first is safe.
func (s *Store) Settle(ctx context.Context, c gateway.Claim, st gateway.Settlement) (gateway.Batch, error) {
	id := c.Batch.School
	stored, err := s.Batch(ctx, id, c.Batch.ID)
	if err != nil {
		return gateway.Batch{}, err
	}
	b := stored.Apply(st)
	data, err := json.Marshal(b)
	if err != nil {
		return gateway.Batch{}, wrap("settle", id, err)
	}
	err = s.durable(ctx, func(rc redis.Scripter) error {
		code, err := settleScript.Run(ctx, rc,
			[]string{s.batchKey(id, b.ID), s.key(id, "leased"), s.key(id, "depth"), s.key(id, "held"), s.streamKey(), s.delayedKey()},
			c.Token, string(b.State), data, ms(st.At.Add(st.Lease)), group, c.Entry, b.ID, ms(b.NextAttemptAt), delayedMember(id, b.ID)).Int64()
		if err == nil && code == -2 {
			err = fmt.Errorf("batch %s: claim lapsed or was taken over: %w", b.ID, gateway.ErrConflict)
		}
		return err
	})
	if err != nil {
		return gateway.Batch{}, wrap("settle", id, err)
	}
	return b, nil
}

// Split ends a claimed batch and queues its parts.
func (s *Store) Split(ctx context.Context, c gateway.Claim, parts []gateway.Batch, at time.Time) error {
	parent := c.Batch
	id := parent.School
	parent.State, parent.UpdatedAt, parent.AnsweredAt = gateway.BatchSplit, at, at
	parent.Children = nil
	owner := map[string]string{}
	argv := []any{}
	for i := range parts {
		p := &parts[i]
		p.School, p.State, p.Parent = id, gateway.BatchQueued, parent.ID
		p.Recipient, p.Processing = parent.Recipient, parent.Processing
		if p.UpdatedAt.IsZero() {
			p.UpdatedAt = p.CreatedAt
		}
		parent.Children = append(parent.Children, p.ID)
		data, err := json.Marshal(p)
		if err != nil {
			return wrap("split", id, err)
		}
		argv = append(argv, p.ID, data, ms(p.NextAttemptAt))
		for _, k := range p.Keys {
			owner[k] = p.ID
		}
	}
	pdata, err := json.Marshal(parent)
	if err != nil {
		return wrap("split", id, err)
	}
	keys := make([]string, 0, len(owner))
	for k := range owner {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rs, err := s.Results(ctx, id, keys)
	if err != nil {
		return err
	}
	rs = slices.DeleteFunc(rs, func(r gateway.Result) bool { return r.Batch != parent.ID }) // a copy's results follow their LAS batch
	argv = append(argv, len(rs))
	for _, r := range rs {
		r.Batch = owner[r.Key]
		data, err := json.Marshal(r)
		if err != nil {
			return wrap("split", id, err)
		}
		argv = append(argv, r.Key, data)
	}
	head := []any{c.Token, pdata, group, c.Entry, parent.ID, string(id), ms(at), len(parts)}
	err = s.durable(ctx, func(rc redis.Scripter) error {
		code, err := splitScript.Run(ctx, rc, []string{s.batchKey(id, parent.ID), s.key(id, "leased"), s.key(id, "depth"),
			s.streamKey(), s.key(id, "results"), s.key(id, "batches")}, append(head, argv...)...).Int64()
		if err == nil && code == -2 {
			err = fmt.Errorf("batch %s: claim lapsed or was taken over: %w", parent.ID, gateway.ErrConflict)
		}
		return err
	})
	return wrap("split", id, err)
}

// move changes every batch of the school that is in from (and not leased)
// with change, in one script per batch.
func (s *Store) move(ctx context.Context, id gateway.SchoolID, op string, from, to gateway.BatchState, pick func(gateway.Batch) bool,
	now time.Time, change func(*gateway.Batch)) (int, error) {
	var todo []gateway.Batch
	err := s.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if b.State == from && pick(b) {
			todo = append(todo, b)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range todo {
		change(&b)
		b.State = to
		data, err := json.Marshal(b)
		if err != nil {
			return n, wrap(op, id, err)
		}
		moved, err := moveScript.Run(ctx, s.rdb, []string{s.batchKey(id, b.ID), s.key(id, "depth"), s.key(id, "held"), s.streamKey(), s.key(id, "leased")},
			string(from), string(to), data, ms(b.NextAttemptAt), string(id), b.ID, ms(now)).Int64()
		if err != nil {
			return n, wrap(op, id, err)
		}
		n += int(moved)
	}
	return n, nil
}

// HoldBatches moves the school's unleased queued batches to held.
func (s *Store) HoldBatches(ctx context.Context, id gateway.SchoolID, p gateway.Processing, reason string, at time.Time) (int, error) {
	return s.move(ctx, id, "hold", gateway.BatchQueued, gateway.BatchHeld, needing(p), at, func(b *gateway.Batch) {
		b.Reason, b.ErrorClass, b.UpdatedAt = reason, "consent", at
	})
}

// ReleaseBatches queues every held batch of the school again.
func (s *Store) ReleaseBatches(ctx context.Context, id gateway.SchoolID, p gateway.Processing, at time.Time) (int, error) {
	return s.move(ctx, id, "release", gateway.BatchHeld, gateway.BatchQueued, needing(p), at, func(b *gateway.Batch) {
		b.Reason, b.ErrorClass, b.UpdatedAt, b.NextAttemptAt = "", "", at, at
	})
}

// Requeue queues rejected batches again with their attempts reset.
func (s *Store) Requeue(ctx context.Context, id gateway.SchoolID, ids []string, at time.Time) (int, error) {
	return s.move(ctx, id, "requeue", gateway.BatchRejected, gateway.BatchQueued, withID(ids), at, func(b *gateway.Batch) {
		b.Reason, b.ErrorClass, b.FaultCode, b.UpdatedAt, b.NextAttemptAt, b.Attempts = "", "", "", at, at, 0
	})
}

// InFlight counts the school's batches leased at now.
func (s *Store) InFlight(ctx context.Context, id gateway.SchoolID, now time.Time) (int, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return 0, wrap("in flight", id, err)
	}
	n, err := s.rdb.ZCount(ctx, s.key(id, "leased"), "("+strconv.FormatInt(ms(now), 10), "+inf").Result()
	return int(n), wrap("in flight", id, err)
}

// OutboxDepth counts the school's batches by state.
func (s *Store) OutboxDepth(ctx context.Context, id gateway.SchoolID) (map[gateway.BatchState]int, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return nil, wrap("outbox depth", id, err)
	}
	m, err := s.rdb.HGetAll(ctx, s.key(id, "depth")).Result()
	if err != nil {
		return nil, wrap("outbox depth", id, err)
	}
	out := map[gateway.BatchState]int{}
	for k, v := range m {
		n, _ := strconv.Atoi(v)
		if n != 0 {
			out[gateway.BatchState(k)] = n
		}
	}
	return out, nil
}

// DeleteBatches deletes ended and held batches by id.
func (s *Store) DeleteBatches(ctx context.Context, id gateway.SchoolID, ids []string) (int, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return 0, wrap("delete batches", id, err)
	}
	n := 0
	for _, b := range ids {
		k, err := deleteBatchScript.Run(ctx, s.rdb, []string{s.batchKey(id, b), s.key(id, "batches"), s.key(id, "depth"), s.key(id, "held")}, b).Int64()
		if err != nil {
			return n, wrap("delete batches", id, err)
		}
		n += int(k)
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
