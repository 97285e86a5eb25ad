package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestIddinkProfileProcesses: the las-sim binary plays the Iddink hub
// (which wants an IddinkHub-Subscription-Key header, one per school, in its
// credentials file); the gateway binary enrols the school with
// --subscription-key-file and syncs it, on each store. The key appears in
// no argument, no output (logs at debug level included) and nowhere in the
// raw store.
func TestIddinkProfileProcesses(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			s := startSim(t, dir, "--profile", "iddink", "--pupils", "25")
			sub := subscriptionKey(t, dir)
			g := newGatewayOnly(t, store, s, "")
			g.env = append(g.env, "UWLR_LOG_LEVEL=debug")
			keyFile, subFile := filepath.Join(g.dir, "school.key"), filepath.Join(g.dir, "subscription.key")
			for f, v := range map[string]string{keyFile: s.creds.Autorisatiesleutel, subFile: sub} {
				if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			school := s.creds.Brin + s.creds.Dependancecode
			args := [][]string{
				{"school", "add", "--profile", "iddink", "--brin", s.creds.Brin, "--dependancecode", s.creds.Dependancecode,
					"--endpoint", s.endpoint, "--klantcode", s.creds.Klantcode, "--klantnaam", s.creds.Klantnaam,
					"--key-file", keyFile, "--subscription-key-file", subFile},
				{"consent", "set", "--school", school, "--processing", "las_exchange", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-1"},
				{"sync", "--school", school, "--json"},
				{"pupils", "list", "--school", school, "--json"},
			}
			var out strings.Builder
			for _, a := range args {
				code, stdout, stderr := g.run(a...)
				out.WriteString(stdout + stderr)
				if code != 0 {
					t.Fatalf("uwlr-gateway %v: exit %d\n%s%s", a, code, stdout, stderr)
				}
				if strings.Contains(strings.Join(a, " "), sub) {
					t.Errorf("an argument of %v holds the subscription key", a[:2])
				}
			}
			var pupils []map[string]any
			if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", school, "--json")), &pupils); err != nil || len(pupils) != 25 {
				t.Fatalf("pupils after the iddink sync: %d, %v; want 25", len(pupils), err)
			}
			if strings.Contains(out.String(), sub) {
				t.Error("the output or the logs hold the subscription key")
			}
			if raw := rawStore(t, store, g); !bytes.Contains(raw, []byte(school)) || bytes.Contains(raw, []byte(sub)) {
				t.Errorf("the raw %s store (%d bytes) lacks the school or holds the subscription key", store, len(raw))
			}
		})
	}
}

// subscriptionKey is the first school's key in las-sim's credentials file.
func subscriptionKey(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds []struct {
		SubscriptionKey string `json:"subscription_key"`
	}
	if err := json.Unmarshal(b, &creds); err != nil || len(creds) == 0 || len(creds[0].SubscriptionKey) < 16 {
		t.Fatalf("las-sim credentials %s: %v", b, err)
	}
	return creds[0].SubscriptionKey
}

// rawStore is everything the store holds: the bolt file's bytes, or every
// Redis value (DUMPed) under the gateway's prefix.
func rawStore(t *testing.T, store string, g *gw) []byte {
	t.Helper()
	if store == "bolt" {
		b, err := os.ReadFile(filepath.Join(g.dir, "data", "gateway.db"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	opts, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all bytes.Buffer
	var cursor uint64
	for {
		ks, next, err := c.Scan(ctx, cursor, g.prefix+"*", 1000).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			d, err := c.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			all.WriteString(k + "\n" + d + "\n")
		}
		if cursor = next; cursor == 0 {
			return all.Bytes()
		}
	}
}
