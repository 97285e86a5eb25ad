package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

var (
	// markLeftScript writes pupils marked left, each only if it is still the
	// record read (a pupil purged meanwhile is skipped), and only while the
	// current and the kept staged generation are the ones read. KEYS school,
	// gen, stage; ARGV base, current gen ('' none), kept staged gen ('' none),
	// then triples: 'c' (current) or 's' (staged), pupil id, record as read,
	// record to write. Returns how many current pupils it wrote.
	markLeftScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local st = redis.call('HMGET', KEYS[3], 'gen', 'kept')
local sg = ''
if st[1] and st[2] == '1' then sg = st[1] end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] or sg ~= ARGV[3] then return -6 end
local todo = {}
for i = 4, #ARGV, 4 do
  local g = ARGV[2]
  if ARGV[i] == 's' then g = ARGV[3] end
  local k = genkey(ARGV[1], g, 'pupils')
  local cur = redis.call('HGET', k, ARGV[i+1])
  if cur and cur ~= ARGV[i+2] then return -6 end
  if cur then todo[#todo + 1] = {k, i} end
end
local n = 0
for _, t in ipairs(todo) do
  redis.call('HSET', t[1], ARGV[t[2]+1], ARGV[t[2]+3])
  if ARGV[t[2]] == 'c' then n = n + 1 end
end
return n`)

	// replaceInListScript replaces list members: KEYS list; ARGV pairs of
	// member as read, member to write. Returns how many it replaced.
	replaceInListScript = script(`
local want = {}
for i = 1, #ARGV, 2 do want[ARGV[i]] = ARGV[i+1] end
local n = 0
for i, v in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if want[v] then
    redis.call('LSET', KEYS[1], i - 1, want[v])
    n = n + 1
  end
end
return n`)

	// casStringScript: KEYS key; ARGV value as read, value to write. Writes
	// (and returns 1) only when the key still holds the value read.
	casStringScript = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`)

	// casFieldScript: KEYS hash; ARGV field, value as read, value to write.
	casFieldScript = script(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`)
)

// markAttempts bounds the rounds of MarkPupilsLeft when a commit or a held
// sync changes the generations between its read and its write.
const markAttempts = 20

// MarkPupilsLeft marks pupils of the current snapshot, and the same pupils
// of a kept stage, left on leftOn: it reads them, and writes them back with
// a script that checks nothing changed meanwhile (else it reads again).
func (s *Store) MarkPupilsLeft(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID, leftOn string) (int, error) {
	op := "mark pupils left"
	if leftOn == "" {
		return 0, wrap(op, id, fmt.Errorf("%w: no date", gateway.ErrInvalid))
	}
	if err := s.mustExist(ctx, id); err != nil {
		return 0, wrap(op, id, err)
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids))) // a pupil named twice is marked once
	n := 0
	for part := range slices.Chunk(ids, batch) {
		k, err := s.markChunk(ctx, id, part, leftOn)
		n += k
		if err != nil {
			return n, wrap(op, id, err)
		}
	}
	return n, nil
}

func (s *Store) markChunk(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID, leftOn string) (int, error) {
	for range markAttempts {
		cur, staged, err := s.generations(ctx, id)
		if err != nil {
			return 0, err
		}
		argv := []any{s.base(id), cur, staged}
		for _, g := range []struct{ which, gen string }{{"c", cur}, {"s", staged}} {
			if g.gen == "" {
				continue
			}
			if argv, err = s.markArgs(ctx, id, g.gen, g.which, ids, leftOn, argv); err != nil {
				return 0, err
			}
		}
		if len(argv) == 3 {
			return 0, nil
		}
		n, err := markLeftScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "gen"), s.key(id, "stage")}, argv...).Int64()
		if err != nil {
			return 0, err
		}
		if n >= 0 {
			return int(n), nil
		}
		if n != refusedChanged {
			return 0, refused(n, id)
		}
	}
	return 0, fmt.Errorf("%w: the snapshot kept changing (%d attempts)", gateway.ErrConflict, markAttempts)
}

// generations reads the current generation and the kept staged one ("" for
// none).
func (s *Store) generations(ctx context.Context, id gateway.SchoolID) (string, string, error) {
	var cur *redis.StringCmd
	var st *redis.SliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		cur = p.Get(ctx, s.key(id, "gen"))
		st = p.HMGet(ctx, s.key(id, "stage"), "gen", "kept")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", "", err
	}
	staged := ""
	if v := st.Val(); len(v) == 2 && v[1] == "1" {
		staged, _ = v[0].(string)
	}
	return cur.Val(), staged, nil
}

// markArgs appends the script triples of the pupils of generation gen
// that are not marked left yet.
func (s *Store) markArgs(ctx context.Context, id gateway.SchoolID, gen, which string, ids []gateway.PupilID, leftOn string, argv []any) ([]any, error) {
	fields := make([]string, len(ids))
	for i, p := range ids {
		fields[i] = string(p)
	}
	vals, err := s.rdb.HMGet(ctx, s.base(id)+"g"+gen+":pupils", fields...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		old, ok := v.(string)
		if !ok {
			continue
		}
		var p gateway.Pupil
		if err := json.Unmarshal([]byte(old), &p); err != nil {
			return nil, fmt.Errorf("decode pupil %s: %w", fields[i], err)
		}
		if p.LeftOn != "" {
			continue
		}
		p.LeftOn = leftOn
		data, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		argv = append(argv, which, fields[i], old, data)
	}
	return argv, nil
}

// ExpireTexts clears the texts of a school's runs, connection check and
// batches dated before before, each record with a compare-and-set on the
// bytes read: a record rewritten meanwhile keeps what its writer wrote.
func (s *Store) ExpireTexts(ctx context.Context, id gateway.SchoolID, before time.Time) (gateway.ExpiredTexts, error) {
	op := "expire texts"
	var out gateway.ExpiredTexts
	if err := s.mustExist(ctx, id); err != nil {
		return out, wrap(op, id, err)
	}
	var err error
	if out.SyncRuns, err = s.expireRunTexts(ctx, id, before); err != nil {
		return out, wrap(op+" of sync runs", id, err)
	}
	if out.ConnectionChecks, err = s.expireCheckText(ctx, id, before); err != nil {
		return out, wrap(op+" of the connection check", id, err)
	}
	if out.Batches, err = s.expireBatchTexts(ctx, id, before); err != nil {
		return out, wrap(op+" of batches", id, err)
	}
	return out, nil
}

func (s *Store) expireRunTexts(ctx context.Context, id gateway.SchoolID, before time.Time) (int, error) {
	vals, err := s.rdb.LRange(ctx, s.key(id, "runs"), 0, -1).Result()
	if err != nil {
		return 0, err
	}
	var pairs []any
	for _, v := range vals {
		var r gateway.SyncRun
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return 0, fmt.Errorf("decode run: %w", err)
		}
		if !gateway.TextsExpire(r.HasTexts(), r.TextsAt(), before) {
			continue
		}
		data, err := json.Marshal(r.WithoutTexts())
		if err != nil {
			return 0, err
		}
		pairs = append(pairs, v, data)
	}
	n := 0
	for part := range slices.Chunk(pairs, 2*batch) {
		k, err := replaceInListScript.Run(ctx, s.rdb, []string{s.key(id, "runs")}, part...).Int()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

func (s *Store) expireCheckText(ctx context.Context, id gateway.SchoolID, before time.Time) (int, error) {
	old, err := s.rdb.Get(ctx, s.key(id, "conncheck")).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var c gateway.ConnectionCheck
	if err := json.Unmarshal([]byte(old), &c); err != nil {
		return 0, fmt.Errorf("decode: %w", err)
	}
	if !gateway.TextsExpire(c.HasTexts(), c.TextsAt(), before) {
		return 0, nil
	}
	data, err := json.Marshal(c.WithoutTexts())
	if err != nil {
		return 0, err
	}
	return casStringScript.Run(ctx, s.rdb, []string{s.key(id, "conncheck")}, old, data).Int()
}

func (s *Store) expireBatchTexts(ctx context.Context, id gateway.SchoolID, before time.Time) (int, error) {
	ids, err := s.rdb.ZRange(ctx, s.key(id, "batches"), 0, -1).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for chunk := range slices.Chunk(ids, batch) {
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, b := range chunk {
				p.HGet(ctx, s.batchKey(id, b), "data")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return n, err
		}
		for i, c := range cmds {
			old, err := c.(*redis.StringCmd).Result()
			if errors.Is(err, redis.Nil) {
				continue // deleted since ZRANGE
			}
			var b gateway.Batch
			if err := json.Unmarshal([]byte(old), &b); err != nil {
				return n, fmt.Errorf("decode batch %s: %w", chunk[i], err)
			}
			if !gateway.TextsExpire(b.HasTexts(), b.TextsAt(), before) {
				continue
			}
			data, err := json.Marshal(b.WithoutTexts())
			if err != nil {
				return n, err
			}
			k, err := casFieldScript.Run(ctx, s.rdb, []string{s.batchKey(id, chunk[i])}, "data", old, data).Int()
			if err != nil {
				return n, err
			}
			n += k
		}
	}
	return n, nil
}

// Compact does nothing and returns ctx.Err(): Redis frees a deleted key at
// once, and nothing of it stays readable through the server. (The bbolt
// store rewrites its file here.) With persistence on, an append-only file
// holds the deleting commands after the writing ones until Redis rewrites
// it (auto-aof-rewrite, or BGREWRITEAOF), and an RDB snapshot holds what
// was current when it was taken: see the README on retention.
func (s *Store) Compact(ctx context.Context) error { return ctx.Err() }
