package evidence_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	k := testKey(t)
	d := testDelivery(t)
	doc, err := evidence.Sign(k, d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "evidence.golden.xml", doc)

	got, err := evidence.Verify(certs(k), doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || got.Batch != d.Batch || got.School != d.School || got.Attempt != d.Attempt ||
		got.Endpoint != d.Endpoint || got.RequestSHA256 != d.RequestSHA256 {
		t.Errorf("metadata = %+v, want %+v", got, d)
	}
	if !got.SentAt.Equal(d.SentAt) || !got.AnsweredAt.Equal(d.AnsweredAt) || got.SentAt.Location() != time.UTC {
		t.Errorf("times = %v, %v; want %v, %v in UTC", got.SentAt, got.AnsweredAt, d.SentAt, d.AnsweredAt)
	}
	// What is guaranteed byte for byte: the exclusive canonical form of
	// each envelope, as an independent implementation (libxml2's xmllint)
	// computes it from the input given to Sign.
	if want := xmllintExcC14N(t, d.Request); !bytes.Equal(got.Request, want) {
		t.Errorf("request is not the exclusive c14n of the input\n got: %s\nwant: %s", got.Request, want)
	}
	if want := xmllintExcC14N(t, d.Response); !bytes.Equal(got.Response, want) {
		t.Errorf("response is not the exclusive c14n of the input\n got: %s\nwant: %s", got.Response, want)
	}
	// And input already in that form comes back unchanged.
	d2 := d
	d2.Request, d2.Response = got.Request, got.Response
	doc2, err := evidence.Sign(k, d2)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := evidence.Verify(certs(k), doc2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got2.Request, d2.Request) || !bytes.Equal(got2.Response, d2.Response) {
		t.Error("canonical input did not round-trip byte for byte")
	}
}

func TestXmlsec1AcceptsEvidence(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, doc); !ok {
		t.Fatalf("xmlsec1 rejected our evidence:\n%s", out)
	}
	// The committed golden file verifies too (the README points at it).
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, readFile(t, "testdata/evidence.golden.xml")); !ok {
		t.Fatalf("xmlsec1 rejected testdata/evidence.golden.xml:\n%s", out)
	}
	// The signature is over the pinned key: evidence signed by another key
	// (which carries its own certificate in KeyInfo) is refused.
	other, err := evidence.Sign(otherKey(t), testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, other); ok {
		t.Fatalf("xmlsec1 accepted evidence signed by another key:\n%s", out)
	}
}

// TestTamperedEvidenceRejected changes signed evidence after the fact; both
// xmlsec1 and Verify must refuse every copy.
func TestTamperedEvidenceRejected(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, doc []byte) []byte
	}{
		{"score in the request", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, "<score>37</score>", "<score>97</score>")
		}},
		{"sealed ECK iD swapped for another pupil's", func(t *testing.T, doc []byte) []byte {
			ids := regexp.MustCompile(`<eckid>([^<]+)</eckid>`).FindAllSubmatch(doc, -1)
			return replaceOnce(t, doc, string(ids[0][0]), "<eckid>"+string(ids[1][1])+"</eckid>")
		}},
		{"response turned into a fault", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `<leerresultaten_bevestiging xmlns="http://www.edustandaard.nl/leerresultaten/2/leerresultaten"/>`,
				`<soap:Fault><faultcode>soap:Server</faultcode><faultstring>niet verwerkt</faultstring></soap:Fault>`)
		}},
		{"attempt attribute", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `attempt="1"`, `attempt="2"`)
		}},
		{"school attribute", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `school="12AB00"`, `school="12AB01"`)
		}},
		{"answered time", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `answered="2025-11-04T09:15:01.87Z"`, `answered="2025-11-04T09:14:01.87Z"`)
		}},
		{"attribute added", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `<resultaat key="r-4711-rek-1">`, `<resultaat key="r-4711-rek-1" vervallen="true">`)
		}},
		{"resultaat removed", func(t *testing.T, doc []byte) []byte {
			el := regexp.MustCompile(`(?s)\s*<resultaat key="r-4711-rek-2">.*?</resultaat>`).Find(doc)
			return replaceOnce(t, doc, string(el), "")
		}},
		{"response removed", func(t *testing.T, doc []byte) []byte {
			el := regexp.MustCompile(`(?s)<ev:Response>.*?</ev:Response>\n`).Find(doc)
			return replaceOnce(t, doc, string(el), "")
		}},
		{"signature value", func(t *testing.T, doc []byte) []byte {
			m := regexp.MustCompile(`<ds:SignatureValue>([^<]+)</ds:SignatureValue>`).FindSubmatch(doc)
			sig, err := base64.StdEncoding.DecodeString(string(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			sig[len(sig)/2] ^= 0x01
			return replaceOnce(t, doc, string(m[1]), base64.StdEncoding.EncodeToString(sig))
		}},
		{"digest value", func(t *testing.T, doc []byte) []byte {
			m := regexp.MustCompile(`<ds:DigestValue>([^<]+)</ds:DigestValue>`).FindSubmatch(doc)
			sum, err := base64.StdEncoding.DecodeString(string(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			sum[0] ^= 0x80
			return replaceOnce(t, doc, string(m[1]), base64.StdEncoding.EncodeToString(sum))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.tamper(t, doc)
			if ok, out := xmlsec1Verify(t, k, idAttrEvidence, bad); ok {
				t.Errorf("xmlsec1 accepted the tampered copy:\n%s", out)
			}
			_, err := evidence.Verify(certs(k), bad)
			if !errors.Is(err, evidence.ErrInvalidSignature) {
				t.Errorf("Verify = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	audit, err := evidence.ExportAudit(k, "12AB00", time.Date(2025, 11, 5, 8, 0, 0, 0, time.UTC), testEntries())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		certs []*x509.Certificate
		doc   []byte
		want  error
	}{
		{"another key's certificate", certs(otherKey(t)), doc, evidence.ErrInvalidSignature},
		{"no certificate", nil, doc, gateway.ErrInvalid},
		{"empty document", certs(k), nil, evidence.ErrInvalidSignature},
		{"not XML", certs(k), []byte("Evidence"), evidence.ErrInvalidSignature},
		{"an audit export", certs(k), audit, evidence.ErrInvalidSignature},
		{"unsigned", certs(k), regexp.MustCompile(`(?s)<ds:Signature.*</ds:Signature>`).ReplaceAll(doc, nil), evidence.ErrInvalidSignature},
		{"document type declaration", certs(k), replaceOnce(t, doc, "?>\n", "?>\n<!DOCTYPE x [<!ENTITY a \"b\">]>\n"), evidence.ErrInvalidSignature},
		{"SHA-1 digest named", certs(k), replaceOnce(t, doc, "http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2000/09/xmldsig#sha1"), evidence.ErrInvalidSignature},
		// Content inside ds:Signature is not covered by the digest: xmlsec1
		// accepts it (see TestSignatureWrapping), Verify does not.
		{"ds:Object added", certs(k), replaceOnce(t, doc, "</ds:KeyInfo>", "</ds:KeyInfo><ds:Object><ev:Request/></ds:Object>"), evidence.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evidence.Verify(tt.certs, tt.doc)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if tt.want == gateway.ErrInvalid && errors.Is(err, evidence.ErrInvalidSignature) {
				t.Fatalf("Verify = %v: a caller error must not look like tampering", err)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	k := testKey(t)
	tests := []struct {
		name   string
		change func(d *gateway.DeliveryEvidence)
	}{
		{"id not an NCName", func(d *gateway.DeliveryEvidence) { d.ID = "1ev" }},
		{"id with a space", func(d *gateway.DeliveryEvidence) { d.ID = "ev 1" }},
		{"no batch", func(d *gateway.DeliveryEvidence) { d.Batch = "" }},
		{"no school", func(d *gateway.DeliveryEvidence) { d.School = "" }},
		{"attempt 0", func(d *gateway.DeliveryEvidence) { d.Attempt = 0 }},
		{"no endpoint", func(d *gateway.DeliveryEvidence) { d.Endpoint = "" }},
		{"no sent time", func(d *gateway.DeliveryEvidence) { d.SentAt = time.Time{} }},
		{"digest not hex", func(d *gateway.DeliveryEvidence) { d.RequestSHA256 = strings.Repeat("Z", 64) }},
		{"digest upper case", func(d *gateway.DeliveryEvidence) { d.RequestSHA256 = strings.ToUpper(d.RequestSHA256) }},
		{"control character in batch", func(d *gateway.DeliveryEvidence) { d.Batch = "b\x00" }},
		{"request not XML", func(d *gateway.DeliveryEvidence) { d.Request = []byte("leerresultaten") }},
		{"request empty", func(d *gateway.DeliveryEvidence) { d.Request = nil }},
		{"response truncated", func(d *gateway.DeliveryEvidence) { d.Response = d.Response[:len(d.Response)/2] }},
		{"request with DOCTYPE", func(d *gateway.DeliveryEvidence) {
			d.Request = []byte(`<!DOCTYPE x [<!ENTITY e "x">]><x/>`)
		}},
		{"request with an undeclared prefix", func(d *gateway.DeliveryEvidence) { d.Request = []byte(`<ev:x/>`) }},
		{"response holding a signature", func(d *gateway.DeliveryEvidence) {
			d.Response = []byte(`<r><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></r>`)
		}},
		{"request carrying the evidence id", func(d *gateway.DeliveryEvidence) {
			d.Request = []byte(`<x ID="` + d.ID + `"/>`)
		}},
		{"request and response sharing an ID", func(d *gateway.DeliveryEvidence) {
			d.Request, d.Response = []byte(`<x ID="m1"/>`), []byte(`<y xml:id="m1"/>`)
		}},
		// goxmldsig sorts qualified attributes by local name, canonical XML
		// by namespace URI: xmlsec1 would compute another digest.
		{"attributes goxmldsig orders differently", func(d *gateway.DeliveryEvidence) {
			d.Response = []byte(`<x xmlns:a="urn:z" xmlns:b="urn:a" a:y="1" b:z="2"/>`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDelivery(t)
			tt.change(&d)
			_, err := evidence.Sign(k, d)
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("Sign = %v, want gateway.ErrInvalid", err)
			}
		})
	}
}

// TestSignOddInput signs envelopes with the XML features that canonical
// XML treats specially; xmlsec1 must accept each, and Verify must return
// what xmllint's exclusive c14n of the input is.
func TestSignOddInput(t *testing.T) {
	k := testKey(t)
	tests := []struct{ name, response string }{
		{"comment and CDATA", `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><!-- een opmerking --><s:Body><t><![CDATA[a < b & "c"]]></t></s:Body></s:Envelope>`},
		{"processing instruction inside", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><?pi data?><s:Body/></s:Envelope>`},
		{"newlines, tabs and CR in attributes and text", "<r a=\"x&#10;y&#9;z&#13;\" b='&quot;&apos;&lt;&gt;&amp;'>line1&#13;\nline2\t&gt;</r>"},
		{"literal whitespace in attributes, CR LF in text", "<r a=\"x\ny\tz\r\nw\rv\" b='\n'>t\r\nu\rv</r>"},
		{"quotes, > and newlines outside attribute values", "<r><!-- a=\"1\n2\" --><?pi a=\"1\n2\"?><![CDATA[ x=\"1\n2\" ]]><e a=\"p>q'r\" b='\"'/></r>"},
		{"non-ASCII", `<r naam="Zoë Ðuric">Leerling «één» 😀</r>`},
		{"unqualified elements and xmlns=\"\"", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><detail xmlns=""><x/></detail></s:Fault></s:Body></s:Envelope>`},
		{"our own prefix reused", `<ev:r xmlns:ev="urn:other"><ev:x/></ev:r>`},
		{"our own namespace used", `<e:r xmlns:e="urn:uwlr-gateway:evidence:1"/>`},
		{"same-prefix attributes", `<r xmlns:a="urn:a" a:x="1" a:y="2" xml:lang="nl"/>`},
		{"byte order mark", "\ufeff<r/>"},
		{"default namespace on a nested element", `<a:r xmlns:a="urn:a"><x xmlns="urn:b"><y/></x></a:r>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDelivery(t)
			d.Response = []byte(tt.response)
			doc, err := evidence.Sign(k, d)
			if err != nil {
				t.Fatal(err)
			}
			if ok, out := xmlsec1Verify(t, k, idAttrEvidence, doc); !ok {
				t.Fatalf("xmlsec1 rejected:\n%s\n%s", out, doc)
			}
			got, err := evidence.Verify(certs(k), doc)
			if err != nil {
				t.Fatal(err)
			}
			want := xmllintExcC14N(t, bytes.TrimPrefix(d.Response, []byte("\ufeff")))
			// xmllint --exc-c14n keeps comments; Sign drops them.
			want = regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAll(want, nil)
			if !bytes.Equal(got.Response, want) {
				t.Errorf("response\n got: %s\nwant: %s", got.Response, want)
			}
		})
	}
}

func TestDeliveryLogValue(t *testing.T) {
	d := testDelivery(t)
	v := d.LogValue().String()
	for _, want := range []string{d.ID, d.Batch, string(d.School)} {
		if !strings.Contains(v, want) {
			t.Errorf("LogValue %q lacks %q", v, want)
		}
	}
	if strings.Contains(v, "eckid") || strings.Contains(v, "Envelope") {
		t.Errorf("LogValue %q shows the envelopes", v)
	}
}
