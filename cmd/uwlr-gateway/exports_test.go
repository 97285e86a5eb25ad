package main

import (
	"crypto/rand"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// TestRecipientsAndExportsCLI: recipients, studies and the two exports from
// the command line: each export exits 3 and writes nothing until its own
// processing is granted; bad input exits 2 and stores nothing; a research
// export is a Data Package the npm datapackage library accepts; a legal
// disclosure holds exactly its basis's fields; no secret is ever printed.
func TestRecipientsAndExportsCLI(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	legal := "legal:\n  bases:\n    - name: wet\n      reference: \"Besluit leermiddelen art. 3\"\n      recipient: insp\n      fields: [school, jaargroep, birth_year]\n"
	appendFile(t, e.config, legal)
	s := e.enrol(30)
	e.must(0, "consent", "set", "--school", s.id, "--processing", "las_exchange", "--grant", "--by", "admin", "--instruction", "signed instruction 2026-1")
	e.syncSchool(s, 0)
	secret, err := webhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secretFile := writeFile(t, "hook.secret", secret+"\n")
	add := func(want int, args ...string) string {
		out, _ := e.must(want, append([]string{"recipient", "add", "--school", s.id}, args...)...)
		return out
	}
	add(0, "--processing", "dashboards", "--kind", "webhook", "--name", "dash", "--url", "http://127.0.0.1:9/hook", "--secret-file", secretFile, "--basis", "verwerkersovereenkomst")
	add(0, "--processing", "research", "--kind", "file", "--name", "uni", "--basis", "onderzoeksovereenkomst", "--country", "nl")
	add(0, "--processing", "legal", "--kind", "file", "--name", "insp", "--basis", "wettelijke plicht")
	for _, bad := range [][]string{
		{"--processing", "marketing", "--kind", "file", "--name", "x", "--basis", "b"},
		{"--processing", "dashboards", "--kind", "webhook", "--name", "x", "--url", "http://dash.example/h", "--secret-file", secretFile, "--basis", "b"},
		{"--processing", "dashboards", "--kind", "webhook", "--name", "x", "--url", "https://dash.example/h", "--basis", "b"},
		{"--processing", "research", "--kind", "file", "--name", "uni", "--basis", "b"},
	} {
		e.must(map[bool]int{true: 1, false: 2}[slices.Contains(bad, "uni")], append([]string{"recipient", "add", "--school", s.id}, bad...)...)
	}
	list, _ := e.must(0, "recipient", "list", "--school", s.id)
	show, _ := e.must(0, "recipient", "show", "--school", s.id, "--name", "dash", "--json")
	if !strings.Contains(list, "dash") || !strings.Contains(list, "uni") || strings.Contains(list, "x ") || !strings.Contains(show, `"has_secret": true`) {
		t.Fatalf("recipient list:\n%s\nshow:\n%s", list, show)
	}
	e.must(2, "study", "add", "--school", s.id, "--name", "old", "--purpose", "p", "--recipient", "uni", "--until", "2020-01-01")
	e.must(2, "study", "add", "--school", s.id, "--name", "k1", "--purpose", "p", "--recipient", "uni", "--until", "2099-01-01", "--k", "1")
	e.must(0, "study", "add", "--school", s.id, "--name", "s1", "--purpose", "rekenen", "--recipient", "uni", "--until", "2099-07-31", "--k", "2")

	dir := filepath.Join(t.TempDir(), "export")
	e.must(3, "export", "research", "--school", s.id, "--study", "s1", "--out", dir)
	e.must(3, "export", "legal", "--school", s.id, "--basis", "wet", "--out", filepath.Join(dir, "legal.csv"))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused export wrote %s (%v)", dir, err)
	}
	for _, p := range []string{"research", "legal"} {
		e.must(0, "consent", "set", "--school", s.id, "--processing", p, "--grant", "--by", "admin", "--instruction", "signed instruction 2026-2")
	}
	out, _ := e.must(0, "export", "research", "--school", s.id, "--study", "s1", "--out", dir)
	if !strings.Contains(out, "exported to") {
		t.Fatalf("export research: %s", out)
	}
	validateDataPackage(t, dir)
	legalCSV := filepath.Join(dir, "legal.csv")
	e.must(0, "export", "legal", "--school", s.id, "--basis", "wet", "--out", legalCSV)
	checkLegalCSV(t, legalCSV, []string{"school", "jaargroep", "birth_year"})
	if strings.Contains(e.outputs.String(), strings.TrimPrefix(secret, "whsec_")) {
		t.Fatal("a command printed the webhook secret")
	}
	e.must(0, "recipient", "remove", "--school", s.id, "--name", "dash")
	e.must(1, "recipient", "show", "--school", s.id, "--name", "dash")
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// validateDataPackage runs the independent validator (the npm datapackage
// library, installed by make deps) on an export directory.
func validateDataPackage(t *testing.T, dir string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "datapackage", "validate.js"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("the npm datapackage library refuses the export (run make deps if it is missing): %v\n%s", err, out)
	}
	for _, f := range []string{"datapackage.json", "pupils.csv", "results.csv", "manifest.json", "manifest.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the export has no %s: %v", f, err)
		}
	}
}

func checkLegalCSV(t *testing.T, path string, fields []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || !slices.Equal(rows[0], fields) {
		t.Fatalf("legal disclosure: %v rows, header %v, %v; want exactly %v", len(rows), rows, err, fields)
	}
	if _, err := os.Stat(path + ".evidence.xml"); err != nil {
		t.Fatalf("no signed evidence beside the disclosure: %v", err)
	}
}
