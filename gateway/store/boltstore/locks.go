package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Keys of the sync lock in a school's bucket (see doc.go).
var (
	keyLock    = []byte("lock")    // the Lock, JSON; absent when free
	keyLockSeq = []byte("lockseq") // last fencing token issued (8-byte big-endian)
)

// readLock returns the school's lock record, and whether there is one.
func readLock(sb *bolt.Bucket) (gateway.Lock, bool, error) {
	data := sb.Get(keyLock)
	if data == nil {
		return gateway.Lock{}, false, nil
	}
	var l gateway.Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return gateway.Lock{}, false, fmt.Errorf("decode lock: %w", err)
	}
	return l, true, nil
}

// heldWith returns the school's lock record, or ErrConflict unless it
// carries token. A lapsed lock nobody took over still counts as held: only
// another acquisition (or a release) ends it.
func heldWith(sb *bolt.Bucket, token uint64) (gateway.Lock, error) {
	l, ok, err := readLock(sb)
	if err != nil {
		return gateway.Lock{}, err
	}
	if !ok || l.Token != token {
		return gateway.Lock{}, fmt.Errorf("%w: the sync lock is no longer held with fencing token %d", gateway.ErrConflict, token)
	}
	return l, nil
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: lock ttl %s is not positive", gateway.ErrInvalid, ttl)
	}
	return nil
}

// AcquireLock takes the school's lock when it is free or lapsed (Until <=
// now), with a fencing token one above the last one issued for the school.
// A lock held until after now is ErrConflict, also for the same owner.
func (s *Store) AcquireLock(ctx context.Context, id gateway.SchoolID, owner string, ttl time.Duration, now time.Time) (gateway.Lock, error) {
	if owner == "" {
		return gateway.Lock{}, fmt.Errorf("acquire lock of school %s: %w: empty owner", id, gateway.ErrInvalid)
	}
	if err := checkTTL(ttl); err != nil {
		return gateway.Lock{}, fmt.Errorf("acquire lock of school %s: %w", id, err)
	}
	var l gateway.Lock
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		cur, held, err := readLock(sb)
		if err != nil {
			return err
		}
		if held && cur.Until.After(now) {
			return fmt.Errorf("%w: the sync lock is held until %s", gateway.ErrConflict, cur.Until.UTC().Format(time.RFC3339))
		}
		tok := gen(sb, keyLockSeq) + 1
		if err := sb.Put(keyLockSeq, u64(tok)); err != nil {
			return err
		}
		l = gateway.Lock{School: id, Owner: owner, Token: tok, Until: now.Add(ttl)}
		return putJSON(sb, keyLock, l)
	})
	if err != nil {
		return gateway.Lock{}, fmt.Errorf("acquire lock of school %s: %w", id, err)
	}
	return l, nil
}

// RenewLock moves Until to now+ttl while the lock is held with l.Token. A
// lock that lapsed but was not taken over by anyone may still be renewed.
func (s *Store) RenewLock(ctx context.Context, l gateway.Lock, ttl time.Duration, now time.Time) (gateway.Lock, error) {
	if err := checkTTL(ttl); err != nil {
		return gateway.Lock{}, fmt.Errorf("renew lock %d of school %s: %w", l.Token, l.School, err)
	}
	var out gateway.Lock
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, l.School)
		if err != nil {
			return err
		}
		cur, err := heldWith(sb, l.Token)
		if err != nil {
			return err
		}
		cur.Until = now.Add(ttl)
		out = cur
		return putJSON(sb, keyLock, cur)
	})
	if err != nil {
		return gateway.Lock{}, fmt.Errorf("renew lock %d of school %s: %w", l.Token, l.School, err)
	}
	return out, nil
}

// ReleaseLock deletes the lock when it is held with l.Token; otherwise it
// changes nothing and returns ErrConflict. The token counter stays.
func (s *Store) ReleaseLock(ctx context.Context, l gateway.Lock) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, l.School)
		if err != nil {
			return err
		}
		if _, err := heldWith(sb, l.Token); err != nil {
			return err
		}
		return sb.Delete(keyLock)
	})
	if err != nil {
		return fmt.Errorf("release lock %d of school %s: %w", l.Token, l.School, err)
	}
	return nil
}

// fenceOf returns the fencing token the options ask a stage to check (the
// last Fence given), 0 for none. A fence of another school, or without a
// token, is ErrInvalid.
func fenceOf(id gateway.SchoolID, opts []gateway.StageOption) (uint64, error) {
	var tok uint64
	for _, o := range opts {
		if o.Fence == nil {
			continue
		}
		if o.Fence.School != id || o.Fence.Token == 0 {
			return 0, fmt.Errorf("%w: the fence is not a lock of school %s", gateway.ErrInvalid, id)
		}
		tok = o.Fence.Token
	}
	return tok, nil
}

// checkFence fails with ErrConflict when a fence is set and the school's
// lock is not held with it.
func checkFence(sb *bolt.Bucket, fence uint64) error {
	if fence == 0 {
		return nil
	}
	_, err := heldWith(sb, fence)
	return err
}
