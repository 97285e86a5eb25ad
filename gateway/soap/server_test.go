package soap_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// backendFunc is a vendor's LAS in a few lines: the far side of these tests.
type backendFunc func(ctx context.Context, call *soap.Call) (any, error)

func (f backendFunc) Handle(ctx context.Context, call *soap.Call) (any, error) { return f(ctx, call) }

// rawEnvelope replays a recorded response envelope byte for byte.
type rawEnvelope []byte

func (r rawEnvelope) WriteEnvelope(w io.Writer) error { _, err := w.Write(r); return err }

// bodyFunc streams the answer element.
type bodyFunc func(w io.Writer) error

func (f bodyFunc) WriteBody(w io.Writer) error { return f(w) }

// newLAS serves srv over loopback HTTP for the duration of the test.
func newLAS(t *testing.T, srv *soap.Server) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs
}

// rawClient does not decompress, so tests see exactly what the server sent.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

type rawResponse struct {
	status int
	header http.Header
	body   []byte // decompressed when the server used gzip
}

func post(t *testing.T, url, soapAction, body string, hdr http.Header) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if soapAction != "" {
		req.Header.Set("SOAPAction", soapAction)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("gzip response: %v", err)
		}
		rd = gz
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return rawResponse{resp.StatusCode, resp.Header, b}
}

// wireFault decodes a SOAP 1.1 fault envelope strictly, independent of the package's reader.
func wireFault(t *testing.T, body []byte) uwlr.Fault {
	t.Helper()
	var env struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
		Body    struct {
			Fault *uwlr.Fault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Body.Fault == nil {
		t.Fatalf("response is not a SOAP fault envelope (%v): %s", err, body)
	}
	return *env.Body.Fault
}

func mustEnvelope(t *testing.T, auth *uwlr.Autorisatie, body any) string {
	t.Helper()
	b, err := soap.MarshalEnvelope(auth, body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var testAuth = &uwlr.Autorisatie{Autorisatiesleutel: "sleutel-0123456789", Klantcode: "KC1", Klantnaam: "Gateway"}

func validVerzoek() *uwlr.LeerlinggegevensVerzoek {
	return &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: uwlr.VerzoekBasis{Schooljaar: "2025-2026", Brincode: "12AB", Dependancecode: "00", Xsdversie: "2.2"}}
}

func TestServerRejectsBadRequests(t *testing.T) {
	valid := mustEnvelope(t, testAuth, validVerzoek())
	v1 := strings.ReplaceAll(valid, "/leerresultaten/2/leerlinggegevens", "/leerresultaten/1/leerlinggegevens")
	tests := []struct {
		name       string
		method     string
		soapAction string
		body       string
		wantStatus int
		wantDetail string // fragment of the faultstring; empty for non-SOAP answers
	}{
		{"GET", http.MethodGet, "", "", http.StatusMethodNotAllowed, ""},
		{"PUT", http.MethodPut, "", valid, http.StatusMethodNotAllowed, ""},
		{"garbage", http.MethodPost, "", "this is not <xml", 500, "not a readable SOAP 1.1 request"},
		{"empty body", http.MethodPost, "", "", 500, "not a readable SOAP 1.1 request"},
		{"SOAP 1.2 envelope", http.MethodPost, "", strings.ReplaceAll(valid, uwlr.NSSOAPEnvelope, "http://www.w3.org/2003/05/soap-envelope"), 500, "not a SOAP 1.1 Envelope"},
		{"empty soap body", http.MethodPost, "", `<s:Envelope xmlns:s="` + uwlr.NSSOAPEnvelope + `"><s:Body></s:Body></s:Envelope>`, 500, "empty"},
		{"unknown body element", http.MethodPost, "", strings.ReplaceAll(valid, "leerlinggegevens_verzoek", "leerlinggegevens_vraag"), 500, `unknown request element "leerlinggegevens_vraag"`},
		{"answer sent as request", http.MethodPost, "", mustEnvelope(t, testAuth, &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}), 500, "unknown request element"},
		{"SOAPAction mismatch", http.MethodPost, "BrengLeerresultaten", valid, 500, "does not match"},
		{"quoted SOAPAction mismatch", http.MethodPost, `"` + uwlr.OpHaalStructuur.SOAPAction + `"`, valid, 500, "does not match"},
		{"v1 namespace", http.MethodPost, "HaalLeerlinggegevens", v1, 500, "is not in namespace " + uwlr.NSLeerlinggegevens},
		{"results in leerlinggegevens namespace", http.MethodPost, "", strings.ReplaceAll(mustEnvelope(t, testAuth, &uwlr.LeerresultatenVerzoek{}), uwlr.NSLeerresultaten, uwlr.NSLeerlinggegevens), 500, "is not in namespace " + uwlr.NSLeerresultaten},
		{"malformed after body", http.MethodPost, "", strings.TrimSuffix(valid, "</soap:Envelope>") + "</soap:Body>", 500, "request envelope"},
		{"malformed request element", http.MethodPost, "", strings.Replace(valid, "</schooljaar>", "</brincode>", 1), 500, "request body"},
	}
	var called atomic.Int32
	las := newLAS(t, &soap.Server{Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
		called.Add(1)
		return &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}, nil
	})})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, las.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.soapAction != "" {
				req.Header.Set("SOAPAction", tt.soapAction)
			}
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed {
				if got := resp.Header.Get("Allow"); got != http.MethodPost {
					t.Errorf("Allow = %q, want POST", got)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			f := wireFault(t, body)
			if f.Code != "soap:"+soap.CodeOngeldigBericht {
				t.Errorf("faultcode = %q, want soap:%s", f.Code, soap.CodeOngeldigBericht)
			}
			if !strings.HasPrefix(f.String, "Ongeldig bericht: ") || !strings.Contains(f.String, tt.wantDetail) {
				t.Errorf("faultstring = %q, want %q with detail %q", f.String, "Ongeldig bericht: …", tt.wantDetail)
			}
		})
	}
	if n := called.Load(); n != 0 {
		t.Errorf("backend was called %d times for invalid requests", n)
	}

	// The control: the valid envelope does reach the backend.
	if r := post(t, las.URL, "HaalLeerlinggegevens", valid, nil); r.status != http.StatusOK || called.Load() != 1 {
		t.Errorf("valid request: status %d, backend calls %d; body %s", r.status, called.Load(), r.body)
	}
}

func TestServerBackendErrors(t *testing.T) {
	internal := errors.New("database password is hunter2")
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantString string
		wantClass  soap.Class
		wantOnErr  bool
	}{
		{"fault without text", &soap.Fault{Code: soap.CodeAutorisatieOngeldig}, soap.CodeAutorisatieOngeldig, "Autorisatie ongeldig", soap.ClassCredential, false},
		{"fault with detail", soap.NewFault(soap.CodeXsdVersieOngeldig, "alleen 2.2"), soap.CodeXsdVersieOngeldig, "XSD versie ongeldig: alleen 2.2", soap.ClassVersion, false},
		{"wrapped fault", fmt.Errorf("check: %w", soap.NewFault(soap.CodeTijdelijkNietBeschikbaar, "")), soap.CodeTijdelijkNietBeschikbaar, "Tijdelijk niet beschikbaar", soap.ClassTemporary, false},
		{"vendor code", &soap.Fault{Code: "Client.EigenCode", String: "iets eigens"}, "Client.EigenCode", "iets eigens", soap.ClassRequest, false},
		{"plain error", internal, soap.CodeInterneFout, "Interne fout", soap.ClassTemporary, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var onErr []string
			las := newLAS(t, &soap.Server{
				Backend: backendFunc(func(context.Context, *soap.Call) (any, error) { return nil, tt.err }),
				OnError: func(op string, err error) {
					mu.Lock()
					defer mu.Unlock()
					onErr = append(onErr, op+": "+err.Error())
				},
			})

			// On the wire.
			r := post(t, las.URL, "", mustEnvelope(t, testAuth, validVerzoek()), nil)
			if r.status != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", r.status)
			}
			f := wireFault(t, r.body)
			if f.Code != "soap:"+tt.wantCode || f.String != tt.wantString {
				t.Errorf("fault = %q / %q, want soap:%s / %q", f.Code, f.String, tt.wantCode, tt.wantString)
			}
			if bytes.Contains(r.body, []byte("hunter2")) {
				t.Errorf("internal error text reached the client: %s", r.body)
			}

			// Through our own client.
			_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			se := asSOAPError(t, err)
			if se.Code != tt.wantCode || se.Class != tt.wantClass || se.HTTPStatus != 500 || se.Message != tt.wantString || se.Op != "HaalLeerlinggegevens" {
				t.Errorf("client error = %+v", se)
			}

			mu.Lock()
			defer mu.Unlock()
			if tt.wantOnErr {
				want := "HaalLeerlinggegevens: " + internal.Error()
				if len(onErr) != 2 || onErr[0] != want || onErr[1] != want {
					t.Errorf("OnError calls = %q, want two of %q", onErr, want)
				}
			} else if len(onErr) != 0 {
				t.Errorf("OnError called for a deliberate fault: %q", onErr)
			}
		})
	}
}

func TestServerDecodesCalls(t *testing.T) {
	type seen struct {
		op      string
		auth    uwlr.Autorisatie
		request any
		header  http.Header
		raw     string
	}
	calls := make(chan seen, 1)
	las := newLAS(t, &soap.Server{KeepRaw: true, Backend: backendFunc(func(_ context.Context, c *soap.Call) (any, error) {
		s := seen{op: c.Op.Name, request: c.Request, header: c.Header.Clone(), raw: string(c.Raw)}
		if c.Auth != nil {
			s.auth = *c.Auth
		}
		calls <- s
		switch c.Request.(type) {
		case *uwlr.LeerlinggegevensVerzoek:
			return &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}, nil
		case *uwlr.StructuurVerzoek:
			return &uwlr.StructuurAntwoord{Geenwijzigingen: &uwlr.Leeg{}}, nil
		case *uwlr.LeerlingenVerzoek:
			return &uwlr.LeerlingenAntwoord{Geengegevens: &uwlr.Leeg{}}, nil
		case *uwlr.LeerkrachtenVerzoek:
			return &uwlr.LeerkrachtenAntwoord{Geengegevens: &uwlr.Leeg{}}, nil
		case *uwlr.LeerresultatenVerzoek:
			return &uwlr.LeerresultatenBevestiging{}, nil
		}
		return nil, fmt.Errorf("unexpected request %T", c.Request)
	})})
	conn := testConn(las.URL)
	conn.Header = http.Header{}
	conn.Header.Set("IddinkHub-Subscription-Key", "sub-1")
	cl := soap.NewClient(nil, conn)
	ctx := context.Background()
	sel := uwlr.GroepenSelectie{Groep: []uwlr.GroepSelectie{{Key: "G1"}}, SamengesteldeGroep: []uwlr.GroepSelectie{{Key: ""}}}

	tests := []struct {
		op      string
		call    func() (soap.Outcome, error)
		checkRq func(t *testing.T, rq any)
		want    soap.Outcome
	}{
		{"HaalLeerlinggegevens", func() (soap.Outcome, error) {
			s, err := cl.HaalLeerlinggegevens(ctx, testRequest, soap.Handler{})
			return outcome(s), err
		}, func(t *testing.T, rq any) {
			r, ok := rq.(*uwlr.LeerlinggegevensVerzoek)
			if !ok || r.Schooljaar != testRequest.Schooljaar || r.Brincode != conn.Brincode || r.Dependancecode != conn.Dependancecode || r.Xsdversie != "2.2" {
				t.Errorf("request = %#v", rq)
			}
		}, soap.OutcomeGeenGegevens},
		{"HaalStructuur", func() (soap.Outcome, error) {
			s, err := cl.HaalStructuur(ctx, testRequest, soap.Handler{})
			return outcome(s), err
		}, func(t *testing.T, rq any) {
			if r, ok := rq.(*uwlr.StructuurVerzoek); !ok || r.Brincode != conn.Brincode {
				t.Errorf("request = %#v", rq)
			}
		}, soap.OutcomeGeenWijzigingen},
		{"HaalLeerlingen", func() (soap.Outcome, error) {
			s, err := cl.HaalLeerlingen(ctx, testRequest, sel, soap.Handler{})
			return outcome(s), err
		}, func(t *testing.T, rq any) {
			r, ok := rq.(*uwlr.LeerlingenVerzoek)
			if !ok || len(r.Groepen.Groep) != 1 || r.Groepen.Groep[0].Key != "G1" || len(r.Groepen.SamengesteldeGroep) != 1 || r.Groepen.SamengesteldeGroep[0].Key != "" {
				t.Errorf("request = %#v", rq)
			}
		}, soap.OutcomeGeenGegevens},
		{"HaalLeerkrachten", func() (soap.Outcome, error) {
			s, err := cl.HaalLeerkrachten(ctx, testRequest, sel, soap.Handler{})
			return outcome(s), err
		}, func(t *testing.T, rq any) {
			if r, ok := rq.(*uwlr.LeerkrachtenVerzoek); !ok || len(r.Groepen.Groep) != 1 {
				t.Errorf("request = %#v", rq)
			}
		}, soap.OutcomeGeenGegevens},
		{"BrengLeerresultaten", func() (soap.Outcome, error) {
			return "", cl.BrengLeerresultaten(ctx, testResults())
		}, func(t *testing.T, rq any) {
			r, ok := rq.(*uwlr.LeerresultatenVerzoek)
			if !ok || len(r.Toetsafnames.Toetsafname) != 1 || r.Toetsafnames.Toetsafname[0].Leerlingid != "P1" ||
				len(r.Toetsafnames.Toetsafname[0].Resultaten) != 1 || r.Toetsafnames.Toetsafname[0].Resultaten[0].Score != "0" {
				t.Errorf("request = %#v", rq)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			oc, err := tt.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			s := <-calls
			if s.op != tt.op {
				t.Errorf("Call.Op = %s, want %s", s.op, tt.op)
			}
			if s.auth != (uwlr.Autorisatie{XMLName: s.auth.XMLName, Autorisatiesleutel: conn.Autorisatiesleutel, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam}) {
				t.Errorf("Call.Auth = %+v", s.auth)
			}
			if s.header.Get("IddinkHub-Subscription-Key") != "sub-1" {
				t.Errorf("Call.Header = %v", s.header)
			}
			if !strings.HasPrefix(s.raw, "<?xml") || !strings.Contains(s.raw, conn.Autorisatiesleutel) {
				t.Errorf("Call.Raw = %.200s", s.raw)
			}
			tt.checkRq(t, s.request)
			if oc != tt.want {
				t.Errorf("outcome = %q, want %q", oc, tt.want)
			}
		})
	}

	// A request without autorisatie header reaches the backend with Auth nil.
	r := post(t, las.URL, "", mustEnvelope(t, nil, validVerzoek()), nil)
	s := <-calls
	if r.status != http.StatusOK || s.auth != (uwlr.Autorisatie{}) {
		t.Errorf("without header: status %d, auth %+v", r.status, s.auth)
	}
}

func outcome(s *soap.Summary) soap.Outcome {
	if s == nil {
		return ""
	}
	return s.Outcome
}
