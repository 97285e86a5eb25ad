package uwlr_test

// The real-world Magister sample answer (not schema-valid: school children and
// teacher children out of order, empty voorvoegsel) is read exactly as a golden
// file records it, then re-emitted as a schema-valid message that reads back
// into the same value.
//
// Regenerate the golden file with: go test ./wsdl/uwlr/ -run TestSample -update

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	samplePath   = "../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"
	sampleGolden = "testdata/sample.golden.json"
)

// sampleBody is the leerlinggegevens_antwoord element of the sample envelope.
func sampleBody(t *testing.T) *element {
	t.Helper()
	env, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	_, body := splitEnvelope(t, env)
	if body.Name != (xml.Name{Space: uwlr.NSLeerlinggegevens, Local: "leerlinggegevens_antwoord"}) {
		t.Fatalf("sample body is {%s}%s", body.Name.Space, body.Name.Local)
	}
	if !bytes.HasPrefix(body.Raw, []byte("<le:leerlinggegevens_antwoord ")) {
		t.Fatalf("sample body does not use the le: prefix: %.80s", body.Raw)
	}
	return body
}

func parseSample(t *testing.T) uwlr.LeerlinggegevensAntwoord {
	t.Helper()
	var a uwlr.LeerlinggegevensAntwoord
	if err := xml.Unmarshal(sampleBody(t).Doc, &a); err != nil {
		t.Fatalf("unmarshal sample: %v", err)
	}
	return a
}

func TestSampleGolden(t *testing.T) {
	a := parseSample(t)
	got, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(sampleGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", sampleGolden)
		return
	}
	want, err := os.ReadFile(sampleGolden)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./wsdl/uwlr/ -run TestSampleGolden -update, then read it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("parsed sample differs from %s (run with -update only if the change is intended):\n%s",
			sampleGolden, firstDiff(string(got), string(want)))
	}
}

// TestSampleFacts states the key facts of the sample in Go, independent of the
// golden file.
func TestSampleFacts(t *testing.T) {
	a := parseSample(t)
	if a.Geenwijzigingen != nil || a.Geengegevens != nil {
		t.Fatalf("sample parsed as an empty outcome: %+v", a)
	}
	lg := a.Leerlinggegevens
	if lg == nil {
		t.Fatal("no leerlinggegevens")
	}
	wantSchool := uwlr.School{Schooljaar: "2018-2019", Brincode: "99DE", Dependancecode: "00", Auteur: "author", Xsdversie: "2.3", Commentaar: "comments"}
	if lg.School != wantSchool {
		t.Errorf("school = %+v, want %+v", lg.School, wantSchool)
	}
	if lg.Vestigingen != nil {
		t.Errorf("vestigingen = %+v, want none", lg.Vestigingen)
	}
	if lg.Groepen == nil {
		t.Fatal("no groepen")
	}
	var groepKeys, sgKeys []string
	for _, g := range lg.Groepen.Groep {
		groepKeys = append(groepKeys, g.Key)
	}
	for _, g := range lg.Groepen.SamengesteldeGroep {
		sgKeys = append(sgKeys, g.Key)
	}
	if want := []string{"H1A", "H1B", "H1C", "H2A", "H2B", "H2C"}; !slices.Equal(groepKeys, want) {
		t.Errorf("groep keys = %v, want %v", groepKeys, want)
	}
	if want := []string{"H1Muziek", "H2Muziek", "H1Sport", "H2Sport"}; !slices.Equal(sgKeys, want) {
		t.Errorf("samengestelde_groep keys = %v, want %v", sgKeys, want)
	}
	if g := lg.Groepen.Groep[3]; g != (uwlr.Groep{Key: "H2A", Naam: "H2A", Jaargroep: "2", Omschrijving: "This is class 2A", Mutatiedatum: "2019-01-04T20:00:00Z"}) {
		t.Errorf("groep H2A = %+v", g)
	}

	ll := lg.Leerlingen.Leerling
	if len(ll) != 22 {
		t.Fatalf("%d leerlingen, want 22", len(ll))
	}
	byKey := map[string]uwlr.Leerling{}
	for _, l := range ll {
		byKey[l.Key] = l
	}
	if len(byKey) != 22 {
		t.Errorf("leerling keys are not unique: %d distinct", len(byKey))
	}
	ec, ok := byKey["EC976431"]
	if !ok {
		t.Fatal("no leerling EC976431")
	}
	if !strings.HasPrefix(ec.Eckid, "https://ketenid.nl/201703/") || len(ec.Eckid) != len("https://ketenid.nl/201703/")+128 {
		t.Errorf("EC976431 eckid = %q, want a ketenid.nl/201703 ECK iD with a 128-hex hash", ec.Eckid)
	}
	if ec.Achternaam != "Van steeg" || ec.Voorvoegsel != "k" || ec.Roepnaam != "Leerling" || ec.Geboortedatum != "2002-01-04" || ec.Jaargroep != "1" {
		t.Errorf("EC976431 = %+v", ec)
	}
	if l := byKey["L2"]; l.Voorvoegsel != "" || l.Achternaam != "Demo02" || l.Eckid != "eckid_L2" {
		t.Errorf("L2 (empty voorvoegsel) = %+v", l)
	}
	if l := byKey["L1"]; l.Voorvoegsel != "a" || l.Groep == nil || l.Groep.Key != "H1A" {
		t.Errorf("L1 = %+v", l)
	}
	l10 := byKey["L10"]
	if l10.SamengesteldeGroepen == nil {
		t.Fatal("L10 has no samengestelde_groepen")
	}
	var l10sg []string
	for _, r := range l10.SamengesteldeGroepen.SamengesteldeGroep {
		l10sg = append(l10sg, r.Key)
	}
	if want := []string{"H1Sport", "H1Muziek"}; !slices.Equal(l10sg, want) {
		t.Errorf("L10 samengestelde_groepen = %v, want %v", l10sg, want)
	}

	if lg.Leerkrachten == nil {
		t.Fatal("no leerkrachten")
	}
	lk := lg.Leerkrachten.Leerkracht
	if len(lk) != 6 {
		t.Fatalf("%d leerkrachten, want 6", len(lk))
	}
	for i, k := range lk {
		// The vendor sends achternaam last and voorvoegsel after emailadres; the
		// lenient reader must still find every field.
		if k.Key == "" || k.Achternaam != "Teacher" || k.Voorvoegsel != "T" || k.Roepnaam != "T" || k.Emailadres != "email" {
			t.Errorf("leerkracht %d = %+v", i, k)
		}
		if k.Groepen == nil || len(k.Groepen.Groep)+len(k.Groepen.SamengesteldeGroep) == 0 {
			t.Errorf("leerkracht %s has no groepen", k.Key)
		}
	}
	t2 := lk[1]
	var t2g, t2sg []string
	for _, g := range t2.Groepen.Groep {
		t2g = append(t2g, g.Key)
	}
	for _, g := range t2.Groepen.SamengesteldeGroep {
		t2sg = append(t2sg, g.Key)
	}
	if t2.Key != "T2" || !slices.Equal(t2g, []string{"H1B", "H2A"}) || !slices.Equal(t2sg, []string{"H1Sport", "H1Muziek"}) {
		t.Errorf("T2: key %s, groepen %v, samengestelde groepen %v; want T2, [H1B H2A], [H1Sport H1Muziek]", t2.Key, t2g, t2sg)
	}
	if k := lk[5]; k.Key != "T6" || !strings.HasPrefix(k.Eckid, "https://ketenid.nl/pilot/") {
		t.Errorf("T6 = %+v", k)
	}
}

// TestSampleRemarshal: our writer puts the vendor's fields in XSD order and
// drops the empty voorvoegsel, so the re-emitted answer validates; reading it
// back gives the same value (round-trip stability).
func TestSampleRemarshal(t *testing.T) {
	first := parseSample(t)
	_, body := marshal(t, nil, &first, xml.Name{Space: uwlr.NSLeerlinggegevens, Local: uwlr.OpHaalLeerlinggegevens.Response})
	validate(t, xsdLeerlinggegevens, body.Doc)
	assertNamespaces(t, body.Doc, uwlr.NSLeerlinggegevens)
	if bytes.Contains(body.Raw, []byte("<voorvoegsel></voorvoegsel>")) {
		t.Error("re-emitted answer has an empty voorvoegsel")
	}
	var second uwlr.LeerlinggegevensAntwoord
	if err := xml.Unmarshal(body.Doc, &second); err != nil {
		t.Fatal(err)
	}
	assertDeepEqual(t, second, first)

	// And once more through the writer: the bytes are stable too.
	env1, err := soap.MarshalEnvelope(nil, &first)
	if err != nil {
		t.Fatal(err)
	}
	env2, err := soap.MarshalEnvelope(nil, &second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(env1, env2) {
		t.Errorf("re-marshalling the re-read answer changes the bytes:\n%s", firstDiff(string(env2), string(env1)))
	}
}
