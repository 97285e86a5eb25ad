package report_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
)

// stores are the real stores every store test runs on. A missing Redis
// fails the redis cases.
var stores = []struct {
	name string
	open func(t *testing.T) gateway.Store
}{
	{"bolt", openBolt},
	{"redis", openRedis},
}

func openBolt(t *testing.T) gateway.Store {
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

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// openRedis opens a store under a fresh random prefix and, at cleanup,
// deletes the keys under that prefix only (SCAN + DEL, never FLUSH*).
func openRedis(t *testing.T) gateway.Store {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	prefix := "uwlrtest:report:" + hex.EncodeToString(b[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, redisURL(), prefix)
	if err != nil {
		t.Fatalf("the redis cases need a Redis server at $REDIS_URL (default redis://127.0.0.1:6379/0): %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close redis store: %v", err)
		}
		deletePrefix(t, prefix)
	})
	return s
}

func deletePrefix(t *testing.T, prefix string) {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Errorf("REDIS_URL: %v", err)
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cursor uint64
	for {
		ks, next, err := c.Scan(ctx, cursor, globEscape(prefix)+"*", 1000).Result()
		if err != nil {
			t.Errorf("cleanup: SCAN %s*: %v", prefix, err)
			return
		}
		if len(ks) > 0 {
			if err := c.Del(ctx, ks...).Err(); err != nil {
				t.Errorf("cleanup: DEL %d keys: %v", len(ks), err)
				return
			}
		}
		if next == 0 {
			return
		}
		cursor = next
	}
}

func globEscape(s string) string {
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
