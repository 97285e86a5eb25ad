package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Admin API tokens live in the top-level bucket bktTokens (see doc.go);
// the status records of a school are keys of its bucket.
var (
	bktTokens       = []byte("tokens")
	bktTokensByID   = []byte("ids")    // token id -> Token, JSON
	bktTokensByHash = []byte("byhash") // Token.Hash -> token id

	keyConnCheck = []byte("conncheck") // ConnectionCheck, JSON
	keySchedule  = []byte("schedule")  // ScheduleState, JSON
)

// tokenBuckets returns the two token buckets, creating them in a write
// transaction; in a read transaction they are nil until the first PutToken.
func tokenBuckets(tx *bolt.Tx) (byID, byHash *bolt.Bucket, err error) {
	if !tx.Writable() {
		if tb := tx.Bucket(bktTokens); tb != nil {
			return tb.Bucket(bktTokensByID), tb.Bucket(bktTokensByHash), nil
		}
		return nil, nil, nil
	}
	tb, err := tx.CreateBucketIfNotExists(bktTokens)
	if err != nil {
		return nil, nil, err
	}
	if byID, err = tb.CreateBucketIfNotExists(bktTokensByID); err != nil {
		return nil, nil, err
	}
	byHash, err = tb.CreateBucketIfNotExists(bktTokensByHash)
	return byID, byHash, err
}

// PutToken creates or replaces a token by ID, keeping the hash index in
// step in the same transaction. A hash that another token has is
// ErrConflict.
func (s *Store) PutToken(ctx context.Context, t gateway.Token) error {
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("put token %s: %w: empty id or hash", t.ID, gateway.ErrInvalid)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("put token %s: %w", t.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		byID, byHash, err := tokenBuckets(tx)
		if err != nil {
			return err
		}
		if owner := byHash.Get([]byte(t.Hash)); owner != nil && string(owner) != t.ID {
			return fmt.Errorf("%w: another token has this hash", gateway.ErrConflict)
		}
		if old := byID.Get([]byte(t.ID)); old != nil {
			var prev gateway.Token
			if err := json.Unmarshal(old, &prev); err != nil {
				return fmt.Errorf("decode stored token: %w", err)
			}
			if prev.Hash != t.Hash && bytes.Equal(byHash.Get([]byte(prev.Hash)), []byte(t.ID)) {
				if err := byHash.Delete([]byte(prev.Hash)); err != nil {
					return err
				}
			}
		}
		if err := byID.Put([]byte(t.ID), data); err != nil {
			return err
		}
		return byHash.Put([]byte(t.Hash), []byte(t.ID))
	})
	if err != nil {
		return fmt.Errorf("put token %s: %w", t.ID, err)
	}
	return nil
}

// TokenByHash finds a token by its hash, or ErrNotFound. The hash itself is
// never put into an error.
func (s *Store) TokenByHash(ctx context.Context, hash string) (gateway.Token, error) {
	var t gateway.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		byID, byHash, err := tokenBuckets(tx)
		if err != nil {
			return err
		}
		if byHash == nil || hash == "" {
			return fmt.Errorf("token: %w", gateway.ErrNotFound)
		}
		id := byHash.Get([]byte(hash))
		if id == nil {
			return fmt.Errorf("token: %w", gateway.ErrNotFound)
		}
		data := byID.Get(id)
		if data == nil {
			return fmt.Errorf("token %s: index points at a missing record", id)
		}
		return json.Unmarshal(data, &t)
	})
	if err != nil {
		return gateway.Token{}, fmt.Errorf("token by hash: %w", err)
	}
	return t, nil
}

// Tokens lists every token, ordered by ID (the key order of the bucket).
func (s *Store) Tokens(ctx context.Context) ([]gateway.Token, error) {
	var out []gateway.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		byID, _, err := tokenBuckets(tx)
		if err != nil {
			return err
		}
		out, err = listJSON[gateway.Token](byID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// putSchoolRecord writes one JSON record into the bucket of a known school.
func (s *Store) putSchoolRecord(ctx context.Context, id gateway.SchoolID, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		return sb.Put(key, data)
	})
}

// getSchoolRecord decodes one JSON record of a known school into v and
// reports whether it was there.
func (s *Store) getSchoolRecord(ctx context.Context, id gateway.SchoolID, key []byte, v any) (bool, error) {
	found := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		data := sb.Get(key)
		if data == nil {
			return nil
		}
		found = true
		return json.Unmarshal(data, v)
	})
	return found, err
}

// PutConnectionCheck replaces the school's last connection check.
func (s *Store) PutConnectionCheck(ctx context.Context, id gateway.SchoolID, c gateway.ConnectionCheck) error {
	if err := s.putSchoolRecord(ctx, id, keyConnCheck, c); err != nil {
		return fmt.Errorf("put connection check of school %s: %w", id, err)
	}
	return nil
}

// ConnectionCheck returns the school's last connection check, or
// ErrNotFound when none was stored.
func (s *Store) ConnectionCheck(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error) {
	var c gateway.ConnectionCheck
	found, err := s.getSchoolRecord(ctx, id, keyConnCheck, &c)
	if err == nil && !found {
		err = fmt.Errorf("no connection check yet: %w", gateway.ErrNotFound)
	}
	if err != nil {
		return gateway.ConnectionCheck{}, fmt.Errorf("connection check of school %s: %w", id, err)
	}
	return c, nil
}

// PutScheduleState replaces what the scheduler remembers of the school.
func (s *Store) PutScheduleState(ctx context.Context, id gateway.SchoolID, st gateway.ScheduleState) error {
	if err := s.putSchoolRecord(ctx, id, keySchedule, st); err != nil {
		return fmt.Errorf("put schedule state of school %s: %w", id, err)
	}
	return nil
}

// ScheduleState returns the school's schedule state; the zero state when
// none was stored.
func (s *Store) ScheduleState(ctx context.Context, id gateway.SchoolID) (gateway.ScheduleState, error) {
	var st gateway.ScheduleState
	if _, err := s.getSchoolRecord(ctx, id, keySchedule, &st); err != nil {
		return gateway.ScheduleState{}, fmt.Errorf("schedule state of school %s: %w", id, err)
	}
	return st, nil
}

// UpdateToken changes one token in one transaction.
func (s *Store) UpdateToken(ctx context.Context, id string, fn func(*gateway.Token) error) (gateway.Token, error) {
	var out gateway.Token
	err := s.update(ctx, func(tx *bolt.Tx) error {
		byID, _, err := tokenBuckets(tx)
		if err != nil {
			return err
		}
		old := byID.Get([]byte(id))
		if old == nil {
			return fmt.Errorf("token %s: %w", id, gateway.ErrNotFound)
		}
		var t gateway.Token
		if err := json.Unmarshal(old, &t); err != nil {
			return fmt.Errorf("decode stored token: %w", err)
		}
		prev := t
		if err := fn(&t); err != nil {
			return err
		}
		if t.ID != prev.ID || t.Hash != prev.Hash {
			return fmt.Errorf("%w: the id and hash of a token cannot change", gateway.ErrInvalid)
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		out = t
		return byID.Put([]byte(id), data)
	})
	if err != nil {
		return gateway.Token{}, fmt.Errorf("update token %s: %w", id, err)
	}
	return out, nil
}
