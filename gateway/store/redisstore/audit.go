package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// refusedNotHead: the entry does not extend the chain's head record.
const refusedNotHead = -3

// appendAuditScript appends an entry only on top of the head record and
// moves the head record, in one step, and stores the entry's personal part
// when it has one.
// KEYS log, head, chains, personal; ARGV chain, head seq expected
// (decimal), head hash expected, new seq (decimal), new hash, JSON entry,
// JSON personal part or "".
var appendAuditScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], 'seq', 'hash')
if (h[1] or '0') ~= ARGV[2] or (h[2] or '') ~= ARGV[3] then return -3 end
redis.call('RPUSH', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], 'seq', ARGV[4], 'hash', ARGV[5], 'entry', ARGV[6])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[4], ARGV[4], ARGV[7]) end
return 0`)

// auditKey is a key of one chain: "<prefix>audit:{<chain>}:<what>". It
// starts with "audit:", never with "{", so DeleteSchool's sweep of
// "<prefix>{<school>}:*" cannot match it, whatever the school id.
func (s *Store) auditKey(chain, what string) string {
	return s.prefix + "audit:{" + chain + "}:" + what
}

func (s *Store) chainsKey() string { return s.prefix + "audit:chains" }

// AppendAudit appends e when it extends the chain's head record, and moves
// the head record, in one script; otherwise it returns ErrConflict. The
// personal part of e goes to the chain's personal hash in the same script.
func (s *Store) AppendAudit(ctx context.Context, e gateway.AuditEntry) error {
	op := fmt.Sprintf("append audit chain %s seq %d", e.Chain, e.Seq)
	if e.Chain == "" {
		return wrap(op, "", fmt.Errorf("%w: empty chain", gateway.ErrInvalid))
	}
	if e.Seq == 0 {
		return wrap(op, "", fmt.Errorf("%w: seq 0 extends no chain", gateway.ErrConflict))
	}
	if e.Personal != nil && e.Personal.Salt == "" {
		return wrap(op, "", fmt.Errorf("%w: a personal part without salt", gateway.ErrInvalid))
	}
	stored, part := e.SplitPersonal()
	data, err := json.Marshal(stored)
	if err != nil {
		return wrap(op, "", err)
	}
	partData := []byte{}
	if e.Personal != nil {
		if partData, err = json.Marshal(part); err != nil {
			return wrap(op, "", err)
		}
	}
	err = s.durable(ctx, func(rc redis.Scripter) error {
		code, err := appendAuditScript.Run(ctx, rc,
			[]string{s.auditKey(e.Chain, "log"), s.auditKey(e.Chain, "head"), s.chainsKey(), s.auditKey(e.Chain, "personal")},
			e.Chain, strconv.FormatUint(e.Seq-1, 10), e.Prev, strconv.FormatUint(e.Seq, 10), e.Hash, data, partData).Int64()
		if err == nil && code == refusedNotHead {
			err = fmt.Errorf("%w: the entry does not extend the chain's head", gateway.ErrConflict)
		}
		return err
	})
	return wrap(op, "", err)
}

// AuditHead returns the head record of a chain, its personal part joined
// back; the zero entry when none.
func (s *Store) AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error) {
	data, err := s.rdb.HGet(ctx, s.auditKey(chain, "head"), "entry").Bytes()
	if errors.Is(err, redis.Nil) {
		return gateway.AuditEntry{}, nil
	}
	if err != nil {
		return gateway.AuditEntry{}, wrap("audit head of chain "+chain, "", err)
	}
	var e gateway.AuditEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return gateway.AuditEntry{}, wrap("audit head of chain "+chain+": decode", "", err)
	}
	joined, err := s.joinPersonal(ctx, chain, []gateway.AuditEntry{e})
	if err != nil {
		return gateway.AuditEntry{}, wrap("audit head of chain "+chain, "", err)
	}
	return joined[0], nil
}

// joinPersonal joins the kept personal parts back into entries of chain,
// with one HMGET.
func (s *Store) joinPersonal(ctx context.Context, chain string, es []gateway.AuditEntry) ([]gateway.AuditEntry, error) {
	var fields []string
	var at []int
	for i, e := range es {
		if e.Personal != nil {
			fields = append(fields, strconv.FormatUint(e.Seq, 10))
			at = append(at, i)
		}
	}
	if len(fields) == 0 {
		return es, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.auditKey(chain, "personal"), fields...).Result()
	if err != nil {
		return nil, err
	}
	for j, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // expired
		}
		var part gateway.AuditPersonalPart
		if err := json.Unmarshal([]byte(str), &part); err != nil {
			return nil, fmt.Errorf("decode the personal part of seq %s: %w", fields[j], err)
		}
		es[at[j]] = es[at[j]].JoinPersonal(part)
	}
	return es, nil
}

// WalkAudit calls fn for every stored entry of a chain, in list order,
// reading batch entries per LRANGE and their personal parts per HMGET.
func (s *Store) WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error {
	op := "walk audit chain " + chain
	key := s.auditKey(chain, "log")
	for start := int64(0); ; start += batch {
		vals, err := s.rdb.LRange(ctx, key, start, start+batch-1).Result()
		if err != nil {
			return wrap(op, "", err)
		}
		es := make([]gateway.AuditEntry, len(vals))
		for i, v := range vals {
			if err := json.Unmarshal([]byte(v), &es[i]); err != nil {
				return wrap(fmt.Sprintf("%s: decode entry at index %d", op, start+int64(i)), "", err)
			}
		}
		if es, err = s.joinPersonal(ctx, chain, es); err != nil {
			return wrap(op, "", err)
		}
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(vals) < batch {
			return nil
		}
	}
}

// DeleteAuditPersonal deletes side records of a chain's entries (HDEL) and
// returns how many existed.
func (s *Store) DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error) {
	n := 0
	for part := range slices.Chunk(seqs, batch) {
		fields := make([]string, len(part))
		for i, seq := range part {
			fields[i] = strconv.FormatUint(seq, 10)
		}
		k, err := s.rdb.HDel(ctx, s.auditKey(chain, "personal"), fields...).Result()
		if err != nil {
			return n, wrap("delete personal parts of audit chain "+chain, "", err)
		}
		n += int(k)
	}
	return n, nil
}

// AuditChains lists the chains, ordered by name.
func (s *Store) AuditChains(ctx context.Context) ([]string, error) {
	chains, err := s.rdb.ZRange(ctx, s.chainsKey(), 0, -1).Result()
	if err != nil {
		return nil, wrap("list audit chains", "", err)
	}
	if len(chains) == 0 {
		return nil, nil
	}
	return chains, nil
}
