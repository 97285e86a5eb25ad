package uwlr_test

// Negative controls: messages the wire types can be made to emit but the XSDs
// reject. They prove that the validator in these tests bites (a broken
// validate helper would otherwise pass everything), and they pin the rules
// that callers, not the wire types, must enforce.

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

func TestXSDNegativeControls(t *testing.T) {
	llNS := xml.Name{Space: uwlr.NSLeerlinggegevens}
	lrName := xml.Name{Space: uwlr.NSLeerresultaten, Local: uwlr.OpBrengLeerresultaten.Request}
	named := func(n xml.Name, local string) xml.Name { n.Local = local; return n }

	// body marshals msg and returns its body element as a standalone document.
	body := func(t *testing.T, msg any, name xml.Name) []byte {
		_, b := marshal(t, nil, msg, name)
		return b.Doc
	}

	tests := []struct {
		name string
		xsd  string
		doc  func(t *testing.T) []byte
		want string // in xmllint's complaint
	}{
		{
			name: "request with both brincode and schoolkey",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				b := basisBrinDependance()
				b.Schoolkey = "school-1"
				return body(t, &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: b}, named(llNS, "leerlinggegevens_verzoek"))
			},
			want: "}schoolkey': This element is not expected",
		},
		{
			name: "request with dependancecode 1",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				b := basisBrinDependance()
				b.Dependancecode = "1"
				return body(t, &uwlr.StructuurVerzoek{VerzoekBasis: b}, named(llNS, "structuur_verzoek"))
			},
			want: "}dependancecode': [facet 'pattern'] The value '1'",
		},
		{
			name: "request with schooljaar 2025/2026",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				b := basisBrinOnly()
				b.Schooljaar = "2025/2026"
				return body(t, &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: b}, named(llNS, "leerlinggegevens_verzoek"))
			},
			want: "}schooljaar': [facet 'pattern']",
		},
		{
			name: "leerlingen request with an empty group selection",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				return body(t, &uwlr.LeerlingenVerzoek{VerzoekBasis: basisBrinOnly()}, named(llNS, "leerlingen_verzoek"))
			},
			want: "}groepen': Missing child element(s)",
		},
		{
			name: "autorisatiesleutel of 88 characters (Somtoday's length)",
			xsd:  xsdAutorisatie,
			doc: func(t *testing.T) []byte {
				auth := *testAuth
				auth.Autorisatiesleutel = strings.Repeat("k", 88)
				h, _ := marshal(t, &auth, &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: basisBrinOnly()}, named(llNS, "leerlinggegevens_verzoek"))
				return h.Doc
			},
			want: "}autorisatiesleutel': [facet 'maxLength']",
		},
		{
			name: "answer with schooljaar 2025-2026 (after the EDEXML enumeration)",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				s := antwoordSchool()
				s.Schooljaar = "2025-2026"
				return body(t, &uwlr.StructuurAntwoord{Structuur: &uwlr.LeerlinggegevensStructuur{School: s}}, named(llNS, "structuur_antwoord"))
			},
			want: "}schooljaar': [facet 'enumeration'] The value '2025-2026'",
		},
		{
			name: "answer with a pupil without key (UWLR 2.3 eckid-only)",
			xsd:  xsdLeerlinggegevens,
			doc: func(t *testing.T) []byte {
				return body(t, &uwlr.LeerlingenAntwoord{Leerlingen: &uwlr.LeerlinggegevensLeerlingen{
					School:     antwoordSchool(),
					Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Eckid: "https://ketenid.nl/201703/abc", Roepnaam: "Sam"}}},
				}}, named(llNS, "leerlingen_antwoord"))
			},
			want: "The attribute 'key' is required but missing",
		},
		{
			name: "vendor sample as received (school children out of order)",
			xsd:  xsdLeerlinggegevens,
			doc:  func(t *testing.T) []byte { return sampleBody(t).Doc },
			want: "}dependancecode': This element is not expected. Expected is ( {" + uwlr.NSLeerlinggegevens + "}schooljaar )",
		},
		{
			name: "vendor sample with an empty voorvoegsel",
			xsd:  xsdLeerlinggegevens,
			doc:  func(t *testing.T) []byte { return sampleBody(t).Doc },
			want: "}voorvoegsel': [facet 'minLength'] The value has a length of '0'",
		},
		{
			name: "results with a toetscode not in toetsen",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := scoreVerzoek()
				m.Toetsen.Toets = m.Toetsen.Toets[:1] // drops SPEL-M4, still used by L2
				return body(t, m, lrName)
			},
			want: "krAfnameToets",
		},
		{
			name: "results with a duplicate resultaat key",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := scoreVerzoek()
				m.Toetsafnames.Toetsafname[1].Resultaten[0].Key = m.Toetsafnames.Toetsafname[0].Resultaten[0].Key
				return body(t, m, lrName)
			},
			want: "kResultaat",
		},
		{
			name: "resultaat with neither score nor osoresultaat",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := scoreVerzoek()
				m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = ""
				return body(t, m, lrName)
			},
			want: "}resultaat': Missing child element(s)",
		},
		{
			// A decimal score is what a decimal receiver profile (RTTI, docs/UWLR-SPEC.md
			// §2.4) takes; the standard schema does not.
			name: "decimal score",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := scoreVerzoek()
				m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "6.5"
				return body(t, m, lrName)
			},
			want: "}score': '6.5' is not a valid value of the atomic type",
		},
		{
			name: "OSO decimal with a decimal comma",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := osoVerzoek()
				m.Toetsafnames.Toetsafname[0].Resultaten[0].Osoresultaat.Toetsscore.Vaardigheidsscore = "187,25"
				return body(t, m, lrName)
			},
			want: "}vaardigheidsscore': '187,25' is not a valid value of the atomic type 'xs:decimal'",
		},
		{
			name: "OSO elements moved out of the OSO namespace",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				d := body(t, osoVerzoek(), lrName)
				d = bytes.ReplaceAll(d, []byte(` xmlns="`+uwlr.NSOSO+`"`), nil)
				if bytes.Contains(d, []byte(uwlr.NSOSO)) {
					t.Fatal("OSO namespace still present")
				}
				return d
			},
			want: "{" + uwlr.NSLeerresultaten + "}toetsscore': This element is not expected",
		},
		{
			name: "schoolcijfer above 10",
			xsd:  xsdLeerresultaten,
			doc: func(t *testing.T) []byte {
				m := toetsdefinitieVerzoek()
				m.Toetsen.Toets[0].Toetsnormering.Norm[0].SchoolcijferTotenmet = "10.5"
				return body(t, m, lrName)
			},
			want: "}schoolcijfer_totenmet': [facet 'maxInclusive']",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mustNotValidate(t, tc.xsd, tc.doc(t), tc.want)
		})
	}
}

// TestXSDLeerlinggegevensKeysAreInert pins an XSD surprise: the xs:key, xs:unique
// and xs:keyref constraints of UWLR_Leerlinggegevens_v2p2.xsd use unprefixed
// XPaths (e.g. "leerlingen/leerling/groep"). In XSD 1.0 an unprefixed name in a
// selector means "no namespace", but every element is in the target namespace
// (elementFormDefault="qualified"), so the selectors match nothing and the
// constraints never fire. Duplicate keys, duplicate ECK iDs and references to
// undeclared groups, composite groups and branches all validate. The
// leerresultaten schema prefixes its XPaths with lr: and does enforce its keys
// (see the krAfnameToets and kResultaat controls above).
//
// So schema validity proves nothing about referential integrity of
// leerlinggegevens: the reader must check it itself. If this test fails, the
// schemas were fixed; move these cases to TestXSDNegativeControls.
func TestXSDLeerlinggegevensKeysAreInert(t *testing.T) {
	dup := uwlr.Leerling{Key: "L1", Eckid: "https://ketenid.nl/201703/dup", Roepnaam: "Sam"}
	dangling := dup
	dangling.Groep = &uwlr.Ref{Key: "G-undeclared"}
	dangling.SamengesteldeGroepen = &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "S-undeclared"}}}
	dangling.Vestiging = &uwlr.Ref{Key: "V-undeclared"}
	msg := &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
		School: antwoordSchool(),
		Groepen: &uwlr.Groepen{
			Groep:              []uwlr.Groep{{Key: "X", Naam: "X", Jaargroep: "1"}},
			SamengesteldeGroep: []uwlr.SamengesteldeGroep{{Key: "X", Naam: "X"}}, // same key as a groep: groepKeyUnique
		},
		Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{dup, dangling}},
		Leerkrachten: &uwlr.Leerkrachten{Leerkracht: []uwlr.Leerkracht{
			{Key: "T1", Roepnaam: "A", Groepen: &uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: "G-undeclared"}}}},
			{Key: "T1", Roepnaam: "B"},
		}},
	}}
	_, b := marshal(t, nil, msg, xml.Name{Space: uwlr.NSLeerlinggegevens, Local: "leerlinggegevens_antwoord"})
	if ok, out := lint(t, xsdLeerlinggegevens, b.Doc); !ok {
		t.Fatalf("the leerlinggegevens identity constraints now fire; move these cases to the negative controls:\n%s", out)
	}
}
