package main

// las fetch writes a redacted capture by default and a raw one only for an
// enrolled school that has granted las_exchange, audited before the file is
// written; las check and conformance with --school are acts on that school.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// rawAnswer is the LAS answer as sent (independently of the CLI).
func (l *las) rawAnswer(t *testing.T) []byte {
	t.Helper()
	conn := soap.Connection{Endpoint: l.endpoint, Autorisatiesleutel: l.creds.Autorisatiesleutel, Klantcode: l.creds.Klantcode,
		Klantnaam: l.creds.Klantnaam, Brincode: l.creds.Brin, Xsdversie: l.creds.Xsdversie}
	var buf bytes.Buffer
	if _, err := soap.NewClient(l.srv.Client(), conn).Fetch(ctxT(t), uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: jaar}, nil, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	reTail  = regexp.MustCompile(`[0-9a-f]{128}`)
	reBSN   = regexp.MustCompile(`<bsn>([0-9]+)</bsn>`)
	reEckAt = regexp.MustCompile(`eckid="([^"]+)"`)
)

// TestLasFetchRedacted: the default capture of a LAS that sends whole
// EDEXML records (ESIS: BSN, ethnicity, parents' countries, postcode) holds
// no ECK iD in any form, no BSN, none of those fields and no key; it is
// mode 0600 and `las parse` still reads it with the LAS's counts.
func TestLasFetchRedacted(t *testing.T) {
	l := startLAS(t, "esis", 60, nil)
	raw := l.rawAnswer(t)
	tails, bsns := reTail.FindAll(raw, -1), reBSN.FindAllSubmatch(raw, -1)
	if len(tails) < 60 || len(bsns) != 60 || !bytes.Contains(raw, []byte("<etniciteit>")) {
		t.Fatalf("las-sim sent %d ECK iDs and %d BSNs for 60 pupils; the test needs them", len(tails), len(bsns))
	}
	want := l.rawCounts(t)
	keyFile := writeFile(t, "key", l.creds.Autorisatiesleutel)
	out := filepath.Join(t.TempDir(), "answer.xml")
	code, stdout, stderr := cli(t, "", append([]string{"las", "fetch", "--out", out, "--json"}, l.args(keyFile)...)...)
	if code != 0 {
		t.Fatalf("fetch exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := jsonObject(t, stdout)
	distinct := map[string]bool{}
	for _, m := range reEckAt.FindAllSubmatch(raw, -1) {
		distinct[string(m[1])] = true
	}
	if m["ok"] != true || m["raw"] != false || num(t, m, "redacted_eckids") != len(distinct) || num(t, m, "dropped_fields") <= 0 || m["delete_by"] != nil {
		t.Errorf("fetch result %v; want %d ECK iDs redacted", m, len(distinct))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range tails {
		if bytes.Contains(bytes.ToLower(b), tail) {
			t.Fatalf("the capture holds an ECK iD")
		}
	}
	for _, bsn := range bsns {
		if bytes.Contains(b, bsn[1]) {
			t.Fatalf("the capture holds a BSN")
		}
	}
	for _, leak := range []string{"ketenid", "<bsn>", "<etniciteit>", "<land_vader>", "<land_moeder>", "<postcodenl>", "<gebruikersnaam>",
		"<mutatiedatum>", "@leerling.example", l.creds.Autorisatiesleutel} {
		if bytes.Contains(b, []byte(leak)) {
			t.Errorf("the capture holds %q", leak)
		}
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("capture mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	code, stdout, _ = cli(t, "", "las", "parse", "--file", out, "--json")
	pm := jsonObject(t, stdout)
	if code != 0 || pm["ok"] != true || pm["brincode"] != l.creds.Brin || num(t, pm, "redacted_eckids") != len(reEckAt.FindAll(raw, -1)) {
		t.Errorf("parse of the capture: exit %d, %v", code, pm)
	}
	checkCounts(t, pm, want)

	// The text form says what the capture is.
	code, stdout, _ = cli(t, "", append([]string{"las", "fetch", "--out", out}, l.args(keyFile)...)...)
	if code != 0 || !strings.Contains(stdout, "redacted capture: ") || !strings.Contains(stdout, "still holds names and birth dates") {
		t.Errorf("text fetch: exit %d\n%s", code, stdout)
	}
}

// TestLasFetchScrubsFaults: a fault answer that echoes the key is saved
// with the key replaced, whether it came with HTTP 500 or 200.
func TestLasFetchScrubsFaults(t *testing.T) {
	keyFile := writeFile(t, "wrong", wrongKey)
	out := filepath.Join(t.TempDir(), "fault.xml")
	code, stdout, stderr := cli(t, "", "las", "fetch", "--out", out, "--json", "--endpoint", echoingLAS(t), "--brin", "12AB",
		"--klantcode", "K", "--klantnaam", "N", "--schooljaar", jaar, "--key-file", keyFile)
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the fault answer was not saved: %v", err)
	}
	if bytes.Contains(b, []byte(wrongKey)) || !bytes.Contains(b, []byte("redacted:key")) || strings.Contains(stdout+stderr, wrongKey) {
		t.Errorf("saved fault:\n%s\noutput:\n%s%s", b, stdout, stderr)
	}
	code, stdout, _ = cli(t, "", "las", "parse", "--file", out, "--json")
	if fc, _, _ := faultOf(t, jsonObject(t, stdout)); code != 1 || fc != soap.CodeAutorisatieOngeldig {
		t.Errorf("parse of the saved fault: exit %d %s", code, stdout)
	}
}

// audit lists the kinds of a school's audit entries, in order, and
// returns the entries.
func (e *e2eEnv) audit(id string) ([]string, []gateway.AuditEntry) {
	e.t.Helper()
	out, _ := e.must(0, "audit", "show", "--school", id, "--limit", "0", "--json")
	var es []gateway.AuditEntry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for _, en := range es {
		kinds = append(kinds, string(en.Kind))
	}
	return kinds, es
}

func entriesOf(es []gateway.AuditEntry, kind gateway.AuditKind) []gateway.AuditEntry {
	var out []gateway.AuditEntry
	for _, e := range es {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestLasFetchRaw: a raw capture is refused without --school and --reason,
// for a school that is not enrolled or not the one the flags name, and
// without las_exchange (exit 3, nothing written, nothing audited). Granted,
// it is audited before the file is written, the file is mode 0600 and holds
// the answer as sent, and the command prints the date to delete it by.
func TestLasFetchRaw(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			cfg, _ := os.ReadFile(e.config)
			if err := os.WriteFile(e.config, append(cfg, "las:\n  capture_ttl: 48h\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
			s := e.enrol(20)
			dir := t.TempDir()
			out := filepath.Join(dir, "raw.xml")
			base := append([]string{"las", "fetch", "--out", out}, s.las.args(s.keyFile)...)
			other := s.las.world.Schools[1].Creds // a school of the same LAS the gateway does not hold
			otherArgs := slices.Clone(base)
			otherArgs[slices.Index(otherArgs, "--brin")+1] = other.Brin
			for _, tt := range []struct {
				name string
				args []string
				code int
				msg  string
			}{
				{"--raw without --school", []string{"--raw", "--reason", "support case 12"}, 2, "--raw needs --school"},
				{"--raw without --reason", []string{"--raw", "--school", s.id}, 2, "--raw needs --school"},
				{"--school without --raw", []string{"--school", s.id}, 2, "go with --raw"},
				{"not enrolled", []string{"--raw", "--school", "99ZZ00", "--reason", "r"}, 1, "not enrolled"},
				{"flags name another school", append(otherArgs, "--raw", "--school", s.id, "--reason", "r"), 2, "name school " + other.Brin + "00, not " + s.id},
				{"las_exchange not granted", []string{"--raw", "--school", s.id, "--reason", "r"}, 3, "has not granted las_exchange"},
			} {
				args := append(slices.Clone(base), tt.args...)
				if tt.args[0] == "las" {
					args = tt.args
				}
				code, stdout, stderr := e.run(args...)
				if code != tt.code || !strings.Contains(stderr, tt.msg) {
					t.Errorf("%s: exit %d, want %d with %q\nstdout %s\nstderr %s", tt.name, code, tt.code, tt.msg, stdout, stderr)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("%s: %d files left in the directory", tt.name, len(ents))
				}
			}
			if kinds, _ := e.audit(s.id); strings.Contains(strings.Join(kinds, " "), "las.") {
				t.Fatalf("a refused raw capture was audited: %v", kinds)
			}

			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "Alice Admin", "--instruction", "signed instruction 2026-1")
			before := time.Now()
			stdout, _ := e.must(0, append(slices.Clone(base), "--raw", "--school", s.id, "--reason", "vendor ticket 4711", "--by", "Bob Support", "--json")...)
			after := time.Now()
			m := jsonObject(t, stdout)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if m["ok"] != true || m["raw"] != true || num(t, m, "bytes") != len(b) || !bytes.Equal(b, s.las.rawAnswer(t)) {
				t.Errorf("raw fetch %v: want the answer as sent (%d bytes)", m, len(b))
			}
			if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("raw capture mode %v (%v), want 0600", st.Mode().Perm(), err)
			}
			deleteBy, err := time.Parse(time.RFC3339Nano, m["delete_by"].(string))
			if err != nil || deleteBy.Before(before.Add(48*time.Hour).Add(-time.Second)) || deleteBy.After(after.Add(48*time.Hour)) {
				t.Errorf("delete_by %v (%v), want now + las.capture_ttl (48h)", m["delete_by"], err)
			}

			kinds, es := e.audit(s.id)
			start, end := entriesOf(es, gateway.AuditLASCapture), entriesOf(es, gateway.AuditLASCaptureEnd)
			if len(start) != 1 || len(end) != 1 || start[0].Seq > end[0].Seq {
				t.Fatalf("audit kinds %v: want las.capture, then las.capture.end", kinds)
			}
			d := start[0].Details
			if start[0].Actor != "Bob Support" || d["reason"] != "vendor ticket 4711" || d["file"] != out ||
				d["operation"] != "HaalLeerlinggegevens" || d["delete_by"] != deleteBy.UTC().Format(time.RFC3339) {
				t.Errorf("las.capture entry %+v", start[0])
			}
			if d := end[0].Details; d["bytes"] != m["bytes"].(json.Number).String() || d["outcome"] != "saved" {
				t.Errorf("las.capture.end entry %+v", end[0])
			}

			// The text form prints the date to delete the file by.
			stdout, _ = e.must(0, append(slices.Clone(base), "--raw", "--school", s.id, "--reason", "again")...)
			wantDate := deleteBy.In(gateway.Amsterdam).Format("2006-01-02")
			if !strings.Contains(stdout, "delete this file by "+wantDate) || !strings.Contains(stdout, "raw capture: ") {
				t.Errorf("text raw fetch:\n%s\nwant \"delete this file by %s\"", stdout, wantDate)
			}
		})
	}
}

// TestLasCheckForSchool: las check and conformance with --school run only
// for an enrolled school that has granted las_exchange and are recorded on
// its chain with counts; without --school they say they are not recorded.
func TestLasCheckForSchool(t *testing.T) {
	for _, store := range e2eStores {
		t.Run(store, func(t *testing.T) {
			e := newE2EEnv(t, store)
			s := e.enrol(25)
			check := append([]string{"las", "check", "--json", "--school", s.id}, s.las.args(s.keyFile)...)
			conf := append([]string{"conformance", "--json", "--school", s.id}, s.las.args(s.keyFile)...)
			for _, args := range [][]string{check, conf} {
				if _, stderr := e.must(3, args...); !strings.Contains(stderr, "has not granted las_exchange") {
					t.Errorf("%s before consent: %s", args[0], stderr)
				}
			}
			_, stderr := e.must(0, append([]string{"las", "check"}, s.las.args(s.keyFile)...)...)
			if !strings.Contains(stderr, "not recorded on any school's audit chain") {
				t.Errorf("las check without --school: stderr %q", stderr)
			}
			if kinds, _ := e.audit(s.id); strings.Contains(strings.Join(kinds, " "), "las.") {
				t.Fatalf("refused or unnamed runs were audited: %v", kinds)
			}

			e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "x", "--instruction", "signed instruction 2026-1")
			out, stderr := e.must(0, append(check, "--by", "Vendor Test")...)
			if strings.Contains(stderr, "not recorded") {
				t.Errorf("a run for a school says it is not recorded")
			}
			m := jsonObject(t, out)
			e.must(0, conf...)
			_, es := e.audit(s.id)
			ck, cf := entriesOf(es, gateway.AuditLASCheck), entriesOf(es, gateway.AuditLASConformance)
			if len(ck) != 1 || ck[0].Actor != "Vendor Test" || ck[0].Details["pupils"] != m["pupils"].(json.Number).String() ||
				ck[0].Details["pupils"] != "25" || ck[0].Details["ok"] != "true" || ck[0].Details["outcome"] != "data" {
				t.Errorf("las.check entries %+v", ck)
			}
			if len(cf) != 1 || cf[0].Actor != "cli" || cf[0].Details["failed"] != "0" || cf[0].Details["passed"] == "0" {
				t.Errorf("las.conformance entries %+v", cf)
			}
		})
	}
}

// TestPrintedLASTextIsOneLine: a fault whose text would start a new line,
// reverse it or move the cursor is printed as one line of escapes.
func TestPrintedLASTextIsOneLine(t *testing.T) {
	fault := writeFile(t, "fault.xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>`+
		"<faultcode>s:Client.AutorisatieOngeldig</faultcode><faultstring>ongeldig\nOK: alles goed \u202eliam \u009b2J</faultstring>"+
		`</s:Fault></s:Body></s:Envelope>`)
	code, stdout, _ := cli(t, "", "las", "parse", "--file", fault)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, bad := range []string{"\nOK: alles goed", "\u202e", "\u009b"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("stdout holds %q:\n%s", bad, stdout)
		}
	}
	if !strings.Contains(stdout, `  message: ongeldig\nOK: alles goed \u202eliam \x9b2J`) {
		t.Errorf("stdout:\n%s\nwant the message on one line, escaped", stdout)
	}
}
