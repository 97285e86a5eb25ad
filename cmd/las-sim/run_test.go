package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestServe starts las-sim as documented, reads its credentials file, pulls
// every school with the SOAP client, sends results, and stops it with SIGTERM.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	credsFile, resultsLog := filepath.Join(dir, "creds.json"), filepath.Join(dir, "results.jsonl")
	p := startSim(t, "--addr", "127.0.0.1:0", "--schools", "2", "--pupils", "50", "--seed", "7",
		"--credentials-out", credsFile, "--results-log", resultsLog)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/uwlr/v2$`).MatchString(p.url) {
		t.Fatalf("listening on %q", p.url)
	}
	creds := readCreds(t, credsFile, 2)
	jaar := gateway.SchoolYearAt(time.Now())
	var firstPupil string
	for i, c := range creds {
		if c.Endpoint != p.url || c.Pupils != 50 || c.Profile != "standard" || c.Xsdversie != "2.2" {
			t.Errorf("credentials %d = %+v", i, c)
		}
		var keys []string
		sum, err := soap.NewClient(nil, connFor(c, p.url)).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar},
			soap.Handler{Leerling: func(l *uwlr.Leerling) error { keys = append(keys, l.Key); return nil }})
		if err != nil {
			t.Fatalf("school %d: %v", i, err)
		}
		if sum.Outcome != soap.OutcomeData || sum.Leerlingen != 50 || sum.School.Brincode != c.Brin || len(sum.Warnings) != 0 {
			t.Errorf("school %d: summary %+v", i, sum)
		}
		if i == 0 {
			firstPupil = keys[0]
		}
	}

	// A key granted for one school does not open the other.
	wrong := connFor(creds[0], p.url)
	wrong.Brincode = creds[1].Brin
	_, err := soap.NewClient(nil, wrong).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{})
	var se *soap.Error
	if !errors.As(err, &se) || se.Code != soap.CodeAutorisatieOngeldig || se.Class != soap.ClassCredential {
		t.Errorf("school 0's key for school 1: %v, want Client.AutorisatieOngeldig", err)
	}

	// Results end up in the results log.
	msg := &uwlr.LeerresultatenVerzoek{
		School: uwlr.ResultatenSchool{Schooljaar: jaar, Brincode: creds[0].Brin, Dependancecode: creds[0].Dependancecode,
			Aanmaakdatum: time.Now().UTC().Format(time.RFC3339), Xsdversie: "2.2"},
		Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{{Leerlingid: firstPupil,
			Resultaten: []uwlr.Resultaat{{Key: "RES-1", Afnamedatum: "2025-01-20", Toetscode: "T1", Score: "42"}}}}},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: "T1"}}}},
	}
	if err := soap.NewClient(nil, connFor(creds[0], p.url)).BrengLeerresultaten(ctxT(t), msg); err != nil {
		t.Fatalf("BrengLeerresultaten: %v", err)
	}
	b, err := os.ReadFile(resultsLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var line struct {
		Brin    string `json:"brin"`
		Results []struct {
			Key        string `json:"key"`
			Leerlingid string `json:"leerlingid"`
			Score      uint64 `json:"score"`
		} `json:"results"`
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &line) != nil || line.Brin != creds[0].Brin ||
		len(line.Results) != 1 || line.Results[0].Key != "RES-1" || line.Results[0].Leerlingid != firstPupil || line.Results[0].Score != 42 {
		t.Errorf("results log:\n%s", b)
	}

	if code := p.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
}

// TestSameSeedSameSchools: two processes with one seed issue the same schools
// and keys; another seed issues others.
func TestSameSeedSameSchools(t *testing.T) {
	dir := t.TempDir()
	run := func(seed string) []cred {
		f := filepath.Join(dir, "creds-"+seed+"-"+time.Now().Format("150405.000000000")+".json")
		p := startSim(t, "--schools", "3", "--pupils", "10", "--seed", seed, "--credentials-out", f)
		c := readCreds(t, f, 3)
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d", code)
		}
		for i := range c {
			c[i].Endpoint = "" // the port differs per process
		}
		return c
	}
	a, b, c := run("7"), run("7"), run("8")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 twice gave different credentials:\n%+v\n%+v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 7 and 8 gave the same credentials")
	}
}

// TestBadFlags: a wrong flag stops las-sim at once with a message and a
// non-zero exit code, before it listens.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	for _, tt := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown profile", []string{"--profile", "nope"}, 1, `unknown profile "nope"`},
		{"fault rate above 1", []string{"--fault-rate", "2"}, 1, "--fault-rate must be between 0 and 1"},
		{"negative fault rate", []string{"--fault-rate", "-0.5"}, 1, "--fault-rate must be between 0 and 1"},
		{"no schools", []string{"--schools", "0"}, 1, "--schools and --pupils must be at least 1"},
		{"no pupils", []string{"--pupils", "0"}, 1, "--schools and --pupils must be at least 1"},
		{"cert without key", []string{"--tls-cert", missing}, 1, "--tls-cert and --tls-key go together"},
		{"client CA without TLS", []string{"--client-ca", missing}, 1, "--client-ca needs --tls-cert"},
		{"unreadable certificate", []string{"--tls-cert", missing, "--tls-key", missing}, 1, "TLS certificate"},
		{"empty replay directory", []string{"--replay", dir}, 1, "holds no .xml files"},
		{"bad address", []string{"--addr", "127.0.0.1:99999"}, 1, "listen"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined: -nope"},
		{"not a number", []string{"--schools", "two"}, 2, "invalid value"},
		{"help", []string{"-h"}, 0, "-fault-rate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, simBin, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() != nil {
				t.Fatal("las-sim did not exit")
			}
			if code != tt.code || !strings.Contains(stderr.String(), tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and a message with %q", code, stderr.String(), tt.code, tt.msg)
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Errorf("las-sim listened despite the bad flags: %q", stdout.String())
			}
		})
	}
}

// TestReplayAndFaultFlags: --replay serves recorded files, --fault-rate 1
// answers every call with Server.TijdelijkNietBeschikbaar, --schooljaar sets
// the year the LAS holds.
func TestReplayAndFaultFlags(t *testing.T) {
	replayDir := t.TempDir()
	fixture, err := os.ReadFile("../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(replayDir, "HaalLeerlinggegevens.xml"), fixture, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		schooljaar string
		wantPupils int
		wantCode   string
		outcome    soap.Outcome
	}{
		{"replay", []string{"--replay", replayDir, "--profile", "magister"}, "2025-2026", 22, "", soap.OutcomeData},
		{"fault rate 1", []string{"--fault-rate", "1"}, "", 0, soap.CodeTijdelijkNietBeschikbaar, ""},
		{"schooljaar held", []string{"--schooljaar", "2023-2024"}, "2023-2024", 20, "", soap.OutcomeData},
		{"schooljaar not held", []string{"--schooljaar", "2023-2024"}, "2024-2025", 0, "", soap.OutcomeGeenGegevens},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "creds.json")
			p := startSim(t, append([]string{"--schools", "1", "--pupils", "20", "--credentials-out", f}, tt.args...)...)
			c := readCreds(t, f, 1)[0]
			jaar := tt.schooljaar
			if jaar == "" {
				jaar = gateway.SchoolYearAt(time.Now())
			}
			sum, err := soap.NewClient(nil, connFor(c, p.url)).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{})
			if tt.wantCode != "" {
				var se *soap.Error
				if !errors.As(err, &se) || se.Code != tt.wantCode {
					t.Fatalf("got %+v, %v; want fault %s", sum, err, tt.wantCode)
				}
			} else if err != nil || sum.Outcome != tt.outcome || sum.Leerlingen != tt.wantPupils {
				t.Fatalf("got %+v, %v; want %s with %d pupils", sum, err, tt.outcome, tt.wantPupils)
			}
			if code := p.stop(t); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
}

// TestQuietStderr: a clean start and stop writes nothing to stderr.
func TestQuietStderr(t *testing.T) {
	p := startSim(t, "--pupils", "5")
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		t.Errorf("unexpected stderr line %q", sc.Text())
	}
}
