package intake_test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

// python is Debian's interpreter, which has python3-jsonschema; the python3
// on PATH may be another build without it.
const python = "/usr/bin/python3"

// validateScript checks the schema itself, then validates each file with
// format assertion on (so "format": "date" is checked), and prints, per
// file, the schema's complaints.
const validateScript = `
import json, sys
from jsonschema import Draft202012Validator
with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
out = {}
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out[path] = ["/" + "/".join(str(p) for p in e.absolute_path) + ": " + e.message for e in v.iter_errors(doc)]
print(json.dumps(out))
`

// schemaVerdicts runs the embedded schema over files with Debian's JSON
// Schema validator and returns each file's complaints (none: valid). A
// missing validator fails the test.
func schemaVerdicts(t *testing.T, files []string) map[string][]string {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s: %v (install python3-jsonschema; this test never skips)", python, err)
	}
	schema := filepath.Join(t.TempDir(), "results.schema.json")
	if err := os.WriteFile(schema, intake.Schema, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, append([]string{"-c", validateScript, schema}, files...)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("JSON Schema validator: %v\n%s(Debian: apt-get install python3-jsonschema)", err, stderr)
	}
	var verdicts map[string][]string
	if err := json.Unmarshal(out, &verdicts); err != nil {
		t.Fatalf("validator output: %v\n%s", err, out)
	}
	return verdicts
}

// badExample is a file in testdata/bad (or a good file read with the wrong
// score type) and what Read must say about it. structural: the schema must
// reject it too; otherwise only Read can know (the schema must accept it, so
// that this table says exactly where the line runs).
type badExample struct {
	file       string
	structural bool
	scoreType  string
	pos        string // of Read's first problem
}

var badExamples = []badExample{
	// Structural: rejected by the schema and by Read.
	{file: "bad/unknown-field.json", structural: true, pos: "results[0].colour"},
	{file: "bad/unknown-top-level-field.json", structural: true, pos: "extra"},
	{file: "bad/nested-unknown-field.json", structural: true, pos: "results[0].oso.score.itemz"},
	{file: "bad/null-field.json", structural: true, pos: "results[0].part"},
	{file: "bad/both-pupil-ids.json", structural: true, pos: "results[0]"},
	{file: "bad/no-pupil.json", structural: true, pos: "results[0]"},
	{file: "bad/no-score.json", structural: true, pos: "results[0]"},
	{file: "bad/score-and-oso.json", structural: true, pos: "results[0]"},
	{file: "bad/score-as-text.json", structural: true, pos: "results[0].score"},
	{file: "bad/negative-score.json", structural: true, pos: "results[0].score"},
	{file: "bad/score-above-max.json", structural: true, pos: "results[0].score"},
	{file: "bad/missing-date.json", structural: true, pos: "results[0].date"},
	{file: "bad/date-pattern.json", structural: true, pos: "results[0].date"},
	// A real date is "format": "date", asserted only by validators that
	// assert formats (as this test does).
	{file: "bad/date-not-real.json", structural: true, pos: "results[0].date"},
	{file: "bad/key-pattern.json", structural: true, pos: "results[0].key"},
	{file: "bad/no-results.json", structural: true, pos: "results"},
	{file: "bad/empty-results.json", structural: true, pos: "results"},
	{file: "bad/empty-oso.json", structural: true, pos: "results[0].oso"},
	{file: "bad/empty-oso-score.json", structural: true, pos: "results[0].oso.score"},
	{file: "bad/oso-negative-count.json", structural: true, pos: "results[0].oso.score.items"},
	{file: "bad/oso-decimal-comma.json", structural: true, pos: "results[0].oso.score.seconds"},
	{file: "bad/oso-reference-without-value.json", structural: true, pos: "results[0].oso.references[0].value"},
	{file: "bad/test-code-empty.json", structural: true, pos: "tests[0].code"},
	{file: "bad/test-code-as-number.json", structural: true, pos: "tests[0].code"},
	{file: "bad/test-name-too-long.json", structural: true, pos: "tests[0].name"},
	{file: "bad/norm-term-too-long.json", structural: true, pos: "tests[0].norming.norms[0].term"},
	{file: "bad/no-norms.json", structural: true, pos: "tests[0].norming.norms"},
	{file: "bad/colour-out-of-range.json", structural: true, pos: "tests[0].norming.norms[0].colour.red"},
	{file: "bad/transparency-above-1.json", structural: true, pos: "tests[0].norming.norms[0].colour.transparency"},
	{file: "bad/grade-above-10.json", structural: true, pos: "tests[0].norming.norms[0].grade_to"},
	{file: "bad/weight-not-decimal.json", structural: true, pos: "tests[0].norming.weight"},
	{file: "bad/part-seq-zero.json", structural: true, pos: "tests[0].parts[0].seq"},
	{file: "bad/empty-parts.json", structural: true, pos: "tests[0].parts"},
	{file: "bad/hierarchy-without-level.json", structural: true, pos: "tests[0].hierarchy[0].level"},

	// Only Read can tell: the pupils and stored tests of the school, the
	// clock, the receiver's score type, relations between records, and what
	// a JSON parser hides from a schema validator (a member given twice, the
	// text of a number).
	{file: "bad/unknown-pupil.json", pos: "results[0].pupil_id"},
	{file: "bad/pupil-of-other-school.json", pos: "results[0].las_key"},
	{file: "bad/other-school.json", pos: "school"},
	{file: "bad/test-not-defined.json", pos: "results[0].test"},
	{file: "bad/part-not-of-test.json", pos: "results[0].part"},
	{file: "bad/date-in-future.json", pos: "results[0].date"},
	{file: "bad/date-before-2000.json", pos: "results[0].date"},
	{file: "bad/duplicate-key.json", pos: "results[1].key"},
	{file: "bad/same-session-twice.json", pos: "results[1]"},
	{file: "bad/test-defined-twice.json", pos: "tests[1].code"},
	{file: "bad/part-seq-twice.json", pos: "tests[0].parts[1].seq"},
	{file: "bad/part-code-twice.json", pos: "tests[0].parts[1].code"},
	{file: "bad/norm-begin-above-end.json", pos: "tests[0].norming.norms[0].begin"},
	{file: "bad/oso-interval-upside-down.json", pos: "results[0].oso.score.interval.low"},
	{file: "bad/fraction-for-integer-receiver.json", pos: "results[0].score"},
	{file: "good-decimal.json", scoreType: gateway.ScoreInteger, pos: "results[0].score"},
	{file: "bad/whole-number-with-fraction.json", pos: "results[0].score"},
	{file: "bad/score-exponent.json", pos: "results[0].score"},
	{file: "bad/minus-zero.json", pos: "results[0].score"},
	{file: "bad/field-twice.json", pos: "results[0].score"},
	{file: "bad/control-character.json", pos: "results[0].processor"},
}

var goodExamples = []struct {
	file      string
	scoreType string
}{
	{"good.json", gateway.ScoreInteger},
	{"good-decimal.json", gateway.ScoreDecimal},
	{"good-minimal.json", ""},
}

// TestSchemaAgreesWithRead: every good example passes both the JSON Schema
// and Read; every structurally bad example is rejected by both; every
// example only Read can judge passes the schema and fails Read.
func TestSchemaAgreesWithRead(t *testing.T) {
	var files []string
	for _, g := range goodExamples {
		files = append(files, filepath.Join("testdata", g.file))
	}
	listed := map[string]bool{}
	for _, b := range badExamples {
		files = append(files, filepath.Join("testdata", b.file))
		listed[b.file] = true
	}
	onDisk, err := filepath.Glob("testdata/bad/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range onDisk {
		if rel := strings.TrimPrefix(filepath.ToSlash(f), "testdata/"); !listed[rel] {
			t.Errorf("%s is not in badExamples", f)
		}
	}
	verdicts := schemaVerdicts(t, slices.Compact(slices.Sorted(slices.Values(files))))

	readFile := func(t *testing.T, file, scoreType string) []gateway.Problem {
		t.Helper()
		f, err := os.Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		o := options()
		o.ScoreType = scoreType
		b, problems, err := intake.Read(f, testPupils, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) > 0 && (len(b.Results) > 0 || len(b.Tests) > 0) {
			t.Errorf("problems, yet a batch came back")
		}
		return problems
	}

	for _, g := range goodExamples {
		t.Run(g.file, func(t *testing.T) {
			if v := verdicts[filepath.Join("testdata", g.file)]; len(v) > 0 {
				t.Errorf("the schema rejects a good example:\n%s", strings.Join(v, "\n"))
			}
			if ps := readFile(t, g.file, g.scoreType); len(ps) > 0 {
				t.Errorf("Read rejects a good example:\n%s", show(ps))
			}
		})
	}
	for _, b := range badExamples {
		t.Run(b.file+"/"+b.scoreType, func(t *testing.T) {
			v := verdicts[filepath.Join("testdata", b.file)]
			switch {
			case b.structural && len(v) == 0:
				t.Errorf("the schema accepts a structurally bad example")
			case !b.structural && len(v) > 0:
				t.Errorf("the schema rejects an example listed as one only Read can judge:\n%s", strings.Join(v, "\n"))
			}
			ps := readFile(t, b.file, b.scoreType)
			if len(ps) == 0 {
				t.Fatalf("Read accepts a bad example (schema says: %v)", v)
			}
			if ps[0].Position != b.pos {
				t.Errorf("Read's first problem is %q, want one at %s; all:\n%s", ps[0], b.pos, show(ps))
			}
		})
	}
}

// TestSchemaDocumentsTheFormat: the schema's top level names the fields Read
// takes, so that the two do not drift apart unnoticed.
func TestSchemaDocumentsTheFormat(t *testing.T) {
	var s struct {
		Schema     string                     `json:"$schema"`
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(intake.Schema, &s); err != nil {
		t.Fatalf("embedded schema: %v", err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema %q, want draft 2020-12", s.Schema)
	}
	keys := func(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }
	for _, tt := range []struct {
		where string
		got   []string
		want  []string
	}{
		{"top level", keys(s.Properties), []string{"results", "school", "tests"}},
		{"result", keys(s.Defs["result"].Properties), []string{"date", "key", "las_key", "oso", "part", "processor", "pupil_id", "score", "test"}},
		{"test", keys(s.Defs["test"].Properties), []string{"code", "hierarchy", "name", "norming", "parts", "subject", "trial", "version", "year_level"}},
	} {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: schema properties %v, want %v", tt.where, tt.got, tt.want)
		}
	}
}
