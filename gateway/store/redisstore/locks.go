package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The sync lock of a school is the hash "p {s}:lock" (owner, token, until)
// and the counter "p {s}:lockseq" that issued its fencing tokens (see
// doc.go). Both carry the school's hash tag, so DeleteSchool sweeps them.
// Times come from the caller, never from Redis TIME, and the lock hash has
// no Redis expiry: a lapsed lock stays until it is released or taken over.
//
// until is stored as "<Unix seconds>.<nanoseconds, 9 digits>" and compared
// in Lua as the pair (seconds, nanoseconds): both fit a Lua number exactly,
// where Unix nanoseconds would not.

var (
	// KEYS school, lock, lockseq; ARGV owner, until, now seconds, now
	// nanoseconds. Returns the new fencing token.
	acquireLockScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local u = redis.call('HGET', KEYS[2], 'until')
if u then
  local us, uns = string.match(u, '^(-?%d+)%.(%d+)$')
  if not us then return redis.error_reply('malformed lock record') end
  us, uns = tonumber(us), tonumber(uns)
  local ns, nns = tonumber(ARGV[3]), tonumber(ARGV[4])
  if us > ns or (us == ns and uns > nns) then return -4 end
end
local tok = redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'token', tok, 'until', ARGV[2])
return tok`)

	// KEYS school, lock; ARGV fencing token, until.
	renewLockScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if fenced(KEYS[2], ARGV[1]) then return -3 end
redis.call('HSET', KEYS[2], 'until', ARGV[2])
return 0`)

	// KEYS school, lock; ARGV fencing token.
	releaseLockScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if fenced(KEYS[2], ARGV[1]) then return -3 end
redis.call('DEL', KEYS[2])
return 0`)
)

// untilText encodes a time for the lock hash (see above).
func untilText(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// refusal turns any script refusal code into an error kind.
func refusal(code int64, id gateway.SchoolID) error {
	switch code {
	case refusedFence:
		return fmt.Errorf("%w: the sync lock of school %s is no longer held with this fencing token", gateway.ErrConflict, id)
	case refusedLockHeld:
		return fmt.Errorf("%w: the sync lock of school %s is held and has not lapsed", gateway.ErrConflict, id)
	case refusedHashUsed:
		return fmt.Errorf("%w: another token has this hash", gateway.ErrConflict)
	}
	return refused(code, id)
}

// AcquireLock takes the school's lock when it is free or lapsed (until <=
// now), with a fencing token from the school's counter (INCR: one above
// every token issued before). A lock held until after now is ErrConflict,
// also for the same owner.
func (s *Store) AcquireLock(ctx context.Context, id gateway.SchoolID, owner string, ttl time.Duration, now time.Time) (gateway.Lock, error) {
	if owner == "" {
		return gateway.Lock{}, fmt.Errorf("redisstore: acquire lock school %s: %w: empty owner", id, gateway.ErrInvalid)
	}
	if ttl <= 0 {
		return gateway.Lock{}, fmt.Errorf("redisstore: acquire lock school %s: %w: ttl %s is not positive", id, gateway.ErrInvalid, ttl)
	}
	until := now.Add(ttl)
	tok, err := acquireLockScript.Run(ctx, s.rdb,
		[]string{s.key(id, "school"), s.key(id, "lock"), s.key(id, "lockseq")},
		owner, untilText(until), now.Unix(), now.Nanosecond()).Int64()
	if err == nil && tok <= 0 {
		err = refusal(tok, id)
	}
	if err != nil {
		return gateway.Lock{}, wrap("acquire lock", id, err)
	}
	return gateway.Lock{School: id, Owner: owner, Token: uint64(tok), Until: until}, nil
}

// RenewLock moves until to now+ttl while the lock is held with l.Token. A
// lock that lapsed but was not taken over by anyone may still be renewed.
func (s *Store) RenewLock(ctx context.Context, l gateway.Lock, ttl time.Duration, now time.Time) (gateway.Lock, error) {
	op := "renew lock " + strconv.FormatUint(l.Token, 10)
	if ttl <= 0 {
		return gateway.Lock{}, wrap(op, l.School, fmt.Errorf("%w: ttl %s is not positive", gateway.ErrInvalid, ttl))
	}
	until := now.Add(ttl)
	code, err := renewLockScript.Run(ctx, s.rdb, []string{s.key(l.School, "school"), s.key(l.School, "lock")},
		strconv.FormatUint(l.Token, 10), untilText(until)).Int64()
	if err == nil {
		err = refusal(code, l.School)
	}
	if err != nil {
		return gateway.Lock{}, wrap(op, l.School, err)
	}
	l.Until = until
	return l, nil
}

// ReleaseLock deletes the lock when it is held with l.Token; otherwise it
// changes nothing and returns ErrConflict. The token counter stays.
func (s *Store) ReleaseLock(ctx context.Context, l gateway.Lock) error {
	op := "release lock " + strconv.FormatUint(l.Token, 10)
	code, err := releaseLockScript.Run(ctx, s.rdb, []string{s.key(l.School, "school"), s.key(l.School, "lock")},
		strconv.FormatUint(l.Token, 10)).Int64()
	if err == nil {
		err = refusal(code, l.School)
	}
	return wrap(op, l.School, err)
}

// fenceOf returns the fencing token the options ask a stage to check (the
// last Fence given) as the scripts compare it, "" for none. A fence of
// another school, or without a token, is ErrInvalid.
func fenceOf(id gateway.SchoolID, opts []gateway.StageOption) (string, error) {
	fence := ""
	for _, o := range opts {
		if o.Fence == nil {
			continue
		}
		if o.Fence.School != id || o.Fence.Token == 0 {
			return "", fmt.Errorf("%w: the fence is not a lock of school %s", gateway.ErrInvalid, id)
		}
		fence = strconv.FormatUint(o.Fence.Token, 10)
	}
	return fence, nil
}

// checkFence fails with ErrConflict unless the school's lock carries fence.
func (s *Store) checkFence(ctx context.Context, id gateway.SchoolID, fence string) error {
	tok, err := s.rdb.HGet(ctx, s.key(id, "lock"), "token").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	if tok != fence {
		return refusal(refusedFence, id)
	}
	return nil
}
