package soap_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// samplePath is the real-world Magister answer kept at the repository root.
const samplePath = "../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"

func readSample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("read sample: %v", err)
	}
	return b
}

// soapEnv wraps body in a SOAP 1.1 envelope with the "s" prefix.
func soapEnv(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body>` +
		body + `</s:Body></s:Envelope>`
}

// answerXML builds an answer element (e.g. leerlinggegevens_antwoord) whose
// only child is container (e.g. leerlinggegevens) holding inner, all in the
// leerlinggegevens namespace bound to the "lg" prefix.
func answerXML(answer, container, inner string) string {
	return `<lg:` + answer + ` xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:` + container + `>` +
		`<lg:school><lg:schooljaar>2025-2026</lg:schooljaar><lg:brincode>12AB</lg:brincode><lg:dependancecode>00</lg:dependancecode></lg:school>` +
		inner + `</lg:` + container + `></lg:` + answer + `>`
}

func groep(key string) string {
	return `<lg:groep key="` + key + `"><lg:naam>` + key + `</lg:naam><lg:jaargroep>4</lg:jaargroep></lg:groep>`
}

func sgroep(key string) string {
	return `<lg:samengestelde_groep key="` + key + `"><lg:naam>` + key + `</lg:naam></lg:samengestelde_groep>`
}

// pupil renders a leerling; attrs are raw attributes (key="..." eckid="..."), refs raw child elements.
func pupil(attrs, achternaam, refs string) string {
	return `<lg:leerling ` + attrs + `><lg:achternaam>` + achternaam + `</lg:achternaam><lg:roepnaam>Kim</lg:roepnaam>` +
		`<lg:geboortedatum>2016-03-01</lg:geboortedatum>` + refs + `</lg:leerling>`
}

// recorder is a Handler that keeps copies of what it was given.
type recorder struct {
	schools  []uwlr.School
	groups   []string
	comps    []string
	pupils   []uwlr.Leerling
	teachers []uwlr.Leerkracht
}

func (r *recorder) handler() soap.Handler {
	return soap.Handler{
		School:             func(s *uwlr.School) error { r.schools = append(r.schools, *s); return nil },
		Groep:              func(g *uwlr.Groep) error { r.groups = append(r.groups, g.Key); return nil },
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error { r.comps = append(r.comps, g.Key); return nil },
		Leerling:           func(l *uwlr.Leerling) error { r.pupils = append(r.pupils, *l); return nil },
		Leerkracht:         func(l *uwlr.Leerkracht) error { r.teachers = append(r.teachers, *l); return nil },
	}
}

func (r *recorder) pupilKeys() []string {
	var keys []string
	for _, p := range r.pupils {
		keys = append(keys, p.Key)
	}
	return keys
}

func TestReadSample(t *testing.T) {
	raw := readSample(t)
	start := strings.Index(string(raw), "<le:leerlinggegevens_antwoord")
	end := strings.Index(string(raw), "</SOAP-ENV:Body>")
	if start < 0 || end < 0 {
		t.Fatal("sample does not have the expected shape")
	}
	// The pupil keys in document order, found independently of the reader.
	var wantKeys []string
	for _, m := range regexp.MustCompile(`<le:leerling [^>]*key="([^"]*)"`).FindAllStringSubmatch(string(raw), -1) {
		wantKeys = append(wantKeys, m[1])
	}
	if len(wantKeys) != 22 {
		t.Fatalf("regexp found %d pupils in the sample, want 22", len(wantKeys))
	}

	for _, tt := range []struct {
		name string
		doc  string
	}{
		{"envelope", string(raw)},
		{"bare answer", string(raw[start:end])},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			sum, err := soap.ReadLeerlinggegevens(strings.NewReader(tt.doc), rec.handler())
			if err != nil {
				t.Fatalf("ReadLeerlinggegevens: %v", err)
			}
			if sum.Outcome != soap.OutcomeData || sum.Leerlingen != 22 || sum.Groepen != 6 || sum.SamengesteldeGroepen != 4 ||
				sum.Leerkrachten != 6 || sum.Vestigingen != 0 {
				t.Errorf("summary = %+v, want data with 22 pupils, 6 groups, 4 composite groups, 6 teachers", sum)
			}
			if len(sum.Warnings) != 0 || sum.DroppedWarnings != 0 {
				t.Errorf("warnings = %q (dropped %d), want none", sum.Warnings, sum.DroppedWarnings)
			}
			if sum.School.Brincode != "99DE" || sum.School.Schooljaar != "2018-2019" || sum.School.Xsdversie != "2.3" {
				t.Errorf("summary school = %+v", sum.School)
			}
			if len(rec.schools) != 1 || rec.schools[0] != sum.School {
				t.Errorf("School handler saw %+v", rec.schools)
			}
			if !slices.Equal(rec.pupilKeys(), wantKeys) {
				t.Errorf("pupils in handler order = %v\nwant document order %v", rec.pupilKeys(), wantKeys)
			}
			if p := rec.pupils[0]; p.Key != "L1" || p.Eckid != "eckid_L1" || p.Achternaam != "Demo01" ||
				p.Groep == nil || p.Groep.Key != "H1A" || p.SamengesteldeGroepen == nil ||
				len(p.SamengesteldeGroepen.SamengesteldeGroep) != 1 || p.SamengesteldeGroepen.SamengesteldeGroep[0].Key != "H1Muziek" {
				t.Errorf("first pupil = %+v", p)
			}
			if want := []string{"H1A", "H1B", "H1C", "H2A", "H2B", "H2C"}; !slices.Equal(rec.groups, want) {
				t.Errorf("groups = %v, want %v", rec.groups, want)
			}
			if want := []string{"H1Muziek", "H2Muziek", "H1Sport", "H2Sport"}; !slices.Equal(rec.comps, want) {
				t.Errorf("composite groups = %v, want %v", rec.comps, want)
			}
			if len(rec.teachers) != 6 || rec.teachers[0].Key != "T1" || rec.teachers[0].Groepen == nil ||
				len(rec.teachers[0].Groepen.Groep) != 2 || len(rec.teachers[0].Groepen.SamengesteldeGroep) != 1 {
				t.Errorf("teachers = %+v", rec.teachers)
			}
		})
	}
}

func TestReadNilHandlerFuncs(t *testing.T) {
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(string(readSample(t))), soap.Handler{})
	if err != nil || sum.Leerlingen != 22 {
		t.Fatalf("with an empty Handler: %+v, %v", sum, err)
	}
}

func TestReadOutcomes(t *testing.T) {
	answers := []struct{ answer, container string }{
		{"leerlinggegevens_antwoord", "leerlinggegevens"},
		{"structuur_antwoord", "leerlinggegevens-structuur"},
		{"leerlingen_antwoord", "leerlinggegevens-leerlingen"},
		{"leerkrachten_antwoord", "leerlinggegevens-leerkrachten"},
	}
	for _, a := range answers {
		for _, tt := range []struct {
			name  string
			inner string
			want  soap.Outcome
		}{
			{"geenwijzigingen", `<lg:geenwijzigingen/>`, soap.OutcomeGeenWijzigingen},
			{"geengegevens", `<lg:geengegevens></lg:geengegevens>`, soap.OutcomeGeenGegevens},
			{"data", `<lg:` + a.container + `><lg:school><lg:schooljaar>2025-2026</lg:schooljaar></lg:school></lg:` + a.container + `>`, soap.OutcomeData},
		} {
			t.Run(a.answer+"/"+tt.name, func(t *testing.T) {
				doc := soapEnv(`<lg:` + a.answer + ` xmlns:lg="` + uwlr.NSLeerlinggegevens + `">` + tt.inner + `</lg:` + a.answer + `>`)
				sum, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), soap.Handler{})
				if err != nil {
					t.Fatalf("ReadLeerlinggegevens: %v", err)
				}
				if sum.Outcome != tt.want || sum.Leerlingen != 0 || len(sum.Warnings) != 0 {
					t.Errorf("summary = %+v, want outcome %q and nothing else", sum, tt.want)
				}
			})
		}
	}
}

// TestReadDoesNotValidate: the reader parses and counts; records with
// problems (no key, no name, duplicate keys, dangling references, lists in
// any order) are handed over as they came, and it warns about nothing:
// mapping.Checker is the one validation pass.
func TestReadDoesNotValidate(t *testing.T) {
	inner := `<lg:leerlingen>` +
		pupil(`key="P1"`, "A", `<lg:groep key="G404"/><lg:samengestelde_groepen><lg:samengestelde_groep key="S1"/></lg:samengestelde_groepen><lg:vestiging key="V404"/>`) +
		pupil(`key="P1"`, "B", `<lg:groep key=""/>`) +
		`<lg:leerling><lg:geboortedatum>2016-01-01</lg:geboortedatum></lg:leerling>` +
		`</lg:leerlingen><lg:leerkrachten><lg:leerkracht><lg:achternaam>M</lg:achternaam></lg:leerkracht></lg:leerkrachten>` +
		`<lg:groepen><lg:groep key="G2"/>` + groep("S1") + sgroep("S1") + `<lg:samengestelde_groep/></lg:groepen>` +
		`<lg:vestigingen><lg:vestiging/></lg:vestigingen>`
	var rec recorder
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(answerXML("leerlinggegevens_antwoord", "leerlinggegevens", inner)), rec.handler())
	if err != nil {
		t.Fatalf("ReadLeerlinggegevens: %v", err)
	}
	if sum.Warnings == nil || len(sum.Warnings) != 0 || sum.DroppedWarnings != 0 {
		t.Errorf("warnings = %#v (dropped %d), want an empty list", sum.Warnings, sum.DroppedWarnings)
	}
	if sum.Leerlingen != 3 || sum.Leerkrachten != 1 || sum.Groepen != 2 || sum.SamengesteldeGroepen != 2 || sum.Vestigingen != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if !slices.Equal(rec.pupilKeys(), []string{"P1", "P1", ""}) || !slices.Equal(rec.groups, []string{"G2", "S1"}) ||
		!slices.Equal(rec.comps, []string{"S1", ""}) || len(rec.teachers) != 1 {
		t.Errorf("handed over pupils %q, groups %q, composites %q, %d teachers", rec.pupilKeys(), rec.groups, rec.comps, len(rec.teachers))
	}
	if g := rec.pupils[0].Groep; g == nil || g.Key != "G404" || rec.pupils[0].Vestiging == nil || rec.pupils[0].Vestiging.Key != "V404" {
		t.Errorf("P1's references not handed over as sent: %+v", rec.pupils[0])
	}
}

func TestReadEckidOnlyPupil(t *testing.T) {
	inner := `<lg:groepen>` + groep("G1") + `</lg:groepen><lg:leerlingen>` +
		pupil(`eckid="https://ketenid.nl/pilot/aa"`, "A", `<lg:groep key="G1"/>`) +
		pupil(`eckid="https://ketenid.nl/pilot/bb"`, "B", `<lg:groep key="G1"/>`) +
		`</lg:leerlingen>`
	var rec recorder
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(answerXML("leerlinggegevens_antwoord", "leerlinggegevens", inner)), rec.handler())
	if err != nil {
		t.Fatalf("ReadLeerlinggegevens: %v", err)
	}
	if sum.Leerlingen != 2 {
		t.Errorf("summary = %+v, want 2 pupils", sum)
	}
	if len(rec.pupils) != 2 || rec.pupils[0].Key != "" || rec.pupils[0].Eckid != "https://ketenid.nl/pilot/aa" || rec.pupils[1].Eckid != "https://ketenid.nl/pilot/bb" {
		t.Errorf("pupils = %+v", rec.pupils)
	}
}

func TestReadFaultBody(t *testing.T) {
	for _, doc := range []string{
		faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Autorisatie ongeldig"),
		`<soap:Fault xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><faultcode>soap:Client.AutorisatieOngeldig</faultcode><faultstring>Autorisatie ongeldig</faultstring></soap:Fault>`,
	} {
		sum, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), soap.Handler{})
		var se *soap.Error
		if !errors.As(err, &se) || sum != nil {
			t.Fatalf("ReadLeerlinggegevens(fault) = %+v, %v; want nil, *soap.Error", sum, err)
		}
		if se.Code != soap.CodeAutorisatieOngeldig || se.Class != soap.ClassCredential || se.Message != "Autorisatie ongeldig" {
			t.Errorf("error = %+v", se)
		}
	}
}

func TestReadSkipsUnknownElements(t *testing.T) {
	doc := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><x:trace xmlns:x="urn:x"><x:id>1</x:id></x:trace></s:Header><s:Body>` +
		`<lg:leerlinggegevens_antwoord xmlns:lg="` + uwlr.NSLeerlinggegevens + `" xmlns:x="urn:vendor">` +
		`<x:meta><x:leerling key="NOT-A-PUPIL"/></x:meta>` +
		`<lg:leerlinggegevens><x:extra><lg:leerlingen><lg:leerling key="HIDDEN"/></lg:leerlingen></x:extra>` +
		`<lg:school><lg:schooljaar>2025-2026</lg:schooljaar><x:future>1</x:future></lg:school>` +
		`<lg:groepen><x:groepinfo/>` + groep("G1") + `</lg:groepen>` +
		`<lg:leerlingen><x:count>1</x:count>` + pupil(`key="P1"`, "A", `<lg:groep key="G1"/><x:nieuwveld><x:a/></x:nieuwveld>`) + `<lg:leerkracht key="WRONG-LIST"/></lg:leerlingen>` +
		`</lg:leerlinggegevens><x:trailer/></lg:leerlinggegevens_antwoord></s:Body></s:Envelope>`
	var rec recorder
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), rec.handler())
	if err != nil {
		t.Fatalf("ReadLeerlinggegevens: %v", err)
	}
	if sum.Leerlingen != 1 || sum.Groepen != 1 || sum.Leerkrachten != 0 || len(sum.Warnings) != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if !slices.Equal(rec.pupilKeys(), []string{"P1"}) {
		t.Errorf("pupils = %v, want only P1", rec.pupilKeys())
	}
}

func TestReadHandlerErrorStops(t *testing.T) {
	stop := errors.New("store is full")
	seen := 0
	h := soap.Handler{Leerling: func(l *uwlr.Leerling) error {
		seen++
		if seen == 3 {
			return fmt.Errorf("save %s: %w", l.Key, stop)
		}
		return nil
	}}
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(string(readSample(t))), h)
	if !errors.Is(err, stop) {
		t.Fatalf("error = %v, want it to wrap the handler's error", err)
	}
	if sum != nil {
		t.Errorf("summary = %+v, want nil on error", sum)
	}
	if seen != 3 {
		t.Errorf("handler called %d times, want reading to stop at the failing third pupil", seen)
	}

	// The other callbacks stop reading too.
	for name, h := range map[string]soap.Handler{
		"school":     {School: func(*uwlr.School) error { return stop }},
		"groep":      {Groep: func(*uwlr.Groep) error { return stop }},
		"samengest":  {SamengesteldeGroep: func(*uwlr.SamengesteldeGroep) error { return stop }},
		"leerkracht": {Leerkracht: func(*uwlr.Leerkracht) error { return stop }},
	} {
		if _, err := soap.ReadLeerlinggegevens(strings.NewReader(string(readSample(t))), h); !errors.Is(err, stop) {
			t.Errorf("%s handler error: got %v", name, err)
		}
	}
}

func TestReadRejects(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr error  // checked with errors.Is when set
		want    string // fragment of the error text
	}{
		{"empty", "", nil, "empty document"},
		{"not xml", "Service Unavailable", nil, "empty document"},
		{"SOAP 1.2 envelope", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`, nil, "not a SOAP 1.1 envelope"},
		{"envelope without body", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>`, nil, "no SOAP body"},
		{"other answer", soapEnv(`<r:leerresultaten_bevestiging xmlns:r="` + uwlr.NSLeerresultaten + `"/>`), soap.ErrNotLeerlinggegevens, "leerresultaten_bevestiging"},
		{"no outcome", soapEnv(`<lg:leerlinggegevens_antwoord xmlns:lg="` + uwlr.NSLeerlinggegevens + `"/>`), nil, "neither data nor"},
		{"truncated", string(readSample(t)[:5000]), nil, "EOF"},
		{"bad pupil", answerXML("leerlinggegevens_antwoord", "leerlinggegevens", `<lg:leerlingen><lg:leerling key="P1"><lg:achternaam>A</lg:roepnaam></lg:leerling></lg:leerlingen>`), nil, "leerling #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := soap.ReadLeerlinggegevens(strings.NewReader(tt.doc), soap.Handler{})
			if err == nil {
				t.Fatalf("ReadLeerlinggegevens = %+v, want an error", sum)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestReadTellsTheAnswerKind: the handler learns which answer it reads
// before the first record, and only for an answer with data.
func TestReadTellsTheAnswerKind(t *testing.T) {
	tests := []struct {
		answer, container string
		want              soap.AnswerKind
		selfContained     bool
	}{
		{"leerlinggegevens_antwoord", "leerlinggegevens", soap.AnswerLeerlinggegevens, true},
		{"structuur_antwoord", "leerlinggegevens-structuur", soap.AnswerStructuur, false},
		{"leerlingen_antwoord", "leerlinggegevens-leerlingen", soap.AnswerLeerlingen, false},
		{"leerkrachten_antwoord", "leerlinggegevens-leerkrachten", soap.AnswerLeerkrachten, false},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			var events []string
			h := soap.Handler{
				Answer:   func(k soap.AnswerKind) error { events = append(events, "answer "+string(k)); return nil },
				School:   func(*uwlr.School) error { events = append(events, "school"); return nil },
				Leerling: func(l *uwlr.Leerling) error { events = append(events, "leerling "+l.Key); return nil },
			}
			doc := soapEnv(answerXML(tt.answer, tt.container, `<lg:leerlingen>`+pupil(`key="P1"`, "A", "")+`</lg:leerlingen>`))
			if _, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), h); err != nil {
				t.Fatalf("ReadLeerlinggegevens: %v", err)
			}
			want := []string{"answer " + string(tt.want), "school", "leerling P1"}
			if !slices.Equal(events, want) {
				t.Errorf("events = %q, want %q", events, want)
			}
			if tt.want.SelfContained() != tt.selfContained {
				t.Errorf("%s.SelfContained() = %v", tt.want, !tt.selfContained)
			}
		})
	}

	called := false
	h := soap.Handler{Answer: func(soap.AnswerKind) error { called = true; return nil }}
	geen := `<lg:leerlinggegevens_antwoord xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:geenwijzigingen/></lg:leerlinggegevens_antwoord>`
	if _, err := soap.ReadLeerlinggegevens(strings.NewReader(geen), h); err != nil || called {
		t.Errorf("geenwijzigingen: err %v, Answer called %v; want no call", err, called)
	}

	stop := errors.New("stop")
	n := 0
	h = soap.Handler{Answer: func(soap.AnswerKind) error { return stop }, Leerling: func(*uwlr.Leerling) error { n++; return nil }}
	if _, err := soap.ReadLeerlinggegevens(strings.NewReader(string(readSample(t))), h); !errors.Is(err, stop) || n != 0 {
		t.Errorf("Answer error: %v after %d pupils; want the error before any pupil", err, n)
	}
}
