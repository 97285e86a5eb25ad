package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// A problem (gateway.Problem) is one fault in a results file: where it is
// and what is wrong. Position is a path into the document
// ("results[12].score", "tests[0].parts[1].seq", "school"), "line 3 column
// 5" for a syntax error, or "(file)" for the document as a whole. Reason
// never holds a name, birth date or ECK iD.

// filePosition names the document as a whole.
const filePosition = "(file)"

// Pupils finds the pupils of the school the file is for. Both methods report
// false when there is no such pupil at that school.
type Pupils interface {
	ByID(gateway.PupilID) (gateway.Pupil, bool)
	ByLASKey(string) (gateway.Pupil, bool)
}

// Options are what Read needs besides the file.
type Options struct {
	// School is the school the results are for; a "school" in the file must
	// name it.
	School gateway.SchoolID
	// ScoreType is the receiver's: gateway.ScoreInteger (also when empty)
	// or gateway.ScoreDecimal.
	ScoreType string
	// Now is the time of the submission: no test date may lie after its day
	// (Europe/Amsterdam), and it becomes the results' SubmittedAt.
	Now time.Time
	// StoredTests are the definitions already stored for the school, by test
	// code. A result may refer to one of them instead of a definition in the
	// file; a definition in the file replaces a stored one.
	StoredTests map[string]gateway.TestDefinition
}

// Batch is what a good file holds.
type Batch struct {
	// Tests are the definitions given in the file, in file order.
	Tests []gateway.TestDefinition `json:"tests"`
	// Results are the results, in file order, with School, Pupil, Key,
	// Digest, Trial and SubmittedAt filled in and Batch empty (the store
	// sets it).
	Results []gateway.Result `json:"results"`
}

// Read reads a results file. It checks every record and returns every
// problem found, in document order; when there is any, the Batch is empty
// and the caller must store nothing. The error is only for failing to read r
// or for invalid Options (both wrap nothing of the file's content).
func Read(r io.Reader, pupils Pupils, o Options) (Batch, []gateway.Problem, error) {
	if err := o.check(pupils); err != nil {
		return Batch{}, nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return Batch{}, nil, fmt.Errorf("intake: read results file for school %s: %w", o.School, err)
	}
	if p, ok := syntax(data); !ok {
		return Batch{}, []gateway.Problem{p}, nil
	}

	c := &checker{}
	var f file
	testsReadable := true
	if !c.decode(data, &f, "") {
		// Problems at the top (unknown members, "results" not an array, ...)
		// are reported; records are checked when the arrays are readable.
		var ok bool
		if testsReadable, ok = c.decodeArrays(data, &f); !ok {
			return Batch{}, c.problems, nil
		}
	}
	if f.Results != nil && len(f.Results) == 0 {
		c.add("results", "must hold at least one result")
	}
	if f.School != nil && gateway.SchoolID(*f.School) != o.School {
		c.add("school", "the file is for another school than %s", o.School)
	}

	rd := reader{checker: c, o: o, pupils: pupils, defined: map[string]int{}, keys: map[string]keyUse{}, testsUnreadable: !testsReadable}
	var batch Batch
	for i, raw := range f.Tests {
		if def, ok := rd.test(raw, index("tests", i)); ok {
			batch.Tests = append(batch.Tests, def)
		}
	}
	for i, raw := range f.Results {
		if res, ok := rd.result(raw, index("results", i)); ok {
			batch.Results = append(batch.Results, res)
		}
	}
	if len(c.problems) > 0 {
		return Batch{}, c.problems, nil
	}
	return batch, nil, nil
}

func (o Options) check(pupils Pupils) error {
	switch {
	case o.School == "":
		return fmt.Errorf("%w: intake: no school", gateway.ErrInvalid)
	case o.Now.IsZero():
		return fmt.Errorf("%w: intake: school %s: no submission time", gateway.ErrInvalid, o.School)
	case o.ScoreType != "" && o.ScoreType != gateway.ScoreInteger && o.ScoreType != gateway.ScoreDecimal:
		return fmt.Errorf("%w: intake: school %s: unknown score type %q", gateway.ErrInvalid, o.School, o.ScoreType)
	case pupils == nil:
		return fmt.Errorf("%w: intake: school %s: no pupils to resolve against", gateway.ErrInvalid, o.School)
	}
	return nil
}

// decodeArrays reads "tests" and "results" of a document whose top level
// has problems, when they are at least arrays, so that their records are
// checked too. It reports whether "tests" (when present) and "results"
// could be read.
func (c *checker) decodeArrays(data []byte, f *file) (testsOK, resultsOK bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false, false
	}
	var tests, results []json.RawMessage
	testsOK = true
	if raw, ok := top["tests"]; ok && json.Unmarshal(raw, &tests) != nil {
		tests, testsOK = nil, false
	}
	if raw, ok := top["results"]; !ok || json.Unmarshal(raw, &results) != nil {
		return testsOK, false
	}
	var school *string
	if raw, ok := top["school"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			school = &s
		}
	}
	*f = file{School: school, Tests: tests, Results: results}
	return testsOK, true
}

// syntax reports a JSON syntax error with its line and column (counted in
// characters, from 1).
func syntax(data []byte) (gateway.Problem, bool) {
	if json.Valid(data) {
		return gateway.Problem{}, true
	}
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return gateway.Problem{Position: filePosition, Reason: "not valid JSON"}, false
	}
	off := min(int(se.Offset), len(data))
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	col := utf8.RuneCount(data[start:off])
	if col == 0 {
		col = 1
	}
	return gateway.Problem{Position: fmt.Sprintf("line %d column %d", line, col), Reason: "JSON syntax: " + se.Error()}, false
}
