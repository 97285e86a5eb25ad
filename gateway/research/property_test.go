package research_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

var qiFields = []string{"school", "birth_year", "age", "gender", "jaargroep"}

// TestPropertyExports builds exports of many random populations (sizes
// 0-600, K 2-10, random field sets) and checks what must always hold.
func TestPropertyExports(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 310))
	k := key(9)
	seen := map[string]int{} // which paths the populations took
	for iter := range 400 {
		n := r.IntN(80)
		if iter%10 == 0 {
			n = r.IntN(600)
		}
		s := study(2+r.IntN(9), randomFields(r)...)
		in := randomInput(r, n)
		ex, err := research.Build(s, k, in, today)
		if err != nil {
			t.Fatalf("iteration %d: Build: %v", iter, err)
		}
		name := fmt.Sprintf("iteration %d (n %d, K %d, fields %v)", iter, n, s.K, s.Fields)
		checkExport(t, name, s, k, in, ex)
		seen[fmt.Sprintf("steps=%d", len(ex.Manifest.Generalised))]++
		seen[fmt.Sprintf("suppressed=%t", ex.Manifest.SuppressedPupils > 0)]++
		seen[fmt.Sprintf("results.csv=%t", ex.Files["results.csv"] != nil)]++
		if iter%20 == 0 { // the order of the input does not matter
			r.Shuffle(len(in.Pupils), func(i, j int) { in.Pupils[i], in.Pupils[j] = in.Pupils[j], in.Pupils[i] })
			r.Shuffle(len(in.Results), func(i, j int) { in.Results[i], in.Results[j] = in.Results[j], in.Results[i] })
			again, err := research.Build(s, k, in, today)
			if err != nil {
				t.Fatal(err)
			}
			for f, b := range ex.Files {
				if !bytes.Equal(b, again.Files[f]) {
					t.Fatalf("%s: %s differs after shuffling the input", name, f)
				}
			}
		}
	}
	t.Logf("paths: %v", seen)
	for _, path := range []string{"steps=0", "steps=1", "steps=2", "steps=3", "suppressed=true", "suppressed=false", "results.csv=true", "results.csv=false"} {
		if seen[path] < 10 {
			t.Errorf("only %d populations with %s: the property test misses a path (%v)", seen[path], path, seen)
		}
	}
}

func randomFields(r *rand.Rand) []string {
	var fs []string
	for _, f := range []string{"school", "gender", "jaargroep", "test", "part", "date", "score"} {
		if r.IntN(2) == 0 {
			fs = append(fs, f)
		}
	}
	switch r.IntN(3) {
	case 0:
		fs = append(fs, "birth_year")
	case 1:
		fs = append(fs, "age")
	}
	r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	return fs // empty: the default fields
}

func randomInput(r *rand.Rand, n int) research.Input {
	genders := []string{"1", "2", "1", "2", "0", "9", ""}
	groups := []string{"1", "2", "3", "4", "5", "6", "7", "8", "0", "B", "S", "11", "14", ""}
	var in research.Input
	for i := range n {
		birth := ""
		if r.IntN(20) > 0 {
			birth = time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(14*365)).Format(time.DateOnly)
		}
		p := pupil(i, birth, genders[r.IntN(len(genders))], groups[r.IntN(len(groups))])
		if r.IntN(5) == 0 {
			p.LeftOn = "2025-07-18"
		}
		in.Pupils = append(in.Pupils, p)
		for range r.IntN(4) {
			score := strconv.Itoa(r.IntN(100))
			switch r.IntN(5) {
			case 0:
				score = "" // OSO
			case 1:
				score += ".5"
			}
			date := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(180)).Format(time.DateOnly)
			in.Results = append(in.Results, result(len(in.Results), p, "T"+strconv.Itoa(r.IntN(3)), []string{"", "a", "b"}[r.IntN(3)], date, score))
		}
	}
	for range r.IntN(3) { // results of pupils the input does not hold
		in.Results = append(in.Results, result(len(in.Results), pupil(n+1000, "", "", ""), "T0", "", "2026-01-01", "1"))
	}
	return in
}

func checkExport(t *testing.T, name string, s research.Study, k []byte, in research.Input, ex research.Export) {
	t.Helper()
	m := ex.Manifest
	byPseudonym := map[string]gateway.Pupil{}
	known := 0
	for _, p := range in.Pupils {
		byPseudonym[research.Pseudonym(k, p.ID)] = p
	}
	pupils := parseCSV(t, ex.Files["pupils.csv"])
	var qis []string
	for _, f := range qiFields {
		if pupils.index(f) >= 0 {
			qis = append(qis, f)
		}
	}
	sizes := map[string]int{}
	kept := map[string]bool{}
	for _, row := range pupils.rows {
		p, ok := byPseudonym[row[0]]
		if !ok || kept[row[0]] {
			t.Fatalf("%s: pupils.csv row %v is no pupil of the input, or repeats one", name, row)
		}
		kept[row[0]] = true
		var tuple []string
		for _, f := range qis {
			v := row[pupils.index(f)]
			tuple = append(tuple, v)
			checkValue(t, name, f, v, p, m.Generalised)
		}
		sizes[strings.Join(tuple, "\x00")]++
	}
	for tuple, n := range sizes {
		if n < s.K {
			t.Fatalf("%s: %d pupils share the quasi-identifiers %q, fewer than K", name, n, tuple)
		}
	}
	if m.Pupils != len(pupils.rows) || m.Pupils+m.SuppressedPupils != len(in.Pupils) {
		t.Fatalf("%s: manifest pupils %d + suppressed %d, rows %d, input %d", name, m.Pupils, m.SuppressedPupils, len(pupils.rows), len(in.Pupils))
	}
	if rawGroupsAtLeast(in.Pupils, qis, s.K, today) != (len(m.Generalised) == 0 && m.SuppressedPupils == 0) {
		t.Fatalf("%s: generalised %v, suppressed %d, though the raw groups were (not) all of K", name, m.Generalised, m.SuppressedPupils)
	}
	want := map[string]int{} // results per kept pupil
	for _, r := range in.Results {
		if ps := research.Pseudonym(k, r.Pupil); byPseudonym[ps].ID != "" {
			known++
			if kept[ps] {
				want[ps]++
			}
		}
	}
	if b, ok := ex.Files["results.csv"]; ok {
		results := parseCSV(t, b)
		got := map[string]int{}
		for _, row := range results.rows {
			if !kept[row[0]] {
				t.Fatalf("%s: results.csv pupil %s is not in pupils.csv", name, row[0])
			}
			got[row[0]]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: results per pupil %v, want %v", name, got, want)
		}
		if m.Results != len(results.rows) || m.Results+m.SuppressedResults != known {
			t.Fatalf("%s: manifest results %d + suppressed %d, rows %d, of known pupils %d", name, m.Results, m.SuppressedResults, len(results.rows), known)
		}
	} else if m.Results != 0 || m.SuppressedResults != 0 {
		t.Fatalf("%s: no results.csv but manifest results %d, suppressed %d", name, m.Results, m.SuppressedResults)
	}
	checkHashes(t, name, ex)
}

// checkValue checks that v is the pupil's true value of f, or a band that
// holds it when the manifest says f was generalised.
func checkValue(t *testing.T, name, f, v string, p gateway.Pupil, steps []string) {
	t.Helper()
	var raw string
	switch f {
	case "school":
		raw = string(p.School)
	case "birth_year":
		raw = p.BirthDate[:min(4, len(p.BirthDate))]
	case "age":
		raw = ageOn(p.BirthDate, today)
	case "gender":
		raw = p.Gender
	case "jaargroep":
		raw = p.YearGroup
	}
	ok := v == raw
	switch {
	case f == "gender" && slices.Contains(steps, research.StepGenderAny):
		ok = v == "*"
	case f == "jaargroep" && slices.Contains(steps, research.StepYearGroupBand):
		ok = inBand(v, raw, 1, 2) || v == "other" && raw != "" && (raw == "0" || strings.ContainsAny(raw, "BDSVCNH")) || v == "" && raw == ""
	case (f == "birth_year" && slices.Contains(steps, research.StepBirthYearBand)) || (f == "age" && slices.Contains(steps, research.StepAgeBand)):
		ok = inBand(v, raw, 0, 5) || v == "" && raw == ""
	}
	if !ok {
		t.Fatalf("%s: %s = %q for a pupil whose value is %q (steps %v)", name, f, v, raw, steps)
	}
}

// inBand reports whether band is "lo-hi", holding raw, width wide, lo = align (mod wide).
func inBand(band, raw string, align, wide int) bool {
	los, his, ok := strings.Cut(band, "-")
	lo, err1 := strconv.Atoi(los)
	hi, err2 := strconv.Atoi(his)
	n, err3 := strconv.Atoi(raw)
	return ok && err1 == nil && err2 == nil && err3 == nil && hi-lo == wide-1 && lo%wide == align%wide && lo <= n && n <= hi
}

func ageOn(birth string, day time.Time) string {
	if birth == "" {
		return ""
	}
	b, _ := time.Parse(time.DateOnly, birth)
	y, m, d := day.In(gateway.Amsterdam).Date()
	age := y - b.Year()
	if m < b.Month() || m == b.Month() && d < b.Day() {
		age--
	}
	return strconv.Itoa(age)
}

// rawGroupsAtLeast reports whether, before any generalisation, every group of
// equal quasi-identifiers holds at least k pupils.
func rawGroupsAtLeast(ps []gateway.Pupil, qis []string, k int, day time.Time) bool {
	sizes := map[string]int{}
	for _, p := range ps {
		var tuple []string
		for _, f := range qis {
			tuple = append(tuple, map[string]string{"school": string(p.School), "birth_year": p.BirthDate[:min(4, len(p.BirthDate))],
				"age": ageOn(p.BirthDate, day), "gender": p.Gender, "jaargroep": p.YearGroup}[f])
		}
		sizes[strings.Join(tuple, "\x00")]++
	}
	for _, n := range sizes {
		if n < k {
			return false
		}
	}
	return true
}

func checkHashes(t *testing.T, name string, ex research.Export) {
	t.Helper()
	if len(ex.Manifest.Files) != len(ex.Files) {
		t.Fatalf("%s: manifest lists %d files, export has %d", name, len(ex.Manifest.Files), len(ex.Files))
	}
	for f, b := range ex.Files {
		sum := sha256.Sum256(b)
		if got := ex.Manifest.Files[f]; got != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s: manifest sha256 of %s = %q, want %x", name, f, got, sum)
		}
	}
}
