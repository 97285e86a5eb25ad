package soap_test

// Fuzz target for the SOAP server's request parsing (issue 12, item 7).
// Helpers (fzLAS, seeds) are in reader_fuzz_test.go.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Request encodings of FuzzServerRequest, by enc%4.
const (
	fzEncIdentity  = iota // as is, no Content-Encoding
	fzEncGzip             // gzip-compressed, Content-Encoding: gzip
	fzEncDeflate          // zlib-compressed, Content-Encoding: deflate
	fzEncFalseGzip        // as is, but Content-Encoding: gzip
)

// FuzzServerRequest: soap.DecodeCall and the soap.Server (with the lassim
// simulator as its backend) on any request body, SOAPAction and encoding
// never panic. DecodeCall returns a call or a Client.OngeldigBericht fault,
// never both; a call's request is the one of its operation. The server
// answers a SOAP fault with HTTP 500 (a known code; never HTTP 200 to a
// request DecodeCall refuses) or HTTP 200 with the answer of the operation,
// which the gateway's own reader reads.
func FuzzServerRequest(f *testing.F) {
	// One school: the seeds carry its key, so they reach the backend.
	las := fzNewLAS(soap.StandardProfile)
	for _, x := range las.exchanges(f) {
		f.Add(x.request, x.op.SOAPAction, uint8(fzEncIdentity))
		f.Add(x.request, `"`+x.op.SOAPAction+`"`, uint8(fzEncIdentity)) // quoted, as for Somtoday
	}
	asIs, filled := fzSoapUIRequests(f, las)
	for _, raw := range asIs {
		f.Add(raw, "HaalLeerlinggegevens", uint8(fzEncIdentity))
	}
	for i, raw := range filled {
		f.Add(raw, "", uint8(i%4))
	}
	valid := las.request(f, uwlr.OpHaalStructuur, soap.Request{Schooljaar: fzJaar}, nil)
	for _, s := range []string{
		"", "this is not <xml",
		`<s:Envelope xmlns:s="` + uwlr.NSSOAPEnvelope + `"><s:Body></s:Body></s:Envelope>`,
		strings.ReplaceAll(string(valid), uwlr.NSSOAPEnvelope, "http://www.w3.org/2003/05/soap-envelope"),
		strings.TrimSuffix(string(valid), "</soap:Envelope>") + "</soap:Body>",
		strings.ReplaceAll(string(valid), "structuur_verzoek", "leerlinggegevens_antwoord"),
	} {
		f.Add([]byte(s), "", uint8(fzEncIdentity))
	}
	f.Add(valid, "BrengLeerresultaten", uint8(fzEncIdentity))
	f.Add(valid, uwlr.OpHaalStructuur.SOAPAction, uint8(fzEncGzip))
	f.Add(valid, uwlr.OpHaalStructuur.SOAPAction, uint8(fzEncDeflate))
	f.Add(valid, uwlr.OpHaalStructuur.SOAPAction, uint8(fzEncFalseGzip))

	f.Fuzz(func(t *testing.T, body []byte, soapAction string, enc uint8) {
		if len(body) > fzMaxInput {
			t.Skip("input larger than fzMaxInput")
		}
		if strings.ContainsAny(soapAction, "\r\n\x00") {
			soapAction = "" // not a header value net/http would hand over
		}
		type decoded struct {
			call  *soap.Call
			fault *soap.Fault
		}
		d := fzWithin(t, "DecodeCall", func() decoded {
			c, f := soap.DecodeCall(body, soapAction)
			return decoded{c, f}
		})
		c, fault := d.call, d.fault
		fzCheckCall(t, body, c, fault)

		wire, encoding := body, ""
		switch enc % 4 {
		case fzEncGzip:
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			wire, encoding = b.Bytes(), "gzip"
		case fzEncDeflate:
			var b bytes.Buffer
			zw := zlib.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			wire, encoding = b.Bytes(), "deflate"
		case fzEncFalseGzip:
			encoding = "gzip"
		}
		rec := fzWithin(t, "Server.ServeHTTP", func() *struct {
			code int
			hdr  http.Header
			body []byte
		} {
			r := las.serve(wire, soapAction, encoding)
			return &struct {
				code int
				hdr  http.Header
				body []byte
			}{r.Code, r.Header(), r.Body.Bytes()}
		})
		if ct := rec.hdr.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			t.Fatalf("HTTP %d with Content-Type %q:\n%s", rec.code, ct, rec.body)
		}
		sameBody := enc%4 != fzEncFalseGzip // the server decodes what DecodeCall was given
		_, err := soap.ReadLeerlinggegevens(bytes.NewReader(rec.body), soap.Handler{})
		switch rec.code {
		case http.StatusInternalServerError:
			var se *soap.Error
			if !errors.As(err, &se) {
				t.Fatalf("HTTP 500 without a SOAP fault (%v):\n%s", err, rec.body)
			}
			if !slices.Contains(soap.FaultCodes(), se.Code) {
				t.Fatalf("fault code %q is not a UWLR code:\n%s", se.Code, rec.body)
			}
		case http.StatusOK:
			if sameBody && c == nil {
				t.Fatalf("DecodeCall refused the request (%v), the server answered HTTP 200:\n%s", fault, rec.body)
			}
			if fault == nil && c != nil && c.Op == uwlr.OpBrengLeerresultaten {
				if !errors.Is(err, soap.ErrNotLeerlinggegevens) || !strings.Contains(err.Error(), uwlr.OpBrengLeerresultaten.Response) {
					t.Fatalf("results answered with HTTP 200 but not with %s (%v):\n%s", uwlr.OpBrengLeerresultaten.Response, err, rec.body)
				}
				return
			}
			if err != nil {
				t.Fatalf("HTTP 200 with an answer the reader refuses (%v):\n%s", err, rec.body)
			}
		default:
			t.Fatalf("HTTP %d:\n%s", rec.code, rec.body)
		}
	})
}

// fzCheckCall: DecodeCall returns a consistent call or an OngeldigBericht fault.
func fzCheckCall(t *testing.T, body []byte, c *soap.Call, fault *soap.Fault) {
	t.Helper()
	if (c == nil) == (fault == nil) {
		t.Fatalf("DecodeCall = %+v, %+v: want exactly one", c, fault)
	}
	if fault != nil {
		if fault.Code != soap.CodeOngeldigBericht || !strings.HasPrefix(fault.String, soap.DefaultFaultString(soap.CodeOngeldigBericht)) {
			t.Fatalf("DecodeCall fault %+v, want %s", fault, soap.CodeOngeldigBericht)
		}
		return
	}
	want := map[string]any{
		uwlr.OpHaalLeerlinggegevens.Name: &uwlr.LeerlinggegevensVerzoek{},
		uwlr.OpHaalStructuur.Name:        &uwlr.StructuurVerzoek{},
		uwlr.OpHaalLeerlingen.Name:       &uwlr.LeerlingenVerzoek{},
		uwlr.OpHaalLeerkrachten.Name:     &uwlr.LeerkrachtenVerzoek{},
		uwlr.OpBrengLeerresultaten.Name:  &uwlr.LeerresultatenVerzoek{},
	}[c.Op.Name]
	if want == nil || !slices.Contains(uwlr.Operations, c.Op) {
		t.Fatalf("DecodeCall returned operation %+v", c.Op)
	}
	if reflect.TypeOf(c.Request) != reflect.TypeOf(want) || reflect.ValueOf(c.Request).IsNil() {
		t.Fatalf("%s call holds a %T", c.Op.Name, c.Request)
	}
	if !bytes.Equal(c.Raw, body) {
		t.Fatalf("call.Raw is not the request as received")
	}
}
