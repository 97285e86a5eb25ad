package uwlr_test

// Helpers shared by the XSD, round-trip and golden tests of the wire types:
// running xmllint against the official schemas in ../Schemas, cutting the
// header and body elements out of a SOAP envelope, checking namespaces and
// comparing structs.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ instead of comparing with them")

// schemaDir holds the official UWLR 2.2 XSDs.
const schemaDir = "../Schemas"

const (
	xsdLeerlinggegevens = "UWLR_Leerlinggegevens_v2p2.xsd"
	xsdLeerresultaten   = "UWLR_Leerresultaten_v2p2.xsd"
	xsdAutorisatie      = "UWLR_Autorisatie_v2p2.xsd"
)

// xmllintInvalid is xmllint's exit status for a well-formed document that does
// not validate (XMLLINT_ERR_VALID). Every other non-zero status (schema does not
// compile, document not well-formed, file unreadable) is a broken test, never
// a passing negative control.
const xmllintInvalid = 3

// testAuth is the autorisatie header of every request in these tests. Each
// field fits the XSD's 64-character limit.
var testAuth = &uwlr.Autorisatie{
	Autorisatiesleutel: "c2VjcmV0LXNsZXV0ZWwtdm9vci1kZS10ZXN0cw",
	Klantcode:          "GW-0001",
	Klantnaam:          "UWLR Gateway test",
}

// xmllintBinary finds xmllint. A missing xmllint fails the test: the schema
// proofs are the point of this package's tests and must not be skipped silently.
func xmllintBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found (%v): install libxml2-utils (apt-get install libxml2-utils); the XSD tests never skip", err)
	}
	return p
}

// lint validates doc against the named XSD in schemaDir and reports whether it
// is valid, with xmllint's output. Only "valid" and "invalid" are outcomes; any
// other failure of xmllint is fatal.
func lint(t *testing.T, xsd string, doc []byte) (valid bool, output string) {
	t.Helper()
	bin := xmllintBinary(t)
	schema, err := filepath.Abs(filepath.Join(schemaDir, xsd))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(schema); err != nil {
		t.Fatalf("schema %s: %v", xsd, err)
	}
	file := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--noout", "--nonet", "--schema", schema, file).CombinedOutput()
	if err == nil {
		return true, string(out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == xmllintInvalid {
		return false, string(out)
	}
	t.Fatalf("xmllint --schema %s: %v (the schema or the document is broken, not merely invalid):\n%s\ndocument:\n%s", xsd, err, out, clip(doc))
	return false, ""
}

// validate fails the test unless doc is valid against the named XSD.
func validate(t *testing.T, xsd string, doc []byte) {
	t.Helper()
	if ok, out := lint(t, xsd, doc); !ok {
		t.Fatalf("document does not validate against %s:\n%s\ndocument:\n%s", xsd, out, clip(doc))
	}
}

// mustNotValidate fails the test unless xmllint rejects doc, with want in its
// complaint (so that the control fails for the reason it was written for).
func mustNotValidate(t *testing.T, xsd string, doc []byte, want string) {
	t.Helper()
	ok, out := lint(t, xsd, doc)
	if ok {
		t.Fatalf("document validates against %s but must not (the validator does not bite):\n%s", xsd, clip(doc))
	}
	if !strings.Contains(out, want) {
		t.Fatalf("document is invalid against %s, but not for the expected reason %q:\n%s\ndocument:\n%s", xsd, want, out, clip(doc))
	}
}

func clip(b []byte) string {
	const max = 6000
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("... (%d more bytes)", len(b)-max)
	}
	return string(b)
}

// element is one element cut out of a SOAP envelope.
type element struct {
	Name xml.Name // resolved name of the root
	Raw  []byte   // the element's bytes exactly as they are in the envelope
	// Doc is Raw with the namespace declarations in scope from the Envelope,
	// Header or Body elements added to its start tag (unless the element
	// redeclares them): a standalone document with the same meaning.
	Doc []byte
}

// splitEnvelope cuts the first element of soap:Header (nil when there is no
// header element) and the single element of soap:Body out of a SOAP 1.1
// envelope. The bytes are sliced, not re-encoded, so the schema sees exactly
// what was written, prefixes and namespace declarations included.
func splitEnvelope(t *testing.T, env []byte) (header, body *element) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(env))
	var envDecls, partDecls []xml.Attr
	var part string // "Header" or "Body" while inside one
	depth := 0
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("envelope: %v\n%s", err, clip(env))
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if tk.Name != (xml.Name{Space: uwlr.NSSOAPEnvelope, Local: "Envelope"}) {
					t.Fatalf("root is {%s}%s, not a SOAP 1.1 Envelope", tk.Name.Space, tk.Name.Local)
				}
				envDecls = nsDecls(tk.Attr)
			case 2:
				if tk.Name.Space != uwlr.NSSOAPEnvelope || (tk.Name.Local != "Header" && tk.Name.Local != "Body") {
					t.Fatalf("unexpected envelope child {%s}%s", tk.Name.Space, tk.Name.Local)
				}
				part, partDecls = tk.Name.Local, nsDecls(tk.Attr)
			case 3:
				if err := d.Skip(); err != nil {
					t.Fatalf("envelope %s: %v", part, err)
				}
				depth--
				el := &element{Name: tk.Name, Raw: env[off:d.InputOffset()]}
				el.Doc = standalone(t, el.Raw, append(append([]xml.Attr(nil), envDecls...), partDecls...))
				switch {
				case part == "Header" && header == nil:
					header = el
				case part == "Body" && body == nil:
					body = el
				case part == "Body":
					t.Fatalf("soap:Body has a second element {%s}%s", tk.Name.Space, tk.Name.Local)
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if body == nil {
		t.Fatalf("envelope has no body element:\n%s", clip(env))
	}
	return header, body
}

// nsDecls returns the namespace declarations among attrs, as encoding/xml
// reports them: {xmlns}prefix for prefixed ones, {}xmlns for the default one.
func nsDecls(attrs []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			out = append(out, a)
		}
	}
	return out
}

func declPrefix(a xml.Attr) string {
	if a.Name.Space == "xmlns" {
		return a.Name.Local
	}
	return "" // default namespace
}

// rootDecls returns the namespace declarations on the start tag of raw, by prefix.
func rootDecls(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("element has no start tag: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			m := map[string]string{}
			for _, a := range nsDecls(se.Attr) {
				m[declPrefix(a)] = a.Value
			}
			return m
		}
	}
}

// standalone adds the inherited declarations the root of raw does not make
// itself, right after its qualified name.
func standalone(t *testing.T, raw []byte, inherited []xml.Attr) []byte {
	t.Helper()
	own := rootDecls(t, raw)
	add := map[string]string{}
	for _, a := range inherited { // later (inner) declarations win
		if _, ok := own[declPrefix(a)]; !ok {
			add[declPrefix(a)] = a.Value
		}
	}
	if len(add) == 0 {
		return append([]byte(nil), raw...)
	}
	prefixes := make([]string, 0, len(add))
	for p := range add {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	var decl bytes.Buffer
	for _, p := range prefixes {
		if p == "" {
			decl.WriteString(` xmlns="`)
		} else {
			decl.WriteString(` xmlns:` + p + `="`)
		}
		if err := xml.EscapeText(&decl, []byte(add[p])); err != nil {
			t.Fatal(err)
		}
		decl.WriteByte('"')
	}
	end := 1 // just after the qualified name of the start tag
	for end < len(raw) && !strings.ContainsRune(" \t\r\n/>", rune(raw[end])) {
		end++
	}
	out := make([]byte, 0, len(raw)+decl.Len())
	out = append(out, raw[:end]...)
	out = append(out, decl.Bytes()...)
	return append(out, raw[end:]...)
}

// marshal wraps body (and auth, when not nil) in an envelope with
// soap.MarshalEnvelope and cuts them out again. It checks that the body root is
// the element the caller expects and that it carries its namespace as a default
// namespace declaration of its own (not inherited from the envelope), as does
// the autorisatie header.
func marshal(t *testing.T, auth *uwlr.Autorisatie, body any, want xml.Name) (header, bodyEl *element) {
	t.Helper()
	env, err := soap.MarshalEnvelope(auth, body)
	if err != nil {
		t.Fatalf("MarshalEnvelope(%T): %v", body, err)
	}
	header, bodyEl = splitEnvelope(t, env)
	if bodyEl.Name != want {
		t.Fatalf("body element is {%s}%s, want {%s}%s", bodyEl.Name.Space, bodyEl.Name.Local, want.Space, want.Local)
	}
	if got := rootDecls(t, bodyEl.Raw)[""]; got != want.Space {
		t.Fatalf("body element declares xmlns=%q, want %q:\n%s", got, want.Space, clip(bodyEl.Raw))
	}
	switch {
	case auth == nil && header != nil:
		t.Fatalf("envelope without autorisatie has a header element {%s}%s", header.Name.Space, header.Name.Local)
	case auth != nil && header == nil:
		t.Fatalf("envelope with autorisatie has no header element:\n%s", env)
	case auth != nil:
		if header.Name != (xml.Name{Space: uwlr.NSAutorisatie, Local: "autorisatie"}) {
			t.Fatalf("header element is {%s}%s", header.Name.Space, header.Name.Local)
		}
		if got := rootDecls(t, header.Raw)[""]; got != uwlr.NSAutorisatie {
			t.Fatalf("autorisatie declares xmlns=%q, want %q", got, uwlr.NSAutorisatie)
		}
	}
	return header, bodyEl
}

// osoRoot reports whether an element of this local name starts an OSO subtree
// in a results message.
func osoRoot(local string) bool { return local == "toetsscore" || local == "referentiescore" }

// assertNamespaces checks that every element of doc is in ns, except the OSO
// subtrees (toetsscore, referentiescore), which must be in NSOSO throughout,
// and that no attribute is namespace-qualified (attributeFormDefault is
// unqualified in every UWLR schema). It returns the local names of the elements
// in the OSO namespace, in document order.
func assertNamespaces(t *testing.T, doc []byte, ns string) (oso []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []bool // per open element: inside an OSO subtree
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return oso
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			inOSO := (len(stack) > 0 && stack[len(stack)-1]) || osoRoot(tk.Name.Local)
			want := ns
			if inOSO {
				want = uwlr.NSOSO
				oso = append(oso, tk.Name.Local)
			}
			if tk.Name.Space != want {
				t.Errorf("element <%s> is in namespace %q, want %q", tk.Name.Local, tk.Name.Space, want)
			}
			for _, a := range tk.Attr {
				if len(nsDecls([]xml.Attr{a})) == 0 && a.Name.Space != "" {
					t.Errorf("attribute %s of <%s> is qualified with %q; UWLR attributes are unqualified", a.Name.Local, tk.Name.Local, a.Name.Space)
				}
			}
			stack = append(stack, inOSO)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// zeroXMLName clears the XMLName field of the struct v points to, if it has one:
// Unmarshal fills it in, a struct literal leaves it empty.
func zeroXMLName(v any) {
	rv := reflect.ValueOf(v).Elem()
	if f := rv.FieldByName("XMLName"); f.IsValid() {
		f.Set(reflect.Zero(f.Type()))
	}
}

// assertRoundTrip unmarshals doc into a new value of want's type and requires it
// to equal *want, XMLName fields aside. want must be a pointer to a struct.
func assertRoundTrip(t *testing.T, doc []byte, want any) {
	t.Helper()
	got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
	if err := xml.Unmarshal(doc, got); err != nil {
		t.Fatalf("xml.Unmarshal into %T: %v", got, err)
	}
	w := reflect.New(reflect.TypeOf(want).Elem())
	w.Elem().Set(reflect.ValueOf(want).Elem())
	zeroXMLName(got)
	zeroXMLName(w.Interface())
	assertDeepEqual(t, got, w.Interface())
}

// assertDeepEqual compares with reflect.DeepEqual and shows the first differing
// line of both values as JSON when they differ.
func assertDeepEqual(t *testing.T, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Fatalf("values differ (%T):\n%s", got, firstDiff(string(g), string(w)))
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w || i >= len(gl) || i >= len(wl) {
			lo := max(0, i-3)
			ctx := strings.Join(wl[lo:min(i, len(wl))], "\n")
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s\ncontext (want):\n%s", i+1, g, w, ctx)
		}
	}
	return "(no line differs; the difference is not visible in JSON, e.g. nil versus empty)"
}

func ptr[T any](v T) *T { return &v }
