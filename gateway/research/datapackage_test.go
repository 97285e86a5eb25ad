package research_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

// validate runs the independent validator (scripts/datapackage/validate.js,
// the npm datapackage library) on the export written to a fresh directory.
// A missing node or module fails the test: run make deps.
func validate(t *testing.T, files map[string][]byte) (string, error) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): run make deps", err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "datapackage", "validate.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "datapackage", "package.json")); err != nil {
		t.Fatalf("the npm module datapackage is not installed in scripts/datapackage (%v): run make deps", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script, writeDir(t, files)).CombinedOutput()
	return string(out), err
}

func TestDataPackageValidates(t *testing.T) {
	quoted := population(group{6, "2016-05-01", "1", "4", 2}, group{1, "2012-01-01", "2", "B", 1}, group{5, "", "", "", 1})
	quoted.Results[0].Test, quoted.Results[1].Part, quoted.Results[2].Score = `Toets, "deel" A`, "p\u00e9", ""
	tests := []struct {
		name  string
		study research.Study
		in    research.Input
	}{
		{"default fields, generalised and suppressed", study(5), quoted},
		{"ages in bands", study(3, "age", "gender", "score"), population(group{2, "2018-05-01", "1", "2", 1}, group{1, "2020-01-01", "1", "2", 1})},
		{"raw birth years and ages as year and integer", study(2, "birth_year", "jaargroep"), population(group{2, "2016-05-01", "1", "4", 1}, group{2, "2017-05-01", "1", "5", 1})},
		{"raw ages", study(2, "age"), population(group{3, "2016-05-01", "1", "4", 0})},
		{"every field with the school", study(2, "school", "age", "gender", "jaargroep", "test", "part", "date", "score"), quoted},
		{"no results file", study(2, "gender"), quoted},
		{"no pupils at all", study(5), research.Input{}},
		{"everyone suppressed", study(10, "gender", "score"), population(group{3, "2016-05-01", "1", "4", 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := mustBuild(t, tt.study, key(4), tt.in)
			out, err := validate(t, ex.Files)
			if err != nil {
				t.Fatalf("the validator rejects the export: %v\n%s\ndatapackage.json:\n%s", err, out, ex.Files["datapackage.json"])
			}
			if !strings.Contains(out, "valid") {
				t.Fatalf("validator output %q lacks its verdict", out)
			}
		})
	}
}

// TestDataPackageValidatorCatchesTampering shows that the validator checks
// what the export promises: each tampered copy of a good export fails.
func TestDataPackageValidatorCatchesTampering(t *testing.T) {
	in := population(group{4, "2018-05-01", "1", "2", 1}, group{2, "2020-01-01", "1", "2", 1})
	good := mustBuild(t, study(3, "age", "gender", "jaargroep", "test", "date", "score"), key(4), in)
	if got := good.Manifest.Generalised; len(got) == 0 || got[0] != research.StepAgeBand {
		t.Fatalf("Generalised = %v, want the age banded", got)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, files map[string][]byte)
		want   string // in the validator's output
	}{
		{"a band typed integer", func(t *testing.T, f map[string][]byte) { setField(t, f, "pupils", "age", "type", "integer") }, "age"},
		{"a date typed year", func(t *testing.T, f map[string][]byte) { setField(t, f, "results", "date", "type", "year") }, "date"},
		{"a result of a pupil not in pupils.csv", func(t *testing.T, f map[string][]byte) {
			f["results.csv"] = append(f["results.csv"], []byte("0123456789abcdef0123456789abcdef,T,2026-01-20,5\r\n")...)
			rehash(t, f, "results")
		}, "oreign key"},
		{"a pupil listed twice", func(t *testing.T, f map[string][]byte) {
			rows := strings.SplitAfter(string(f["pupils.csv"]), "\r\n")
			if len(rows) < 3 {
				t.Fatalf("pupils.csv has no CRLF data rows: %q", f["pupils.csv"])
			}
			f["pupils.csv"] = []byte(strings.Join(rows, "") + rows[1])
			rehash(t, f, "pupils")
		}, "unique"},
		{"a header that is not the schema", func(t *testing.T, f map[string][]byte) {
			f["pupils.csv"] = []byte(strings.Replace(string(f["pupils.csv"]), "jaargroep", "groep", 1))
			rehash(t, f, "pupils")
		}, "header"},
		{"a changed file", func(t *testing.T, f map[string][]byte) {
			f["results.csv"] = []byte(strings.Replace(string(f["results.csv"]), ",5\r\n", ",6\r\n", 1))
		}, "hash"},
		{"a score that is no number", func(t *testing.T, f map[string][]byte) {
			f["results.csv"] = []byte(strings.Replace(string(f["results.csv"]), ",5\r\n", ",vijf\r\n", 1))
			rehash(t, f, "results")
		}, "score"},
		{"a gender outside its enum", func(t *testing.T, f map[string][]byte) {
			setField(t, f, "pupils", "gender", "constraints", map[string]any{"enum": []string{"0"}})
		}, "gender"},
		{"a resource that is not tabular", func(t *testing.T, f map[string][]byte) { setResource(t, f, "pupils", "profile", "data-resource") }, "/resources/0/profile"},
		{"a package name in capitals", func(t *testing.T, f map[string][]byte) { setPackage(t, f, "name", "Reading Growth") }, "descriptor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for n, b := range good.Files {
				files[n] = append([]byte(nil), b...)
			}
			tt.tamper(t, files)
			out, err := validate(t, files)
			if err == nil {
				t.Fatalf("the validator accepts a tampered export:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("validator output lacks %q:\n%s", tt.want, out)
			}
			t.Logf("validator: %s", out)
		})
	}
	if out, err := validate(t, good.Files); err != nil {
		t.Fatalf("the untampered export fails: %v\n%s", err, out)
	}
}

// editPackage decodes datapackage.json, lets edit change it, encodes it back.
func editPackage(t *testing.T, files map[string][]byte, edit func(p map[string]any)) {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(files["datapackage.json"], &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	files["datapackage.json"] = b
}

func setPackage(t *testing.T, files map[string][]byte, prop string, v any) {
	editPackage(t, files, func(p map[string]any) { p[prop] = v })
}

func eachResource(p map[string]any, name string, do func(r map[string]any)) {
	for _, r := range p["resources"].([]any) {
		if r := r.(map[string]any); r["name"] == name {
			do(r)
		}
	}
}

func setResource(t *testing.T, files map[string][]byte, resource, prop string, v any) {
	editPackage(t, files, func(p map[string]any) { eachResource(p, resource, func(r map[string]any) { r[prop] = v }) })
}

func setField(t *testing.T, files map[string][]byte, resource, field, prop string, v any) {
	editPackage(t, files, func(p map[string]any) {
		eachResource(p, resource, func(r map[string]any) {
			for _, f := range r["schema"].(map[string]any)["fields"].([]any) {
				if f := f.(map[string]any); f["name"] == field {
					f[prop] = v
				}
			}
		})
	})
}

// rehash makes a resource's bytes and hash fit its changed file, so only
// the change itself is left for the validator to find.
func rehash(t *testing.T, files map[string][]byte, resource string) {
	b := files[resource+".csv"]
	sum := sha256.Sum256(b)
	setResource(t, files, resource, "bytes", len(b))
	setResource(t, files, resource, "hash", "sha256:"+hex.EncodeToString(sum[:]))
}
