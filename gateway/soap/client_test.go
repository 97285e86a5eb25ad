package soap_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// ---------------------------------------------------------------------------
// Shared helpers

// testKey is long like a real Somtoday key and distinctive, so that any
// fragment of it in an error is easy to spot.
const testKey = "KEYa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F2G3H4I5J6K7L8M9N0xyzKEY"

var testRequest = soap.Request{Schooljaar: "2025-2026"}

func testConn(endpoint string) soap.Connection {
	return soap.Connection{
		Endpoint:           endpoint,
		Autorisatiesleutel: testKey,
		Klantcode:          "KC-0001",
		Klantnaam:          "UWLR Gateway",
		Brincode:           "12AB",
		Dependancecode:     "00",
	}
}

func testResults() *uwlr.LeerresultatenVerzoek {
	return &uwlr.LeerresultatenVerzoek{
		School: uwlr.ResultatenSchool{Schooljaar: "2025-2026", Brincode: "12AB", Dependancecode: "00", Aanmaakdatum: "2025-10-01T12:00:00Z", Xsdversie: "2.2"},
		Toetsafnames: uwlr.Toetsafnames{Toetsafname: []uwlr.Toetsafname{{
			Leerlingid: "P1",
			Resultaten: []uwlr.Resultaat{{Key: "R1", Afnamedatum: "2025-09-30", Toetscode: "REKENEN-M4", Score: "0"}},
		}}},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: "REKENEN-M4"}, Toetsnaam: "Rekenen M4"}}},
	}
}

func asSOAPError(t *testing.T, err error) *soap.Error {
	t.Helper()
	var se *soap.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *soap.Error", err, err)
	}
	if strings.TrimSpace(se.Hint) == "" {
		t.Errorf("error %v has no hint", se)
	}
	if !errors.Is(err, wantKind[se.Class]) {
		t.Errorf("errors.Is(err, %v) = false for class %s", wantKind[se.Class], se.Class)
	}
	return se
}

// rawLAS serves h over loopback HTTP: a vendor misbehaving at HTTP level.
func rawLAS(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	if _, err := gz.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// answerFor is a minimal valid answer for the operation a raw request names.
func answerFor(soapAction string) string {
	op, _ := uwlr.OperationBySOAPAction(soapAction)
	if op == uwlr.OpBrengLeerresultaten {
		return soapEnv(`<r:leerresultaten_bevestiging xmlns:r="` + uwlr.NSLeerresultaten + `"/>`)
	}
	return soapEnv(`<lg:` + op.Response + ` xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:geengegevens/></lg:` + op.Response + `>`)
}

// ---------------------------------------------------------------------------
// The request on the wire

type captured struct {
	method string
	header http.Header
	body   []byte
}

// xmlElem is one child element as found on the wire.
type xmlElem struct{ space, local, text string }

// children returns the name of the first element called local and its child
// elements in document order, with their text.
func children(t *testing.T, doc []byte, local string) (string, []xmlElem) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no <%s> in request: %v\n%s", local, err, doc)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != local {
			continue
		}
		var kids []xmlElem
		depth := 0
		for {
			tok, err := d.Token()
			if err != nil {
				t.Fatalf("reading <%s>: %v", local, err)
			}
			switch tk := tok.(type) {
			case xml.StartElement:
				depth++
				if depth == 1 {
					kids = append(kids, xmlElem{space: tk.Name.Space, local: tk.Name.Local})
				}
			case xml.CharData:
				if depth == 1 {
					kids[len(kids)-1].text += string(tk)
				}
			case xml.EndElement:
				if depth == 0 {
					return se.Name.Space, kids
				}
				depth--
			}
		}
	}
}

func TestClientRequestWireShape(t *testing.T) {
	reqs := make(chan captured, 1)
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- captured{r.Method, r.Header.Clone(), b}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		io.WriteString(w, answerFor(r.Header.Get("SOAPAction")))
	})
	since := time.Date(2025, 9, 1, 12, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	sel := uwlr.GroepenSelectie{Groep: []uwlr.GroepSelectie{{Key: "G1"}}}

	type call func(cl *soap.Client) error
	pull := func(op uwlr.Operation, r soap.Request) call {
		return func(cl *soap.Client) error {
			ctx := context.Background()
			var err error
			switch op {
			case uwlr.OpHaalLeerlinggegevens:
				_, err = cl.HaalLeerlinggegevens(ctx, r, soap.Handler{})
			case uwlr.OpHaalStructuur:
				_, err = cl.HaalStructuur(ctx, r, soap.Handler{})
			case uwlr.OpHaalLeerlingen:
				_, err = cl.HaalLeerlingen(ctx, r, sel, soap.Handler{})
			case uwlr.OpHaalLeerkrachten:
				_, err = cl.HaalLeerkrachten(ctx, r, sel, soap.Handler{})
			}
			return err
		}
	}
	brinConn := func(c *soap.Connection) {
		c.Gegevenssetid = "set-7"
		c.Header = http.Header{}
		c.Header.Set("IddinkHub-Subscription-Key", "sub-secret")
	}
	fullBasis := []xmlElem{
		{uwlr.NSLeerlinggegevens, "schooljaar", "2025-2026"},
		{uwlr.NSLeerlinggegevens, "brincode", "12AB"},
		{uwlr.NSLeerlinggegevens, "dependancecode", "00"},
		{uwlr.NSLeerlinggegevens, "xsdversie", "2.2"},
		{uwlr.NSLeerlinggegevens, "gegevenssetid", "set-7"},
		{uwlr.NSLeerlinggegevens, "laatstontvangengegevens", "2025-09-01T10:30:00Z"},
	}
	tests := []struct {
		name           string
		conn           func(*soap.Connection)
		call           call
		wantAction     string
		wantGzip       bool
		wantUA         string
		wantRoot       string
		wantSpace      string
		wantFields     []xmlElem // children of the request element; nil: not checked
		wantSubscribed bool
	}{
		{
			name: "default", conn: brinConn, call: pull(uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: "2025-2026", Since: since}),
			wantAction: "HaalLeerlinggegevens", wantGzip: true, wantUA: "uwlr-gateway",
			wantRoot: "leerlinggegevens_verzoek", wantSpace: uwlr.NSLeerlinggegevens, wantFields: fullBasis, wantSubscribed: true,
		},
		{
			name: "quoted SOAPAction, no gzip, own user agent",
			conn: func(c *soap.Connection) {
				brinConn(c)
				c.QuoteSOAPAction, c.DisableGzip, c.UserAgent = true, true, "las-test/1"
			},
			call:       pull(uwlr.OpHaalLeerlinggegevens, soap.Request{Schooljaar: "2025-2026", Since: since}),
			wantAction: `"HaalLeerlinggegevens"`, wantGzip: false, wantUA: "las-test/1",
			wantRoot: "leerlinggegevens_verzoek", wantSpace: uwlr.NSLeerlinggegevens, wantFields: fullBasis, wantSubscribed: true,
		},
		{
			name: "schoolkey, version 2.3",
			conn: func(c *soap.Connection) {
				c.Brincode, c.Dependancecode, c.Schoolkey, c.Xsdversie = "", "", "school-42", "2.3"
			},
			call: pull(uwlr.OpHaalLeerlinggegevens, testRequest), wantAction: "HaalLeerlinggegevens", wantGzip: true, wantUA: "uwlr-gateway",
			wantRoot: "leerlinggegevens_verzoek", wantSpace: uwlr.NSLeerlinggegevens,
			wantFields: []xmlElem{
				{uwlr.NSLeerlinggegevens, "schooljaar", "2025-2026"},
				{uwlr.NSLeerlinggegevens, "schoolkey", "school-42"},
				{uwlr.NSLeerlinggegevens, "xsdversie", "2.3"},
			},
		},
		{
			name: "HaalStructuur", call: pull(uwlr.OpHaalStructuur, testRequest), wantGzip: true, wantUA: "uwlr-gateway",
			wantAction: "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/structuur_verzoek",
			wantRoot:   "structuur_verzoek", wantSpace: uwlr.NSLeerlinggegevens,
		},
		{
			name: "HaalLeerlingen", call: pull(uwlr.OpHaalLeerlingen, testRequest), wantGzip: true, wantUA: "uwlr-gateway",
			wantAction: "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/leerlingen_verzoek",
			wantRoot:   "leerlingen_verzoek", wantSpace: uwlr.NSLeerlinggegevens,
			wantFields: []xmlElem{
				{uwlr.NSLeerlinggegevens, "schooljaar", "2025-2026"},
				{uwlr.NSLeerlinggegevens, "brincode", "12AB"},
				{uwlr.NSLeerlinggegevens, "dependancecode", "00"},
				{uwlr.NSLeerlinggegevens, "xsdversie", "2.2"},
				{uwlr.NSLeerlinggegevens, "groepen", ""},
			},
		},
		{
			name: "HaalLeerkrachten, quoted", conn: func(c *soap.Connection) { c.QuoteSOAPAction = true },
			call: pull(uwlr.OpHaalLeerkrachten, testRequest), wantGzip: true, wantUA: "uwlr-gateway",
			wantAction: `"http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens/leerkrachten_verzoek"`,
			wantRoot:   "leerkrachten_verzoek", wantSpace: uwlr.NSLeerlinggegevens,
		},
		{
			name: "BrengLeerresultaten", call: func(cl *soap.Client) error { return cl.BrengLeerresultaten(context.Background(), testResults()) },
			wantAction: "BrengLeerresultaten", wantGzip: true, wantUA: "uwlr-gateway",
			wantRoot: "leerresultaten_verzoek", wantSpace: uwlr.NSLeerresultaten,
			wantFields: []xmlElem{
				{uwlr.NSLeerresultaten, "school", ""},
				{uwlr.NSLeerresultaten, "toetsafnames", ""},
				{uwlr.NSLeerresultaten, "toetsen", ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := testConn(las.URL)
			if tt.conn != nil {
				tt.conn(&conn)
			}
			// Our own transport: http.DefaultClient's would add Accept-Encoding itself.
			hc, err := soap.NewHTTPClient(soap.TransportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.call(soap.NewClient(hc, conn)); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := <-reqs
			if got.method != http.MethodPost {
				t.Errorf("method = %s", got.method)
			}
			if ct := got.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if sa := got.header.Values("SOAPAction"); len(sa) != 1 || sa[0] != tt.wantAction {
				t.Errorf("SOAPAction = %q, want exactly %q", sa, tt.wantAction)
			}
			if ae := got.header.Get("Accept-Encoding"); (ae == "gzip") != tt.wantGzip || (!tt.wantGzip && ae != "") {
				t.Errorf("Accept-Encoding = %q, want gzip: %v", ae, tt.wantGzip)
			}
			if ua := got.header.Get("User-Agent"); ua != tt.wantUA {
				t.Errorf("User-Agent = %q, want %q", ua, tt.wantUA)
			}
			if sk := got.header.Get("IddinkHub-Subscription-Key"); (sk == "sub-secret") != tt.wantSubscribed || (!tt.wantSubscribed && sk != "") {
				t.Errorf("IddinkHub-Subscription-Key = %q, want present: %v", sk, tt.wantSubscribed)
			}

			if !bytes.HasPrefix(got.body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Errorf("body does not start with an XML declaration: %.80s", got.body)
			}
			envSpace, envKids := children(t, got.body, "Envelope")
			if envSpace != uwlr.NSSOAPEnvelope || len(envKids) != 2 || envKids[0].local != "Header" || envKids[1].local != "Body" ||
				envKids[0].space != uwlr.NSSOAPEnvelope || envKids[1].space != uwlr.NSSOAPEnvelope {
				t.Errorf("envelope = {%s} %+v, want SOAP 1.1 Header then Body", envSpace, envKids)
			}
			authSpace, auth := children(t, got.body, "autorisatie")
			wantAuth := []xmlElem{
				{uwlr.NSAutorisatie, "autorisatiesleutel", conn.Autorisatiesleutel},
				{uwlr.NSAutorisatie, "klantcode", conn.Klantcode},
				{uwlr.NSAutorisatie, "klantnaam", conn.Klantnaam},
			}
			if authSpace != uwlr.NSAutorisatie || fmt.Sprint(auth) != fmt.Sprint(wantAuth) {
				t.Errorf("autorisatie = {%s} %+v\nwant {%s} %+v", authSpace, auth, uwlr.NSAutorisatie, wantAuth)
			}
			_, body := children(t, got.body, "Body")
			if len(body) != 1 || body[0].local != tt.wantRoot || body[0].space != tt.wantSpace {
				t.Fatalf("body = %+v, want one {%s}%s", body, tt.wantSpace, tt.wantRoot)
			}
			if tt.wantFields != nil {
				_, fields := children(t, got.body, tt.wantRoot)
				if fmt.Sprint(fields) != fmt.Sprint(tt.wantFields) {
					t.Errorf("request fields =\n%+v\nwant (XSD order)\n%+v", fields, tt.wantFields)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Faults and HTTP failures

func TestClientClassifiesResponses(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		ctype     string
		body      string
		wantCode  string
		wantClass soap.Class
		wantMsg   string // fragment of Message
		avoidMsg  string // must not be in Message
	}{
		{"fault 500", 500, "text/xml; charset=utf-8", faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Autorisatie ongeldig"),
			"Client.AutorisatieOngeldig", soap.ClassCredential, "Autorisatie ongeldig", ""},
		{"fault 500 SOAP-ENV, version", 500, "text/xml", faultEnvelope("SOAP-ENV", "SOAP-ENV:Client.XsdVersieOngeldig", "versie 2.9 onbekend"),
			"Client.XsdVersieOngeldig", soap.ClassVersion, "versie 2.9 onbekend", ""},
		{"fault 500 in text/html", 500, "text/html", faultEnvelope("soap", "soap:Server.InterneFout", "NullReferenceException"),
			"Server.InterneFout", soap.ClassTemporary, "NullReferenceException", ""},
		{"fault 200", 200, "text/xml", faultEnvelope("soap", "soap:Client.OngeldigeKlantIdentificatie", "klant onbekend"),
			"Client.OngeldigeKlantIdentificatie", soap.ClassCredential, "klant onbekend", ""},
		{"fault 200 unknown server code", 200, "text/xml", faultEnvelope("soap", "soap:Server.Iets", "druk"),
			"Server.Iets", soap.ClassTemporary, "druk", ""},
		{"401 text/plain", 401, "text/plain", "Access denied due to missing subscription key.\nSecond line", "", soap.ClassCredential, "Unauthorized: Access denied due to missing subscription key.", "Second line"},
		{"403 html", 403, "text/html", "<html><body>Forbidden</body></html>", "", soap.ClassCredential, "Forbidden", ""},
		{"404", 404, "text/html", "<html>Not Found</html>", "", soap.ClassRequest, "Not Found", ""},
		{"405", 405, "text/plain", "", "", soap.ClassRequest, "Method Not Allowed", ""},
		{"400 text/html", 400, "text/html", "<!DOCTYPE html>\n<html>Bad Request</html>", "", soap.ClassRequest, "Bad Request: <!DOCTYPE html>", "<html>"},
		{"408", 408, "text/plain", "", "", soap.ClassTemporary, "Request Timeout", ""},
		{"429", 429, "text/plain", "slow down", "", soap.ClassTemporary, "Too Many Requests", ""},
		{"500 xml, not a fault", 500, "text/xml", soapEnv("<x:error xmlns:x='urn:x'>boom</x:error>"), "", soap.ClassTemporary, "Internal Server Error", "boom"},
		{"502 html", 502, "text/html", "<html>Bad Gateway</html>", "", soap.ClassTemporary, "Bad Gateway", ""},
		{"503", 503, "text/plain", "maintenance", "", soap.ClassTemporary, "Service Unavailable: maintenance", ""},
		{"504", 504, "", "", "", soap.ClassTemporary, "Gateway Timeout", ""},
		{"200 html login page", 200, "text/html", "<html><body>Log in</body></html>", "", soap.ClassRequest, "unreadable response", ""},
		{"200 empty", 200, "text/xml", "", "", soap.ClassRequest, "unreadable response", ""},
		{"200 other answer", 200, "text/xml", answerFor("BrengLeerresultaten"), "", soap.ClassRequest, "not a UWLR leerlinggegevens answer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			se := asSOAPError(t, err)
			if se.Op != "HaalLeerlinggegevens" || se.Code != tt.wantCode || se.Class != tt.wantClass || se.HTTPStatus != tt.status {
				t.Errorf("error = %+v\nwant Op HaalLeerlinggegevens, Code %q, Class %s, HTTPStatus %d", se, tt.wantCode, tt.wantClass, tt.status)
			}
			if !strings.Contains(se.Message, tt.wantMsg) || (tt.avoidMsg != "" && strings.Contains(se.Message, tt.avoidMsg)) {
				t.Errorf("Message = %q, want it to contain %q and not %q", se.Message, tt.wantMsg, tt.avoidMsg)
			}
			if tt.wantCode != "" {
				if _, hint := soap.ClassifyFaultCode(tt.wantCode); se.Hint != hint {
					t.Errorf("Hint = %q, want the fault code's hint %q", se.Hint, hint)
				}
			}
			if se.Retryable() != (tt.wantClass == soap.ClassTemporary) {
				t.Errorf("Retryable() = %v", se.Retryable())
			}
		})
	}
}

// leaks reports whether s holds any 12-character piece of key.
func leaks(s, key string) bool {
	for i := 0; i+12 <= len(key); i++ {
		if strings.Contains(s, key[i:i+12]) {
			return true
		}
	}
	return false
}

func TestClientRedactsEchoedKey(t *testing.T) {
	long := strings.Repeat("x", 450) + " sleutel " + testKey + " onbekend" // the 500-character cut falls inside the key
	tests := []struct {
		name         string
		status       int
		ctype        string
		body         string
		fetch        bool
		wantRedacted bool
	}{
		{"fault 500", 500, "text/xml", faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Sleutel "+testKey+" is ongeldig"), false, true},
		{"fault 200", 200, "text/xml", faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Sleutel "+testKey+" is ongeldig"), false, true},
		{"fault 200 via Fetch", 200, "text/xml", faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "Sleutel "+testKey+" is ongeldig"), true, true},
		{"long fault, key at the truncation point", 500, "text/xml", faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", long), false, false},
		{"401 text/plain echoing the key", 401, "text/plain", "Invalid autorisatiesleutel " + testKey, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			cl := soap.NewClient(nil, testConn(las.URL))
			var err error
			if tt.fetch {
				_, err = cl.Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, io.Discard, nil)
			} else {
				_, err = cl.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			}
			se := asSOAPError(t, err)
			if leaks(err.Error(), testKey) || leaks(se.Message, testKey) {
				t.Errorf("error leaks the autorisatiesleutel: %q", err)
			}
			if tt.wantRedacted && !strings.Contains(se.Message, "[redacted:key]") {
				t.Errorf("Message = %q, want the key replaced by [redacted:key]", se.Message)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Compression and the response cap

func TestClientGzipAndResponseCap(t *testing.T) {
	sample := readSample(t)
	packed := gzipped(t, sample)
	size := int64(len(sample))
	if int64(len(packed)) >= size-1 {
		t.Fatalf("gzip did not shrink the sample (%d -> %d); the cap test needs it to", size, len(packed))
	}
	tests := []struct {
		name    string
		gzip    bool
		limit   int64
		fetch   bool
		wantErr bool
	}{
		{"plain, no limit", false, 0, false, false},
		{"gzip, no limit", true, 0, false, false},
		{"plain, exactly at limit", false, size, true, false},
		{"gzip, exactly at limit", true, size, true, false},
		{"plain, one byte over", false, size - 1, true, true},
		{"gzip, one byte over (cap is after decompression)", true, size - 1, true, true},
		{"pull, cut in the data", false, size / 2, false, true},
		{"pull, gzip, far over", true, 1000, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				if tt.gzip {
					if r.Header.Get("Accept-Encoding") != "gzip" {
						t.Errorf("client did not ask for gzip")
					}
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(packed)
					return
				}
				w.Write(sample)
			})
			conn := testConn(las.URL)
			conn.MaxResponseBytes = tt.limit
			cl := soap.NewClient(nil, conn)
			var (
				err error
				out bytes.Buffer
				n   int64
				sum *soap.Summary
			)
			if tt.fetch {
				n, err = cl.Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, &out, nil)
			} else {
				sum, err = cl.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			}
			if tt.wantErr {
				se := asSOAPError(t, err)
				if se.Class != soap.ClassRequest || se.HTTPStatus != 200 || !strings.Contains(se.Message, strconv.FormatInt(tt.limit, 10)) {
					t.Errorf("error = %+v, want class request mentioning the limit %d", se, tt.limit)
				}
				return
			}
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if tt.fetch && (n != size || !bytes.Equal(out.Bytes(), sample)) {
				t.Errorf("Fetch wrote %d bytes, want the %d sample bytes", n, size)
			}
			if !tt.fetch && sum.Leerlingen != 22 {
				t.Errorf("summary = %+v", sum)
			}
		})
	}
}

func TestClientDamagedGzip(t *testing.T) {
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		io.WriteString(w, "<soap:Envelope>plain text, not gzip")
	})
	_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
	if se := asSOAPError(t, err); se.Class != soap.ClassTemporary || se.HTTPStatus != 200 {
		t.Errorf("error = %+v, want temporary", se)
	}
}

// ---------------------------------------------------------------------------
// Timeouts and unreachable hosts

func TestClientTimeouts(t *testing.T) {
	// headersFirst: the LAS sends headers and half an answer, then stalls.
	stall := func(headersFirst bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			// The server notices a client hanging up only once the body is read.
			io.Copy(io.Discard, r.Body)
			if headersFirst {
				w.Header().Set("Content-Type", "text/xml")
				io.WriteString(w, `<s:Envelope xmlns:s="`+uwlr.NSSOAPEnvelope+`"><s:Body><lg:leerlinggegevens_antwoord xmlns:lg="`+uwlr.NSLeerlinggegevens+`"><lg:leerlinggegevens>`)
				w.(http.Flusher).Flush()
			}
			<-r.Context().Done()
		}
	}
	tests := []struct {
		name         string
		headersFirst bool
		clientLimit  bool // http.Client.Timeout instead of a context deadline
	}{
		{"client timeout before headers", false, true},
		{"context deadline before headers", false, false},
		{"client timeout in body", true, true},
		{"context deadline in body", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, stall(tt.headersFirst))
			hc := &http.Client{}
			ctx := context.Background()
			if tt.clientLimit {
				hc.Timeout = 200 * time.Millisecond
			} else {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
			}
			_, err := soap.NewClient(hc, testConn(las.URL)).HaalLeerlinggegevens(ctx, testRequest, soap.Handler{})
			se := asSOAPError(t, err)
			if se.Class != soap.ClassTemporary || !errors.Is(err, gateway.ErrTransient) || !strings.Contains(se.Hint, "in time") {
				t.Errorf("error = %+v, want a temporary timeout", se)
			}
			if !tt.clientLimit && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) = false: %v", err)
			}
		})
	}

	t.Run("caller cancels", func(t *testing.T) {
		arrived := make(chan struct{})
		las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			close(arrived)
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(ctx, testRequest, soap.Handler{})
		asSOAPError(t, err)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(err, context.Canceled) = false: %v", err)
		}
	})
}

func TestClientConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = soap.NewClient(nil, testConn("http://"+addr+"/uwlr")).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
	se := asSOAPError(t, err)
	if se.Class != soap.ClassTemporary || se.HTTPStatus != 0 || se.Err == nil || !errors.Is(err, gateway.ErrTransient) {
		t.Errorf("error = %+v, want temporary transport failure", se)
	}
}

// ---------------------------------------------------------------------------
// TLS and mTLS, with certificates made at test time

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial atomic.Int64

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf certificate; it returns the PEM certificate and key and the tls.Certificate.
func (ca *testCA) issue(t *testing.T, cn string, usage x509.ExtKeyUsage) ([]byte, []byte, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, pair
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// quietTLS keeps expected handshake failures out of the test log.
func quietTLS(hs *httptest.Server) { hs.Config.ErrorLog = log.New(io.Discard, "", 0) }

func sampleLAS() *soap.Server {
	return &soap.Server{Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
		return rawEnvelope(mustRead(samplePath)), nil
	})}
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		panic(err)
	}
	return b
}

func TestClientServerTLS(t *testing.T) {
	hs := httptest.NewUnstartedServer(sampleLAS())
	quietTLS(hs)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	serverCA := writeTemp(t, "las-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}))
	otherCA := writeTemp(t, "other-ca.pem", newTestCA(t, "Other CA").pem)
	port := hs.URL[strings.LastIndex(hs.URL, ":"):]

	tests := []struct {
		name      string
		endpoint  string
		opts      soap.TransportOptions
		wantClass soap.Class // empty: success
		wantHint  string
	}{
		{"untrusted", hs.URL, soap.TransportOptions{}, soap.ClassCredential, "CA"},
		{"trusting another CA", hs.URL, soap.TransportOptions{CAFile: otherCA}, soap.ClassCredential, "CA"},
		{"trusted CA file", hs.URL, soap.TransportOptions{CAFile: serverCA}, "", ""},
		{"wrong host name", "https://localhost" + port, soap.TransportOptions{CAFile: serverCA}, soap.ClassCredential, "host name"},
		{"http to a TLS port", "http://127.0.0.1" + port, soap.TransportOptions{CAFile: serverCA}, soap.ClassRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := soap.NewHTTPClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := soap.NewClient(hc, testConn(tt.endpoint)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			if tt.wantClass == "" {
				if err != nil || sum.Leerlingen != 22 {
					t.Fatalf("HaalLeerlinggegevens = %+v, %v", sum, err)
				}
				return
			}
			se := asSOAPError(t, err)
			if se.Class != tt.wantClass || !strings.Contains(se.Hint, tt.wantHint) {
				t.Errorf("error = %+v\nwant class %s, hint mentioning %q", se, tt.wantClass, tt.wantHint)
			}
		})
	}

	t.Run("https to a plain port", func(t *testing.T) {
		plain := newLAS(t, sampleLAS())
		_, err := soap.NewClient(nil, testConn(strings.Replace(plain.URL, "http://", "https://", 1))).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
		if se := asSOAPError(t, err); se.Class != soap.ClassRequest || !strings.Contains(se.Hint, "TLS") {
			t.Errorf("error = %+v, want class request with a TLS hint", se)
		}
	})
}

func TestClientMutualTLS(t *testing.T) {
	ca := newTestCA(t, "Test ESIS CA")
	_, _, serverPair := ca.issue(t, "las.test", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey, _ := ca.issue(t, "gateway-client", x509.ExtKeyUsageClientAuth)
	rogue := newTestCA(t, "Rogue CA")
	rogueCert, rogueKey, _ := rogue.issue(t, "gateway-client", x509.ExtKeyUsageClientAuth)

	peers := make(chan string, 1)
	srv := &soap.Server{Backend: backendFunc(func(_ context.Context, c *soap.Call) (any, error) {
		cn := ""
		if c.TLS != nil && len(c.TLS.PeerCertificates) > 0 {
			cn = c.TLS.PeerCertificates[0].Subject.CommonName
		}
		peers <- cn
		return rawEnvelope(mustRead(samplePath)), nil
	})}
	hs := httptest.NewUnstartedServer(srv)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	quietTLS(hs)
	hs.StartTLS()
	t.Cleanup(hs.Close)

	caFile := writeTemp(t, "ca.pem", ca.pem)
	tests := []struct {
		name      string
		opts      soap.TransportOptions
		wantClass soap.Class // empty: success
	}{
		{"no client certificate", soap.TransportOptions{CAFile: caFile}, soap.ClassCredential},
		{"certificate from another CA", soap.TransportOptions{CAFile: caFile, ClientCertFile: writeTemp(t, "rogue.pem", rogueCert), ClientKeyFile: writeTemp(t, "rogue.key", rogueKey)}, soap.ClassCredential},
		{"client certificate", soap.TransportOptions{CAFile: caFile, ClientCertFile: writeTemp(t, "client.pem", clientCert), ClientKeyFile: writeTemp(t, "client.key", clientKey)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := soap.NewHTTPClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := soap.NewClient(hc, testConn(hs.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			if tt.wantClass == "" {
				if err != nil || sum.Leerlingen != 22 {
					t.Fatalf("HaalLeerlinggegevens = %+v, %v", sum, err)
				}
				if cn := <-peers; cn != "gateway-client" {
					t.Errorf("backend saw client certificate %q", cn)
				}
				return
			}
			se := asSOAPError(t, err)
			if se.Class != tt.wantClass || !strings.Contains(se.Hint, "client certificate") {
				t.Errorf("error = %+v\nwant class %s, hint mentioning the client certificate", se, tt.wantClass)
			}
		})
	}
}

func TestNewHTTPClientRejectsBadFiles(t *testing.T) {
	ca := newTestCA(t, "CA")
	certPEM, keyPEM, _ := ca.issue(t, "c", x509.ExtKeyUsageClientAuth)
	certFile, keyFile := writeTemp(t, "c.pem", certPEM), writeTemp(t, "c.key", keyPEM)
	notPEM := writeTemp(t, "junk.pem", []byte("not a certificate"))
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		opts soap.TransportOptions
		want string
	}{
		{"cert without key", soap.TransportOptions{ClientCertFile: certFile}, "client certificate"},
		{"key without cert", soap.TransportOptions{ClientKeyFile: keyFile}, "client certificate"},
		{"cert and key swapped", soap.TransportOptions{ClientCertFile: keyFile, ClientKeyFile: certFile}, "client certificate"},
		{"missing CA file", soap.TransportOptions{CAFile: missing}, "CA file"},
		{"CA file without PEM", soap.TransportOptions{CAFile: notPEM}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, err := soap.NewHTTPClient(tt.opts)
			if err == nil || hc != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewHTTPClient = %v, %v; want an error mentioning %q", hc, err, tt.want)
			}
		})
	}
	if _, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: certFile, ClientKeyFile: keyFile, CAFile: writeTemp(t, "ca.pem", ca.pem)}); err != nil {
		t.Errorf("valid files: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Many schools through one *http.Client

func TestClientConcurrentConnectionsAreIsolated(t *testing.T) {
	const schools = 200
	var mu sync.Mutex
	seen := map[string][]string{} // brincode -> keys received
	las := newLAS(t, &soap.Server{Backend: backendFunc(func(_ context.Context, c *soap.Call) (any, error) {
		rq, ok := c.Request.(*uwlr.LeerlinggegevensVerzoek)
		if !ok || c.Auth == nil {
			return nil, soap.NewFault(soap.CodeOngeldigBericht, "")
		}
		mu.Lock()
		seen[rq.Brincode] = append(seen[rq.Brincode], c.Auth.Autorisatiesleutel)
		mu.Unlock()
		// Echo what arrived, so the client can check it got its own answer.
		return &uwlr.LeerlinggegevensAntwoord{Leerlinggegevens: &uwlr.Leerlinggegevens{
			School:     uwlr.School{Schooljaar: rq.Schooljaar, Brincode: rq.Brincode, Commentaar: c.Auth.Autorisatiesleutel},
			Leerlingen: uwlr.Leerlingen{Leerling: []uwlr.Leerling{{Key: "P-" + rq.Brincode, Achternaam: "A"}}},
		}}, nil
	})})
	hc, err := soap.NewHTTPClient(soap.TransportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	brin := func(i int) string { return fmt.Sprintf("%02d%c%c", i%100, 'A'+i/100, 'A'+i%26) }
	key := func(i int) string { return fmt.Sprintf("sleutel-voor-school-%03d-%s", i, brin(i)) }

	start := make(chan struct{})
	errs := make([]error, schools)
	var wg sync.WaitGroup
	for i := range schools {
		wg.Go(func() {
			conn := testConn(las.URL)
			conn.Brincode, conn.Autorisatiesleutel = brin(i), key(i)
			cl := soap.NewClient(hc, conn)
			<-start
			var pupil string
			sum, err := cl.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{
				Leerling: func(l *uwlr.Leerling) error { pupil = l.Key; return nil },
			})
			switch {
			case err != nil:
				errs[i] = err
			case sum.School.Brincode != brin(i) || sum.School.Commentaar != key(i) || pupil != "P-"+brin(i):
				errs[i] = fmt.Errorf("school %d got the answer for %s/%s/%s", i, sum.School.Brincode, sum.School.Commentaar, pupil)
			}
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("school %d: %v", i, err)
		}
	}
	if len(seen) != schools {
		t.Errorf("server saw %d distinct schools, want %d", len(seen), schools)
	}
	for i := range schools {
		if got := seen[brin(i)]; len(got) != 1 || got[0] != key(i) {
			t.Errorf("school %s: server received keys %q, want exactly [%q]", brin(i), got, key(i))
		}
	}
}

// ---------------------------------------------------------------------------
// BrengLeerresultaten

func TestBrengLeerresultaten(t *testing.T) {
	tests := []struct {
		name      string
		answer    any
		err       error
		wantCode  string // empty with wantErr: not a fault
		wantErr   string // fragment; empty: success
		wantClass soap.Class
	}{
		{"bevestiging", &uwlr.LeerresultatenBevestiging{}, nil, "", "", ""},
		{"fault", nil, soap.NewFault(soap.CodeLeerlingOngeldig, "P1"), soap.CodeLeerlingOngeldig, "Leerling ongeldig: P1", soap.ClassRequest},
		{"fault, temporary", nil, soap.NewFault(soap.CodeTijdelijkNietBeschikbaar, ""), soap.CodeTijdelijkNietBeschikbaar, "Tijdelijk", soap.ClassTemporary},
		{"unexpected element", &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}, nil, "", "unexpected answer <leerlinggegevens_antwoord>, want <leerresultaten_bevestiging>", soap.ClassRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan *uwlr.LeerresultatenVerzoek, 1)
			las := newLAS(t, &soap.Server{Backend: backendFunc(func(_ context.Context, c *soap.Call) (any, error) {
				rq, _ := c.Request.(*uwlr.LeerresultatenVerzoek)
				got <- rq
				return tt.answer, tt.err
			})})
			err := soap.NewClient(nil, testConn(las.URL)).BrengLeerresultaten(context.Background(), testResults())
			if rq := <-got; rq == nil || len(rq.Toetsafnames.Toetsafname) != 1 || rq.Toetsen.Toets[0].Toetscode.Value != "REKENEN-M4" {
				t.Errorf("LAS received %+v", rq)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("BrengLeerresultaten: %v", err)
				}
				return
			}
			se := asSOAPError(t, err)
			if se.Op != "BrengLeerresultaten" || se.Code != tt.wantCode || se.Class != tt.wantClass || !strings.Contains(se.Message, tt.wantErr) {
				t.Errorf("error = %+v\nwant Code %q Class %s Message containing %q", se, tt.wantCode, tt.wantClass, tt.wantErr)
			}
		})
	}

	// A vendor answering a fault with HTTP 200, or a bare confirmation without envelope.
	for _, tt := range []struct {
		name, body, wantCode string
	}{
		{"fault with HTTP 200", faultEnvelope("SOAP-ENV", "SOAP-ENV:Client.ScoreOngeldig", "score te hoog"), soap.CodeScoreOngeldig},
		{"bare bevestiging", `<leerresultaten_bevestiging xmlns="` + uwlr.NSLeerresultaten + `"/>`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			err := soap.NewClient(nil, testConn(las.URL)).BrengLeerresultaten(context.Background(), testResults())
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("BrengLeerresultaten: %v", err)
				}
				return
			}
			if se := asSOAPError(t, err); se.Code != tt.wantCode || se.HTTPStatus != 200 || se.Op != "BrengLeerresultaten" {
				t.Errorf("error = %+v", se)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Configuration is checked before any request

func TestConnectionValidate(t *testing.T) {
	var requests atomic.Int32
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, answerFor("HaalLeerlinggegevens"))
	})
	tests := []struct {
		name   string
		change func(*soap.Connection)
		want   string // fragment of the error; empty: valid
	}{
		{"valid brincode", func(*soap.Connection) {}, ""},
		{"valid brincode without dependance", func(c *soap.Connection) { c.Dependancecode = "" }, ""},
		{"valid schoolkey", func(c *soap.Connection) { c.Brincode, c.Dependancecode, c.Schoolkey = "", "", "sk-1" }, ""},
		{"no endpoint", func(c *soap.Connection) { c.Endpoint = "" }, "endpoint is empty"},
		{"ftp endpoint", func(c *soap.Connection) { c.Endpoint = "ftp://las.example/uwlr" }, "http:// or https://"},
		{"brincode and schoolkey", func(c *soap.Connection) { c.Schoolkey = "sk-1" }, "not both"},
		{"neither brincode nor schoolkey", func(c *soap.Connection) { c.Brincode, c.Dependancecode = "", "" }, "give brincode"},
		{"bad brincode", func(c *soap.Connection) { c.Brincode = "1234" }, `brincode "1234"`},
		{"lowercase brincode", func(c *soap.Connection) { c.Brincode = "12ab" }, `brincode "12ab"`},
		{"bad dependancecode", func(c *soap.Connection) { c.Dependancecode = "1" }, `dependancecode "1"`},
		{"dependancecode with schoolkey", func(c *soap.Connection) { c.Brincode, c.Schoolkey = "", "sk-1" }, "dependancecode needs a brincode"},
		{"missing key", func(c *soap.Connection) { c.Autorisatiesleutel = "" }, "autorisatiesleutel is empty"},
		{"missing klantcode", func(c *soap.Connection) { c.Klantcode = "" }, "klantcode is empty"},
		{"missing klantnaam", func(c *soap.Connection) { c.Klantnaam = "" }, "klantnaam is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := testConn(las.URL)
			tt.change(&conn)
			verr := conn.Validate()
			before := requests.Load()
			_, err := soap.NewClient(nil, conn).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			sent := requests.Load() - before
			if tt.want == "" {
				if verr != nil || err != nil || sent != 1 {
					t.Errorf("Validate() = %v, call = %v, requests %d; want a valid connection", verr, err, sent)
				}
				return
			}
			if verr == nil || !strings.Contains(verr.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", verr, tt.want)
			}
			se := asSOAPError(t, err)
			if se.Class != soap.ClassRequest || !strings.Contains(se.Message, tt.want) || !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("call error = %+v", se)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks the key: %v", err)
			}
			if sent != 0 {
				t.Errorf("%d HTTP requests sent for an invalid connection", sent)
			}
		})
	}

	// Stepwise calls without groups fail before any request too.
	before := requests.Load()
	cl := soap.NewClient(nil, testConn(las.URL))
	if _, err := cl.HaalLeerlingen(context.Background(), testRequest, uwlr.GroepenSelectie{}, soap.Handler{}); err == nil {
		t.Error("HaalLeerlingen without groups: no error")
	}
	if _, err := cl.Fetch(context.Background(), uwlr.OpHaalLeerkrachten, testRequest, nil, io.Discard, nil); err == nil {
		t.Error("Fetch HaalLeerkrachten without groups: no error")
	}
	if _, err := cl.Fetch(context.Background(), uwlr.OpBrengLeerresultaten, testRequest, nil, io.Discard, nil); err == nil {
		t.Error("Fetch BrengLeerresultaten: no error")
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("%d requests sent for calls that cannot be built", n)
	}
}

// TestConnectionHTTPSRule: a LAS endpoint is https, or plain http to
// loopback (a test, a local las-sim), unless the connection says plain http
// was accepted on purpose (school add --insecure-http).
func TestConnectionHTTPSRule(t *testing.T) {
	tests := []struct {
		endpoint string
		insecure bool
		want     string // fragment of the error; empty: valid
	}{
		{"https://las.example.nl/uwlr", false, ""},
		{"http://127.0.0.1:8080/uwlr", false, ""},
		{"http://localhost/uwlr", false, ""},
		{"http://[::1]:8080/uwlr", false, ""},
		{"http://las.example.nl/uwlr", false, "https is required outside loopback"},
		{"http://10.0.0.7/uwlr", false, "https is required outside loopback"},
		{"http://127.0.0.1.example.nl/uwlr", false, "https is required outside loopback"},
		{"http://las.example.nl/uwlr", true, ""},
		{"https://user:pw@las.example.nl/uwlr", false, "user info"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s insecure=%v", tt.endpoint, tt.insecure), func(t *testing.T) {
			conn := testConn(tt.endpoint)
			conn.InsecureHTTP = tt.insecure
			err := conn.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestValidFormats(t *testing.T) {
	tests := []struct {
		fn   func(string) bool
		name string
		good []string
		bad  []string
	}{
		{soap.ValidBrincode, "brincode", []string{"12AB", "00ZZ"}, []string{"", "1234", "12ab", "12A", "12ABC", "AB12"}},
		{soap.ValidDependancecode, "dependancecode", []string{"00", "99"}, []string{"", "1", "100", "0A"}},
		{soap.ValidSchooljaar, "schooljaar", []string{"2025-2026", "1999-2000"}, []string{"", "2025/2026", "3025-3026", "2025-26", "202A-2026"}},
	}
	for _, tt := range tests {
		for _, s := range tt.good {
			if !tt.fn(s) {
				t.Errorf("%s %q rejected", tt.name, s)
			}
		}
		for _, s := range tt.bad {
			if tt.fn(s) {
				t.Errorf("%s %q accepted", tt.name, s)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Fetch

func TestFetchWritesRawBytes(t *testing.T) {
	sample := readSample(t)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			las := newLAS(t, &soap.Server{Gzip: gz, Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
				return rawEnvelope(sample), nil
			})})
			var out bytes.Buffer
			n, err := soap.NewClient(nil, testConn(las.URL)).Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, &out, nil)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if n != int64(len(sample)) || !bytes.Equal(out.Bytes(), sample) {
				t.Errorf("Fetch wrote %d bytes (n=%d) that differ from the %d bytes the LAS sent", out.Len(), n, len(sample))
			}
		})
	}

	t.Run("fault with HTTP 500 is written and returned", func(t *testing.T) {
		fault := faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "nee")
		las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, fault)
		})
		var out bytes.Buffer
		n, err := soap.NewClient(nil, testConn(las.URL)).Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, &out, nil)
		if se := asSOAPError(t, err); se.Code != soap.CodeAutorisatieOngeldig || se.HTTPStatus != 500 {
			t.Errorf("error = %+v", se)
		}
		if out.String() != fault || n != int64(len(fault)) {
			t.Errorf("Fetch wrote %d bytes %q, want the fault envelope", n, out.String())
		}
	})

	t.Run("fault with HTTP 200 is written and returned", func(t *testing.T) {
		fault := faultEnvelope("soap", "soap:Client.AutorisatieOngeldig", "nee")
		las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, fault) })
		var out bytes.Buffer
		_, err := soap.NewClient(nil, testConn(las.URL)).Fetch(context.Background(), uwlr.OpHaalStructuur, testRequest, nil, &out, nil)
		if se := asSOAPError(t, err); se.Code != soap.CodeAutorisatieOngeldig || se.Op != "HaalStructuur" {
			t.Errorf("error = %+v", se)
		}
		if out.String() != fault {
			t.Errorf("Fetch wrote %q, want the fault envelope", out.String())
		}
	})
}

func TestMarshalRequestMatchesWire(t *testing.T) {
	reqs := make(chan []byte, 1)
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- b
		io.WriteString(w, answerFor("HaalLeerlinggegevens"))
	})
	cl := soap.NewClient(nil, testConn(las.URL))
	body, err := cl.RequestBody(uwlr.OpHaalLeerlinggegevens, testRequest, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := cl.MarshalRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{}); err != nil {
		t.Fatal(err)
	}
	if got := <-reqs; !bytes.Equal(got, want) {
		t.Errorf("wire request differs from MarshalRequest:\n%s\n%s", got, want)
	}
}

func TestNilHTTPClientHonoursDisableGzip(t *testing.T) {
	got := make(chan string, 1)
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Accept-Encoding")
		io.WriteString(w, answerFor("HaalLeerlinggegevens"))
	})
	conn := testConn(las.URL)
	conn.DisableGzip = true
	if _, err := soap.NewClient(nil, conn).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{}); err != nil {
		t.Fatal(err)
	}
	if ae := <-got; strings.Contains(ae, "gzip") {
		t.Errorf("Accept-Encoding = %q with DisableGzip and a nil *http.Client", ae)
	}
}

func TestClientHandlerErrorStopsPull(t *testing.T) {
	las := newLAS(t, sampleLAS())
	stop := errors.New("pupil store unavailable")
	seen := 0
	sum, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{
		Leerling: func(*uwlr.Leerling) error {
			seen++
			if seen == 2 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) || sum != nil {
		t.Fatalf("HaalLeerlinggegevens = %+v, %v; want nil and the handler's error", sum, err)
	}
	// The caller's failure is not the LAS's: no class, no domain kind.
	var se *soap.Error
	if errors.As(err, &se) || errors.Is(err, gateway.ErrInvalid) || errors.Is(err, gateway.ErrTransient) {
		t.Errorf("handler error was classified as a LAS failure: %v", err)
	}
	if seen != 2 {
		t.Errorf("handler called %d times, want 2", seen)
	}
}
