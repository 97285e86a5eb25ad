package research

import (
	"slices"
	"strconv"
	"strings"
)

// quasiIdentifiers are the pupil fields an outsider may know from elsewhere
// and link on: every combination of their values in pupils.csv must be
// shared by at least K pupils. FieldSchool is one (an export holds one
// school, so it never splits a group, but it stays in the tuple should that
// change).
var quasiIdentifiers = []string{FieldSchool, FieldBirthYear, FieldAge, FieldGender, FieldYearGroup}

// A step generalises one quasi-identifier of every row (a global recoding:
// one value always becomes the same coarser value, so a column keeps one
// meaning). Steps run in this order, each only when some group is still
// smaller than K and only for a field the study asks for.
type step struct {
	field string
	name  string // recorded in Manifest.Generalised
	apply func(string) string
}

// Generalisation steps, as recorded in Manifest.Generalised.
const (
	StepBirthYearBand = "birth_year->5-year band" // 2015 -> "2015-2019"
	StepAgeBand       = "age->5-year band"        // 7 -> "5-9"
	StepYearGroupBand = "jaargroep->2-year band"  // 3 -> "3-4"; 0 and letter codes -> "other"
	StepGenderAny     = "gender->*"               // every gender -> "*"
)

var steps = []step{
	{FieldBirthYear, StepBirthYearBand, fiveYearBand},
	{FieldAge, StepAgeBand, fiveYearBand},
	{FieldYearGroup, StepYearGroupBand, yearGroupBand},
	{FieldGender, StepGenderAny, func(string) string { return "*" }},
}

// fiveYearBand turns a year or an age into its 5-year band, aligned on
// multiples of 5 ("2015-2019", "5-9"). An empty (unknown) value stays empty.
func fiveYearBand(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return v // only "" reaches here: values are written by the row builder
	}
	lo := n / 5 * 5
	return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+4)
}

// yearGroupBand pairs the numbered jaargroepen of the EDEX enumeration
// (1-2, 3-4, 5-6, 7-8 in primary school; 11-12, 13-14, 15-16 in
// secondary). Group 0 and the letter codes (B, D, S, V, C, N, H: special
// and other forms of education) are rare at any one school and become
// "other". An empty value stays empty.
func yearGroupBand(v string) string {
	if v == "" {
		return ""
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil, n == 0:
		return "other"
	case n >= 1 && n <= 8, n >= 11 && n <= 16:
		lo := n - (n+1)%2 // odd start: 1, 3, 5, 7, 11, 13, 15
		return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+1)
	}
	return "other"
}

// pupilRow is one pupil's line of pupils.csv before it is written: its
// pseudonym and the values of the pupil fields asked for.
type pupilRow struct {
	pseudonym string
	vals      map[string]string
}

// anonymised is the outcome of anonymise.
type anonymised struct {
	kept        []pupilRow
	suppressed  map[string]bool // pseudonyms of suppressed pupils
	generalised []string        // step names, in the order applied
}

// anonymise makes rows k-anonymous on the quasi-identifiers among fields:
// while some group of equal quasi-identifier tuples is smaller than k, it
// applies the next generalisation step; what is still in a small group
// after the last step is suppressed. rows are changed in place.
func anonymise(rows []pupilRow, fields []string, k int) anonymised {
	qis := slices.DeleteFunc(slices.Clone(quasiIdentifiers), func(f string) bool { return !slices.Contains(fields, f) })
	out := anonymised{suppressed: map[string]bool{}}
	for _, st := range steps {
		if !slices.Contains(qis, st.field) || !hasSmallGroup(rows, qis, k) {
			continue
		}
		for _, r := range rows {
			r.vals[st.field] = st.apply(r.vals[st.field])
		}
		out.generalised = append(out.generalised, st.name)
	}
	sizes := groupSizes(rows, qis)
	for _, r := range rows {
		if sizes[tuple(r, qis)] < k {
			out.suppressed[r.pseudonym] = true
			continue
		}
		out.kept = append(out.kept, r)
	}
	return out
}

func hasSmallGroup(rows []pupilRow, qis []string, k int) bool {
	for _, n := range groupSizes(rows, qis) {
		if n < k {
			return true
		}
	}
	return false
}

func groupSizes(rows []pupilRow, qis []string) map[string]int {
	sizes := map[string]int{}
	for _, r := range rows {
		sizes[tuple(r, qis)]++
	}
	return sizes
}

// tuple is the group key of a row: its quasi-identifier values, NUL-joined
// (no value holds a NUL: they are digits, bands, codes or "*").
func tuple(r pupilRow, qis []string) string {
	var b strings.Builder
	for _, f := range qis {
		b.WriteString(r.vals[f])
		b.WriteByte(0)
	}
	return b.String()
}
