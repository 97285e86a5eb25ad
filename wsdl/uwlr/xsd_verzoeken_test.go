package uwlr_test

// Every leerlinggegevens request we emit, wrapped in the envelope we send,
// validates: the autorisatie header against UWLR_Autorisatie_v2p2.xsd and the
// body against UWLR_Leerlinggegevens_v2p2.xsd.

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// A school year after the last one in the EDEXML enumeration: requests use a
// pattern ([1-2]\d{3}-[1-2]\d{3}), not the enumeration, so it is valid there.
const verzoekSchooljaar = "2025-2026"

func basisBrinDependance() uwlr.VerzoekBasis {
	return uwlr.VerzoekBasis{Schooljaar: verzoekSchooljaar, Brincode: "12AB", Dependancecode: "01", Xsdversie: "2.2"}
}

func basisBrinOnly() uwlr.VerzoekBasis {
	return uwlr.VerzoekBasis{Schooljaar: verzoekSchooljaar, Brincode: "99DE", Xsdversie: "2.2"}
}

func basisSchoolkey() uwlr.VerzoekBasis {
	return uwlr.VerzoekBasis{Schooljaar: verzoekSchooljaar, Schoolkey: "7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13", Xsdversie: "2.2"}
}

var laatstOntvangen = time.Date(2025, time.March, 1, 12, 30, 0, 0, time.UTC)

func basisDelta() uwlr.VerzoekBasis {
	b := basisBrinDependance()
	b.Gegevenssetid = "gegevensset-2025-03-01-001"
	b.Laatstontvangengegevens = laatstOntvangen.UTC().Format(time.RFC3339)
	return b
}

// groepenSelectie asks for a keyed group, a keyed composite group and the
// pupils or teachers bound to no group (the key-less groep).
func groepenSelectie() uwlr.GroepenSelectie {
	return uwlr.GroepenSelectie{
		Groep:              []uwlr.GroepSelectie{{Key: "G7A"}, {}},
		SamengesteldeGroep: []uwlr.GroepSelectie{{Key: "S-plusklas"}},
	}
}

func TestVerzoekenValidate(t *testing.T) {
	tests := []struct {
		name     string
		op       uwlr.Operation
		body     any
		contains []string // literal fragments the body must contain
		absent   []string // fragments it must not contain
	}{
		{
			name:     "leerlinggegevens brincode+dependancecode",
			op:       uwlr.OpHaalLeerlinggegevens,
			body:     &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: basisBrinDependance()},
			contains: []string{"<schooljaar>2025-2026</schooljaar><brincode>12AB</brincode><dependancecode>01</dependancecode><xsdversie>2.2</xsdversie>"},
			absent:   []string{"<schoolkey>", "<gegevenssetid>", "<laatstontvangengegevens>"},
		},
		{
			name:     "leerlinggegevens brincode only",
			op:       uwlr.OpHaalLeerlinggegevens,
			body:     &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: basisBrinOnly()},
			contains: []string{"<brincode>99DE</brincode><xsdversie>"},
			absent:   []string{"<dependancecode>", "<schoolkey>"},
		},
		{
			name:     "leerlinggegevens schoolkey only",
			op:       uwlr.OpHaalLeerlinggegevens,
			body:     &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: basisSchoolkey()},
			contains: []string{"<schooljaar>2025-2026</schooljaar><schoolkey>7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13</schoolkey><xsdversie>"},
			absent:   []string{"<brincode>", "<dependancecode>"},
		},
		{
			name: "leerlinggegevens gegevenssetid+laatstontvangengegevens",
			op:   uwlr.OpHaalLeerlinggegevens,
			body: &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: basisDelta()},
			contains: []string{
				"<xsdversie>2.2</xsdversie><gegevenssetid>gegevensset-2025-03-01-001</gegevenssetid>" +
					"<laatstontvangengegevens>2025-03-01T12:30:00Z</laatstontvangengegevens>",
			},
		},
		{
			name: "structuur",
			op:   uwlr.OpHaalStructuur,
			body: &uwlr.StructuurVerzoek{VerzoekBasis: basisBrinDependance()},
		},
		{
			name: "structuur schoolkey with delta",
			op:   uwlr.OpHaalStructuur,
			body: &uwlr.StructuurVerzoek{VerzoekBasis: func() uwlr.VerzoekBasis {
				b := basisSchoolkey()
				b.Laatstontvangengegevens = laatstOntvangen.Format(time.RFC3339)
				return b
			}()},
		},
		{
			name: "leerlingen with groepen",
			op:   uwlr.OpHaalLeerlingen,
			body: &uwlr.LeerlingenVerzoek{VerzoekBasis: basisBrinDependance(), Groepen: groepenSelectie()},
			contains: []string{
				`</xsdversie><groepen><groep key="G7A"></groep><groep></groep>` +
					`<samengestelde_groep key="S-plusklas"></samengestelde_groep></groepen>`,
			},
		},
		{
			name:     "leerlingen only the pupils without composite group",
			op:       uwlr.OpHaalLeerlingen,
			body:     &uwlr.LeerlingenVerzoek{VerzoekBasis: basisDelta(), Groepen: uwlr.GroepenSelectie{SamengesteldeGroep: []uwlr.GroepSelectie{{}}}},
			contains: []string{"</laatstontvangengegevens><groepen><samengestelde_groep></samengestelde_groep></groepen>"},
		},
		{
			name:     "leerkrachten with groepen",
			op:       uwlr.OpHaalLeerkrachten,
			body:     &uwlr.LeerkrachtenVerzoek{VerzoekBasis: basisSchoolkey(), Groepen: groepenSelectie()},
			contains: []string{`<groepen><groep key="G7A"></groep><groep></groep><samengestelde_groep key="S-plusklas"></samengestelde_groep></groepen>`},
		},
		{
			name: "leerkrachten brincode only, one group",
			op:   uwlr.OpHaalLeerkrachten,
			body: &uwlr.LeerkrachtenVerzoek{VerzoekBasis: basisBrinOnly(), Groepen: uwlr.GroepenSelectie{Groep: []uwlr.GroepSelectie{{Key: "H1A"}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			header, body := marshal(t, testAuth, tc.body, xml.Name{Space: uwlr.NSLeerlinggegevens, Local: tc.op.Request})
			validate(t, xsdAutorisatie, header.Doc)
			validate(t, xsdLeerlinggegevens, body.Doc)
			if oso := assertNamespaces(t, body.Doc, uwlr.NSLeerlinggegevens); len(oso) > 0 {
				t.Errorf("request has OSO elements %v", oso)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(body.Raw), s) {
					t.Errorf("body lacks %s:\n%s", s, body.Raw)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(string(body.Raw), s) {
					t.Errorf("body has %s:\n%s", s, body.Raw)
				}
			}
			assertRoundTrip(t, body.Doc, tc.body)
		})
	}
}
