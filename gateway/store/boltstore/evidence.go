package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// PutEvidence stores one evidence record (with its document) in the
// school's "evidence" bucket.
func (s *Store) PutEvidence(ctx context.Context, e gateway.Evidence) error {
	if e.ID == "" {
		return fmt.Errorf("put evidence of school %s: %w: evidence without id", e.School, gateway.ErrInvalid)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, e.School)
		if err != nil {
			return err
		}
		eb, err := sb.CreateBucketIfNotExists(bktEvidence)
		if err != nil {
			return err
		}
		return putJSON(eb, []byte(e.ID), e)
	})
	if err != nil {
		return fmt.Errorf("put evidence %s of school %s: %w", e.ID, e.School, err)
	}
	return nil
}

// Evidence returns one record with its document.
func (s *Store) Evidence(ctx context.Context, id gateway.SchoolID, evID string) (gateway.Evidence, error) {
	var e gateway.Evidence
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		eb := sb.Bucket(bktEvidence)
		var v []byte
		if eb != nil {
			v = eb.Get([]byte(evID))
		}
		if v == nil {
			return fmt.Errorf("evidence %s: %w", evID, gateway.ErrNotFound)
		}
		return json.Unmarshal(v, &e)
	})
	if err != nil {
		return gateway.Evidence{}, fmt.Errorf("evidence of school %s: %w", id, err)
	}
	return e, nil
}

// WalkEvidence calls fn for every record of the school, without documents.
func (s *Store) WalkEvidence(ctx context.Context, id gateway.SchoolID, fn func(gateway.Evidence) error) error {
	err := walkPages(ctx, s, id, bktEvidence, func(e gateway.Evidence) error {
		e.Doc = nil
		return fn(e)
	})
	if err != nil {
		return fmt.Errorf("walk evidence of school %s: %w", id, err)
	}
	return nil
}

// DeleteEvidence deletes records by id.
func (s *Store) DeleteEvidence(ctx context.Context, id gateway.SchoolID, ids []string) (int, error) {
	n, err := s.deleteIn(ctx, id, bktEvidence, ids)
	if err != nil {
		return 0, fmt.Errorf("delete evidence of school %s: %w", id, err)
	}
	return n, nil
}

// PupilsByID returns the current pupils with the given ids.
func (s *Store) PupilsByID(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (map[gateway.PupilID]gateway.Pupil, error) {
	out := make(map[gateway.PupilID]gateway.Pupil, len(ids))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		gb := genBucket(sb, gen(sb, keyCurrent))
		if gb == nil {
			return nil
		}
		pb := gb.Bucket(bktPupils)
		for _, p := range ids {
			v := pb.Get([]byte(p))
			if v == nil {
				continue
			}
			var x gateway.Pupil
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("decode pupil %s: %w", p, err)
			}
			out[x.ID] = x
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pupils by id of school %s: %w", id, err)
	}
	return out, nil
}

// PurgePupils deletes pupils from the current snapshot and a kept stage.
func (s *Store) PurgePupils(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		del := func(g uint64, count bool) error {
			gb := genBucket(sb, g)
			if gb == nil {
				return nil
			}
			pb := gb.Bucket(bktPupils)
			if pb == nil {
				return nil
			}
			for _, p := range ids {
				if pb.Get([]byte(p)) == nil {
					continue
				}
				if count {
					n++
				}
				if err := pb.Delete([]byte(p)); err != nil {
					return err
				}
			}
			return nil
		}
		if err := del(gen(sb, keyCurrent), true); err != nil {
			return err
		}
		if sb.Get(keyKept) != nil {
			return del(gen(sb, keyStaging), false)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge pupils of school %s: %w", id, err)
	}
	return n, nil
}
