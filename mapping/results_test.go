package mapping_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// resultsXSD is the official schema of the results message.
const resultsXSD = "../wsdl/Schemas/UWLR_Leerresultaten_v2p2.xsd"

// resultsGolden is the full message of fullResults, marshalled.
const resultsGolden = "testdata/leerresultaten_verzoek.golden.xml"

// xmllintInvalid is xmllint's exit status for a well-formed document that
// does not validate; any other failure is a broken test.
const xmllintInvalid = 3

// lintResults validates doc (a leerresultaten_verzoek element) against the
// results XSD and reports whether it is valid, with xmllint's output. A
// missing xmllint fails the test: the schema proof is not optional.
func lintResults(t *testing.T, doc []byte) (bool, string) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found (%v): install libxml2-utils; the XSD tests never skip", err)
	}
	schema, err := filepath.Abs(resultsXSD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	file := filepath.Join(t.TempDir(), "leerresultaten.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--nonet", "--schema", schema, file).CombinedOutput()
	if err == nil {
		return true, string(out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == xmllintInvalid {
		return false, string(out)
	}
	t.Fatalf("xmllint: %v (the schema or document is broken, not merely invalid):\n%s\n%s", err, out, doc)
	return false, ""
}

func marshalResults(t *testing.T, m *uwlr.LeerresultatenVerzoek) []byte {
	t.Helper()
	b, err := xml.MarshalIndent(m, "", " ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return append(b, '\n')
}

var resultsCreated = time.Date(2025, 10, 6, 9, 30, 0, 0, time.UTC)

func resultsMessage() mapping.ResultsMessage {
	return mapping.ResultsMessage{
		School:     gateway.School{ID: school, Brin: "99DE", Dependancecode: "00"},
		Schooljaar: "2025-2026",
		CreatedAt:  resultsCreated,
		Author:     "uwlr-gateway",
		ScoreType:  gateway.ScoreInteger,
	}
}

func ptr[T any](v T) *T { return &v }

// fullNorming has every field of a norming.
func fullNorming() *gateway.Norming {
	return &gateway.Norming{
		Vocabulary: "https://example.org/voc/normeringen", VocabularyLocation: "https://example.org/voc/normeringen.xml",
		Category: &gateway.Term{Value: "methodeonafhankelijk", Vocabulary: "https://example.org/voc/categorie"},
		Level:    &gateway.Term{Value: "M4"},
		Weight:   "1.5",
		Norms: []gateway.Norm{
			{Term: "V", Description: "onvoldoende", Begin: 0, End: 9, Colour: &gateway.NormColor{Red: 200, Green: 0, Blue: 0, Transparency: "0.25"},
				GradeFrom: "1", GradeTo: "5.4"},
			{Term: "G", Begin: 10, End: 20, Colour: &gateway.NormColor{Red: 0, Green: 128, Blue: 0, Transparency: "1.00"}, GradeFrom: "5.5", GradeTo: "10.00"},
		},
	}
}

// resultsTests are the test definitions the results refer to, and one that
// no result refers to (it must not be sent).
func resultsTests() []gateway.TestDefinition {
	return []gateway.TestDefinition{
		{Code: gateway.Term{Value: "UNUSED"}},
		{
			Code:      gateway.Term{Value: "REK-M4", Vocabulary: "https://example.org/voc/toetsen", VocabularyLocation: "https://example.org/voc/toetsen.xml"},
			Version:   &gateway.Term{Value: "2024"},
			Name:      "Rekenen midden groep 4",
			YearLevel: &gateway.Term{Value: "4", Vocabulary: "https://example.org/voc/leerjaren"},
			Subject:   &gateway.Term{Value: "rekenen-wiskunde"},
			Norming:   fullNorming(),
			Hierarchy: []gateway.HierarchyLevel{{Term: gateway.Term{Value: "Rekenen"}, Level: 1}, {Term: gateway.Term{Value: "Getallen", Vocabulary: "https://example.org/voc/domeinen"}, Level: 2}},
			Parts: []gateway.TestPart{
				{Seq: 1, Code: gateway.Term{Value: "REK-M4-1"}, Name: "Getallen", Norming: fullNorming()},
				{Seq: 2, Code: gateway.Term{Value: "REK-M4-2", Vocabulary: "https://example.org/voc/onderdelen"}},
			},
		},
		{Code: gateway.Term{Value: "DMT"}, Name: "Drie-Minuten-Toets"},
		{Code: gateway.Term{Value: "SPEL-M4"}},
	}
}

func res(key, test, part, score string) gateway.Result {
	return gateway.Result{Key: key, School: school, Pupil: gateway.PupilID("p_" + key), Test: test, Part: part, Date: "2025-10-01", Score: score}
}

func osoRes(key string) gateway.Result {
	r := res(key, "DMT", "", "")
	r.OSO = &gateway.OSOResult{
		Score: &gateway.OSOScore{Items: ptr(40), Correct: ptr(31), Wrong: ptr(9), Read: ptr(0), Seconds: "180.5", Ability: "-0.75",
			AbilityScale: "DMT-2019", Interval: &gateway.OSOInterval{Low: "-1.25", High: "-0.25"}},
		References: []gateway.OSOReference{{Code: "PERC", ComparisonGroup: "LANDELIJK", Value: "62", Qualification: "B"}, {Code: "NIVEAU", ComparisonGroup: "LANDELIJK", Value: "II"}},
	}
	return r
}

// fullResults: integer scores including 0, OSO, test parts, two processors
// for one pupil, and a pupil known by ECK iD only.
func fullResults() []mapping.PupilResults {
	withProc := func(r gateway.Result, p string) gateway.Result { r.Processor = p; return r }
	return []mapping.PupilResults{
		{LASKey: "L1", EckID: validEckID, Results: []gateway.Result{
			withProc(res("r_a1", "REK-M4", "", "37"), "T1"),
			withProc(res("r_a2", "REK-M4", "REK-M4-1", "0"), "T2"),
			withProc(res("r_a3", "REK-M4", "REK-M4-2", "18446744073709551616"), "T1"),
		}},
		{LASKey: "L2", Results: []gateway.Result{osoRes("r_b1"), res("r_b2", "SPEL-M4", "", "12")}},
		{EckID: strings.Replace(validEckID, "0123", "4567", 1), Results: []gateway.Result{res("r_c1", "REK-M4", "", "20")}},
	}
}

func TestLeerresultatenVerzoekFull(t *testing.T) {
	msg, err := mapping.LeerresultatenVerzoek(resultsMessage(), fullResults(), resultsTests())
	if err != nil {
		t.Fatal(err)
	}
	doc := marshalResults(t, msg)
	if ok, out := lintResults(t, doc); !ok {
		t.Fatalf("full message does not validate:\n%s\n%s", out, doc)
	}
	if *update {
		if err := os.WriteFile(resultsGolden, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(resultsGolden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(doc, want) {
		t.Errorf("message differs from %s (go test -update rewrites it):\n%s", resultsGolden, doc)
	}

	// The shape: one toetsafname per (pupil, processor), in order of first
	// occurrence; only the tests referred to, in order of first reference.
	var got []string
	for _, ta := range msg.Toetsafnames.Toetsafname {
		var keys []string
		for _, r := range ta.Resultaten {
			keys = append(keys, r.Key)
		}
		got = append(got, ta.Leerlingid[:min(len(ta.Leerlingid), 2)]+"/"+ta.Resultaatverwerkerid+":"+strings.Join(keys, ","))
	}
	if want := []string{"L1/T1:r_a1,r_a3", "L1/T2:r_a2", "L2/:r_b1,r_b2", "ht/:r_c1"}; !slices.Equal(got, want) {
		t.Errorf("toetsafnames %v, want %v", got, want)
	}
	var codes []string
	for _, ts := range msg.Toetsen.Toets {
		codes = append(codes, ts.Toetscode.Value)
	}
	if want := []string{"REK-M4", "DMT", "SPEL-M4"}; !slices.Equal(codes, want) {
		t.Errorf("toetsen %v, want %v", codes, want)
	}
	last := msg.Toetsafnames.Toetsafname[3]
	if last.Leerlingid != last.Eckid || last.Eckid == "" {
		t.Errorf("pupil known by ECK iD only: leerlingid %q eckid %q, want the ECK iD in both", last.Leerlingid, last.Eckid)
	}
}

// TestLeerresultatenVerzoekValidates: every message the mapping builds for
// an integer receiver validates against the official XSD.
func TestLeerresultatenVerzoekValidates(t *testing.T) {
	for _, tt := range []struct {
		name   string
		msg    func(m *mapping.ResultsMessage)
		pupils []mapping.PupilResults
		tests  []gateway.TestDefinition
		want   []string // in the marshalled message
	}{
		{name: "integer scores", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "SPEL-M4", "", "17")}}},
			tests: resultsTests(), want: []string{"<score>17</score>", "<leerlingid>L1</leerlingid>", "<dependancecode>00</dependancecode>", "<xsdversie>2.2</xsdversie>"}},
		{name: "score 0", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "SPEL-M4", "", "0")}}},
			tests: resultsTests(), want: []string{"<score>0</score>"}},
		{name: "OSO result", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{osoRes("k1")}}},
			tests: resultsTests(), want: []string{"<osoresultaat>", "<vaardigheidsscore>-0.75</vaardigheidsscore>", "<kwalificatie>B</kwalificatie>"}},
		{name: "OSO reference only", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{func() gateway.Result {
			r := osoRes("k1")
			r.OSO.Score = nil
			return r
		}()}}}, tests: resultsTests(), want: []string{"<referentiescore"}},
		{name: "test parts and full norming", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "REK-M4", "REK-M4-2", "3")}}},
			tests: resultsTests(), want: []string{"<toetsonderdeelcode>REK-M4-2</toetsonderdeelcode>", "<toetsonderdeelnormering", "<transparantie>0.25</transparantie>", `niveau="2">Getallen</ingang>`}},
		{name: "schoolkey, default school year and xsdversie", msg: func(m *mapping.ResultsMessage) {
			m.School = gateway.School{ID: "sk-1", Schoolkey: "sk-1"}
			m.Schooljaar, m.Author, m.ScoreType = "", "", ""
			m.CreatedAt = time.Date(2025, 7, 31, 22, 30, 0, 0, time.UTC) // 1 August in Amsterdam
		}, pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "SPEL-M4", "", "1")}}},
			tests: resultsTests(), want: []string{"<schoolkey>sk-1</schoolkey>", "<schooljaar>2025-2026</schooljaar>", "<aanmaakdatum>2025-07-31T22:30:00Z</aanmaakdatum>"}},
		{name: "pupil known by ECK iD only", pupils: []mapping.PupilResults{{EckID: validEckID, Results: []gateway.Result{res("k1", "SPEL-M4", "", "1")}}},
			tests: resultsTests(), want: []string{"<leerlingid>" + validEckID + "</leerlingid><eckid>" + validEckID + "</eckid>"}},
		{name: "decimal receiver, whole scores", msg: func(m *mapping.ResultsMessage) { m.ScoreType = gateway.ScoreDecimal },
			pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "SPEL-M4", "", "6")}}}, tests: resultsTests()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := resultsMessage()
			if tt.msg != nil {
				tt.msg(&m)
			}
			msg, err := mapping.LeerresultatenVerzoek(m, tt.pupils, tt.tests)
			if err != nil {
				t.Fatal(err)
			}
			doc := marshalResults(t, msg)
			if ok, out := lintResults(t, doc); !ok {
				t.Fatalf("does not validate:\n%s\n%s", out, doc)
			}
			flat := regexp.MustCompile(`>\s+<`).ReplaceAllString(string(doc), "><")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("message lacks %q:\n%s", w, doc)
				}
			}
		})
	}
}

// TestLeerresultatenVerzoekDecimalScore: a decimal score is what a decimal
// receiver profile takes and the standard XSD refuses. The mapping sends it
// for ScoreDecimal only.
func TestLeerresultatenVerzoekDecimalScore(t *testing.T) {
	m := resultsMessage()
	m.ScoreType = gateway.ScoreDecimal
	pupils := []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{res("k1", "SPEL-M4", "", "6.5"), res("k2", "SPEL-M4", "", "7")}}}
	msg, err := mapping.LeerresultatenVerzoek(m, pupils, resultsTests())
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Toetsafnames.Toetsafname[0].Resultaten[0].Score; got != "6.5" {
		t.Fatalf("score %q, want the text as given", got)
	}
	doc := marshalResults(t, msg)
	ok, out := lintResults(t, doc)
	if ok {
		t.Fatalf("a decimal score validates against the standard XSD, but must not:\n%s", doc)
	}
	if !strings.Contains(out, "'6.5' is not a valid value") {
		t.Fatalf("rejected, but not for the decimal score:\n%s", out)
	}

	m.ScoreType = gateway.ScoreInteger
	if _, err := mapping.LeerresultatenVerzoek(m, pupils, resultsTests()); err == nil || !strings.Contains(err.Error(), "result k1: score is not a non-negative integer") {
		t.Fatalf("integer receiver, decimal score: error %v", err)
	}
}

func TestLeerresultatenVerzoekErrors(t *testing.T) {
	one := func(r gateway.Result) []mapping.PupilResults {
		return []mapping.PupilResults{{LASKey: "L1", EckID: validEckID, Results: []gateway.Result{r}}}
	}
	good := res("k1", "REK-M4", "", "5")
	with := func(f func(r *gateway.Result)) []mapping.PupilResults { r := good; f(&r); return one(r) }
	testsWith := func(f func(d *gateway.TestDefinition)) []gateway.TestDefinition {
		ts := resultsTests()
		f(&ts[1])
		return ts
	}
	for _, tt := range []struct {
		name   string
		msg    func(m *mapping.ResultsMessage)
		pupils []mapping.PupilResults
		tests  []gateway.TestDefinition
		want   []string // each in the error
	}{
		{name: "no score", pupils: with(func(r *gateway.Result) { r.Score = "" }), want: []string{"pupil 1 (LAS key L1): result k1: no score and no OSO result"}},
		{name: "score and OSO", pupils: with(func(r *gateway.Result) { r.OSO = osoRes("x").OSO }), want: []string{"result k1: both a score and an OSO result"}},
		{name: "negative score", pupils: with(func(r *gateway.Result) { r.Score = "-1" }), want: []string{"result k1: score is not a non-negative integer"}},
		{name: "score with spaces", pupils: with(func(r *gateway.Result) { r.Score = " 5" }), want: []string{"result k1: score is not"}},
		{name: "decimal receiver, not a number", msg: func(m *mapping.ResultsMessage) { m.ScoreType = gateway.ScoreDecimal },
			pupils: with(func(r *gateway.Result) { r.Score = "X" }), want: []string{"result k1: score is not a non-negative decimal"}},
		{name: "unknown score type", msg: func(m *mapping.ResultsMessage) { m.ScoreType = "float" }, pupils: one(good), want: []string{`unknown score type "float"`}},
		{name: "empty OSO", pupils: with(func(r *gateway.Result) { r.Score, r.OSO = "", &gateway.OSOResult{} }), want: []string{"result k1: OSO result: neither a test score nor a reference score"}},
		{name: "OSO decimal comma", pupils: with(func(r *gateway.Result) { r.Score, r.OSO = "", osoRes("x").OSO; r.OSO.Score.Ability = "1,5" }), want: []string{"ability is not a decimal"}},
		{name: "OSO negative count", pupils: with(func(r *gateway.Result) { r.Score, r.OSO = "", osoRes("x").OSO; r.OSO.Score.Items = ptr(-1) }), want: []string{"items is not a count"}},
		{name: "OSO reference without value", pupils: with(func(r *gateway.Result) {
			r.Score, r.OSO = "", &gateway.OSOResult{References: []gateway.OSOReference{{Code: "PERC", ComparisonGroup: "L"}}}
		}), want: []string{"reference 1 lacks"}},
		{name: "test not defined", pupils: with(func(r *gateway.Result) { r.Test = "TAAL-M4" }), want: []string{`result k1: test "TAAL-M4" is not among the test definitions`}},
		{name: "part not of the test", pupils: with(func(r *gateway.Result) { r.Part = "REK-M4-9" }), want: []string{`part "REK-M4-9" is not a part of test "REK-M4"`}},
		{name: "bad date", pupils: with(func(r *gateway.Result) { r.Date = "2025-02-30" }), want: []string{"result k1: date is not YYYY-MM-DD"}},
		{name: "no key", pupils: with(func(r *gateway.Result) { r.Key = "" }), want: []string{"pupil 1 (LAS key L1): a result has no key"}},
		{name: "duplicate key", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{good}}, {LASKey: "L2", Results: []gateway.Result{good}}},
			want: []string{"pupil 2 (LAS key L2): result k1: key already used by pupil 1 (LAS key L1)"}},
		{name: "pupil without identity", pupils: []mapping.PupilResults{{LASKey: "L1", Results: []gateway.Result{good}}, {Results: []gateway.Result{res("k2", "REK-M4", "", "1")}}},
			want: []string{"pupil 2 (no LAS key): neither LAS key nor ECK iD"}},
		{name: "pupil listed twice with different ECK iDs", pupils: []mapping.PupilResults{{LASKey: "L1", EckID: validEckID, Results: []gateway.Result{good}},
			{LASKey: "L1", EckID: validEckID + "0", Results: []gateway.Result{res("k2", "REK-M4", "", "1")}}},
			want: []string{"pupil 2 (LAS key L1): listed again with a different ECK iD than pupil 1"}},
		{name: "no results", pupils: []mapping.PupilResults{{LASKey: "L1"}}, want: []string{"no results"}},
		{name: "test defined twice", pupils: one(good), tests: append(resultsTests(), gateway.TestDefinition{Code: gateway.Term{Value: "REK-M4"}}), want: []string{`test "REK-M4" is defined twice`}},
		{name: "norm begin above end", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Norming.Norms[1].Begin = 21 }),
			want: []string{`test "REK-M4": norming: norm 2: begin 21 is above end 20`}},
		{name: "no norms", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Parts[0].Norming.Norms = nil }), want: []string{`test "REK-M4": part 1 norming: no norms`}},
		{name: "transparency above 1", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Norming.Norms[0].Colour.Transparency = "1.0000000001" }),
			want: []string{"norm 1: colour transparency is not a decimal from 0 to 1"}},
		{name: "grade below 1", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Norming.Norms[0].GradeFrom = "0.99" }), want: []string{"norm 1: grade from is not a decimal from 1 to 10"}},
		{name: "weight not a decimal", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Norming.Weight = "1e3" }), want: []string{"weight is not a decimal"}},
		{name: "part seq 0 and duplicate code", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) {
			d.Parts[0].Seq = 0
			d.Parts[1].Code = d.Parts[0].Code
		}), want: []string{"part 1: sequence number must be positive", `part 2: code "REK-M4-1" used twice`}},
		{name: "duplicate part seq", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Parts[1].Seq = 1 }), want: []string{"part 2: sequence number 1 used twice"}},
		{name: "name too long", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Name = strings.Repeat("é", 129) }), want: []string{"name is longer than 128 characters"}},
		{name: "empty subject", pupils: one(good), tests: testsWith(func(d *gateway.TestDefinition) { d.Subject = &gateway.Term{} }), want: []string{"subject must have 1 to 256 characters"}},
		{name: "no BRIN nor schoolkey", msg: func(m *mapping.ResultsMessage) { m.School = gateway.School{ID: school} }, pupils: one(good), want: []string{"school 99DE00: neither BRIN nor schoolkey"}},
		{name: "bad BRIN", msg: func(m *mapping.ResultsMessage) { m.School.Brin = "99de" }, pupils: one(good), want: []string{`BRIN "99de"`}},
		{name: "no creation time", msg: func(m *mapping.ResultsMessage) { m.CreatedAt = time.Time{} }, pupils: one(good), want: []string{"no creation time"}},
		{name: "bad school year", msg: func(m *mapping.ResultsMessage) { m.Schooljaar = "2025/2026" }, pupils: one(good), want: []string{"schooljaar"}},
		{name: "several problems, all reported", pupils: []mapping.PupilResults{
			{LASKey: "L1", EckID: validEckID, Results: []gateway.Result{res("k1", "REK-M4", "", ""), res("k2", "NOPE", "", "1"), res("k3", "REK-M4", "", "2")}}},
			want: []string{"result k1: no score", `result k2: test "NOPE"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := resultsMessage()
			if tt.msg != nil {
				tt.msg(&m)
			}
			tests := tt.tests
			if tests == nil {
				tests = resultsTests()
			}
			msg, err := mapping.LeerresultatenVerzoek(m, tt.pupils, tests)
			if err == nil {
				t.Fatalf("no error; message %+v", msg)
			}
			if msg != nil {
				t.Errorf("a message came back with the error")
			}
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "ketenid") {
				t.Errorf("error contains an ECK iD:\n%v", err)
			}
		})
	}
}
