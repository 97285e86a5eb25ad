package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Stage starts a new staging area, replacing any earlier one of the school.
// With a fence it first checks, in the same transaction, that the school's
// lock is held with the fence's token (ErrConflict otherwise), so a holder
// that lost the lock cannot drop the new holder's staging area.
func (s *Store) Stage(ctx context.Context, id gateway.SchoolID, runID string, opts ...gateway.StageOption) (gateway.Stage, error) {
	fence, err := fenceOf(id, opts)
	if err != nil {
		return nil, fmt.Errorf("stage run %s of school %s: %w", runID, id, err)
	}
	st := &stage{s: s, school: id, runID: runID, fence: fence}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		if err := checkFence(sb, fence); err != nil {
			return err
		}
		if err := dropStaging(sb); err != nil {
			return err
		}
		gens, err := sb.CreateBucketIfNotExists(bktGens)
		if err != nil {
			return err
		}
		if st.gen, err = gens.NextSequence(); err != nil {
			return err
		}
		gb, err := gens.CreateBucket(u64(st.gen))
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bktPupils, bktTeachers, bktGroups, bktComposites} {
			if _, err := gb.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := sb.Put(keyStaging, u64(st.gen)); err != nil {
			return err
		}
		return sb.Put(keyStageRun, []byte(runID))
	})
	if err != nil {
		return nil, fmt.Errorf("stage run %s of school %s: %w", runID, id, err)
	}
	return st, nil
}

// dropStaging deletes the staging area of a school, if any.
func dropStaging(sb *bolt.Bucket) error {
	g := gen(sb, keyStaging)
	for _, key := range [][]byte{keyStaging, keyStageRun, keyKept} {
		if err := sb.Delete(key); err != nil {
			return err
		}
	}
	if g == 0 {
		return nil
	}
	return dropGens(sb, func(x uint64) bool { return x == g })
}

// StagedRun returns the run id of the kept staging area.
func (s *Store) StagedRun(ctx context.Context, id gateway.SchoolID) (string, error) {
	var run string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		if sb.Get(keyKept) == nil || gen(sb, keyStaging) == 0 {
			return fmt.Errorf("kept stage: %w", gateway.ErrNotFound)
		}
		run = string(sb.Get(keyStageRun))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("staged run of school %s: %w", id, err)
	}
	return run, nil
}

// OpenStage reopens the kept staging area of run runID. With a fence, the
// school's lock must be held with its token (ErrConflict otherwise), now and
// again at Commit.
func (s *Store) OpenStage(ctx context.Context, id gateway.SchoolID, runID string, opts ...gateway.StageOption) (gateway.Stage, error) {
	fence, err := fenceOf(id, opts)
	if err != nil {
		return nil, fmt.Errorf("open stage of run %s of school %s: %w", runID, id, err)
	}
	st := &stage{s: s, school: id, runID: runID, fence: fence}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		st.gen = gen(sb, keyStaging)
		if sb.Get(keyKept) == nil || st.gen == 0 || !bytes.Equal(sb.Get(keyStageRun), []byte(runID)) {
			return fmt.Errorf("kept stage: %w", gateway.ErrNotFound)
		}
		return checkFence(sb, fence)
	})
	if err != nil {
		return nil, fmt.Errorf("open stage of run %s of school %s: %w", runID, id, err)
	}
	return st, nil
}

// stage is one staging area: generation gen of a school, as long as the
// school's "staging" key names it.
type stage struct {
	s      *Store
	school gateway.SchoolID
	runID  string
	gen    uint64
	fence  uint64      // fencing token Commit checks; 0 for none
	ended  atomic.Bool // committed or discarded through this handle
}

func (st *stage) RunID() string { return st.runID }

// update runs fn on the stage's generation bucket in a write transaction,
// after checking that the stage is still the school's staging area.
func (st *stage) update(ctx context.Context, op string, fn func(sb, gb *bolt.Bucket) error) error {
	err := st.check()
	if err == nil {
		err = st.s.update(ctx, func(tx *bolt.Tx) error {
			sb, gb, err := st.buckets(tx)
			if err != nil {
				return err
			}
			return fn(sb, gb)
		})
	}
	if err != nil {
		return fmt.Errorf("%s: stage of run %s of school %s: %w", op, st.runID, st.school, err)
	}
	return nil
}

func (st *stage) check() error {
	if st.ended.Load() {
		return fmt.Errorf("%w: stage already committed or discarded", gateway.ErrConflict)
	}
	return nil
}

// buckets returns the school's bucket and the stage's generation bucket.
func (st *stage) buckets(tx *bolt.Tx) (sb, gb *bolt.Bucket, err error) {
	sb, err = schoolBucket(tx, st.school)
	if err != nil {
		return nil, nil, err
	}
	if gen(sb, keyStaging) != st.gen {
		return nil, nil, fmt.Errorf("%w: replaced by a newer stage", gateway.ErrConflict)
	}
	gb = genBucket(sb, st.gen)
	if gb == nil {
		return nil, nil, fmt.Errorf("%w: stage data is gone", gateway.ErrConflict)
	}
	return sb, gb, nil
}

func (st *stage) PutPupils(ctx context.Context, ps []gateway.Pupil) error {
	return st.update(ctx, "put pupils", func(_, gb *bolt.Bucket) error {
		b := gb.Bucket(bktPupils)
		for _, p := range ps {
			if err := putJSON(b, []byte(p.ID), p); err != nil {
				return fmt.Errorf("pupil %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

func (st *stage) PutTeachers(ctx context.Context, ts []gateway.Teacher) error {
	return st.update(ctx, "put teachers", func(_, gb *bolt.Bucket) error {
		b := gb.Bucket(bktTeachers)
		for _, t := range ts {
			if err := putJSON(b, []byte(t.Key), t); err != nil {
				return fmt.Errorf("teacher %s: %w", t.Key, err)
			}
		}
		return nil
	})
}

func (st *stage) PutGroups(ctx context.Context, gs []gateway.Group, cs []gateway.CompositeGroup) error {
	return st.update(ctx, "put groups", func(_, gb *bolt.Bucket) error {
		b := gb.Bucket(bktGroups)
		for _, g := range gs {
			if err := putJSON(b, []byte(g.Key), g); err != nil {
				return fmt.Errorf("group %s: %w", g.Key, err)
			}
		}
		b = gb.Bucket(bktComposites)
		for _, c := range cs {
			if err := putJSON(b, []byte(c.Key), c); err != nil {
				return fmt.Errorf("composite group %s: %w", c.Key, err)
			}
		}
		return nil
	})
}

// Pupils calls fn for every staged pupil, ordered by id, page by page.
func (st *stage) Pupils(ctx context.Context, fn func(gateway.Pupil) error) error {
	err := st.check()
	if err == nil {
		err = st.s.walk(ctx, func(tx *bolt.Tx) (*bolt.Bucket, error) {
			_, gb, err := st.buckets(tx)
			if err != nil {
				return nil, err
			}
			return gb.Bucket(bktPupils), nil
		}, fn)
	}
	if err != nil {
		return fmt.Errorf("list staged pupils of run %s of school %s: %w", st.runID, st.school, err)
	}
	return nil
}

// Commit makes the stage the school's current snapshot in one transaction;
// the old snapshot is retired and deleted once no walk reads it. A fenced
// stage whose lock is no longer held with its token is refused in that
// transaction (ErrConflict): nothing is written and the handle stays usable,
// so the caller can still Discard it.
func (st *stage) Commit(ctx context.Context) error {
	err := st.update(ctx, "commit", func(sb, _ *bolt.Bucket) error {
		if err := checkFence(sb, st.fence); err != nil {
			return err
		}
		old := gen(sb, keyCurrent)
		if err := sb.Put(keyCurrent, u64(st.gen)); err != nil {
			return err
		}
		for _, key := range [][]byte{keyStaging, keyStageRun, keyKept} {
			if err := sb.Delete(key); err != nil {
				return err
			}
		}
		if old == 0 {
			return nil
		}
		rb, err := sb.CreateBucketIfNotExists(bktRetired)
		if err != nil {
			return err
		}
		return rb.Put(u64(old), []byte{1})
	})
	if err != nil {
		return err
	}
	st.ended.Store(true)
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	_ = st.s.reapLocked(st.school) // best effort: Open cleans up what is left
	return nil
}

// Keep leaves the stage for OpenStage; this handle stays usable.
func (st *stage) Keep(ctx context.Context) error {
	return st.update(ctx, "keep", func(sb, _ *bolt.Bucket) error {
		return sb.Put(keyKept, []byte{1})
	})
}

// Discard deletes the staging area.
func (st *stage) Discard(ctx context.Context) error {
	err := st.update(ctx, "discard", func(sb, _ *bolt.Bucket) error {
		return dropStaging(sb)
	})
	if err != nil {
		return err
	}
	st.ended.Store(true)
	return nil
}
