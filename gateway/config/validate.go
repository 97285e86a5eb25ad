package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Allowed values of the enumerated keys.
var (
	logLevels    = []string{"debug", "info", "warn", "error"}
	logFormats   = []string{"json", "text"}
	xsdVersies   = []string{"2.1", "2.2", "2.3"}
	storeDrivers = []string{"bolt", "redis"}
	redisSchemes = []string{"redis", "rediss", "unix"}
)

// minStaleAfter is the shortest retention.stale_after: a school does not
// sync over the summer pause, and must not count as stale for that.
const minStaleAfter = 90 * 24 * time.Hour

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// Validate checks every value and returns all problems found, joined; each
// one starts with the key it is about, e.g.
// "las.max_response_bytes: must be > 0". It never includes the value of a
// secret. Load and LoadFile call it; call it again after changing a Config
// by hand.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, got string, allowed []string) {
		if !slices.Contains(allowed, got) {
			bad(key, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
		}
	}

	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}

	oneOf("log.level", c.Log.Level, logLevels)
	oneOf("log.format", c.Log.Format, logFormats)

	if c.LAS.Timeout <= 0 {
		bad("las.timeout", "must be > 0, got %s", c.LAS.Timeout)
	}
	if c.LAS.ConnectTimeout <= 0 {
		bad("las.connect_timeout", "must be > 0, got %s", c.LAS.ConnectTimeout)
	}
	if c.LAS.CaptureTTL <= 0 {
		bad("las.capture_ttl", "must be > 0, got %s", c.LAS.CaptureTTL)
	}
	if c.LAS.MaxResponseBytes <= 0 {
		bad("las.max_response_bytes", "must be > 0, got %d", c.LAS.MaxResponseBytes)
	}
	oneOf("las.xsdversie", c.LAS.XSDVersie, xsdVersies)
	if c.LAS.UserAgent == "" {
		bad("las.user_agent", "must not be empty")
	} else if strings.ContainsAny(c.LAS.UserAgent, "\r\n") {
		bad("las.user_agent", "must not contain line breaks")
	}
	if strings.ContainsAny(c.LAS.Klantcode, "\r\n") {
		bad("las.klantcode", "must not contain line breaks")
	}
	if strings.ContainsAny(c.LAS.Klantnaam, "\r\n") {
		bad("las.klantnaam", "must not contain line breaks")
	}

	if c.Delivery.BatchSize < 1 || c.Delivery.BatchSize > 10000 {
		bad("delivery.batch_size", "must be 1-10000, got %d", c.Delivery.BatchSize)
	}
	if c.Delivery.Concurrency < 1 {
		bad("delivery.concurrency", "must be >= 1, got %d", c.Delivery.Concurrency)
	}
	if c.Delivery.Lease < time.Second {
		bad("delivery.lease", "must be >= 1s, got %s", c.Delivery.Lease)
	} else if c.Delivery.Lease <= c.LAS.Timeout {
		bad("delivery.lease", "must be longer than las.timeout (%s), got %s: a slow but live send would otherwise be taken over", c.LAS.Timeout, c.Delivery.Lease)
	}
	if c.Delivery.MaxAttempts < 1 {
		bad("delivery.max_attempts", "must be >= 1, got %d", c.Delivery.MaxAttempts)
	}
	if c.Delivery.RetryBase <= 0 {
		bad("delivery.retry_base", "must be > 0, got %s", c.Delivery.RetryBase)
	}
	if c.Delivery.RetryMax < c.Delivery.RetryBase {
		bad("delivery.retry_max", "must be >= delivery.retry_base (%s), got %s", c.Delivery.RetryBase, c.Delivery.RetryMax)
	}

	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout", "must be > 0, got %s", c.Server.ShutdownTimeout)
	}
	if c.Auth.TokenTTL <= 0 {
		bad("auth.token_ttl", "must be > 0 (a token lasts until revoked only when --expires asks), got %s", c.Auth.TokenTTL)
	}
	for key, v := range map[string]time.Duration{"schedule.backoff_base": c.Schedule.BackoffBase, "schedule.backoff_max": c.Schedule.BackoffMax,
		"schedule.sync_timeout": c.Schedule.SyncTimeout, "schedule.tick": c.Schedule.Tick, "schedule.lock_ttl": c.Schedule.LockTTL} {
		if v <= 0 {
			bad(key, "must be > 0, got %s", v)
		}
	}
	if c.Schedule.LockTTL > 0 && c.Schedule.LockTTL < 3*time.Second {
		bad("schedule.lock_ttl", "must be at least 3s (it is renewed every third of it), got %s", c.Schedule.LockTTL)
	}
	caps := map[string]int{"schedule.default_cap": c.Schedule.DefaultCap}
	for vendor, n := range c.Schedule.VendorCaps() {
		caps["schedule."+capPrefix+vendor] = n
	}
	for _, key := range slices.Sorted(maps.Keys(caps)) {
		if n := caps[key]; n < 1 {
			bad(key, "must be >= 1, got %d", n)
		}
	}
	if c.Schedule.MaxAttemptsPerNight < 1 {
		bad("schedule.max_attempts_per_night", "must be >= 1, got %d", c.Schedule.MaxAttemptsPerNight)
	}
	if !hhmm.MatchString(c.Schedule.RetentionAt) {
		bad("schedule.retention_at", "must be HH:MM, got %q", c.Schedule.RetentionAt)
	}
	if c.Retention.StaleAfter < minStaleAfter {
		bad("retention.stale_after", "must be at least %s (90 days, longer than any holiday without syncs), got %s", minStaleAfter, c.Retention.StaleAfter)
	}

	if c.Server.Addr == "" {
		bad("server.addr", "must not be empty")
	} else if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		bad("server.addr", "must be host:port, got %q", c.Server.Addr)
	}

	oneOf("store.driver", c.Store.Driver, storeDrivers)
	sentinels := c.Store.SentinelAddrs()
	for _, a := range sentinels {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			bad("store.redis_sentinel_addrs", "must be comma-separated host:port, got %q", a)
		}
	}
	switch {
	case len(sentinels) > 0 && c.Store.RedisSentinelMaster == "":
		bad("store.redis_sentinel_master", "must be set when store.redis_sentinel_addrs is")
	case len(sentinels) == 0 && c.Store.RedisSentinelMaster != "":
		bad("store.redis_sentinel_addrs", "must be set when store.redis_sentinel_master is")
	}
	if c.Store.RedisMinReplicas < MinReplicasAuto {
		bad("store.redis_min_replicas", "must be >= 0, or %d for 1 with Sentinel and 0 without, got %d", MinReplicasAuto, c.Store.RedisMinReplicas)
	}
	if c.Store.Driver == "redis" {
		// Never put the URL (or url.Parse's error, which quotes it) in the
		// message: it may contain a password. With Sentinel the URL only
		// carries the data nodes' credentials, database and TLS, and may
		// be empty.
		if c.Store.RedisURL.IsZero() {
			if len(sentinels) == 0 {
				bad("store.redis_url", "must be set when store.driver is redis (or set store.redis_sentinel_addrs)")
			}
		} else if u, err := url.Parse(c.Store.RedisURL.Reveal()); err != nil || !slices.Contains(redisSchemes, u.Scheme) {
			bad("store.redis_url", "must be a URL starting with redis://, rediss:// or unix:// (value not shown: it may contain a password)")
		}
	}

	return errors.Join(errs...)
}
