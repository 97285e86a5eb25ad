package capture

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Stats are what a capture changed.
type Stats struct {
	EckIDs  int `json:"eckids"`  // distinct ECK iDs replaced by a numbered marker
	Keys    int `json:"keys"`    // echoes of the school's keys replaced
	Dropped int `json:"dropped"` // elements and attributes left out
}

// KeyMarker is what a capture puts where the LAS echoed one of the
// school's keys.
const KeyMarker = "redacted:key"

// ErrNotAnswer: the document is neither a leerlinggegevens answer nor a
// SOAP fault, so there is nothing a capture may keep.
var ErrNotAnswer = errors.New("not a UWLR leerlinggegevens answer or SOAP fault")

// Redact writes to w a redacted capture of the leerlinggegevens answer (a
// SOAP envelope or the bare answer element, any of the four answers) read
// from r, with the school's keys found by sc. A SOAP fault in the body is
// kept the way ScrubFault keeps it. See the package comment for what is kept.
func Redact(w io.Writer, r io.Reader, sc *soap.Scrubber) (Stats, error) {
	return rewrite(w, r, sc, redactRoot)
}

// ScrubFault writes to w a copy of the SOAP fault answer read from r: the
// envelope, body and fault with all of the fault's elements, each text and
// attribute value scrubbed (ECK iDs numbered, the keys sc finds replaced);
// the SOAP header, comments and processing instructions are left out.
func ScrubFault(w io.Writer, r io.Reader, sc *soap.Scrubber) (Stats, error) {
	return rewrite(w, r, sc, faultRoot)
}

// Save is the soap.Save of las fetch: a data answer is redacted (raw:
// copied as it came), a fault answer always scrubbed; stats, when set, is
// told what changed.
func Save(raw bool, sc *soap.Scrubber, stats *Stats) soap.Save {
	return func(dst io.Writer, body io.Reader, fault bool) error {
		var st Stats
		var err error
		switch {
		case fault:
			st, err = ScrubFault(dst, body, sc)
		case raw:
			_, err = io.Copy(dst, body)
		default:
			st, err = Redact(dst, body, sc)
		}
		if stats != nil {
			*stats = st
		}
		return err
	}
}

// node is what a capture keeps of one element.
type node struct {
	attrs map[string]bool  // attributes kept, by local name
	elems map[string]*node // children kept, by local name
	text  bool             // its text is kept (scrubbed)
	all   bool             // everything below is kept, every text scrubbed
}

// child is the node of a child element, nil when it is left out.
func (n *node) child(local string) *node {
	if n.all {
		return n
	}
	return n.elems[local]
}

var (
	faultNode  = &node{all: true, text: true}
	redactRoot = rootOf(answerNode(), faultNode)
	faultRoot  = &node{elems: map[string]*node{
		"Envelope": {elems: map[string]*node{"Body": {elems: map[string]*node{"Fault": faultNode}}}},
		"Fault":    faultNode,
	}}
)

// rootOf is the document root of an answer: an envelope (its body holding
// the answer or a fault; its header left out) or the bare answer element.
func rootOf(answer, fault *node) *node {
	body := &node{elems: map[string]*node{"Fault": fault}}
	root := &node{elems: map[string]*node{"Envelope": {elems: map[string]*node{"Body": body}}}}
	for _, op := range []uwlr.Operation{uwlr.OpHaalLeerlinggegevens, uwlr.OpHaalStructuur, uwlr.OpHaalLeerlingen, uwlr.OpHaalLeerkrachten} {
		body.elems[op.Response], root.elems[op.Response] = answer, answer
	}
	return root
}

// answerNode is one leerlinggegevens answer: its data element with the
// lists of records, each record as mapping's allow-list keeps it.
func answerNode() *node {
	data := &node{elems: map[string]*node{
		"school":      record(reflect.TypeFor[uwlr.School](), mapping.AllowedSchoolFields()),
		"vestigingen": {elems: map[string]*node{"vestiging": record(reflect.TypeFor[uwlr.Vestiging](), mapping.AllowedVestigingFields())}},
		"groepen": {elems: map[string]*node{
			"groep":               record(reflect.TypeFor[uwlr.Groep](), mapping.AllowedGroepFields()),
			"samengestelde_groep": record(reflect.TypeFor[uwlr.SamengesteldeGroep](), mapping.AllowedSamengesteldeGroepFields()),
		}},
		"leerlingen":   {elems: map[string]*node{"leerling": record(reflect.TypeFor[uwlr.Leerling](), mapping.AllowedLeerlingFields())}},
		"leerkrachten": {elems: map[string]*node{"leerkracht": record(reflect.TypeFor[uwlr.Leerkracht](), mapping.AllowedLeerkrachtFields())}},
	}}
	ans := &node{elems: map[string]*node{"geenwijzigingen": {}, "geengegevens": {}}}
	for _, k := range []soap.AnswerKind{soap.AnswerLeerlinggegevens, soap.AnswerStructuur, soap.AnswerLeerlingen, soap.AnswerLeerkrachten} {
		ans.elems[string(k)] = data
	}
	return ans
}

// record is the node of a wire record that keeps the named fields of typ,
// by their xml tags: attributes, text elements, and nested records (a group
// reference) kept whole.
func record(typ reflect.Type, fields []string) *node {
	n := &node{attrs: map[string]bool{}, elems: map[string]*node{}}
	for _, name := range fields {
		f, ok := typ.FieldByName(name)
		if !ok {
			panic(fmt.Sprintf("capture: allow-list names %s.%s, which does not exist", typ.Name(), name))
		}
		xmlName, attr := xmlTag(f)
		if attr {
			n.attrs[xmlName] = true
		} else {
			n.elems[xmlName] = whole(f.Type)
		}
	}
	return n
}

// whole keeps a field as a whole: a text, or every field of a record.
func whole(t reflect.Type) *node {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() == reflect.String {
		return &node{text: true}
	}
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.Name != "XMLName" {
			names = append(names, f.Name)
		}
	}
	return record(t, names)
}

// xmlTag returns a field's element or attribute name and whether it is an
// attribute.
func xmlTag(f reflect.StructField) (name string, attr bool) {
	parts := strings.Split(f.Tag.Get("xml"), ",")
	name = parts[0]
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		name = name[i+1:] // "namespace local"
	}
	if name == "" || strings.Contains(name, ">") {
		panic(fmt.Sprintf("capture: field %s has xml tag %q, which a capture cannot follow", f.Name, f.Tag.Get("xml")))
	}
	return name, slices.Contains(parts[1:], "attr")
}

// rewriter writes the kept part of a document as it is read.
type rewriter struct {
	out   *bufio.Writer
	sc    *soap.Scrubber
	nums  map[[16]byte]int // ECK iD (hashed) -> its number in this capture
	stats Stats
	root  bool // the root element was kept
}

func rewrite(w io.Writer, r io.Reader, sc *soap.Scrubber, root *node) (Stats, error) {
	rw := &rewriter{out: bufio.NewWriterSize(w, 64<<10), sc: sc, nums: map[[16]byte]int{}}
	err := rw.run(soap.NewDecoder(r), root)
	rw.stats.EckIDs = len(rw.nums)
	if err == nil {
		err = rw.out.Flush()
	}
	return rw.stats, err
}

// run copies the kept elements, token by token. Prefixes and namespace
// declarations stay as they came, so the copy means what the answer meant.
func (rw *rewriter) run(d *xml.Decoder, root *node) error {
	type frame struct {
		name xml.Name
		n    *node
	}
	var stack []frame
	skip, roots := 0, 0 // depth inside a left-out element; root elements seen
	rw.out.WriteString(xml.Header)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("capture: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case skip > 0:
				skip++
				continue
			case len(stack) == 0:
				if roots++; roots > 1 {
					return errors.New("capture: more than one root element")
				}
			}
			parent := root
			if len(stack) > 0 {
				parent = stack[len(stack)-1].n
			}
			n := parent.child(t.Name.Local)
			if n == nil {
				skip = 1
				rw.stats.Dropped++
				continue
			}
			rw.root = rw.root || len(stack) == 0
			rw.start(t, n)
			stack = append(stack, frame{t.Name, n})
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return fmt.Errorf("capture: element </%s> closes nothing that was opened", t.Name.Local)
			}
			stack = stack[:len(stack)-1]
			rw.end(t.Name)
		case xml.CharData:
			if skip == 0 && len(stack) > 0 {
				rw.text(stack[len(stack)-1].n, t)
			}
		}
	}
	switch {
	case len(stack) > 0 || skip > 0:
		return fmt.Errorf("capture: %w", io.ErrUnexpectedEOF)
	case !rw.root:
		return ErrNotAnswer
	}
	return nil
}
