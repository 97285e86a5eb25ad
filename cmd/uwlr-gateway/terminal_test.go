package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Hostile text as it may reach the gateway. XML cannot carry ESC or other
// C0 controls but tab and line breaks, so a LAS sends C1 controls (CSI,
// U+009B, does what ESC [ does), line breaks and bidi controls; a user or a
// file can send anything.
const (
	// lasName is a pupil's name from the LAS: a bidi override, a C1 CSI
	// clearing the screen, and a line break and a line separator starting
	// forged lines.
	lasName = "Jan\u202esneJ\u009b2J\nFORGED pupil\u2028FORGED too"
	// lasKey is a LAS key with a line break.
	lasKey = "LL1\nFORGED key"
	// userText is text given on the command line or in a file: ESC
	// sequences, a bidi isolate and a line break.
	userText = "Anna\x1b[2J\x1b[31m\u2066nimdA\u2069\nFORGED by"
)

// terminalSafe fails when human output holds a raw control (but the line
// ends), a format character such as a bidi control, a line or paragraph
// separator, or a line that a planted value forged.
func terminalSafe(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
			t.Errorf("%s: raw %U in the output:\n%s", what, r, out)
			break
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "FORGED") {
			t.Errorf("%s: a forged line %q in the output:\n%s", what, line, out)
		}
	}
}

// hostileLAS is a simulated LAS whose first pupil has lasName and lasKey.
func hostileLAS(t *testing.T, pupils int) *las {
	t.Helper()
	l := startLAS(t, "standard", pupils, nil)
	l.world.Schools[0].EditPupils(time.Now(), func(ps []uwlr.Leerling) []uwlr.Leerling {
		ps[0].Key, ps[0].Roepnaam = lasKey, lasName
		return ps
	})
	return l
}

// TestTerminalSafeSyncAndPupils: a LAS's names and keys are escaped in the
// human output of sync, pupils list and sync diff; --json holds them
// exactly.
func TestTerminalSafeSyncAndPupils(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	l := hostileLAS(t, 30)
	s := &e2eSchool{las: l, id: l.creds.Brin + l.creds.Dependancecode, keyFile: writeFile(t, "key", l.creds.Autorisatiesleutel)}
	e.must(0, "keys", "generate", "--out", e.keys)
	e.must(0, "school", "add", "--brin", l.creds.Brin, "--endpoint", l.endpoint, "--klantcode", l.creds.Klantcode,
		"--klantnaam", l.creds.Klantnaam, "--key-file", s.keyFile, "--profile", "standard")
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "admin", "--instruction", "i-1")
	out, _ := e.must(0, "sync", "--school", s.id, "--schooljaar", jaar)
	terminalSafe(t, "sync", out)

	out, _ = e.must(0, "pupils", "list", "--school", s.id)
	terminalSafe(t, "pupils list", out)
	if !strings.Contains(out, `LL1\nFORGED key`) || !strings.Contains(out, `Jan\u202esneJ\x9b2J\nFORGED pupil\u2028FORGED too`) {
		t.Errorf("pupils list does not show the key and name escaped:\n%s", out)
	}
	ps, _ := e.pupils(s)
	found := false
	for _, p := range ps {
		found = found || (p.LASKey == lasKey && strings.Contains(p.Name, lasName))
	}
	if !found {
		t.Errorf("pupils list --json does not hold the exact key %q and name %q: %+v", lasKey, lasName, ps)
	}

	// The hostile pupil leaves with most others: the sync is held and its
	// diff names the pupil by LAS key.
	l.world.Schools[0].EditPupils(time.Now().Add(2*time.Second), func(ps []uwlr.Leerling) []uwlr.Leerling { return ps[len(ps)-5:] })
	out, _ = e.must(0, "sync", "--school", s.id, "--schooljaar", jaar)
	terminalSafe(t, "held sync", out)
	out, _ = e.must(0, "sync", "diff", "--school", s.id)
	terminalSafe(t, "sync diff", out)
	if !strings.Contains(out, `(LAS key LL1\nFORGED key)`) {
		t.Errorf("sync diff does not name the pupil by its escaped key:\n%s", out)
	}
	out, _ = e.must(0, "sync", "diff", "--school", s.id, "--json")
	var d struct {
		Changes []struct {
			LASKey string `json:"las_key"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || !strings.Contains(out, `"LL1\nFORGED key"`) {
		t.Errorf("sync diff --json: %v\n%s", err, out)
	}
}

// TestTerminalSafeSchool: what an operator or a school admin typed (a
// klantnaam, a contact person, an actor, a token name) is escaped in the
// human output of school list and show, contact show, consent show, audit
// show and token list; --json holds it exactly. A school key that could
// name another directory or forge a line is refused at enrolment.
func TestTerminalSafeSchool(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	l := startLAS(t, "standard", 5, nil)
	key := writeFile(t, "key", l.creds.Autorisatiesleutel)
	e.must(0, "keys", "generate", "--out", e.keys)
	id := l.creds.Brin + "00"
	out, _ := e.must(0, "school", "add", "--brin", l.creds.Brin, "--endpoint", l.endpoint, "--klantcode", l.creds.Klantcode,
		"--klantnaam", userText, "--key-file", key, "--profile", "standard", "--by", userText)
	terminalSafe(t, "school add", out)
	// A contact person's name may hold no control character, but bidi
	// controls and a line separator pass.
	e.must(0, "school", "contact", "set", "--school", id, "--name", "Anna \u202enimdA\u2028FORGED contact", "--email", "anna@school.example", "--by", userText)
	e.must(0, "consent", "set", "--school", id, "--processing", "las_exchange", "--grant", "--by", userText, "--instruction", userText)
	e.must(0, "token", "create", "--role", "viewer", "--school", id, "--name", userText, "--by", userText)
	if out, _ := e.must(0, "school", "contact", "show", "--school", id); !strings.Contains(out, `Anna \u202enimdA\u2028FORGED contact`) {
		t.Errorf("contact show does not show the name escaped:\n%s", out)
	}
	for _, tt := range []struct {
		args  []string
		shows bool // the text is part of the human output
	}{
		{[]string{"school", "list"}, false}, {[]string{"school", "show", "--school", id}, true},
		{[]string{"school", "contact", "show", "--school", id}, true}, {[]string{"consent", "show", "--school", id}, true},
		{[]string{"audit", "show", "--school", id}, true}, {[]string{"token", "list"}, true},
	} {
		what := strings.Join(tt.args, " ")
		out, _ := e.must(0, tt.args...)
		terminalSafe(t, what, out)
		if tt.shows && !strings.Contains(out, `Anna\x1b[2J\x1b[31m\u2066nimdA\u2069\nFORGED by`) {
			t.Errorf("%s does not show the text escaped:\n%s", what, out)
		}
		out, _ = e.must(0, append(tt.args, "--json")...)
		want, _ := json.Marshal(userText)
		if !strings.Contains(out, strings.TrimSuffix(string(want), `"`)) { // an actor is "NAME (cli)"
			t.Errorf("%s --json does not hold %s exactly:\n%s", what, want, out)
		}
	}

	for _, bad := range []string{"../etc", "..", "a/b", "sk\x1b[2J"} {
		code, out, errOut := e.run("school", "add", "--schoolkey", bad, "--endpoint", l.endpoint, "--key-file", key, "--profile", "standard",
			"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam)
		if code != 2 || !strings.Contains(errOut, "A-Z, a-z, 0-9") {
			t.Errorf("school add --schoolkey %q: exit %d, stdout %q, stderr %q; want 2 and the rule", bad, code, out, errOut)
		}
		terminalSafe(t, "school add --schoolkey "+bad, errOut)
	}
}

// TestTerminalSafeResults: what a results file holds (field names, LAS
// keys, test codes) is escaped in the human output of results submit and
// results status; --json holds it exactly. A file past the size cap is
// refused before it is read.
func TestTerminalSafeResults(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	s := e.enrol(5)
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "admin", "--instruction", "i-1")
	e.syncSchool(s, 0)
	ps, _ := e.pupils(s)

	// JSON escapes: the file itself is plain ASCII.
	esc := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	bad := writeFile(t, "bad.json", fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK"}], "results": [
		{"las_key": %s, "test": "REK", "date": "2025-10-01", "score": 1},
		{"las_key": %q, "test": "REK", "date": "2025-10-01", "score": 1, %s: 1}]}`,
		s.id, esc("L\u202e\nFORGED las key"), ps[0].LASKey, esc("x\x1b[2J\nFORGED field")))
	out, errOut := e.must(2, "results", "submit", "--file", bad)
	terminalSafe(t, "results submit", out+errOut)
	if !strings.Contains(out, `no pupil with LAS key L\u202e\nFORGED las key`) || !strings.Contains(out, `results[1].x\x1b[2J\nFORGED field: unknown field`) {
		t.Errorf("results submit does not show the problems escaped:\n%s", out)
	}
	out, _ = e.must(2, "results", "submit", "--file", bad, "--json")
	if !strings.Contains(out, esc("results[1].x\x1b[2J\nFORGED field")) {
		t.Errorf("results submit --json does not hold the position exactly:\n%s", out)
	}

	// A test code may hold a line break and a bidi control (XML carries
	// them): results status shows it escaped.
	code := "REK\u202e\nFORGED test"
	good := writeFile(t, "good.json", fmt.Sprintf(`{"school": %q, "tests": [{"code": %s}], "results": [{"las_key": %q, "test": %s, "date": "2025-10-01", "score": 1}]}`,
		s.id, esc(code), ps[0].LASKey, esc(code)))
	e.must(0, "results", "submit", "--file", good)
	out, _ = e.must(0, "results", "status", "--school", s.id)
	terminalSafe(t, "results status", out)
	if !strings.Contains(out, `REK\u202e\nFORGED test`) {
		t.Errorf("results status does not show the test code escaped:\n%s", out)
	}
	if out, _ = e.must(0, "results", "status", "--school", s.id, "--json"); !strings.Contains(out, esc(code)) {
		t.Errorf("results status --json does not hold the test code exactly:\n%s", out)
	}

	// Past the size cap: refused by its size, without reading it.
	big := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(app.DefaultMaxResultsBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, errOut = e.must(2, "results", "submit", "--school", s.id, "--file", big)
	if !strings.Contains(errOut, "split it") || !strings.Contains(errOut, fmt.Sprint(app.DefaultMaxResultsBytes)) {
		t.Errorf("a file past the cap: %s", errOut)
	}
}

// TestTerminalSafeLAS: the las tools (check, fetch, parse) print a LAS's
// names and keys escaped: a capture of the hostile LAS parses to safe
// output, and --json keeps the exact values.
func TestTerminalSafeLAS(t *testing.T) {
	l := hostileLAS(t, 10)
	keyFile := writeFile(t, "key", l.creds.Autorisatiesleutel)
	code, out, errOut := cli(t, "", append([]string{"las", "check"}, l.args(keyFile)...)...)
	if code != 0 {
		t.Fatalf("las check: exit %d\n%s%s", code, out, errOut)
	}
	terminalSafe(t, "las check", out+errOut)
	capture := filepath.Join(t.TempDir(), "capture.xml")
	code, out, errOut = cli(t, "", append([]string{"las", "fetch", "--out", capture}, l.args(keyFile)...)...)
	if code != 0 {
		t.Fatalf("las fetch: exit %d\n%s%s", code, out, errOut)
	}
	terminalSafe(t, "las fetch", out+errOut)
	code, out, errOut = cli(t, "", "las", "parse", "--file", capture)
	if code != 0 {
		t.Fatalf("las parse: exit %d\n%s%s", code, out, errOut)
	}
	terminalSafe(t, "las parse", out+errOut)
}
