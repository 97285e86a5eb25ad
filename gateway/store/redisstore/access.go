package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Tokens belong to no school: "p tokens" (id → JSON Token) and
// "p tokens:byhash" (hash → id), kept in step by one script. The status
// records of a school are "p {s}:conncheck" and "p {s}:schedule" (JSON);
// DeleteSchool sweeps them with the rest of the school.

func (s *Store) tokensKey() string { return s.prefix + "tokens" }

func (s *Store) tokensByHashKey() string { return s.prefix + "tokens:byhash" }

var (
	// KEYS tokens, byhash; ARGV id, hash, JSON token. Drops the index entry
	// of the token's old hash when the hash changes.
	putTokenScript = script(`
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return -5 end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local prev = cjson.decode(old).hash
  if type(prev) == 'string' and prev ~= ARGV[2] and redis.call('HGET', KEYS[2], prev) == ARGV[1] then
    redis.call('HDEL', KEYS[2], prev)
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 0`)

	// KEYS tokens, byhash; ARGV hash. Returns the JSON token, or nil.
	tokenByHashScript = script(`
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[1], id)`)

	// KEYS school, record; ARGV JSON. Writes a record of a known school.
	putRecordScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('SET', KEYS[2], ARGV[1])
return 0`)
)

// PutToken creates or replaces a token by ID; a hash another token has is
// ErrConflict.
func (s *Store) PutToken(ctx context.Context, t gateway.Token) error {
	op := "put token " + t.ID
	if t.ID == "" || t.Hash == "" {
		return wrap(op, "", fmt.Errorf("%w: empty id or hash", gateway.ErrInvalid))
	}
	data, err := json.Marshal(t)
	if err != nil {
		return wrap(op, "", err)
	}
	code, err := putTokenScript.Run(ctx, s.rdb, []string{s.tokensKey(), s.tokensByHashKey()}, t.ID, t.Hash, data).Int64()
	if err == nil {
		err = refusal(code, "")
	}
	return wrap(op, "", err)
}

// TokenByHash finds a token by its hash, or ErrNotFound. The hash itself is
// never put into an error.
func (s *Store) TokenByHash(ctx context.Context, hash string) (gateway.Token, error) {
	if hash == "" {
		return gateway.Token{}, wrap("token by hash", "", fmt.Errorf("token: %w", gateway.ErrNotFound))
	}
	data, err := tokenByHashScript.Run(ctx, s.rdb, []string{s.tokensKey(), s.tokensByHashKey()}, hash).Text()
	if errors.Is(err, redis.Nil) {
		err = fmt.Errorf("token: %w", gateway.ErrNotFound)
	}
	if err != nil {
		return gateway.Token{}, wrap("token by hash", "", err)
	}
	var t gateway.Token
	if err := json.Unmarshal([]byte(data), &t); err != nil {
		return gateway.Token{}, wrap("token by hash: decode", "", err)
	}
	return t, nil
}

// Tokens lists every token, ordered by ID.
func (s *Store) Tokens(ctx context.Context) ([]gateway.Token, error) {
	vals, err := s.rdb.HVals(ctx, s.tokensKey()).Result()
	if err != nil {
		return nil, wrap("list tokens", "", err)
	}
	ts, err := decodeAll[gateway.Token](vals, "", "list tokens")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b gateway.Token) int { return cmp.Compare(a.ID, b.ID) })
	return ts, nil
}

// putRecord writes a JSON record of a known school.
func (s *Store) putRecord(ctx context.Context, id gateway.SchoolID, what string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	code, err := putRecordScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, what)}, data).Int64()
	if err != nil {
		return err
	}
	return refused(code, id)
}

// getRecord decodes a JSON record of a known school into v and reports
// whether it was there.
func (s *Store) getRecord(ctx context.Context, id gateway.SchoolID, what string, v any) (bool, error) {
	var ex *redis.IntCmd
	var get *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ex = p.Exists(ctx, s.key(id, "school"))
		get = p.Get(ctx, s.key(id, what))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, err
	}
	if ex.Val() == 0 {
		return false, fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	}
	data, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(data, v)
}

// PutConnectionCheck replaces the school's last connection check.
func (s *Store) PutConnectionCheck(ctx context.Context, id gateway.SchoolID, c gateway.ConnectionCheck) error {
	return wrap("put connection check", id, s.putRecord(ctx, id, "conncheck", c))
}

// ConnectionCheck returns the school's last connection check, or
// ErrNotFound when none was stored.
func (s *Store) ConnectionCheck(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error) {
	var c gateway.ConnectionCheck
	found, err := s.getRecord(ctx, id, "conncheck", &c)
	if err == nil && !found {
		err = fmt.Errorf("no connection check yet: %w", gateway.ErrNotFound)
	}
	if err != nil {
		return gateway.ConnectionCheck{}, wrap("connection check", id, err)
	}
	return c, nil
}

// PutScheduleState replaces what the scheduler remembers of the school.
func (s *Store) PutScheduleState(ctx context.Context, id gateway.SchoolID, st gateway.ScheduleState) error {
	return wrap("put schedule state", id, s.putRecord(ctx, id, "schedule", st))
}

// ScheduleState returns the school's schedule state; the zero state when
// none was stored.
func (s *Store) ScheduleState(ctx context.Context, id gateway.SchoolID) (gateway.ScheduleState, error) {
	var st gateway.ScheduleState
	if _, err := s.getRecord(ctx, id, "schedule", &st); err != nil {
		return gateway.ScheduleState{}, wrap("schedule state", id, err)
	}
	return st, nil
}

// UpdateToken changes one token with a compare-and-set on its stored
// bytes (a Lua script), reading again when another writer came between.
func (s *Store) UpdateToken(ctx context.Context, id string, fn func(*gateway.Token) error) (gateway.Token, error) {
	op := "update token " + id
	for range updateAttempts {
		old, err := s.rdb.HGet(ctx, s.tokensKey(), id).Bytes()
		if errors.Is(err, redis.Nil) {
			return gateway.Token{}, wrap(op, "", fmt.Errorf("token: %w", gateway.ErrNotFound))
		} else if err != nil {
			return gateway.Token{}, wrap(op, "", err)
		}
		var t gateway.Token
		if err := json.Unmarshal(old, &t); err != nil {
			return gateway.Token{}, wrap(op+": decode", "", err)
		}
		prev := t
		if err := fn(&t); err != nil {
			return gateway.Token{}, err
		}
		if t.ID != prev.ID || t.Hash != prev.Hash {
			return gateway.Token{}, wrap(op, "", fmt.Errorf("%w: the id and hash of a token cannot change", gateway.ErrInvalid))
		}
		data, err := json.Marshal(t)
		if err != nil {
			return gateway.Token{}, wrap(op, "", err)
		}
		code, err := updateTokenScript.Run(ctx, s.rdb, []string{s.tokensKey()}, id, old, data).Int64()
		if err != nil {
			return gateway.Token{}, wrap(op, "", err)
		}
		switch code {
		case 0:
			return t, nil
		case -1:
			return gateway.Token{}, wrap(op, "", fmt.Errorf("token: %w", gateway.ErrNotFound))
		}
	}
	return gateway.Token{}, wrap(op, "", fmt.Errorf("%w: the token kept changing (%d attempts)", gateway.ErrConflict, updateAttempts))
}
