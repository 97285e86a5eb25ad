package research

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// pupilColumn is the first column of both files: the pupil's pseudonym, the
// primary key of pupils.csv and the foreign key of results.csv.
const pupilColumn = "pupil"

// decimal is the form of a score the export writes: a non-negative decimal
// number, which a Table Schema "number" reads as is.
var decimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// pupilColumns and resultColumns are the header rows of the two files.
func pupilColumns(fields []string) []string {
	return append([]string{pupilColumn}, onlyOf(fields, pupilFields)...)
}

func resultColumns(fields []string) []string {
	return append([]string{pupilColumn}, onlyOf(fields, resultFields)...)
}

// onlyOf keeps the fields that are in set, in their order.
func onlyOf(fields, set []string) []string {
	var out []string
	for _, f := range fields {
		if slices.Contains(set, f) {
			out = append(out, f)
		}
	}
	return out
}

// writePupils writes pupils.csv, one row per kept pupil, sorted by pseudonym.
func writePupils(rows []pupilRow, fields []string) []byte {
	cols := pupilColumns(fields)
	lines := make([][]string, 0, len(rows))
	for _, r := range rows {
		line := []string{r.pseudonym}
		for _, f := range cols[1:] {
			line = append(line, r.vals[f])
		}
		lines = append(lines, line)
	}
	return writeCSV(cols, lines)
}

// resultRows turns the results of exported pupils into lines of
// results.csv and counts the results of suppressed pupils it left out.
// Results of pupils not in Input.Pupils are skipped unread. It reads only
// the pupil, school, test, part, date and score of a result.
func resultRows(s Study, results []gateway.Result, ids map[gateway.PupilID]string, suppressed map[string]bool, fields []string) ([][]string, int, error) {
	cols := resultColumns(fields)
	var lines [][]string
	left := 0
	for i, r := range results {
		ps, ok := ids[r.Pupil]
		if !ok {
			continue
		}
		if r.School != s.School {
			return nil, 0, fmt.Errorf("%w: result %d: of another school", gateway.ErrInvalid, i)
		}
		if suppressed[ps] {
			left++
			continue
		}
		line := []string{ps}
		for _, f := range cols[1:] {
			v, err := resultValue(r, f)
			if err != nil {
				return nil, 0, fmt.Errorf("%w: result %d: %v", gateway.ErrInvalid, i, err)
			}
			line = append(line, v)
		}
		lines = append(lines, line)
	}
	return lines, left, nil
}

// resultValue is the value of field f of r, checked against the type the
// Data Package declares for it.
func resultValue(r gateway.Result, f string) (string, error) {
	switch f {
	case FieldTest:
		return r.Test, nil
	case FieldPart:
		return r.Part, nil
	case FieldDate:
		if _, err := parseDate(r.Date); err != nil {
			return "", fmt.Errorf("date not a date (YYYY-MM-DD)")
		}
		return r.Date, nil
	case FieldScore:
		// An OSO result has no score: it stays empty, never filled in.
		if r.Score != "" && !decimal.MatchString(r.Score) {
			return "", fmt.Errorf("score not a non-negative decimal")
		}
		return r.Score, nil
	}
	return "", fmt.Errorf("field %q is not a result field", f)
}

// writeResults writes results.csv, sorted by pseudonym, test, part, date and
// score, so the bytes do not depend on the order of Input.Results.
func writeResults(lines [][]string, fields []string) []byte {
	return writeCSV(resultColumns(fields), lines)
}

// writeCSV writes an RFC 4180 file (CRLF line ends) with a header row; the
// data lines are sorted first, column by column.
func writeCSV(header []string, lines [][]string) []byte {
	slices.SortFunc(lines, func(a, b []string) int { return slices.Compare(a, b) })
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	// Writing to a bytes.Buffer cannot fail; csv reports only writer errors.
	_ = w.Write(header)
	_ = w.WriteAll(lines)
	return buf.Bytes()
}

// slug is the Data Package name of a study: lower case, every run of other
// characters than [a-z0-9._-] one "-", trimmed; "research-export" when
// nothing is left.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		switch {
		case ok:
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	if s := strings.Trim(b.String(), "-._"); s != "" {
		return s
	}
	return "research-export"
}
