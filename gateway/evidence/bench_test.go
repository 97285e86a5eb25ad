package evidence_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// bigRequest builds a BrengLeerresultaten envelope with n resultaat
// elements, two per pupil, each pupil with a sealed ECK iD of realistic
// length, without indentation, as package soap writes it.
func bigRequest(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
		`<autorisatie xmlns="http://www.edustandaard.nl/leerresultaten/2/autorisatie"><klantcode>LG-0042</klantcode><klantnaam>Oefenplein</klantnaam></autorisatie>` +
		`</soap:Header><soap:Body><leerresultaten_verzoek xmlns="http://www.edustandaard.nl/leerresultaten/2/leerresultaten">` +
		`<school><schooljaar>2025-2026</schooljaar><brincode>12AB</brincode><dependancecode>00</dependancecode>` +
		`<aanmaakdatum>2025-11-04T10:15:00+01:00</aanmaakdatum><xsdversie>2.2</xsdversie></school><toetsafnames>`)
	// key term (4) | version (1) | nonce (12) | sealed ECK iD with its tag
	sealed := make([]byte, 4+1+12+72+16)
	for i := 0; i < n; i += 2 {
		pupil := 4000 + i/2
		for j := range sealed {
			sealed[j] = byte(pupil*31 + j*7)
		}
		fmt.Fprintf(&b, `<toetsafname><leerlingid>%d</leerlingid><eckid>%s</eckid><resultaten>`,
			pupil, base64.StdEncoding.EncodeToString(sealed))
		for r := i; r < i+2 && r < n; r++ {
			fmt.Fprintf(&b, `<resultaat key="r-%d-rek-%d"><afnamedatum>2025-11-03</afnamedatum><toetscode>REK-G5-B</toetscode>`+
				`<toetsonderdeelcode>onderdeel-%d</toetsonderdeelcode><score>%d</score></resultaat>`, pupil, r, r%2, r%50)
		}
		b.WriteString(`</resultaten></toetsafname>`)
	}
	b.WriteString(`</toetsafnames><toetsen><toets><toetscode>REK-G5-B</toetscode><toetsnaam>Rekenen groep 5 blok B</toetsnaam></toets></toetsen>` +
		`</leerresultaten_verzoek></soap:Body></soap:Envelope>`)
	return []byte(b.String())
}

func benchDelivery(b *testing.B, results int) gateway.DeliveryEvidence {
	d := testDelivery(b)
	d.Request = bigRequest(results)
	sum := sha256.Sum256(d.Request)
	d.RequestSHA256 = hex.EncodeToString(sum[:])
	return d
}

func TestBigRequestSignsAndVerifies(t *testing.T) {
	k := testKey(t)
	d := testDelivery(t)
	d.Request = bigRequest(1000)
	if n := strings.Count(string(d.Request), "<resultaat "); n != 1000 {
		t.Fatalf("%d resultaat elements, want 1000", n)
	}
	doc, err := evidence.Sign(k, d)
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, doc); !ok {
		t.Fatalf("xmlsec1 rejected:\n%s", out)
	}
	if _, err := evidence.Verify(certs(k), doc); err != nil {
		t.Fatal(err)
	}
	t.Logf("request %d bytes, evidence %d bytes", len(d.Request), len(doc))

	// Why Sign puts the signature first: moved to the end, where
	// goxmldsig's own SignEnveloped puts it, the signature is still valid
	// (xmlsec1 accepts), but goxmldsig v1.6.1 stops looking for it after
	// 1000 elements.
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	sig := root.ChildElements()[0]
	root.RemoveChild(sig)
	root.AddChild(sig)
	last, err := tree.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, last); !ok {
		t.Fatalf("xmlsec1 rejected the signature at the end:\n%s", out)
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs(k)})
	if _, err := vc.Validate(root); err == nil || !strings.Contains(err.Error(), "traversal limit") {
		t.Errorf("goxmldsig Validate with the signature last = %v, want its traversal limit error", err)
	}
}

func BenchmarkSign(b *testing.B) {
	k := testKey(b)
	for _, n := range []int{100, 500, 1000} {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			d := benchDelivery(b, n)
			b.SetBytes(int64(len(d.Request)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := evidence.Sign(k, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	k := testKey(b)
	for _, n := range []int{100, 500, 1000} {
		b.Run(fmt.Sprintf("results=%d", n), func(b *testing.B) {
			doc, err := evidence.Sign(k, benchDelivery(b, n))
			if err != nil {
				b.Fatal(err)
			}
			cs := certs(k)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := evidence.Verify(cs, doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
