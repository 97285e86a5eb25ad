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
	// bktPersonal, in a chain's bucket: seq -> AuditPersonalPart, JSON. Its
	// name is not 8 bytes long, so it can never be taken for an entry.
	bktPersonal = []byte("personal-parts")
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
// new head, in one transaction; otherwise it returns ErrConflict. The
// personal part of e goes to the chain's personal bucket in the same
// transaction.
func (s *Store) AppendAudit(ctx context.Context, e gateway.AuditEntry) error {
	if e.Chain == "" {
		return fmt.Errorf("append audit: %w: empty chain", gateway.ErrInvalid)
	}
	if e.Personal != nil && e.Personal.Salt == "" {
		return fmt.Errorf("append audit chain %s seq %d: %w: a personal part without salt", e.Chain, e.Seq, gateway.ErrInvalid)
	}
	stored, part := e.SplitPersonal()
	data, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("append audit chain %s seq %d: %w", e.Chain, e.Seq, err)
	}
	var partData []byte
	if e.Personal != nil {
		if partData, err = json.Marshal(part); err != nil {
			return fmt.Errorf("append audit chain %s seq %d: %w", e.Chain, e.Seq, err)
		}
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
		if partData != nil {
			pb, err := cb.CreateBucketIfNotExists(bktPersonal)
			if err != nil {
				return err
			}
			if err := pb.Put(u64(e.Seq), partData); err != nil {
				return err
			}
		}
		return cb.Put(keyHead, data)
	})
	if err != nil {
		return fmt.Errorf("append audit chain %s seq %d: %w", e.Chain, e.Seq, err)
	}
	return nil
}

// decodeEntry decodes a stored entry of chain bucket cb and joins its
// personal part back when the side record is kept.
func decodeEntry(cb *bolt.Bucket, v []byte) (gateway.AuditEntry, error) {
	var e gateway.AuditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return e, err
	}
	if e.Personal == nil {
		return e, nil
	}
	pb := cb.Bucket(bktPersonal)
	if pb == nil {
		return e, nil
	}
	pv := pb.Get(u64(e.Seq))
	if pv == nil {
		return e, nil
	}
	var part gateway.AuditPersonalPart
	if err := json.Unmarshal(pv, &part); err != nil {
		return e, fmt.Errorf("decode the personal part of seq %d: %w", e.Seq, err)
	}
	return e.JoinPersonal(part), nil
}

// AuditHead returns the head record of a chain; the zero entry when none.
func (s *Store) AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error) {
	var head gateway.AuditEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cb := chainBucket(tx, chain)
		if cb == nil {
			return nil
		}
		h := cb.Get(keyHead)
		if h == nil {
			return nil
		}
		var err error
		head, err = decodeEntry(cb, h)
		return err
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
	var cb *bolt.Bucket
	err := s.walkRecords(ctx,
		func(tx *bolt.Tx) *bolt.Bucket { cb = chainBucket(tx, chain); return cb },
		func(k, v []byte) (func() error, error) {
			if len(k) != 8 {
				return nil, nil // the head record
			}
			e, err := decodeEntry(cb, v)
			if err != nil {
				return nil, fmt.Errorf("decode entry %x: %w", k, err)
			}
			return func() error { return fn(e) }, nil
		})
	if err != nil {
		return fmt.Errorf("walk audit chain %s: %w", chain, err)
	}
	return nil
}

// DeleteAuditPersonal deletes side records of a chain's entries in one
// transaction and returns how many existed.
func (s *Store) DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		cb := chainBucket(tx, chain)
		if cb == nil {
			return nil
		}
		pb := cb.Bucket(bktPersonal)
		if pb == nil {
			return nil
		}
		for _, seq := range seqs {
			if pb.Get(u64(seq)) == nil {
				continue
			}
			if err := pb.Delete(u64(seq)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete personal parts of audit chain %s: %w", chain, err)
	}
	return n, nil
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
