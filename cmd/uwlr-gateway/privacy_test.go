package main

// Privacy at rest and in output: after a full flow, neither the store (the
// bolt file's bytes; every Redis key under the test prefix) nor anything a
// command printed holds an ECK iD or the autorisatiesleutel, and no output
// holds a pupil's birth date.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// privacySecrets are the values that must never be stored or printed.
type privacySecrets struct {
	// secret byte strings, with a label for the failure message
	values []privacyValue
	// birth dates: never printed (the store may keep them: the processing
	// agreement allows it)
	birthDates []string
}

type privacyValue struct {
	label string
	b     []byte
}

var reEckID = regexp.MustCompile(`https://ketenid\.nl/201703/([0-9a-fA-F]{128})`)

// collectSecrets fetches the LAS answer as sent (independently of the CLI)
// and gathers every ECK iD in it, pupils' and teachers', as the full URL, its
// 128-hex tail and the tail's 64 raw bytes, plus the autorisatiesleutel.
func collectSecrets(t *testing.T, l *las) privacySecrets {
	t.Helper()
	conn := soap.Connection{Endpoint: l.endpoint, Autorisatiesleutel: l.creds.Autorisatiesleutel, Klantcode: l.creds.Klantcode,
		Klantnaam: l.creds.Klantnaam, Brincode: l.creds.Brin, Xsdversie: l.creds.Xsdversie}
	var buf bytes.Buffer
	if _, err := soap.NewClient(l.srv.Client(), conn).Fetch(ctxT(t), uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: jaar}, nil, &buf, nil); err != nil {
		t.Fatal(err)
	}
	var s privacySecrets
	s.values = append(s.values, privacyValue{"autorisatiesleutel", []byte(l.creds.Autorisatiesleutel)})
	seen := map[string]bool{}
	for _, m := range reEckID.FindAllSubmatch(buf.Bytes(), -1) {
		if seen[string(m[0])] {
			continue
		}
		seen[string(m[0])] = true
		tail := string(m[1])
		raw, err := hex.DecodeString(tail)
		if err != nil {
			t.Fatal(err)
		}
		s.values = append(s.values,
			privacyValue{"ECK iD " + string(m[0]), m[0]},
			privacyValue{"ECK iD tail " + tail, []byte(strings.ToLower(tail))},
			privacyValue{"ECK iD tail (raw bytes) " + tail, raw})
	}
	pupils := l.world.Schools[0].Pupils()
	if len(seen) < len(pupils) {
		t.Fatalf("found %d ECK iDs in the LAS answer, want at least one per pupil (%d)", len(seen), len(pupils))
	}
	dates := map[string]bool{}
	for _, p := range pupils {
		if p.Geboortedatum == "" {
			t.Fatalf("pupil %s has no birth date", p.Key)
		}
		if !dates[p.Geboortedatum] {
			dates[p.Geboortedatum] = true
			s.birthDates = append(s.birthDates, p.Geboortedatum)
		}
	}
	// The checks must be able to fail.
	probe := []byte("x" + string(s.values[len(s.values)-1].b) + "x " + s.birthDates[0])
	if l := s.leaks(probe, true); len(l) != 2 {
		t.Fatalf("leak check self-test found %v", l)
	}
	return s
}

// leaks lists the secrets (and, with dates, birth dates) found in b.
func (s privacySecrets) leaks(b []byte, dates bool) []string {
	var out []string
	for _, v := range s.values {
		if bytes.Contains(b, v.b) {
			out = append(out, v.label)
		}
	}
	if dates {
		for _, d := range s.birthDates {
			if bytes.Contains(b, []byte(d)) {
				out = append(out, "birth date "+d)
			}
		}
	}
	return out
}

func TestPrivacy(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			start := time.Now()
			defer func() { t.Logf("%s privacy flow took %v", store, time.Since(start).Round(time.Millisecond)) }()
			e := newE2EEnv(t, store)
			s := e.enrol(300)
			secrets := collectSecrets(t, s.las)
			n := len(s.las.world.Schools[0].Pupils())

			e.must(3, "sync", "--school", s.id, "--schooljaar", jaar)
			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")
			m := e.syncSchool(s, 0)
			if m["status"] != "applied" || num(t, m, "pupils") != n {
				t.Fatalf("sync: %v, want applied with %d pupils", m, n)
			}
			e.must(0, "sync", "--school", s.id, "--schooljaar", jaar) // text output, unchanged
			e.must(0, "sync", "--all", "--schooljaar", jaar, "--json")
			for _, js := range [][]string{nil, {"--json"}} {
				e.must(0, append([]string{"pupils", "list", "--school", s.id}, js...)...)
				e.must(0, append([]string{"school", "show", "--school", s.id}, js...)...)
				e.must(0, append([]string{"school", "list"}, js...)...)
				e.must(0, append([]string{"consent", "show", "--school", s.id}, js...)...)
				e.must(0, append([]string{"sync", "history", "--school", s.id}, js...)...)
			}

			// A change that is held, diffed and approved; then a re-seal.
			removeShare(s.las, heldShare())
			e.syncSchool(s, 0, "--dry-run")
			if m := e.syncSchool(s, 0); m["status"] != "held" {
				t.Fatalf("sync after 30%% left: %v, want held", m)
			}
			e.must(0, "sync", "--school", s.id, "--schooljaar", jaar) // text output of a held sync
			e.must(0, "sync", "diff", "--school", s.id)
			e.must(0, "sync", "diff", "--school", s.id, "--json")
			e.must(0, "sync", "approve", "--school", s.id, "--by", "x", "--json")
			e.must(0, "keys", "rotate")
			e.must(0, "keys", "rewrap")
			for _, js := range [][]string{nil, {"--json"}} {
				e.must(0, append([]string{"pupils", "list", "--school", s.id}, js...)...)
				e.must(0, append([]string{"sync", "history", "--school", s.id}, js...)...)
			}

			// Results back to the LAS: submit, deliver, receipts, evidence,
			// audit, retention and a breach report, in text and JSON.
			var ps []struct {
				ID     string `json:"id"`
				LASKey string `json:"las_key"`
			}
			out, _ := e.must(0, "pupils", "list", "--school", s.id, "--json")
			if err := json.Unmarshal([]byte(out), &ps); err != nil {
				t.Fatal(err)
			}
			var recs []string
			for i, p := range ps {
				who := fmt.Sprintf(`"pupil_id": %q`, p.ID)
				if p.LASKey != "" && i%2 == 0 {
					who = fmt.Sprintf(`"las_key": %q`, p.LASKey)
				}
				recs = append(recs, fmt.Sprintf(`{%s, "test": "REK", "date": "2025-10-01", "score": %d}`, who, i%20))
			}
			results := writeFile(t, "results.json", fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [%s]}`,
				s.id, strings.Join(recs, ",")))
			e.must(0, "results", "submit", "--file", results)
			e.must(0, "deliver")
			e.must(0, "deliver", "--json")
			for _, js := range [][]string{nil, {"--json"}} {
				e.must(0, append([]string{"results", "status", "--school", s.id, "--state", "accepted"}, js...)...)
				e.must(0, append([]string{"evidence", "verify"}, js...)...)
				e.must(0, append([]string{"audit", "show", "--school", s.id, "--limit", "0"}, js...)...)
				e.must(0, append([]string{"audit", "verify"}, js...)...)
				e.must(0, append([]string{"retention", "run", "--dry-run"}, js...)...)
			}
			status, _ := e.must(0, "results", "status", "--school", s.id, "--json")
			var st struct {
				Receipts []struct {
					Batch string `json:"batch"`
					State string `json:"state"`
				} `json:"receipts"`
			}
			if err := json.Unmarshal([]byte(status), &st); err != nil || len(st.Receipts) != len(ps) {
				t.Fatalf("results status: %d receipts (%v), want %d", len(st.Receipts), err, len(ps))
			}
			// Pupils who left the LAS are refused by it (split off, rejected);
			// show the evidence of an accepted delivery.
			i := slices.IndexFunc(st.Receipts, func(r struct {
				Batch string `json:"batch"`
				State string `json:"state"`
			}) bool {
				return r.State == "accepted"
			})
			if i < 0 {
				t.Fatal("no result was accepted")
			}
			e.must(0, "evidence", "show", "--delivery", st.Receipts[i].Batch)
			export := filepath.Join(t.TempDir(), "audit.xml")
			e.must(0, "audit", "export", "--school", s.id, "--out", export)
			if b, err := os.ReadFile(export); err != nil || len(secrets.leaks(b, true)) > 0 || bytes.Contains(b, []byte("ketenid")) {
				t.Errorf("the audit export holds a secret value or an ECK iD (%v)", err)
			}
			for _, format := range []string{"markdown", "json"} {
				e.must(0, "report", "breach", "--from", "2020-01-01", "--to", "2099-01-01", "--format", format)
			}

			// (c) Every output of the flow.
			outputs := e.outputs.String()
			if l := secrets.leaks([]byte(outputs), true); len(l) > 0 {
				t.Errorf("the command output holds %d secret values, e.g. %v", len(l), l[:min(3, len(l))])
			}
			if strings.Contains(strings.ToLower(outputs), "ketenid") {
				t.Errorf("the command output mentions an ECK iD")
			}

			// (a), (b) The store at rest.
			switch store {
			case "bolt":
				db := filepath.Join(e.dataDir, "gateway.db")
				b, err := os.ReadFile(db)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(b, []byte(s.id)) || !bytes.Contains(b, []byte("LL000001")) {
					t.Fatalf("%s (%d bytes) does not hold the school: wrong file?", db, len(b))
				}
				if l := secrets.leaks(b, false); len(l) > 0 {
					t.Errorf("%s holds %d secret values, e.g. %v", db, len(l), l[:min(3, len(l))])
				}
				// Evidence is stored gzipped: look inside every gzip stream too.
				// (JSON records: the gzipped document is base64.)
				var docs bytes.Buffer
				for _, m := range regexp.MustCompile(`"doc":"([A-Za-z0-9+/=]+)"`).FindAllSubmatch(b, -1) {
					if raw, err := base64.StdEncoding.DecodeString(string(m[1])); err == nil {
						docs.Write(raw)
					}
				}
				inner := gunzipAll(docs.Bytes())
				if !bytes.Contains(inner, []byte("leerresultaten_verzoek")) {
					t.Errorf("no evidence found in %s: the check read the wrong bytes", db)
				}
				if l := secrets.leaks(inner, false); len(l) > 0 || bytes.Contains(inner, []byte("ketenid")) {
					t.Errorf("the evidence in %s holds %d secret values (or an ECK iD), e.g. %v", db, len(l), l[:min(3, len(l))])
				}
				if bytes.Contains(bytes.ToLower(b), []byte("ketenid")) {
					t.Errorf("%s holds an ECK iD", db)
				}
			case "redis":
				checkRedisAtRest(t, e, secrets, true)
			}
		})
	}
}

// checkRedisAtRest looks at every key under the test prefix, as DUMPed and
// as read with the command of its type (DUMP may compress long strings);
// with evidence, delivery evidence must be among what it read.
func checkRedisAtRest(t *testing.T, e *e2eEnv, secrets privacySecrets, evidence bool) {
	t.Helper()
	keys := 0
	values := redisValues(t, e, func(k, dump string) {
		keys++
		if l := secrets.leaks([]byte(dump), false); len(l) > 0 {
			t.Errorf("DUMP %s holds %d secret values, e.g. %v", k, len(l), l[:min(3, len(l))])
		}
	})
	if keys < 5 {
		t.Fatalf("only %d keys under %s", keys, e.prefix)
	}
	if l := secrets.leaks(values, false); len(l) > 0 {
		t.Errorf("the Redis values hold %d secret values, e.g. %v", len(l), l[:min(3, len(l))])
	}
	// Evidence is stored gzipped: look inside every gzip stream too.
	inner := gunzipAll(values)
	if len(inner) == 0 && evidence {
		t.Errorf("no evidence found under %s: the check read the wrong keys", e.prefix)
	}
	if l := secrets.leaks(inner, false); len(l) > 0 || bytes.Contains(inner, []byte("ketenid")) {
		t.Errorf("the evidence in Redis holds %d secret values (or an ECK iD), e.g. %v", len(l), l[:min(3, len(l))])
	}
	if bytes.Contains(bytes.ToLower(values), []byte("ketenid")) {
		t.Errorf("the Redis values hold an ECK iD")
	}
	if !bytes.Contains(values, []byte("LL000001")) {
		t.Fatalf("the values read under %s hold no pupil: the check read the wrong keys", e.prefix)
	}
}

// redisValues reads every key under the test prefix with the command of
// its type and returns what it read, each key's values after a line "key
// K"; dump gets each key's DUMP first. A key it cannot read fails the
// test.
func redisValues(t *testing.T, e *e2eEnv, dump func(key, d string)) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all bytes.Buffer
	for _, k := range e.redisKeys(ctx) {
		fmt.Fprintf(&all, "key %s\n", k)
		d, err := e.rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		dump(k, d)
		typ, err := e.rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatalf("TYPE %s: %v", k, err)
		}
		vs, err := redisRead(ctx, e.rdb, k, typ)
		if err != nil {
			t.Fatalf("reading %s (%s): %v", k, typ, err)
		}
		all.WriteString(strings.Join(vs, "\n") + "\n")
	}
	return all.Bytes()
}

// redisRead reads key k of type typ with the command of its type.
func redisRead(ctx context.Context, rdb *redis.Client, k, typ string) ([]string, error) {
	switch typ {
	case "string":
		v, err := rdb.Get(ctx, k).Result()
		return []string{v}, err
	case "hash":
		h, err := rdb.HGetAll(ctx, k).Result()
		var vs []string
		for f, v := range h {
			vs = append(vs, f+"="+v)
		}
		return vs, err
	case "list":
		return rdb.LRange(ctx, k, 0, -1).Result()
	case "set":
		return rdb.SMembers(ctx, k).Result()
	case "zset":
		return rdb.ZRange(ctx, k, 0, -1).Result()
	case "stream":
		msgs, err := rdb.XRange(ctx, k, "-", "+").Result()
		var vs []string
		for _, m := range msgs {
			vs = append(vs, fmt.Sprintf("%s %v", m.ID, m.Values))
		}
		return vs, err
	}
	return nil, fmt.Errorf("type %s, which this test cannot read", typ)
}

// TestPrivacyFailedSync: a LAS that echoes the key in its fault. The failed
// sync's output, its recorded run (sync history) and the store at rest must
// not hold the key.
func TestPrivacyFailedSync(t *testing.T) {
	const echoedKey = "Ek9-echoed-key-that-must-never-be-stored"
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			keyFile := writeFile(t, "autorisatiesleutel", echoedKey)
			e.must(0, "keys", "generate", "--out", e.keys)
			e.must(0, "school", "add", "--brin", "12AB", "--endpoint", echoingLAS(t), "--klantcode", "K", "--klantnaam", "N", "--key-file", keyFile)
			e.must(0, "consent", "set", "--school", "12AB00", "--processing", "las_exchange", "--grant", "--by", "x", "--instruction", "signed instruction 2026-1")
			out, _ := e.must(1, "sync", "--school", "12AB00", "--schooljaar", jaar, "--json")
			if m := jsonObject(t, out); m["status"] != "failed" || !strings.Contains(out, "[redacted:key]") {
				t.Errorf("sync against an echoing LAS: %v, want failed with the key redacted", m)
			}
			e.must(1, "sync", "--school", "12AB00", "--schooljaar", jaar)
			e.must(0, "sync", "history", "--school", "12AB00", "--json")
			e.must(0, "sync", "history", "--school", "12AB00")
			e.must(0, "school", "show", "--school", "12AB00", "--json")
			if strings.Contains(e.outputs.String(), echoedKey) {
				t.Errorf("the output holds the key:\n%s", e.outputs.String())
			}
			switch store {
			case "bolt":
				b, err := os.ReadFile(filepath.Join(e.dataDir, "gateway.db"))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(echoedKey)) {
					t.Errorf("the bolt file holds the key")
				}
			case "redis":
				ctx := ctxT(t)
				for _, k := range e.redisKeys(ctx) {
					dump, err := e.rdb.Dump(ctx, k).Result()
					if err != nil {
						t.Fatal(err)
					}
					var vals []string
					switch typ := e.rdb.Type(ctx, k).Val(); typ {
					case "string":
						vals = []string{e.rdb.Get(ctx, k).Val()}
					case "list":
						vals = e.rdb.LRange(ctx, k, 0, -1).Val()
					case "hash":
						for f, v := range e.rdb.HGetAll(ctx, k).Val() {
							vals = append(vals, f, v)
						}
					}
					if strings.Contains(dump, echoedKey) || strings.Contains(strings.Join(vals, "\n"), echoedKey) {
						t.Errorf("Redis key %s holds the key", k)
					}
				}
			}
		})
	}
}

// gunzipAll decompresses every gzip stream found in b (the evidence
// documents the store keeps) and returns them concatenated.
func gunzipAll(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i+2 < len(b); i++ {
		if b[i] != 0x1f || b[i+1] != 0x8b || b[i+2] != 8 {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b[i:]))
		if err != nil {
			continue
		}
		zr.Multistream(false)
		d, _ := io.ReadAll(zr)
		out.Write(d)
	}
	return out.Bytes()
}
