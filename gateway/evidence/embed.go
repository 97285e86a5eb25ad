package evidence

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/beevik/etree"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// normaliseAttrWhitespace returns doc with XML attribute-value
// normalisation (XML 1.0 section 3.3.3, for attributes without a DTD)
// applied to the literal tab, line feed and carriage return characters in
// attribute values: each becomes a space, a CR LF pair one space. An XML
// parser such as libxml2 (inside xmlsec1) does that; encoding/xml, under
// etree, keeps the characters, so without this Go and xmlsec1 would read
// different values. Character references (&#xA;) are left alone: they are
// how a newline is kept. changed reports whether anything was replaced.
// doc must be well-formed for the result to mean anything; callers parse
// it afterwards.
func normaliseAttrWhitespace(doc []byte) (out []byte, changed bool) {
	last := 0
	skip := func(i int, open, close string) int {
		j := bytes.Index(doc[i+len(open):], []byte(close))
		if j < 0 {
			return len(doc)
		}
		return i + len(open) + j + len(close)
	}
	for i := 0; i < len(doc); {
		if doc[i] != '<' {
			i++
			continue
		}
		rest := doc[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skip(i, "<!--", "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			i = skip(i, "<![CDATA[", "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skip(i, "<?", "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			i += 2 // a document type declaration: refused after parsing
		default: // a start or end tag: quotes delimit attribute values
			var quote byte
			for i++; i < len(doc); i++ {
				c := doc[i]
				if quote == 0 {
					if c == '"' || c == '\'' {
						quote = c
					} else if c == '>' {
						break
					}
					continue
				}
				if c == quote {
					quote = 0
					continue
				}
				if c != '\t' && c != '\n' && c != '\r' {
					continue
				}
				if out == nil {
					out = make([]byte, 0, len(doc))
				}
				out = append(out, doc[last:i]...)
				out = append(out, ' ')
				if c == '\r' && i+1 < len(doc) && doc[i+1] == '\n' {
					i++
				}
				last = i + 1
			}
		}
	}
	if out == nil {
		return doc, false
	}
	return append(out, doc[last:]...), true
}

// parseEmbedded parses a complete XML document (a SOAP envelope) to embed
// it as an element, reading attribute values as an XML parser must (see
// normaliseAttrWhitespace). Comments are dropped (exclusive c14n without
// comments does not sign them, so keeping them would store unsigned text) and CDATA
// sections become plain text (the same characters; canonical XML has no
// CDATA). A document type declaration is refused. The result is checked to
// be namespace-well-formed, so it means the same inside our document as on
// its own.
func parseEmbedded(b []byte) (*etree.Element, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	if len(b) > maxDocSize {
		return nil, fmt.Errorf("document of %d bytes is larger than %d", len(b), maxDocSize)
	}
	b, _ = normaliseAttrWhitespace(bytes.TrimPrefix(b, utf8BOM))
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var root *etree.Element
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return nil, fmt.Errorf("document type declarations are not allowed")
		case *etree.Element:
			if root != nil {
				return nil, fmt.Errorf("more than one root element")
			}
			root = t
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	normalise(root)
	// Our own elements use a prefix, so nothing renders a default
	// namespace above the envelope.
	if err := checkNamespaces(root, map[string]string{"xml": nsXML}, "", goxNoDefault); err != nil {
		return nil, err
	}
	doc.RemoveChild(root)
	return root, nil
}

// normalise removes comments and turns CDATA sections into text, in place.
func normalise(el *etree.Element) {
	for i := 0; i < len(el.Child); {
		switch t := el.Child[i].(type) {
		case *etree.Comment:
			el.RemoveChildAt(i)
			continue
		case *etree.CharData:
			if t.IsCData() {
				el.RemoveChildAt(i)
				el.InsertChildAt(i, etree.NewText(t.Data))
			}
		case *etree.Element:
			normalise(t)
		}
		i++
	}
}

// checkNamespaces checks that every prefix used by el and its descendants
// is declared, that no prefix is undeclared (xmlns:p="") or bound against
// the rules of Namespaces in XML, and that goxmldsig canonicalises el's
// namespaces and attributes as xmlsec1 does (see checkDefaultNS and
// checkAttrOrder). It removes redundant xmlns="" declarations, which change
// nothing. scope maps the prefixes in scope to their URIs ("" is the
// default namespace; absent means none). rendered and renderedGox are the
// default namespace in effect in the canonical output of el's ancestors,
// as exclusive c14n and as goxmldsig compute it.
func checkNamespaces(el *etree.Element, scope map[string]string, rendered, renderedGox string) error {
	copied := false
	for i := 0; i < len(el.Attr); {
		a := el.Attr[i]
		switch {
		case a.Space == nsXMLNS:
			if a.Value == "" {
				return fmt.Errorf("element <%s> undeclares prefix %q", el.FullTag(), a.Key)
			}
			if a.Key == nsXMLNS || (a.Key == "xml") != (a.Value == nsXML) || a.Value == nsXMLNSURI {
				return fmt.Errorf("element <%s> binds a reserved prefix or namespace", el.FullTag())
			}
			if !copied {
				scope, copied = copyScope(scope), true
			}
			scope[a.Key] = a.Value
		case a.Space == "" && a.Key == nsXMLNS:
			if a.Value == nsXML || a.Value == nsXMLNSURI {
				return fmt.Errorf("element <%s> binds a reserved namespace as default", el.FullTag())
			}
			if a.Value == "" && scope[""] == "" {
				// No default namespace is in scope: the declaration is
				// redundant (and goxmldsig would render it).
				el.RemoveAttr(nsXMLNS)
				continue
			}
			if !copied {
				scope, copied = copyScope(scope), true
			}
			scope[""] = a.Value
		}
		i++
	}
	if el.Space != "" {
		if _, ok := scope[el.Space]; !ok {
			return fmt.Errorf("element <%s> uses an undeclared prefix", el.FullTag())
		}
	}
	for _, a := range el.Attr {
		if a.Space == "" || a.Space == nsXMLNS {
			continue
		}
		if _, ok := scope[a.Space]; !ok {
			return fmt.Errorf("attribute %s of <%s> uses an undeclared prefix", a.FullKey(), el.FullTag())
		}
	}
	if el.Space == "" {
		var err error
		if rendered, renderedGox, err = checkDefaultNS(el, scope, rendered, renderedGox); err != nil {
			return err
		}
	}
	if err := checkAttrOrder(el, scope); err != nil {
		return err
	}
	for _, c := range el.ChildElements() {
		if err := checkNamespaces(c, scope, rendered, renderedGox); err != nil {
			return err
		}
	}
	return nil
}

// checkDefaultNS follows the default namespace declaration that exclusive
// c14n renders on an unprefixed element, and the one goxmldsig v1.6.1
// renders, and refuses the element where they differ. goxmldsig starts
// from a context in which the default namespace is the XML namespace, so
// it renders xmlns="" where the canonical form renders nothing: on an
// element in no namespace below an xmlns="" that undeclared a default
// namespace which no canonical ancestor rendered. (Redundant xmlns="" are
// removed before this check, which leaves only such rare documents.)
func checkDefaultNS(el *etree.Element, scope map[string]string, rendered, renderedGox string) (string, string, error) {
	v, declared := scope[""]
	gox := v
	if !declared {
		gox = goxNoDefault
	}
	emit, emitGox := v != rendered, gox != renderedGox
	if emit != emitGox || (emit && v != gox) {
		return "", "", fmt.Errorf("element <%s>: its default namespace cannot be canonicalised compatibly with xmlsec1", el.FullTag())
	}
	if emit {
		rendered, renderedGox = v, gox
	}
	return rendered, renderedGox, nil
}

func copyScope(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// checkAttrOrder refuses an element whose namespace-qualified attributes
// goxmldsig v1.6.1 would put in another order than canonical XML. C14N
// sorts qualified attributes by namespace URI, then local name; goxmldsig
// sorts attributes with different local names by local name alone. The two
// agree exactly when sorting by (URI, local name) leaves the local names
// strictly increasing. Where they disagree the digest differs from the one
// xmlsec1 computes, and the evidence could not be checked independently.
func checkAttrOrder(el *etree.Element, scope map[string]string) error {
	type qattr struct{ uri, local string }
	var qs []qattr
	for _, a := range el.Attr {
		if a.Space == "" || a.Space == nsXMLNS {
			continue
		}
		qs = append(qs, qattr{scope[a.Space], a.Key})
	}
	if len(qs) < 2 {
		return nil
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].uri != qs[j].uri {
			return qs[i].uri < qs[j].uri
		}
		return qs[i].local < qs[j].local
	})
	for i := 1; i < len(qs); i++ {
		if qs[i-1].local >= qs[i].local {
			return fmt.Errorf("element <%s>: qualified attributes %s and %s cannot be canonicalised compatibly with xmlsec1", el.FullTag(), qs[i-1].local, qs[i].local)
		}
	}
	return nil
}
