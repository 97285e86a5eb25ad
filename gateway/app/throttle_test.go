package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// TestLoginBucket: a burst of DefaultLoginBurst failures, then one more
// per DefaultLoginRefill; a refunded token (a good login) is not spent;
// the wait says when the next token comes; time is an input.
func TestLoginBucket(t *testing.T) {
	t.Parallel()
	th := app.NewThrottle(app.LoginLimits{})
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range app.DefaultLoginBurst {
		if _, ok := th.Reserve("192.0.2.1", now); !ok {
			t.Fatalf("attempt %d refused within the burst", i)
		}
	}
	wait, ok := th.Reserve("192.0.2.1", now)
	if ok || wait != app.DefaultLoginRefill {
		t.Fatalf("past the burst: %v, %v; want refused for %v", wait, ok, app.DefaultLoginRefill)
	}
	if wait, ok := th.Reserve("192.0.2.1", now.Add(2*time.Second)); ok || wait != app.DefaultLoginRefill-2*time.Second {
		t.Errorf("2s later: %v, %v; want refused for %v", wait, ok, app.DefaultLoginRefill-2*time.Second)
	}
	if _, ok := th.Reserve("192.0.2.2", now); !ok {
		t.Error("another address was refused")
	}
	now = now.Add(app.DefaultLoginRefill)
	if _, ok := th.Reserve("192.0.2.1", now); !ok {
		t.Fatal("refused after one refill")
	}
	th.Refund("192.0.2.1", now) // that one was a good login
	if _, ok := th.Reserve("192.0.2.1", now); !ok {
		t.Error("a refunded token was spent")
	}
	if _, ok := th.Reserve("192.0.2.1", now); ok {
		t.Error("a token came from nowhere")
	}
	// A full refill makes the bucket full again, never fuller.
	now = now.Add(100 * app.DefaultLoginRefill)
	for i := range app.DefaultLoginBurst {
		if _, ok := th.Reserve("192.0.2.1", now); !ok {
			t.Fatalf("attempt %d refused after a long quiet", i)
		}
	}
	if _, ok := th.Reserve("192.0.2.1", now); ok {
		t.Error("the bucket held more than the burst after a long quiet")
	}
}

// TestClientKey: IPv4 (also written IPv4-mapped) is its address, IPv6 its
// /64, since one client commonly holds a whole /64.
func TestClientKey(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:9", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
	} {
		if got := app.ClientKey(c[0]); got != c[1] {
			t.Errorf("ClientKey(%q) = %q, want %q", c[0], got, c[1])
		}
	}
}

// TestLoginMemoryBounded: a flood from 100,000 addresses keeps at most
// DefaultLoginAddresses of them in the throttle and in the windows.
func TestLoginMemoryBounded(t *testing.T) {
	t.Parallel()
	th, w := app.NewThrottle(app.LoginLimits{}), app.NewFailedLogins(app.LoginLimits{})
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		th.Reserve(addr, now)
		w.Fail(addr, "unknown token", now)
	}
	if th.Len() > app.DefaultLoginAddresses || w.Len() > app.DefaultLoginAddresses {
		t.Errorf("throttle %d, windows %d addresses; want at most %d each", th.Len(), w.Len(), app.DefaultLoginAddresses)
	}
	// The most recent address is still throttled as it should be.
	for range app.DefaultLoginBurst - 1 {
		th.Reserve("10.1.134.159", now)
	}
	if _, ok := th.Reserve("10.1.134.159", now); ok {
		t.Error("the most recent address lost its bucket")
	}
}

// movingClock is a clock a test moves.
type movingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *movingClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// failedLoginEntries are the gateway chain's failed-login entries.
func failedLoginEntries(t *testing.T, st gateway.Store) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	if err := st.WalkAudit(context.Background(), gateway.AuditChainGateway, func(e gateway.AuditEntry) error {
		if e.Kind == gateway.AuditLogin && e.Details["ok"] == "false" {
			out = append(out, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFailedLoginsAggregated: per address and window the first failure is
// written at once and the rest as one aggregate when the window closes
// (count, throttled, first, last, reasons): by FlushLogins, or by the next
// failure after the window. A throttled attempt never reads the store.
func TestFailedLoginsAggregated(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		clk := &movingClock{now: start}
		a := f.appWith(func(o *app.Options) { o.Now = clk.Now })
		bad, _, err := app.GenerateToken(bytes.NewReader(bytes.Repeat([]byte{3}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		const from = "198.51.100.7"
		fail := func() error {
			_, err := a.Authenticate(ctx(t), bad, from)
			var th interface{ RetryAfter() time.Duration }
			if errors.As(err, &th) {
				return err
			}
			if !errors.Is(err, gateway.ErrForbidden) {
				t.Fatalf("bad token: %v, want a refusal", err)
			}
			return a.RecordLogin(ctx(t), gateway.LoginAttempt{OK: false, Via: "api", Remote: from, RequestID: "r", Reason: err.Error()})
		}
		throttled := 0
		for i := range app.DefaultLoginBurst + 5 {
			if i == 3 {
				clk.Advance(time.Second)
			}
			if err := fail(); err != nil {
				throttled++
			}
		}
		if throttled != 5 {
			t.Fatalf("%d throttled, want 5", throttled)
		}
		if n := len(failedLoginEntries(t, f.store)); n != 1 {
			t.Fatalf("%d failed-login entries during the window, want 1", n)
		}
		// The next failure after the window closes the old one.
		clk.Advance(app.DefaultLoginWindow)
		if err := fail(); err != nil {
			t.Fatal(err)
		}
		es := failedLoginEntries(t, f.store)
		if len(es) != 3 {
			t.Fatalf("%d failed-login entries after the window, want 3 (first, aggregate, first of the next)", len(es))
		}
		agg, next := es[1].Details, es[2].Details
		wantFirst, wantLast := start.UTC().Format(time.RFC3339Nano), start.Add(time.Second).UTC().Format(time.RFC3339Nano)
		if agg["count"] != strconv.Itoa(app.DefaultLoginBurst) || agg["throttled"] != "5" || agg["first"] != wantFirst ||
			agg["last"] != wantLast || agg["reasons"] != "unknown token:"+strconv.Itoa(app.DefaultLoginBurst) || agg["remote"] != from {
			t.Errorf("aggregate %v; want count %d, throttled 5, first %s, last %s", agg, app.DefaultLoginBurst, wantFirst, wantLast)
		}
		if next["reason"] != "unknown token" || next["count"] != "" {
			t.Errorf("first entry of the next window: %v", next)
		}
		if err := a.FlushLogins(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if n := len(failedLoginEntries(t, f.store)); n != 3 {
			t.Errorf("a window with only its first failure wrote an aggregate: %d entries", n)
		}
	})
}
