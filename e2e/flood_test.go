package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// floodAttempts and floodWorkers: 5,000 failed logins, 16 at a time.
const (
	floodAttempts = 5000
	floodWorkers  = 16
	// floodBurst is the login throttle's burst (app.DefaultLoginBurst) and
	// floodRefill its refill interval (app.DefaultLoginRefill).
	floodBurst  = 10
	floodRefill = 6 * time.Second
)

// redisFootprint is the keys under prefix and the bytes Redis says they use.
func redisFootprint(t *testing.T, rdb *redis.Client, prefix string) (keys int, bytes int64) {
	t.Helper()
	ctx := context.Background()
	var cursor uint64
	for {
		ks, next, err := rdb.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			n, err := rdb.MemoryUsage(ctx, k, 0).Result()
			if err != nil && err != redis.Nil {
				t.Fatal(err)
			}
			keys++
			bytes += n
		}
		if next == 0 {
			return keys, bytes
		}
		cursor = next
	}
}

// failedLoginEntries counts the gateway chain's failed-login entries.
func failedLoginEntries(t *testing.T, g *gw) int {
	t.Helper()
	var entries []struct {
		Kind    string            `json:"kind"`
		Details map[string]string `json:"details"`
	}
	if err := json.Unmarshal([]byte(g.must("audit", "show", "--gateway", "--limit", "0", "--json")), &entries); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Kind == "login" && e.Details["ok"] == "false" {
			n++
		}
	}
	return n
}

// clientFrom is an HTTP client whose connections come from the loopback
// address from (Linux routes all of 127.0.0.0/8 to lo), not following
// redirects.
func clientFrom(from string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// badLogin is failed login i: an unknown bearer token on the API, or the
// same on the login form.
func badLogin(base string, i int) *http.Request {
	secret := fmt.Sprintf("uwlr_%043d", i)
	if i%2 == 0 {
		rq, _ := http.NewRequest(http.MethodGet, base+"/api/v1/schools", nil)
		rq.Header.Set("Authorization", "Bearer "+secret)
		return rq
	}
	rq, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"token": {secret}}.Encode()))
	rq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rq.Header.Set("Origin", base)
	return rq
}

// TestFloodOfFailedLogins: serve on Redis takes 5,000 failed logins from
// one address, 16 at a time. Past the burst they are 429s that never reach
// the store: the store grows by well under 100 KB and the audit chain by a
// couple of entries. Meanwhile a school admin logs in from another address
// (the web page and the API) and is served.
func TestFloodOfFailedLogins(t *testing.T) {
	s := startSim(t, t.TempDir(), "--pupils", "10")
	g := newGateway(t, "redis", s, "")
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(g.must("token", "create", "--role", "school-admin", "--school", g.school, "--json")), &tok); err != nil {
		t.Fatal(err)
	}
	rdb := redisClient(t)
	srv := startServe(t, g, "UWLR_SCHEDULE_ENABLED=false", "UWLR_LOG_LEVEL=warn")
	base := "http://" + srv.addr
	entriesBefore := failedLoginEntries(t, g)
	keysBefore, bytesBefore := redisFootprint(t, rdb, g.prefix)

	flood := clientFrom("127.0.0.1", floodWorkers)
	var next, done atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	legitDone := make(chan struct{})
	var wg sync.WaitGroup
	began := time.Now()
	for range floodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= floodAttempts; i = int(next.Add(1)) {
				if i > floodAttempts-1000 {
					<-legitDone // the last thousand wait: the legitimate login happens mid-flood
				}
				resp, err := flood.Do(badLogin(base, i))
				if err != nil {
					t.Errorf("attempt %d: %v", i, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
				done.Add(1)
			}
		}()
	}
	observe.WaitFor(t, "a thousand failed logins", func() (bool, string) {
		return done.Load() >= 1000, fmt.Sprintf("%d done", done.Load())
	})
	floodLegitLogin(t, base, tok.Token)
	if n := done.Load(); n >= floodAttempts {
		t.Fatalf("the flood was over (%d) before the legitimate login", n)
	}
	close(legitDone)
	wg.Wait()
	elapsed := time.Since(began)

	// The bucket refills by one per floodRefill while the flood runs.
	maxChecked := floodBurst + int(elapsed/floodRefill) + 1
	t.Logf("%d failed logins in %v: %v", floodAttempts, elapsed.Round(time.Millisecond), statuses)
	if statuses[http.StatusUnauthorized] > maxChecked || statuses[http.StatusTooManyRequests] < floodAttempts-maxChecked ||
		statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != floodAttempts {
		t.Errorf("statuses %v: want at most %d refusals (401) and the rest throttled (429)", statuses, maxChecked)
	}
	stopServe(t, srv) // the open window's aggregate is written on the way out
	keysAfter, bytesAfter := redisFootprint(t, rdb, g.prefix)
	entries := failedLoginEntries(t, g) - entriesBefore
	t.Logf("store: %d -> %d keys, %d -> %d bytes (+%d); %d failed-login audit entries", keysBefore, keysAfter, bytesBefore, bytesAfter,
		bytesAfter-bytesBefore, entries)
	if grew := bytesAfter - bytesBefore; grew >= 100<<10 {
		t.Errorf("the store grew by %d bytes over the flood, want under 100 KB", grew)
	}
	if entries < 1 || entries > 3 {
		t.Errorf("%d failed-login audit entries for the flood, want 1 to 3 (the first at once, aggregates per window)", entries)
	}
}

// floodLegitLogin logs in on the web page and calls the API with a good
// token from another address, and wants both served.
func floodLegitLogin(t *testing.T, base, token string) {
	t.Helper()
	cl := clientFrom("127.0.0.2", 1)
	rq, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	rq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rq.Header.Set("Origin", base)
	rq.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := cl.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "uwlr_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("web login during the flood: %s, session %v; want 303 with a session", resp.Status, session != nil)
	}
	page, _ := http.NewRequest(http.MethodGet, base+"/schools", nil)
	page.AddCookie(session)
	if resp, err = cl.Do(page); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/schools/") {
		t.Errorf("the schools page during the flood: %s to %q, want the school's page", resp.Status, resp.Header.Get("Location"))
	}
	api, _ := http.NewRequest(http.MethodGet, base+"/api/v1/schools", nil)
	api.Header.Set("Authorization", "Bearer "+token)
	if resp, err = cl.Do(api); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the API during the flood: %s, want 200", resp.Status)
	}
}
