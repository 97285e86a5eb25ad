package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func walkLogins(t *testing.T, s gateway.Store) []gateway.Login {
	t.Helper()
	var out []gateway.Login
	if err := s.WalkLogins(ctxFor(t), func(l gateway.Login) error { out = append(out, l); return nil }); err != nil {
		t.Fatalf("WalkLogins: %v", err)
	}
	return out
}

// sortedLogins orders logins as WalkLogins must: by At, then ID.
func sortedLogins(ls []gateway.Login) []gateway.Login {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b gateway.Login) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ls
}

func addLogins(t *testing.T, s gateway.Store, ls []gateway.Login) {
	t.Helper()
	for _, l := range ls {
		if err := s.AddLogin(ctxFor(t), l); err != nil {
			t.Fatalf("AddLogin(%s): %v", l.ID, err)
		}
	}
}

// someLogins returns logins in no particular order, with equal times, times
// apart by a nanosecond, other zones, the zero time and times before 1970.
func someLogins() []gateway.Login {
	cet := time.FixedZone("CET", 3600)
	return []gateway.Login{
		{ID: "b", Account: "admin-1", School: "12AB00", Pupil: "p1", At: t1, OK: true},
		{ID: "a", Account: "admin-1", School: "12AB00", At: t1, OK: false},
		{ID: "c", Account: "admin-2", At: t1.Add(-time.Nanosecond), OK: true},
		{ID: "ab", Account: "admin-2", At: t1.In(cet), OK: true},
		{ID: "z", Account: "", At: time.Time{}},
		{ID: "old", Account: "admin-3", At: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), OK: true},
		{ID: "new", Account: "admin-3", School: "34CD00", At: t0.Add(1000 * time.Hour), OK: true},
		{ID: "id with spaces/ and:{braces}", Account: "x", At: t0},
	}
}

func testLoginsRoundTrip(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	if got := walkLogins(t, s); len(got) != 0 {
		t.Errorf("WalkLogins of an empty store: %v", got)
	}
	ls := someLogins()
	addLogins(t, s, ls)
	checkEqual(t, "WalkLogins", walkLogins(t, s), sortedLogins(ls))

	// The same id replaces the record, also its place in the order.
	moved := gateway.Login{ID: "c", Account: "admin-9", At: t0.Add(-time.Hour), OK: false}
	addLogins(t, s, []gateway.Login{moved})
	ls[2] = moved
	checkEqual(t, "WalkLogins after replacing c", walkLogins(t, s), sortedLogins(ls))

	if err := s.AddLogin(ctx, gateway.Login{Account: "x", At: t0}); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("AddLogin without an id: %v, want ErrInvalid", err)
	}
	checkEqual(t, "WalkLogins after a refused add", walkLogins(t, s), sortedLogins(ls))
}

func testLoginsDelete(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	ls := someLogins()
	addLogins(t, s, ls)
	tests := []struct {
		ids  []string
		want int
	}{
		{nil, 0},
		{[]string{"unknown", ""}, 0},
		{[]string{"a", "unknown", "old", "a"}, 2},
		{[]string{"a", "old"}, 0},
		{[]string{"id with spaces/ and:{braces}"}, 1},
	}
	gone := map[string]bool{}
	for _, tc := range tests {
		n, err := s.DeleteLogins(ctx, tc.ids)
		if err != nil || n != tc.want {
			t.Errorf("DeleteLogins(%q) = %d, %v; want %d", tc.ids, n, err, tc.want)
		}
		for _, id := range tc.ids {
			gone[id] = true
		}
		left := slices.DeleteFunc(slices.Clone(ls), func(l gateway.Login) bool { return gone[l.ID] })
		checkEqual(t, fmt.Sprintf("WalkLogins after DeleteLogins(%q)", tc.ids), walkLogins(t, s), sortedLogins(left))
	}
	// A deleted id can be used again.
	again := gateway.Login{ID: "a", Account: "admin-1", At: t0}
	addLogins(t, s, []gateway.Login{again})
	if got := walkLogins(t, s); len(got) < 2 || !equal(got[1], again) {
		t.Errorf("WalkLogins after adding a deleted id again: %+v", got)
	}
}

func testLoginsWalk(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const n = 1100 // more than one page of any sensible size
	ls := make([]gateway.Login, n)
	for i := range ls {
		// Shuffled times, several logins per instant.
		ls[i] = gateway.Login{ID: fmt.Sprintf("l%04d", (i*7919)%n), Account: "admin", At: t0.Add(time.Duration((i*31)%97) * time.Microsecond), OK: i%3 != 0}
	}
	addLogins(t, s, ls)
	checkEqual(t, "WalkLogins", walkLogins(t, s), sortedLogins(ls))

	stop := errors.New("stop here")
	calls := 0
	err := s.WalkLogins(ctx, func(gateway.Login) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("WalkLogins: got %v after %d calls, want the callback's error after 3", err, calls)
	}

	// fn may use the store: delete each record as it is seen (retention).
	seen := 0
	err = s.WalkLogins(ctx, func(l gateway.Login) error {
		seen++
		_, err := s.DeleteLogins(ctx, []string{l.ID})
		return err
	})
	if err != nil || seen != n {
		t.Errorf("WalkLogins deleting from fn: %v after %d of %d", err, seen, n)
	}
	if got := walkLogins(t, s); len(got) != 0 {
		t.Errorf("%d logins left after deleting all", len(got))
	}
}

func testGatewaySecrets(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	_, err := s.GatewaySecret(ctx, "evidence")
	checkNotFound(t, "GatewaySecret of an empty store", err)

	v1, v2, v3 := []byte("sealed\x00one\xff"), []byte("two"), []byte("three")
	steps := []struct {
		name     string
		v        []byte
		ifAbsent bool
		want     []byte
	}{
		{"first, if absent", v1, true, v1},
		{"second, if absent", v2, true, v1},
		{"replace", v3, false, v3},
		{"again, if absent", v2, true, v3},
	}
	for _, st := range steps {
		got, err := s.PutGatewaySecret(ctx, "evidence", bytes.Clone(st.v), st.ifAbsent)
		if err != nil || !bytes.Equal(got, st.want) {
			t.Errorf("%s: PutGatewaySecret = %q, %v; want %q", st.name, got, err, st.want)
		}
		stored, err := s.GatewaySecret(ctx, "evidence")
		if err != nil || !bytes.Equal(stored, st.want) {
			t.Errorf("%s: GatewaySecret = %q, %v; want %q", st.name, stored, err, st.want)
		}
	}

	// Names are separate; returned bytes belong to the caller.
	if _, err := s.PutGatewaySecret(ctx, "other", v1, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.GatewaySecret(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'X'
	if again, err := s.GatewaySecret(ctx, "other"); err != nil || !bytes.Equal(again, v1) {
		t.Errorf("GatewaySecret after changing a returned slice: %q, %v", again, err)
	}
	if stored, err := s.GatewaySecret(ctx, "evidence"); err != nil || !bytes.Equal(stored, v3) {
		t.Errorf("GatewaySecret(evidence) after putting other: %q, %v", stored, err)
	}

	for _, tc := range []struct {
		name string
		v    []byte
	}{{"", v1}, {"empty", nil}, {"empty", []byte{}}} {
		for _, ifAbsent := range []bool{false, true} {
			if _, err := s.PutGatewaySecret(ctx, tc.name, tc.v, ifAbsent); !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("PutGatewaySecret(%q, %q, %v): %v, want ErrInvalid", tc.name, tc.v, ifAbsent, err)
			}
		}
	}
	_, err = s.GatewaySecret(ctx, "empty")
	checkNotFound(t, "GatewaySecret after refused puts", err)
}

// testGatewaySecretRace: processes racing to create the same secret all end
// with the one value that won.
func testGatewaySecretRace(t *testing.T, s gateway.Store) {
	const racers = 8
	ctx := ctxFor(t)
	results := make([][]byte, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.PutGatewaySecret(ctx, "evidence", []byte(fmt.Sprint("key-", i)), true)
			if err != nil {
				t.Errorf("racer %d: PutGatewaySecret: %v", i, err)
			}
			results[i] = v
		}()
	}
	wg.Wait()
	stored, err := s.GatewaySecret(ctx, "evidence")
	if err != nil {
		t.Fatalf("GatewaySecret: %v", err)
	}
	if !strings.HasPrefix(string(stored), "key-") {
		t.Errorf("stored %q, not one of the racers' values", stored)
	}
	for i, v := range results {
		if !bytes.Equal(v, stored) {
			t.Errorf("racer %d got %q, stored is %q", i, v, stored)
		}
	}
}
