package conformance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const jaar = "2025-2026"

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startSim serves a simulated LAS with two schools on loopback HTTP and
// returns the target for its first school.
func startSim(t *testing.T, profile string, tweak func(*lassim.Sim)) (*httptest.Server, conformance.Target, lassim.Credentials) {
	t.Helper()
	prof := lassim.Profiles[profile]
	srv := httptest.NewUnstartedServer(nil)
	endpoint := "http://" + srv.Listener.Addr().String() + prof.Path
	w := lassim.NewWorld(lassim.Options{Seed: 17, Schools: 2, Pupils: 30, Profile: prof, Schooljaar: jaar,
		Now: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC), Endpoint: endpoint})
	sim := lassim.NewSim(w, prof, 17)
	if tweak != nil {
		tweak(sim)
	}
	srv.Config.Handler = sim.Handler(endpoint)
	srv.Start()
	t.Cleanup(srv.Close)
	c := w.Schools[0].Creds
	return srv, conformance.Target{Endpoint: endpoint, Brincode: c.Brin, Dependancecode: c.Dependancecode,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Autorisatiesleutel: c.Autorisatiesleutel,
		Xsdversie: c.Xsdversie, Schooljaar: jaar}, c
}

func caseNames() []string {
	var names []string
	for _, c := range conformance.Cases() {
		names = append(names, c.Name)
	}
	return names
}

// TestRunAgainstSim: the simulated LAS of every profile passes every case.
func TestRunAgainstSim(t *testing.T) {
	for _, tt := range []struct {
		name    string
		profile string
		opts    func(c lassim.Credentials) conformance.Options
		target  func(tg *conformance.Target)
	}{
		{name: "standard", profile: "standard"},
		{name: "standard, quoted SOAPAction", profile: "standard",
			opts: func(lassim.Credentials) conformance.Options { return conformance.Options{QuoteSOAPAction: true} }},
		{name: "standard, xsdversie defaulted", profile: "standard", target: func(tg *conformance.Target) { tg.Xsdversie = "" }},
		{name: "standard, dependancecode defaulted", profile: "standard", target: func(tg *conformance.Target) { tg.Dependancecode = "" }},
		{name: "magister", profile: "magister"},
		{name: "somtoday", profile: "somtoday"},
		{name: "esis over plain HTTP", profile: "esis"},
		{name: "iddink with subscription header", profile: "iddink", opts: func(c lassim.Credentials) conformance.Options {
			return conformance.Options{Header: http.Header{"Iddinkhub-Subscription-Key": {c.SubscriptionKey}}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, target, creds := startSim(t, tt.profile, nil)
			if tt.target != nil {
				tt.target(&target)
			}
			var o conformance.Options
			if tt.opts != nil {
				o = tt.opts(creds)
			}
			var progressed []string
			rep, err := conformance.Run(ctxT(t), srv.Client(), target, o, func(r conformance.Result) { progressed = append(progressed, r.Name) })
			if err != nil {
				t.Fatal(err)
			}
			n := len(conformance.Cases())
			if rep.Passed != n || rep.Failed != 0 || len(rep.Cases) != n || rep.Endpoint != target.Endpoint {
				t.Errorf("passed %d, failed %d, %d results, endpoint %q; want %d passed", rep.Passed, rep.Failed, len(rep.Cases), rep.Endpoint, n)
			}
			for i, r := range rep.Cases {
				want := conformance.Cases()[i].Expected
				if want == "" {
					want = "answer"
				}
				// Detail holds the faultstring; a fault with a status other than 500 would say so there.
				if !r.OK || r.Got != want || r.Expected != want || strings.Contains(r.Detail, "wants 500") {
					t.Errorf("case %q: %+v, want %s", r.Name, r, want)
				}
			}
			if !slices.Equal(progressed, caseNames()) {
				t.Errorf("progress saw %v", progressed)
			}
		})
	}
}

// TestRunIddinkWithoutHeader: without the subscription key every case hits
// the API gateway's 401 and fails.
func TestRunIddinkWithoutHeader(t *testing.T) {
	srv, target, _ := startSim(t, "iddink", nil)
	rep, err := conformance.Run(ctxT(t), srv.Client(), target, conformance.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 0 || rep.Failed != len(conformance.Cases()) {
		t.Fatalf("passed %d failed %d, want all failed", rep.Passed, rep.Failed)
	}
	for _, r := range rep.Cases {
		if r.OK || r.Got != "HTTP 401, not a UWLR answer" {
			t.Errorf("case %q: %+v", r.Name, r)
		}
	}
}

// dataBackend always answers with a school of one pupil.
type dataBackend struct{}

func (dataBackend) Handle(context.Context, *soap.Call) (any, error) {
	return &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
		School:     uwlr.School{Schooljaar: jaar, Brincode: "12AB", Dependancecode: "00", Xsdversie: "2.2"},
		Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Key: "L1", Achternaam: "Jansen"}}},
	}}, nil
}

// faultBackend always answers with one fault.
type faultBackend string

func (f faultBackend) Handle(context.Context, *soap.Call) (any, error) {
	return nil, soap.NewFault(string(f), "")
}

// TestRunDetectsBrokenLAS proves the checker can fail: against LASes that
// answer wrongly, exactly the cases whose expectation they miss fail.
func TestRunDetectsBrokenLAS(t *testing.T) {
	faultWith200 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
			`<faultcode>s:Client.AutorisatieOngeldig</faultcode><faultstring>nee</faultstring></s:Fault></s:Body></s:Envelope>`))
	})
	for _, tt := range []struct {
		name    string
		handler func(t *testing.T) (http.Handler, conformance.Target)
		passed  []string // the cases that must pass; all others must fail
		gotAll  string   // when set, what every failed case got
		detail  string   // when set, a text every result's Detail holds
	}{
		{name: "always data", handler: fixed(&soap.Server{Backend: dataBackend{}}),
			passed: []string{"Geldig verzoek", "Bagger XML"}, gotAll: "answer"},
		{name: "always Client.OngeldigBericht", handler: fixed(&soap.Server{Backend: faultBackend(soap.CodeOngeldigBericht)}),
			passed: []string{"Bagger XML", "Fout schooljaar", "Invalide BRIN code", "Invalide dependance code", "Invalide datum"},
			gotAll: soap.CodeOngeldigBericht},
		{name: "always Client.AutorisatieOngeldig with HTTP 200", handler: fixed(faultWith200),
			passed: []string{"Ongeldige autorisatieheader (geen header)", "Ongeldige autorisatieheader (lege autorisatiesleutel)",
				"Foute autorisatiesleutel", "Foute BRIN code", "Foute dependance code", "Foute schoolkey"},
			gotAll: soap.CodeAutorisatieOngeldig, detail: "HTTP 200"},
		{name: "not a SOAP endpoint", handler: fixed(http.NotFoundHandler()), gotAll: "HTTP 404, not a UWLR answer"},
		{name: "simulator with FaultRate 1", handler: func(t *testing.T) (http.Handler, conformance.Target) {
			srv, target, _ := startSim(t, "standard", func(s *lassim.Sim) { s.FaultRate = 1 })
			return forward(srv, target.Endpoint, nil), target
		}, passed: []string{"Bagger XML"}, gotAll: soap.CodeTijdelijkNietBeschikbaar},
		{name: "simulator that ignores the klant identification", handler: func(t *testing.T) (http.Handler, conformance.Target) {
			// The real simulator behind a front that rewrites klantcode and
			// klantnaam to the right values: a LAS that never checks them.
			srv, target, _ := startSim(t, "standard", nil)
			return forward(srv, target.Endpoint, strings.NewReplacer(
				target.Klantcode+"-FOUT", target.Klantcode, target.Klantnaam+"-FOUT", target.Klantnaam).Replace), target
		}, passed: without(caseNames(), "Foute klantnaam", "Foute klantcode"), gotAll: "answer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, target := tt.handler(t)
			srv := httptest.NewServer(h)
			defer srv.Close()
			target.Endpoint = srv.URL + "/las"
			rep, err := conformance.Run(ctxT(t), srv.Client(), target, conformance.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var passed []string
			for _, r := range rep.Cases {
				if r.OK {
					passed = append(passed, r.Name)
					if r.Got != r.Expected {
						t.Errorf("case %q passed with got %q != expected %q", r.Name, r.Got, r.Expected)
					}
				} else {
					if r.Got == r.Expected {
						t.Errorf("case %q failed with got == expected %q", r.Name, r.Got)
					}
					if tt.gotAll != "" && r.Got != tt.gotAll {
						t.Errorf("case %q got %q, want %q", r.Name, r.Got, tt.gotAll)
					}
				}
				if tt.detail != "" && !strings.Contains(r.Detail, tt.detail) {
					t.Errorf("case %q detail %q, want it to mention %q", r.Name, r.Detail, tt.detail)
				}
			}
			if !slices.Equal(passed, tt.passed) {
				t.Errorf("passed cases %q\nwant %q", passed, tt.passed)
			}
			if rep.Passed != len(tt.passed) || rep.Failed != len(conformance.Cases())-len(tt.passed) {
				t.Errorf("report counts passed %d failed %d", rep.Passed, rep.Failed)
			}
		})
	}
}

// fixed is a handler with a target whose credentials it never checks.
func fixed(h http.Handler) func(t *testing.T) (http.Handler, conformance.Target) {
	return func(*testing.T) (http.Handler, conformance.Target) {
		return h, conformance.Target{Brincode: "12AB", Klantcode: "K", Klantnaam: "N", Autorisatiesleutel: "S", Schooljaar: jaar}
	}
}

// forward relays every request over HTTP to the simulator at endpoint,
// after rewrite (when set) has edited the request envelope.
func forward(sim *httptest.Server, endpoint string, rewrite func(string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		env := string(b)
		if rewrite != nil {
			env = rewrite(env)
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, endpoint, strings.NewReader(env))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := sim.Client().Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

func without(all []string, drop ...string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestRunRejectsIncompleteTarget: nothing is sent for an incomplete target.
func TestRunRejectsIncompleteTarget(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	full := conformance.Target{Endpoint: srv.URL, Brincode: "12AB", Klantcode: "K", Klantnaam: "N", Autorisatiesleutel: "S", Schooljaar: jaar}
	for _, tt := range []struct {
		name   string
		mutate func(tg *conformance.Target)
	}{
		{"no endpoint", func(tg *conformance.Target) { tg.Endpoint = "" }},
		{"no key", func(tg *conformance.Target) { tg.Autorisatiesleutel = "" }},
		{"no klantcode", func(tg *conformance.Target) { tg.Klantcode = "" }},
		{"no klantnaam", func(tg *conformance.Target) { tg.Klantnaam = "" }},
		{"no schooljaar", func(tg *conformance.Target) { tg.Schooljaar = "" }},
		{"no school", func(tg *conformance.Target) { tg.Brincode = "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := full
			tt.mutate(&tg)
			if rep, err := conformance.Run(ctxT(t), srv.Client(), tg, conformance.Options{}, nil); err == nil || rep != nil {
				t.Errorf("Run = %+v, %v; want an error and no report", rep, err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent for incomplete targets", n)
	}
	// A cancelled context stops before the first case.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := conformance.Run(ctx, srv.Client(), full, conformance.Options{}, nil)
	if err == nil || rep == nil || len(rep.Cases) != 0 || hits.Load() != 0 {
		t.Errorf("cancelled Run = %+v, %v (hits %d); want the context error and no case run", rep, err, hits.Load())
	}
}
