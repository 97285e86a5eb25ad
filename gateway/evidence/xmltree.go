package evidence

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

const (
	// Namespace is the namespace of the documents this package writes.
	Namespace = "urn:uwlr-gateway:evidence:1"
	// prefix is the prefix of our own elements. A prefix, not a default
	// namespace: an embedded envelope with unqualified elements then keeps
	// them in no namespace.
	prefix = "ev"
	// idAttr is the attribute a signature's Reference points at, as
	// goxmldsig and xmlsec1 --id-attr:ID look for it.
	idAttr = "ID"

	nsXML      = "http://www.w3.org/XML/1998/namespace"
	nsXMLNSURI = "http://www.w3.org/2000/xmlns/"
	nsXMLNS    = "xmlns"
	// goxNoDefault is what goxmldsig's canonicaliser takes as the default
	// namespace before any is declared.
	goxNoDefault = nsXML
	// maxDocSize bounds what Verify and Sign parse. A delivery batch is
	// capped well below this (1000 results are about 300 KB).
	maxDocSize = 64 << 20
)

// ncName is the form of an ID that both goxmldsig (a Reference URI "#id")
// and xmlsec1 (an XPointer bare name) accept.
var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// isSignature reports whether el is an XML-DSig Signature element.
func isSignature(el *etree.Element) bool {
	return el.Tag == dsig.SignatureTag && el.NamespaceURI() == dsig.Namespace
}

// is reports whether el is our element named tag.
func is(el *etree.Element, tag string) bool {
	return el.Tag == tag && el.NamespaceURI() == Namespace
}

// countSignatures counts the XML-DSig Signature elements in the tree.
func countSignatures(el *etree.Element) int {
	n := 0
	if isSignature(el) {
		n++
	}
	for _, c := range el.ChildElements() {
		n += countSignatures(c)
	}
	return n
}

// duplicateID returns an ID value that occurs on more than one element of
// the tree, or "". An ID is any attribute with local name ID (goxmldsig
// matches it with any prefix) or xml:id (which libxml2, inside xmlsec1,
// always treats as an ID). One element carrying two ID attributes is also
// refused: which of them a tool picks is then a guess.
func duplicateID(root *etree.Element) (string, bool) {
	seen := map[string]bool{}
	var walk func(el *etree.Element) (string, bool)
	walk = func(el *etree.Element) (string, bool) {
		n := 0
		for _, a := range el.Attr {
			if a.Key == idAttr || (a.Space == "xml" && a.Key == "id") {
				n++
				if n > 1 || seen[a.Value] {
					return a.Value, true
				}
				seen[a.Value] = true
			}
		}
		for _, c := range el.ChildElements() {
			if id, dup := walk(c); dup {
				return id, true
			}
		}
		return "", false
	}
	return walk(root)
}

// newRoot makes our root element with its namespace declaration and ID.
func newRoot(tag, id string) *etree.Element {
	root := etree.NewElement(prefix + ":" + tag)
	root.CreateAttr(nsXMLNS+":"+prefix, Namespace)
	root.CreateAttr(idAttr, id)
	return root
}

// validXMLString reports whether s can be written as XML 1.0 text: valid
// UTF-8 holding only characters XML allows.
func validXMLString(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// checkStrings returns the name of the first field whose value XML cannot
// carry, or "".
func checkStrings(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !validXMLString(fields[n]) {
			return n
		}
	}
	return ""
}

// onlyChildElement returns the single element child of el, refusing other
// element children and any non-whitespace text.
func onlyChildElement(el *etree.Element) (*etree.Element, error) {
	var child *etree.Element
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if child != nil {
				return nil, fmt.Errorf("<%s> holds more than one element", el.Tag)
			}
			child = t
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("<%s> holds text", el.Tag)
			}
		}
	}
	if child == nil {
		return nil, fmt.Errorf("<%s> holds no element", el.Tag)
	}
	return child, nil
}

// canonical returns the exclusive XML canonical form (without comments) of
// el as a document of its own: the namespaces it uses from its ancestors are
// declared on it first.
func canonical(el *etree.Element) ([]byte, error) {
	cp := el.Copy()
	own := map[string]bool{}
	for _, a := range cp.Attr {
		if a.Space == nsXMLNS {
			own[a.Key] = true
		} else if a.Space == "" && a.Key == nsXMLNS {
			own[""] = true
		}
	}
	// Innermost declaration wins: walk outwards and keep the first seen.
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == nsXMLNS && !own[a.Key]:
				own[a.Key] = true
				cp.CreateAttr(nsXMLNS+":"+a.Key, a.Value)
			case a.Space == "" && a.Key == nsXMLNS && !own[""]:
				own[""] = true
				cp.CreateAttr(nsXMLNS, a.Value)
			}
		}
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(cp)
	if err != nil {
		return nil, fmt.Errorf("canonicalise <%s>: %w", el.Tag, err)
	}
	return out, nil
}
