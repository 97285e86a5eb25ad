package intake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const school gateway.SchoolID = "12AB00"

// now is the submission time of the tests: 6 October 2025, noon in Amsterdam.
var now = time.Date(2025, 10, 6, 10, 0, 0, 0, time.UTC)

// pupils is a school's pupils for the tests: p_1 (L1), p_2 (L2), p_3 known
// by ECK iD only (no LAS key), and p_9 (LX), who is at another school.
type pupils map[gateway.PupilID]gateway.Pupil

var testPupils = pupils{
	"p_1": {ID: "p_1", School: school, LASKey: "L1", LastName: "Jansen"},
	"p_2": {ID: "p_2", School: school, LASKey: "L2", LastName: "de Vries"},
	"p_3": {ID: "p_3", School: school, SealedEckID: []byte{1, 2, 3}},
	"p_9": {ID: "p_9", School: "99ZZ00", LASKey: "LX"},
}

func (ps pupils) ByID(id gateway.PupilID) (gateway.Pupil, bool) {
	p, ok := ps[id]
	return p, ok
}

func (ps pupils) ByLASKey(k string) (gateway.Pupil, bool) {
	for _, p := range ps {
		if p.LASKey == k {
			return p, true
		}
	}
	return gateway.Pupil{}, false
}

// storedTests: SPEL-M4 (no parts, a trial test) is already stored.
var storedTests = map[string]gateway.TestDefinition{
	"SPEL-M4": {Code: gateway.Term{Value: "SPEL-M4"}, Name: "Spelling M4", Trial: true},
}

func options() intake.Options {
	return intake.Options{School: school, ScoreType: gateway.ScoreInteger, Now: now, StoredTests: storedTests}
}

func read(t *testing.T, doc string, o intake.Options) (intake.Batch, []gateway.Problem) {
	t.Helper()
	b, problems, err := intake.Read(strings.NewReader(doc), testPupils, o)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return b, problems
}

// TestReadGood reads testdata/good.json and compares the batch with its
// golden file.
func TestReadGood(t *testing.T) {
	f, err := os.ReadFile("testdata/good.json")
	if err != nil {
		t.Fatal(err)
	}
	b, problems := read(t, string(f), options())
	if len(problems) > 0 {
		t.Fatalf("problems in a good file: %v", problems)
	}
	got, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const golden = "testdata/good.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("batch differs from %s (go test -update rewrites it):\n%s", golden, got)
	}

	// Spot checks that the golden file cannot hide.
	if len(b.Tests) != 2 || len(b.Results) != 5 {
		t.Fatalf("%d tests, %d results", len(b.Tests), len(b.Results))
	}
	r := b.Results
	switch {
	case r[0].Key != "pub:2025:0001" || r[0].Pupil != "p_1" || r[0].Score != "17" || r[0].Processor != "LK-7" || r[0].Part != "P1":
		t.Errorf("result 0: %+v", r[0])
	case r[1].Pupil != "p_2" || r[1].Score != "0" || !strings.HasPrefix(r[1].Key, "r_"):
		t.Errorf("result 1 (las_key, score 0, derived key): %+v", r[1])
	case !r[2].Trial || r[2].OSO == nil || r[2].Score != "":
		t.Errorf("result 2 (OSO on a trial test defined in the file): %+v", r[2])
	case !r[3].Trial || r[3].Score != "9223372036854775807":
		t.Errorf("result 3 (stored trial test, largest score): %+v", r[3])
	case r[4].Pupil != "p_3":
		t.Errorf("result 4 (pupil without LAS key): %+v", r[4])
	}
	for _, res := range r {
		if res.School != school || !res.SubmittedAt.Equal(now) || res.Batch != "" || len(res.Digest) != 64 {
			t.Errorf("result %s: school %q submitted %v batch %q digest %q", res.Key, res.School, res.SubmittedAt, res.Batch, res.Digest)
		}
	}
}

// base is a file with one good test definition and the given results.
func base(results ...string) string {
	return `{"school": "12AB00", "tests": [{"code": "REK-M4", "name": "Rekenen M4", "parts": [{"seq": 1, "code": "P1"}, {"seq": 2, "code": "P2"}]}],
"results": [` + strings.Join(results, ",\n") + `]}`
}

// withTests is a file with the given test definitions and one good result
// on each of the codes in on.
func withTests(tests string, on ...string) string {
	if len(on) == 0 {
		on = []string{"SPEL-M4"} // stored
	}
	var rs []string
	for _, code := range on {
		rs = append(rs, `{"pupil_id": "p_1", "test": "`+code+`", "date": "2025-01-20", "score": 1}`)
	}
	return `{"tests": [` + tests + `], "results": [` + strings.Join(rs, ",") + `]}`
}

// good is a good result on REK-M4.
const good = `{"pupil_id": "p_1", "test": "REK-M4", "date": "2025-01-20", "score": 17}`

// res is a good result with the given members replacing or adding to good's.
func res(members string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		panic(err)
	}
	var extra map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+members+"}"), &extra); err != nil {
		panic(members + ": " + err.Error())
	}
	for k, v := range extra {
		if string(v) == `"<drop>"` {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type want struct{ pos, reason string } // reason: a substring

func TestReadProblems(t *testing.T) {
	decimal := func(o *intake.Options) { o.ScoreType = gateway.ScoreDecimal }
	for _, tt := range []struct {
		name string
		doc  string
		opts func(o *intake.Options)
		want []want
	}{
		// Syntax and the document as a whole.
		{name: "syntax error", doc: "{\"results\": [\n  {\"test\": }\n]}", want: []want{{"line 2 column 12", "JSON syntax: invalid character '}'"}}},
		{name: "empty file", doc: "", want: []want{{"line 1 column 1", "unexpected end of JSON input"}}},
		{name: "trailing data", doc: base(good) + "\n{}", want: []want{{"line 3 column 1", "after top-level value"}}},
		{name: "not an object", doc: `[]`, want: []want{{"(file)", "must be an object"}}},
		{name: "unknown top-level field", doc: strings.Replace(base(good), `"school"`, `"extra": 1, "school"`, 1), want: []want{{"extra", "unknown field"}}},
		{name: "no results", doc: `{"tests": []}`, want: []want{{"results", "is required"}}},
		{name: "empty results", doc: `{"results": []}`, want: []want{{"results", "at least one result"}}},
		{name: "results not an array", doc: `{"results": {}}`, want: []want{{"results", "must be an array"}}},
		{name: "tests not an array", doc: `{"tests": {"code": "REK-M4"}, "results": [` + good + `]}`, want: []want{{"tests", "must be an array"}}},
		{name: "other school", doc: strings.Replace(base(good), "12AB00", "99ZZ00", 1), want: []want{{"school", "another school than 12AB00"}}},

		// Structure of a result.
		{name: "unknown field", doc: base(res(`"colour": "red"`)), want: []want{{"results[0].colour", "unknown field"}}},
		{name: "unknown nested field", doc: base(res(`"score": "<drop>", "oso": {"score": {"items": 3, "itemz": 4}}`)), want: []want{{"results[0].oso.score.itemz", "unknown field"}}},
		{name: "field in another case", doc: base(`{"pupil_id": "p_1", "test": "REK-M4", "date": "2025-01-20", "Score": 17}`),
			want: []want{{"results[0].Score", "unknown field"}}},
		{name: "field given twice", doc: base(`{"pupil_id": "p_1", "test": "REK-M4", "date": "2025-01-20", "score": 17, "score": 18}`),
			want: []want{{"results[0].score", "given twice"}}},
		{name: "null", doc: base(res(`"part": null`)), want: []want{{"results[0].part", "must not be null"}}},
		{name: "score as text", doc: base(res(`"score": "17"`)), want: []want{{"results[0].score", "must be a number"}}},
		{name: "date as number", doc: base(res(`"date": 20250120`)), want: []want{{"results[0].date", "must be a string"}}},
		{name: "missing test and date", doc: base(`{"pupil_id": "p_1", "score": 1}`), want: []want{{"results[0].test", "is required"}, {"results[0].date", "is required"}}},
		{name: "control character", doc: base(res(`"processor": "LK\u0001"`)), want: []want{{"results[0].processor", "XML cannot carry"}}},
		{name: "record not an object", doc: base(`17`), want: []want{{"results[0]", "must be an object"}}},

		// Pupils.
		{name: "pupil_id and las_key", doc: base(res(`"las_key": "L1"`)), want: []want{{"results[0]", "both pupil_id and las_key"}}},
		{name: "no pupil", doc: base(res(`"pupil_id": "<drop>"`)), want: []want{{"results[0]", "needs pupil_id or las_key"}}},
		{name: "unknown pupil id", doc: base(res(`"pupil_id": "p_404"`)), want: []want{{"results[0].pupil_id", "no pupil p_404 at school 12AB00"}}},
		{name: "unknown LAS key", doc: base(res(`"pupil_id": "<drop>", "las_key": "L404"`)), want: []want{{"results[0].las_key", "no pupil with LAS key L404"}}},
		{name: "pupil of another school", doc: base(res(`"pupil_id": "<drop>", "las_key": "LX"`)), want: []want{{"results[0].las_key", "no pupil with LAS key LX at school 12AB00"}}},
		{name: "empty LAS key", doc: base(res(`"pupil_id": "<drop>", "las_key": ""`)), want: []want{{"results[0].las_key", "must not be empty"}}},

		// Tests and parts.
		{name: "test not defined", doc: base(res(`"test": "TAAL-M4"`)), want: []want{{"results[0].test", "test TAAL-M4 is not defined in this file nor stored"}}},
		{name: "not a part of the test", doc: base(res(`"part": "P9"`)), want: []want{{"results[0].part", "P9 is not a part of test REK-M4"}}},
		{name: "part of a stored test without parts", doc: base(res(`"test": "SPEL-M4", "part": "P1"`)), want: []want{{"results[0].part", "P1 is not a part of test SPEL-M4"}}},
		{name: "bad definition, no second complaint", doc: `{"tests": [{"code": "X", "name": ""}], "results": [{"pupil_id": "p_1", "test": "X", "date": "2025-01-20", "score": 1}]}`,
			want: []want{{"tests[0].name", "must not be empty"}}},

		// Dates.
		{name: "date pattern", doc: base(res(`"date": "20-01-2025"`)), want: []want{{"results[0].date", "YYYY-MM-DD"}}},
		{name: "date not real", doc: base(res(`"date": "2025-02-29"`)), want: []want{{"results[0].date", "not a real date"}}},
		{name: "date after today", doc: base(res(`"date": "2025-10-07"`)), want: []want{{"results[0].date", "after the day of submission (2025-10-06)"}}},
		{name: "date after today in Amsterdam", doc: base(res(`"date": "2025-10-08"`)), opts: func(o *intake.Options) { o.Now = time.Date(2025, 10, 6, 22, 30, 0, 0, time.UTC) },
			want: []want{{"results[0].date", "after the day of submission (2025-10-07)"}}},
		{name: "date before 2000", doc: base(res(`"date": "1999-12-31"`)), want: []want{{"results[0].date", "before 2000-01-01"}}},

		// Scores.
		{name: "no score", doc: base(res(`"score": "<drop>"`)), want: []want{{"results[0]", "needs a score or an oso result"}}},
		{name: "score and oso", doc: base(res(`"oso": {"references": [{"code": "PERC", "comparison_group": "L", "value": "1"}]}`)), want: []want{{"results[0]", "both a score and an oso"}}},
		{name: "negative score", doc: base(res(`"score": -1`)), want: []want{{"results[0].score", "non-negative whole number"}}},
		{name: "minus zero", doc: base(res(`"score": -0`)), want: []want{{"results[0].score", "non-negative whole number"}}},
		{name: "fraction for an integer receiver", doc: base(res(`"score": 17.5`)), want: []want{{"results[0].score", "the receiver takes integer scores"}}},
		{name: "whole number with a fraction", doc: base(res(`"score": 17.0`)), want: []want{{"results[0].score", "without fraction or exponent"}}},
		{name: "exponent", doc: base(res(`"score": 1e2`)), want: []want{{"results[0].score", "without fraction or exponent"}}},
		{name: "above 2^63-1", doc: base(res(`"score": 9223372036854775808`)), want: []want{{"results[0].score", "up to 2^63-1"}}},
		{name: "five decimals for a decimal receiver", doc: base(res(`"score": 6.12345`)), opts: decimal, want: []want{{"results[0].score", "at most 4 decimals"}}},
		{name: "exponent for a decimal receiver", doc: base(res(`"score": 6.5e0`)), opts: decimal, want: []want{{"results[0].score", "without exponent"}}},
		{name: "negative decimal", doc: base(res(`"score": -6.5`)), opts: decimal, want: []want{{"results[0].score", "non-negative"}}},

		// OSO.
		{name: "empty oso", doc: base(res(`"score": "<drop>", "oso": {}`)), want: []want{{"results[0].oso", "needs a score or at least one reference"}}},
		{name: "empty oso score", doc: base(res(`"score": "<drop>", "oso": {"score": {}}`)), want: []want{{"results[0].oso.score", "must not be empty"}}},
		{name: "oso negative count", doc: base(res(`"score": "<drop>", "oso": {"score": {"items": -1}}`)), want: []want{{"results[0].oso.score.items", "must be 0 or more"}}},
		{name: "oso fractional count", doc: base(res(`"score": "<drop>", "oso": {"score": {"items": 3.5}}`)), want: []want{{"results[0].oso.score.items", "must be a whole number"}}},
		{name: "oso count beyond xs:int", doc: base(res(`"score": "<drop>", "oso": {"score": {"correct": 2147483648}}`)), want: []want{{"results[0].oso.score.correct", "from -2147483648 to 2147483647"}}},
		{name: "oso decimal comma", doc: base(res(`"score": "<drop>", "oso": {"score": {"seconds": "1,5"}}`)), want: []want{{"results[0].oso.score.seconds", "decimal number as text"}}},
		{name: "oso negative time", doc: base(res(`"score": "<drop>", "oso": {"score": {"seconds": "-1"}}`)), want: []want{{"results[0].oso.score.seconds", "must not be negative"}}},
		{name: "oso decimal as number", doc: base(res(`"score": "<drop>", "oso": {"score": {"ability": 1.5}}`)), want: []want{{"results[0].oso.score.ability", "must be a string"}}},
		{name: "oso interval upside down", doc: base(res(`"score": "<drop>", "oso": {"score": {"interval": {"low": "2", "high": "1.5"}}}`)), want: []want{{"results[0].oso.score.interval.low", "above high"}}},
		{name: "oso reference without value", doc: base(res(`"score": "<drop>", "oso": {"references": [{"code": "PERC", "comparison_group": "L"}]}`)),
			want: []want{{"results[0].oso.references[0].value", "is required"}}},
		{name: "oso empty references", doc: base(res(`"score": "<drop>", "oso": {"references": []}`)), want: []want{{"results[0].oso", "needs a score or at least one reference"}}},

		// Keys.
		{name: "key with a space", doc: base(res(`"key": "a b"`)), want: []want{{"results[0].key", "A-Z, a-z, 0-9"}}},
		{name: "key too long", doc: base(res(`"key": "` + strings.Repeat("k", 257) + `"`)), want: []want{{"results[0].key", "1 to 256 characters"}}},
		{name: "empty key", doc: base(res(`"key": ""`)), want: []want{{"results[0].key", "1 to 256 characters"}}},
		{name: "duplicate key", doc: base(res(`"key": "k1"`), res(`"key": "k1", "part": "P1"`)), want: []want{{"results[1].key", "k1 is also the key of results[0]"}}},
		{name: "same session twice", doc: base(good, res(`"score": 18, "processor": "LK-1"`)), want: []want{{"results[1]", "same pupil, test, part and date as results[0]"}}},
		{name: "same session by id and by LAS key", doc: base(good, res(`"pupil_id": "<drop>", "las_key": "L1"`)), want: []want{{"results[1]", "same pupil, test, part and date as results[0]"}}},

		// Test definitions.
		{name: "test code empty", doc: withTests(`{"code": ""}`), want: []want{{"tests[0].code", "must not be empty"}}},
		{name: "test code too long", doc: withTests(`{"code": {"value": "` + strings.Repeat("c", 257) + `"}}`), want: []want{{"tests[0].code.value", "1 to 256 characters"}}},
		{name: "test code as number", doc: withTests(`{"code": 7}`), want: []want{{"tests[0].code", "must be a string or an object"}}},
		{name: "unknown field in a term", doc: withTests(`{"code": {"value": "X", "vocab": "v"}}`), want: []want{{"tests[0].code.vocab", "unknown field"}}},
		{name: "test name too long", doc: withTests(`{"code": "X", "name": "`+strings.Repeat("é", 129)+`"}`, "X"), want: []want{{"tests[0].name", "1 to 128 characters"}}},
		{name: "test defined twice", doc: withTests(`{"code": "X"}, {"code": "X", "name": "again"}`, "X"), want: []want{{"tests[1].code", "test X is already defined at tests[0]"}}},
		{name: "no norms", doc: withTests(`{"code": "X", "norming": {"norms": []}}`, "X"), want: []want{{"tests[0].norming.norms", "at least one norm"}}},
		{name: "norm begin above end", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 5, "end": 4}]}}`, "X"), want: []want{{"tests[0].norming.norms[0].begin", "5 is above end 4"}}},
		{name: "norm term too long", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "`+strings.Repeat("t", 65)+`", "begin": 0, "end": 4}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].term", "1 to 64 characters"}}},
		{name: "negative norm value", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": -1, "end": 4}]}}`, "X"), want: []want{{"tests[0].norming.norms[0].begin", "from 0 to"}}},
		{name: "colour out of range", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 0, "end": 4, "colour": {"red": 256, "green": 0, "blue": 0, "transparency": "1"}}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].colour.red", "from 0 to 255"}}},
		{name: "transparency above 1", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 0, "end": 4, "colour": {"red": 0, "green": 0, "blue": 0, "transparency": "1.01"}}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].colour.transparency", "from 0 to 1"}}},
		{name: "colour without transparency", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 0, "end": 4, "colour": {"red": 0, "green": 0, "blue": 0}}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].colour.transparency", "is required"}}},
		{name: "grade below 1", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 0, "end": 4, "grade_from": "0.9"}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].grade_from", "from 1 to 10"}}},
		{name: "grade above 10", doc: withTests(`{"code": "X", "norming": {"norms": [{"term": "A", "begin": 0, "end": 4, "grade_to": "10.01"}]}}`, "X"),
			want: []want{{"tests[0].norming.norms[0].grade_to", "from 1 to 10"}}},
		{name: "weight not a decimal", doc: withTests(`{"code": "X", "norming": {"weight": "1e3", "norms": [{"term": "A", "begin": 0, "end": 4}]}}`, "X"),
			want: []want{{"tests[0].norming.weight", "decimal number as text"}}},
		{name: "part seq 0", doc: withTests(`{"code": "X", "parts": [{"seq": 0, "code": "P1"}]}`, "X"), want: []want{{"tests[0].parts[0].seq", "must be 1 or more"}}},
		{name: "part seq twice", doc: withTests(`{"code": "X", "parts": [{"seq": 1, "code": "P1"}, {"seq": 1, "code": "P2"}]}`, "X"), want: []want{{"tests[0].parts[1].seq", "also the seq of parts[0]"}}},
		{name: "part code twice", doc: withTests(`{"code": "X", "parts": [{"seq": 1, "code": "P1"}, {"seq": 2, "code": {"value": "P1"}}]}`, "X"),
			want: []want{{"tests[0].parts[1].code", "part P1 is also defined at parts[0]"}}},
		{name: "empty parts", doc: withTests(`{"code": "X", "parts": []}`, "X"), want: []want{{"tests[0].parts", "must not be empty"}}},
		{name: "hierarchy without level", doc: withTests(`{"code": "X", "hierarchy": [{"value": "Rekenen"}]}`, "X"), want: []want{{"tests[0].hierarchy[0].level", "is required"}}},
		{name: "trial not a boolean", doc: withTests(`{"code": "X", "trial": "yes"}`, "X"), want: []want{{"tests[0].trial", "must be true or false"}}},

		// Everything is reported, not just the first.
		{name: "several bad records", doc: `{"tests": [{"code": "REK-M4", "parts": [{"seq": 0, "code": "P1"}]}], "results": [` +
			res(`"date": "2025-13-01"`) + `,` + good + `,` + res(`"pupil_id": "p_404", "part": "P1"`) + `,` + res(`"score": 1.5, "extra": true`) + `]}`,
			want: []want{
				{"tests[0].parts[0].seq", "must be 1 or more"},
				{"results[0].date", "not a real date"},
				{"results[2].pupil_id", "no pupil p_404"},
				{"results[3].extra", "unknown field"},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := options()
			if tt.opts != nil {
				tt.opts(&o)
			}
			b, problems := read(t, tt.doc, o)
			if len(b.Results) > 0 || len(b.Tests) > 0 {
				t.Errorf("a file with problems returned %d tests and %d results", len(b.Tests), len(b.Results))
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems:\n%s\nwant %d: %v", show(problems), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if p := problems[i]; p.Position != w.pos || !strings.Contains(p.Reason, w.reason) {
					t.Errorf("problem %d = %q, want %s: ...%s...", i, p, w.pos, w.reason)
				}
			}
			for _, p := range problems {
				if strings.Contains(p.Reason, "Jansen") || strings.Contains(p.Reason, "Vries") {
					t.Errorf("problem names a pupil: %q", p)
				}
			}
		})
	}
}

func show(ps []gateway.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// TestReadScores: the text of a good score is kept exactly as written.
func TestReadScores(t *testing.T) {
	for _, tt := range []struct {
		score, scoreType, want string
	}{
		{"0", gateway.ScoreInteger, "0"},
		{"17", "", "17"},
		{"9223372036854775807", gateway.ScoreInteger, "9223372036854775807"},
		{"6.5", gateway.ScoreDecimal, "6.5"},
		{"6.50", gateway.ScoreDecimal, "6.50"},
		{"0.1234", gateway.ScoreDecimal, "0.1234"},
		{"7", gateway.ScoreDecimal, "7"},
	} {
		o := options()
		o.ScoreType = tt.scoreType
		b, problems := read(t, base(res(`"score": `+tt.score)), o)
		if len(problems) > 0 {
			t.Errorf("score %s (%s): %v", tt.score, tt.scoreType, problems)
			continue
		}
		if got := b.Results[0].Score; got != tt.want {
			t.Errorf("score %s (%s) = %q, want %q", tt.score, tt.scoreType, got, tt.want)
		}
	}
}

// TestKeysAndDigests: a derived key depends on school, pupil, test, part and
// date only; a digest on the content only.
func TestKeysAndDigests(t *testing.T) {
	first, problems := read(t, base(good), options())
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	r := first.Results[0]
	if r.Key != intake.ResultKey(school, "p_1", "REK-M4", "", "2025-01-20") {
		t.Errorf("key %s is not ResultKey of the result", r.Key)
	}
	if len(r.Key) != 28 || strings.Trim(r.Key[2:], "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Errorf("key %q is not r_ + 26 lowercase base32 characters", r.Key)
	}

	later := options()
	later.Now = now.Add(24 * time.Hour)
	again, _ := read(t, base(good), later)
	byLAS, _ := read(t, base(res(`"pupil_id": "<drop>", "las_key": "L1"`)), options())
	corrected, _ := read(t, base(res(`"score": 18`)), options())
	moved, _ := read(t, base(res(`"processor": "LK-2"`)), options())
	for _, tt := range []struct {
		name       string
		other      gateway.Result
		sameKey    bool
		sameDigest bool
	}{
		{"submitted again later", again.Results[0], true, true},
		{"by LAS key instead of pupil id", byLAS.Results[0], true, true},
		{"corrected score", corrected.Results[0], true, false},
		{"another processor", moved.Results[0], true, false},
	} {
		if got := tt.other.Key == r.Key; got != tt.sameKey {
			t.Errorf("%s: same key = %v, want %v", tt.name, got, tt.sameKey)
		}
		if got := tt.other.Digest == r.Digest; got != tt.sameDigest {
			t.Errorf("%s: same digest = %v, want %v", tt.name, got, tt.sameDigest)
		}
	}

	keys := map[string]string{}
	for _, k := range []struct{ name, key string }{
		{"base", intake.ResultKey(school, "p_1", "T", "", "2025-01-20")},
		{"other school", intake.ResultKey("12AB01", "p_1", "T", "", "2025-01-20")},
		{"other pupil", intake.ResultKey(school, "p_2", "T", "", "2025-01-20")},
		{"other part", intake.ResultKey(school, "p_1", "T", "P1", "2025-01-20")},
		{"fields shifted", intake.ResultKey(school, "p_1", "", "T", "2025-01-20")},
		{"other date", intake.ResultKey(school, "p_1", "T", "", "2025-01-21")},
	} {
		if prev, dup := keys[k.key]; dup {
			t.Errorf("%s and %s derive the same key", k.name, prev)
		}
		keys[k.key] = k.name
	}

	d := func(f func(r *gateway.Result)) string {
		x := gateway.Result{Pupil: "p_1", Test: "T", Date: "2025-01-20", OSO: &gateway.OSOResult{Score: &gateway.OSOScore{Seconds: "1"}}}
		f(&x)
		return intake.Digest(x)
	}
	digests := map[string]string{}
	for _, c := range []struct {
		name   string
		digest string
	}{
		{"base", d(func(*gateway.Result) {})},
		{"trial", d(func(r *gateway.Result) { r.Trial = true })},
		{"OSO items 0", d(func(r *gateway.Result) { n := 0; r.OSO.Score.Items = &n })},
		{"OSO ability instead of seconds", d(func(r *gateway.Result) { r.OSO.Score.Seconds, r.OSO.Score.Ability = "", "1" })},
		{"OSO empty interval", d(func(r *gateway.Result) { r.OSO.Score.Interval = &gateway.OSOInterval{} })},
		{"score instead of OSO", d(func(r *gateway.Result) { r.OSO, r.Score = nil, "1" })},
	} {
		if prev, dup := digests[c.digest]; dup {
			t.Errorf("%s and %s have the same digest", c.name, prev)
		}
		digests[c.digest] = c.name
	}
	if d(func(r *gateway.Result) { r.Key, r.School, r.Batch, r.SubmittedAt = "k", "x", "b", now }) != d(func(*gateway.Result) {}) {
		t.Error("the digest depends on key, school, batch or submission time")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrors(t *testing.T) {
	_, problems, err := intake.Read(failingReader{}, testPupils, options())
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || problems != nil {
		t.Errorf("failing reader: problems %v, error %v", problems, err)
	}
	for _, tt := range []struct {
		name string
		opts func(o *intake.Options)
	}{
		{"no school", func(o *intake.Options) { o.School = "" }},
		{"no time", func(o *intake.Options) { o.Now = time.Time{} }},
		{"unknown score type", func(o *intake.Options) { o.ScoreType = "float" }},
	} {
		o := options()
		tt.opts(&o)
		if _, _, err := intake.Read(strings.NewReader(base(good)), testPupils, o); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", tt.name, err)
		}
	}
}
