package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Top-level buckets beside the schools' (see doc.go). None starts with
// schoolPrefix, so DeleteSchool, Schools and the cleanup on Open never
// touch them.
var (
	bktAudit   = []byte("audit")
	bktLogins  = []byte("logins")
	bktSecrets = []byte("secrets")

	keyHead = []byte("head") // in a chain's bucket; entry keys are 8 bytes long
)

// walkPage is how many records a walk decodes per read transaction.
const walkPage = 500

// chainBucket returns the bucket of an audit chain, or nil.
func chainBucket(tx *bolt.Tx, chain string) *bolt.Bucket {
	ab := tx.Bucket(bktAudit)
	if ab == nil {
		return nil
	}
	return ab.Bucket([]byte(chain))
}

// AppendAudit appends e when it extends the chain's head, and makes it the
// new head, in one transaction; otherwise it returns ErrConflict.
func (s *Store) AppendAudit(ctx context.Context, e gateway.AuditEntry) error {
	if e.Chain == "" {
		return fmt.Errorf("append audit: %w: empty chain", gateway.ErrInvalid)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append audit chain %s seq %d: %w", e.Chain, e.Seq, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		ab, err := tx.CreateBucketIfNotExists(bktAudit)
		if err != nil {
			return err
		}
		cb, err := ab.CreateBucketIfNotExists([]byte(e.Chain))
		if err != nil {
			return err
		}
		var head gateway.AuditEntry
		if h := cb.Get(keyHead); h != nil {
			if err := json.Unmarshal(h, &head); err != nil {
				return fmt.Errorf("decode head: %w", err)
			}
		}
		if e.Seq != head.Seq+1 || e.Prev != head.Hash {
			return fmt.Errorf("%w: the chain's head is seq %d", gateway.ErrConflict, head.Seq)
		}
		if cb.Get(u64(e.Seq)) != nil {
			// Only a store changed behind our back gets here; never
			// overwrite an entry. Verification will say what happened.
			return fmt.Errorf("an entry with this seq is already stored beyond the head record: the chain was tampered with")
		}
		if err := cb.Put(u64(e.Seq), data); err != nil {
			return err
		}
		return cb.Put(keyHead, data)
	})
	if err != nil {
		return fmt.Errorf("append audit chain %s seq %d: %w", e.Chain, e.Seq, err)
	}
	return nil
}

// AuditHead returns the head record of a chain; the zero entry when none.
func (s *Store) AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error) {
	var head gateway.AuditEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cb := chainBucket(tx, chain)
		if cb == nil {
			return nil
		}
		if h := cb.Get(keyHead); h != nil {
			return json.Unmarshal(h, &head)
		}
		return nil
	})
	if err != nil {
		return gateway.AuditEntry{}, fmt.Errorf("audit head of chain %s: %w", chain, err)
	}
	return head, nil
}

// WalkAudit calls fn for every stored entry of a chain in key (sequence)
// order, decoding walkPage entries per read transaction; fn runs outside
// any transaction and may use the store.
func (s *Store) WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error {
	err := s.walkRecords(ctx,
		func(tx *bolt.Tx) *bolt.Bucket { return chainBucket(tx, chain) },
		func(k, v []byte) (func() error, error) {
			if len(k) != 8 {
				return nil, nil // the head record
			}
			var e gateway.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return nil, fmt.Errorf("decode entry %x: %w", k, err)
			}
			return func() error { return fn(e) }, nil
		})
	if err != nil {
		return fmt.Errorf("walk audit chain %s: %w", chain, err)
	}
	return nil
}

// AuditChains lists the chains, ordered by name.
func (s *Store) AuditChains(ctx context.Context) ([]string, error) {
	var out []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ab := tx.Bucket(bktAudit)
		if ab == nil {
			return nil
		}
		return ab.ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	return out, nil
}

// walkRecords visits the key/value pairs of the bucket that find returns, in
// key order, walkPage records per read transaction. decode turns a pair
// into a call to make outside the transaction (nil to skip the pair); the
// calls of a page run after its transaction ends, so they may use the store.
// Nested buckets are skipped.
func (s *Store) walkRecords(ctx context.Context, find func(*bolt.Tx) *bolt.Bucket, decode func(k, v []byte) (func() error, error)) error {
	var after []byte
	for {
		page := make([]func() error, 0, walkPage)
		err := s.view(ctx, func(tx *bolt.Tx) error {
			b := find(tx)
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
			for ; k != nil && len(page) < walkPage; k, v = c.Next() {
				after = bytes.Clone(k)
				if v == nil {
					continue
				}
				call, err := decode(k, v)
				if err != nil {
					return err
				}
				if call != nil {
					page = append(page, call)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, call := range page {
			if err := call(); err != nil {
				return err
			}
		}
		if len(page) < walkPage {
			return nil
		}
	}
}
