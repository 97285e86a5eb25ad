package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

// StoreConfig says which store to open.
type StoreConfig struct {
	// Driver is "bolt" (the embedded store, a file in DataDir) or "redis".
	Driver    string
	DataDir   string
	RedisURL  string
	KeyPrefix string
	// RedisSentinelAddrs and RedisSentinelMaster: when set, the Redis
	// store asks these Sentinels for the primary and follows a failover;
	// RedisURL then gives only the data nodes' credentials, database and
	// TLS. RedisSentinelPassword is the Sentinels' own password.
	RedisSentinelAddrs    []string
	RedisSentinelMaster   string
	RedisSentinelPassword string
	// RedisMinReplicas replicas must acknowledge each write that must not
	// be lost (WAIT); 0: none.
	RedisMinReplicas int
}

// boltFile is the embedded store's file in DataDir.
func (c StoreConfig) boltFile() string { return filepath.Join(c.DataDir, "gateway.db") }

// Exists reports whether the store may hold data: the embedded store's file
// exists (Redis: always true, it cannot be told without connecting).
func (c StoreConfig) Exists() bool {
	if c.Driver != "bolt" {
		return true
	}
	_, err := os.Stat(c.boltFile())
	return !errors.Is(err, os.ErrNotExist)
}

// Validate checks the driver name (gateway.ErrInvalid).
func (c StoreConfig) Validate() error {
	if c.Driver != "bolt" && c.Driver != "redis" {
		return fmt.Errorf("%w: store %q: want bolt or redis", gateway.ErrInvalid, c.Driver)
	}
	return nil
}

// OpenStore opens the store c names: the embedded bbolt file (created, with
// its directory, when absent) or Redis.
func OpenStore(ctx context.Context, c StoreConfig) (gateway.Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Driver == "redis" {
		st, err := redisstore.OpenWith(ctx, redisstore.Options{URL: c.RedisURL, Prefix: c.KeyPrefix,
			SentinelAddrs: c.RedisSentinelAddrs, SentinelMaster: c.RedisSentinelMaster, SentinelPassword: c.RedisSentinelPassword,
			MinReplicas: c.RedisMinReplicas})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: data dir: %w", gateway.ErrInvalid, err)
	}
	st, err := boltstore.Open(c.boltFile(), boltstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}
