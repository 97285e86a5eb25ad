package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIddinkProfileEndToEnd: a school behind the Iddink hub (which wants an
// IddinkHub-Subscription-Key header besides the autorisatiesleutel) is
// enrolled with --subscription-key-file and synced, on each store. The
// subscription key is sealed: it appears in no argument, no output or log
// line (log level debug), and nowhere in the raw store. A wrong key is
// refused by the hub, so the header is really sent.
func TestIddinkProfileEndToEnd(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			l := startLAS(t, "iddink", 30, nil)
			sub := l.world.Schools[0].Creds.SubscriptionKey
			if len(sub) < 16 {
				t.Fatalf("las-sim issued subscription key %q", sub)
			}
			keyFile := writeFile(t, "autorisatiesleutel", l.creds.Autorisatiesleutel)
			subFile := writeFile(t, "subscription-key", sub+"\n")
			e.must(0, "keys", "generate", "--out", e.keys)
			add := []string{"school", "add", "--profile", "iddink", "--brin", l.creds.Brin, "--endpoint", l.endpoint,
				"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam, "--key-file", keyFile}
			if _, stderr := e.must(2, add...); !strings.Contains(stderr, "--subscription-key-file") {
				t.Errorf("school add --profile iddink without the key: %q, want it to name --subscription-key-file", stderr)
			}
			e.must(0, append(add, "--subscription-key-file", subFile)...)
			id := l.creds.Brin + l.creds.Dependancecode
			e.must(0, "consent", "set", "--school", id, "--processing", "las_exchange", "--grant", "--by", "test", "--instruction", "signed instruction 2026-1")
			m := jsonObject(t, mustOut(e.must(0, "sync", "--school", id, "--schooljaar", jaar, "--json")))
			if m["status"] != "applied" || num(t, m, "pupils") != 30 {
				t.Fatalf("iddink sync = %v, want applied with 30 pupils", m)
			}

			// A wrong subscription key: the hub refuses, the sync fails.
			wrong := writeFile(t, "wrong-subscription", strings.Repeat("0", len(sub)))
			e.must(0, append(add, "--subscription-key-file", wrong)...)
			m = jsonObject(t, mustOut(e.must(1, "sync", "--school", id, "--schooljaar", jaar, "--json")))
			if m["status"] != "failed" {
				t.Errorf("sync with a wrong subscription key = %v, want failed", m)
			}
			for _, arg := range add {
				if strings.Contains(arg, sub) {
					t.Errorf("an argument holds the subscription key")
				}
			}
			if strings.Contains(e.outputs.String(), sub) {
				t.Errorf("the output or the logs hold the subscription key")
			}
			secrets := privacySecrets{values: []privacyValue{{"subscription key", []byte(sub)}}}
			if store == "redis" {
				checkRedisAtRest(t, e, secrets, false)
				return
			}
			b, err := os.ReadFile(filepath.Join(e.dataDir, "gateway.db"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(id)) || bytes.Contains(b, []byte(sub)) {
				t.Errorf("the bolt file (%d bytes) lacks the school or holds the subscription key", len(b))
			}
		})
	}
}

func mustOut(stdout, _ string) string { return stdout }
