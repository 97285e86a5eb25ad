package research

import (
	"fmt"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Fields a study may ask for: a closed set. Anything else is
// gateway.ErrInvalid. The pupil's pseudonym (column "pupil") is always
// exported and is not a field one asks for.
const (
	FieldBirthYear = "birth_year" // year of birth; never the full date
	FieldAge       = "age"        // age in whole years on the export date
	FieldGender    = "gender"     // NEN-ISO 5218: 0, 1, 2, 9
	FieldYearGroup = "jaargroep"  // the pupil's jaargroep
	FieldSchool    = "school"     // the school id itself instead of its pseudonym
	FieldTest      = "test"       // a result's test code
	FieldPart      = "part"       // a result's test part code
	FieldDate      = "date"       // the day a test was taken
	FieldScore     = "score"      // a result's score (empty for OSO results)
)

// AllowedFields lists every field, in the order columns are written
// (whatever the order a study asks them in).
var AllowedFields = []string{
	FieldSchool, FieldBirthYear, FieldAge, FieldGender, FieldYearGroup,
	FieldTest, FieldPart, FieldDate, FieldScore,
}

// DefaultFields are the fields of a study that asks for none.
var DefaultFields = []string{FieldBirthYear, FieldGender, FieldYearGroup, FieldTest, FieldPart, FieldDate, FieldScore}

// pupilFields are written to pupils.csv, resultFields to results.csv.
var (
	pupilFields  = []string{FieldSchool, FieldBirthYear, FieldAge, FieldGender, FieldYearGroup}
	resultFields = []string{FieldTest, FieldPart, FieldDate, FieldScore}
)

// KeySize is the least length of a study key in bytes: 32 random bytes, the
// output size of HMAC-SHA256, so the key is no weaker than the hash.
const KeySize = 32

// ErrStudyEnded is returned by Build when the export date (in
// Europe/Amsterdam) is after the study's Until. It is a gateway.ErrInvalid.
var ErrStudyEnded = fmt.Errorf("%w: the study has ended", gateway.ErrInvalid)

// Study is one registered study for one school, under the school's
// "research" processing (gateway.ProcessingResearch): who receives the
// export, what for, until when, and which fields.
type Study struct {
	School    gateway.SchoolID
	Name      string // also the Data Package's title; its lower-case slug is the package name
	Purpose   string
	Recipient string
	// Until is the last day (YYYY-MM-DD, Europe/Amsterdam) the study may
	// export; Build refuses a later export date with ErrStudyEnded.
	Until string
	// K is the least number of pupils that must share every combination of
	// quasi-identifier values in pupils.csv; at least 2. There is no
	// default: the processing agreement names it (5 is common).
	K int
	// Fields are the fields asked for; nil or empty means DefaultFields.
	Fields []string
}

// fields returns the study's fields, DefaultFields when none are asked.
func (s Study) fields() []string {
	if len(s.Fields) == 0 {
		return DefaultFields
	}
	return s.Fields
}

// Validate checks the study. Every problem is reported, as a
// gateway.InvalidFields (so errors.Is(err, gateway.ErrInvalid) holds) naming
// the field ("name", "until", "k", "fields[2]"); messages never repeat a
// value that could be personal data.
func (s Study) Validate() error {
	var ps gateway.InvalidFields
	add := func(pos, reason string) { ps = append(ps, gateway.Problem{Position: pos, Reason: reason}) }
	if s.School == "" {
		add("school", "empty")
	}
	if s.Name == "" {
		add("name", "empty")
	}
	if s.Purpose == "" {
		add("purpose", "empty")
	}
	if s.Recipient == "" {
		add("recipient", "empty")
	}
	if _, err := parseDate(s.Until); err != nil {
		add("until", "not a date (YYYY-MM-DD)")
	}
	if s.K < 2 {
		add("k", fmt.Sprintf("must be at least 2, got %d", s.K))
	}
	seen := map[string]bool{}
	for i, f := range s.Fields {
		pos := fmt.Sprintf("fields[%d]", i)
		switch {
		case !slices.Contains(AllowedFields, f):
			add(pos, fmt.Sprintf("unknown field %q (allowed: %v)", f, AllowedFields))
		case seen[f]:
			add(pos, fmt.Sprintf("field %q asked twice", f))
		}
		seen[f] = true
	}
	if seen[FieldBirthYear] && seen[FieldAge] {
		add("fields", "birth_year and age together would narrow the birth date; ask for one")
	}
	if ps != nil {
		return fmt.Errorf("research study: %w", ps)
	}
	return nil
}

// has reports whether the study exports field f.
func (s Study) has(f string) bool { return slices.Contains(s.fields(), f) }

// parseDate parses a YYYY-MM-DD date strictly.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Format(time.DateOnly) != s { // time.Parse accepts no leniency here, but be sure
		return time.Time{}, fmt.Errorf("not canonical")
	}
	return t, nil
}
