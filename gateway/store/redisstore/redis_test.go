package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

const sid = gateway.SchoolID("12AB00")

func putSchool(t *testing.T, s gateway.Store, id gateway.SchoolID) {
	t.Helper()
	err := s.PutSchool(t.Context(), gateway.School{ID: id, Brin: string(id[:4]), Dependancecode: string(id[4:]), Endpoint: "https://las.example", SealedKey: []byte{1}})
	if err != nil {
		t.Fatalf("PutSchool: %v", err)
	}
}

func somePupils(id gateway.SchoolID, marker string, n int) []gateway.Pupil {
	ps := make([]gateway.Pupil, n)
	for i := range ps {
		ps[i] = gateway.Pupil{ID: gateway.PupilID(fmt.Sprintf("p%05d", (i*7919)%n)), School: id, LastName: marker}
	}
	return ps
}

// commit stages and commits n pupils marked with marker, plus a teacher and groups.
func commit(t *testing.T, s gateway.Store, id gateway.SchoolID, run, marker string, n int) {
	t.Helper()
	ctx := t.Context()
	st, err := s.Stage(ctx, id, run)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if err := st.PutPupils(ctx, somePupils(id, marker, n)); err != nil {
		t.Fatalf("PutPupils: %v", err)
	}
	if err := st.PutTeachers(ctx, []gateway.Teacher{{School: id, Key: "t1", LastName: marker}}); err != nil {
		t.Fatalf("PutTeachers: %v", err)
	}
	if err := st.PutGroups(ctx, []gateway.Group{{School: id, Key: "g1"}}, []gateway.CompositeGroup{{School: id, Key: "c1"}}); err != nil {
		t.Fatalf("PutGroups: %v", err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func readMarkers(t *testing.T, s gateway.Store, id gateway.SchoolID) (n int, markers []string) {
	t.Helper()
	var last gateway.PupilID
	err := s.Pupils(t.Context(), id, func(p gateway.Pupil) error {
		if p.ID <= last {
			return fmt.Errorf("pupil %s after %s: not ordered", p.ID, last)
		}
		last = p.ID
		n++
		if !slices.Contains(markers, p.LastName) {
			markers = append(markers, p.LastName)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Pupils: %v", err)
	}
	return n, markers
}

func TestSnapshotRoundTrip(t *testing.T) {
	s, _ := openStore(t)
	putSchool(t, s, sid)
	if n, _ := readMarkers(t, s, sid); n != 0 {
		t.Fatalf("empty school has %d pupils", n)
	}
	commit(t, s, sid, "run1", "old", 1234)
	if n, m := readMarkers(t, s, sid); n != 1234 || !slices.Equal(m, []string{"old"}) {
		t.Fatalf("got %d pupils with markers %v, want 1234 old", n, m)
	}
	ts, err := s.Teachers(t.Context(), sid)
	if err != nil || len(ts) != 1 || ts[0].LastName != "old" {
		t.Fatalf("Teachers = %v, %v", ts, err)
	}
	gs, cs, err := s.Groups(t.Context(), sid)
	if err != nil || len(gs) != 1 || len(cs) != 1 {
		t.Fatalf("Groups = %v, %v, %v", gs, cs, err)
	}
}

// After Commit, with no reader active, no key of the old generation is left.
func TestCommitDropsOldGeneration(t *testing.T) {
	s, prefix := openStore(t)
	putSchool(t, s, sid)
	commit(t, s, sid, "run1", "old", 600)
	base := escape(prefix + "{" + string(sid) + "}:")
	if ks := keys(t, base+"g1:*"); len(ks) == 0 {
		t.Fatalf("generation 1 has no keys after the first commit; key layout changed?")
	}
	commit(t, s, sid, "run2", "new", 10)
	if ks := keys(t, base+"g1:*"); len(ks) != 0 {
		t.Errorf("keys of the old generation left after Commit: %v", ks)
	}
	if ks := keys(t, base+"retired"); len(ks) != 0 {
		t.Errorf("retired set left with no reader active: %v", ks)
	}
	if n, m := readMarkers(t, s, sid); n != 10 || !slices.Equal(m, []string{"new"}) {
		t.Errorf("got %d pupils with markers %v, want 10 new", n, m)
	}
}

// A walk that is under way when Commit swaps the snapshot keeps reading the
// old generation to the end; the old keys go when the walk ends.
func TestCommitDuringWalk(t *testing.T) {
	s, prefix := openStore(t)
	putSchool(t, s, sid)
	commit(t, s, sid, "run1", "old", 2500)
	n, committed := 0, false
	err := s.Pupils(t.Context(), sid, func(p gateway.Pupil) error {
		if p.LastName != "old" {
			return fmt.Errorf("pupil %d has marker %q mid-walk", n, p.LastName)
		}
		n++
		if n == 1 {
			commit(t, s, sid, "run2", "new", 3)
			committed = true
		}
		return nil
	})
	if err != nil || !committed || n != 2500 {
		t.Fatalf("walk: %d pupils, committed %v, err %v; want 2500 old", n, committed, err)
	}
	if ks := keys(t, escape(prefix+"{"+string(sid)+"}:")+"g1:*"); len(ks) != 0 {
		t.Errorf("keys of the old generation left after the walk ended: %v", ks)
	}
	if n, m := readMarkers(t, s, sid); n != 3 || !slices.Equal(m, []string{"new"}) {
		t.Errorf("after: %d pupils with markers %v, want 3 new", n, m)
	}
}

// Readers racing a series of commits see one snapshot each, whole.
func TestConcurrentReadersSeeWholeSnapshots(t *testing.T) {
	s, _ := openStore(t)
	putSchool(t, s, sid)
	commit(t, s, sid, "run0", "m0", 1500)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for ctx.Err() == nil {
				n, marker := 0, ""
				err := s.Pupils(ctx, sid, func(p gateway.Pupil) error {
					if marker == "" {
						marker = p.LastName
					} else if p.LastName != marker {
						return fmt.Errorf("mixed snapshot: %q then %q", marker, p.LastName)
					}
					n++
					return nil
				})
				if err == nil && n != 1500 {
					err = fmt.Errorf("snapshot %s has %d pupils, want 1500", marker, n)
				}
				if err != nil && !errors.Is(err, context.Canceled) {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 1; i <= 10; i++ {
		commit(t, s, sid, fmt.Sprint("run", i), fmt.Sprint("m", i), 1500)
	}
	cancel()
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// DeleteSchool leaves no key of the school, and touches no other school.
func TestDeleteSchoolLeavesNoKeys(t *testing.T) {
	s, prefix := openStore(t)
	ctx := t.Context()
	other := gateway.SchoolID("12AB01")
	for _, id := range []gateway.SchoolID{sid, other} {
		putSchool(t, s, id)
		commit(t, s, id, "run1", "a", 50)
		if err := s.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, New: true, By: "x", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSyncRun(ctx, gateway.SyncRun{ID: "r1", School: id, Status: gateway.SyncApplied}); err != nil {
			t.Fatal(err)
		}
		st, err := s.Stage(ctx, id, "run2")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutPupils(ctx, somePupils(id, "b", 20)); err != nil {
			t.Fatal(err)
		}
		if err := st.Keep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := len(keys(t, escape(prefix+"{"+string(other)+"}")+"*"))
	if err := s.DeleteSchool(ctx, sid); err != nil {
		t.Fatalf("DeleteSchool: %v", err)
	}
	if ks := keys(t, escape(prefix+"{"+string(sid)+"}")+"*"); len(ks) != 0 {
		t.Errorf("keys of the deleted school remain: %v", ks)
	}
	if after := len(keys(t, escape(prefix+"{"+string(other)+"}")+"*")); after != before || after == 0 {
		t.Errorf("other school had %d keys, now %d", before, after)
	}
	if err := s.DeleteSchool(ctx, sid); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("second DeleteSchool: %v, want ErrNotFound", err)
	}
}

// A stage of a deleted school can write nothing, so it leaves no keys.
func TestStageOfDeletedSchoolWritesNothing(t *testing.T) {
	s, prefix := openStore(t)
	ctx := t.Context()
	putSchool(t, s, sid)
	st, err := s.Stage(ctx, sid, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSchool(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if err := st.PutPupils(ctx, somePupils(sid, "x", 10)); !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("PutPupils after DeleteSchool: %v, want ErrConflict", err)
	}
	if err := st.Commit(ctx); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Commit after DeleteSchool: %v, want ErrNotFound", err)
	}
	if ks := keys(t, escape(prefix)+"*"); len(ks) != 0 {
		t.Errorf("keys left: %v", ks)
	}
}

// Open never puts the password of the URL into its error.
func TestOpenErrorsHidePassword(t *testing.T) {
	const secret = "s3cr3tPa55"
	host := strings.TrimPrefix(redisURL(), "redis://")
	host, _, _ = strings.Cut(host, "/")
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	for _, url := range []string{
		"redis://user:" + secret + "@127.0.0.1:notaport/0",
		"redis://user:" + secret + "@127.0.0.1:6379/notadb",
		"redis://user:" + secret + "@127.0.0.1:6379/0?bogus=1",
		"redis://:" + secret + "@%zz/0",
		"ftp://user:" + secret + "@127.0.0.1/0",
		"redis://user:" + secret + "@127.0.0.1:1/0",    // nothing listens
		"redis://nouser:" + secret + "@" + host + "/0", // wrong credentials
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		s, err := redisstore.Open(ctx, url, "uwlrtest:open:")
		cancel()
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", strings.ReplaceAll(url, secret, "xxxxx"))
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error leaks the password: %v", err)
		}
		t.Logf("%v", err)
	}
	if _, err := redisstore.Open(t.Context(), "redis://nouser:"+secret+"@"+host+"/0", "uwlrtest:open:"); !errors.Is(err, gateway.ErrForbidden) {
		t.Errorf("Open with wrong credentials: %v, want ErrForbidden", err)
	}
	if _, err := redisstore.Open(t.Context(), "redis://127.0.0.1:1/0", "uwlrtest:open:"); !errors.Is(err, gateway.ErrTransient) {
		t.Errorf("Open with nothing listening: %v, want ErrTransient", err)
	}
	if _, err := redisstore.Open(t.Context(), redisURL(), ""); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("Open with empty prefix: %v, want ErrInvalid", err)
	}
}
