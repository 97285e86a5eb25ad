package research_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

// group is n pupils sharing birth date, gender and jaargroep, each with
// results results.
type group struct {
	n                        int
	birth, gender, yearGroup string
	results                  int
}

func population(gs ...group) research.Input {
	var in research.Input
	for _, g := range gs {
		for range g.n {
			p := pupil(len(in.Pupils), g.birth, g.gender, g.yearGroup)
			in.Pupils = append(in.Pupils, p)
			for j := range g.results {
				in.Results = append(in.Results, result(len(in.Results), p, "T", "", "2026-01-2"+string(rune('0'+j)), "5"))
			}
		}
	}
	return in
}

// Steps of the generalisation, short for the table.
const (
	stepBY  = research.StepBirthYearBand
	stepAge = research.StepAgeBand
	stepJG  = research.StepYearGroupBand
	stepGen = research.StepGenderAny
)

// generalisationCase is one population and what its export must show.
type generalisationCase struct {
	name       string
	fields     []string
	k          int
	groups     []group
	steps      []string
	column     string            // a column to look at ("" for none)
	values     []string          // its sorted values
	types      map[string]string // Table Schema types of pupils.csv
	suppressed int
	resultsOut int // suppressed results
}

var generalisationCases = []generalisationCase{
	{"groups of K need no step", nil, 3,
		[]group{{3, "2016-05-01", "1", "4", 1}, {3, "2017-05-01", "2", "3", 1}}, nil,
		"birth_year", []string{"2016", "2016", "2016", "2017", "2017", "2017"}, map[string]string{"birth_year": "year", "gender": "string"}, 0, 0},
	{"a small group is merged by the birth year band", nil, 3,
		[]group{{2, "2016-05-01", "1", "4", 0}, {1, "2019-12-31", "1", "4", 0}}, []string{stepBY},
		"birth_year", []string{"2015-2019", "2015-2019", "2015-2019"}, map[string]string{"birth_year": "string"}, 0, 0},
	{"then by jaargroep bands", nil, 3,
		[]group{{2, "2016-05-01", "1", "3", 0}, {1, "2016-05-01", "1", "4", 0}}, []string{stepBY, stepJG},
		"jaargroep", []string{"3-4", "3-4", "3-4"}, map[string]string{"birth_year": "string", "jaargroep": "string"}, 0, 0},
	{"then by gender", nil, 3,
		[]group{{2, "2016-05-01", "1", "4", 0}, {1, "2016-05-01", "2", "4", 0}}, []string{stepBY, stepJG, stepGen},
		"gender", []string{"*", "*", "*"}, map[string]string{"gender": "string"}, 0, 0},
	{"what stays small is suppressed, with its results", nil, 3,
		[]group{{3, "2016-05-01", "1", "4", 1}, {1, "2010-05-01", "2", "B", 2}}, []string{stepBY, stepJG, stepGen},
		"jaargroep", []string{"3-4", "3-4", "3-4"}, nil, 1, 2},
	{"letter codes and 0 are one band", []string{"jaargroep"}, 3,
		[]group{{1, "", "", "B", 0}, {1, "", "", "0", 0}, {1, "", "", "S", 0}, {3, "", "", "12", 0}}, []string{stepJG},
		"jaargroep", []string{"11-12", "11-12", "11-12", "other", "other", "other"}, nil, 0, 0},
	{"ages in one band", []string{"age", "score"}, 2,
		[]group{{1, "2018-05-01", "1", "2", 1}, {1, "2020-01-01", "1", "2", 1}}, []string{stepAge},
		"age", []string{"5-9", "5-9"}, map[string]string{"age": "string"}, 0, 0},
	{"ages need no band", []string{"age"}, 2,
		[]group{{2, "2018-05-01", "1", "2", 0}}, nil,
		"age", []string{"7", "7"}, map[string]string{"age": "integer"}, 0, 0},
	{"unknown values are a value of their own", []string{"birth_year", "gender"}, 2,
		[]group{{2, "", "", "4", 0}, {2, "2016-01-01", "", "4", 0}}, nil,
		"birth_year", []string{"", "", "2016", "2016"}, map[string]string{"birth_year": "year"}, 0, 0},
	{"only steps of fields asked for", []string{"gender", "test"}, 2,
		[]group{{2, "2016-05-01", "1", "4", 1}, {1, "2010-05-01", "2", "B", 1}}, []string{stepGen},
		"gender", []string{"*", "*", "*"}, map[string]string{"gender": "string"}, 0, 0},
	{"without quasi-identifiers a school below K is suppressed", []string{"test", "score"}, 3,
		[]group{{2, "2016-05-01", "1", "4", 1}}, nil, "", nil, nil, 2, 2},
	{"results are not counted without results.csv", []string{"jaargroep"}, 2,
		[]group{{2, "2016-05-01", "1", "4", 1}, {1, "2016-05-01", "1", "B", 3}}, []string{stepJG}, "", nil, nil, 1, 0},
}

func TestGeneralisationSteps(t *testing.T) {
	for _, tt := range generalisationCases {
		t.Run(tt.name, func(t *testing.T) {
			in := population(tt.groups...)
			ex := mustBuild(t, study(tt.k, tt.fields...), key(3), in)
			m := ex.Manifest
			if !slices.Equal(m.Generalised, tt.steps) {
				t.Fatalf("Generalised = %v, want %v", m.Generalised, tt.steps)
			}
			if m.SuppressedPupils != tt.suppressed || m.SuppressedResults != tt.resultsOut {
				t.Fatalf("suppressed pupils %d, results %d; want %d, %d", m.SuppressedPupils, m.SuppressedResults, tt.suppressed, tt.resultsOut)
			}
			pupils := parseCSV(t, ex.Files["pupils.csv"])
			if m.Pupils != len(in.Pupils)-tt.suppressed || len(pupils.rows) != m.Pupils {
				t.Fatalf("Manifest.Pupils %d, rows %d, want %d", m.Pupils, len(pupils.rows), len(in.Pupils)-tt.suppressed)
			}
			if tt.column != "" {
				got := slices.Sorted(slices.Values(pupils.col(t, tt.column)))
				if !slices.Equal(got, tt.values) {
					t.Fatalf("%s = %v, want %v", tt.column, got, tt.values)
				}
			}
			types := schemaTypes(t, ex.Files["datapackage.json"], "pupils")
			for f, want := range tt.types {
				if types[f] != want {
					t.Errorf("schema type of %s = %q, want %q", f, types[f], want)
				}
			}
		})
	}
}

// schemaTypes returns the Table Schema type of each field of a resource.
func schemaTypes(t *testing.T, dp []byte, resource string) map[string]string {
	t.Helper()
	var p struct {
		Resources []struct {
			Name   string
			Schema struct {
				Fields []struct{ Name, Type string }
			}
		}
	}
	if err := json.Unmarshal(dp, &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range p.Resources {
		if r.Name == resource {
			for _, f := range r.Schema.Fields {
				out[f.Name] = f.Type
			}
		}
	}
	return out
}

func TestResultsFile(t *testing.T) {
	ps := same(0, 2, "2016-05-01", "1", "4")
	oso := result(1, ps[0], `Toets "A", deel 2`, "", "2026-02-01", "")
	oso.OSO = &gateway.OSOResult{Score: &gateway.OSOScore{Ability: "312.5"}}
	in := research.Input{Pupils: ps, Results: []gateway.Result{
		result(0, ps[1], "B", "p2", "2026-01-20", "0"),
		oso,
		result(2, ps[1], "B", "p1", "2026-01-21", "10.25"),
		result(3, ps[1], "A", "", "2026-01-22", "7"),
		{Key: "x", School: school, Pupil: "not-a-pupil-of-the-input", Test: "A", Date: "bad", Score: "bad"},
	}}
	ex := mustBuild(t, study(2, "test", "part", "date", "score"), key(1), in)
	res := parseCSV(t, ex.Files["results.csv"])
	if got := strings.Join(res.header, ","); got != "pupil,test,part,date,score" {
		t.Fatalf("header = %s", got)
	}
	if ex.Manifest.Results != 4 || len(res.rows) != 4 {
		t.Fatalf("Manifest.Results %d, rows %d; want 4 (the unknown pupil's result ignored)", ex.Manifest.Results, len(res.rows))
	}
	for i := 1; i < len(res.rows); i++ {
		if slices.Compare(res.rows[i-1], res.rows[i]) > 0 {
			t.Fatalf("rows not sorted by pupil, test, part, date: %v", res.rows)
		}
	}
	for _, r := range res.rows {
		if r[1] == oso.Test && r[4] != "" {
			t.Fatalf("the OSO result got score %q, want it empty", r[4])
		}
		if r[1] == "B" && r[2] == "p2" && r[4] != "0" {
			t.Fatalf("score 0 became %q", r[4])
		}
	}
	if !strings.Contains(string(ex.Files["results.csv"]), "\r\n") || strings.Contains(strings.ReplaceAll(string(ex.Files["results.csv"]), "\r\n", ""), "\n") {
		t.Fatal("results.csv lines do not end in CRLF (RFC 4180)")
	}
	if got := strings.Join(parseCSV(t, ex.Files["pupils.csv"]).header, ","); got != "pupil" {
		t.Fatalf("pupils.csv header = %s, want only the pupil column", got)
	}

	noResults := mustBuild(t, study(2, "gender", "jaargroep"), key(1), in)
	if _, ok := noResults.Files["results.csv"]; ok || len(noResults.Manifest.Files) != 2 || noResults.Manifest.Results != 0 {
		t.Fatalf("files %v, results %d: want no results.csv without a result field", noResults.Manifest.Files, noResults.Manifest.Results)
	}
}

func TestColumnsInFixedOrder(t *testing.T) {
	in := population(group{2, "2016-05-01", "1", "4", 1})
	ex := mustBuild(t, study(2, "score", "jaargroep", "date", "gender", "school", "age"), key(1), in)
	if got := strings.Join(parseCSV(t, ex.Files["pupils.csv"]).header, ","); got != "pupil,school,age,gender,jaargroep" {
		t.Fatalf("pupils.csv header = %s", got)
	}
	if got := strings.Join(parseCSV(t, ex.Files["results.csv"]).header, ","); got != "pupil,date,score" {
		t.Fatalf("results.csv header = %s", got)
	}
	if got := strings.Join(ex.Manifest.Fields, ","); got != "school,age,gender,jaargroep,date,score" {
		t.Fatalf("Manifest.Fields = %s", got)
	}
}
