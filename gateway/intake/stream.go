package intake

// The top level of a results file, read as a stream: the members in any
// order, "tests" and "results" element by element, so that a file is never
// held in memory, only the record being checked. Each element passes the
// same structural check and rules as before.

import (
	"encoding/json"
)

// document reads one file.
type document struct {
	src  *source
	dec  *json.Decoder
	rd   *reader
	seen map[string]bool
	// results: "results" was there (or the file is no object, which says
	// enough).
	results bool
}

// arrayKind is what an array member turned out to be.
type arrayKind int

const (
	anArray arrayKind = iota
	aNull
	notAnArray
)

// read reads the file to its end. It returns the decoder's error; the
// source tells a syntax error from a failing reader.
func (d *document) read() error {
	tok, err := d.dec.Token()
	if err != nil {
		return err
	}
	d.rd.begin()
	if tok != json.Delim('{') {
		if tok == nil {
			d.rd.add("", "must not be null (leave the field out instead)")
		} else {
			d.rd.add("", "must be an object")
		}
		d.results = true
		if err := d.skipRest(tok); err != nil {
			return err
		}
		return d.src.drain()
	}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		d.rd.begin()
		if err := d.member(name); err != nil {
			return err
		}
	}
	if _, err := d.dec.Token(); err != nil { // }
		return err
	}
	return d.src.drain()
}

// member reads the value of one member of the top level.
func (d *document) member(name string) error {
	defer func() { d.seen[name] = true }()
	switch {
	case name != "school" && name != "tests" && name != "results":
		d.rd.add(name, "unknown field")
		return d.skip()
	case d.seen[name]:
		d.rd.add(name, "given twice")
		return d.skip()
	case name == "school":
		return d.school()
	case name == "tests":
		return d.tests()
	default:
		return d.resultsMember()
	}
}

func (d *document) school() error {
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return err
	}
	var s *string
	if d.rd.decode(raw, &s, "school") && *s != string(d.rd.o.School) {
		d.rd.add("school", "the file is for another school than %s", d.rd.o.School)
	}
	return nil
}

func (d *document) tests() error {
	kind, err := d.array("tests", func(raw json.RawMessage, i int) {
		if def, ok := d.rd.test(raw, index("tests", i)); ok {
			d.rd.keepTest(def)
		}
	})
	// A "tests" that is no array leaves the results' tests unknown: no
	// complaint that one is not defined.
	d.rd.testsUnreadable = kind == notAnArray
	d.rd.testsDone = true
	return err
}

func (d *document) resultsMember() error {
	d.results = true
	n := 0
	kind, err := d.array("results", func(raw json.RawMessage, i int) {
		n++
		if res, ok := d.rd.result(raw, index("results", i)); ok {
			d.rd.keepResult(res)
		}
	})
	if err == nil && kind == anArray && n == 0 {
		d.rd.add("results", "must hold at least one result")
	}
	return err
}

// array reads a member that must be an array, element by element: each
// element is one item of the document, checked by each.
func (d *document) array(name string, each func(raw json.RawMessage, i int)) (arrayKind, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return notAnArray, err
	}
	switch tok {
	case json.Delim('['):
	case nil:
		d.rd.add(name, "must not be null (leave the field out instead)")
		return aNull, nil
	default:
		d.rd.add(name, "must be an array")
		return notAnArray, d.skipRest(tok)
	}
	for i := 0; d.dec.More(); i++ {
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return anArray, err
		}
		d.rd.begin()
		each(raw, i)
	}
	_, err = d.dec.Token() // ]
	return anArray, err
}

// skip reads past one value, token by token.
func (d *document) skip() error {
	tok, err := d.dec.Token()
	if err != nil {
		return err
	}
	return d.skipRest(tok)
}

// skipRest reads past the value that tok began.
func (d *document) skipRest(tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = d.dec.Token(); err != nil {
			return err
		}
	}
}

// finish does what needs the whole file: "results" must have been there,
// and the checks that waited for "tests" are done.
func (d *document) finish() {
	if !d.results {
		d.rd.begin()
		d.rd.add("results", "is required")
	}
	d.rd.resolve()
}
