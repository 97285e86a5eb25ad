package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// MarkPupilsLeft marks pupils of the current snapshot, and the same pupils
// of a kept stage, left on leftOn, in one transaction.
func (s *Store) MarkPupilsLeft(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID, leftOn string) (int, error) {
	if leftOn == "" {
		return 0, fmt.Errorf("mark pupils of school %s left: %w: no date", id, gateway.ErrInvalid)
	}
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		mark := func(g uint64) (int, error) {
			gb := genBucket(sb, g)
			if gb == nil || gb.Bucket(bktPupils) == nil {
				return 0, nil
			}
			pb, marked := gb.Bucket(bktPupils), 0
			for _, p := range ids {
				v := pb.Get([]byte(p))
				if v == nil {
					continue
				}
				var x gateway.Pupil
				if err := json.Unmarshal(v, &x); err != nil {
					return 0, fmt.Errorf("decode pupil %s: %w", p, err)
				}
				if x.LeftOn != "" {
					continue
				}
				x.LeftOn = leftOn
				if err := putJSON(pb, []byte(p), x); err != nil {
					return 0, err
				}
				marked++
			}
			return marked, nil
		}
		if n, err = mark(gen(sb, keyCurrent)); err != nil {
			return err
		}
		if sb.Get(keyKept) != nil {
			_, err = mark(gen(sb, keyStaging))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark pupils of school %s left: %w", id, err)
	}
	return n, nil
}

// ExpireTexts clears the texts of a school's runs, connection check and
// batches dated before before, in one transaction.
func (s *Store) ExpireTexts(ctx context.Context, id gateway.SchoolID, before time.Time) (gateway.ExpiredTexts, error) {
	var out gateway.ExpiredTexts
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = gateway.ExpiredTexts{}
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		if out.SyncRuns, err = rewrite(sb.Bucket(bktRuns), func(r gateway.SyncRun) (gateway.SyncRun, bool) {
			return r.WithoutTexts(), gateway.TextsExpire(r.HasTexts(), r.TextsAt(), before)
		}); err != nil {
			return err
		}
		if out.Batches, err = rewrite(sb.Bucket(bktBatches), func(b gateway.Batch) (gateway.Batch, bool) {
			return b.WithoutTexts(), gateway.TextsExpire(b.HasTexts(), b.TextsAt(), before)
		}); err != nil {
			return err
		}
		if v := sb.Get(keyConnCheck); v != nil {
			var c gateway.ConnectionCheck
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode connection check: %w", err)
			}
			if gateway.TextsExpire(c.HasTexts(), c.TextsAt(), before) {
				out.ConnectionChecks++
				return putJSON(sb, keyConnCheck, c.WithoutTexts())
			}
		}
		return nil
	})
	if err != nil {
		return gateway.ExpiredTexts{}, fmt.Errorf("expire texts of school %s: %w", id, err)
	}
	return out, nil
}

// rewrite replaces every record of b for which change says so with the
// changed record, and returns how many it replaced. b may be nil.
func rewrite[T any](b *bolt.Bucket, change func(T) (T, bool)) (int, error) {
	if b == nil {
		return 0, nil
	}
	type put struct {
		k []byte
		v T
	}
	var todo []put
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		if y, ok := change(x); ok {
			todo = append(todo, put{append([]byte(nil), k...), y})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, p := range todo {
		if err := putJSON(b, p.k, p.v); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}
