package main

// In-package tests: they call run(...) in-process (the CLI edge, with exit
// codes) against a simulated LAS served on loopback HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// jaar is the schooljaar the simulated LAS holds; every command is given it.
const jaar = "2025-2026"

func TestMain(m *testing.M) {
	// The configuration comes from defaults and UWLR_* variables: keep the
	// caller's environment out of these tests.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "UWLR_") {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

// las is a simulated LAS on loopback HTTP.
type las struct {
	srv      *httptest.Server
	world    *lassim.World
	endpoint string
	creds    lassim.Credentials // school 0
}

func startLAS(t *testing.T, profile string, pupils int, tweak func(*lassim.Sim)) *las {
	t.Helper()
	prof := lassim.Profiles[profile]
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String() + prof.Path
	w := lassim.NewWorld(lassim.Options{Seed: 31, Schools: 2, Pupils: pupils, Profile: prof, Schooljaar: jaar,
		Now: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC), Endpoint: endpoint})
	sim := lassim.NewSim(w, prof, 31)
	if tweak != nil {
		tweak(sim)
	}
	srv.Config.Handler = sim.Handler(endpoint)
	srv.Start()
	t.Cleanup(srv.Close)
	return &las{srv: srv, world: w, endpoint: endpoint, creds: w.Schools[0].Creds}
}

// args are the connection flags for school 0 with the key in keyFile.
func (l *las) args(keyFile string) []string {
	a := []string{"--endpoint", l.endpoint, "--brin", l.creds.Brin, "--klantcode", l.creds.Klantcode,
		"--klantnaam", l.creds.Klantnaam, "--schooljaar", jaar, "--xsdversie", l.creds.Xsdversie}
	if keyFile != "" {
		a = append(a, "--key-file", keyFile)
	}
	return a
}

// counts are what a leerlinggegevens answer holds, counted in its raw bytes
// (independently of the soap reader the CLI uses).
type counts struct {
	pupils, groups, comps, teachers, vestigingen int
}

func (l *las) rawCounts(t *testing.T) counts {
	t.Helper()
	conn := soap.Connection{Endpoint: l.endpoint, Autorisatiesleutel: l.creds.Autorisatiesleutel, Klantcode: l.creds.Klantcode,
		Klantnaam: l.creds.Klantnaam, Brincode: l.creds.Brin, Xsdversie: l.creds.Xsdversie}
	var buf bytes.Buffer
	if _, err := soap.NewClient(l.srv.Client(), conn).Fetch(ctxT(t), uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: jaar}, nil, &buf, nil); err != nil {
		t.Fatal(err)
	}
	n := func(re string) int { return len(regexp.MustCompile(re).FindAll(buf.Bytes(), -1)) }
	const p = `(?:\w+:)?` // any element prefix (Magister's le:)
	c := counts{pupils: n(`<` + p + `leerling[ >]`), groups: n(`<` + p + `groep key="[^"]*"><` + p + `naam>`),
		comps: n(`<` + p + `samengestelde_groep key="[^"]*"><` + p + `naam>`), teachers: n(`<` + p + `leerkracht[ >]`),
		vestigingen: n(`<` + p + `vestiging key="[^"]*"><` + p + `naam>`)}
	if c.pupils == 0 || c.groups == 0 || c.teachers == 0 {
		t.Fatalf("raw counts %+v: the simulator sent no data", c)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeFile writes content to a new file in a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cli runs the command line in-process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctxT(t), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// jsonObject decodes stdout as one JSON object.
func jsonObject(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return m
}

// num reads a JSON number field as int (missing counts as -1).
func num(t *testing.T, m map[string]any, k string) int {
	t.Helper()
	v, ok := m[k].(json.Number)
	if !ok {
		return -1
	}
	i, err := v.Int64()
	if err != nil {
		t.Fatalf("%s = %v: %v", k, v, err)
	}
	return int(i)
}

// checkCounts compares the count fields of a check or parse result with want.
func checkCounts(t *testing.T, m map[string]any, want counts) {
	t.Helper()
	got := counts{pupils: num(t, m, "pupils"), groups: num(t, m, "groups"), comps: num(t, m, "composite_groups"),
		teachers: num(t, m, "teachers"), vestigingen: num(t, m, "vestigingen")}
	if got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if w, ok := m["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings = %#v, want []", m["warnings"])
	}
	if m["outcome"] != "data" {
		t.Errorf("outcome = %v, want data", m["outcome"])
	}
}

// faultOf returns the fault object of a JSON result.
func faultOf(t *testing.T, m map[string]any) (code, class, hint string) {
	t.Helper()
	f, ok := m["fault"].(map[string]any)
	if !ok {
		t.Fatalf("no fault object in %v", m)
	}
	code, _ = f["code"].(string)
	class, _ = f["class"].(string)
	hint, _ = f["hint"].(string)
	return code, class, hint
}

// echoingLAS answers every call with a fault whose text repeats the key it
// was sent (a careless vendor): the CLI must never print it.
func echoingLAS(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(&soap.Server{Backend: echoBackend{}})
	t.Cleanup(srv.Close)
	return srv.URL + "/uwlr"
}

type echoBackend struct{}

func (echoBackend) Handle(_ context.Context, c *soap.Call) (any, error) {
	key := ""
	if c.Auth != nil {
		key = c.Auth.Autorisatiesleutel
	}
	return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "sleutel "+key+" is onbekend")
}

// faultWith200 answers every call with a SOAP fault, sent with HTTP 200.
func faultWith200(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
			`<faultcode>s:Client.AutorisatieOngeldig</faultcode><faultstring>Autorisatie ongeldig</faultstring></s:Fault></s:Body></s:Envelope>`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/uwlr"
}
