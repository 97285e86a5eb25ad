// Package teststores opens the two real gateway stores for tests outside
// the store packages: a bbolt file in the test's temp dir, and Redis at
// $REDIS_URL (default redis://127.0.0.1:6379/0) under a fresh random key
// prefix whose keys, and only those, are deleted when the test ends (never
// FLUSH*). A missing Redis fails the test; it never skips.
package teststores

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

// Store is one store implementation.
type Store struct {
	Name string
	Open func(t testing.TB) gateway.Store
}

// All are the stores every store-dependent test runs on.
var All = []Store{{"bolt", Bolt}, {"redis", Redis}}

// Run runs fn as a subtest on each store.
func Run(t *testing.T, fn func(t *testing.T, open func(testing.TB) gateway.Store)) {
	t.Helper()
	for _, s := range All {
		t.Run(s.Name, func(t *testing.T) { fn(t, s.Open) })
	}
}

// Bolt opens a new bbolt store and closes it at cleanup.
func Bolt(t testing.TB) gateway.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "store.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("open bolt store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close bolt store: %v", err)
		}
	})
	return s
}

// RedisURL is the Redis the tests use.
func RedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis opens a Redis store under a new random prefix, and at cleanup
// deletes the keys under that prefix and closes it.
func Redis(t testing.TB) gateway.Store {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "uwlrtest:" + hex.EncodeToString(b[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, RedisURL(), prefix)
	if err != nil {
		t.Fatalf("these tests need a Redis server at $REDIS_URL (default redis://127.0.0.1:6379/0): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Drop(ctx); err != nil {
			t.Errorf("delete test keys under %s: %v", prefix, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close redis store: %v", err)
		}
	})
	return s
}
