package interop

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// phpResultLine is one line the PHP LAS appends per BrengLeerresultaten.
type phpResultLine struct {
	Brincode   string `json:"brincode"`
	Resultaten []struct {
		Key        string `json:"key"`
		Leerlingid string `json:"leerlingid"`
		Toetscode  string `json:"toetscode"`
		Score      any    `json:"score"`
	} `json:"resultaten"`
}

// TestGoClientReadsPHPSoapServer runs PHP's SoapServer, fed only the
// official WSDLs, as an independent LAS and reads it with our client: the
// answers come with ns1: prefixes and SOAP-ENV envelopes, faults with
// PHP's faultcode conventions.
func TestGoClientReadsPHPSoapServer(t *testing.T) {
	requirePHP(t)
	const (
		key        = "php-interop-sleutel-0123456789"
		klantcode  = "UWLRGW"
		klantnaam  = "uwlr-gateway"
		schooljaar = "2024-2025"
	)
	resultsFile := filepath.Join(t.TempDir(), "php-results.jsonl")
	base, _ := startPHPServer(t,
		"UWLR_INTEROP_SLEUTEL="+key,
		"UWLR_INTEROP_KLANTCODE="+klantcode,
		"UWLR_INTEROP_KLANTNAAM="+klantnaam,
		"UWLR_INTEROP_RESULTS="+resultsFile,
	)
	hc := &http.Client{Timeout: 30 * time.Second}
	conn := soap.Connection{Endpoint: base + "/leerlinggegevens", Autorisatiesleutel: key,
		Klantcode: klantcode, Klantnaam: klantnaam, Brincode: "12AB", Dependancecode: "00"}

	t.Run("HaalLeerlinggegevens", func(t *testing.T) {
		var (
			school  uwlr.School
			groepen []uwlr.Groep
			comps   []uwlr.SamengesteldeGroep
			pupils  []uwlr.Leerling
			staff   []uwlr.Leerkracht
		)
		start := time.Now()
		sum, err := soap.NewClient(hc, conn).HaalLeerlinggegevens(t.Context(), soap.Request{Schooljaar: schooljaar}, soap.Handler{
			School:             func(s *uwlr.School) error { school = *s; return nil },
			Groep:              func(g *uwlr.Groep) error { groepen = append(groepen, *g); return nil },
			SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error { comps = append(comps, *g); return nil },
			Leerling:           func(l *uwlr.Leerling) error { pupils = append(pupils, *l); return nil },
			Leerkracht:         func(l *uwlr.Leerkracht) error { staff = append(staff, *l); return nil },
		})
		t.Logf("HaalLeerlinggegevens from PHP SoapServer: %v", time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("HaalLeerlinggegevens: %v", err)
		}
		wantSum := soap.Summary{Outcome: soap.OutcomeData, School: school, Groepen: 2, SamengesteldeGroepen: 1,
			Leerlingen: 3, Leerkrachten: 1, Warnings: []string{}}
		if !reflect.DeepEqual(*sum, wantSum) {
			t.Errorf("summary:\n got %s\nwant %s", show(t, *sum), show(t, wantSum))
		}
		wantSchool := uwlr.School{Schooljaar: schooljaar, Brincode: "12AB", Dependancecode: "00", Auteur: "php-soapserver", Xsdversie: "2.2"}
		if school != wantSchool {
			t.Errorf("school = %+v, want %+v", school, wantSchool)
		}
		wantGroepen := []uwlr.Groep{{Key: "G1", Naam: "Groep 1", Jaargroep: "1"}, {Key: "G2", Naam: "Groep 2", Jaargroep: "2"}}
		if !reflect.DeepEqual(groepen, wantGroepen) {
			t.Errorf("groepen = %+v, want %+v", groepen, wantGroepen)
		}
		if wantComps := []uwlr.SamengesteldeGroep{{Key: "SG1", Naam: "Leesclub"}}; !reflect.DeepEqual(comps, wantComps) {
			t.Errorf("samengestelde groepen = %+v, want %+v", comps, wantComps)
		}
		wantPupils := []uwlr.Leerling{
			{Key: "L1", Eckid: "https://ketenid.nl/201703/php-interop-l1", Achternaam: "Berg", Voorvoegsel: "van den",
				Roepnaam: "Sanne", Jaargroep: "1", Groep: &uwlr.Ref{Key: "G1"},
				SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "SG1"}}}},
			{Key: "L2", Achternaam: "Yılmaz", Roepnaam: "Emre", Jaargroep: "2", Groep: &uwlr.Ref{Key: "G2"}},
			{Key: "L3", Roepnaam: "Noor", Jaargroep: "2", Groep: &uwlr.Ref{Key: "G2"}},
		}
		if !reflect.DeepEqual(pupils, wantPupils) {
			t.Errorf("leerlingen:\n got %s\nwant %s", show(t, pupils), show(t, wantPupils))
		}
		wantStaff := []uwlr.Leerkracht{{Key: "T1", Achternaam: "Dekker", Roepnaam: "Marloes", Rol: []string{"LRK"},
			Groepen: &uwlr.LeerkrachtGroepen{
				Groep:              []uwlr.LeerkrachtGroepRef{{Key: "G1", Rol: []string{"LRK"}}, {Key: "G2"}},
				SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{Key: "SG1"}},
			}}}
		if !reflect.DeepEqual(staff, wantStaff) {
			t.Errorf("leerkrachten:\n got %s\nwant %s", show(t, staff), show(t, wantStaff))
		}
	})

	t.Run("Geengegevens", func(t *testing.T) {
		sum, err := soap.NewClient(hc, conn).HaalLeerlinggegevens(t.Context(), soap.Request{Schooljaar: "2023-2024"}, soap.Handler{})
		if err != nil {
			t.Fatalf("HaalLeerlinggegevens for a year the LAS does not hold: %v", err)
		}
		if sum.Outcome != soap.OutcomeGeenGegevens || sum.Leerlingen != 0 {
			t.Errorf("summary = %+v, want outcome geengegevens", sum)
		}
	})

	t.Run("WrongKey", func(t *testing.T) {
		for _, c := range []struct {
			name string
			mod  func(*soap.Connection)
			code string
		}{
			{"wrong autorisatiesleutel", func(c *soap.Connection) { c.Autorisatiesleutel = "not-" + key }, soap.CodeAutorisatieOngeldig},
			{"wrong klantcode", func(c *soap.Connection) { c.Klantcode = "SOMEONE" }, soap.CodeOngeldigeKlantIdentificatie},
		} {
			bad := conn
			c.mod(&bad)
			_, err := soap.NewClient(hc, bad).HaalLeerlinggegevens(t.Context(), soap.Request{Schooljaar: schooljaar}, soap.Handler{
				Leerling: func(*uwlr.Leerling) error { return errors.New("data despite a wrong credential") },
			})
			var se *soap.Error
			if !errors.As(err, &se) {
				t.Errorf("%s: error %v (%T), want *soap.Error", c.name, err, err)
				continue
			}
			if se.Code != c.code || se.Class != soap.ClassCredential || se.HTTPStatus != http.StatusInternalServerError || se.Op != uwlr.OpHaalLeerlinggegevens.Name {
				t.Errorf("%s: got %+v, want code %s, class %s, HTTP 500", c.name, se, c.code, soap.ClassCredential)
			}
			if !errors.Is(err, gateway.ErrForbidden) || se.Retryable() {
				t.Errorf("%s: %v should be gateway.ErrForbidden and not retryable", c.name, err)
			}
			if strings.Contains(se.Error(), bad.Autorisatiesleutel) {
				t.Errorf("%s: error message leaks the key: %v", c.name, se)
			}
		}

		// Record how PHP writes the faultcode: SoapFault('Client.X', ...) goes
		// out without a prefix, which FaultCodeLocal must (and does) accept.
		bad := conn
		bad.Autorisatiesleutel = "not-" + key
		c := soap.NewClient(hc, bad)
		body, err := c.RequestBody(uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: schooljaar}, nil)
		if err != nil {
			t.Fatal(err)
		}
		env, err := c.MarshalRequest(body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Post(conn.Endpoint, "text/xml; charset=utf-8", bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`<faultcode>([^<]*)</faultcode>`).FindSubmatch(raw)
		if m == nil {
			t.Fatalf("no faultcode in PHP's fault response (HTTP %d):\n%s", resp.StatusCode, raw)
		}
		t.Logf("PHP SoapServer faultcode as sent: %q (HTTP %d)", m[1], resp.StatusCode)
		if soap.FaultCodeLocal(string(m[1])) != soap.CodeAutorisatieOngeldig {
			t.Errorf("faultcode %q does not classify as %s", m[1], soap.CodeAutorisatieOngeldig)
		}
	})

	t.Run("BrengLeerresultaten", func(t *testing.T) {
		msg := &uwlr.LeerresultatenVerzoek{
			School: uwlr.ResultatenSchool{Schooljaar: schooljaar, Brincode: "12AB", Dependancecode: "00",
				Aanmaakdatum: "2025-01-20T10:00:00Z", Xsdversie: "2.2"},
			Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{{Leerlingid: "L1", Resultaten: []uwlr.Resultaat{
				{Key: "GO-R1", Afnamedatum: "2025-01-20", Toetscode: "GO-REKENEN", Score: "23"},
				{Key: "GO-R2", Afnamedatum: "2025-01-20", Toetscode: "GO-REKENEN", Score: "0"},
			}}}},
			Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: "GO-REKENEN"}, Toetsnaam: "Rekenen (Go interop)"}}},
		}
		rc := conn
		rc.Endpoint = base + "/leerresultaten"
		start := time.Now()
		if err := soap.NewClient(hc, rc).BrengLeerresultaten(t.Context(), msg); err != nil {
			t.Fatalf("BrengLeerresultaten: %v", err)
		}
		t.Logf("BrengLeerresultaten to PHP SoapServer: %v", time.Since(start).Round(time.Millisecond))
		b, err := os.ReadFile(resultsFile)
		if err != nil {
			t.Fatalf("PHP recorded nothing: %v", err)
		}
		lines := readJSONLines[phpResultLine](t, "PHP results file", string(b))
		if len(lines) != 1 {
			t.Fatalf("PHP recorded %d messages, want 1:\n%s", len(lines), b)
		}
		if lines[0].Brincode != "12AB" || len(lines[0].Resultaten) != 2 {
			t.Fatalf("PHP recorded %s", b)
		}
		for i, want := range []struct{ key, score string }{{"GO-R1", "23"}, {"GO-R2", "0"}} {
			r := lines[0].Resultaten[i]
			if r.Key != want.key || r.Leerlingid != "L1" || r.Toetscode != "GO-REKENEN" || strings.Trim(show(t, r.Score), `"`) != want.score {
				t.Errorf("PHP recorded result %d as %s, want key %s leerlingid L1 score %s", i, show(t, r), want.key, want.score)
			}
		}
	})
}
