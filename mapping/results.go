package mapping

// Results go the other way: domain records (package gateway) become one
// BrengLeerresultaten request body.

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// DefaultResultsXsdversie is the xsdversie of a results message whose
// receiver names none: the XSD this mapping is proven against.
const DefaultResultsXsdversie = "2.2"

// ResultsMessage is what a results message says about itself: the school
// block of leerresultaten_verzoek and how scores are typed.
type ResultsMessage struct {
	// School gives brincode and dependancecode ("00" when empty) or, without
	// a BRIN, the schoolkey.
	School gateway.School
	// Schooljaar is "YYYY-YYYY"; empty means the school year of CreatedAt.
	Schooljaar string
	CreatedAt  time.Time // aanmaakdatum, required; sent in UTC
	Author     string    // auteur, optional, at most 128 characters
	Xsdversie  string    // empty means DefaultResultsXsdversie
	// ScoreType is gateway.ScoreInteger (also when empty) or
	// gateway.ScoreDecimal. Decimal scores do not validate against the
	// standard XSD: they are for receivers whose profile takes them.
	ScoreType string
}

// PupilResults are one pupil's results in a batch, with what the receiver
// knows the pupil by.
type PupilResults struct {
	LASKey string // leerlingid, the LAS pupil key; empty for pupils known by ECK iD only
	// EckID is the plain ECK iD, opened by the caller just before sending;
	// it may be empty. It never appears in an error.
	EckID   string
	Results []gateway.Result
}

// LeerresultatenVerzoek builds the body of one BrengLeerresultaten request.
//
// Each (pupil, processor) pair becomes one toetsafname, in the order the
// pairs first occur in pupils (a pupil listed twice is merged); each result
// becomes one resultaat keyed by Result.Key, with its processor as
// resultaatverwerkerid. A result has exactly one of Score and OSO; a missing
// score is an error, never filled in. toetsen holds exactly the definitions
// of the tests the results refer to, in order of first reference, with
// everything the definition has (version, name, year level, subject, norming,
// hierarchy, parts).
//
// leerlingid is required by the 2.2 XSD (tpKey, 1..256 characters), so a
// pupil known by ECK iD only (UWLR 2.3) cannot be sent with an empty one: its
// ECK iD goes in both leerlingid and eckid. That is the only form the schema
// accepts; a receiver that looks the pupil up by leerlingid fails to find it
// and falls back to eckid, which is what 2.3 asks for. A pupil with neither
// LAS key nor ECK iD is an error.
//
// Every problem found is reported, joined, each wrapping gateway.ErrInvalid.
// Errors name pupils by position and LAS key and results by key; they never
// contain an ECK iD or a score.
func LeerresultatenVerzoek(m ResultsMessage, pupils []PupilResults, tests []gateway.TestDefinition) (*uwlr.LeerresultatenVerzoek, error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: results message: "+format, append([]any{gateway.ErrInvalid}, args...)...))
	}

	school, err := resultsSchool(m)
	if err != nil {
		errs = append(errs, err)
	}
	scoreType := m.ScoreType
	switch scoreType {
	case "":
		scoreType = gateway.ScoreInteger
	case gateway.ScoreInteger, gateway.ScoreDecimal:
	default:
		fail("unknown score type %q", m.ScoreType)
	}

	defs := map[string]*gateway.TestDefinition{}
	for i := range tests {
		code := tests[i].Code.Value
		if defs[code] != nil {
			fail("test %q is defined twice", code)
			continue
		}
		defs[code] = &tests[i]
	}

	msg := &uwlr.LeerresultatenVerzoek{School: school}
	type pair struct{ pupil, processor string }
	afname := map[pair]int{}        // index in msg.Toetsafnames.Toetsafname
	eckOf := map[string]string{}    // pupil identity -> ECK iD, to catch conflicting listings
	firstAt := map[string]int{}     // pupil identity -> first position
	resultAt := map[string]string{} // result key -> where it was first seen
	var used []string               // test codes in order of first reference
	usedSet := map[string]bool{}
	for i, p := range pupils {
		who := pupilName(i, p.LASKey)
		leerlingid, identity := p.LASKey, p.LASKey
		switch {
		case p.LASKey == "" && p.EckID == "":
			fail("%s: neither LAS key nor ECK iD", who)
			continue
		case p.LASKey == "":
			leerlingid, identity = p.EckID, "\x00"+p.EckID
		}
		if !lengthOK(p.LASKey, 0, 256) {
			fail("%s: LAS key is longer than 256 characters", who)
			continue
		}
		if !lengthOK(p.EckID, 0, 256) {
			fail("%s: ECK iD is longer than 256 characters", who)
			continue
		}
		if eck, seen := eckOf[identity]; seen && eck != p.EckID {
			fail("%s: listed again with a different ECK iD than pupil %d", who, firstAt[identity]+1)
			continue
		} else if !seen {
			eckOf[identity], firstAt[identity] = p.EckID, i
		}
		for _, r := range p.Results {
			res, err := resultaat(r, scoreType, defs)
			if err != nil {
				fail("%s: %v", who, err)
				continue
			}
			if where, dup := resultAt[r.Key]; dup {
				fail("%s: result %s: key already used by %s", who, r.Key, where)
				continue
			}
			resultAt[r.Key] = who
			if !usedSet[r.Test] {
				usedSet[r.Test] = true
				used = append(used, r.Test)
			}
			k := pair{identity, r.Processor}
			j, ok := afname[k]
			if !ok {
				j = len(msg.Toetsafnames.Toetsafname)
				afname[k] = j
				msg.Toetsafnames.Toetsafname = append(msg.Toetsafnames.Toetsafname, uwlr.Toetsafname{
					Leerlingid: leerlingid, Eckid: p.EckID, Resultaatverwerkerid: r.Processor})
			}
			ta := &msg.Toetsafnames.Toetsafname[j]
			ta.Resultaten = append(ta.Resultaten, res)
		}
	}
	if len(msg.Toetsafnames.Toetsafname) == 0 && len(errs) == 0 {
		fail("no results")
	}
	for _, code := range used {
		t, err := toets(*defs[code])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		msg.Toetsen.Toets = append(msg.Toetsen.Toets, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return msg, nil
}

// pupilName names a pupil in an error: its 1-based position in the batch and
// its LAS key, never its ECK iD.
func pupilName(i int, lasKey string) string {
	if lasKey == "" {
		return fmt.Sprintf("pupil %d (no LAS key)", i+1)
	}
	return fmt.Sprintf("pupil %d (LAS key %s)", i+1, lasKey)
}

var (
	// schooljaarPattern is tpSchooljaar; brinPattern and depPattern are in group.go.
	schooljaarPattern = regexp.MustCompile(`^[1-2][0-9]{3}-[1-2][0-9]{3}$`)
)

// resultsSchool maps the school block (XSD ctpSchool).
func resultsSchool(m ResultsMessage) (uwlr.ResultatenSchool, error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: results message: school %s: "+format, append([]any{gateway.ErrInvalid, m.School.ID}, args...)...))
	}
	s := uwlr.ResultatenSchool{Schooljaar: m.Schooljaar, Auteur: m.Author, Xsdversie: m.Xsdversie}
	if m.CreatedAt.IsZero() {
		fail("no creation time (aanmaakdatum)")
	} else {
		s.Aanmaakdatum = m.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	if s.Schooljaar == "" && !m.CreatedAt.IsZero() {
		s.Schooljaar = gateway.SchoolYearAt(m.CreatedAt)
	}
	if !schooljaarPattern.MatchString(s.Schooljaar) {
		fail("schooljaar %q is not YYYY-YYYY", s.Schooljaar)
	}
	if s.Xsdversie == "" {
		s.Xsdversie = DefaultResultsXsdversie
	}
	if !lengthOK(s.Xsdversie, 1, 32) {
		fail("xsdversie is longer than 32 characters")
	}
	if !lengthOK(s.Auteur, 0, 128) {
		fail("auteur is longer than 128 characters")
	}
	switch sc := m.School; {
	case sc.Brin != "":
		s.Brincode, s.Dependancecode = sc.Brin, sc.Dependancecode
		if s.Dependancecode == "" {
			s.Dependancecode = "00"
		}
		if !brinPattern.MatchString(s.Brincode) || !depPattern.MatchString(s.Dependancecode) {
			fail("BRIN %q dependancecode %q is not 99XX and 99", s.Brincode, s.Dependancecode)
		}
	case sc.Schoolkey != "":
		s.Schoolkey = sc.Schoolkey
		if !lengthOK(s.Schoolkey, 1, 256) {
			fail("schoolkey is longer than 256 characters")
		}
	default:
		fail("neither BRIN nor schoolkey")
	}
	return s, errors.Join(errs...)
}

var (
	integerScore = regexp.MustCompile(`^[0-9]+$`)
	decimalScore = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	// xsDecimal is the lexical space of xs:decimal.
	xsDecimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	dateOnly  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// resultaat maps one result. Its errors name the result by key.
func resultaat(r gateway.Result, scoreType string, defs map[string]*gateway.TestDefinition) (uwlr.Resultaat, error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	switch {
	case r.Key == "":
		return uwlr.Resultaat{}, errors.New("a result has no key")
	case !lengthOK(r.Key, 1, 256):
		return uwlr.Resultaat{}, errors.New("a result key is longer than 256 characters")
	}
	out := uwlr.Resultaat{Key: r.Key, Afnamedatum: r.Date, Toetscode: r.Test, Toetsonderdeelcode: r.Part, Score: r.Score}
	if _, err := time.Parse(time.DateOnly, r.Date); err != nil || !dateOnly.MatchString(r.Date) {
		fail("date is not YYYY-MM-DD")
	}
	if !lengthOK(r.Processor, 0, 256) {
		fail("processor is longer than 256 characters")
	}
	def := defs[r.Test]
	switch {
	case r.Test == "":
		fail("no test code")
	case def == nil:
		fail("test %q is not among the test definitions", r.Test)
	case r.Part != "" && !hasPart(def, r.Part):
		fail("part %q is not a part of test %q", r.Part, r.Test)
	}
	switch {
	case r.Score == "" && r.OSO == nil:
		fail("no score and no OSO result")
	case r.Score != "" && r.OSO != nil:
		fail("both a score and an OSO result")
	case r.Score != "" && scoreType == gateway.ScoreInteger && !integerScore.MatchString(r.Score):
		fail("score is not a non-negative integer (the receiver takes integer scores)")
	case r.Score != "" && scoreType == gateway.ScoreDecimal && !decimalScore.MatchString(r.Score):
		fail("score is not a non-negative decimal")
	case r.OSO != nil:
		oso, err := osoResultaat(*r.OSO)
		if err != nil {
			fail("OSO result: %v", err)
		}
		out.Osoresultaat = oso
	}
	if len(errs) > 0 {
		return uwlr.Resultaat{}, fmt.Errorf("result %s: %w", r.Key, errors.Join(errs...))
	}
	return out, nil
}

func hasPart(d *gateway.TestDefinition, code string) bool {
	for _, p := range d.Parts {
		if p.Code.Value == code {
			return true
		}
	}
	return false
}

// osoResultaat maps an OSO result; it must hold a test score or a reference
// score (an empty one would be a result without a score).
func osoResultaat(o gateway.OSOResult) (*uwlr.OsoResultaat, error) {
	if o.Score == nil && len(o.References) == 0 {
		return nil, errors.New("neither a test score nor a reference score")
	}
	out := &uwlr.OsoResultaat{}
	if s := o.Score; s != nil {
		for _, c := range []struct {
			name string
			v    *int
		}{{"items", s.Items}, {"correct", s.Correct}, {"wrong", s.Wrong}, {"read", s.Read}} {
			if c.v != nil && (*c.v < 0 || *c.v > math.MaxInt32) { // xs:int, and a count
				return nil, fmt.Errorf("%s is not a count from 0 to %d", c.name, math.MaxInt32)
			}
		}
		for _, d := range []struct{ name, v string }{{"seconds", s.Seconds}, {"ability", s.Ability}} {
			if d.v != "" && !xsDecimal.MatchString(d.v) {
				return nil, fmt.Errorf("%s is not a decimal", d.name)
			}
		}
		out.Toetsscore = &uwlr.Toetsscore{Aantalopgaven: s.Items, Aantalgoed: s.Correct, Aantalfout: s.Wrong, Aantalgelezen: s.Read,
			Tijd: s.Seconds, Vaardigheidsscore: s.Ability, Codevaardigheidsschaal: s.AbilityScale}
		if iv := s.Interval; iv != nil {
			if !xsDecimal.MatchString(iv.Low) || !xsDecimal.MatchString(iv.High) {
				return nil, errors.New("interval bounds are not decimals")
			}
			out.Toetsscore.Betrouwbaarheidsinterval = &uwlr.Betrouwbaarheidsinterval{Bivlaag: iv.Low, Bivhoog: iv.High}
		}
	}
	for i, ref := range o.References {
		if ref.Code == "" || ref.ComparisonGroup == "" || ref.Value == "" {
			return nil, fmt.Errorf("reference %d lacks code, comparison group or value", i+1)
		}
		out.Referentiescore = append(out.Referentiescore, uwlr.Referentiescore{Codereferentiescore: ref.Code,
			Codevergelijkingsgroep: ref.ComparisonGroup, Waarde: ref.Value, Kwalificatie: ref.Qualification})
	}
	return out, nil
}
