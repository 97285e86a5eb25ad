package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// pageSize is how many pupils a walk decodes per read transaction.
const pageSize = 500

// Pupils calls fn for every pupil of the current snapshot, ordered by id.
// fn runs outside any transaction and may use the store.
func (s *Store) Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error {
	ref, err := s.pin(ctx, id)
	if err != nil {
		return fmt.Errorf("list pupils of school %s: %w", id, err)
	}
	if ref.gen == 0 {
		return nil
	}
	defer s.unpin(ref)
	err = s.walk(ctx, func(tx *bolt.Tx) (*bolt.Bucket, error) {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return nil, err
		}
		gb := genBucket(sb, ref.gen)
		if gb == nil {
			return nil, fmt.Errorf("snapshot %d is gone", ref.gen)
		}
		return gb.Bucket(bktPupils), nil
	}, fn)
	if err != nil {
		return fmt.Errorf("list pupils of school %s: %w", id, err)
	}
	return nil
}

// pin finds the current generation of a school and counts a walk of it, so
// that a commit does not delete it under the walk. gen 0: no snapshot.
func (s *Store) pin(ctx context.Context, id gateway.SchoolID) (genRef, error) {
	ref := genRef{school: id}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		ref.gen = gen(sb, keyCurrent)
		return nil
	})
	if err == nil && ref.gen != 0 {
		s.readers[ref]++
	}
	return ref, err
}

// unpin ends a walk and deletes the generation if it was retired and this
// was its last walk.
func (s *Store) unpin(ref genRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readers[ref]--
	if s.readers[ref] > 0 {
		return
	}
	delete(s.readers, ref)
	_ = s.reapLocked(ref.school) // best effort: Open cleans up what is left
}

// reapLocked deletes the retired generations of a school that no walk
// reads. s.mu must be held.
func (s *Store) reapLocked(id gateway.SchoolID) error {
	var doomed []uint64
	err := s.viewDB(func(tx *bolt.Tx) error {
		sb := tx.Bucket(schoolBucketName(id))
		if sb == nil {
			return nil
		}
		rb := sb.Bucket(bktRetired)
		if rb == nil {
			return nil
		}
		return rb.ForEach(func(k, _ []byte) error {
			if g := genOf(k); g != 0 && s.readers[genRef{id, g}] == 0 {
				doomed = append(doomed, g)
			}
			return nil
		})
	})
	if err != nil || len(doomed) == 0 {
		return err
	}
	return s.updateDB(func(tx *bolt.Tx) error {
		sb := tx.Bucket(schoolBucketName(id))
		if sb == nil {
			return nil
		}
		rb := sb.Bucket(bktRetired)
		for _, g := range doomed {
			if err := rb.Delete(u64(g)); err != nil {
				return err
			}
		}
		gone := map[uint64]bool{}
		for _, g := range doomed {
			gone[g] = true
		}
		return dropGens(sb, func(g uint64) bool { return gone[g] })
	})
}

// walk decodes the pupils of the bucket that find returns, page by page,
// each page in its own read transaction, and calls fn outside of them.
func (s *Store) walk(ctx context.Context, find func(*bolt.Tx) (*bolt.Bucket, error), fn func(gateway.Pupil) error) error {
	var after []byte
	for {
		page := make([]gateway.Pupil, 0, pageSize)
		err := s.view(ctx, func(tx *bolt.Tx) error {
			b, err := find(tx)
			if err != nil || b == nil {
				return err
			}
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(page) < pageSize; k, v = c.Next() {
				var p gateway.Pupil
				if err := json.Unmarshal(v, &p); err != nil {
					return fmt.Errorf("decode pupil %s: %w", k, err)
				}
				page = append(page, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < pageSize {
			return nil
		}
		after = []byte(page[len(page)-1].ID)
	}
}

// Teachers returns the current teachers, ordered by key.
func (s *Store) Teachers(ctx context.Context, id gateway.SchoolID) ([]gateway.Teacher, error) {
	var out []gateway.Teacher
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		if gb := genBucket(sb, gen(sb, keyCurrent)); gb != nil {
			out, err = listJSON[gateway.Teacher](gb.Bucket(bktTeachers))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list teachers of school %s: %w", id, err)
	}
	return out, nil
}

// Groups returns the current home and composite groups, ordered by key.
func (s *Store) Groups(ctx context.Context, id gateway.SchoolID) ([]gateway.Group, []gateway.CompositeGroup, error) {
	var gs []gateway.Group
	var cs []gateway.CompositeGroup
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		gb := genBucket(sb, gen(sb, keyCurrent))
		if gb == nil {
			return nil
		}
		if gs, err = listJSON[gateway.Group](gb.Bucket(bktGroups)); err != nil {
			return err
		}
		cs, err = listJSON[gateway.CompositeGroup](gb.Bucket(bktComposites))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list groups of school %s: %w", id, err)
	}
	return gs, cs, nil
}
