package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

var schoolChain = gateway.AuditChainOf(sid)

// tickingClock returns a clock that advances by a second on every call.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 9, 1, 8, 0, 0, 123, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

// Writers racing through audit.Log, over two stores on the same prefix (as
// two gateway processes would), make one valid chain.
func TestAuditLogConcurrent(t *testing.T) {
	const writers, each = 8, 25
	s1, prefix := openStore(t)
	s2, err := redisstore.Open(t.Context(), redisURL(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var wg sync.WaitGroup
	for w := range writers {
		log := audit.New([]*redisstore.Store{s1, s2}[w%2], nil)
		wg.Go(func() {
			for i := range each {
				if err := appendRacing(t.Context(), log, sid, fmt.Sprint("w", w), fmt.Sprint(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r, err := audit.Verify(t.Context(), s1)
	if err != nil || !r.OK || r.Chains != 1 || r.Entries != writers*each {
		t.Errorf("Verify = %+v, %v; want 1 chain of %d entries, no problems", r, err, writers*each)
	}
}

func rawEntry(t *testing.T, c *redis.Client, key string, i int64) gateway.AuditEntry {
	t.Helper()
	data, err := c.LIndex(context.Background(), key, i).Bytes()
	if err != nil {
		t.Fatalf("LINDEX %s %d: %v", key, i, err)
	}
	var e gateway.AuditEntry
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// must fails the test when a raw command failed.
func must(t *testing.T, cmd redis.Cmder) {
	t.Helper()
	if err := cmd.Err(); err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
}

func encode(t *testing.T, e gateway.AuditEntry) string {
	t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Verify finds tampering done to the Redis keys behind the store's back,
// and DeleteSchool's sweep leaves the audit keys alone.
func TestAuditTamperingFound(t *testing.T) {
	const n = 10
	bg := context.Background()
	tests := []struct {
		name   string
		tamper func(t *testing.T, c *redis.Client, log, head, other string)
		want   []string // kind@seq of the school chain's problems
	}{
		{name: "untouched", tamper: func(*testing.T, *redis.Client, string, string, string) {}},
		{name: "detail edited", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			e := rawEntry(t, c, log, 3)
			e.Details["run"] = "999"
			must(t, c.LSet(bg, log, 3, encode(t, e)))
		}, want: []string{"edited@4"}},
		{name: "removed in the middle", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			must(t, c.LSet(bg, log, 4, "doomed"))
			must(t, c.LRem(bg, log, 1, "doomed"))
		}, want: []string{"removed@5"}},
		{name: "removed at the end", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			must(t, c.RPopCount(bg, log, 2))
		}, want: []string{"truncated@10"}},
		{name: "swapped", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			e3, e4 := rawEntry(t, c, log, 2), rawEntry(t, c, log, 3)
			must(t, c.LSet(bg, log, 2, encode(t, e4)))
			must(t, c.LSet(bg, log, 3, encode(t, e3)))
		}, want: []string{"reordered@3"}},
		{name: "inserted", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			e := rawEntry(t, c, log, 5)
			e.Actor = "intruder"
			e.Hash = audit.Hash(e)
			must(t, c.LInsertAfter(bg, log, encode(t, rawEntry(t, c, log, 5)), encode(t, e)))
		}, want: []string{"inserted@6"}},
		{name: "appended beyond the head", tamper: func(t *testing.T, c *redis.Client, log, _, _ string) {
			last := rawEntry(t, c, log, -1)
			e := gateway.AuditEntry{Chain: schoolChain, Seq: n + 1, At: last.At, Kind: gateway.AuditConsent, School: sid, Prev: last.Hash}
			e.Hash = audit.Hash(e)
			must(t, c.RPush(bg, log, encode(t, e)))
		}, want: []string{"inserted@11"}},
		{name: "head record edited", tamper: func(t *testing.T, c *redis.Client, _, head, _ string) {
			must(t, c.HSet(bg, head, "entry", `{"chain":"school/12AB00","seq":10,"kind":"sync","prev":"","hash":"x"}`))
		}, want: []string{"head@10", "head@10"}},
		{name: "head record removed", tamper: func(t *testing.T, c *redis.Client, _, head, _ string) {
			must(t, c.Del(bg, head))
		}, want: []string{"head@10"}},
		{name: "entry of another chain", tamper: func(t *testing.T, c *redis.Client, log, _, other string) {
			must(t, c.LSet(bg, log, 1, encode(t, rawEntry(t, c, other, 1))))
		}, want: []string{"chain@2", "link@2", "link@3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, prefix := openStore(t)
			putSchool(t, s, sid)
			log := audit.New(s, tickingClock())
			for i := range n {
				if _, err := log.School(t.Context(), sid, gateway.AuditSync, "scheduler", map[string]string{"run": fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
				if _, err := log.Gateway(t.Context(), gateway.AuditLogin, "serve", nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteSchool(t.Context(), sid); err != nil {
				t.Fatal(err)
			}
			key := func(chain, what string) string { return prefix + "audit:{" + chain + "}:" + what }
			if ks := keys(t, escape(prefix+"audit:")+"*"); len(ks) != 5 {
				t.Fatalf("audit keys after DeleteSchool: %q; want 2 logs, 2 heads and the chain index", ks)
			}
			tc.tamper(t, rawClient(t), key(schoolChain, "log"), key(schoolChain, "head"), key(gateway.AuditChainGateway, "log"))

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
			if r.Chains != 2 {
				t.Errorf("Verify saw %d chains, want 2", r.Chains)
			}
		})
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
