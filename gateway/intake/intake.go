package intake

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

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
	// MaxProblems caps the problems listed; past it they are counted (the
	// last problem says how many more). 0 lists every one: give a cap
	// for files from outside, or a file of bad records costs memory in
	// proportion.
	MaxProblems int
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

// Read reads a results file as a stream. It checks every record and
// returns the problems found, in document order; when there is any, the
// Batch is empty and the caller must store nothing. Past o.MaxProblems the
// problems are counted, not listed: the last one says how many more there
// are (Count adds them up). A syntax error is the one problem of a file,
// wherever it is. The error is only for failing to read r (it wraps the
// reader's error, such as *http.MaxBytesError) or for invalid Options;
// neither wraps anything of the file's content.
//
// Memory: the file is read record by record; what is kept is a good file's
// batch (until the first problem), the keys of the good results (for
// uniqueness), the file's test definitions, and at most MaxProblems
// problems.
func Read(r io.Reader, pupils Pupils, o Options) (Batch, []gateway.Problem, error) {
	if err := o.check(pupils); err != nil {
		return Batch{}, nil, err
	}
	src := newSource(r)
	rd := &reader{checker: &checker{max: o.MaxProblems}, o: o, pupils: pupils, defined: map[string]int{},
		keys: map[string]keyUse{}, waiting: map[waitingRef]*waitingUses{}}
	dec := json.NewDecoder(src)
	dec.UseNumber() // a number token is skipped as text, never converted
	d := &document{src: src, dec: dec, rd: rd, seen: map[string]bool{}}
	err := d.read()
	if src.readErr != nil {
		return Batch{}, nil, fmt.Errorf("intake: read results file for school %s: %w", o.School, src.readErr)
	}
	if p, bad := src.syntaxProblem(); bad {
		return Batch{}, []gateway.Problem{p}, nil
	}
	if err != nil { // the decoder saw what the scanner did not: cannot happen
		return Batch{}, []gateway.Problem{{Position: filePosition, Reason: "JSON syntax: " + err.Error()}}, nil
	}
	d.finish()
	if rd.total > 0 {
		return Batch{}, rd.list(), nil
	}
	return Batch{Tests: rd.tests, Results: rd.results}, nil, nil
}

func (o Options) check(pupils Pupils) error {
	switch {
	case o.School == "":
		return fmt.Errorf("%w: intake: no school", gateway.ErrInvalid)
	case o.Now.IsZero():
		return fmt.Errorf("%w: intake: school %s: no submission time", gateway.ErrInvalid, o.School)
	case o.ScoreType != "" && o.ScoreType != gateway.ScoreInteger && o.ScoreType != gateway.ScoreDecimal:
		return fmt.Errorf("%w: intake: school %s: unknown score type %q", gateway.ErrInvalid, o.School, o.ScoreType)
	case o.MaxProblems < 0:
		return fmt.Errorf("%w: intake: school %s: negative problem cap", gateway.ErrInvalid, o.School)
	case pupils == nil:
		return fmt.Errorf("%w: intake: school %s: no pupils to resolve against", gateway.ErrInvalid, o.School)
	}
	return nil
}
