package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
)

const id = gateway.SchoolID("12AB00")

func somePupils(marker string, n int) []gateway.Pupil {
	ps := make([]gateway.Pupil, n)
	for i := range ps {
		ps[i] = gateway.Pupil{ID: gateway.PupilID(fmt.Sprintf("p%05d", i)), School: id, LastName: marker, EckIndex: []byte{byte(i)}}
	}
	return ps
}

func commit(t *testing.T, s gateway.Store, run string, ps []gateway.Pupil) {
	t.Helper()
	st, err := s.Stage(t.Context(), id, run)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if err := st.PutPupils(t.Context(), ps); err != nil {
		t.Fatalf("PutPupils: %v", err)
	}
	if err := st.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// markers returns the count of pupils per LastName of the current snapshot.
func markers(t *testing.T, s gateway.Store) map[string]int {
	t.Helper()
	m := map[string]int{}
	if err := s.Pupils(t.Context(), id, func(p gateway.Pupil) error { m[p.LastName]++; return nil }); err != nil {
		t.Fatalf("Pupils: %v", err)
	}
	return m
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path)
	start := time.Now()
	s, err := boltstore.Open(path, boltstore.Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		s.Close()
		t.Fatal("second Open of a file in use succeeded")
	}
	// Without the lock timeout it would wait for ever; the bound is
	// generous so that a busy machine does not fail it.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("second Open took %v", d)
	}
	if !errors.Is(err, gateway.ErrConflict) || !strings.Contains(err.Error(), "data dir is in use by another uwlr-gateway process") {
		t.Errorf("second Open: %v; want ErrConflict, data dir is in use", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	if err := s.PutSchool(t.Context(), gateway.School{ID: id, Klantnaam: "k"}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, "run1", somePupils("A", 1200))
	if err := s.AddSyncRun(t.Context(), gateway.SyncRun{ID: "run1", School: id, Status: gateway.SyncApplied}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	sc, err := s.School(t.Context(), id)
	if err != nil || sc.Klantnaam != "k" {
		t.Errorf("School after reopen: %+v, %v", sc, err)
	}
	if m := markers(t, s); m["A"] != 1200 || len(m) != 1 {
		t.Errorf("pupils after reopen: %v", m)
	}
	if runs, err := s.SyncRuns(t.Context(), id, 0); err != nil || len(runs) != 1 {
		t.Errorf("SyncRuns after reopen: %v, %v", runs, err)
	}
}

// TestInterruptedStage: a stage never committed (the process died) leaves the
// old snapshot readable, and its data is dropped on the next Open; a kept
// stage survives.
func TestInterruptedStage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	if err := s.PutSchool(t.Context(), gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, "run1", somePupils("OLD", 100))
	st, err := s.Stage(t.Context(), id, "run2")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPupils(t.Context(), somePupils("NEW", 50)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	if m := markers(t, s); m["OLD"] != 100 || len(m) != 1 {
		t.Errorf("pupils after interrupted stage: %v", m)
	}
	if n, err := boltstore.Generations(s, id); err != nil || n != 1 {
		t.Errorf("generations after reopen: %d, %v; want 1 (the orphan stage dropped)", n, err)
	}
	if _, err := s.StagedRun(t.Context(), id); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("StagedRun after reopen: %v", err)
	}
	if err := st.Commit(t.Context()); err == nil {
		t.Error("Commit through a handle of the closed store succeeded")
	}

	// A kept stage survives a restart and can be committed after it.
	st, err = s.Stage(t.Context(), id, "run3")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutPupils(t.Context(), somePupils("HELD", 30)); err != nil {
		t.Fatal(err)
	}
	if err := st.Keep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	held, err := s.OpenStage(t.Context(), id, "run3")
	if err != nil {
		t.Fatalf("OpenStage after reopen: %v", err)
	}
	if err := held.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m := markers(t, s); m["HELD"] != 30 || len(m) != 1 {
		t.Errorf("pupils after committing the kept stage: %v", m)
	}
	if n, err := boltstore.Generations(s, id); err != nil || n != 1 {
		t.Errorf("generations after commit: %d, %v; want 1", n, err)
	}
}

// TestWalkWhileCommitting: a walk may use the store from fn, even commit a
// new snapshot, and still sees the snapshot it started on; the old
// generation is deleted when the walk ends.
func TestWalkWhileCommitting(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "store.db"))
	if err := s.PutSchool(t.Context(), gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, "run1", somePupils("A", 1500))
	seen := map[string]int{}
	err := s.Pupils(t.Context(), id, func(p gateway.Pupil) error {
		seen[p.LastName]++
		if seen[p.LastName] == 10 {
			commit(t, s, "run2", somePupils("B", 1500))
			if n, err := boltstore.Generations(s, id); err != nil || n != 2 {
				t.Errorf("generations during the walk: %d, %v; want 2", n, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Pupils: %v", err)
	}
	if seen["A"] != 1500 || len(seen) != 1 {
		t.Errorf("walk saw %v; want 1500 of A only", seen)
	}
	if m := markers(t, s); m["B"] != 1500 || len(m) != 1 {
		t.Errorf("pupils after the walk: %v", m)
	}
	if n, err := boltstore.Generations(s, id); err != nil || n != 1 {
		t.Errorf("generations after the walk: %d, %v; want 1", n, err)
	}
}

func TestLargeSchoolBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("50k pupils; -short")
	}
	s := open(t, filepath.Join(t.TempDir(), "store.db"))
	if err := s.PutSchool(context.Background(), gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(t.Context(), id, "run1")
	if err != nil {
		t.Fatal(err)
	}
	all := somePupils("X", 50000)
	for i := 0; i < len(all); i += 1000 {
		if err := st.PutPupils(t.Context(), all[i:i+1000]); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := 0
	prev := ""
	err = s.Pupils(t.Context(), id, func(p gateway.Pupil) error {
		if string(p.ID) <= prev {
			return fmt.Errorf("order: %s after %s", p.ID, prev)
		}
		prev = string(p.ID)
		n++
		return nil
	})
	if err != nil || n != 50000 {
		t.Errorf("Pupils: %d, %v", n, err)
	}
}
