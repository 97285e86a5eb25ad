package redisstore

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Options say how OpenWith reaches Redis and how durable its writes are.
type Options struct {
	// URL is the Redis URL (redis://, rediss:// or unix://, as
	// redis.ParseURL reads them). Without Sentinel it names the server.
	// With Sentinel its host is not used; its user name, password, database
	// number, TLS and timeouts still apply to the data nodes (the primary
	// and its replicas). It may be empty with Sentinel.
	URL string
	// SentinelAddrs (host:port) are the Sentinels to ask for the primary
	// of SentinelMaster. When set, they take precedence over the host of
	// URL, and the client follows a failover (redis.NewFailoverClient).
	SentinelAddrs []string
	// SentinelMaster is the name the Sentinels monitor the primary under.
	SentinelMaster string
	// SentinelPassword is the Sentinels' own password (requirepass of
	// sentinel.conf), when they have one; the data nodes' password comes
	// from URL.
	SentinelPassword string
	// MinReplicas is how many replicas must acknowledge a write that must
	// not be lost (outbox enqueue, settle and split, audit appends, consent
	// changes, snapshot commits) before it counts as done: the store sends
	// WAIT after it and fails with gateway.ErrTransient when fewer
	// acknowledge within WaitTimeout. 0 sends no WAIT.
	MinReplicas int
	// WaitTimeout bounds each WAIT; 0 means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Prefix starts every key the store touches; it must not be empty.
	Prefix string
}

// DefaultWaitTimeout is how long a durable write waits for its replicas
// when Options.WaitTimeout is 0: on a healthy network a replica
// acknowledges within milliseconds, so two seconds without enough of them
// means a replica is down or far behind, not that it is slow.
const DefaultWaitTimeout = 2 * time.Second

// OpenWith connects as o says (one server, or the primary the Sentinels
// name) and checks it with PING. Errors never contain a password.
func OpenWith(ctx context.Context, o Options) (*Store, error) {
	if o.Prefix == "" {
		return nil, fmt.Errorf("redisstore: open: %w: key prefix is empty", gateway.ErrInvalid)
	}
	if o.MinReplicas < 0 {
		return nil, fmt.Errorf("redisstore: open: %w: min replicas %d is negative", gateway.ErrInvalid, o.MinReplicas)
	}
	if o.WaitTimeout < 0 {
		return nil, fmt.Errorf("redisstore: open: %w: wait timeout %s is negative", gateway.ErrInvalid, o.WaitTimeout)
	}
	if o.WaitTimeout == 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if len(o.SentinelAddrs) == 0 {
		if o.SentinelMaster != "" {
			return nil, fmt.Errorf("redisstore: open: %w: a Sentinel master name without Sentinel addresses", gateway.ErrInvalid)
		}
		return openServer(ctx, o)
	}
	return openSentinel(ctx, o)
}

// openServer opens one Redis server at o.URL.
func openServer(ctx context.Context, o Options) (*Store, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: open: %w: bad Redis URL: %s", gateway.ErrInvalid, scrub(parseErrText(err), o.URL))
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("redisstore: open: ping %s db %d: %w", opts.Addr, opts.DB, ctxErr)
		}
		return nil, openErr(opts, err, o.URL)
	}
	return newStore(rdb, o), nil
}

// openSentinel opens the primary that o's Sentinels name, with the data
// nodes' credentials, database and TLS from o.URL (when given).
func openSentinel(ctx context.Context, o Options) (*Store, error) {
	if o.SentinelMaster == "" {
		return nil, fmt.Errorf("redisstore: open: %w: Sentinel addresses without a master name", gateway.ErrInvalid)
	}
	for _, a := range o.SentinelAddrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("redisstore: open: %w: Sentinel address %q is not host:port", gateway.ErrInvalid, a)
		}
	}
	fo := &redis.FailoverOptions{MasterName: o.SentinelMaster, SentinelAddrs: o.SentinelAddrs, SentinelPassword: o.SentinelPassword}
	if o.URL != "" {
		opts, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: open: %w: bad Redis URL: %s", gateway.ErrInvalid, scrub(parseErrText(err), o.URL))
		}
		fo.Username, fo.Password, fo.DB, fo.TLSConfig, fo.Protocol = opts.Username, opts.Password, opts.DB, opts.TLSConfig, opts.Protocol
		fo.ClientName, fo.MaxRetries, fo.DialTimeout, fo.ReadTimeout, fo.WriteTimeout = opts.ClientName, opts.MaxRetries, opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout
		fo.PoolSize, fo.MinIdleConns, fo.MaxIdleConns, fo.PoolTimeout = opts.PoolSize, opts.MinIdleConns, opts.MaxIdleConns, opts.PoolTimeout
	}
	rdb := redis.NewFailoverClient(fo)
	where := fmt.Sprintf("redisstore: open: ping master %s via Sentinels %s db %d", o.SentinelMaster, strings.Join(o.SentinelAddrs, ","), fo.DB)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %w", where, ctxErr)
		}
		msg := scrub(err.Error(), o.URL)
		if o.SentinelPassword != "" {
			msg = strings.ReplaceAll(msg, o.SentinelPassword, "xxxxx")
		}
		kind := gateway.ErrTransient
		if m := err.Error(); strings.HasPrefix(m, "WRONGPASS") || strings.HasPrefix(m, "NOAUTH") || strings.HasPrefix(m, "NOPERM") {
			kind = gateway.ErrForbidden
		}
		return nil, fmt.Errorf("%s: %w: %s", where, kind, msg)
	}
	return newStore(rdb, o), nil
}

func newStore(rdb *redis.Client, o Options) *Store {
	return &Store{rdb: rdb, prefix: o.Prefix, minReplicas: o.MinReplicas, waitTimeout: o.WaitTimeout}
}
