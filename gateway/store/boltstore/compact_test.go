package boltstore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
)

var t0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// namedPupils returns n pupils with surnames and birth dates that appear
// nowhere else: tag+"NNN" and a date in year.
func namedPupils(tag string, year, n int) []gateway.Pupil {
	ps := make([]gateway.Pupil, n)
	for i := range ps {
		ps[i] = gateway.Pupil{ID: gateway.PupilID(fmt.Sprintf("%s-%03d", tag, i)), School: id, LASKey: fmt.Sprintf("k-%s-%03d", tag, i),
			LastName: fmt.Sprintf("%s%03d", tag, i), FirstName: "Sanne",
			BirthDate: fmt.Sprintf("%04d-%02d-%02d", year, 1+i%12, 1+i%28), UpdatedAt: t0}
	}
	return ps
}

// inFile counts the pupils whose surname, or birth date, the raw file holds.
func inFile(t *testing.T, path string, ps []gateway.Pupil) (names, births int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if bytes.Contains(raw, []byte(p.LastName)) {
			names++
		}
		if bytes.Contains(raw, []byte(p.BirthDate)) {
			births++
		}
	}
	return names, births
}

// After a purge the file still holds the purged pupils in free pages; after
// Compact it holds none of them, and still every remaining pupil.
func TestCompactRemovesPurgedPupils(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	ctx := t.Context()
	if err := s.PutSchool(ctx, gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	purged, kept := namedPupils("Purged", 2011, 200), namedPupils("Kept", 2016, 50)
	commit(t, s, "run1", append(append([]gateway.Pupil{}, purged...), kept...))
	ids := make([]gateway.PupilID, len(purged))
	for i, p := range purged {
		ids[i] = p.ID
	}
	if n, err := s.PurgePupils(ctx, id, ids); err != nil || n != len(purged) {
		t.Fatalf("PurgePupils = %d, %v", n, err)
	}
	// What the review found: deleted, but still in the file.
	if names, _ := inFile(t, path, purged); names == 0 {
		t.Fatal("before Compact the file holds no purged surname: this test would not notice a missing compaction")
	}

	if err := s.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if names, births := inFile(t, path, purged); names != 0 || births != 0 {
		t.Errorf("after Compact the file holds %d purged surnames and %d purged birth dates", names, births)
	}
	if names, births := inFile(t, path, kept); names != len(kept) || births != len(kept) {
		t.Errorf("after Compact the file holds %d of %d remaining surnames and %d birth dates", names, len(kept), births)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("the compaction file is left beside the store: %v", err)
	}

	// The store goes on, on the new file, and keeps what it writes after.
	if m := markers(t, s); len(m) != len(kept) {
		t.Errorf("pupils after Compact: %d surnames, want %d", len(m), len(kept))
	}
	for _, run := range []string{"r1", "r2"} {
		if err := s.AddSyncRun(ctx, gateway.SyncRun{ID: run, School: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	runs, err := s.SyncRuns(ctx, id, 0)
	if err != nil || len(runs) != 2 || runs[0].ID != "r2" {
		t.Errorf("sync runs after Compact and reopen: %+v, %v; want r2, r1 (bucket sequences kept)", runs, err)
	}
	if m := markers(t, s); len(m) != len(kept) {
		t.Errorf("pupils after reopen: %d surnames, want %d", len(m), len(kept))
	}
}

// A compaction that died before its rename leaves the old file at the
// store's path and its unfinished copy beside it; Open uses the old file and
// removes the copy.
func TestCompactCrashBeforeRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	if err := s.PutSchool(t.Context(), gateway.School{ID: id, Klantnaam: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".compact", []byte("half a bbolt file"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	if sc, err := s.School(t.Context(), id); err != nil || sc.Klantnaam != "k" {
		t.Errorf("School after the interrupted compaction: %+v, %v", sc, err)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Errorf("Open left the unfinished compaction: %v", err)
	}
	// A later Compact works as usual.
	if err := os.WriteFile(path+".compact", []byte("again"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(t.Context()); err != nil {
		t.Fatalf("Compact over a leftover file: %v", err)
	}
	if sc, err := s.School(t.Context(), id); err != nil || sc.Klantnaam != "k" {
		t.Errorf("School after Compact: %+v, %v", sc, err)
	}
}

// Compact while other goroutines read and write, and while a walk is half
// way: no call fails, nothing is lost, and the walk sees every pupil once.
func TestCompactWhileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	ctx := t.Context()
	if err := s.PutSchool(ctx, gateway.School{ID: id}); err != nil {
		t.Fatal(err)
	}
	commit(t, s, "run1", somePupils("A", 1500))

	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				l := gateway.Login{ID: fmt.Sprintf("w%d-%d", w, i), Account: "a", At: t0}
				if err := s.AddLogin(ctx, l); err != nil {
					errs <- err
				}
				if _, err := s.School(ctx, id); err != nil {
					errs <- err
				}
			}
		})
	}
	seen, compactions := 0, 0
	err := s.Pupils(ctx, id, func(p gateway.Pupil) error {
		seen++
		if seen%500 == 1 {
			compactions++
			return s.Compact(ctx)
		}
		return nil
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call during Compact failed: %v", err)
	}
	if err != nil || seen != 1500 || compactions != 3 {
		t.Fatalf("walk across compactions: %d pupils, %d compactions, %v", seen, compactions, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	n := 0
	if err := s.WalkLogins(ctx, func(gateway.Login) error { n++; return nil }); err != nil || n != writers*each {
		t.Errorf("logins after reopen: %d, %v; want %d", n, err, writers*each)
	}
	if m := markers(t, s); m["A"] != 1500 {
		t.Errorf("pupils after reopen: %v", m)
	}
}

// A closed store cannot be compacted.
func TestCompactClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(t.Context()); err == nil {
		t.Error("Compact of a closed store succeeded")
	}
}

// The personal part of an audit entry lives only in its side record: once
// deleted and compacted, none of it is in the file, while the entries are.
func TestCompactRemovesPersonalParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	ctx := t.Context()
	log := audit.New(s, func() time.Time { return t0 })
	var gone, kept []string
	for i := range 20 {
		remote := fmt.Sprintf("198.51.%d.7", i)
		e, err := log.Gateway(ctx, gateway.AuditLogin, fmt.Sprintf("Person%02d", i), map[string]string{"account": fmt.Sprintf("acct%02d", i), "remote": remote, "ok": "true"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 15 {
			gone = append(gone, e.Actor, e.Details["account"], remote, e.Personal.Salt)
			if _, err := s.DeleteAuditPersonal(ctx, e.Chain, []uint64{e.Seq}); err != nil {
				t.Fatal(err)
			}
		} else {
			kept = append(kept, e.Actor, e.Details["account"], remote)
		}
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range gone {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the file holds %q of a deleted personal part", v)
		}
	}
	for _, v := range kept {
		if !bytes.Contains(raw, []byte(v)) {
			t.Errorf("the file lost %q of a kept personal part", v)
		}
	}
	if r, err := audit.Verify(ctx, s); err != nil || !r.OK || r.Entries != 20 {
		t.Errorf("Verify after deleting personal parts and compacting: %+v, %v", r, err)
	}
}
