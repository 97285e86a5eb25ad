package uwlr_test

// Every leerresultaten message we emit validates against
// UWLR_Leerresultaten_v2p2.xsd (which imports the OSO 1.2 dossier schema), and
// reads back into an equal LeerresultatenVerzoek: the round trip that gowsdl's
// generated results types cannot make.

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	vocToetsen  = "http://purl.edustandaard.nl/begrippenkader/toetsen"
	vocVersies  = "http://purl.edustandaard.nl/begrippenkader/toetsversies"
	vocLeerjaar = "http://purl.edustandaard.nl/begrippenkader/leerjaren"
	vocVak      = "http://purl.edustandaard.nl/begrippenkader/vakgebieden"
	vocNorm     = "http://purl.edustandaard.nl/begrippenkader/normeringen"
	vdexLocatie = "https://example.org/vdex/toetsen.xml"
)

func resultatenSchoolBrin() uwlr.ResultatenSchool {
	return uwlr.ResultatenSchool{
		Schooljaar:     "2025-2026",
		Brincode:       "12AB",
		Dependancecode: "00",
		Aanmaakdatum:   "2025-11-03T09:15:00Z",
		Auteur:         "uwlr-gateway",
		Xsdversie:      "2.2",
		Commentaar:     "Toetsresultaten november",
	}
}

// scoreVerzoek: plain scores, including a real score of 0, an optional
// toetsonderdeelcode, versie with a vocabulary, infourl, several toetsafnames,
// with and without eckid.
func scoreVerzoek() *uwlr.LeerresultatenVerzoek {
	return &uwlr.LeerresultatenVerzoek{
		School: resultatenSchoolBrin(),
		Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{
			{
				Leerlingid:           "L1",
				Eckid:                "https://ketenid.nl/201703/4d9f0c1e8a7b6c5d4e3f2a1b0c9d8e7f",
				Resultaatverwerkerid: "RV-01",
				Resultaten: []uwlr.Resultaat{
					{
						Key:                "L1-REK-M4-1",
						Afnamedatum:        "2025-10-01",
						Toetscode:          "REK-M4",
						Versie:             &uwlr.Vocabulaire{Value: "2024", Vocabulaire: vocVersies},
						Toetsonderdeelcode: "REK-M4-1",
						Score:              "0",
						Infourl:            "https://example.org/resultaat/L1-REK-M4-1",
					},
					{
						Key:         "L1-REK-M4",
						Afnamedatum: "2025-10-01",
						Toetscode:   "REK-M4",
						Versie:      &uwlr.Vocabulaire{Value: "2024", Vocabulaire: vocVersies, Vocabulairelocatie: vdexLocatie},
						Score:       "37",
					},
				},
			},
			{
				Leerlingid: "L2",
				Resultaten: []uwlr.Resultaat{
					{Key: "L2-REK-M4", Afnamedatum: "2025-10-02", Toetscode: "REK-M4", Score: "12"},
					{Key: "L2-SPEL-M4", Afnamedatum: "2025-10-03", Toetscode: "SPEL-M4", Score: "18446744073709551615"},
				},
			},
		}},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{
			{Toetscode: uwlr.Vocabulaire{Value: "REK-M4"}, Toetsnaam: "Rekenen midden groep 4"},
			{Toetscode: uwlr.Vocabulaire{Value: "SPEL-M4"}},
		}},
	}
}

// osoVerzoek: an OSO result with every toetsscore field and two referentiescores,
// next to a plain score for the same pupil.
func osoVerzoek() *uwlr.LeerresultatenVerzoek {
	return &uwlr.LeerresultatenVerzoek{
		School: resultatenSchoolBrin(),
		Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{{
			Leerlingid: "L7",
			Eckid:      "https://ketenid.nl/201703/0a1b2c3d",
			Resultaten: []uwlr.Resultaat{
				{
					Key:         "L7-DMT-E4",
					Afnamedatum: "2025-06-12",
					Toetscode:   "DMT-E4",
					Versie:      &uwlr.Vocabulaire{Value: "3.0"},
					Osoresultaat: &uwlr.OsoResultaat{
						Toetsscore: &uwlr.Toetsscore{
							Aantalopgaven:            ptr(40),
							Aantalgoed:               ptr(31),
							Aantalfout:               ptr(9),
							Aantalgelezen:            ptr(0),
							Tijd:                     "1830.5",
							Vaardigheidsscore:        "187.25",
							Codevaardigheidsschaal:   "DMT-VS-2019",
							Betrouwbaarheidsinterval: &uwlr.Betrouwbaarheidsinterval{Bivlaag: "180.50", Bivhoog: "194.0"},
						},
						Referentiescore: []uwlr.Referentiescore{
							{Codereferentiescore: "PERC", Codevergelijkingsgroep: "LANDELIJK", Waarde: "62", Kwalificatie: "B"},
							{Codereferentiescore: "NIVEAU", Codevergelijkingsgroep: "LANDELIJK", Waarde: "II"},
						},
					},
					Infourl: "https://example.org/resultaat/L7-DMT-E4",
				},
				{Key: "L7-DMT-E4-kaart1", Afnamedatum: "2025-06-12", Toetscode: "DMT-E4", Toetsonderdeelcode: "kaart1", Score: "52"},
			},
		}}},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: "DMT-E4", Vocabulaire: vocToetsen}}}},
	}
}

// toetsdefinitieVerzoek: a school identified by schoolkey and a test defined with
// every element ctpToets allows.
func toetsdefinitieVerzoek() *uwlr.LeerresultatenVerzoek {
	return &uwlr.LeerresultatenVerzoek{
		School: uwlr.ResultatenSchool{
			Schooljaar:   "2025-2026",
			Schoolkey:    "7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13",
			Aanmaakdatum: "2025-11-03T10:15:00+01:00",
			Xsdversie:    "2.2",
		},
		Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{{
			Leerlingid: "L3",
			Resultaten: []uwlr.Resultaat{
				{Key: "L3-AVI-1", Afnamedatum: "2025-10-20", Toetscode: "AVI-2025", Versie: &uwlr.Vocabulaire{Value: "3", Vocabulaire: vocVersies}, Toetsonderdeelcode: "AVI-2025-1", Score: "14"},
				{Key: "L3-AVI-2", Afnamedatum: "2025-10-20", Toetscode: "AVI-2025", Toetsonderdeelcode: "AVI-2025-2", Score: "0"},
			},
		}}},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{
			Toetscode: uwlr.Vocabulaire{Value: "AVI-2025", Vocabulaire: vocToetsen, Vocabulairelocatie: vdexLocatie},
			Versie:    &uwlr.Vocabulaire{Value: "3", Vocabulaire: vocVersies},
			Toetsnaam: "AVI leesniveau",
			Leerjaar:  &uwlr.Vocabulaire{Value: "4", Vocabulaire: vocLeerjaar},
			Vakgebied: &uwlr.Vocabulaire{Value: "Technisch lezen", Vocabulaire: vocVak, Vocabulairelocatie: vdexLocatie},
			Toetsnormering: &uwlr.Normering{
				Vocabulaire:        vocNorm,
				Vocabulairelocatie: vdexLocatie,
				Toetscategorie:     &uwlr.Vocabulaire{Value: "methodeonafhankelijk", Vocabulaire: vocNorm},
				Toetsniveau:        &uwlr.Vocabulaire{Value: "groep 4"},
				Wegingsfactor:      "1.5",
				Norm: []uwlr.Norm{
					{
						Term: "I", Omschrijving: "ruim boven het landelijk gemiddelde",
						Beginnormwaarde: 40, Eindnormwaarde: 50,
						Normkleur:         &uwlr.Normkleur{Rood: 0, Groen: 128, Blauw: 0, Transparantie: "1.00"},
						SchoolcijferVanaf: "8.5", SchoolcijferTotenmet: "10.00",
					},
					{
						Term:            "V",
						Beginnormwaarde: 0, Eindnormwaarde: 9,
						Normkleur:         &uwlr.Normkleur{Rood: 255, Groen: 0, Blauw: 0, Transparantie: "0.5"},
						SchoolcijferVanaf: "1", SchoolcijferTotenmet: "4.4",
					},
					{Term: "III", Beginnormwaarde: 10, Eindnormwaarde: 39},
				},
			},
			Toetshierarchie: &uwlr.Toetshierarchie{Ingang: []uwlr.Ingang{
				{Value: "Nederlands", Vocabulaire: vocVak, Niveau: 1},
				{Value: "Lezen", Niveau: 2},
				{Value: "Technisch lezen", Vocabulaire: vocVak, Vocabulairelocatie: vdexLocatie, Niveau: 3},
			}},
			Toetsonderdelen: &uwlr.Toetsonderdelen{Toetsonderdeel: []uwlr.Toetsonderdeel{
				{
					Volgnummer: 1,
					Code:       uwlr.Vocabulaire{Value: "AVI-2025-1", Vocabulaire: vocToetsen},
					Naam:       "Kaart 1",
					Normering: &uwlr.Normering{
						Toetscategorie: &uwlr.Vocabulaire{Value: "leeskaart"},
						Norm:           []uwlr.Norm{{Term: "beheersing", Beginnormwaarde: 10, Eindnormwaarde: 20, Normkleur: &uwlr.Normkleur{Rood: 12, Groen: 34, Blauw: 56, Transparantie: "0"}}},
					},
				},
				{Volgnummer: 2, Code: uwlr.Vocabulaire{Value: "AVI-2025-2"}},
			}},
		}}},
	}
}

func TestLeerresultatenValidateAndRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		msg      func() *uwlr.LeerresultatenVerzoek
		contains []string
		count    map[string]int // fragment -> exact number of occurrences
		oso      []string       // local names of the elements in the OSO namespace, in order
	}{
		{
			name: "scores",
			msg:  scoreVerzoek,
			contains: []string{
				`<resultaat key="L1-REK-M4-1"><afnamedatum>2025-10-01</afnamedatum><toetscode>REK-M4</toetscode>` +
					`<versie vocabulaire="` + vocVersies + `">2024</versie><toetsonderdeelcode>REK-M4-1</toetsonderdeelcode>` +
					`<score>0</score><infourl>https://example.org/resultaat/L1-REK-M4-1</infourl></resultaat>`,
				`<versie vocabulaire="` + vocVersies + `" vocabulairelocatie="` + vdexLocatie + `">2024</versie><score>37</score>`,
				`<leerlingid>L2</leerlingid><resultaten>`,
				`<score>18446744073709551615</score>`,
			},
			count: map[string]int{"<eckid>": 1, "<resultaatverwerkerid>": 1, "<toetsafname>": 2, "<resultaat ": 4, "<score>": 4, "<osoresultaat>": 0},
		},
		{
			name: "oso",
			msg:  osoVerzoek,
			contains: []string{
				`<aantalopgaven>40</aantalopgaven><aantalgoed>31</aantalgoed><aantalfout>9</aantalfout><aantalgelezen>0</aantalgelezen>` +
					`<tijd>1830.5</tijd><vaardigheidsscore>187.25</vaardigheidsscore><codevaardigheidsschaal>DMT-VS-2019</codevaardigheidsschaal>` +
					`<betrouwbaarheidsinterval><bivlaag>180.50</bivlaag><bivhoog>194.0</bivhoog></betrouwbaarheidsinterval>`,
			},
			count: map[string]int{`<toetsscore xmlns="` + uwlr.NSOSO + `">`: 1, `<referentiescore xmlns="` + uwlr.NSOSO + `">`: 2, "<score>": 1},
			oso: []string{
				"toetsscore", "aantalopgaven", "aantalgoed", "aantalfout", "aantalgelezen", "tijd", "vaardigheidsscore",
				"codevaardigheidsschaal", "betrouwbaarheidsinterval", "bivlaag", "bivhoog",
				"referentiescore", "codereferentiescore", "codevergelijkingsgroep", "waarde", "kwalificatie",
				"referentiescore", "codereferentiescore", "codevergelijkingsgroep", "waarde",
			},
		},
		{
			name: "full toets definition, schoolkey",
			msg:  toetsdefinitieVerzoek,
			contains: []string{
				`<school><schooljaar>2025-2026</schooljaar><schoolkey>7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13</schoolkey><aanmaakdatum>`,
				`<toetscode vocabulaire="` + vocToetsen + `" vocabulairelocatie="` + vdexLocatie + `">AVI-2025</toetscode>`,
				`<toetsnormering vocabulaire="` + vocNorm + `" vocabulairelocatie="` + vdexLocatie + `"><toetscategorie vocabulaire="` + vocNorm + `">methodeonafhankelijk</toetscategorie>` +
					`<toetsniveau>groep 4</toetsniveau><wegingsfactor>1.5</wegingsfactor><norm><term>I</term>`,
				`<normkleur><rood_code>0</rood_code><groen_code>128</groen_code><blauw_code>0</blauw_code><transparantie>1.00</transparantie></normkleur>` +
					`<schoolcijfer_vanaf>8.5</schoolcijfer_vanaf><schoolcijfer_totenmet>10.00</schoolcijfer_totenmet>`,
				`<ingang vocabulaire="` + vocVak + `" niveau="1">Nederlands</ingang><ingang niveau="2">Lezen</ingang>`,
				`<toetsonderdeel><toetsonderdeelvolgnummer>2</toetsonderdeelvolgnummer><toetsonderdeelcode>AVI-2025-2</toetsonderdeelcode></toetsonderdeel>`,
			},
			count: map[string]int{"<brincode>": 0, "<norm>": 4, "<score>0</score>": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := tc.msg()
			header, body := marshal(t, testAuth, msg, xml.Name{Space: uwlr.NSLeerresultaten, Local: uwlr.OpBrengLeerresultaten.Request})
			validate(t, xsdAutorisatie, header.Doc)
			validate(t, xsdLeerresultaten, body.Doc)
			if got := assertNamespaces(t, body.Doc, uwlr.NSLeerresultaten); !slices.Equal(got, tc.oso) {
				t.Errorf("elements in the OSO namespace:\n got  %v\n want %v", got, tc.oso)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(body.Raw), s) {
					t.Errorf("body lacks\n  %s\nbody:\n%s", s, body.Raw)
				}
			}
			for s, n := range tc.count {
				if got := strings.Count(string(body.Raw), s); got != n {
					t.Errorf("body has %d × %s, want %d", got, s, n)
				}
			}
			assertRoundTrip(t, body.Doc, msg)
			// The message must survive the round trip unchanged as well.
			assertDeepEqual(t, msg, tc.msg())
		})
	}
}

func TestLeerresultatenBevestiging(t *testing.T) {
	_, body := marshal(t, nil, &uwlr.LeerresultatenBevestiging{}, xml.Name{Space: uwlr.NSLeerresultaten, Local: uwlr.OpBrengLeerresultaten.Response})
	validate(t, xsdLeerresultaten, body.Doc)
	if want := `<leerresultaten_bevestiging xmlns="` + uwlr.NSLeerresultaten + `"></leerresultaten_bevestiging>`; string(body.Raw) != want {
		t.Errorf("bevestiging = %s, want %s", body.Raw, want)
	}
	assertRoundTrip(t, body.Doc, &uwlr.LeerresultatenBevestiging{})
}
