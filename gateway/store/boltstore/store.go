package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for the file lock held by another
	// process; 0 means 1s.
	LockTimeout time.Duration
}

// Store is a gateway.Store in one bbolt file. It is safe for concurrent use.
type Store struct {
	path    string
	timeout time.Duration

	// dbmu guards db: every transaction holds it for reading, Compact and
	// Close for writing (Compact replaces db with the rewritten file).
	dbmu   sync.RWMutex
	db     *bolt.DB
	closed bool

	mu      sync.Mutex
	readers map[genRef]int // walks in progress per generation

	lmu    sync.Mutex
	leases map[string]lease // claims of outbox batches, by school and batch
}

type genRef struct {
	school gateway.SchoolID
	gen    uint64
}

var _ gateway.Store = (*Store)(nil)

// Open opens or creates the store file at path (mode 0600) and removes
// staging areas and generations left over from an earlier process (see
// doc.go); kept staging areas survive. A file left beside it by a Compact
// that did not finish (path + ".compact") is removed.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := openLocked(path, timeout)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(path + compactSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		db.Close()
		return nil, fmt.Errorf("open store %s: remove an unfinished compaction: %w", path, err)
	}
	s := &Store{path: path, timeout: timeout, db: db, readers: map[genRef]int{}, leases: map[string]lease{}}
	if err := db.Update(cleanup); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: clean up: %w", path, err)
	}
	return s, nil
}

// openLocked opens the bbolt file at path with its file lock. A process that
// waited for the lock while the holder compacted the file may get the lock
// of the old file, already replaced at path: openLocked then checks that
// path still names the file it locked, and tries again when not.
func openLocked(path string, timeout time.Duration) (*bolt.DB, error) {
	for try := 0; ; try++ {
		before, statErr := os.Stat(path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: %w: data dir is in use by another uwlr-gateway process", path, gateway.ErrConflict)
		}
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		after, err := os.Stat(path)
		if err == nil && (statErr != nil || os.SameFile(before, after)) {
			return db, nil
		}
		db.Close()
		if try == 3 {
			return nil, fmt.Errorf("open store %s: %w: the file keeps being replaced (data dir is in use by another uwlr-gateway process)", path, gateway.ErrConflict)
		}
	}
}

// cleanup deletes every generation that is neither current nor a kept
// staging area, and the staging keys of a staging area not kept.
func cleanup(tx *bolt.Tx) error {
	c := tx.Cursor()
	prefix := []byte(schoolPrefix)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if v != nil {
			continue
		}
		sb := tx.Bucket(k)
		keep := map[uint64]bool{gen(sb, keyCurrent): true}
		if sb.Get(keyKept) != nil {
			keep[gen(sb, keyStaging)] = true
		} else {
			for _, key := range [][]byte{keyStaging, keyStageRun} {
				if err := sb.Delete(key); err != nil {
					return err
				}
			}
		}
		if err := dropGens(sb, func(g uint64) bool { return !keep[g] }); err != nil {
			return err
		}
		if err := sb.DeleteBucket(bktRetired); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return nil
}

// dropGens deletes the generations of a school for which drop is true.
func dropGens(sb *bolt.Bucket, drop func(uint64) bool) error {
	gens := sb.Bucket(bktGens)
	if gens == nil {
		return nil
	}
	var doomed [][]byte
	err := gens.ForEachBucket(func(k []byte) error {
		if g := genOf(k); g != 0 && drop(g) {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := gens.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.dbmu.Lock()
	defer s.dbmu.Unlock()
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// view runs fn in a read transaction after checking ctx.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.viewDB(fn)
}

// update runs fn in a write transaction after checking ctx.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.updateDB(fn)
}

// viewDB runs fn in a read transaction of the current file.
func (s *Store) viewDB(fn func(*bolt.Tx) error) error {
	s.dbmu.RLock()
	defer s.dbmu.RUnlock()
	return s.db.View(fn)
}

// updateDB runs fn in a write transaction of the current file.
func (s *Store) updateDB(fn func(*bolt.Tx) error) error {
	s.dbmu.RLock()
	defer s.dbmu.RUnlock()
	return s.db.Update(fn)
}

// PutSchool creates or replaces a school; its data is kept.
func (s *Store) PutSchool(ctx context.Context, sc gateway.School) error {
	if sc.ID == "" {
		return fmt.Errorf("put school: %w: empty id", gateway.ErrInvalid)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := tx.CreateBucketIfNotExists(schoolBucketName(sc.ID))
		if err != nil {
			return err
		}
		return putJSON(sb, keySchool, sc)
	})
	if err != nil {
		return fmt.Errorf("put school %s: %w", sc.ID, err)
	}
	return nil
}

// School returns one school.
func (s *Store) School(ctx context.Context, id gateway.SchoolID) (gateway.School, error) {
	var sc gateway.School
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		return decode(sb.Get(keySchool), &sc)
	})
	if err != nil {
		return gateway.School{}, fmt.Errorf("get school %s: %w", id, err)
	}
	return sc, nil
}

// UpdateSchool reads, changes and writes a school in one write transaction,
// so no other writer comes between (bbolt has one writer at a time); fn runs
// once, inside the transaction.
func (s *Store) UpdateSchool(ctx context.Context, id gateway.SchoolID, fn func(*gateway.School) error) (gateway.School, error) {
	var out gateway.School
	var fnErr error
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		var sc gateway.School
		if err := decode(sb.Get(keySchool), &sc); err != nil {
			return err
		}
		if fnErr = fn(&sc); fnErr != nil {
			return fnErr
		}
		if sc.ID != id {
			return fmt.Errorf("%w: the id cannot change", gateway.ErrInvalid)
		}
		out = sc
		return putJSON(sb, keySchool, sc)
	})
	if fnErr != nil {
		return gateway.School{}, fnErr
	}
	if err != nil {
		return gateway.School{}, fmt.Errorf("update school %s: %w", id, err)
	}
	return out, nil
}

// Schools lists every school, ordered by id.
func (s *Store) Schools(ctx context.Context) ([]gateway.School, error) {
	var out []gateway.School
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Cursor()
		prefix := []byte(schoolPrefix)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if v != nil {
				continue
			}
			var sc gateway.School
			if err := decode(tx.Bucket(k).Get(keySchool), &sc); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, sc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list schools: %w", err)
	}
	return out, nil
}

// DeleteSchool removes the school and everything of it.
func (s *Store) DeleteSchool(ctx context.Context, id gateway.SchoolID) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		err := tx.DeleteBucket(schoolBucketName(id))
		if errors.Is(err, bolterrors.ErrBucketNotFound) {
			return fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete school %s: %w", id, err)
	}
	return nil
}

// SetConsent applies one change and appends it to the history.
func (s *Store) SetConsent(ctx context.Context, c gateway.ConsentChange) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, c.School)
		if err != nil {
			return err
		}
		cb, err := sb.CreateBucketIfNotExists(bktConsent)
		if err != nil {
			return err
		}
		if err := putJSON(cb, []byte(c.Processing), c.New); err != nil {
			return err
		}
		hb, err := sb.CreateBucketIfNotExists(bktHistory)
		if err != nil {
			return err
		}
		seq, err := hb.NextSequence()
		if err != nil {
			return err
		}
		return putJSON(hb, u64(seq), c)
	})
	if err != nil {
		return fmt.Errorf("set consent %s of school %s: %w", c.Processing, c.School, err)
	}
	return nil
}

// Consent returns the processings the school opted in to.
func (s *Store) Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error) {
	out := gateway.Consent{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		cb := sb.Bucket(bktConsent)
		if cb == nil {
			return nil
		}
		return cb.ForEach(func(k, v []byte) error {
			var on bool
			if err := decode(v, &on); err != nil {
				return err
			}
			if on {
				out[gateway.Processing(k)] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("get consent of school %s: %w", id, err)
	}
	return out, nil
}

// ConsentHistory returns every change, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, id gateway.SchoolID) ([]gateway.ConsentChange, error) {
	var out []gateway.ConsentChange
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		out, err = listJSON[gateway.ConsentChange](sb.Bucket(bktHistory))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get consent history of school %s: %w", id, err)
	}
	return out, nil
}

// AddSyncRun records a run.
func (s *Store) AddSyncRun(ctx context.Context, r gateway.SyncRun) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, r.School)
		if err != nil {
			return err
		}
		rb, err := sb.CreateBucketIfNotExists(bktRuns)
		if err != nil {
			return err
		}
		seq, err := rb.NextSequence()
		if err != nil {
			return err
		}
		return putJSON(rb, u64(seq), r)
	})
	if err != nil {
		return fmt.Errorf("add sync run %s of school %s: %w", r.ID, r.School, err)
	}
	return nil
}

// SyncRuns returns the school's runs, most recently added first, at most
// limit (all when limit <= 0).
func (s *Store) SyncRuns(ctx context.Context, id gateway.SchoolID, limit int) ([]gateway.SyncRun, error) {
	var out []gateway.SyncRun
	err := s.view(ctx, func(tx *bolt.Tx) error {
		sb, err := schoolBucket(tx, id)
		if err != nil {
			return err
		}
		rb := sb.Bucket(bktRuns)
		if rb == nil {
			return nil
		}
		c := rb.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r gateway.SyncRun
			if err := decode(v, &r); err != nil {
				return fmt.Errorf("run %x: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sync runs of school %s: %w", id, err)
	}
	return out, nil
}
