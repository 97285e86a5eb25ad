package interop

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// clientOutput is what php/client.php prints.
type clientOutput struct {
	Operation        string         `json:"operation"`
	Functions        []string       `json:"functions"`
	Leerlinggegevens *clientSummary `json:"leerlinggegevens"`
	Geengegevens     bool           `json:"geengegevens"`
	Bevestiging      bool           `json:"bevestiging"`
	Fault            *struct {
		Code   string `json:"code"`
		String string `json:"string"`
	} `json:"fault"`
	SOAPAction      string `json:"soapaction"`
	ContentEncoding string `json:"content_encoding"`
}

type clientSummary struct {
	School struct {
		Schooljaar string `json:"schooljaar"`
		Brincode   string `json:"brincode"`
	} `json:"school"`
	Groep              int `json:"groep"`
	SamengesteldeGroep int `json:"samengestelde_groep"`
	Leerlingen         int `json:"leerlingen"`
	Leerkrachten       int `json:"leerkrachten"`
	EersteLeerling     *struct {
		Key        string `json:"key"`
		Achternaam string `json:"achternaam"`
		Eckid      string `json:"eckid"`
	} `json:"eerste_leerling"`
}

// simResultLine is the part of a las-sim results-log line checked here.
type simResultLine struct {
	Brin           string `json:"brin"`
	Dependancecode string `json:"dependancecode"`
	Results        []struct {
		Key        string  `json:"key"`
		Leerlingid string  `json:"leerlingid"`
		Toetscode  string  `json:"toetscode"`
		Score      *uint64 `json:"score"`
	} `json:"results"`
}

// TestPHPSoapClientReadsLasSim points PHP's SoapClient at las-sim's
// published WSDL and checks that what PHP reads is what the simulated LAS
// holds, that its faults arrive as SOAP faults, and that results PHP sends
// are accepted.
func TestPHPSoapClientReadsLasSim(t *testing.T) {
	requirePHP(t)
	const schooljaar = "2024-2025" // the response XSD's schooljaar enumeration ends here
	profile := lassim.Profiles["standard"]

	// The endpoint URL goes into the world and the WSDL, so the listener must
	// exist before the handler: an unstarted httptest server has one.
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String() + profile.Path
	world := lassim.NewWorld(lassim.Options{Seed: 20250115, Schools: 2, Pupils: 60, Profile: profile,
		Schooljaar: schooljaar, Now: time.Date(2025, 1, 15, 8, 0, 0, 0, time.UTC), Endpoint: endpoint})
	sim := lassim.NewSim(world, profile, 20250115)
	results := &lockedBuffer{}
	sim.Results = results
	srv.Config.Handler = sim.Handler(endpoint)
	srv.Start()
	t.Cleanup(srv.Close)

	creds := world.Credentials()[0]
	sch, ok := world.School(creds.Autorisatiesleutel)
	if !ok {
		t.Fatal("world has no school for its own first key")
	}
	pupils := sch.Pupils()
	if len(pupils) == 0 || pupils[0].Key == "" || pupils[0].Eckid == "" {
		t.Fatalf("las-sim generated no usable first pupil: %s", show(t, pupils))
	}

	// What the LAS holds, as our own client reads it.
	goClient := soap.NewClient(srv.Client(), soap.Connection{Endpoint: endpoint,
		Autorisatiesleutel: creds.Autorisatiesleutel, Klantcode: creds.Klantcode, Klantnaam: creds.Klantnaam,
		Brincode: creds.Brin, Dependancecode: creds.Dependancecode})
	want, err := goClient.HaalLeerlinggegevens(t.Context(), soap.Request{Schooljaar: schooljaar}, soap.Handler{})
	if err != nil {
		t.Fatalf("Go client against las-sim: %v", err)
	}
	if want.Outcome != soap.OutcomeData || want.Leerlingen != len(pupils) || want.Groepen == 0 || want.SamengesteldeGroepen == 0 || want.Leerkrachten == 0 {
		t.Fatalf("las-sim world too thin for this test: %+v (pupils %d)", want, len(pupils))
	}

	wsdlURL := endpoint + "?wsdl"
	clientEnv := func(t *testing.T, env []string, wsdl, key string, extra ...string) clientOutput {
		t.Helper()
		var out clientOutput
		args := append([]string{wsdl, endpoint, key, creds.Klantcode, creds.Klantnaam, creds.Brin, creds.Dependancecode, schooljaar}, extra...)
		runPHPJSON(t, env, "client.php", &out, args...)
		return out
	}
	client := func(t *testing.T, wsdl, key string, extra ...string) clientOutput {
		t.Helper()
		return clientEnv(t, nil, wsdl, key, extra...)
	}
	noFault := func(t *testing.T, out clientOutput) {
		t.Helper()
		if out.Fault != nil {
			t.Fatalf("PHP got SOAP fault %s: %s", out.Fault.Code, out.Fault.String)
		}
	}

	t.Run("HaalLeerlinggegevens", func(t *testing.T) {
		before := sim.Calls(uwlr.OpHaalLeerlinggegevens.Name)
		out := client(t, wsdlURL, creds.Autorisatiesleutel)
		noFault(t, out)
		// Every operation of both ports of the WSDL is callable from PHP.
		for _, op := range []uwlr.Operation{uwlr.OpHaalLeerlinggegevens, uwlr.OpHaalStructuur, uwlr.OpHaalLeerlingen, uwlr.OpHaalLeerkrachten} {
			if !slices.Contains(out.Functions, op.Name) {
				t.Errorf("SoapClient.__getFunctions() = %v, missing %s", out.Functions, op.Name)
			}
		}
		if out.SOAPAction != uwlr.OpHaalLeerlinggegevens.SOAPAction {
			t.Errorf("PHP sent SOAPAction %q, want %q", out.SOAPAction, uwlr.OpHaalLeerlinggegevens.SOAPAction)
		}
		got := out.Leerlinggegevens
		if got == nil || out.Geengegevens {
			t.Fatalf("PHP read no leerlinggegevens: %s", show(t, out))
		}
		if got.School.Schooljaar != schooljaar || got.School.Brincode != creds.Brin {
			t.Errorf("school = %+v, want schooljaar %s brincode %s", got.School, schooljaar, creds.Brin)
		}
		if got.Leerlingen != want.Leerlingen || got.Groep != want.Groepen || got.SamengesteldeGroep != want.SamengesteldeGroepen || got.Leerkrachten != want.Leerkrachten {
			t.Errorf("PHP counted leerlingen/groep/samengestelde_groep/leerkrachten %d/%d/%d/%d, las-sim holds %d/%d/%d/%d",
				got.Leerlingen, got.Groep, got.SamengesteldeGroep, got.Leerkrachten,
				want.Leerlingen, want.Groepen, want.SamengesteldeGroepen, want.Leerkrachten)
		}
		first := pupils[0]
		if e := got.EersteLeerling; e == nil || e.Key != first.Key || e.Achternaam != first.Achternaam || e.Eckid != first.Eckid {
			t.Errorf("first pupil = %s, want key %s achternaam %s eckid %s", show(t, e), first.Key, first.Achternaam, first.Eckid)
		}
		if n := sim.Calls(uwlr.OpHaalLeerlinggegevens.Name) - before; n != 1 {
			t.Errorf("las-sim answered %d HaalLeerlinggegevens calls for one PHP call", n)
		}
	})

	t.Run("HaalStructuur", func(t *testing.T) {
		before := sim.Calls(uwlr.OpHaalStructuur.Name)
		out := client(t, wsdlURL, creds.Autorisatiesleutel, "HaalStructuur")
		noFault(t, out)
		if out.SOAPAction != uwlr.OpHaalStructuur.SOAPAction {
			t.Errorf("PHP sent SOAPAction %q, want the getrapt binding's %q", out.SOAPAction, uwlr.OpHaalStructuur.SOAPAction)
		}
		got := out.Leerlinggegevens
		if got == nil {
			t.Fatalf("PHP read no leerlinggegevens-structuur: %s", show(t, out))
		}
		if got.Groep != want.Groepen || got.SamengesteldeGroep != want.SamengesteldeGroepen {
			t.Errorf("PHP counted groep/samengestelde_groep %d/%d, las-sim holds %d/%d",
				got.Groep, got.SamengesteldeGroep, want.Groepen, want.SamengesteldeGroepen)
		}
		if got.Leerlingen != 0 || got.Leerkrachten != 0 || got.School.Brincode != creds.Brin {
			t.Errorf("structuur answer = %s, want the school with groups only", show(t, got))
		}
		if n := sim.Calls(uwlr.OpHaalStructuur.Name) - before; n != 1 {
			t.Errorf("las-sim answered %d HaalStructuur calls for one PHP call", n)
		}
	})

	// ext/soap's compression option gzips or deflates the request body; the
	// server must decompress it (it once parsed the raw bytes as XML and
	// answered Client.OngeldigBericht).
	t.Run("CompressedRequest", func(t *testing.T) {
		for _, enc := range []string{"gzip", "deflate"} {
			out := clientEnv(t, []string{"UWLR_INTEROP_COMPRESSION=" + enc}, wsdlURL, creds.Autorisatiesleutel, "HaalStructuur")
			if out.Fault != nil {
				t.Errorf("%s request: PHP got SOAP fault %s: %s", enc, out.Fault.Code, out.Fault.String)
				continue
			}
			if out.ContentEncoding != enc {
				t.Errorf("PHP sent Content-Encoding %q, want %q: the request was not compressed", out.ContentEncoding, enc)
			}
			if got := out.Leerlinggegevens; got == nil || got.Groep != want.Groepen || got.SamengesteldeGroep != want.SamengesteldeGroepen {
				t.Errorf("%s request: structuur = %s, want %d groep and %d samengestelde_groep", enc, show(t, got), want.Groepen, want.SamengesteldeGroepen)
			}
		}
	})

	t.Run("WrongKey", func(t *testing.T) {
		for _, c := range []struct{ name, key string }{
			{"unknown key", "not-a-key-las-sim-issued"},
			{"other school's key", world.Credentials()[1].Autorisatiesleutel},
		} {
			name, key := c.name, c.key
			out := client(t, wsdlURL, key)
			if out.Fault == nil {
				t.Errorf("%s: PHP got no SOAP fault: %s", name, show(t, out))
				continue
			}
			if !strings.HasSuffix(out.Fault.Code, soap.CodeAutorisatieOngeldig) || soap.FaultCodeLocal(out.Fault.Code) != soap.CodeAutorisatieOngeldig {
				t.Errorf("%s: faultcode %q, want one ending in %s", name, out.Fault.Code, soap.CodeAutorisatieOngeldig)
			}
			if out.Leerlinggegevens != nil {
				t.Errorf("%s: PHP read data despite the fault", name)
			}
			t.Logf("%s: PHP SoapFault faultcode %q faultstring %q", name, out.Fault.Code, out.Fault.String)
		}
	})

	t.Run("BrengLeerresultaten", func(t *testing.T) {
		before := results.String()
		pupil := pupils[0].Key
		out := client(t, endpoint+"?wsdl=leerresultaten", creds.Autorisatiesleutel, "BrengLeerresultaten", pupil, "PHP-R1", "PHP-R2")
		noFault(t, out)
		if !out.Bevestiging {
			t.Errorf("PHP got no leerresultaten_bevestiging: %s", show(t, out))
		}
		if out.SOAPAction != uwlr.OpBrengLeerresultaten.SOAPAction {
			t.Errorf("PHP sent SOAPAction %q, want %q", out.SOAPAction, uwlr.OpBrengLeerresultaten.SOAPAction)
		}
		lines := readJSONLines[simResultLine](t, "las-sim results log", strings.TrimPrefix(results.String(), before))
		if len(lines) != 1 {
			t.Fatalf("las-sim logged %d results messages, want 1:\n%s", len(lines), results.String())
		}
		l := lines[0]
		if l.Brin != creds.Brin || l.Dependancecode != creds.Dependancecode {
			t.Errorf("results for %s/%s, want %s/%s", l.Brin, l.Dependancecode, creds.Brin, creds.Dependancecode)
		}
		wantScores := map[string]uint64{"PHP-R1": 17, "PHP-R2": 0}
		if len(l.Results) != len(wantScores) {
			t.Fatalf("las-sim logged %d results, want %d: %s", len(l.Results), len(wantScores), show(t, l.Results))
		}
		for _, r := range l.Results {
			score, ok := wantScores[r.Key]
			switch {
			case !ok:
				t.Errorf("unexpected result key %q", r.Key)
			case r.Leerlingid != pupil:
				t.Errorf("result %s for leerlingid %q, want %q", r.Key, r.Leerlingid, pupil)
			case r.Score == nil || *r.Score != score:
				t.Errorf("result %s score %s, want %d", r.Key, show(t, r.Score), score)
			case r.Toetscode != "PHP-REKENEN":
				t.Errorf("result %s toetscode %q", r.Key, r.Toetscode)
			}
			delete(wantScores, r.Key)
		}
	})
}
