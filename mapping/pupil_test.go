package mapping_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const school gateway.SchoolID = "99DE00"

// validEckID is a well-formed production ECK iD.
var validEckID = "https://ketenid.nl/201703/" + strings.Repeat("0123456789abcdef", 8)

func TestPupilCopiesAllowedFields(t *testing.T) {
	tests := []struct {
		name  string
		in    uwlr.Leerling
		want  gateway.Pupil
		eckid string
	}{
		{
			name: "full",
			in: uwlr.Leerling{
				Key: "L1", Eckid: validEckID,
				Achternaam: "Jansen", Voorvoegsel: " van der ", Voornamen: "Anna Maria", Voorletters: "A.M.",
				Roepnaam: "Anna", Geboortedatum: "2015-03-04", Geslacht: "2", Jaargroep: "4",
				Groep:                &uwlr.Ref{Key: "G4A"},
				SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "S2"}, {Key: "S1"}, {Key: "S2"}}},
			},
			want: gateway.Pupil{
				School: school, LASKey: "L1", LastName: "Jansen", Prefix: "van der", FirstName: "Anna",
				GivenNames: "Anna Maria", Initials: "A.M.", Gender: "2", BirthDate: "2015-03-04", YearGroup: "4",
				GroupKey: "G4A", CompositeGroupKeys: []string{"S1", "S2"},
			},
			eckid: validEckID,
		},
		{
			name:  "roepnaam only, eckid only (2.3)",
			in:    uwlr.Leerling{Eckid: validEckID, Roepnaam: "Bo"},
			want:  gateway.Pupil{School: school, FirstName: "Bo"},
			eckid: validEckID,
		},
		{
			name: "birth date with Z zone",
			in:   uwlr.Leerling{Key: "L2", Achternaam: "X", Geboortedatum: "2015-03-04Z"},
			want: gateway.Pupil{School: school, LASKey: "L2", LastName: "X", BirthDate: "2015-03-04"},
		},
		{
			name: "birth date with +01:00 zone",
			in:   uwlr.Leerling{Key: "L3", Achternaam: "X", Geboortedatum: "2016-02-29+01:00"},
			want: gateway.Pupil{School: school, LASKey: "L3", LastName: "X", BirthDate: "2016-02-29"},
		},
		{
			name: "birth date with -14:00 zone",
			in:   uwlr.Leerling{Key: "L3", Achternaam: "X", Geboortedatum: "2016-02-28-14:00"},
			want: gateway.Pupil{School: school, LASKey: "L3", LastName: "X", BirthDate: "2016-02-28"},
		},
		{
			name: "gender lexical variant",
			in:   uwlr.Leerling{Key: "L4", Achternaam: "X", Geslacht: " 01 "},
			want: gateway.Pupil{School: school, LASKey: "L4", LastName: "X", Gender: "1"},
		},
		{
			name: "empty voorvoegsel and empty optional fields",
			in:   uwlr.Leerling{Key: "L5", Achternaam: "X", Voorvoegsel: "", SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{}},
			want: gateway.Pupil{School: school, LASKey: "L5", LastName: "X"},
		},
	}
	for _, j := range []string{"B", "D", "0", "1", "2", "3", "4", "5", "6", "7", "8", "11", "12", "13", "14", "15", "16", "S", "V", "C", "N", "H"} {
		tests = append(tests, struct {
			name  string
			in    uwlr.Leerling
			want  gateway.Pupil
			eckid string
		}{
			name: "jaargroep " + j,
			in:   uwlr.Leerling{Key: "J", Roepnaam: "X", Jaargroep: j},
			want: gateway.Pupil{School: school, LASKey: "J", FirstName: "X", YearGroup: j},
		})
	}
	for _, g := range []string{"0", "1", "2", "9"} {
		tests = append(tests, struct {
			name  string
			in    uwlr.Leerling
			want  gateway.Pupil
			eckid string
		}{
			name: "geslacht " + g,
			in:   uwlr.Leerling{Key: "G", Roepnaam: "X", Geslacht: g},
			want: gateway.Pupil{School: school, LASKey: "G", FirstName: "X", Gender: g},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, eckid, ws := mapping.Pupil(school, &tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Pupil:\n got %+v\nwant %+v", got, tt.want)
			}
			if eckid != tt.eckid {
				t.Errorf("eckid = %q, want %q", eckid, tt.eckid)
			}
			if len(ws) != 0 {
				t.Errorf("unexpected warnings: %v", ws)
			}
			if got.ID != "" || got.EckIndex != nil || got.SealedEckID != nil {
				t.Error("Pupil must not set ID, EckIndex or SealedEckID")
			}
		})
	}
}

// allowedLeerling are the fields of uwlr.Leerling that may cross into the
// domain: mapping's own allow-list (which a redacted capture keeps too).
var allowedLeerling = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range mapping.AllowedLeerlingFields() {
		m[f] = true
	}
	return m
}()

// forbiddenLeerling fills every other field with a distinctive value.
var forbiddenLeerling = map[string]string{
	"StartOndwJgr3":       "2019-08-19",
	"Vestiging":           "VESTIGING-KEY-4711",
	"Gebruikersnaam":      "USERNAME-anna.j",
	"Emailadres":          "EMAIL-anna@example.org",
	"Fotourl":             "FOTOURL-https://photos.example/anna.jpg",
	"Etniciteit":          "ETNICITEIT-X",
	"Land":                "LAND-XQ",
	"LandVader":           "LANDVADER-XR",
	"LandMoeder":          "LANDMOEDER-XS",
	"Sofinummer":          "SOFI-987654321",
	"Bsn":                 "BSN-123456789",
	"Onderwijsnummer":     "ONDWNR-111222333",
	"BsnOndwnr4":          "BSN4-6789",
	"Rijksregisternummer": "RRN-85073003328",
	"GewichtNieuw":        "GEWICHTNIEUW-1,2",
	"Gewicht":             "GEWICHT-0.90",
	"Postcodenl":          "POSTCODE-1234AB",
	"Postnummerbe":        "POSTNUMMER-9000",
	"Postcodeoverig":      "POSTCODEOVERIG-SW1A",
	"Instroomdatum":       "2019-08-20",
	"Uitstroomdatum":      "2027-07-21",
	"Mutatiedatum":        "2024-01-02T03:04:05Z",
}

func TestPupilDropsForbiddenFields(t *testing.T) {
	l := uwlr.Leerling{
		Key: "L1", Eckid: validEckID, Achternaam: "Jansen", Roepnaam: "Anna",
		Geboortedatum: "2015-03-04", Geslacht: "2", Jaargroep: "4", Groep: &uwlr.Ref{Key: "G4A"},
	}
	v := reflect.ValueOf(&l).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if allowedLeerling[f.Name] {
			continue
		}
		val, ok := forbiddenLeerling[f.Name]
		if !ok {
			t.Fatalf("uwlr.Leerling.%s is neither allowed nor covered by this test: decide and add it", f.Name)
		}
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString(val)
		case reflect.Pointer:
			if f.Type != reflect.TypeFor[*uwlr.Ref]() {
				t.Fatalf("uwlr.Leerling.%s: unexpected type %s", f.Name, f.Type)
			}
			fv.Set(reflect.ValueOf(&uwlr.Ref{Key: val}))
		default:
			t.Fatalf("uwlr.Leerling.%s: unexpected kind %s", f.Name, fv.Kind())
		}
	}
	p, _, ws := mapping.Pupil(school, &l)
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%+v":      fmt.Sprintf("%+v", p),
		"%#v":      fmt.Sprintf("%#v", p),
		"json":     string(js),
		"warnings": fmt.Sprint(ws),
	}
	for field, val := range forbiddenLeerling {
		for how, out := range outputs {
			if strings.Contains(out, val) {
				t.Errorf("%s value of %s leaked into %s: %s", how, field, how, out)
			}
		}
	}
	for how, out := range outputs {
		if strings.Contains(out, validEckID) {
			t.Errorf("ECK iD leaked into %s", how)
		}
	}
	if len(ws) != 0 {
		t.Errorf("unexpected warnings: %v", ws)
	}
}

func TestPupilInvalidValues(t *testing.T) {
	const name = "Zwanenburg-Quist"
	tests := []struct {
		name  string
		in    uwlr.Leerling
		field string
		bad   string
		check func(gateway.Pupil) string
	}{
		{"geslacht 3", uwlr.Leerling{Geslacht: "3"}, "geslacht", "3", func(p gateway.Pupil) string { return p.Gender }},
		{"geslacht M", uwlr.Leerling{Geslacht: "M"}, "geslacht", "M", func(p gateway.Pupil) string { return p.Gender }},
		{"geslacht -1", uwlr.Leerling{Geslacht: "-1"}, "geslacht", "-1", func(p gateway.Pupil) string { return p.Gender }},
		{"date dutch order", uwlr.Leerling{Geboortedatum: "04-03-2015"}, "geboortedatum", "04-03-2015", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date 30 feb", uwlr.Leerling{Geboortedatum: "2015-02-30"}, "geboortedatum", "2015-02-30", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date 29 feb non-leap", uwlr.Leerling{Geboortedatum: "2015-02-29"}, "geboortedatum", "2015-02-29", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date month 13", uwlr.Leerling{Geboortedatum: "2015-13-01"}, "geboortedatum", "2015-13-01", func(p gateway.Pupil) string { return p.BirthDate }},
		{"dateTime", uwlr.Leerling{Geboortedatum: "2015-03-04T00:00:00"}, "geboortedatum", "2015-03-04T00:00:00", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date bad zone", uwlr.Leerling{Geboortedatum: "2015-03-04+15:00"}, "geboortedatum", "2015-03-04+15:00", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date zone no colon", uwlr.Leerling{Geboortedatum: "2015-03-04+0100"}, "geboortedatum", "2015-03-04+0100", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date year 0", uwlr.Leerling{Geboortedatum: "0000-01-01"}, "geboortedatum", "0000-01-01", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date short", uwlr.Leerling{Geboortedatum: "2015-3-4"}, "geboortedatum", "2015-3-4", func(p gateway.Pupil) string { return p.BirthDate }},
		{"date with slash", uwlr.Leerling{Geboortedatum: "2015/03/04"}, "geboortedatum", "2015/03/04", func(p gateway.Pupil) string { return p.BirthDate }},
		{"jaargroep 9", uwlr.Leerling{Jaargroep: "9"}, "jaargroep", "9", func(p gateway.Pupil) string { return p.YearGroup }},
		{"jaargroep 10", uwlr.Leerling{Jaargroep: "10"}, "jaargroep", "10", func(p gateway.Pupil) string { return p.YearGroup }},
		{"jaargroep 17", uwlr.Leerling{Jaargroep: "17"}, "jaargroep", "17", func(p gateway.Pupil) string { return p.YearGroup }},
		{"jaargroep lower b", uwlr.Leerling{Jaargroep: "b"}, "jaargroep", "b", func(p gateway.Pupil) string { return p.YearGroup }},
		{"jaargroep groep 4", uwlr.Leerling{Jaargroep: "groep 4"}, "jaargroep", "groep 4", func(p gateway.Pupil) string { return p.YearGroup }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.Key, in.Achternaam, in.Roepnaam = "L7", name, "Xandra"
			p, _, ws := mapping.Pupil(school, &in)
			if got := tt.check(p); got != "" {
				t.Errorf("bad %s kept as %q", tt.field, got)
			}
			if len(ws) != 1 {
				t.Fatalf("want 1 warning, got %v", ws)
			}
			w := ws[0]
			if w.Field != tt.field || w.Record != "leerling L7" || w.Fatal {
				t.Errorf("warning = %+v", w)
			}
			s := w.String()
			for _, leak := range []string{tt.bad, name, "Xandra"} {
				if strings.Contains(s, leak) {
					t.Errorf("warning %q contains %q", s, leak)
				}
			}
		})
	}
}

func TestPupilEckIDFormat(t *testing.T) {
	tests := []struct {
		eckid string
		warn  bool
	}{
		{validEckID, false},
		{"https://ketenid.nl/pilot/" + strings.Repeat("ab", 64), false},
		{"eckid_L1", true},
		{"https://ketenid.nl/201703/00000000", true},
		{"https://ketenid.nl/201703/" + strings.Repeat("AB", 64), true},
		{"http://ketenid.nl/201703/" + strings.Repeat("ab", 64), true},
		{"https://ketenid.nl/201703/" + strings.Repeat("ab", 64) + " ", true},
		{mapping.RedactedEckIDPrefix + "17", false}, // a redacted capture's marker
		{mapping.RedactedEckIDPrefix, true},
		{mapping.RedactedEckIDPrefix + "17x", true},
	}
	for _, tt := range tests {
		l := uwlr.Leerling{Key: "L1", Eckid: tt.eckid, Achternaam: "X"}
		p, eckid, ws := mapping.Pupil(school, &l)
		if eckid != tt.eckid {
			t.Errorf("eckid not kept byte-exactly: %q", eckid)
		}
		if got := len(ws) == 1 && ws[0].Field == "@eckid" && !ws[0].Fatal; got != tt.warn || len(ws) > 1 {
			t.Errorf("%.40s: warnings %v, want warning=%v", tt.eckid, ws, tt.warn)
		}
		for _, w := range ws {
			if strings.Contains(w.String(), tt.eckid) || strings.Contains(w.String(), "ketenid.nl/2") {
				t.Errorf("warning contains the ECK iD: %q", w)
			}
		}
		if strings.Contains(fmt.Sprintf("%+v", p), tt.eckid) {
			t.Error("ECK iD inside the pupil record")
		}
	}
}

func TestPupilIdentity(t *testing.T) {
	l := uwlr.Leerling{Achternaam: "X"}
	_, _, ws := mapping.Pupil(school, &l)
	if !mapping.Unusable(ws) {
		t.Fatalf("pupil without key and eckid must be unusable: %v", ws)
	}
	if got := mapping.Locate(ws, 3)[0].String(); got != "leerling #3: has neither key nor eckid" {
		t.Errorf("located warning = %q", got)
	}

	l = uwlr.Leerling{Key: "L1"}
	_, _, ws = mapping.Pupil(school, &l)
	if mapping.Unusable(ws) || len(ws) != 1 || ws[0].String() != "leerling L1: has neither achternaam nor roepnaam" {
		t.Errorf("nameless pupil: %v", ws)
	}
	if got := mapping.Locate(ws, 3)[0].Record; got != "leerling L1" {
		t.Errorf("Locate changed a keyed record: %q", got)
	}

	l = uwlr.Leerling{Key: "a key\n\"with\" junk", Achternaam: "X", Jaargroep: "x"}
	_, _, ws = mapping.Pupil(school, &l)
	if len(ws) != 1 || ws[0].Record != `leerling "a key\n\"with\" junk"` {
		t.Errorf("odd key record: %v", ws)
	}
}

func TestPupilReferencesWithoutKey(t *testing.T) {
	l := uwlr.Leerling{
		Key: "L1", Achternaam: "X", Groep: &uwlr.Ref{},
		SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "B"}, {}, {Key: "A"}, {Key: "B"}}},
	}
	p, _, ws := mapping.Pupil(school, &l)
	if p.GroupKey != "" || !slices.Equal(p.CompositeGroupKeys, []string{"A", "B"}) {
		t.Errorf("groups = %q %q", p.GroupKey, p.CompositeGroupKeys)
	}
	if len(ws) != 2 || ws[0].Field != "groep" || ws[1].Field != "samengestelde_groep" {
		t.Errorf("warnings = %v", ws)
	}
}

func TestPupilDoesNotAliasWireSlices(t *testing.T) {
	refs := []uwlr.Ref{{Key: "A"}, {Key: "B"}}
	l := uwlr.Leerling{Key: "L1", Achternaam: "X", SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: refs}}
	p, _, _ := mapping.Pupil(school, &l)
	refs[0].Key = "Z"
	if !slices.Equal(p.CompositeGroupKeys, []string{"A", "B"}) {
		t.Errorf("pupil changed with the wire record: %q", p.CompositeGroupKeys)
	}
}
