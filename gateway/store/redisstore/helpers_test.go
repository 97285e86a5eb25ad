package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

// redisURL is the server the tests use: $REDIS_URL, or a local default.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// openStore opens a store under a fresh random prefix and, at cleanup,
// closes it and deletes every key under that prefix (never FLUSHDB). A
// missing Redis fails the test.
func openStore(t *testing.T) (*redisstore.Store, string) {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "uwlrtest:" + hex.EncodeToString(b[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, redisURL(), prefix)
	if err != nil {
		t.Fatalf("redisstore tests need a Redis server at $REDIS_URL (default redis://127.0.0.1:6379/0): %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := deleteKeys(t, prefix); n < 0 {
			t.Errorf("cleanup of prefix %s failed", prefix)
		}
	})
	return s, prefix
}

// rawClient is a plain go-redis client on the test server, to look at keys.
func rawClient(t *testing.T) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// keys lists the keys matching a SCAN pattern.
func keys(t *testing.T, match string) []string {
	t.Helper()
	c := rawClient(t)
	var out []string
	var cursor uint64
	for {
		ks, next, err := c.Scan(context.Background(), cursor, match, 1000).Result()
		if err != nil {
			t.Fatalf("SCAN %s: %v", match, err)
		}
		out = append(out, ks...)
		if next == 0 {
			return out
		}
		cursor = next
	}
}

// deleteKeys deletes every key under prefix and returns how many it deleted.
func deleteKeys(t *testing.T, prefix string) int {
	t.Helper()
	ks := keys(t, escape(prefix)+"*")
	if len(ks) == 0 {
		return 0
	}
	if err := rawClient(t).Del(context.Background(), ks...).Err(); err != nil {
		t.Errorf("DEL test keys: %v", err)
		return -1
	}
	return len(ks)
}

// escape quotes glob characters for SCAN MATCH.
func escape(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '{', '}':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
