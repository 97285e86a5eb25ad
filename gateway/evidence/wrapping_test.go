package evidence_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// wrapKit holds the parts signature wrapping attacks are built from.
type wrapKit struct {
	signed   *etree.Element // the signed root, with its signature
	unsigned *etree.Element // the signed root without its signature
	sig      *etree.Element // the signature
	forged   *etree.Element // an unsigned Evidence with the same ID: attempt 2, a fault as answer
}

func newWrapKit(t *testing.T, doc []byte) wrapKit {
	t.Helper()
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	var w wrapKit
	w.signed = tree.Root().Copy()
	w.unsigned = tree.Root().Copy()
	sig := w.unsigned.ChildElements()[0] // Sign puts the signature first
	w.sig = sig.Copy()
	w.unsigned.RemoveChild(sig)
	w.forged = w.unsigned.Copy()
	w.forged.CreateAttr("attempt", "2")
	resp := w.forged.FindElement("./ev:Response")
	for _, c := range resp.ChildElements() {
		resp.RemoveChild(c)
	}
	f := etree.NewDocument()
	if err := f.ReadFromString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>niet verwerkt</faultstring></soap:Fault></soap:Body></soap:Envelope>`); err != nil {
		t.Fatal(err)
	}
	resp.AddChild(f.Root())
	return w
}

func serialise(t *testing.T, root *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(root)
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// object wraps el in a ds:Object.
func object(el *etree.Element) *etree.Element {
	o := etree.NewElement("ds:Object")
	o.AddChild(el)
	return o
}

// TestSignatureWrapping builds the classic wrapping attacks from signed
// evidence: an unsigned element carrying the signed root's ID (or the
// signed root moved under a forged one), so that a reader who looks up the
// ID, or reads the root, sees other content than the verifier checked.
// Verify must refuse every variant. The table also records what xmlsec1
// (with the README's command line) and goxmldsig's Validate on its own do
// with each, as observed with xmlsec1 1.2.37 and goxmldsig v1.6.1.
func TestSignatureWrapping(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	const (
		dupID    = "duplicate ID attribute" // xmlsec1 refuses to load the document
		mismatch = "data and digest do not match"
	)
	tests := []struct {
		name  string
		build func(w wrapKit) *etree.Element
		// xmlsec1: "" when it accepts, else a phrase of its error output.
		xmlsec1 string
		// goxmldsig: whether dsig.ValidationContext.Validate alone accepts.
		goxmldsig bool
	}{
		{
			name: "forged Request with the root's ID inside the signed root",
			build: func(w wrapKit) *etree.Element {
				r := w.signed
				req := etree.NewElement("ev:Request")
				req.CreateAttr("ID", r.SelectAttrValue("ID", ""))
				r.InsertChildAt(r.ChildElements()[1].Index(), req)
				return r
			},
			// --id-attr registers IDs on ev:Evidence only, so no duplicate;
			// the signed content changed.
			xmlsec1: mismatch,
		},
		{
			name: "forged Evidence with the root's ID in a ds:Object of the signature",
			build: func(w wrapKit) *etree.Element {
				r := w.signed
				sig := r.ChildElements()[0]
				sig.AddChild(object(w.forged))
				return r
			},
			xmlsec1: dupID,
			// The enveloped transform drops the whole signature, so the
			// digest still matches: goxmldsig alone accepts. Verify refuses
			// the duplicate ID and the ds:Object.
			goxmldsig: true,
		},
		{
			name: "forged Request with the root's ID in a ds:Object of the signature",
			build: func(w wrapKit) *etree.Element {
				r := w.signed
				sig := r.ChildElements()[0]
				req := etree.NewElement("ev:Request")
				req.CreateAttr("ID", r.SelectAttrValue("ID", ""))
				sig.AddChild(object(req))
				return r
			},
			// xmlsec1 ACCEPTS this one: the forged element is not an
			// ev:Evidence, so --id-attr does not register its ID, and the
			// signed root is intact. A reader that looks up the ID itself
			// could be fooled; Verify refuses the duplicate ID.
			xmlsec1:   "",
			goxmldsig: true,
		},
		{
			name: "unsigned Evidence without an ID in a ds:Object of the signature",
			build: func(w wrapKit) *etree.Element {
				r := w.signed
				sig := r.ChildElements()[0]
				f := w.forged
				f.RemoveAttr("ID")
				sig.AddChild(object(f))
				return r
			},
			// Not wrapping as such (nothing carries the ID), but unsigned
			// content in the document: xmlsec1 and goxmldsig accept it, as
			// XML-DSig allows; Verify refuses any ds:Object.
			xmlsec1:   "",
			goxmldsig: true,
		},
		{
			name: "signed original inside a forged root with the same ID",
			build: func(w wrapKit) *etree.Element {
				f := w.forged
				f.AddChild(w.signed)
				return f
			},
			xmlsec1: dupID,
		},
		{
			name: "forged root, signature moved to it, original in its ds:Object",
			build: func(w wrapKit) *etree.Element {
				f := w.forged
				sig := w.sig
				sig.AddChild(object(w.unsigned))
				f.InsertChildAt(0, sig)
				return f
			},
			xmlsec1: dupID,
		},
		{
			name: "forged root, signature moved to it, original after the forged content",
			build: func(w wrapKit) *etree.Element {
				f := w.forged
				f.InsertChildAt(0, w.sig)
				f.AddChild(w.unsigned)
				return f
			},
			xmlsec1: dupID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := serialise(t, tt.build(newWrapKit(t, doc)))

			_, err := evidence.Verify(certs(k), bad)
			if !errors.Is(err, evidence.ErrInvalidSignature) {
				t.Errorf("Verify = %v, want ErrInvalidSignature", err)
			}

			ok, out := xmlsec1Verify(t, k, idAttrEvidence, bad)
			switch {
			case tt.xmlsec1 == "" && !ok:
				t.Errorf("xmlsec1 rejected the variant, expected it to accept:\n%s", out)
			case tt.xmlsec1 != "" && ok:
				t.Errorf("xmlsec1 accepted the variant:\n%s", out)
			case tt.xmlsec1 != "" && !strings.Contains(out, tt.xmlsec1):
				t.Errorf("xmlsec1 rejected the variant, but not with %q:\n%s", tt.xmlsec1, out)
			}

			tree := etree.NewDocument()
			if err := tree.ReadFromBytes(bad); err != nil {
				t.Fatal(err)
			}
			vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs(k)})
			if _, err := vc.Validate(tree.Root()); (err == nil) != tt.goxmldsig {
				t.Errorf("goxmldsig Validate alone = %v, want accepted: %v", err, tt.goxmldsig)
			}
		})
	}
}
