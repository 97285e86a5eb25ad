package uwlr_test

// Reading is lenient: answers that real LASes send, valid or not, parse into
// the expected values whatever the prefix, the order of the children, unknown
// elements, empty optional elements or a school year the XSD does not list.

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// lenientWant is the value every variant of the base answer parses into.
func lenientWant() *uwlr.LeerlinggegevensAntwoord {
	return &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
		School: uwlr.School{Schooljaar: "2024-2025", Brincode: "12AB", Dependancecode: "00", Xsdversie: "2.2"},
		Groepen: &uwlr.Groepen{
			Groep:              []uwlr.Groep{{Key: "G1", Naam: "Groep 1", Jaargroep: "1"}, {Key: "G2", Naam: "Groep 2", Jaargroep: "2"}},
			SamengesteldeGroep: []uwlr.SamengesteldeGroep{{Key: "S1", Naam: "Sport", Omschrijving: "Gym"}},
		},
		Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{
			Key: "L1", Eckid: "E1", Achternaam: "Jansen", Voorvoegsel: "de", Roepnaam: "Piet",
			Geboortedatum: "2015-03-04", Groep: &uwlr.Ref{Key: "G1"},
			SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "S1"}}},
		}}},
		Leerkrachten: &uwlr.Leerkrachten{Leerkracht: []uwlr.Leerkracht{{
			Key: "T1", Achternaam: "Bakker", Rol: []string{"LRK"},
			Groepen: &uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: "G1", Rol: []string{"LRK"}}}},
		}}},
	}}
}

// lenientBase is the base answer, schema order, with P: standing for the
// prefix (replaced by "x:" or by nothing).
const lenientBase = `<P:leerlinggegevens_antwoord DECL><P:leerlinggegevens>` +
	`<P:school><P:schooljaar>2024-2025</P:schooljaar><P:brincode>12AB</P:brincode><P:dependancecode>00</P:dependancecode><P:xsdversie>2.2</P:xsdversie></P:school>` +
	`<P:groepen><P:groep key="G1"><P:naam>Groep 1</P:naam><P:jaargroep>1</P:jaargroep></P:groep>` +
	`<P:samengestelde_groep key="S1"><P:naam>Sport</P:naam><P:omschrijving>Gym</P:omschrijving></P:samengestelde_groep>` +
	`<P:groep key="G2"><P:naam>Groep 2</P:naam><P:jaargroep>2</P:jaargroep></P:groep></P:groepen>` +
	`<P:leerlingen><P:leerling key="L1" eckid="E1"><P:achternaam>Jansen</P:achternaam><P:voorvoegsel>de</P:voorvoegsel><P:roepnaam>Piet</P:roepnaam>` +
	`<P:geboortedatum>2015-03-04</P:geboortedatum><P:groep key="G1"/><P:samengestelde_groepen><P:samengestelde_groep key="S1"/></P:samengestelde_groepen></P:leerling></P:leerlingen>` +
	`<P:leerkrachten><P:leerkracht key="T1"><P:achternaam>Bakker</P:achternaam><P:rol>LRK</P:rol><P:groepen><P:groep key="G1"><P:rol>LRK</P:rol></P:groep></P:groepen></P:leerkracht></P:leerkrachten>` +
	`</P:leerlinggegevens></P:leerlinggegevens_antwoord>`

func withPrefix(doc, prefix string) string {
	if prefix == "" {
		doc = strings.ReplaceAll(doc, "P:", "")
		return strings.Replace(doc, "DECL", `xmlns="`+uwlr.NSLeerlinggegevens+`"`, 1)
	}
	doc = strings.ReplaceAll(doc, "P:", prefix+":")
	return strings.Replace(doc, "DECL", `xmlns:`+prefix+`="`+uwlr.NSLeerlinggegevens+`"`, 1)
}

func TestLenientReading(t *testing.T) {
	ns := uwlr.NSLeerlinggegevens
	tests := []struct {
		name string
		doc  string
		want func() *uwlr.LeerlinggegevensAntwoord
		// marks must appear in doc: a guard against a variant that silently
		// equals the base because a replacement did not match.
		marks []string
	}{
		{name: "prefix x", doc: withPrefix(lenientBase, "x"), want: lenientWant},
		{name: "prefix le", doc: withPrefix(lenientBase, "le"), want: lenientWant},
		{name: "default namespace, no prefix", doc: withPrefix(lenientBase, ""), want: lenientWant},
		{
			name:  "default namespace, indented",
			doc:   strings.NewReplacer("><", ">\n  <").Replace(withPrefix(lenientBase, "")),
			want:  lenientWant,
			marks: []string{"\n  <leerlingen>"},
		},
		{
			name: "children in reverse order at every level",
			doc: `<x:leerlinggegevens_antwoord xmlns:x="` + ns + `"><x:leerlinggegevens>` +
				`<x:leerkrachten><x:leerkracht key="T1"><x:groepen><x:groep key="G1"><x:rol>LRK</x:rol></x:groep></x:groepen><x:rol>LRK</x:rol><x:achternaam>Bakker</x:achternaam></x:leerkracht></x:leerkrachten>` +
				`<x:leerlingen><x:leerling eckid="E1" key="L1"><x:samengestelde_groepen><x:samengestelde_groep key="S1"/></x:samengestelde_groepen><x:groep key="G1"/>` +
				`<x:geboortedatum>2015-03-04</x:geboortedatum><x:roepnaam>Piet</x:roepnaam><x:voorvoegsel>de</x:voorvoegsel><x:achternaam>Jansen</x:achternaam></x:leerling></x:leerlingen>` +
				`<x:groepen><x:groep key="G1"><x:jaargroep>1</x:jaargroep><x:naam>Groep 1</x:naam></x:groep>` +
				`<x:samengestelde_groep key="S1"><x:omschrijving>Gym</x:omschrijving><x:naam>Sport</x:naam></x:samengestelde_groep>` +
				`<x:groep key="G2"><x:jaargroep>2</x:jaargroep><x:naam>Groep 2</x:naam></x:groep></x:groepen>` +
				`<x:school><x:xsdversie>2.2</x:xsdversie><x:dependancecode>00</x:dependancecode><x:brincode>12AB</x:brincode><x:schooljaar>2024-2025</x:schooljaar></x:school>` +
				`</x:leerlinggegevens></x:leerlinggegevens_antwoord>`,
			want: lenientWant,
		},
		{
			name: "unknown elements and attributes",
			doc: strings.NewReplacer(
				`<x:leerlinggegevens>`, `<x:leerlinggegevens><x:toekomstig versie="3"><x:naam>genegeerd</x:naam></x:toekomstig>`,
				`</x:school>`, `<x:toevoegingen><x:blok><x:code>K</x:code></x:blok></x:toevoegingen><toekomstig/></x:school>`,
				`<x:roepnaam>Piet</x:roepnaam>`, `<x:roepnaam>Piet</x:roepnaam><y:toekomstig xmlns:y="urn:elders">nieuw<y:diep/></y:toekomstig>`,
				`<x:leerling key="L1"`, `<x:leerling nieuw="ja" key="L1"`,
				`</x:leerlingen>`, `</x:leerlingen><x:toekomstig/>`,
			).Replace(withPrefix(lenientBase, "x")),
			want:  lenientWant,
			marks: []string{"<x:toekomstig versie", "<toekomstig/></x:school>", "<y:diep/>", `nieuw="ja"`, "</x:leerlingen><x:toekomstig/>"},
		},
		{
			name: "empty voorvoegsel",
			doc:  strings.Replace(withPrefix(lenientBase, "le"), `<le:voorvoegsel>de</le:voorvoegsel>`, `<le:voorvoegsel></le:voorvoegsel>`, 1),
			want: func() *uwlr.LeerlinggegevensAntwoord {
				w := lenientWant()
				w.Leerlinggegevens.Leerlingen.Leerling[0].Voorvoegsel = ""
				return w
			},
			marks: []string{"<le:voorvoegsel></le:voorvoegsel>"},
		},
		{
			name: "self-closed voorvoegsel",
			doc:  strings.Replace(withPrefix(lenientBase, ""), `<voorvoegsel>de</voorvoegsel>`, `<voorvoegsel/>`, 1),
			want: func() *uwlr.LeerlinggegevensAntwoord {
				w := lenientWant()
				w.Leerlinggegevens.Leerlingen.Leerling[0].Voorvoegsel = ""
				return w
			},
			marks: []string{"<voorvoegsel/>"},
		},
		{
			name: "schooljaar 2031-2032",
			doc:  strings.Replace(withPrefix(lenientBase, "x"), `2024-2025`, `2031-2032`, 1),
			want: func() *uwlr.LeerlinggegevensAntwoord {
				w := lenientWant()
				w.Leerlinggegevens.School.Schooljaar = "2031-2032"
				return w
			},
			marks: []string{"<x:schooljaar>2031-2032</x:schooljaar>"},
		},
		{
			name: "leerling with eckid and no key",
			doc:  strings.Replace(withPrefix(lenientBase, "x"), `<x:leerling key="L1" eckid="E1">`, `<x:leerling eckid="https://ketenid.nl/201703/abc">`, 1),
			want: func() *uwlr.LeerlinggegevensAntwoord {
				w := lenientWant()
				w.Leerlinggegevens.Leerlingen.Leerling[0].Key = ""
				w.Leerlinggegevens.Leerlingen.Leerling[0].Eckid = "https://ketenid.nl/201703/abc"
				return w
			},
			marks: []string{`<x:leerling eckid="https://ketenid.nl/201703/abc">`},
		},
		{
			name: "geenwijzigingen with prefix",
			doc:  `<x:leerlinggegevens_antwoord xmlns:x="` + ns + `"><x:geenwijzigingen/></x:leerlinggegevens_antwoord>`,
			want: func() *uwlr.LeerlinggegevensAntwoord {
				return &uwlr.LeerlinggegevensAntwoord{Geenwijzigingen: &uwlr.Leeg{}}
			},
		},
		{
			name: "geengegevens without prefix",
			doc:  `<leerlinggegevens_antwoord xmlns="` + ns + `"><geengegevens></geengegevens></leerlinggegevens_antwoord>`,
			want: func() *uwlr.LeerlinggegevensAntwoord {
				return &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range tc.marks {
				if !strings.Contains(tc.doc, m) {
					t.Fatalf("test document lacks %q:\n%s", m, tc.doc)
				}
			}
			var got uwlr.LeerlinggegevensAntwoord
			if err := xml.Unmarshal([]byte(tc.doc), &got); err != nil {
				t.Fatalf("unmarshal: %v\n%s", err, tc.doc)
			}
			if want := (xml.Name{Space: ns, Local: "leerlinggegevens_antwoord"}); got.XMLName != want {
				t.Errorf("XMLName = %v, want %v", got.XMLName, want)
			}
			got.XMLName = xml.Name{}
			assertDeepEqual(t, &got, tc.want())
		})
	}
}
