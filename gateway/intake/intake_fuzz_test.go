package intake_test

// Fuzz target for the results file validation (issue 12, item 7): intake.Read,
// which the app runs on a submitted file. Every name here starts with fz so
// that it cannot clash with the helpers of the other test files.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
)

const fzSchool gateway.SchoolID = "12AB00"

// fzNow is the submission time: 6 October 2025, noon in Amsterdam (the
// date the files in testdata are written for).
var fzNow = time.Date(2025, 10, 6, 10, 0, 0, 0, time.UTC)

// fzPupils keeps the contract of intake.Pupils: only pupils of fzSchool
// are found. p_1 (L1) and p_2 (L2) have LAS keys, p_3 is known by ECK iD
// only; LX is the LAS key of a pupil of another school. Their names and
// birth dates must never appear in a problem.
type fzPupils map[gateway.PupilID]gateway.Pupil

var fzKnown = fzPupils{
	"p_1": {ID: "p_1", School: fzSchool, LASKey: "L1", LastName: "Zwaluwstaart", FirstName: "Ilse", BirthDate: "2016-03-01"},
	"p_2": {ID: "p_2", School: fzSchool, LASKey: "L2", LastName: "Oostergeest", FirstName: "Bram", BirthDate: "2015-11-30"},
	"p_3": {ID: "p_3", School: fzSchool, SealedEckID: []byte{1, 2, 3}, LastName: "Kwakernaak", BirthDate: "2016-07-14"},
	"p_9": {ID: "p_9", School: "99ZZ00", LASKey: "LX", LastName: "Buitenschools"},
}

func (ps fzPupils) ByID(id gateway.PupilID) (gateway.Pupil, bool) {
	p, ok := ps[id]
	return p, ok && p.School == fzSchool
}

func (ps fzPupils) ByLASKey(k string) (gateway.Pupil, bool) {
	for _, p := range ps {
		if p.LASKey == k && p.School == fzSchool {
			return p, true
		}
	}
	return gateway.Pupil{}, false
}

// fzStored: SPEL-M4 (no parts, a trial test) is stored for the school.
var fzStored = map[string]gateway.TestDefinition{
	"SPEL-M4": {Code: gateway.Term{Value: "SPEL-M4"}, Name: "Spelling M4", Trial: true},
}

var (
	fzKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,256}$`)
	fzDate       = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	fzDigest     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	fzLineCol    = regexp.MustCompile(`^line ([0-9]+) column ([0-9]+)$`)
	fzIndexed    = regexp.MustCompile(`^(results|tests)\[([0-9]+)\]`)
)

// fzMaxFile bounds a fuzz input (a results file of a few hundred results).
const fzMaxFile = 256 << 10

// fzRead runs intake.Read and fails on a hang; a panic is re-raised here.
func fzRead(t *testing.T, data []byte, o intake.Options) (intake.Batch, []gateway.Problem, error) {
	t.Helper()
	type result struct {
		b        intake.Batch
		problems []gateway.Problem
		err      error
		panic    any
		stack    []byte
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic, r.stack = p, debug.Stack()
			}
			done <- r
		}()
		r.b, r.problems, r.err = intake.Read(bytes.NewReader(data), fzKnown, o)
	}()
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			panic(fmt.Sprintf("intake.Read panicked: %v\n%s", r.panic, r.stack))
		}
		return r.b, r.problems, r.err
	case <-timer.C:
		t.Fatalf("intake.Read did not return within 20s on a %d-byte file", len(data))
		panic("unreachable")
	}
}

// FuzzResultsIntake: intake.Read on any file never panics or hangs and is
// deterministic. It is all or nothing: with problems the batch is empty.
// Every problem names a position (the file, a line and column inside it, or
// a path whose index exists in the file) and a reason, and never a pupil's
// name or birth date. Accepted results are complete: a key (given in the
// file or derived by ResultKey) unique in the batch, the digest of their
// content, the school, the submission time, a known pupil, a defined test,
// a real date and exactly one of score (as given, of the receiver's type)
// and OSO result.
func FuzzResultsIntake(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	bad, err := filepath.Glob("testdata/bad/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range append(files, bad...) {
		if strings.HasSuffix(name, ".golden.json") {
			continue // Read's output, not a results file
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.Contains(name, "decimal"))
	}
	f.Add([]byte(`{"results": [{"pupil_id": "p_9", "test": "SPEL-M4", "date": "2025-10-06", "score": 1}]}`), false)
	f.Add([]byte("{\"results\": [\n  {\"test\": }\n]}"), false)

	f.Fuzz(func(t *testing.T, data []byte, decimal bool) {
		if len(data) > fzMaxFile {
			t.Skip("file larger than fzMaxFile")
		}
		o := intake.Options{School: fzSchool, ScoreType: gateway.ScoreInteger, Now: fzNow, StoredTests: fzStored}
		if decimal {
			o.ScoreType = gateway.ScoreDecimal
		}
		b, problems, err := fzRead(t, data, o)
		if err != nil {
			t.Fatalf("Read failed on a readable file with valid options: %v", err)
		}
		b2, problems2, _ := fzRead(t, data, o)
		if !reflect.DeepEqual(b, b2) || !reflect.DeepEqual(problems, problems2) {
			t.Fatalf("Read is not deterministic:\n%+v %v\n%+v %v", b, problems, b2, problems2)
		}
		if len(problems) > 0 {
			if b.Tests != nil || b.Results != nil {
				t.Fatalf("problems %v, and still a batch of %d tests and %d results", problems, len(b.Tests), len(b.Results))
			}
			fzCheckProblems(t, data, problems)
			return
		}
		fzCheckBatch(t, data, o, b)
	})
}

func fzCheckProblems(t *testing.T, data []byte, problems []gateway.Problem) {
	t.Helper()
	// The arrays of the file, to check the indexes problems name.
	var top map[string]json.RawMessage
	lengths := map[string]int{}
	if json.Unmarshal(data, &top) == nil {
		for name, raw := range top {
			if strings.ContainsAny(name, "[.") && fzIndexed.MatchString(name) {
				lengths = nil // a member named like a path: positions are ambiguous
				break
			}
			var arr []json.RawMessage
			if (name == "results" || name == "tests") && json.Unmarshal(raw, &arr) == nil {
				lengths[name] = len(arr)
			}
		}
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, p := range problems {
		if p.Position == "" || p.Reason == "" {
			t.Fatalf("problem %+v has no position or no reason", p)
		}
		if m := fzLineCol.FindStringSubmatch(p.Position); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			if line < 1 || line > lines || col < 1 || len(problems) != 1 {
				t.Fatalf("syntax problem %+v: the file has %d lines; want one problem at a line and column in it", p, lines)
			}
		}
		if m := fzIndexed.FindStringSubmatch(p.Position); m != nil && lengths != nil {
			i, err := strconv.Atoi(m[2])
			if n, ok := lengths[m[1]]; err != nil || (ok && i >= n) {
				t.Fatalf("problem %+v names %s[%s], the file has %d", p, m[1], m[2], lengths[m[1]])
			}
		}
		for _, pupil := range fzKnown {
			for _, secret := range []string{pupil.LastName, pupil.FirstName, pupil.BirthDate} {
				if secret != "" && strings.Contains(p.String(), secret) && !bytes.Contains(data, []byte(secret)) {
					t.Fatalf("problem %+v shows %q of pupil %s, which the file does not hold", p, secret, pupil.ID)
				}
			}
		}
	}
}

func fzCheckBatch(t *testing.T, data []byte, o intake.Options, b intake.Batch) {
	t.Helper()
	if len(b.Results) == 0 {
		t.Fatalf("no problems and no results")
	}
	// Every string value of the file: a given key must be one of them.
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("accepted a file that is not JSON: %v", err)
	}
	given := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			given[v] = true
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)

	defined := map[string]gateway.TestDefinition{}
	for code, d := range o.StoredTests {
		defined[code] = d
	}
	for _, d := range b.Tests {
		if d.Code.Value == "" {
			t.Fatalf("accepted a test definition without code: %+v", d)
		}
		defined[d.Code.Value] = d
	}
	keys := map[string]int{}
	for i, r := range b.Results {
		switch {
		case !fzKeyPattern.MatchString(r.Key):
			t.Fatalf("result %d: key %q", i, r.Key)
		case r.Key != intake.ResultKey(r.School, r.Pupil, r.Test, r.Part, r.Date) && !given[r.Key]:
			t.Fatalf("result %d: key %q is neither given in the file nor derived", i, r.Key)
		case !fzDigest.MatchString(r.Digest) || r.Digest != intake.Digest(r):
			t.Fatalf("result %d: digest %q, want %q", i, r.Digest, intake.Digest(r))
		case r.School != o.School || !r.SubmittedAt.Equal(o.Now) || r.Batch != "":
			t.Fatalf("result %d: school %q, submitted %v, batch %q", i, r.School, r.SubmittedAt, r.Batch)
		case !fzDate.MatchString(r.Date) || r.Date > "2025-10-06":
			t.Fatalf("result %d: date %q", i, r.Date)
		case (r.Score == "") == (r.OSO == nil):
			t.Fatalf("result %d: score %q and OSO %+v: want exactly one", i, r.Score, r.OSO)
		case r.Score != "" && !bytes.Contains(data, []byte(r.Score)):
			t.Fatalf("result %d: score %q is not the text of the file", i, r.Score)
		case r.Score != "" && o.ScoreType == gateway.ScoreInteger && strings.Trim(r.Score, "0123456789") != "":
			t.Fatalf("result %d: score %q for an integer receiver", i, r.Score)
		}
		if _, err := time.Parse("2006-01-02", r.Date); err != nil {
			t.Fatalf("result %d: date %q is not a real date", i, r.Date)
		}
		if first, dup := keys[r.Key]; dup {
			t.Fatalf("results %d and %d share key %q", first, i, r.Key)
		}
		keys[r.Key] = i
		if p, ok := fzKnown.ByID(r.Pupil); !ok || p.School != o.School {
			t.Fatalf("result %d: pupil %q is not a pupil of the school", i, r.Pupil)
		}
		d, ok := defined[r.Test]
		if !ok {
			t.Fatalf("result %d: test %q is not defined", i, r.Test)
		}
		if r.Trial != d.Trial {
			t.Fatalf("result %d: trial %v, test %s has trial %v", i, r.Trial, r.Test, d.Trial)
		}
		if r.Part != "" {
			found := false
			for _, p := range d.Parts {
				found = found || p.Code.Value == r.Part
			}
			if !found {
				t.Fatalf("result %d: part %q is not a part of test %s", i, r.Part, r.Test)
			}
		}
	}
}
