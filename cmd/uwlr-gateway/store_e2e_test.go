package main

// End-to-end flows of the store-backed commands (keys, school, consent, sync,
// pupils), run in-process against a simulated LAS, once on each store: the
// embedded bolt file and a real Redis (REDIS_URL, default
// redis://127.0.0.1:6379/0) under a random key prefix that is deleted at
// cleanup. A missing Redis fails the redis cases.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// e2eStores are the stores every flow runs on.
var e2eStores = []string{"bolt", "redis"}

// e2eRedisURL is the Redis server of the redis cases.
func e2eRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// e2eEnv is one gateway installation: a store, a key file, a config file.
// Every command run through it gets the global flags, and its output is
// kept for the privacy checks.
type e2eEnv struct {
	t       *testing.T
	store   string
	dataDir string
	keys    string
	config  string
	prefix  string        // redis key prefix
	rdb     *redis.Client // raw client on the test server (redis only)
	outputs strings.Builder
}

func newE2EEnv(t *testing.T, store string) *e2eEnv {
	t.Helper()
	dir := t.TempDir()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	e := &e2eEnv{t: t, store: store, dataDir: filepath.Join(dir, "data"), keys: filepath.Join(dir, "vault-keys.json"),
		config: filepath.Join(dir, "config.yaml"), prefix: "uwlrtest:e2e:" + hex.EncodeToString(b[:]) + ":"}
	// log.level debug: whatever the commands log must hold no secret either.
	cfg := fmt.Sprintf("log:\n  level: debug\nstore:\n  key_prefix: %q\n", e.prefix)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if store == "redis" {
		opts, err := redis.ParseURL(e2eRedisURL())
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		e.rdb = redis.NewClient(opts)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.rdb.Ping(ctx).Err(); err != nil {
			_ = e.rdb.Close()
			t.Fatalf("the redis cases need a Redis server at $REDIS_URL (default redis://127.0.0.1:6379/0): %v", err)
		}
		t.Cleanup(func() {
			// Only this test's keys: SCAN + DEL under the prefix, never FLUSH*.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if ks := e.redisKeys(ctx); len(ks) > 0 {
				if err := e.rdb.Del(ctx, ks...).Err(); err != nil {
					t.Errorf("cleanup: DEL %d test keys: %v", len(ks), err)
				}
			}
			_ = e.rdb.Close()
		})
	}
	return e
}

// redisKeys lists every key under the prefix.
func (e *e2eEnv) redisKeys(ctx context.Context) []string {
	e.t.Helper()
	var out []string
	var cursor uint64
	for {
		ks, next, err := e.rdb.Scan(ctx, cursor, e2eGlobEscape(e.prefix)+"*", 1000).Result()
		if err != nil {
			e.t.Fatalf("SCAN %s*: %v", e.prefix, err)
		}
		out = append(out, ks...)
		if next == 0 {
			sort.Strings(out)
			return slices.Compact(out)
		}
		cursor = next
	}
}

func e2eGlobEscape(s string) string {
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

// run runs one command with the global flags of the installation.
func (e *e2eEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	all := append(slices.Clone(args), "--config", e.config, "--store", e.store, "--data-dir", e.dataDir, "--vault-keys", e.keys)
	if e.store == "redis" {
		all = append(all, "--redis-url", e2eRedisURL())
	}
	code, stdout, stderr = cli(e.t, "", all...)
	fmt.Fprintf(&e.outputs, "$ %s\n%s\n%s\n", strings.Join(args, " "), stdout, stderr)
	return code, stdout, stderr
}

// must runs a command and fails the test unless it exits with want.
func (e *e2eEnv) must(want int, args ...string) (stdout, stderr string) {
	e.t.Helper()
	code, stdout, stderr := e.run(args...)
	if code != want {
		e.t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// e2eSchool is a simulated LAS with school 0 enrolled in an installation.
type e2eSchool struct {
	las     *las
	id      string
	keyFile string
}

// enrol generates the key file and enrols school 0 of a fresh simulated LAS.
func (e *e2eEnv) enrol(pupils int) *e2eSchool {
	e.t.Helper()
	l := startLAS(e.t, "standard", pupils, nil)
	s := &e2eSchool{las: l, id: l.creds.Brin + l.creds.Dependancecode, keyFile: writeFile(e.t, "autorisatiesleutel", l.creds.Autorisatiesleutel+"\n")}
	out, _ := e.must(0, "keys", "generate", "--out", e.keys)
	if !strings.Contains(out, "term 1 active") {
		e.t.Errorf("keys generate: %q", out)
	}
	if l.creds.Klantcode != "UWLRGW" || l.creds.Klantnaam != "uwlr-gateway" {
		e.t.Fatalf("las-sim credentials %+v", l.creds)
	}
	out, _ = e.must(0, "school", "add", "--brin", l.creds.Brin, "--dependancecode", l.creds.Dependancecode, "--endpoint", l.endpoint,
		"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam, "--key-file", s.keyFile, "--profile", "standard")
	if !strings.Contains(out, "school "+s.id+" enrolled") {
		e.t.Errorf("school add: %q", out)
	}
	return s
}

// syncJSONOut runs `sync --school ID --json` (plus extra) and decodes its one object.
func (e *e2eEnv) syncSchool(s *e2eSchool, want int, extra ...string) map[string]any {
	e.t.Helper()
	out, _ := e.must(want, append([]string{"sync", "--school", s.id, "--schooljaar", jaar, "--json"}, extra...)...)
	m := jsonObject(e.t, out)
	if m["school"] != s.id {
		e.t.Errorf("sync result for %v, want %s", m["school"], s.id)
	}
	return m
}

// e2ePupil is one line of `pupils list --json`.
type e2ePupil struct {
	ID     string `json:"id"`
	LASKey string `json:"las_key"`
	Name   string `json:"name"`
	EckID  string `json:"eckid"`
	LeftOn string `json:"left_on"`
}

func (e *e2eEnv) pupils(s *e2eSchool) ([]e2ePupil, string) {
	e.t.Helper()
	out, _ := e.must(0, "pupils", "list", "--school", s.id, "--json")
	var ps []e2ePupil
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		e.t.Fatalf("pupils list --json: %v\n%s", err, out)
	}
	return ps, out
}

// history runs `sync history --json`: the runs, newest first.
func (e *e2eEnv) history(s *e2eSchool) []map[string]any {
	e.t.Helper()
	out, _ := e.must(0, "sync", "history", "--school", s.id, "--json")
	var runs []map[string]any
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		e.t.Fatalf("sync history --json: %v\n%s", err, out)
	}
	return runs
}

// heldShare is the share of pupils to remove so that the sync is held: 30%,
// above the 10% limit, except from 1 August to 1 October (Amsterdam), when
// the rollover limit of 40% applies.
func heldShare() float64 {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		loc = time.UTC
	}
	if m := time.Now().In(loc).Month(); m == time.August || m == time.September {
		return 0.45
	}
	return 0.30
}

// removeShare makes the simulated LAS drop the first share of its pupils and
// returns the LAS keys it dropped.
func removeShare(l *las, share float64) map[string]bool {
	gone := map[string]bool{}
	l.world.Schools[0].EditPupils(time.Now().Add(2*time.Second), func(ps []uwlr.Leerling) []uwlr.Leerling {
		n := int(float64(len(ps)) * share)
		out := ps[:0:0]
		for i, p := range ps {
			if i < n {
				gone[p.Key] = true
				continue
			}
			out = append(out, p)
		}
		return out
	})
	return gone
}

var reReSealed = regexp.MustCompile(`re-sealed (\d+) values in (\d+) schools with term (\d+)`)

func TestStoreE2E(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			start := time.Now()
			defer func() { t.Logf("%s flow took %v", store, time.Since(start).Round(time.Millisecond)) }()
			e := newE2EEnv(t, store)
			s := e.enrol(120)
			simPupils := s.las.world.Schools[0].Pupils()
			n := len(simPupils)

			// Nothing flows before the school opts in: exit 3, status refused.
			m := e.syncSchool(s, exitConsent)
			if m["status"] != "refused" || num(t, m, "pupils") != 0 {
				t.Errorf("sync before consent: %v", m)
			}
			if ps, _ := e.pupils(s); len(ps) != 0 {
				t.Errorf("a refused sync stored %d pupils", len(ps))
			}

			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")

			m = e.syncSchool(s, 0)
			if m["status"] != "applied" || num(t, m, "pupils") != n || num(t, m, "added") != n || num(t, m, "changed") != 0 || num(t, m, "left") != 0 {
				t.Errorf("first sync: %v, want applied with %d pupils, all added", m, n)
			}
			teachers := num(t, m, "teachers") // the standard profile gives every teacher an ECK iD
			m = e.syncSchool(s, 0)
			if m["status"] != "unchanged" || num(t, m, "added") != 0 || num(t, m, "left") != 0 {
				t.Errorf("second sync: %v, want unchanged", m)
			}

			ps, raw := e.pupils(s)
			if len(ps) != n {
				t.Errorf("pupils list: %d pupils, want %d", len(ps), n)
			}
			for _, p := range ps {
				if p.EckID != "present" || p.LeftOn != "" || p.ID == "" || p.LASKey == "" {
					t.Errorf("pupil %+v: want eckid present, not left", p)
					break
				}
			}
			if strings.Contains(strings.ToLower(raw), "ketenid") {
				t.Errorf("pupils list prints an ECK iD:\n%s", raw)
			}

			out, _ := e.must(0, "consent", "show", "--school", s.id, "--json")
			var cs struct {
				School     string          `json:"school"`
				Processing map[string]bool `json:"processing"`
				History    []struct {
					Processing string `json:"processing"`
					Old, New   bool
					By         string `json:"by"`
				} `json:"history"`
			}
			if err := json.Unmarshal([]byte(out), &cs); err != nil {
				t.Fatalf("consent show --json: %v\n%s", err, out)
			}
			if cs.School != s.id || !cs.Processing["las_exchange"] || cs.Processing["research"] || len(cs.History) != 1 ||
				cs.History[0].By != "Alice Admin (cli, instruction signed instruction 2026-1)" || cs.History[0].Processing != "las_exchange" ||
				!cs.History[0].New || cs.History[0].Old {
				t.Errorf("consent show: %s", out)
			}

			// 30% of the pupils leave the LAS (more in the rollover months).
			gone := removeShare(s.las, heldShare())
			if len(gone) != int(float64(n)*heldShare()) {
				t.Fatalf("removed %d pupils", len(gone))
			}

			// A dry run sees the change and stores nothing.
			before, _ := e.pupils(s)
			showBefore, _ := e.must(0, "school", "show", "--school", s.id, "--json")
			m = e.syncSchool(s, 0, "--dry-run")
			if m["dry_run"] != true || num(t, m, "left") != len(gone) {
				t.Errorf("dry run: %v, want dry_run with %d left", m, len(gone))
			}
			if after, _ := e.pupils(s); !slices.Equal(before, after) {
				t.Errorf("the dry run changed the stored pupils")
			}
			if showAfter, _ := e.must(0, "school", "show", "--school", s.id, "--json"); showAfter != showBefore {
				t.Errorf("the dry run changed the school:\n%s\nwas\n%s", showAfter, showBefore)
			}
			if code, _, stderr := e.run("sync", "diff", "--school", s.id, "--json"); code != 1 || !strings.Contains(stderr, "no held sync") {
				t.Errorf("sync diff after a dry run: exit %d, %q; want 1, no held sync", code, stderr)
			}

			// The real sync is held: too many pupils would leave.
			m = e.syncSchool(s, 0)
			if m["status"] != "held" || num(t, m, "left") != len(gone) || num(t, m, "pupils") != n-len(gone) {
				t.Errorf("sync after 30%% left: %v, want held with %d left", m, len(gone))
			}
			if r, _ := m["reasons"].([]any); len(r) == 0 {
				t.Errorf("held without reasons: %v", m)
			}
			if after, _ := e.pupils(s); !slices.Equal(before, after) {
				t.Errorf("the held sync changed the stored pupils")
			}
			out, _ = e.must(0, "sync", "diff", "--school", s.id, "--json")
			var d struct {
				Run                  string `json:"run"`
				Added, Changed, Left int
				Changes              []struct {
					LASKey string `json:"las_key"`
					Kind   string `json:"kind"`
				} `json:"changes"`
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("sync diff --json: %v\n%s", err, out)
			}
			if d.Left != len(gone) || d.Added != 0 || d.Changed != 0 || len(d.Changes) != len(gone) || d.Run != m["run"] {
				t.Errorf("sync diff: run %s added %d changed %d left %d, %d changes; want run %v, %d left", d.Run, d.Added, d.Changed, d.Left, len(d.Changes), m["run"], len(gone))
			}
			for _, c := range d.Changes {
				if c.Kind != "left" || !gone[c.LASKey] {
					t.Errorf("diff change %+v: want only the removed pupils, as left", c)
				}
			}

			out, _ = e.must(0, "sync", "approve", "--school", s.id, "--by", "x")
			if !strings.Contains(out, fmt.Sprintf("%d left", len(gone))) {
				t.Errorf("sync approve: %q", out)
			}
			ps, _ = e.pupils(s)
			if len(ps) != n {
				t.Errorf("after approve: %d pupils, want %d (left pupils are kept, marked)", len(ps), n)
			}
			left := 0
			for _, p := range ps {
				if gone[p.LASKey] != (p.LeftOn != "") {
					t.Errorf("pupil %s (%s): left_on %q, removed %v", p.ID, p.LASKey, p.LeftOn, gone[p.LASKey])
				}
				if p.LeftOn != "" {
					left++
					if _, err := time.Parse("2006-01-02", p.LeftOn); err != nil {
						t.Errorf("left_on %q: %v", p.LeftOn, err)
					}
				}
			}
			if left != len(gone) {
				t.Errorf("%d pupils marked left, want %d", left, len(gone))
			}

			runs := e.history(s)
			var statuses []string
			for _, r := range runs {
				st, _ := r["status"].(string)
				if r["dry_run"] == true {
					st += "(dry)"
				}
				statuses = append(statuses, st)
			}
			want := []string{"applied", "held", "held(dry)", "unchanged", "applied", "refused"}
			if !slices.Equal(statuses, want) {
				t.Errorf("sync history: %v, want (newest first) %v", statuses, want)
			}

			// Rotate and re-seal: the data stays readable, syncs keep working.
			out, _ = e.must(0, "keys", "rotate")
			if !strings.Contains(out, "term 2 is now active") {
				t.Errorf("keys rotate: %q", out)
			}
			out, _ = e.must(0, "keys", "rewrap")
			sm := reReSealed.FindStringSubmatch(out)
			// the autorisatiesleutel, every pupil's and every teacher's ECK iD
			if sm == nil || sm[2] != "1" || sm[3] != "2" || atoiE2E(sm[1]) != 1+n+teachers {
				t.Errorf("keys rewrap: %q, want %d values re-sealed in 1 school with term 2", out, 1+n+teachers)
			}
			out, _ = e.must(0, "keys", "rewrap")
			if sm := reReSealed.FindStringSubmatch(out); sm == nil || sm[1] != "0" {
				t.Errorf("second keys rewrap: %q, want 0 values re-sealed", out)
			}
			kr, err := vault.Load(e.keys)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(kr.Terms(), []uint32{1, 2}) || kr.ActiveTerm() != 2 {
				t.Errorf("key file terms %v active %d, want [1 2] with 2 active", kr.Terms(), kr.ActiveTerm())
			}
			ps, _ = e.pupils(s)
			for _, p := range ps {
				if p.EckID != "present" {
					t.Errorf("after rewrap: pupil %+v", p)
					break
				}
			}
			if len(ps) != n {
				t.Errorf("after rewrap: %d pupils, want %d", len(ps), n)
			}
			// The re-sealed autorisatiesleutel still opens: the LAS accepts it.
			m = e.syncSchool(s, 0)
			if m["status"] != "unchanged" {
				t.Errorf("sync after rewrap: %v, want unchanged", m)
			}

			// Offboarding removes every record.
			e.must(0, "school", "remove", "--school", s.id, "--yes")
			out, _ = e.must(0, "school", "list", "--json")
			if strings.TrimSpace(out) != "[]" {
				t.Errorf("school list after remove: %s", out)
			}
			if code, _, _ := e.run("pupils", "list", "--school", s.id, "--json"); code != 1 {
				t.Errorf("pupils list of a removed school: exit %d, want 1", code)
			}
			if store == "redis" {
				if ks := nonAuditKeys(e.prefix, e.redisKeys(ctxT(t))); len(ks) != 0 {
					t.Errorf("keys left under %s after school remove: %v", e.prefix, ks)
				}
			}
			// The audit chain outlives the school; offboarding is its last entry.
			out, _ = e.must(0, "audit", "show", "--school", s.id, "--json", "--limit", "1")
			if !strings.Contains(out, `"kind": "school.remove"`) {
				t.Errorf("last audit entry of the removed school: %s", out)
			}
			e.must(0, "audit", "verify")
		})
	}
}

// nonAuditKeys drops the audit chains, which outlive every school.
// nonAuditKeys are the keys that are neither an audit chain nor the login
// log (logins and reads of personal data, kept for the login retention):
// both outlive an offboarded school.
func nonAuditKeys(prefix string, keys []string) []string {
	var out []string
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"audit:") && !strings.HasPrefix(k, prefix+"logins") {
			out = append(out, k)
		}
	}
	return out
}

func atoiE2E(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// TestStoreE2EBadInputs: usage errors exit 2 and store nothing.
func TestStoreE2EBadInputs(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			l := startLAS(t, "standard", 10, nil)
			keyFile := writeFile(t, "autorisatiesleutel", l.creds.Autorisatiesleutel)
			e.must(0, "keys", "generate", "--out", e.keys)

			_, stderr := e.must(2, "school", "add", "--brin", "ABCD", "--dependancecode", "00", "--endpoint", l.endpoint,
				"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam, "--key-file", keyFile)
			if !strings.Contains(stderr, "ABCD") {
				t.Errorf("bad BRIN: stderr %q", stderr)
			}
			if store == "redis" {
				if ks := nonAuditKeys(e.prefix, e.redisKeys(ctxT(t))); len(ks) != 0 {
					t.Errorf("a refused school add left keys: %v", ks)
				}
			}
			if out, _ := e.must(0, "school", "list", "--json"); strings.TrimSpace(out) != "[]" {
				t.Errorf("school list after a refused add: %s", out)
			}

			id := l.creds.Brin + "00"
			e.must(0, "school", "add", "--brin", l.creds.Brin, "--dependancecode", "00", "--endpoint", l.endpoint,
				"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam, "--key-file", keyFile)
			for _, tt := range []struct {
				args []string
				msg  string
			}{
				{[]string{"consent", "set", "--school", id, "--processing", "bogus", "--grant", "--by", "x"}, `--processing "bogus"`},
				{[]string{"consent", "set", "--school", id, "--processing", "las_exchange", "--grant"}, "--by"},
				{[]string{"consent", "set", "--school", id, "--processing", "las_exchange", "--grant", "--revoke", "--by", "x"}, "--grant"},
				{[]string{"sync"}, "--school ID or --all"},
				{[]string{"sync", "--school", id, "--all"}, "--school ID or --all"},
				{[]string{"sync", "approve", "--school", id}, "--by"},
				{[]string{"school", "remove", "--school", id}, "--yes"},
			} {
				code, stdout, stderr := e.run(tt.args...)
				if code != 2 || !strings.Contains(stderr, tt.msg) {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 mentioning %q", tt.args, code, stdout, stderr, tt.msg)
				}
			}
			out, _ := e.must(0, "consent", "show", "--school", id, "--json")
			if !strings.Contains(out, `"history": []`) {
				t.Errorf("refused consent changes were recorded: %s", out)
			}
			if out, _ := e.must(0, "school", "list", "--json"); !strings.Contains(out, `"id": "`+id+`"`) {
				t.Errorf("school remove without --yes removed the school: %s", out)
			}
		})
	}
}

// TestStoreE2EHeldRewrap: a re-seal skips a school whose sync is held (exit
// 1) and finishes it once the hold is approved; an approval needs consent at
// the moment of approving (exit 3 after a revoke, and the hold stays).
func TestStoreE2EHeldRewrap(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			s := e.enrol(60)
			n := len(s.las.world.Schools[0].Pupils())
			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "a", "--instruction", "signed instruction 2026-1")
			if m := e.syncSchool(s, 0); m["status"] != "applied" {
				t.Fatalf("sync: %v", m)
			}
			gone := removeShare(s.las, heldShare())
			if m := e.syncSchool(s, 0); m["status"] != "held" {
				t.Fatalf("sync: %v, want held", m)
			}
			e.must(0, "keys", "rotate")
			out, _ := e.must(1, "keys", "rewrap")
			if !strings.Contains(out, s.id+": skipped") || !strings.Contains(out, "1 schools skipped") {
				t.Errorf("rewrap with a held sync: %q", out)
			}

			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--revoke", "--by", "b")
			e.must(exitConsent, "sync", "approve", "--school", s.id, "--by", "x")
			if d, _ := e.must(0, "sync", "diff", "--school", s.id, "--json"); !strings.Contains(d, fmt.Sprintf(`"left": %d`, len(gone))) {
				t.Errorf("the hold is gone after a refused approval: %s", d)
			}
			e.must(exitConsent, "sync", "--school", s.id, "--schooljaar", jaar)
			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "a", "--instruction", "signed instruction 2026-1")
			e.must(0, "sync", "approve", "--school", s.id, "--by", "x")

			out, _ = e.must(0, "keys", "rewrap")
			if sm := reReSealed.FindStringSubmatch(out); sm == nil || atoiE2E(sm[1]) < n || sm[2] != "1" {
				t.Errorf("rewrap after approve: %q, want at least %d values in 1 school", out, n)
			}
			out, _ = e.must(0, "keys", "rewrap")
			if sm := reReSealed.FindStringSubmatch(out); sm == nil || sm[1] != "0" {
				t.Errorf("second rewrap: %q, want 0 values", out)
			}
			ps, _ := e.pupils(s)
			left := 0
			for _, p := range ps {
				if p.EckID != "present" {
					t.Errorf("pupil %+v after rewrap", p)
				}
				if p.LeftOn != "" {
					left++
				}
			}
			if len(ps) != n || left != len(gone) {
				t.Errorf("%d pupils, %d left; want %d, %d", len(ps), left, n, len(gone))
			}
			if m := e.syncSchool(s, 0); m["status"] != "unchanged" {
				t.Errorf("sync after rewrap: %v, want unchanged", m)
			}
		})
	}
}
