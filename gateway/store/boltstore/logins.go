package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Sub-buckets of bktLogins.
var (
	bktLoginsByAt = []byte("byat") // loginKey -> Login, JSON
	bktLoginsByID = []byte("ids")  // id -> loginKey
)

// loginKey orders logins by time, then id: the seconds since 1970 with the
// sign bit flipped (8 bytes, big-endian, so earlier sorts first also before
// 1970), the nanoseconds (4 bytes, big-endian), then the id.
func loginKey(at time.Time, id string) []byte {
	k := make([]byte, 12, 12+len(id))
	binary.BigEndian.PutUint64(k, uint64(at.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(at.Nanosecond()))
	return append(k, id...)
}

// AddLogin stores a login record; a record with the same id is replaced.
func (s *Store) AddLogin(ctx context.Context, l gateway.Login) error {
	if l.ID == "" {
		return fmt.Errorf("add login: %w: empty id", gateway.ErrInvalid)
	}
	if y := l.At.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("add login %s: %w: time out of range", l.ID, gateway.ErrInvalid)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("add login %s: %w", l.ID, err)
	}
	key := loginKey(l.At, l.ID)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		byAt, byID, err := loginBuckets(tx)
		if err != nil {
			return err
		}
		if old := byID.Get([]byte(l.ID)); old != nil {
			if err := byAt.Delete(bytes.Clone(old)); err != nil {
				return err
			}
		}
		if err := byAt.Put(key, data); err != nil {
			return err
		}
		return byID.Put([]byte(l.ID), key)
	})
	if err != nil {
		return fmt.Errorf("add login %s: %w", l.ID, err)
	}
	return nil
}

func loginBuckets(tx *bolt.Tx) (byAt, byID *bolt.Bucket, err error) {
	lb, err := tx.CreateBucketIfNotExists(bktLogins)
	if err != nil {
		return nil, nil, err
	}
	if byAt, err = lb.CreateBucketIfNotExists(bktLoginsByAt); err != nil {
		return nil, nil, err
	}
	byID, err = lb.CreateBucketIfNotExists(bktLoginsByID)
	return byAt, byID, err
}

// WalkLogins calls fn for every login, oldest first (ties by id), walkPage
// records per read transaction; fn may use the store.
func (s *Store) WalkLogins(ctx context.Context, fn func(gateway.Login) error) error {
	err := s.walkRecords(ctx,
		func(tx *bolt.Tx) *bolt.Bucket {
			if lb := tx.Bucket(bktLogins); lb != nil {
				return lb.Bucket(bktLoginsByAt)
			}
			return nil
		},
		func(k, v []byte) (func() error, error) {
			var l gateway.Login
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, fmt.Errorf("decode login: %w", err)
			}
			return func() error { return fn(l) }, nil
		})
	if err != nil {
		return fmt.Errorf("walk logins: %w", err)
	}
	return nil
}

// DeleteLogins deletes login records by id and returns how many existed.
func (s *Store) DeleteLogins(ctx context.Context, ids []string) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		lb := tx.Bucket(bktLogins)
		if lb == nil {
			return nil
		}
		byAt, byID := lb.Bucket(bktLoginsByAt), lb.Bucket(bktLoginsByID)
		for _, id := range ids {
			if id == "" {
				continue
			}
			key := byID.Get([]byte(id))
			if key == nil {
				continue
			}
			key = bytes.Clone(key)
			if err := byAt.Delete(key); err != nil {
				return err
			}
			if err := byID.Delete([]byte(id)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete %d logins: %w", len(ids), err)
	}
	return n, nil
}

// GatewaySecret returns a gateway secret, or ErrNotFound.
func (s *Store) GatewaySecret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktSecrets); b != nil {
			v = bytes.Clone(b.Get([]byte(name)))
		}
		if v == nil {
			return gateway.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gateway secret %s: %w", name, err)
	}
	return v, nil
}

// PutGatewaySecret stores a gateway secret; with ifAbsent it keeps and
// returns a value already stored, deciding in one transaction.
func (s *Store) PutGatewaySecret(ctx context.Context, name string, v []byte, ifAbsent bool) ([]byte, error) {
	if name == "" || len(v) == 0 {
		return nil, fmt.Errorf("put gateway secret %s: %w: empty name or value", name, gateway.ErrInvalid)
	}
	out := v
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktSecrets)
		if err != nil {
			return err
		}
		if old := b.Get([]byte(name)); ifAbsent && old != nil {
			out = bytes.Clone(old)
			return nil
		}
		out = v
		return b.Put([]byte(name), bytes.Clone(v))
	})
	if err != nil {
		return nil, fmt.Errorf("put gateway secret %s: %w", name, err)
	}
	return out, nil
}
