package main

// TestPrivacyEveryDoor: every command and API route that touches personal
// data, on each store, against a LAS that sends whole EDEXML records (BSN,
// ethnicity, parents' countries, ...). Afterwards neither the output, the
// logs, the files written, the store's raw bytes nor (after a retention
// purge) the store hold an ECK iD (full, 128-hex tail, raw bytes), a BSN,
// the autorisatiesleutel in any echo form or, once purged, a pupil's
// surname or birth date.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// doorSecrets are privacySecrets plus what a whole EDEXML record adds.
type doorSecrets struct {
	privacySecrets
	surnames []string // pupils' surnames no teacher has
}

// collectDoorSecrets reads the LAS's answer as sent, independently of the
// gateway: ECK iDs and the key (collectSecrets), every BSN, and the
// pupils' surnames that no teacher shares (so a teacher kept after the
// purge is not mistaken for a pupil left behind).
func collectDoorSecrets(t *testing.T, l *las) doorSecrets {
	t.Helper()
	s := doorSecrets{privacySecrets: collectSecrets(t, l)}
	key := l.creds.Autorisatiesleutel
	for label, v := range map[string]string{"key lower-cased": strings.ToLower(key), "key upper-cased": strings.ToUpper(key),
		"key URL-encoded": url.QueryEscape(key), "key base64": base64.StdEncoding.EncodeToString([]byte(key))} {
		s.values = append(s.values, privacyValue{label, []byte(v)})
	}
	conn := soap.Connection{Endpoint: l.endpoint, Autorisatiesleutel: key, Klantcode: l.creds.Klantcode,
		Klantnaam: l.creds.Klantnaam, Brincode: l.creds.Brin, Xsdversie: l.creds.Xsdversie}
	pupils, teachers := map[string]bool{}, map[string]bool{}
	bsns := 0
	h := soap.Handler{
		Leerling: func(p *uwlr.Leerling) error {
			if p.Bsn != "" {
				bsns++
				s.values = append(s.values, privacyValue{"BSN of " + p.Key, []byte(p.Bsn)})
			}
			pupils[p.Achternaam] = true
			return nil
		},
		Leerkracht: func(k *uwlr.Leerkracht) error { teachers[k.Achternaam] = true; return nil },
	}
	if _, err := soap.NewClient(l.srv.Client(), conn).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, h); err != nil {
		t.Fatal(err)
	}
	if bsns < len(pupils) {
		t.Fatalf("the LAS sent %d BSNs for %d pupil surnames: it does not send whole records", bsns, len(pupils))
	}
	for n := range pupils {
		if len(n) >= 4 && !teachers[n] {
			s.surnames = append(s.surnames, n)
		}
	}
	if len(s.surnames) < 5 {
		t.Fatalf("only %d pupil surnames no teacher has", len(s.surnames))
	}
	return s
}

// purged lists the surnames and birth dates found in b.
func (s doorSecrets) purged(b []byte) []string {
	var out []string
	for _, n := range s.surnames {
		if bytes.Contains(b, []byte(n)) {
			out = append(out, "surname "+n)
		}
	}
	for _, d := range s.birthDates {
		if bytes.Contains(b, []byte(d)) {
			out = append(out, "birth date "+d)
		}
	}
	return out
}

func TestPrivacyEveryDoor(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			l := startLAS(t, "esis", 40, nil)
			secrets := collectDoorSecrets(t, l)
			id := l.creds.Brin + l.creds.Dependancecode
			files := doorCommands(t, e, l, id)
			api := doorAPI(t, e, id)

			// The checks read the right bytes: before the purge the store
			// holds the pupils' surnames and birth dates (the agreement allows
			// it), and the API answers are real.
			if before := secrets.purged(doorRawStore(t, e, store)); len(before) < len(secrets.surnames) {
				t.Fatalf("before the purge the raw store holds only %d of the surnames and birth dates: the check reads the wrong bytes", len(before))
			}
			if !strings.Contains(api, "Bea de Beheerder") || strings.Count(api, " 200\n") < 20 || !strings.Contains(api, `"pupil":`) {
				t.Fatalf("the API answers are not what the routes give:\n%.2000s", api)
			}

			// Every pupil leaves the LAS; two years and more later retention
			// purges them.
			removeShare(l, 1)
			if m := jsonObject(t, mustOut(e.must(0, "sync", "--school", id, "--schooljaar", jaar, "--json"))); m["status"] != "held" {
				t.Fatalf("sync after every pupil left: %v, want held", m)
			}
			e.must(0, "sync", "approve", "--school", id, "--by", "Dora DPO")
			e.must(0, "retention", "run", "--now", time.Now().AddDate(3, 0, 0).Format(time.DateOnly))
			if out, _ := e.must(0, "pupils", "list", "--school", id, "--json"); strings.TrimSpace(out) != "[]" {
				t.Fatalf("pupils after the purge: %s", out)
			}

			all := []byte(e.outputs.String() + api)
			if leaks := secrets.leaks(all, false); len(leaks) > 0 {
				t.Errorf("output, logs or API answers hold %d secret values, e.g. %v", len(leaks), leaks[:min(3, len(leaks))])
			}
			for name, b := range files {
				if leaks := secrets.leaks(b, !strings.HasPrefix(name, "redacted")); len(leaks) > 0 {
					t.Errorf("the file %s holds %v", name, leaks[:min(3, len(leaks))])
				}
				if name == "webhook bodies" || strings.HasPrefix(name, "export ") {
					if left := secrets.purged(b); len(left) > 0 {
						t.Errorf("%s holds a pupil's surname or birth date: %v", name, left[:min(3, len(left))])
					}
				}
			}
			raw := doorRawStore(t, e, store)
			if leaks := secrets.leaks(raw, false); len(leaks) > 0 {
				t.Errorf("the raw %s store holds %d secret values, e.g. %v", store, len(leaks), leaks[:min(3, len(leaks))])
			}
			if left := secrets.purged(raw); len(left) > 0 {
				t.Errorf("after the purge the raw %s store still holds %d of the purged pupils' data, e.g. %v", store, len(left), left[:min(3, len(left))])
			}
		})
	}
}

// doorCommands runs every CLI command that touches personal data and
// returns the files it wrote that may be handed on (a raw capture is
// personal data by design and checked only for its mode).
func doorCommands(t *testing.T, e *e2eEnv, l *las, id string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	keyFile := writeFile(t, "key", l.creds.Autorisatiesleutel)
	conn := l.args(keyFile)
	e.must(0, "keys", "generate", "--out", e.keys)
	e.must(0, "school", "add", "--profile", "esis", "--brin", l.creds.Brin, "--endpoint", l.endpoint, "--klantcode", l.creds.Klantcode,
		"--klantnaam", l.creds.Klantnaam, "--key-file", keyFile, "--by", "Olaf Operator")
	e.must(0, "consent", "set", "--school", id, "--processing", "las_exchange", "--grant", "--by", "Olaf Operator", "--instruction", "letter 2026-11")
	e.must(0, "school", "contact", "set", "--school", id, "--name", "Bea de Beheerder", "--email", "bea@school.example")
	e.must(0, "sync", "--school", id, "--schooljaar", jaar, "--json")
	e.must(0, append([]string{"las", "check", "--school", id}, conn...)...)
	e.must(0, append([]string{"conformance", "--school", id}, conn...)...)
	redacted, rawFile := filepath.Join(dir, "redacted.xml"), filepath.Join(dir, "raw.xml")
	e.must(0, append([]string{"las", "fetch", "--out", redacted}, conn...)...)
	e.must(0, "las", "parse", "--file", redacted, "--json")
	e.must(0, append([]string{"las", "fetch", "--out", rawFile, "--raw", "--school", id, "--reason", "support case 7"}, conn...)...)
	if fi, err := os.Stat(rawFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("raw capture: %v, %v; want mode 0600", fi, err)
	}
	var ps []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(mustOut(e.must(0, "pupils", "list", "--school", id, "--json"))), &ps); err != nil || len(ps) == 0 {
		t.Fatalf("pupils list: %d, %v", len(ps), err)
	}
	hook := doorRecipients(t, e, id)
	var recs []string
	for i, p := range ps {
		recs = append(recs, fmt.Sprintf(`{"pupil_id": %q, "test": "REK", "date": "2025-10-01", "score": %d}`, p.ID, i%20))
	}
	e.must(0, "results", "submit", "--file", writeFile(t, "results.json",
		fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [%s]}`, id, strings.Join(recs, ","))))
	e.must(0, "deliver")
	status := mustOut(e.must(0, "results", "status", "--school", id, "--json"))
	var st struct {
		Receipts []struct{ Batch, State string } `json:"receipts"`
	}
	if err := json.Unmarshal([]byte(status), &st); err != nil || len(st.Receipts) == 0 || st.Receipts[0].State != "accepted" {
		t.Fatalf("results status: %s (%v)", status, err)
	}
	out := map[string]string{"evidence.xml": filepath.Join(dir, "evidence.xml"), "audit.xml": filepath.Join(dir, "audit.xml"),
		"breach.json": filepath.Join(dir, "breach.json"), "breach.md": filepath.Join(dir, "breach.md")}
	e.must(0, "evidence", "show", "--delivery", st.Receipts[0].Batch, "--out", out["evidence.xml"])
	e.must(0, "evidence", "verify")
	e.must(0, "audit", "show", "--school", id, "--limit", "0")
	e.must(0, "audit", "export", "--school", id, "--out", out["audit.xml"])
	e.must(0, "report", "breach", "--from", "2020-01-01", "--to", "2099-01-01", "--format", "json", "--out", out["breach.json"])
	e.must(0, "report", "breach", "--from", "2020-01-01", "--to", "2099-01-01", "--out", out["breach.md"])
	e.must(0, "retention", "run", "--dry-run", "--json")
	files := doorExports(t, e, id, dir, hook)
	out["redacted capture"] = redacted
	for name, p := range out {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

// bodies keeps what a webhook receiver got.
type bodies struct {
	mu  sync.Mutex
	got [][]byte
}

func (b *bodies) all() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Join(b.got, []byte("\n"))
}

// doorRecipients registers a recipient under each optional processing (a
// dashboard's webhook on loopback, a research and a legal recipient taking
// files, a feed) and a legal basis, and grants the three processings.
func doorRecipients(t *testing.T, e *e2eEnv, id string) *bodies {
	t.Helper()
	hook := &bodies{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hook.mu.Lock()
		hook.got = append(hook.got, b)
		hook.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	secret, err := webhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	appendFile(t, e.config, "legal:\n  bases:\n    - name: wet\n      reference: \"art. 3\"\n      recipient: insp\n"+
		"      fields: [school, jaargroep, birth_year, gender, test, date, score]\n")
	add := func(args ...string) {
		e.must(0, append([]string{"recipient", "add", "--school", id, "--basis", "overeenkomst 2026"}, args...)...)
	}
	add("--processing", "dashboards", "--kind", "webhook", "--name", "dash", "--url", srv.URL, "--secret-file", writeFile(t, "whsec", secret))
	add("--processing", "dashboards", "--kind", "feed", "--name", "feed")
	add("--processing", "research", "--kind", "file", "--name", "uni")
	add("--processing", "legal", "--kind", "file", "--name", "insp")
	e.must(0, "study", "add", "--school", id, "--name", "s1", "--purpose", "rekenen", "--recipient", "uni", "--until", "2099-07-31", "--k", "2")
	for _, p := range []string{"dashboards", "research", "legal"} {
		e.must(0, "consent", "set", "--school", id, "--processing", p, "--grant", "--by", "Olaf Operator", "--instruction", "letter 2026-12")
	}
	return hook
}

// doorExports makes both exports and returns their files and what the
// dashboard's webhook received, to be checked with the other files.
func doorExports(t *testing.T, e *e2eEnv, id, dir string, hook *bodies) map[string][]byte {
	t.Helper()
	ex := filepath.Join(dir, "research")
	e.must(0, "export", "research", "--school", id, "--study", "s1", "--out", ex)
	e.must(0, "export", "legal", "--school", id, "--basis", "wet", "--out", filepath.Join(dir, "legal.csv"))
	files := map[string][]byte{"webhook bodies": hook.all()}
	if len(files["webhook bodies"]) == 0 {
		t.Fatal("the dashboard's webhook got nothing")
	}
	for _, p := range []string{"research/pupils.csv", "research/results.csv", "research/datapackage.json", "research/manifest.json",
		"research/manifest.xml", "legal.csv", "legal.csv.evidence.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		files["export "+p] = b
	}
	return files
}

// doorAPI runs serve in this process and calls every route that touches
// personal data, with the school admin's and the operator's tokens, then
// stops it. It returns every answer and serve's log.
func doorAPI(t *testing.T, e *e2eEnv, id string) string {
	t.Helper()
	var admin, op struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal([]byte(mustOut(e.must(0, "token", "create", "--role", "school-admin", "--school", id, "--name", "Anna", "--json"))), &admin)
	_ = json.Unmarshal([]byte(mustOut(e.must(0, "token", "create", "--role", "operator", "--name", "Olaf", "--json"))), &op)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("UWLR_SERVER_ADDR", addr)
	t.Setenv("UWLR_SCHEDULE_ENABLED", "false")
	ctx, stop := context.WithCancel(ctxT(t))
	var logs syncWriter
	done := make(chan int, 1)
	args := []string{"serve", "--config", e.config, "--store", e.store, "--data-dir", e.dataDir, "--vault-keys", e.keys}
	if e.store == "redis" {
		args = append(args, "--redis-url", e2eRedisURL())
	}
	go func() { done <- run(ctx, args, strings.NewReader(""), &logs, &logs) }()
	base := "http://" + addr
	waitReady(t, base, done, &logs)
	var answers strings.Builder
	call := func(method, path, tok, body string) {
		req, _ := http.NewRequestWithContext(ctxT(t), method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		fmt.Fprintf(&answers, "%s %s %d\n%s\n", method, path, resp.StatusCode, b)
	}
	s := "/api/v1/schools/" + id
	for _, tok := range []string{admin.Token, op.Token} {
		for _, p := range []string{"/api/v1/schools", s, s + "/consent", s + "/syncs", s + "/held-sync", s + "/results", s + "/audit", s + "/contact",
			s + "/recipients", s + "/recipients/dash", s + "/feeds/results?recipient=feed&limit=5", s + "/studies"} {
			call(http.MethodGet, p, tok, "")
		}
	}
	call(http.MethodPut, s+"/consent/dashboards", admin.Token, `{"granted": true}`)
	call(http.MethodPost, s+"/connection-test", admin.Token, "")
	call(http.MethodPost, "/api/v1/audit/verify", op.Token, "")
	stop()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, logs.String())
	}
	return answers.String() + logs.String()
}

// waitReady waits until serve answers /readyz (and fails at once if it
// exits first).
func waitReady(t *testing.T, base string, done chan int, logs *syncWriter) {
	t.Helper()
	observe.WaitFor(t, "serve to answer /readyz", func() (bool, string) {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before it was ready:\n%s", code, logs.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// doorRawStore is everything the store holds: the bolt file's bytes, or
// every Redis value under the test's prefix (DUMPed and read by type).
func doorRawStore(t *testing.T, e *e2eEnv, store string) []byte {
	t.Helper()
	if store == "bolt" {
		b, err := os.ReadFile(filepath.Join(e.dataDir, "gateway.db"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var all bytes.Buffer
	values := redisValues(t, e, func(k, d string) { all.WriteString(k + "\n" + d + "\n") })
	all.Write(values)
	return all.Bytes()
}

// syncWriter is a buffer serve writes to from its goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
