package research_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

func TestStudyEndsAfterUntilInAmsterdam(t *testing.T) {
	s := study(2)
	s.Until = "2026-03-31" // CEST (UTC+2) since 29 March
	in := research.Input{Pupils: same(0, 2, "2016-05-01", "1", "4")}
	tests := []struct {
		name  string
		at    time.Time
		ended bool
	}{
		{"weeks before", time.Date(2026, 3, 1, 12, 0, 0, 0, gateway.Amsterdam), false},
		{"the last day, late evening", time.Date(2026, 3, 31, 23, 59, 59, 0, gateway.Amsterdam), false},
		{"21:59 UTC is still 23:59 of the last day", time.Date(2026, 3, 31, 21, 59, 0, 0, time.UTC), false},
		{"22:30 UTC is already the next day in Amsterdam", time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC), true},
		{"the day after, at midnight", time.Date(2026, 4, 1, 0, 0, 0, 0, gateway.Amsterdam), true},
		{"a year later", time.Date(2027, 3, 31, 12, 0, 0, 0, gateway.Amsterdam), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := research.Build(s, key(1), in, tt.at)
			if !tt.ended {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if !errors.Is(err, research.ErrStudyEnded) || !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("err = %v, want ErrStudyEnded (an ErrInvalid)", err)
			}
			if !strings.Contains(err.Error(), "last export day 2026-03-31") {
				t.Fatalf("err = %q, want it to name the last export day", err)
			}
		})
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	good := func() research.Input {
		ps := same(0, 3, "2016-05-01", "1", "4")
		return research.Input{Pupils: ps, Results: []gateway.Result{result(0, ps[0], "T1", "", "2026-01-20", "12")}}
	}
	tests := []struct {
		name    string
		edit    func(*research.Input)
		key     []byte
		mention string
	}{
		{"a short key", func(*research.Input) {}, key(1)[:31], "key has 31 bytes, want at least 32"},
		{"a pupil of another school", func(in *research.Input) { in.Pupils[1].School = "other" }, nil, "pupil 1: of another school"},
		{"a pupil twice", func(in *research.Input) { in.Pupils[2].ID = in.Pupils[0].ID }, nil, "pupil 2: empty or repeated pupil id"},
		{"a pupil without id", func(in *research.Input) { in.Pupils[1].ID = "" }, nil, "pupil 1: empty or repeated pupil id"},
		{"a birth date that is no date", func(in *research.Input) { in.Pupils[1].BirthDate = "2016-13-01" }, nil, "pupil 1: birth date not a date"},
		{"a birth date after the export date", func(in *research.Input) { in.Pupils[0].BirthDate = "2026-03-11" }, nil, "pupil 0: birth date after the export date"},
		{"a gender outside NEN-ISO 5218", func(in *research.Input) { in.Pupils[2].Gender = "M" }, nil, "pupil 2: gender not one of 0, 1, 2, 9"},
		{"a jaargroep outside EDEX", func(in *research.Input) { in.Pupils[0].YearGroup = "9" }, nil, "pupil 0: jaargroep not in the EDEX enumeration"},
		{"a result of another school", func(in *research.Input) { in.Results[0].School = "other" }, nil, "result 0: of another school"},
		{"a test date that is no date", func(in *research.Input) { in.Results[0].Date = "20-01-2026" }, nil, "result 0: date not a date"},
		{"a score that is no decimal", func(in *research.Input) { in.Results[0].Score = "12,5" }, nil, "result 0: score not a non-negative decimal"},
		{"a negative score", func(in *research.Input) { in.Results[0].Score = "-1" }, nil, "result 0: score not a non-negative decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			if _, err := research.Build(study(2), key(1), in, today); err != nil {
				t.Fatalf("the good input fails: %v", err)
			}
			tt.edit(&in)
			k := tt.key
			if k == nil {
				k = key(1)
			}
			_, err := research.Build(study(2), k, in, today)
			wantInvalid(t, err, tt.mention)
			for _, p := range in.Pupils { // errors name positions, never what a record holds
				for _, v := range []string{string(p.ID), p.BirthDate, p.LASKey, p.LastName} {
					if v != "" && strings.Contains(err.Error(), v) {
						t.Fatalf("err = %q names a pupil's data %q", err, v)
					}
				}
			}
		})
	}
}

func TestPseudonyms(t *testing.T) {
	id := gateway.PupilID("pid-0001")
	a, b := research.Pseudonym(key(1), id), research.Pseudonym(key(2), id)
	if a == b {
		t.Fatalf("two study keys give one pseudonym %s", a)
	}
	if a != research.Pseudonym(key(1), id) {
		t.Fatal("the pseudonym of one key is not stable")
	}
	if a == research.Pseudonym(key(1), "pid-0002") {
		t.Fatal("two pupils share a pseudonym")
	}
	if research.SchoolPseudonym(key(1), gateway.SchoolID(id)) == a {
		t.Fatal("a school id gives the pseudonym of the pupil with the same id")
	}
	m := hmac.New(sha256.New, key(1))
	m.Write([]byte("pupil\x00pid-0001"))
	if want := hex.EncodeToString(m.Sum(nil)[:16]); a != want {
		t.Fatalf("Pseudonym = %s, want HMAC-SHA256(key, pupil NUL id)[:16] = %s", a, want)
	}
	m = hmac.New(sha256.New, key(1))
	m.Write([]byte("school\x00" + string(school)))
	if want := hex.EncodeToString(m.Sum(nil)[:16]); research.SchoolPseudonym(key(1), school) != want {
		t.Fatalf("SchoolPseudonym = %s, want %s", research.SchoolPseudonym(key(1), school), want)
	}
}

func TestExportUsesTheStudyKeysPseudonyms(t *testing.T) {
	ps := same(0, 2, "2016-05-01", "1", "4")
	in := research.Input{Pupils: ps, Results: []gateway.Result{result(0, ps[1], "T1", "", "2026-01-20", "7")}}
	one, two := mustBuild(t, study(2), key(1), in), mustBuild(t, study(2), key(2), in)
	for _, ex := range []struct {
		ex  research.Export
		key []byte
	}{{one, key(1)}, {two, key(2)}} {
		want := []string{research.Pseudonym(ex.key, ps[0].ID), research.Pseudonym(ex.key, ps[1].ID)}
		slices.Sort(want)
		if got := parseCSV(t, ex.ex.Files["pupils.csv"]).col(t, "pupil"); !slices.Equal(got, want) {
			t.Fatalf("pupils.csv pupils = %v, want %v", got, want)
		}
		if got := parseCSV(t, ex.ex.Files["results.csv"]).col(t, "pupil"); !slices.Equal(got, []string{research.Pseudonym(ex.key, ps[1].ID)}) {
			t.Fatalf("results.csv pupils = %v", got)
		}
		if ex.ex.Manifest.School != research.SchoolPseudonym(ex.key, school) {
			t.Fatalf("Manifest.School = %s, want the school pseudonym", ex.ex.Manifest.School)
		}
		var dp struct{ School string }
		if err := json.Unmarshal(ex.ex.Files["datapackage.json"], &dp); err != nil || dp.School != ex.ex.Manifest.School {
			t.Fatalf("datapackage school = %q (%v), want %s", dp.School, err, ex.ex.Manifest.School)
		}
	}
	if one.Manifest.School == two.Manifest.School {
		t.Fatal("two studies give the school one pseudonym")
	}
	withSchool := mustBuild(t, study(2, "school", "gender"), key(1), in)
	if withSchool.Manifest.School != string(school) {
		t.Fatalf("Manifest.School = %s, want the school id when asked", withSchool.Manifest.School)
	}
	if got := parseCSV(t, withSchool.Files["pupils.csv"]).col(t, "school"); !slices.Equal(got, []string{string(school), string(school)}) {
		t.Fatalf("school column = %v", got)
	}
	if strings.Contains(string(one.Files["pupils.csv"]), string(school)) {
		t.Fatal("the school id is in pupils.csv though not asked for")
	}
}

// TestNoPersonalDataInTheExport builds exports of distinctive pupils with
// every field set and looks for each personal value in every output byte.
func TestNoPersonalDataInTheExport(t *testing.T) {
	var in research.Input
	for i := range 40 {
		p := pupil(i, []string{"2015-02-11", "2016-07-23", "2017-11-05"}[i%3], []string{"1", "2"}[i%2], []string{"3", "4", "5"}[i%3])
		p.LeftOn = []string{"", "2025-07-18"}[i%2]
		in.Pupils = append(in.Pupils, p)
		in.Results = append(in.Results, result(i, p, "RekenToets", "Deel1", "2026-01-20", "31.5"))
	}
	manifest := func(ex research.Export) []byte {
		b, err := json.Marshal(ex.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, s := range []research.Study{study(5), study(5, research.AllowedFields[:2]...), study(2, "school", "age", "gender", "jaargroep", "test", "part", "date", "score")} {
		ex := mustBuild(t, s, key(7), in)
		out := map[string][]byte{"manifest": manifest(ex)}
		for name, b := range ex.Files {
			out[name] = b
		}
		for _, p := range in.Pupils {
			secrets := []string{string(p.ID), p.LASKey, p.LastName, p.Prefix, p.FirstName, p.GivenNames, p.Initials,
				p.BirthDate, p.GroupKey, p.CompositeGroupKeys[0], string(p.SealedEckID), string(p.EckIndex),
				hex.EncodeToString(p.SealedEckID), "ketenid.nl", p.LeftOn}
			for _, v := range secrets {
				for name, b := range out {
					if v != "" && strings.Contains(string(b), v) {
						t.Errorf("%v: %s holds %q", s.Fields, name, v)
					}
				}
			}
		}
		for _, r := range in.Results {
			for name, b := range out {
				for _, v := range []string{r.Key, r.Processor, r.Digest} {
					if strings.Contains(string(b), v) {
						t.Errorf("%v: %s holds the result's %q", s.Fields, name, v)
					}
				}
			}
		}
	}
}

func TestLeftPupilsAreExported(t *testing.T) {
	ps := same(0, 3, "2016-05-01", "1", "4")
	ps[0].LeftOn, ps[1].LeftOn = "2025-07-18", "2026-01-05"
	in := research.Input{Pupils: ps, Results: []gateway.Result{result(0, ps[0], "T1", "", "2025-06-01", "3")}}
	ex := mustBuild(t, study(3), key(1), in)
	if ex.Manifest.Pupils != 3 || ex.Manifest.Results != 1 {
		t.Fatalf("pupils %d, results %d: want the left pupils and their results exported", ex.Manifest.Pupils, ex.Manifest.Results)
	}
}

func TestAgeInWholeYearsOnTheExportDate(t *testing.T) {
	tests := []struct {
		birth string
		at    time.Time
		age   string
	}{
		{"2016-03-10", today, "10"}, // the birthday itself
		{"2016-03-11", today, "9"},  // the day before the birthday
		{"2016-02-10", today, "10"},
		{"2016-12-31", today, "9"},
		{"2026-03-10", today, "0"},
		{"2016-02-29", time.Date(2026, 2, 28, 12, 0, 0, 0, gateway.Amsterdam), "9"},
		{"2016-02-29", time.Date(2026, 3, 1, 12, 0, 0, 0, gateway.Amsterdam), "10"},
		// 9 March 23:30 UTC is 10 March in Amsterdam: the birthday.
		{"2016-03-10", time.Date(2026, 3, 9, 23, 30, 0, 0, time.UTC), "10"},
	}
	for _, tt := range tests {
		t.Run(tt.birth+" on "+tt.at.Format(time.RFC3339), func(t *testing.T) {
			in := research.Input{Pupils: same(0, 2, tt.birth, "1", "4")}
			ex, err := research.Build(study(2, "age"), key(1), in, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseCSV(t, ex.Files["pupils.csv"]).col(t, "age"); !slices.Equal(got, []string{tt.age, tt.age}) {
				t.Fatalf("age = %v, want %s", got, tt.age)
			}
			by, err := research.Build(study(2, "birth_year"), key(1), in, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseCSV(t, by.Files["pupils.csv"]).col(t, "birth_year"); got[0] != tt.birth[:4] {
				t.Fatalf("birth_year = %v, want %s", got, tt.birth[:4])
			}
		})
	}
}
