package evidence

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// ErrInvalidSignature is wrapped by every error that says a document does
// not verify: it was changed, rearranged, signed by another key or with
// algorithms this package does not use, or is not a document of ours at
// all. The one other error of Verify and VerifyAuditExport (no trusted
// certificate given) wraps gateway.ErrInvalid.
var ErrInvalidSignature = errors.New("evidence signature does not verify")

// The algorithms we sign with, and the only ones Verify accepts.
const (
	// algC14N is exclusive c14n 1.0 without comments, for SignedInfo and
	// the reference alike. The canonical form of an element then does not
	// depend on namespace declarations of its ancestors, and each embedded
	// envelope carries only the namespaces it uses. goxmldsig's default,
	// inclusive c14n 1.1, happens to verify in xmlsec1 for our documents
	// (the signed element is the root), but not for an element signed
	// inside a SOAP envelope (see TestInclusiveC14N).
	algC14N      = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	algEnveloped = string(dsig.EnvelopedSignatureAltorithmId)
	algSignature = dsig.RSASHA256SignatureMethod
	algDigest    = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// exclusiveC14N returns the canonicaliser we sign with.
func exclusiveC14N() dsig.Canonicalizer {
	return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
}

// signRoot inserts an enveloped signature over root (Reference URI
// "#"+ID) as root's first child element and returns the serialised
// document. canon is exclusiveC14N() except in a test that shows why.
//
// First, not last: goxmldsig v1.6.1 looks for the signature depth-first
// and gives up after 1000 elements ("traversal limit reached"), and a
// request of 1000 results has about 7000. Enveloped signatures may sit
// anywhere in the signed element; xmlsec1 does not mind.
func signRoot(k *Key, root *etree.Element, canon dsig.Canonicalizer) ([]byte, error) {
	if k == nil || k.priv == nil || k.cert == nil {
		return nil, errors.New("no key")
	}
	ctx, err := dsig.NewSigningContext(k.priv, [][]byte{k.cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	if err := ctx.SetSignatureMethod(algSignature); err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	ctx.Canonicalizer = canon
	ctx.IdAttribute = idAttr
	ctx.Prefix = "ds"
	// A line break before and after the signature, for a reader. They are
	// part of the signed content, so they go in before the digest.
	root.InsertChildAt(0, etree.NewText("\n"))
	root.InsertChildAt(0, etree.NewText("\n"))
	// The exclusive canonicaliser rewrites the element it is given in
	// place (it moves namespace declarations to where they are used); sign
	// a copy, so the document keeps the envelopes' declarations as they
	// came. The digest is the same: that is what canonical means.
	sig, err := ctx.ConstructSignature(root.Copy(), true)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	root.InsertChildAt(1, sig)

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.CreateCharData("\n")
	doc.SetRoot(root)
	doc.CreateCharData("\n")
	// Canonical escaping writes tab, newline and carriage return in
	// attribute values, and carriage return in text, as character
	// references. Written literally, an XML parser such as xmlsec1's
	// normalises them away and would digest other characters than we did.
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("serialise: %w", err)
	}
	return out, nil
}

// verifyRoot checks doc's signature against certs and returns the element
// goxmldsig validated (the root without its signature, rebuilt from the
// canonical bytes whose digest was checked) and its ID. Everything the
// caller reads must come from that element.
func verifyRoot(certs []*x509.Certificate, doc []byte, tag string) (*etree.Element, string, error) {
	if len(certs) == 0 {
		return nil, "", fmt.Errorf("%w: no trusted certificate", gateway.ErrInvalid)
	}
	for _, c := range certs {
		if c == nil {
			return nil, "", fmt.Errorf("%w: nil certificate", gateway.ErrInvalid)
		}
	}
	if len(doc) > maxDocSize {
		return nil, "", fmt.Errorf("%w: document of %d bytes is larger than %d", ErrInvalidSignature, len(doc), maxDocSize)
	}
	// We write tab, newline and carriage return in attribute values as
	// character references. Literal ones are not ours, and Go would read
	// them otherwise than an XML parser (and xmlsec1) does.
	if _, changed := normaliseAttrWhitespace(doc); changed {
		return nil, "", fmt.Errorf("%w: literal tab, newline or carriage return in an attribute value", ErrInvalidSignature)
	}
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		return nil, "", fmt.Errorf("%w: parse: %w", ErrInvalidSignature, err)
	}
	var root *etree.Element
	for _, tok := range tree.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return nil, "", fmt.Errorf("%w: document type declaration", ErrInvalidSignature)
		case *etree.Element:
			if root != nil {
				return nil, "", fmt.Errorf("%w: more than one root element", ErrInvalidSignature)
			}
			root = t
		}
	}
	if root == nil || !is(root, tag) {
		return nil, "", fmt.Errorf("%w: root is not %s:%s", ErrInvalidSignature, Namespace, tag)
	}
	id, ok := plainAttr(root, idAttr)
	if !ok || !ncName.MatchString(id) {
		return nil, "", fmt.Errorf("%w: root has no valid %s attribute", ErrInvalidSignature, idAttr)
	}
	// Signature wrapping: a second element with the root's ID (or any two
	// elements sharing an ID) lets a verifier and a reader look at
	// different elements. No document of ours has one.
	if dup, found := duplicateID(root); found {
		return nil, id, fmt.Errorf("%w: ID %q occurs more than once", ErrInvalidSignature, dup)
	}
	// Exactly one signature, ours, as the root's first element: goxmldsig
	// would otherwise take the first signature anywhere in the tree whose
	// reference matches the root (and it gives up looking after 1000
	// elements, see signRoot).
	if n := countSignatures(root); n != 1 {
		return nil, id, fmt.Errorf("%w: %d signatures, want 1", ErrInvalidSignature, n)
	}
	sigEl := root.ChildElements()[0]
	if !isSignature(sigEl) {
		return nil, id, fmt.Errorf("%w: signature is not the root's first element", ErrInvalidSignature)
	}
	if err := checkSignature(sigEl, id); err != nil {
		return nil, id, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}

	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
	vc.IdAttribute = idAttr
	validated, err := vc.Validate(root)
	if err != nil {
		return nil, id, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	if !is(validated, tag) {
		return nil, id, fmt.Errorf("%w: validated element is not %s", ErrInvalidSignature, tag)
	}
	if vid, _ := plainAttr(validated, idAttr); vid != id {
		return nil, id, fmt.Errorf("%w: validated element has another ID than the root", ErrInvalidSignature)
	}
	return validated, id, nil
}

// checkSignature accepts exactly the signature signRoot writes:
// SignedInfo, SignatureValue and KeyInfo holding one X509Certificate, and
// nothing else (no ds:Object: content there is not covered by the digest);
// exclusive c14n, RSA-SHA256, one reference to "#"+id with the
// enveloped-signature and exclusive c14n transforms (no prefix list) and a
// SHA-256 digest. This refuses downgrades (SHA-1, other transforms) that
// goxmldsig would accept.
func checkSignature(sig *etree.Element, id string) error {
	if err := wantDSChildren(sig, dsig.SignedInfoTag, dsig.SignatureValueTag, dsig.KeyInfoTag); err != nil {
		return err
	}
	parts := sig.ChildElements()
	si, keyInfo := parts[0], parts[2]
	if err := wantDSChildren(keyInfo, dsig.X509DataTag); err != nil {
		return err
	}
	if err := wantDSChildren(keyInfo.ChildElements()[0], dsig.X509CertificateTag); err != nil {
		return err
	}
	if err := wantDSChildren(si, dsig.CanonicalizationMethodTag, dsig.SignatureMethodTag, dsig.ReferenceTag); err != nil {
		return err
	}
	siParts := si.ChildElements()
	if a, _ := plainAttr(siParts[0], dsig.AlgorithmAttr); a != algC14N {
		return fmt.Errorf("CanonicalizationMethod is not %s", algC14N)
	}
	if a, _ := plainAttr(siParts[1], dsig.AlgorithmAttr); a != algSignature {
		return fmt.Errorf("SignatureMethod is not %s", algSignature)
	}
	ref := siParts[2]
	if uri, _ := plainAttr(ref, dsig.URIAttr); uri != "#"+id {
		return errors.New("reference does not point at the root's ID")
	}
	if err := wantDSChildren(ref, dsig.TransformsTag, dsig.DigestMethodTag, dsig.DigestValueTag); err != nil {
		return err
	}
	refParts := ref.ChildElements()
	if a, _ := plainAttr(refParts[1], dsig.AlgorithmAttr); a != algDigest {
		return fmt.Errorf("DigestMethod is not %s", algDigest)
	}
	if err := wantDSChildren(refParts[0], dsig.TransformTag, dsig.TransformTag); err != nil {
		return err
	}
	ts := refParts[0].ChildElements()
	a0, _ := plainAttr(ts[0], dsig.AlgorithmAttr)
	a1, _ := plainAttr(ts[1], dsig.AlgorithmAttr)
	if a0 != algEnveloped || a1 != algC14N || len(ts[0].ChildElements())+len(ts[1].ChildElements()) != 0 {
		return errors.New("transforms are not enveloped-signature, exclusive c14n")
	}
	return nil
}

// wantDSChildren checks that el's child elements are exactly the XML-DSig
// elements named tags, in that order.
func wantDSChildren(el *etree.Element, tags ...string) error {
	kids := el.ChildElements()
	ok := len(kids) == len(tags)
	for i := 0; ok && i < len(kids); i++ {
		ok = kids[i].Tag == tags[i] && kids[i].NamespaceURI() == dsig.Namespace
	}
	if !ok {
		return fmt.Errorf("%s does not hold exactly %s", el.Tag, strings.Join(tags, ", "))
	}
	return nil
}

// plainAttr returns the value of el's attribute key in no namespace.
func plainAttr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}
