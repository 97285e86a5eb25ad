package app

import (
	"container/list"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Failed logins (API bearer tokens and the web login) are limited per
// client address by a token bucket, and recorded per address and window
// (throttle_logins.go). Both live in this process's memory: they are not
// shared by the instances on one Redis, so n instances behind a balancer
// allow n times the rate, and a restart forgets them. That is enough to make
// guessing a token (2^256 of them) from one address pointless and to keep a
// flood off the store; a budget shared by all instances would need an
// atomic counter with expiry in the store.
const (
	// DefaultLoginBurst is how many failed logins an address may make at
	// once (server.login_burst).
	DefaultLoginBurst = 10
	// DefaultLoginRefill is how often an address gets one more
	// (server.login_refill): at most 10 checks a minute after the burst.
	DefaultLoginRefill = 6 * time.Second
	// DefaultLoginWindow is the window failed logins of one address are
	// recorded over as one aggregate (server.login_window).
	DefaultLoginWindow = 5 * time.Minute
	// DefaultLoginAddresses bounds the addresses remembered (each of the
	// throttle and the windows: a few hundred bytes an address), so a flood
	// from many addresses cannot grow memory: the least recently seen is
	// forgotten first (server.login_addresses).
	DefaultLoginAddresses = 10_000
)

// LoginLimits are the login throttle's limits; a zero field is its default.
type LoginLimits struct {
	Burst     int
	Refill    time.Duration
	Window    time.Duration
	Addresses int
}

func (l LoginLimits) withDefaults() LoginLimits {
	if l.Burst <= 0 {
		l.Burst = DefaultLoginBurst
	}
	if l.Refill <= 0 {
		l.Refill = DefaultLoginRefill
	}
	if l.Window <= 0 {
		l.Window = DefaultLoginWindow
	}
	if l.Addresses <= 0 {
		l.Addresses = DefaultLoginAddresses
	}
	return l
}

// LoginThrottled is Authenticate's answer to an address that has used up
// its failed logins: the token was not looked at. RetryAfter says when the
// next may be; it is a gateway.ErrTransient (try again later).
type LoginThrottled struct{ Wait time.Duration }

func (e *LoginThrottled) Error() string {
	return fmt.Sprintf("too many failed logins from this address: try again in %s", e.Wait.Round(time.Second))
}

// RetryAfter is how long the caller should wait.
func (e *LoginThrottled) RetryAfter() time.Duration { return e.Wait }

// Is makes a LoginThrottled a gateway.ErrTransient.
func (e *LoginThrottled) Is(target error) bool { return target == gateway.ErrTransient }

// clientKey is the throttle's key of a client address: an IPv4 address
// (also when written IPv4-mapped) as it is, an IPv6 address as its /64
// (one client commonly holds a whole /64), anything else as given.
func clientKey(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil {
		if len(remote) > 64 {
			remote = remote[:64]
		}
		return strings.ToValidUTF8(remote, "?")
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// loginThrottle is a token bucket per client key, least recently used
// first out when it holds lim.Addresses keys. Time is an input.
type loginThrottle struct {
	mu  sync.Mutex
	lim LoginLimits
	m   map[string]*list.Element // of *bucket
	lru list.List                // most recently used at the front
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newLoginThrottle(l LoginLimits) *loginThrottle {
	return &loginThrottle{lim: l.withDefaults(), m: map[string]*list.Element{}}
}

// fill brings b's tokens up to now.
func (t *loginThrottle) fill(b *bucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = min(float64(t.lim.Burst), b.tokens+float64(now.Sub(b.at))/float64(t.lim.Refill))
		b.at = now
	}
}

// reserve takes a token of key's bucket at now for one check of a token:
// false, with the wait until the next token, when there is none. A check
// that succeeds gives it back (refund), so only failures spend.
func (t *loginThrottle) reserve(key string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[key]
	if !ok {
		t.forget(now)
		e = t.lru.PushFront(&bucket{key: key, tokens: float64(t.lim.Burst), at: now})
		t.m[key] = e
	}
	t.lru.MoveToFront(e)
	b := e.Value.(*bucket)
	t.fill(b, now)
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) * float64(t.lim.Refill))
		return max(wait.Round(time.Millisecond), time.Millisecond), false
	}
	b.tokens--
	return 0, true
}

// refund gives back the token a successful check reserved.
func (t *loginThrottle) refund(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[key]; ok {
		b := e.Value.(*bucket)
		t.fill(b, now)
		b.tokens = min(float64(t.lim.Burst), b.tokens+1)
	}
}

// forget makes room for one key: buckets that have filled up again are
// the same as none and go first (a few a call), then, at the cap, the
// least recently used.
func (t *loginThrottle) forget(now time.Time) {
	for range 3 {
		e := t.lru.Back()
		if e == nil {
			return
		}
		b := e.Value.(*bucket)
		t.fill(b, now)
		if b.tokens < float64(t.lim.Burst) && len(t.m) < t.lim.Addresses {
			return
		}
		t.lru.Remove(e)
		delete(t.m, b.key)
	}
	for len(t.m) >= t.lim.Addresses {
		e := t.lru.Back()
		t.lru.Remove(e)
		delete(t.m, e.Value.(*bucket).key)
	}
}

func (t *loginThrottle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
