package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

const (
	// compactSuffix names the file Compact writes beside the store file.
	compactSuffix = ".compact"
	// compactTxMax bounds the bytes one transaction of the copy writes, so
	// memory stays flat however large the file.
	compactTxMax = 16 << 20
)

// Compact rewrites the store file without its free pages. bbolt never
// overwrites a page in place: a deleted record (a purged pupil, an expired
// login) stays readable in a free page of the file until that page happens
// to be reused. Retention calls Compact after a purge that deleted
// something, so that nothing of what it deleted stays in the file.
//
// Compact holds the store's own lock for writing while it runs: every other
// call of the store waits for it (none fails), and goes on on the new file.
// It copies every bucket, key and bucket sequence into a new file beside the
// store file (path + ".compact"), syncs it, renames it over the store file
// and syncs the directory; only then does it close the old file. The
// rename is atomic, so a crash at any moment leaves either the old or the
// new file at path, never neither; an unfinished copy is removed by the next
// Open (or the next Compact). The new file is locked before the rename, so
// another process never gets the store file while it is replaced. On an
// error before the rename the old file stays in use, unchanged.
//
// The blocks of the old file are released to the file system, not
// overwritten: on a disk without encryption at rest they may stay readable
// to someone who reads the raw device.
func (s *Store) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compact store: %w", err)
	}
	s.dbmu.Lock()
	defer s.dbmu.Unlock()
	if s.closed {
		return fmt.Errorf("compact store: %w", bolterrors.ErrDatabaseNotOpen)
	}
	tmp := s.path + compactSuffix
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("compact store: remove an unfinished compaction: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.timeout})
	if err != nil {
		return fmt.Errorf("compact store: create the new file: %w", err)
	}
	fail := func(step string, err error) error {
		return errors.Join(fmt.Errorf("compact store: %s: %w", step, err), dst.Close(), os.Remove(tmp))
	}
	if err := bolt.Compact(dst, s.db, compactTxMax); err != nil {
		return fail("copy", err)
	}
	if err := dst.Sync(); err != nil {
		return fail("sync the new file", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail("replace the store file", err)
	}
	// From here on the new file is the store file, whatever fails next.
	old := s.db
	s.db = dst
	var errs []error
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		errs = append(errs, fmt.Errorf("compact store: sync the directory: %w", err))
	}
	if err := old.Close(); err != nil {
		errs = append(errs, fmt.Errorf("compact store: close the old file: %w", err))
	}
	return errors.Join(errs...)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
