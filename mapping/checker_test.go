package mapping_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// answerXML builds an answer element whose only child is container holding
// a school and inner, in the leerlinggegevens namespace ("lg" prefix).
func answerXML(answer, container, inner string) string {
	return `<lg:` + answer + ` xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:` + container + `>` +
		`<lg:school><lg:schooljaar>2025-2026</lg:schooljaar><lg:brincode>12AB</lg:brincode><lg:dependancecode>00</lg:dependancecode></lg:school>` +
		inner + `</lg:` + container + `></lg:` + answer + `>`
}

func whole(inner string) string {
	return answerXML("leerlinggegevens_antwoord", "leerlinggegevens", inner)
}

func groepXML(key string) string {
	return `<lg:groep key="` + key + `"><lg:naam>` + key + `</lg:naam><lg:jaargroep>4</lg:jaargroep></lg:groep>`
}

func sgroepXML(key string) string {
	return `<lg:samengestelde_groep key="` + key + `"><lg:naam>` + key + `</lg:naam></lg:samengestelde_groep>`
}

// leerlingXML renders a leerling; attrs are raw attributes, refs raw child elements.
func leerlingXML(attrs, achternaam, refs string) string {
	return `<lg:leerling ` + attrs + `><lg:achternaam>` + achternaam + `</lg:achternaam><lg:roepnaam>Kim</lg:roepnaam>` +
		`<lg:geboortedatum>2016-03-01</lg:geboortedatum>` + refs + `</lg:leerling>`
}

func leerkrachtXML(attrs, refs string) string {
	return `<lg:leerkracht ` + attrs + `><lg:achternaam>Meester</lg:achternaam>` + refs + `</lg:leerkracht>`
}

func eck(n int) string { return fmt.Sprintf("https://ketenid.nl/201703/%0128x", n) }

// checked is what a sync keeps of an answer after the Checker: the usable
// records, with the dangling links dropped after Finish.
type checked struct {
	pupils   []gateway.Pupil
	teachers []gateway.Teacher
	groups   []string
	comps    []string
	warnings []string
	dropped  int
	dangling int
}

func check(t *testing.T, doc string) checked {
	t.Helper()
	c := mapping.NewChecker(school)
	var out checked
	_, err := soap.ReadLeerlinggegevens(strings.NewReader(doc), soap.Handler{
		Answer:    func(k soap.AnswerKind) error { c.Begin(k); return nil },
		School:    func(s *uwlr.School) error { c.School(s); return nil },
		Vestiging: func(v *uwlr.Vestiging) error { c.Vestiging(v); return nil },
		Groep: func(g *uwlr.Groep) error {
			if gr, ok := c.Group(g); ok {
				out.groups = append(out.groups, gr.Key)
			}
			return nil
		},
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error {
			if cg, ok := c.CompositeGroup(g); ok {
				out.comps = append(out.comps, cg.Key)
			}
			return nil
		},
		Leerling: func(l *uwlr.Leerling) error {
			if p, _, ok := c.Pupil(l); ok {
				out.pupils = append(out.pupils, p)
			}
			return nil
		},
		Leerkracht: func(l *uwlr.Leerkracht) error {
			if te, _, ok := c.Teacher(l); ok {
				out.teachers = append(out.teachers, te)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("ReadLeerlinggegevens: %v", err)
	}
	d := c.Finish()
	for i := range out.pupils {
		d.Pupil(&out.pupils[i])
	}
	for i := range out.teachers {
		d.Teacher(&out.teachers[i])
	}
	out.warnings, out.dropped, out.dangling = mapping.Strings(c.Warnings()), c.Dropped(), d.Count()
	return out
}

func TestCheckerRecordRules(t *testing.T) {
	tests := []struct {
		name   string
		inner  string
		want   []string
		pupils []string // LAS keys of the pupils kept ("" for one without key)
	}{
		{"clean", `<lg:groepen>` + groepXML("G1") + `</lg:groepen><lg:leerlingen>` + leerlingXML(`key="P1"`, "A", `<lg:groep key="G1"/>`) + `</lg:leerlingen>`,
			nil, []string{"P1"}},
		{"pupil without names",
			`<lg:leerlingen><lg:leerling key="P9"><lg:geboortedatum>2016-01-01</lg:geboortedatum></lg:leerling></lg:leerlingen>`,
			[]string{"leerling P9: has neither achternaam nor roepnaam"}, []string{"P9"}},
		{"pupil without identity",
			`<lg:leerlingen>` + leerlingXML(`key="P1"`, "A", "") + `<lg:leerling><lg:achternaam>X</lg:achternaam></lg:leerling></lg:leerlingen>`,
			[]string{"leerling #2: has neither key nor eckid"}, []string{"P1"}},
		{"pupil key twice",
			`<lg:leerlingen>` + leerlingXML(`key="P1"`, "A", "") + leerlingXML(`key="P1"`, "B", "") + `</lg:leerlingen>`,
			[]string{"leerling P1: @key: used by an earlier leerling in this answer"}, []string{"P1", "P1"}},
		{"pupil ECK iD twice",
			`<lg:leerlingen>` + leerlingXML(`key="P1" eckid="`+eck(1)+`"`, "A", "") + leerlingXML(`key="P2" eckid="`+eck(1)+`"`, "B", "") +
				leerlingXML(`eckid="`+eck(2)+`"`, "C", "") + leerlingXML(`eckid="`+eck(3)+`"`, "D", "") + `</lg:leerlingen>`,
			[]string{"leerling P2: @eckid: same as an earlier leerling in this answer; skipped"}, []string{"P1", "", ""}},
		{"empty group references",
			`<lg:leerlingen>` + leerlingXML(`key="P1"`, "A", `<lg:groep key=""/><lg:vestiging key=""/>`) + `</lg:leerlingen>`,
			[]string{"leerling P1: groep: reference without key; dropped", "leerling P1: vestiging: reference without key"}, []string{"P1"}},
		{"group without naam and jaargroep",
			`<lg:groepen><lg:groep key="G2"/></lg:groepen><lg:leerlingen/>`,
			[]string{"groep G2: naam: missing", "groep G2: jaargroep: missing"}, nil},
		{"group key twice, across the kinds",
			`<lg:groepen>` + groepXML("G1") + sgroepXML("G1") + groepXML("G1") + `</lg:groepen><lg:leerlingen/>`,
			[]string{"samengestelde_groep G1: @key: used by an earlier group in this answer; skipped",
				"groep G1: @key: used by an earlier group in this answer; skipped"}, nil},
		{"groups without key",
			`<lg:groepen>` + groepXML("G1") + `<lg:groep><lg:naam>X</lg:naam><lg:jaargroep>1</lg:jaargroep></lg:groep>` +
				`<lg:samengestelde_groep><lg:naam>Y</lg:naam></lg:samengestelde_groep><lg:samengestelde_groep key="S1"/></lg:groepen><lg:leerlingen/>`,
			[]string{"groep #2: @key: missing", "samengestelde_groep #1: @key: missing", "samengestelde_groep S1: naam: missing"}, nil},
		{"vestigingen",
			`<lg:vestigingen><lg:vestiging><lg:naam>A</lg:naam></lg:vestiging><lg:vestiging key="V1"/><lg:vestiging key="V1"><lg:naam>B</lg:naam></lg:vestiging></lg:vestigingen><lg:leerlingen/>`,
			[]string{"vestiging #1: @key: missing", "vestiging V1: naam: missing", "vestiging V1: @key: used by an earlier vestiging in this answer; skipped"}, nil},
		{"teachers",
			`<lg:leerlingen/><lg:leerkrachten>` + `<lg:leerkracht><lg:achternaam>M</lg:achternaam></lg:leerkracht>` +
				leerkrachtXML(`eckid="`+eck(7)+`"`, "") + leerkrachtXML(`key="T1" eckid="`+eck(8)+`"`, "") +
				leerkrachtXML(`key="T1"`, "") + leerkrachtXML(`key="T2" eckid="`+eck(8)+`"`, "") + `</lg:leerkrachten>`,
			[]string{"leerkracht #1: has neither key nor eckid",
				"leerkracht #2: @key: missing (a leerkracht is kept by its key); skipped",
				"leerkracht T1: @key: used by an earlier leerkracht in this answer; skipped",
				"leerkracht T2: @eckid: same as an earlier leerkracht in this answer"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, whole(tt.inner))
			if !slices.Equal(got.warnings, tt.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got.warnings, tt.want)
			}
			var keys []string
			for _, p := range got.pupils {
				keys = append(keys, p.LASKey)
			}
			if !slices.Equal(keys, tt.pupils) {
				t.Errorf("pupils kept %q, want %q", keys, tt.pupils)
			}
		})
	}

	bad := `<lg:leerlinggegevens_antwoord xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:leerlinggegevens>` +
		`<lg:school><lg:schooljaar>2025-2026</lg:schooljaar><lg:brincode>12ab</lg:brincode></lg:school><lg:leerlingen/></lg:leerlinggegevens></lg:leerlinggegevens_antwoord>`
	if got := check(t, bad); !slices.Equal(got.warnings, []string{"school: brincode: not two digits and two upper-case letters; left empty"}) {
		t.Errorf("bad school: warnings %q", got.warnings)
	}
}

func TestCheckerReferences(t *testing.T) {
	const secretName = "Geheimnaam"
	inner := `<lg:groepen>` + groepXML("G1") + sgroepXML("S1") + `</lg:groepen><lg:leerlingen>` +
		leerlingXML(`key="P1" eckid="`+eck(1)+`"`, secretName,
			`<lg:groep key="G404"/><lg:samengestelde_groepen><lg:samengestelde_groep key="S1"/><lg:samengestelde_groep key="S404"/></lg:samengestelde_groepen><lg:vestiging key="V404"/>`) +
		leerlingXML(`key="P2"`, "Jansen", `<lg:groep key="G1"/>`) +
		leerlingXML(`eckid="`+eck(2)+`"`, secretName, `<lg:groep key="S1"/><lg:samengestelde_groepen><lg:samengestelde_groep key="G1"/></lg:samengestelde_groepen>`) +
		`</lg:leerlingen><lg:leerkrachten>` +
		leerkrachtXML(`key="T1"`, `<lg:groepen><lg:groep key="G1"/><lg:groep key="S1"/><lg:samengestelde_groep key="S405"/></lg:groepen>`) +
		`</lg:leerkrachten>`
	got := check(t, whole(inner))
	want := []string{
		// Found when the record is read: the key is a group of the other kind.
		`leerling #3: groep: "S1" refers to a group of the other kind; dropped`,
		`leerling #3: samengestelde_groep: "G1" refers to a group of the other kind; dropped`,
		`leerkracht T1: groep: "S1" refers to a group of the other kind; dropped`,
		// Found at Finish: the key might still have come.
		`leerling P1: groep: "G404" is not defined in this message; dropped`,
		`leerling P1: samengestelde_groep: "S404" is not defined in this message; dropped`,
		`leerling P1: vestiging: "V404" is not defined in this message`,
		`leerkracht T1: samengestelde_groep: "S405" is not defined in this message; dropped`,
	}
	if !slices.Equal(got.warnings, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got.warnings, want)
	}
	if got.dangling != 3 {
		t.Errorf("Dangling.Count = %d, want 3 (G404, S404, S405; the vestiging is not kept)", got.dangling)
	}
	wantPupils := []gateway.Pupil{
		{School: school, LASKey: "P1", LastName: secretName, FirstName: "Kim", BirthDate: "2016-03-01", CompositeGroupKeys: []string{"S1"}},
		{School: school, LASKey: "P2", LastName: "Jansen", FirstName: "Kim", BirthDate: "2016-03-01", GroupKey: "G1"},
		{School: school, LastName: secretName, FirstName: "Kim", BirthDate: "2016-03-01"},
	}
	if !reflect.DeepEqual(got.pupils, wantPupils) {
		t.Errorf("pupils:\n got %+v\nwant %+v", got.pupils, wantPupils)
	}
	wantTeachers := []gateway.Teacher{{School: school, Key: "T1", LastName: "Meester", GroupKeys: []string{"G1"}}}
	if !reflect.DeepEqual(got.teachers, wantTeachers) {
		t.Errorf("teachers:\n got %+v\nwant %+v", got.teachers, wantTeachers)
	}
	for _, w := range got.warnings {
		if strings.Contains(w, secretName) || strings.Contains(w, "ketenid") || strings.Contains(w, "Kim") || strings.Contains(w, "2016") {
			t.Errorf("warning %q leaks a name, birth date or ECK iD", w)
		}
	}
}

// Vendors send the lists in any order: a reference to a group defined later
// in the message is not dangling, and the record keeps the link.
func TestCheckerGroupsAfterPupils(t *testing.T) {
	inner := `<lg:leerlingen>` +
		leerlingXML(`key="P1"`, "A", `<lg:groep key="G1"/><lg:samengestelde_groepen><lg:samengestelde_groep key="S1"/></lg:samengestelde_groepen><lg:vestiging key="V1"/>`) +
		leerlingXML(`key="P2"`, "B", `<lg:groep key="S1"/>`) +
		`</lg:leerlingen><lg:leerkrachten>` + leerkrachtXML(`key="T1"`, `<lg:groepen><lg:groep key="G1"/><lg:samengestelde_groep key="S1"/></lg:groepen>`) +
		`</lg:leerkrachten><lg:groepen>` + sgroepXML("S1") + groepXML("G1") + `</lg:groepen>` +
		`<lg:vestigingen><lg:vestiging key="V1"><lg:naam>Hoofd</lg:naam></lg:vestiging></lg:vestigingen>`
	got := check(t, whole(inner))
	want := []string{`leerling P2: groep: "S1" refers to a group of the other kind; dropped`}
	if !slices.Equal(got.warnings, want) {
		t.Errorf("warnings:\n got %q\nwant %q", got.warnings, want)
	}
	if p := got.pupils[0]; p.GroupKey != "G1" || !slices.Equal(p.CompositeGroupKeys, []string{"S1"}) {
		t.Errorf("P1 lost a link to a group defined later: %+v", p)
	}
	if p := got.pupils[1]; p.GroupKey != "" {
		t.Errorf("P2 keeps its link to a composite group as its home group: %+v", p)
	}
	if te := got.teachers[0]; !slices.Equal(te.GroupKeys, []string{"G1"}) || !slices.Equal(te.CompositeGroupKeys, []string{"S1"}) {
		t.Errorf("T1 lost a link to a group defined later: %+v", te)
	}
	if got.dangling != 1 {
		t.Errorf("Dangling.Count = %d, want 1", got.dangling)
	}
}

func TestCheckerStepwiseDoesNotCheckGroups(t *testing.T) {
	for _, doc := range []string{
		answerXML("leerlingen_antwoord", "leerlinggegevens-leerlingen", `<lg:leerlingen>`+
			leerlingXML(`key="P1"`, "A", `<lg:groep key="G1"/><lg:samengestelde_groepen><lg:samengestelde_groep key="S1"/></lg:samengestelde_groepen>`)+`</lg:leerlingen>`),
		answerXML("leerkrachten_antwoord", "leerlinggegevens-leerkrachten", `<lg:leerkrachten>`+
			leerkrachtXML(`key="T1"`, `<lg:groepen><lg:groep key="G1"/></lg:groepen>`)+`</lg:leerkrachten>`),
	} {
		got := check(t, doc)
		if len(got.warnings) != 0 || got.dangling != 0 {
			t.Errorf("warnings %q, %d dangling: groups of a stepwise answer come from an earlier call", got.warnings, got.dangling)
		}
		if len(got.pupils) == 1 && got.pupils[0].GroupKey != "G1" || len(got.teachers) == 1 && len(got.teachers[0].GroupKeys) != 1 {
			t.Errorf("links dropped: %+v %+v", got.pupils, got.teachers)
		}
	}
}

// More problems than soap.MaxWarnings: the first are kept, the rest counted,
// and every dangling link is still dropped.
func TestCheckerWarningsAreCapped(t *testing.T) {
	const n = 1500
	var b strings.Builder
	b.WriteString(`<lg:groepen>` + sgroepXML("S1") + `<lg:groep key="G9"/></lg:groepen><lg:leerlingen>`)
	for i := range n {
		b.WriteString(leerlingXML(fmt.Sprintf(`key="P%d"`, i), "A", fmt.Sprintf(`<lg:groep key="MISSING%d"/><lg:samengestelde_groepen><lg:samengestelde_groep key="S1"/></lg:samengestelde_groepen>`, i)))
	}
	b.WriteString(`</lg:leerlingen>`)
	got := check(t, whole(b.String()))
	if len(got.warnings) != soap.MaxWarnings || got.dropped != n+2-soap.MaxWarnings {
		t.Errorf("warnings kept %d, dropped %d; want %d and %d", len(got.warnings), got.dropped, soap.MaxWarnings, n+2-soap.MaxWarnings)
	}
	if got.warnings[0] != "groep G9: naam: missing" || got.warnings[2] != `leerling P0: groep: "MISSING0" is not defined in this message; dropped` {
		t.Errorf("first warnings = %q, want the group's, then the first pupil's", got.warnings[:3])
	}
	if got.dangling != n {
		t.Errorf("Dangling.Count = %d, want %d", got.dangling, n)
	}
	for _, p := range got.pupils {
		if p.GroupKey != "" || !slices.Equal(p.CompositeGroupKeys, []string{"S1"}) {
			t.Fatalf("pupil %s: links %q %q after Finish; want only S1", p.LASKey, p.GroupKey, p.CompositeGroupKeys)
		}
	}
}

// Thousands of pupils refer to groups that come after them; one deep in the
// list refers to a group that never comes. Its warning names it: waiting
// references are held per group key, a few owners each.
func TestCheckerNamesADanglingReferenceAfterManyForwardOnes(t *testing.T) {
	const n = 5000
	var b strings.Builder
	b.WriteString(`<lg:leerlingen>`)
	for i := range n {
		g := fmt.Sprintf("G%d", i%30)
		if i == 4321 {
			g = "G404"
		}
		b.WriteString(leerlingXML(fmt.Sprintf(`key="P%d"`, i), "A", `<lg:groep key="`+g+`"/>`))
	}
	b.WriteString(`</lg:leerlingen><lg:groepen>`)
	for i := range 30 {
		b.WriteString(groepXML(fmt.Sprintf("G%d", i)))
	}
	b.WriteString(`</lg:groepen>`)
	got := check(t, whole(b.String()))
	want := []string{`leerling P4321: groep: "G404" is not defined in this message; dropped`}
	if !slices.Equal(got.warnings, want) || got.dropped != 0 || got.dangling != 1 {
		t.Errorf("warnings %q (dropped %d, dangling %d), want %q", got.warnings, got.dropped, got.dangling, want)
	}
	for _, p := range got.pupils {
		if (p.GroupKey == "") != (p.LASKey == "P4321") {
			t.Fatalf("pupil %s has home group %q", p.LASKey, p.GroupKey)
		}
	}
}

// CheckAnswer checks every record and still hands each to the next handler.
func TestCheckAnswer(t *testing.T) {
	inner := `<lg:groepen><lg:groep key="G1"/></lg:groepen><lg:leerlingen>` + leerlingXML(`key="P1"`, "A", `<lg:groep key="G9"/>`) +
		leerlingXML(`key="P2"`, "", "") + `</lg:leerlingen>`
	var pupils []string
	var kind soap.AnswerKind
	h, finish := mapping.CheckAnswer(soap.Handler{
		Answer:   func(k soap.AnswerKind) error { kind = k; return nil },
		Leerling: func(l *uwlr.Leerling) error { pupils = append(pupils, l.Key); return nil },
	})
	sum, err := soap.ReadLeerlinggegevens(strings.NewReader(whole(inner)), h)
	if err != nil {
		t.Fatal(err)
	}
	ws, dropped := finish()
	want := []string{"groep G1: naam: missing", "groep G1: jaargroep: missing",
		`leerling P1: groep: "G9" is not defined in this message; dropped`}
	if !slices.Equal(ws, want) || dropped != 0 {
		t.Errorf("warnings %q (dropped %d), want %q", ws, dropped, want)
	}
	if !slices.Equal(pupils, []string{"P1", "P2"}) || kind != soap.AnswerLeerlinggegevens || sum.Leerlingen != 2 {
		t.Errorf("next handler saw pupils %q, answer %q; summary %+v", pupils, kind, sum)
	}
}
