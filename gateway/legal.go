package gateway

import (
	"fmt"
	"slices"
	"strings"
)

// LegalBase is one legal basis the operator configured for disclosures
// under the legal processing (the data needed to meet the legal
// requirements placed on digital learning materials): its name, the legal
// reference as text, the recipient (a school's legal recipient by that
// name) and exactly the fields it may disclose, from LegalFields.
type LegalBase struct {
	Name      string   `json:"name"`
	Reference string   `json:"reference"`
	Recipient string   `json:"recipient"`
	Fields    []string `json:"fields"`
}

// LegalFields is the closed set a legal basis may name: the school, a
// pupil by LAS key, year and home group, birth year, gender, the date a
// pupil left, and per result its test, part, date and score. Never a name,
// a full birth date or an ECK iD.
var LegalFields = []string{"school", "las_key", "jaargroep", "group", "birth_year", "gender", "left_on", "test", "part", "date", "score"}

// legalResultFields make a disclosure one row per result instead of one
// row per pupil.
var legalResultFields = []string{"test", "part", "date", "score"}

// Validate checks a basis: a name, a reference, a recipient and at least
// one field, each from LegalFields, none twice.
func (b LegalBase) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: legal basis %q: %s", ErrInvalid, b.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case !recipientName.MatchString(b.Name):
		return fmt.Errorf("%w: legal basis name %q: 1-64 of A-Z a-z 0-9 . _ -", ErrInvalid, b.Name)
	case strings.TrimSpace(b.Reference) == "":
		return bad("the legal reference is required")
	case b.Recipient == "":
		return bad("the recipient is required")
	case len(b.Fields) == 0:
		return bad("name at least one field (%s)", strings.Join(LegalFields, ", "))
	}
	seen := map[string]bool{}
	for _, f := range b.Fields {
		switch {
		case !slices.Contains(LegalFields, f):
			return bad("field %q is not in the allowed set (%s)", f, strings.Join(LegalFields, ", "))
		case seen[f]:
			return bad("field %q twice", f)
		}
		seen[f] = true
	}
	return nil
}

// PerResult reports whether the disclosure has one row per result.
func (b LegalBase) PerResult() bool {
	for _, f := range b.Fields {
		if slices.Contains(legalResultFields, f) {
			return true
		}
	}
	return false
}

// LegalRow is the values of b's fields for pupil p (and result r when the
// disclosure is per result), in the order of b.Fields.
func (b LegalBase) LegalRow(school SchoolID, p Pupil, r *Result) []string {
	row := make([]string, len(b.Fields))
	for i, f := range b.Fields {
		row[i] = legalValue(f, school, p, r)
	}
	return row
}

func legalValue(f string, school SchoolID, p Pupil, r *Result) string {
	switch f {
	case "school":
		return string(school)
	case "las_key":
		return p.LASKey
	case "jaargroep":
		return p.YearGroup
	case "group":
		return p.GroupKey
	case "birth_year":
		if len(p.BirthDate) >= 4 {
			return p.BirthDate[:4]
		}
		return ""
	case "gender":
		return p.Gender
	case "left_on":
		return p.LeftOn
	}
	if r == nil {
		return ""
	}
	switch f {
	case "test":
		return r.Test
	case "part":
		return r.Part
	case "date":
		return r.Date
	case "score":
		return r.Score
	}
	return ""
}
