package capture_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/capture"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	key     = "Pk77881FG-HJ99777737="
	hexPart = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	fixture = "../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"
)

func eckid(i int) string {
	return fmt.Sprintf("https://ketenid.nl/201703/%s%064x", hexPart, i)
}

// fill sets every field of the record v points to a distinctive value
// ("V-<Type>-<Field>"); references get that value as their key.
func fill(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, fv := rv.Type().Field(i), rv.Field(i)
		val := "V-" + rv.Type().Name() + "-" + f.Name
		switch fv.Type() {
		case reflect.TypeFor[string]():
			fv.SetString(val)
		case reflect.TypeFor[[]string]():
			fv.Set(reflect.ValueOf([]string{val}))
		case reflect.TypeFor[*uwlr.Ref]():
			fv.Set(reflect.ValueOf(&uwlr.Ref{Key: val}))
		case reflect.TypeFor[*uwlr.SamengesteldeGroepenRef]():
			fv.Set(reflect.ValueOf(&uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: val}}}))
		case reflect.TypeFor[*uwlr.LeerkrachtGroepen]():
			fv.Set(reflect.ValueOf(&uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: val, Rol: []string{val + "-rol"}}}}))
		default:
			t.Fatalf("%s.%s: the test cannot fill a field of type %s", rv.Type().Name(), f.Name, f.Type)
		}
	}
}

// fullAnswer is an envelope whose every record has every field filled, the
// ECK iDs real-looking, plus a SOAP header, a comment and free text.
func fullAnswer(t *testing.T) []byte {
	t.Helper()
	var s uwlr.School
	var v uwlr.Vestiging
	var g uwlr.Groep
	var sg uwlr.SamengesteldeGroep
	var l1, l2 uwlr.Leerling
	var lk uwlr.Leerkracht
	for _, p := range []any{&s, &v, &g, &sg, &l1, &l2, &lk} {
		fill(t, p)
	}
	l1.Eckid, l2.Eckid, lk.Eckid = eckid(1), eckid(2), eckid(3)
	l2.Key = "V-Leerling-Key-2"
	l2.Roepnaam = "sleutel " + strings.ToLower(key) + " en " + base64.StdEncoding.EncodeToString([]byte(key)) + " van " + eckid(1)
	ans := uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{School: s,
		Vestigingen: &uwlr.Vestigingen{Vestiging: []uwlr.Vestiging{v}},
		Groepen:     &uwlr.Groepen{Groep: []uwlr.Groep{g}, SamengesteldeGroep: []uwlr.SamengesteldeGroep{sg}},
		Leerlingen:  uwlr.Leerlingen{Leerling: []uwlr.Leerling{l1, l2}}, Leerkrachten: &uwlr.Leerkrachten{Leerkracht: []uwlr.Leerkracht{lk}}}}
	body, err := xml.Marshal(ans)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><!-- ` + eckid(9) + ` --><s:Envelope xmlns:s="` + uwlr.NSSOAPEnvelope + `">` +
		`<s:Header><echo>` + key + `</echo></s:Header><s:Body>` + string(body) + `</s:Body></s:Envelope>`)
}

func redact(t *testing.T, in []byte, sc *soap.Scrubber) ([]byte, capture.Stats) {
	t.Helper()
	var out bytes.Buffer
	st, err := capture.Redact(&out, bytes.NewReader(in), sc)
	if err != nil {
		t.Fatalf("Redact: %v", err)
	}
	return out.Bytes(), st
}

// TestRedactKeepsTheAllowListsOnly: every record's kept fields are exactly
// mapping's allow-list (the capture cannot drift from the mapping), ECK iDs
// are numbered markers, the keys are gone, and the capture still reads as
// the same answer.
func TestRedactKeepsTheAllowListsOnly(t *testing.T) {
	in := fullAnswer(t)
	out, st := redact(t, in, soap.NewScrubber(key))
	for _, leak := range []string{"ketenid", hexPart, key, strings.ToLower(key), base64.StdEncoding.EncodeToString([]byte(key))[:20], "Header", "<!--"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("capture holds %q:\n%s", leak, out)
		}
	}
	if st.EckIDs != 3 || st.Keys != 2 || st.Dropped == 0 {
		t.Errorf("stats %+v, want 3 ECK iDs, 2 keys and dropped fields", st)
	}
	var got struct {
		XMLName xml.Name
		Body    struct {
			Answer uwlr.LeerlinggegevensAntwoord `xml:"leerlinggegevens_antwoord"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(out, &got); err != nil {
		t.Fatalf("the capture is not XML: %v\n%s", err, out)
	}
	d := got.Body.Answer.Leerlinggegevens
	if d == nil || len(d.Leerlingen.Leerling) != 2 || d.Leerkrachten == nil || d.Vestigingen == nil || d.Groepen == nil {
		t.Fatalf("capture lost records:\n%s", out)
	}
	kept := func(name string, rec any, allowed []string) {
		t.Helper()
		rv := reflect.ValueOf(rec)
		for i := range rv.NumField() {
			f := rv.Type().Field(i)
			if f.Name == "XMLName" {
				continue
			}
			if on, set := slices.Contains(allowed, f.Name), !rv.Field(i).IsZero(); on != set {
				t.Errorf("%s.%s: on the allow-list %v, kept in the capture %v", name, f.Name, on, set)
			}
		}
	}
	kept("School", d.School, mapping.AllowedSchoolFields())
	kept("Vestiging", d.Vestigingen.Vestiging[0], mapping.AllowedVestigingFields())
	kept("Groep", d.Groepen.Groep[0], mapping.AllowedGroepFields())
	kept("SamengesteldeGroep", d.Groepen.SamengesteldeGroep[0], mapping.AllowedSamengesteldeGroepFields())
	kept("Leerling", d.Leerlingen.Leerling[0], mapping.AllowedLeerlingFields())
	kept("Leerkracht", d.Leerkrachten.Leerkracht[0], mapping.AllowedLeerkrachtFields())
	if g := d.Leerkrachten.Leerkracht[0].Groepen; g == nil || len(g.Groep) != 1 || len(g.Groep[0].Rol) != 1 {
		t.Errorf("a teacher's group reference lost its role: %+v", g)
	}
	l1, l2 := d.Leerlingen.Leerling[0], d.Leerlingen.Leerling[1]
	if l1.Eckid != mapping.RedactedEckIDPrefix+"1" || l2.Eckid != mapping.RedactedEckIDPrefix+"2" || d.Leerkrachten.Leerkracht[0].Eckid != mapping.RedactedEckIDPrefix+"3" {
		t.Errorf("ECK iD markers %q %q %q, want 1, 2, 3 in order", l1.Eckid, l2.Eckid, d.Leerkrachten.Leerkracht[0].Eckid)
	}
	if want := "sleutel redacted:key en redacted:key van redacted:eckid:1"; l2.Roepnaam != want {
		t.Errorf("roepnaam %q, want %q (the same ECK iD, the same number)", l2.Roepnaam, want)
	}

	h, checked := mapping.CheckAnswer(soap.Handler{})
	sum, err := soap.ReadLeerlinggegevens(bytes.NewReader(out), h)
	if err != nil {
		t.Fatalf("the capture does not read as an answer: %v", err)
	}
	if sum.Leerlingen != 2 || sum.Leerkrachten != 1 || sum.Groepen != 1 || sum.SamengesteldeGroepen != 1 || sum.Vestigingen != 1 {
		t.Errorf("capture summary %+v", sum)
	}
	for _, w := range func() []string { ws, _ := checked(); return ws }() {
		if strings.Contains(w, "@eckid") {
			t.Errorf("a marker is warned about as an ECK iD: %s", w)
		}
	}
}

// TestRedactMagisterFixture: a real vendor answer (prefixed elements, any
// order, placeholder ECK iDs) reads the same after redaction.
func TestRedactMagisterFixture(t *testing.T) {
	in, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	out, st := redact(t, in, nil)
	want, err := soap.ReadLeerlinggegevens(bytes.NewReader(in), soap.Handler{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := soap.ReadLeerlinggegevens(bytes.NewReader(out), soap.Handler{})
	if err != nil {
		t.Fatalf("redacted fixture does not read: %v", err)
	}
	if got.Leerlingen != want.Leerlingen || got.Leerkrachten != want.Leerkrachten || got.Groepen != want.Groepen ||
		got.SamengesteldeGroepen != want.SamengesteldeGroepen || got.School.Brincode != want.School.Brincode {
		t.Errorf("redacted %+v, original %+v", got, want)
	}
	eckids := regexp.MustCompile(`eckid="([^"]*)"`).FindAllSubmatch(in, -1)
	if st.EckIDs != len(eckids) || bytes.Contains(out, []byte("eckid_L1")) || bytes.Contains(out, []byte("ketenid")) {
		t.Errorf("stats %+v for %d ECK iDs in the fixture; placeholders or ECK iDs left in the capture", st, len(eckids))
	}
}

func TestScrubFault(t *testing.T) {
	in := `<?xml version="1.0"?><soap:Envelope xmlns:soap="` + uwlr.NSSOAPEnvelope + `"><soap:Header><x>` + key + `</x></soap:Header>` +
		`<soap:Body><soap:Fault><faultcode>soap:Client.LeerlingOngeldig</faultcode><faultstring>leerling ` + eckid(4) +
		` met sleutel ` + strings.ToUpper(key) + `</faultstring><detail><reden at="` + key + `">` + eckid(4) + `</reden></detail>` +
		`</soap:Fault></soap:Body></soap:Envelope>`
	var out bytes.Buffer
	st, err := capture.ScrubFault(&out, strings.NewReader(in), soap.NewScrubber(key))
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "ketenid") || strings.Contains(strings.ToLower(s), strings.ToLower(key)) || strings.Contains(s, "Header") {
		t.Errorf("scrubbed fault:\n%s", s)
	}
	if !strings.Contains(s, "<detail><reden at=\"redacted:key\">redacted:eckid:1</reden></detail>") || st.EckIDs != 1 || st.Keys != 2 {
		t.Errorf("scrubbed fault (stats %+v):\n%s", st, s)
	}
	_, err = soap.ReadLeerlinggegevens(&out, soap.Handler{})
	var se *soap.Error
	if !errors.As(err, &se) || se.Code != soap.CodeLeerlingOngeldig {
		t.Errorf("the scrubbed fault reads as %v, want the fault", err)
	}
}

func TestRedactRefuses(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"not XML", "this is not <xml"},
		{"unclosed", `<leerlinggegevens_antwoord xmlns="` + uwlr.NSLeerlinggegevens + `"><leerlinggegevens>`},
		{"mismatched", `<leerlinggegevens_antwoord><geengegevens></leerlinggegevens_antwoord></geengegevens>`},
		{"not an answer", `<leerresultaten_bevestiging/>`},
		{"empty", ``},
		{"two roots", `<leerlinggegevens_antwoord><geengegevens/></leerlinggegevens_antwoord><leerlinggegevens_antwoord/>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := capture.Redact(io.Discard, strings.NewReader(tt.in), nil); err == nil {
				t.Errorf("Redact accepted %q", tt.in)
			}
		})
	}
}

// TestRedactStreams: the capture is written while the answer is still
// being read, so memory does not grow with the answer.
func TestRedactStreams(t *testing.T) {
	pr, pw := io.Pipe()
	var wrote atomic.Int64
	out := writerFunc(func(p []byte) (int, error) { wrote.Add(int64(len(p))); return len(p), nil })
	done := make(chan error, 1)
	go func() { _, err := capture.Redact(out, pr, nil); done <- err }()
	io.WriteString(pw, `<leerlinggegevens_antwoord xmlns="`+uwlr.NSLeerlinggegevens+`"><leerlinggegevens><school><schooljaar>2025-2026</schooljaar>`+
		`<brincode>12AB</brincode></school><leerlingen>`)
	const pupils = 5000
	for i := range pupils {
		fmt.Fprintf(pw, `<leerling key="L%d" eckid="%s"><achternaam>Jansen</achternaam><bsn>123456789</bsn></leerling>`, i, eckid(i))
	}
	before := wrote.Load()
	io.WriteString(pw, `</leerlingen></leerlinggegevens></leerlinggegevens_antwoord>`)
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if before == 0 {
		t.Errorf("nothing was written before the answer ended (%d bytes after): the capture buffers the whole answer", wrote.Load())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
