package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func TestConformanceCommand(t *testing.T) {
	n := len(conformance.Cases())
	good := startLAS(t, "standard", 20, nil)
	faulty := startLAS(t, "standard", 20, func(s *lassim.Sim) { s.FaultRate = 1 })
	iddink := startLAS(t, "iddink", 20, nil)
	keyFile := func(l *las) string { return writeFile(t, "key", l.creds.Autorisatiesleutel) }
	wrongFile := writeFile(t, "wrong", wrongKey)
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		passed int // -1: do not check
		check  func(t *testing.T, stdout string)
	}{
		{name: "json against the simulator", args: append(good.args(keyFile(good)), "--json"), code: 0, passed: n,
			check: func(t *testing.T, stdout string) {
				m := jsonObject(t, stdout)
				cases, _ := m["cases"].([]any)
				if m["endpoint"] != good.endpoint || len(cases) != n {
					t.Fatalf("report %v", m)
				}
				for i, c := range cases {
					r, _ := c.(map[string]any)
					want := conformance.Cases()[i]
					exp := want.Expected
					if exp == "" {
						exp = "answer"
					}
					if r["name"] != want.Name || r["expected"] != exp || r["got"] != exp || r["ok"] != true {
						t.Errorf("case %d = %v, want %s passing with %s", i, r, want.Name, exp)
					}
				}
			}},
		{name: "text against the simulator", args: good.args(keyFile(good)), code: 0, passed: -1, check: func(t *testing.T, stdout string) {
			lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			if len(lines) != n+2 || !strings.HasPrefix(lines[0], "RESULT ") || lines[len(lines)-1] != fmt.Sprintf("%d passed, 0 failed", n) {
				t.Fatalf("stdout:\n%s", stdout)
			}
			for i, l := range lines[1 : n+1] {
				if !strings.HasPrefix(l, "PASS   "+conformance.Cases()[i].Name) {
					t.Errorf("row %d = %q", i, l)
				}
			}
		}},
		{name: "simulator with fault rate 1", args: append(faulty.args(keyFile(faulty)), "--json"), code: 1, passed: 1,
			check: func(t *testing.T, stdout string) {
				for _, c := range jsonObject(t, stdout)["cases"].([]any) {
					r := c.(map[string]any)
					if r["name"] != "Bagger XML" && (r["ok"] != false || r["got"] != soap.CodeTijdelijkNietBeschikbaar) {
						t.Errorf("case %v", r)
					}
				}
			}},
		{name: "simulator with fault rate 1, text", args: faulty.args(keyFile(faulty)), code: 1, passed: -1, check: func(t *testing.T, stdout string) {
			if !strings.HasSuffix(stdout, fmt.Sprintf("\n1 passed, %d failed\n", n-1)) || strings.Count(stdout, "\nFAIL   ") != n-1 {
				t.Errorf("stdout:\n%s", stdout)
			}
		}},
		{name: "wrong key", args: append(good.args(wrongFile), "--json"), code: 1, passed: -1, check: func(t *testing.T, stdout string) {
			first := jsonObject(t, stdout)["cases"].([]any)[0].(map[string]any)
			if first["ok"] != false || first["got"] != soap.CodeAutorisatieOngeldig {
				t.Errorf("valid request with a wrong key: %v", first)
			}
		}},
		{name: "iddink with --header", args: append(iddink.args(keyFile(iddink)), "--json",
			"--header", "IddinkHub-Subscription-Key: "+iddink.creds.SubscriptionKey), code: 0, passed: n},
		{name: "iddink without --header", args: append(iddink.args(keyFile(iddink)), "--json"), code: 1, passed: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, "", append([]string{"conformance"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, secret := range []string{good.creds.Autorisatiesleutel, faulty.creds.Autorisatiesleutel, wrongKey} {
				if strings.Contains(stdout+stderr, secret) {
					t.Fatal("a key appears in the output")
				}
			}
			if tt.passed >= 0 {
				m := jsonObject(t, stdout)
				if num(t, m, "passed") != tt.passed || num(t, m, "failed") != n-tt.passed {
					t.Errorf("passed %v failed %v, want %d and %d", m["passed"], m["failed"], tt.passed, n-tt.passed)
				}
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}
}

func TestConformanceUsage(t *testing.T) {
	l := startLAS(t, "standard", 20, nil)
	for _, tt := range []struct {
		name string
		args []string
		msg  string
	}{
		{"missing --key-file", l.args(""), "--key-file is required"},
		{"bad schooljaar", append(l.args(writeFile(t, "key", "k")), "--schooljaar", "dit jaar"), "--schooljaar"},
		{"no school", []string{"--endpoint", l.endpoint, "--klantcode", "K", "--klantnaam", "N", "--key-file", writeFile(t, "key", "k")}, "give brincode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, "", append([]string{"conformance"}, tt.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d stdout %q stderr %q; want 2 and %q", code, stdout, stderr, tt.msg)
			}
		})
	}
}
