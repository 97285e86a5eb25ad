package pull_test

// Benchmarks of one whole-school sync: parse + map + seal + store.
//
//	go test ./gateway/pull -run '^$' -bench 'BenchmarkSync/' -benchtime 3x
//
// BenchmarkSync/{bolt,redis}/10k times the first sync of a fresh store (the
// store, keyring, school and consent are set up with the timer stopped);
// BenchmarkSync/{bolt,redis}/second-sync-unchanged/10k times a sync of the
// same answer into a store that already holds it (nothing sealed or staged
// for good). The LAS answer is recorded once from las-sim and served from
// memory by a plain handler on loopback, so neither the simulator's CPU time
// nor its allocations are counted; the loopback HTTP read is.
//
// Extra metrics: ns/pupil, allocs/pupil and B/pupil, from the timed part only.
// Redis uses $REDIS_URL (default redis://127.0.0.1:6379/0) under a fresh key
// prefix per store and deletes those keys afterwards with SCAN + DEL; without
// a Redis server the redis cases are skipped.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

const benchJaar = "2024-2025"

var benchOpts = func(pupils int) lassim.Options {
	return lassim.Options{Seed: 1, Schools: 1, Pupils: pupils, Schooljaar: benchJaar,
		Now: time.Date(2024, 10, 1, 8, 0, 0, 0, time.UTC)}
}

var (
	answersMu sync.Mutex
	answers   = map[int][]byte{}
)

// recorded is the raw whole-school answer of an n-pupil school (cached).
func recorded(b *testing.B, n int) []byte {
	answersMu.Lock()
	defer answersMu.Unlock()
	if a, ok := answers[n]; ok {
		return a
	}
	a, err := lassim.RecordAnswer(context.Background(), benchOpts(n))
	if err != nil {
		b.Fatal(err)
	}
	answers[n] = a
	return a
}

func benchRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// benchStore is one fresh store; done closes it and removes its data.
type benchStore struct {
	st   gateway.Store
	done func()
}

func openBenchStore(b *testing.B, kind string) benchStore {
	ctx := context.Background()
	switch kind {
	case "bolt":
		dir, err := os.MkdirTemp(b.TempDir(), "store")
		if err != nil {
			b.Fatal(err)
		}
		st, err := boltstore.Open(filepath.Join(dir, "gateway.db"), boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return benchStore{st: st, done: func() { st.Close(); os.RemoveAll(dir) }}
	case "redis":
		var r [8]byte
		_, _ = rand.Read(r[:])
		prefix := "uwlrbench:" + hex.EncodeToString(r[:]) + ":"
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := redisstore.Open(octx, benchRedisURL(), prefix)
		if err != nil {
			b.Fatalf("this benchmark needs a Redis server at $REDIS_URL (default redis://127.0.0.1:6379/0); it never skips: %v", err)
		}
		return benchStore{st: st, done: func() {
			st.Close()
			if err := deletePrefix(benchRedisURL(), prefix); err != nil {
				b.Errorf("delete keys under %s: %v", prefix, err)
			}
		}}
	}
	b.Fatalf("unknown store %q", kind)
	return benchStore{}
}

// deletePrefix deletes every key under prefix with SCAN + DEL (never FLUSH).
func deletePrefix(url, prefix string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// benchSchool is the simulated school's identity (seed 1, as recorded).
func benchSchool(endpoint string, keys *vault.Keyring) (gateway.School, *soap.Client, error) {
	o := benchOpts(1)
	o.Endpoint = endpoint
	w := lassim.NewWorld(o)
	c := w.Schools[0].Creds
	id := gateway.SchoolIDFor(c.Brin, c.Dependancecode, "")
	sealed, err := keys.Sealer().Seal(vault.SchoolSecret(id, vault.FieldAutorisatiesleutel), []byte(c.Autorisatiesleutel))
	if err != nil {
		return gateway.School{}, nil, err
	}
	s := gateway.School{ID: id, Brin: c.Brin, Dependancecode: c.Dependancecode, Vendor: "standard", Endpoint: endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Xsdversie: c.Xsdversie, SealedKey: sealed}
	return s, soap.NewClient(nil, c.Connection()), nil
}

// prepare puts the school into st and grants las_exchange.
func prepare(b *testing.B, st gateway.Store, school gateway.School) {
	ctx := context.Background()
	if err := st.PutSchool(ctx, school); err != nil {
		b.Fatal(err)
	}
	if _, _, err := consent.New(st, nil).Set(ctx, school.ID, gateway.ProcessingLASExchange, true, "bench"); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSync(b *testing.B) {
	for _, kind := range []string{"bolt", "redis"} {
		b.Run(kind, func(b *testing.B) {
			b.Run("10k", func(b *testing.B) { benchSync(b, kind, 10000, false) })
			b.Run("second-sync-unchanged", func(b *testing.B) {
				b.Run("10k", func(b *testing.B) { benchSync(b, kind, 10000, true) })
			})
		})
	}
}

func benchSync(b *testing.B, kind string, pupils int, unchanged bool) {
	answer := recorded(b, pupils)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(answer)
	}))
	defer srv.Close()
	keys, err := vault.Generate(rand.Reader, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	school, client, err := benchSchool(srv.URL+"/uwlr/v2", keys)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	newSyncer := func(st gateway.Store) *pull.Syncer {
		return &pull.Syncer{Store: st, Sealer: keys.Sealer(), Consent: consent.New(st, nil), Thresholds: pull.DefaultThresholds}
	}
	doSync := func(sy *pull.Syncer, want gateway.SyncStatus) {
		s, err := sy.Store.School(ctx, school.ID)
		if err != nil {
			b.Fatal(err)
		}
		res, err := sy.Sync(ctx, s, client, pull.Options{Schooljaar: benchJaar})
		if err != nil {
			b.Fatal(err)
		}
		if res.Run.Status != want || res.Run.Pupils != pupils {
			b.Fatalf("sync = %s with %d pupils, want %s with %d", res.Run.Status, res.Run.Pupils, want, pupils)
		}
	}

	var ms runtime.MemStats
	var mallocs, bytes uint64
	measure := func(fn func()) {
		runtime.ReadMemStats(&ms)
		m0, b0 := ms.Mallocs, ms.TotalAlloc
		b.StartTimer()
		fn()
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		bytes += ms.TotalAlloc - b0
	}

	b.ReportAllocs()
	b.SetBytes(int64(len(answer)))
	b.StopTimer()
	b.ResetTimer()
	if unchanged {
		bs := openBenchStore(b, kind)
		defer bs.done()
		prepare(b, bs.st, school)
		sy := newSyncer(bs.st)
		doSync(sy, gateway.SyncApplied)
		for i := 0; i < b.N; i++ {
			measure(func() { doSync(sy, gateway.SyncUnchanged) })
		}
	} else {
		for i := 0; i < b.N; i++ {
			bs := openBenchStore(b, kind)
			prepare(b, bs.st, school)
			sy := newSyncer(bs.st)
			runtime.GC()
			measure(func() { doSync(sy, gateway.SyncApplied) })
			bs.done()
		}
	}
	n := float64(b.N) * float64(pupils)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/pupil")
	b.ReportMetric(float64(mallocs)/n, "allocs/pupil")
	b.ReportMetric(float64(bytes)/n, "B/pupil")
}
