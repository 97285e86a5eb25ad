package boltstore_test

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

var schoolChain = gateway.AuditChainOf(id)

// fixedClock returns a clock that advances by a second on every call.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 9, 1, 8, 0, 0, 123, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

// fillChains appends n entries to the school's chain and to the gateway chain.
func fillChains(t *testing.T, s gateway.Store, n int) {
	t.Helper()
	log := audit.New(s, fixedClock())
	for i := range n {
		if _, err := log.School(t.Context(), id, gateway.AuditSync, "scheduler", map[string]string{"run": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := log.Gateway(t.Context(), gateway.AuditLogin, "api", nil); err != nil {
			t.Fatal(err)
		}
	}
}

// Writers racing through audit.Log on one store make valid chains.
func TestAuditLogConcurrent(t *testing.T) {
	const writers, each = 8, 25
	s := open(t, filepath.Join(t.TempDir(), "store.db"))
	var wg sync.WaitGroup
	for w := range writers {
		log := audit.New(s, nil) // one Log per writer, as in separate callers
		wg.Go(func() {
			for i := range each {
				if err := appendRacing(t.Context(), log, id, fmt.Sprint("w", w), fmt.Sprint(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r, err := audit.Verify(t.Context(), s)
	if err != nil || !r.OK || r.Chains != 1 || r.Entries != writers*each {
		t.Errorf("Verify = %+v, %v; want 1 chain of %d entries, no problems", r, err, writers*each)
	}
}

// seqKey is the key of an entry in a chain's bucket (see doc.go).
func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getEntry(t *testing.T, b *bolt.Bucket, key []byte) gateway.AuditEntry {
	t.Helper()
	var e gateway.AuditEntry
	if err := json.Unmarshal(b.Get(key), &e); err != nil {
		t.Fatalf("decode %x: %v", key, err)
	}
	return e
}

func putEntry(t *testing.T, b *bolt.Bucket, key []byte, e gateway.AuditEntry) {
	t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(key, data); err != nil {
		t.Fatal(err)
	}
}

// Verify finds tampering done in the bbolt file behind the store's back.
func TestAuditTamperingFound(t *testing.T) {
	const n = 10
	tests := []struct {
		name   string
		tamper func(t *testing.T, audit, chain *bolt.Bucket)
		want   []string // kind@seq of the school chain's problems
		chains int
	}{
		{name: "untouched", tamper: func(*testing.T, *bolt.Bucket, *bolt.Bucket) {}, want: nil},
		{name: "detail edited", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			e := getEntry(t, c, seqKey(4))
			e.Details["run"] = "999"
			putEntry(t, c, seqKey(4), e)
		}, want: []string{"edited@4"}},
		{name: "time edited", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			e := getEntry(t, c, seqKey(4))
			e.At = e.At.Add(-time.Hour)
			putEntry(t, c, seqKey(4), e)
		}, want: []string{"edited@4"}},
		{name: "removed in the middle", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			if err := c.Delete(seqKey(5)); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"removed@5"}},
		{name: "removed at the end", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			for _, k := range []uint64{9, 10} {
				if err := c.Delete(seqKey(k)); err != nil {
					t.Fatal(err)
				}
			}
		}, want: []string{"truncated@10"}},
		{name: "swapped", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			e3, e4 := getEntry(t, c, seqKey(3)), getEntry(t, c, seqKey(4))
			putEntry(t, c, seqKey(3), e4)
			putEntry(t, c, seqKey(4), e3)
		}, want: []string{"reordered@3"}},
		{name: "inserted beyond the head", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			last := getEntry(t, c, seqKey(n))
			e := gateway.AuditEntry{Chain: schoolChain, Seq: n + 1, At: last.At, Kind: gateway.AuditConsent, School: id, Prev: last.Hash}
			e.Hash = audit.Hash(e)
			putEntry(t, c, seqKey(n+1), e)
		}, want: []string{"inserted@11"}},
		{name: "head record edited", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			h := getEntry(t, c, []byte("head"))
			h.Actor = "someone else"
			putEntry(t, c, []byte("head"), h)
		}, want: []string{"head@10"}},
		{name: "head record removed", tamper: func(t *testing.T, _, c *bolt.Bucket) {
			if err := c.Delete([]byte("head")); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"head@10"}},
		{name: "entry of another chain", tamper: func(t *testing.T, a, c *bolt.Bucket) {
			putEntry(t, c, seqKey(2), getEntry(t, a.Bucket([]byte(gateway.AuditChainGateway)), seqKey(2)))
		}, want: []string{"chain@2", "link@2", "link@3"}},
		// A hash chain cannot see a chain removed whole (doc.go of gateway/audit).
		{name: "limit: chain removed whole", tamper: func(t *testing.T, a, _ *bolt.Bucket) {
			if err := a.DeleteBucket([]byte(schoolChain)); err != nil {
				t.Fatal(err)
			}
		}, want: nil, chains: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			s := open(t, path)
			fillChains(t, s, n)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				a := tx.Bucket([]byte("audit"))
				tc.tamper(t, a, a.Bucket([]byte(schoolChain)))
				return nil
			})
			if err := errors.Join(err, db.Close()); err != nil {
				t.Fatal(err)
			}

			s = open(t, path)
			r, err := audit.Verify(t.Context(), s)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var got []string
			for _, p := range r.Problems {
				if p.Chain != schoolChain {
					t.Errorf("problem in chain %s: %v", p.Chain, p)
					continue
				}
				got = append(got, fmt.Sprintf("%s@%d", p.Kind, p.Seq))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want %v", got, tc.want)
				for _, p := range r.Problems {
					t.Logf("  %v", p)
				}
			}
			if want := cmp.Or(tc.chains, 2); r.Chains != want {
				t.Errorf("Verify saw %d chains, want %d", r.Chains, want)
			}
		})
	}
}

// An entry stored beyond the head record is never overwritten by an append.
func TestAuditAppendNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s := open(t, path)
	fillChains(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	planted := gateway.AuditEntry{Chain: schoolChain, Seq: 4, Kind: gateway.AuditConsent, Hash: "planted"}
	err = db.Update(func(tx *bolt.Tx) error {
		putEntry(t, tx.Bucket([]byte("audit")).Bucket([]byte(schoolChain)), seqKey(4), planted)
		return nil
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	_, err = audit.New(s, nil).School(t.Context(), id, gateway.AuditSync, "scheduler", nil)
	if err == nil || errors.Is(err, gateway.ErrConflict) {
		t.Errorf("Append over a planted entry: %v; want a non-conflict error", err)
	}
	var seen []gateway.AuditEntry
	if err := s.WalkAudit(t.Context(), schoolChain, func(e gateway.AuditEntry) error { seen = append(seen, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || seen[3].Hash != "planted" {
		t.Errorf("chain after the refused append: %d entries, last %+v", len(seen), seen[len(seen)-1])
	}
}

// appendRacing appends like a caller that honours the retry class. Append
// gives up on a contended chain after a fixed number of lost races
// (gateway.ErrTransient; TestAppendRetries in gateway/audit covers that),
// and how often one writer loses in a row depends on how busy the machine
// is, so a racing writer asks again, within a generous deadline. Any other
// error is returned at once.
func appendRacing(ctx context.Context, log *audit.Log, school gateway.SchoolID, actor, i string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := log.School(ctx, school, gateway.AuditSync, actor, map[string]string{"i": i})
		if err == nil || !errors.Is(err, gateway.ErrTransient) || time.Now().After(deadline) {
			return err
		}
	}
}
