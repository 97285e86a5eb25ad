package intake

// The rules beyond structure: lengths and patterns as in the UWLR XSD, the
// ranges of norms, colours and grades, references to pupils, tests and
// parts, dates, score typing and key uniqueness.

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

var (
	keyPattern  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,256}$`)
	datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	// decimalPattern is the form of decimals in the file (a subset of
	// xs:decimal: digits on both sides of the point, optional sign).
	decimalPattern = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
	// Scores are JSON numbers; their text is checked.
	integerScore = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
	decimalScore = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,4})?$`)
)

// earliestDate is the first test date accepted: older dates are typing
// errors, not results.
const earliestDate = "2000-01-01"

var (
	ratZero   = big.NewRat(0, 1)
	ratOne    = big.NewRat(1, 1)
	ratTen    = big.NewRat(10, 1)
	maxScore  = new(big.Rat).SetInt64(1<<63 - 1)
	amsterdam = gateway.Amsterdam
)

// reader holds what the records of one file are checked against.
type reader struct {
	*checker
	o      Options
	pupils Pupils
	// defined: test code -> index of the record in tests that defines it.
	defined map[string]int
	// defs: the good definitions of the file, by code.
	defs map[string]gateway.TestDefinition
	// keys: result key -> its first use.
	keys map[string]keyUse
	// testsUnreadable: "tests" is there but not an array, so a test missing
	// from the file is not worth a complaint of its own.
	testsUnreadable bool
	// testsDone: "tests" has been read (or was there but unreadable);
	// until then the checks that need a definition wait (pending.go).
	testsDone bool
	waiting   map[waitingRef]*waitingUses
	waited    bool // some good result waits for its trial flag and digest
	// tests and results: the good file's batch, kept until the first
	// problem.
	tests   []gateway.TestDefinition
	results []gateway.Result
}

type keyUse struct {
	index   int
	derived bool
}

// length checks a string's length in characters (as the XSD counts).
func (rd *reader) length(pos, s string, min, max int) {
	switch n := utf8.RuneCountInString(s); {
	case n < min && min == 1:
		rd.add(pos, "must not be empty")
	case n < min || n > max:
		rd.add(pos, "must have %d to %d characters", min, max)
	}
}

func (rd *reader) optLength(pos string, s *string, min, max int) {
	if s != nil {
		rd.length(pos, *s, min, max)
	}
}

// nonEmpty checks a string without an upper bound (xs:anyURI, the OSO
// nonEmptyStringType).
func (rd *reader) nonEmpty(pos, s string) {
	if s == "" {
		rd.add(pos, "must not be empty")
	}
}

func (rd *reader) optNonEmpty(pos string, s *string) {
	if s != nil {
		rd.nonEmpty(pos, *s)
	}
}

// decimal checks an optional decimal string within [lo, hi] (nil: no bound).
func (rd *reader) decimal(pos string, s *string, lo, hi *big.Rat) {
	if s == nil {
		return
	}
	if !decimalPattern.MatchString(*s) {
		rd.add(pos, "must be a decimal number as text, like \"1.5\"")
		return
	}
	if lo != nil && lo.Sign() >= 0 && (*s)[0] == '-' { // also "-0": no minus where none can be meant
		rd.add(pos, "must not be negative")
		return
	}
	v, _ := new(big.Rat).SetString(*s)
	switch {
	case lo != nil && v.Cmp(lo) < 0, hi != nil && v.Cmp(hi) > 0:
		if hi == nil {
			rd.add(pos, "must be at least %s", lo.FloatString(0))
		} else {
			rd.add(pos, "must be from %s to %s", lo.FloatString(0), hi.FloatString(0))
		}
	}
}

func (rd *reader) term(pos string, t *term) gateway.Term {
	if t == nil {
		return gateway.Term{}
	}
	if !t.object {
		rd.length(pos, t.Value, 1, 256)
		return gateway.Term{Value: t.Value}
	}
	rd.length(field(pos, "value"), t.Value, 1, 256)
	rd.optNonEmpty(field(pos, "vocabulary"), t.Vocabulary)
	rd.optNonEmpty(field(pos, "vocabulary_location"), t.VocabularyLocation)
	return gateway.Term{Value: t.Value, Vocabulary: deref(t.Vocabulary), VocabularyLocation: deref(t.VocabularyLocation)}
}

func (rd *reader) optTerm(pos string, t *term) *gateway.Term {
	if t == nil {
		return nil
	}
	v := rd.term(pos, t)
	return &v
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// test checks one test definition and records its code.
func (rd *reader) test(raw json.RawMessage, pos string) (gateway.TestDefinition, bool) {
	before := rd.total
	var t testRecord
	if !rd.decode(raw, &t, pos) {
		// Still note the code, so that results on this test are not also
		// told that it is not defined.
		if code, ok := looseCode(raw); ok {
			if _, dup := rd.defined[code]; !dup {
				rd.defined[code] = indexOf(pos)
			}
		}
		return gateway.TestDefinition{}, false
	}
	def := gateway.TestDefinition{
		Code:      rd.term(field(pos, "code"), &t.Code),
		Name:      deref(t.Name),
		Version:   rd.optTerm(field(pos, "version"), t.Version),
		YearLevel: rd.optTerm(field(pos, "year_level"), t.YearLevel),
		Subject:   rd.optTerm(field(pos, "subject"), t.Subject),
		Trial:     deref(t.Trial),
	}
	rd.optLength(field(pos, "name"), t.Name, 1, 128)
	if first, dup := rd.defined[t.Code.Value]; dup {
		rd.add(field(pos, "code"), "test %s is already defined at tests[%d]", t.Code.Value, first)
	} else {
		rd.defined[t.Code.Value] = indexOf(pos)
	}
	if t.Norming != nil {
		def.Norming = rd.norming(field(pos, "norming"), t.Norming)
	}
	if t.Hierarchy != nil && len(t.Hierarchy) == 0 {
		rd.add(field(pos, "hierarchy"), "must not be empty (leave it out instead)")
	}
	for i, h := range t.Hierarchy {
		hp := index(field(pos, "hierarchy"), i)
		tm := rd.term(hp, &term{Value: h.Value, Vocabulary: h.Vocabulary, VocabularyLocation: h.VocabularyLocation, object: true})
		def.Hierarchy = append(def.Hierarchy, gateway.HierarchyLevel{Term: tm, Level: int(h.Level)})
	}
	if t.Parts != nil && len(t.Parts) == 0 {
		rd.add(field(pos, "parts"), "must not be empty (leave it out instead)")
	}
	seqs, codes := map[uint64]int{}, map[string]int{}
	for i, p := range t.Parts {
		pp := index(field(pos, "parts"), i)
		part := gateway.TestPart{Seq: p.Seq, Code: rd.term(field(pp, "code"), &p.Code), Name: deref(p.Name)}
		if p.Seq == 0 {
			rd.add(field(pp, "seq"), "must be 1 or more")
		} else if j, dup := seqs[p.Seq]; dup {
			rd.add(field(pp, "seq"), "%d is also the seq of parts[%d]", p.Seq, j)
		} else {
			seqs[p.Seq] = i
		}
		if j, dup := codes[p.Code.Value]; dup {
			rd.add(field(pp, "code"), "part %s is also defined at parts[%d]", p.Code.Value, j)
		} else {
			codes[p.Code.Value] = i
		}
		rd.optLength(field(pp, "name"), p.Name, 1, 128)
		if p.Norming != nil {
			part.Norming = rd.norming(field(pp, "norming"), p.Norming)
		}
		def.Parts = append(def.Parts, part)
	}
	if rd.total > before {
		return gateway.TestDefinition{}, false
	}
	if rd.defs == nil {
		rd.defs = map[string]gateway.TestDefinition{}
	}
	rd.defs[def.Code.Value] = def
	return def, true
}

// looseCode reads the code of a test record that failed the structural
// check, when its code at least is readable.
func looseCode(raw json.RawMessage) (string, bool) {
	var rec struct {
		Code json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &rec) != nil || rec.Code == nil {
		return "", false
	}
	var t term
	if json.Unmarshal(rec.Code, &t) != nil || t.Value == "" {
		return "", false
	}
	return t.Value, true
}

// indexOf returns the index at the end of a position like "tests[3]".
func indexOf(pos string) int {
	i := len(pos) - 2
	for i > 0 && pos[i] != '[' {
		i--
	}
	n, _ := strconv.Atoi(pos[i+1 : len(pos)-1])
	return n
}

func (rd *reader) norming(pos string, n *normingRecord) *gateway.Norming {
	out := &gateway.Norming{Vocabulary: deref(n.Vocabulary), VocabularyLocation: deref(n.VocabularyLocation),
		Category: rd.optTerm(field(pos, "category"), n.Category), Level: rd.optTerm(field(pos, "level"), n.Level), Weight: deref(n.Weight)}
	rd.optNonEmpty(field(pos, "vocabulary"), n.Vocabulary)
	rd.optNonEmpty(field(pos, "vocabulary_location"), n.VocabularyLocation)
	rd.decimal(field(pos, "weight"), n.Weight, nil, nil)
	if len(n.Norms) == 0 {
		rd.add(field(pos, "norms"), "must hold at least one norm")
	}
	for i, nm := range n.Norms {
		np := index(field(pos, "norms"), i)
		rd.length(field(np, "term"), nm.Term, 1, 64)
		rd.optLength(field(np, "description"), nm.Description, 1, 128)
		if nm.Begin > nm.End {
			rd.add(field(np, "begin"), "%d is above end %d", nm.Begin, nm.End)
		}
		rd.decimal(field(np, "grade_from"), nm.GradeFrom, ratOne, ratTen)
		rd.decimal(field(np, "grade_to"), nm.GradeTo, ratOne, ratTen)
		norm := gateway.Norm{Term: nm.Term, Description: deref(nm.Description), Begin: nm.Begin, End: nm.End,
			GradeFrom: deref(nm.GradeFrom), GradeTo: deref(nm.GradeTo)}
		if c := nm.Colour; c != nil {
			rd.decimal(field(field(np, "colour"), "transparency"), &c.Transparency, ratZero, ratOne)
			norm.Colour = &gateway.NormColor{Red: c.Red, Green: c.Green, Blue: c.Blue, Transparency: c.Transparency}
		}
		out.Norms = append(out.Norms, norm)
	}
	return out
}
