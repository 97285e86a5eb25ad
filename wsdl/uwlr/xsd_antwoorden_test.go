package uwlr_test

// Every leerlinggegevens answer we can emit (the four answers, each with data,
// geenwijzigingen or geengegevens) validates against
// UWLR_Leerlinggegevens_v2p2.xsd and reads back into an equal value. The data
// uses every optional element of LeerlingType and LeerkrachtType that the wire
// types carry, in valid form.

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// antwoordSchooljaar is the last school year in the EDEXML enumeration that
// SchoolType uses in answers (see TestXSDNegativeControls for the year after).
const antwoordSchooljaar = "2024-2025"

func antwoordSchool() uwlr.School {
	return uwlr.School{
		Schooljaar:     antwoordSchooljaar,
		Peildatum:      "2024-10-01",
		Brincode:       "12AB",
		Dependancecode: "01",
		Schoolkey:      "school-12AB-01",
		Aanmaakdatum:   "2024-10-01T08:00:00+02:00",
		Auteur:         "ParnasSys",
		Xsdversie:      "2.2",
		Commentaar:     "synthetische testgegevens",
	}
}

func antwoordVestigingen() *uwlr.Vestigingen {
	return &uwlr.Vestigingen{Vestiging: []uwlr.Vestiging{
		{Key: "V1", Naam: "Hoofdvestiging", Omschrijving: "Schoolstraat 1", Mutatiedatum: "2024-09-01T00:00:00Z"},
		{Key: "V2", Naam: "Dependance"},
	}}
}

func antwoordGroepen() *uwlr.Groepen {
	return &uwlr.Groepen{
		Groep: []uwlr.Groep{
			{Key: "G7A", Naam: "7A", Jaargroep: "7", Omschrijving: "Groep 7A", Mutatiedatum: "2024-08-26T07:30:00Z"},
			{Key: "G8", Naam: "8", Jaargroep: "8"},
			{Key: "GS", Naam: "Speciaal", Jaargroep: "S"},
		},
		SamengesteldeGroep: []uwlr.SamengesteldeGroep{
			{Key: "S1", Naam: "Plusklas", Omschrijving: "Verrijking groep 7 en 8", Mutatiedatum: "2024-09-02T12:00:00Z"},
			{Key: "S2", Naam: "Sport"},
		},
	}
}

func antwoordLeerlingen() uwlr.Leerlingen {
	return uwlr.Leerlingen{Leerling: []uwlr.Leerling{
		{ // every element the wire type carries, in valid form
			Key:           "L1",
			Eckid:         "https://ketenid.nl/201703/4d9f0c1e8a7b6c5d4e3f2a1b0c9d8e7f",
			Achternaam:    "Vries",
			Voorvoegsel:   "de",
			Voornamen:     "Anna Maria",
			Voorletters:   "A.M.",
			Roepnaam:      "Anna",
			Geboortedatum: "2013-05-17",
			Geslacht:      "2",
			StartOndwJgr3: "2019-08-19",
			Jaargroep:     "7",
			Groep:         &uwlr.Ref{Key: "G7A"},
			SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{
				{Key: "S1"}, {Key: "S2"},
			}},
			Vestiging:      &uwlr.Ref{Key: "V1"},
			Gebruikersnaam: "anna.devries",
			Emailadres:     "anna.devries@leerling.example.org",
			Fotourl:        "https://example.org/foto/L1.jpg",
			Etniciteit:     "9",
			Land:           "NL",
			LandVader:      "NL",
			LandMoeder:     "BE",
			Bsn:            "123456782",
			GewichtNieuw:   "0",
			Gewicht:        "0.00",
			Postcodenl:     "1234AB",
			Instroomdatum:  "2017-08-21",
			Uitstroomdatum: "2025-07-11",
			Mutatiedatum:   "2024-09-30T12:00:00Z",
		},
		{Key: "L2", Roepnaam: "Sam", Groep: &uwlr.Ref{Key: "G8"}}, // roepnaam only: the XSD's second name choice
		// the other members of the two number and postcode choices
		{Key: "L3", Achternaam: "Peeters", Sofinummer: "111222333", Postnummerbe: "2000", Vestiging: &uwlr.Ref{Key: "V2"}},
		{Key: "L4", Achternaam: "Yılmaz", Onderwijsnummer: "100200300", Postcodeoverig: "D-47533 Kleve"},
		{Key: "L5", Eckid: "https://ketenid.nl/201703/0a1b2c3d", Achternaam: "Jansen", BsnOndwnr4: "4321", GewichtNieuw: "1,2", Gewicht: "0.90"},
		{Key: "L6", Achternaam: "Dubois", Rijksregisternummer: "85073003328", Jaargroep: "B", Geslacht: "9"},
	}}
}

func antwoordLeerkrachten() *uwlr.Leerkrachten {
	return &uwlr.Leerkrachten{Leerkracht: []uwlr.Leerkracht{
		{
			Key:             "T1",
			Eckid:           "https://ketenid.nl/201703/f00dfeed",
			Achternaam:      "Bakker",
			Voorvoegsel:     "van",
			Voornamen:       "Jan Willem",
			Voorletters:     "J.W.",
			Roepnaam:        "Jan",
			Gebruikersnaam:  "jbakker",
			Emailadres:      "j.bakker@school.example.org",
			Rol:             []string{"LRK", "IB"},
			Rolomschrijving: []string{"Intern begeleider bovenbouw"},
			Groepen: &uwlr.LeerkrachtGroepen{
				Groep: []uwlr.LeerkrachtGroepRef{
					{Key: "G7A", Rol: []string{"LRK"}, Rolomschrijving: []string{"Groepsleerkracht ma-wo"}},
					{Key: "G8"},
				},
				SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{
					{Key: "S1", Rol: []string{"VAK", "RT"}},
				},
			},
			Mutatiedatum: "2024-09-30T12:00:00Z",
		},
		{Key: "T2", Roepnaam: "Meester Ali"},
		{Key: "T3", Achternaam: "Smit", Rolomschrijving: []string{"Vakleerkracht gym"}, Groepen: &uwlr.LeerkrachtGroepen{SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{Key: "S2", Rolomschrijving: []string{"gym"}}}}},
	}}
}

func TestAntwoordenValidateAndRoundTrip(t *testing.T) {
	ns := uwlr.NSLeerlinggegevens
	tests := []struct {
		name     string
		op       uwlr.Operation
		body     any
		contains []string
	}{
		{
			name: "leerlinggegevens full",
			op:   uwlr.OpHaalLeerlinggegevens,
			body: &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
				School:       antwoordSchool(),
				Vestigingen:  antwoordVestigingen(),
				Groepen:      antwoordGroepen(),
				Leerlingen:   antwoordLeerlingen(),
				Leerkrachten: antwoordLeerkrachten(),
			}},
			contains: []string{
				`<school><schooljaar>2024-2025</schooljaar><peildatum>2024-10-01</peildatum><brincode>12AB</brincode><dependancecode>01</dependancecode><schoolkey>`,
				`<leerling key="L2"><roepnaam>Sam</roepnaam><groep key="G8"></groep></leerling>`,
				`<rol>LRK</rol><rol>IB</rol><rolomschrijving>Intern begeleider bovenbouw</rolomschrijving><groepen><groep key="G7A"><rol>LRK</rol>`,
			},
		},
		{
			name: "leerlinggegevens minimal",
			op:   uwlr.OpHaalLeerlinggegevens,
			body: &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
				School:     uwlr.School{Schooljaar: antwoordSchooljaar, Schoolkey: "only-a-key"},
				Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Key: "L1", Roepnaam: "Sam"}}},
			}},
		},
		{
			name: "leerlinggegevens instellingsnummer",
			op:   uwlr.OpHaalLeerlinggegevens,
			body: &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
				School:     uwlr.School{Schooljaar: antwoordSchooljaar, Instellingsnummer: "12345", Schoolkey: "vl-12345"},
				Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Key: "L1", Achternaam: "Peeters"}}},
			}},
		},
		{name: "leerlinggegevens geenwijzigingen", op: uwlr.OpHaalLeerlinggegevens, body: &uwlr.LeerlinggegevensAntwoord{Geenwijzigingen: &uwlr.Leeg{}}, contains: []string{"<geenwijzigingen></geenwijzigingen>"}},
		{name: "leerlinggegevens geengegevens", op: uwlr.OpHaalLeerlinggegevens, body: &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}, contains: []string{"<geengegevens></geengegevens>"}},
		{
			name: "structuur",
			op:   uwlr.OpHaalStructuur,
			body: &uwlr.StructuurAntwoord{Structuur: &uwlr.LeerlinggegevensStructuur{
				School: antwoordSchool(), Vestigingen: antwoordVestigingen(), Groepen: antwoordGroepen(),
			}},
			contains: []string{`<leerlinggegevens-structuur><school>`},
		},
		{
			name: "structuur school only",
			op:   uwlr.OpHaalStructuur,
			body: &uwlr.StructuurAntwoord{Structuur: &uwlr.LeerlinggegevensStructuur{School: antwoordSchool()}},
		},
		{name: "structuur geenwijzigingen", op: uwlr.OpHaalStructuur, body: &uwlr.StructuurAntwoord{Geenwijzigingen: &uwlr.Leeg{}}},
		{name: "structuur geengegevens", op: uwlr.OpHaalStructuur, body: &uwlr.StructuurAntwoord{Geengegevens: &uwlr.Leeg{}}},
		{
			name: "leerlingen",
			op:   uwlr.OpHaalLeerlingen,
			body: &uwlr.LeerlingenAntwoord{Leerlingen: &uwlr.LeerlinggegevensLeerlingen{
				School: antwoordSchool(), Leerlingen: antwoordLeerlingen(),
			}},
			contains: []string{`<leerlinggegevens-leerlingen><school>`},
		},
		{name: "leerlingen geenwijzigingen", op: uwlr.OpHaalLeerlingen, body: &uwlr.LeerlingenAntwoord{Geenwijzigingen: &uwlr.Leeg{}}},
		{name: "leerlingen geengegevens", op: uwlr.OpHaalLeerlingen, body: &uwlr.LeerlingenAntwoord{Geengegevens: &uwlr.Leeg{}}},
		{
			name: "leerkrachten",
			op:   uwlr.OpHaalLeerkrachten,
			body: &uwlr.LeerkrachtenAntwoord{Leerkrachten: &uwlr.LeerlinggegevensLeerkrachten{
				School: antwoordSchool(), Leerkrachten: antwoordLeerkrachten(),
			}},
			contains: []string{`<leerlinggegevens-leerkrachten><school>`},
		},
		{
			name: "leerkrachten school only",
			op:   uwlr.OpHaalLeerkrachten,
			body: &uwlr.LeerkrachtenAntwoord{Leerkrachten: &uwlr.LeerlinggegevensLeerkrachten{School: antwoordSchool()}},
		},
		{name: "leerkrachten geenwijzigingen", op: uwlr.OpHaalLeerkrachten, body: &uwlr.LeerkrachtenAntwoord{Geenwijzigingen: &uwlr.Leeg{}}},
		{name: "leerkrachten geengegevens", op: uwlr.OpHaalLeerkrachten, body: &uwlr.LeerkrachtenAntwoord{Geengegevens: &uwlr.Leeg{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, body := marshal(t, nil, tc.body, xml.Name{Space: ns, Local: tc.op.Response})
			validate(t, xsdLeerlinggegevens, body.Doc)
			assertNamespaces(t, body.Doc, ns)
			for _, s := range tc.contains {
				if !strings.Contains(string(body.Raw), s) {
					t.Errorf("body lacks\n  %s\nbody:\n%s", s, body.Raw)
				}
			}
			assertRoundTrip(t, body.Doc, tc.body)
		})
	}
}
