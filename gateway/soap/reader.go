package soap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"hash/maphash"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Outcome is what a leerlinggegevens answer held.
type Outcome string

const (
	OutcomeData            Outcome = "data"
	OutcomeGeenWijzigingen Outcome = "geenwijzigingen" // nothing changed since laatstontvangengegevens
	OutcomeGeenGegevens    Outcome = "geengegevens"    // nothing found for this request
)

// AnswerKind is which of the four leerlinggegevens answers a response holds,
// named after its data element.
type AnswerKind string

const (
	AnswerLeerlinggegevens AnswerKind = "leerlinggegevens"              // HaalLeerlinggegevens: the whole school in one answer
	AnswerStructuur        AnswerKind = "leerlinggegevens-structuur"    // HaalStructuur: school, branches, groups
	AnswerLeerlingen       AnswerKind = "leerlinggegevens-leerlingen"   // HaalLeerlingen: pupils of selected groups
	AnswerLeerkrachten     AnswerKind = "leerlinggegevens-leerkrachten" // HaalLeerkrachten: teachers of selected groups
)

// SelfContained reports whether the records of the answer may refer only to
// groups and branches defined in the same answer (the identity constraints of
// SPEC.md §2.3). Only the whole-school answer is: the stepwise pupil and
// teacher answers refer to groups sent by an earlier HaalStructuur.
func (k AnswerKind) SelfContained() bool { return k == AnswerLeerlinggegevens }

// Handler receives the records of a response one at a time, in document
// order. The pointer is valid only during the call: copy what you keep.
// A nil func skips that kind; an error stops reading and is returned.
type Handler struct {
	// Answer is called once, when the data of an answer starts and before
	// any record; not for a geenwijzigingen or geengegevens answer.
	Answer             func(AnswerKind) error
	School             func(*uwlr.School) error
	Vestiging          func(*uwlr.Vestiging) error
	Groep              func(*uwlr.Groep) error
	SamengesteldeGroep func(*uwlr.SamengesteldeGroep) error
	Leerling           func(*uwlr.Leerling) error
	Leerkracht         func(*uwlr.Leerkracht) error
}

// Summary is what a streamed response held, counted, plus the warnings found
// while reading (dangling references, records without identity). Warnings
// name records by LAS key or position, never by name, birth date or ECK iD.
type Summary struct {
	Outcome              Outcome     `json:"outcome"`
	School               uwlr.School `json:"-"`
	Vestigingen          int         `json:"vestigingen"`
	Groepen              int         `json:"groups"`
	SamengesteldeGroepen int         `json:"composite_groups"`
	Leerlingen           int         `json:"pupils"`
	Leerkrachten         int         `json:"teachers"`
	Warnings             []string    `json:"warnings"`
	// DroppedWarnings counts warnings beyond MaxWarnings.
	DroppedWarnings int `json:"dropped_warnings,omitempty"`
}

// MaxWarnings bounds the warnings kept per response so memory stays flat
// even when every pupil of a 50,000-pupil school has a broken reference.
const MaxWarnings = 1000

// CallerError marks an error returned by a Handler func (the caller's own
// failure, e.g. its store), so that the client passes it through unclassified
// instead of blaming the LAS.
type CallerError struct{ Err error }

func (e *CallerError) Error() string { return e.Err.Error() }
func (e *CallerError) Unwrap() error { return e.Err }

func callerErr(err error) error {
	if err == nil {
		return nil
	}
	return &CallerError{Err: err}
}

// ErrNotLeerlinggegevens reports a body whose root is not a leerlinggegevens answer.
var ErrNotLeerlinggegevens = errors.New("body is not a UWLR leerlinggegevens answer")

// containers are the data elements of the four answers.
var containers = map[string]bool{
	"leerlinggegevens":              true,
	"leerlinggegevens-structuur":    true,
	"leerlinggegevens-leerlingen":   true,
	"leerlinggegevens-leerkrachten": true,
}

var answers = map[string]bool{
	"leerlinggegevens_antwoord": true,
	"structuur_antwoord":        true,
	"leerlingen_antwoord":       true,
	"leerkrachten_antwoord":     true,
}

// ReadLeerlinggegevens streams a SOAP envelope (or a bare answer element)
// holding any of the four leerlinggegevens answers. It is lenient: any
// element order, any prefixes, unknown elements skipped, empty optional
// fields accepted. A SOAP Fault in the body is returned as *Error.
func ReadLeerlinggegevens(r io.Reader, h Handler) (*Summary, error) {
	d := newDecoder(r)
	root, err := firstElement(d)
	if err != nil {
		return nil, err
	}
	if root.Name.Local == "Envelope" {
		if root.Name.Space != uwlr.NSSOAPEnvelope {
			return nil, fmt.Errorf("root element is {%s}Envelope, not a SOAP 1.1 envelope", root.Name.Space)
		}
		root, err = bodyStartAfterEnvelope(d)
		if err != nil {
			return nil, err
		}
	}
	if root.Name.Local == "Fault" {
		var f uwlr.Fault
		if err := d.DecodeElement(&f, &root); err != nil {
			return nil, fmt.Errorf("decode SOAP fault: %w", err)
		}
		return nil, faultError("", 0, f.Code, f.String, "")
	}
	if !answers[root.Name.Local] {
		return nil, fmt.Errorf("%w: got <%s>", ErrNotLeerlinggegevens, root.Name.Local)
	}
	rd := newRefReader(h)
	if err := rd.answer(d); err != nil {
		return nil, err
	}
	rd.finish()
	return &rd.sum, nil
}

func firstElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, errors.New("empty document")
			}
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// bodyStartAfterEnvelope is bodyStart for a decoder already past <Envelope>.
func bodyStartAfterEnvelope(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, errors.New("no SOAP body element found")
			}
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "Body" {
				return firstElement(d)
			}
			if err := d.Skip(); err != nil {
				return xml.StartElement{}, err
			}
		case xml.EndElement:
			return xml.StartElement{}, errors.New("no SOAP body element found")
		}
	}
}

type pendingRef struct {
	kind  string // "groep", "samengestelde_groep", "vestiging"
	key   string
	owner string
}

type refReader struct {
	h       Handler
	sum     Summary
	seed    maphash.Seed
	groups  map[string]bool // keys of groep
	comps   map[string]bool // keys of samengestelde_groep
	vests   map[string]bool
	pupils  map[uint64]struct{} // hashed pupil keys, for duplicate detection
	pending []pendingRef
	// checkRefs is set for the whole-school answer only: stepwise answers
	// refer to groups sent in an earlier call.
	checkRefs bool

	leerling   uwlr.Leerling
	leerkracht uwlr.Leerkracht
}

func newRefReader(h Handler) *refReader {
	return &refReader{h: h, seed: maphash.MakeSeed(), groups: map[string]bool{}, comps: map[string]bool{},
		vests: map[string]bool{}, pupils: map[uint64]struct{}{}}
}

func (r *refReader) warn(format string, args ...any) {
	if len(r.sum.Warnings) >= MaxWarnings {
		r.sum.DroppedWarnings++
		return
	}
	r.sum.Warnings = append(r.sum.Warnings, fmt.Sprintf(format, args...))
}

// answer reads the children of the answer element up to its end.
func (r *refReader) answer(d *xml.Decoder) error {
	r.sum.Outcome = ""
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if r.sum.Outcome == "" {
				return errors.New("answer holds neither data nor geenwijzigingen/geengegevens")
			}
			return nil
		case xml.StartElement:
			switch {
			case containers[t.Name.Local]:
				r.sum.Outcome = OutcomeData
				r.checkRefs = AnswerKind(t.Name.Local).SelfContained()
				if r.h.Answer != nil {
					if err := callerErr(r.h.Answer(AnswerKind(t.Name.Local))); err != nil {
						return err
					}
				}
				if err := r.container(d); err != nil {
					return err
				}
			case t.Name.Local == "geenwijzigingen":
				r.sum.Outcome = OutcomeGeenWijzigingen
				if err := d.Skip(); err != nil {
					return err
				}
			case t.Name.Local == "geengegevens":
				r.sum.Outcome = OutcomeGeenGegevens
				if err := d.Skip(); err != nil {
					return err
				}
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		}
	}
}

func (r *refReader) container(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("read leerlinggegevens: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			var err error
			switch t.Name.Local {
			case "school":
				err = r.school(d, &t)
			case "vestigingen", "groepen", "leerlingen", "leerkrachten":
				err = r.list(d, t.Name.Local)
			default:
				err = d.Skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

func (r *refReader) school(d *xml.Decoder, se *xml.StartElement) error {
	var s uwlr.School
	if err := d.DecodeElement(&s, se); err != nil {
		return fmt.Errorf("read school: %w", err)
	}
	r.sum.School = s
	if r.h.School != nil {
		return callerErr(r.h.School(&s))
	}
	return nil
}

func (r *refReader) list(d *xml.Decoder, list string) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("read %s: %w", list, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			var err error
			switch {
			case list == "vestigingen" && t.Name.Local == "vestiging":
				err = r.vestiging(d, &t)
			case list == "groepen" && t.Name.Local == "groep":
				err = r.groep(d, &t)
			case list == "groepen" && t.Name.Local == "samengestelde_groep":
				err = r.samengesteldeGroep(d, &t)
			case list == "leerlingen" && t.Name.Local == "leerling":
				err = r.leerlingElem(d, &t)
			case list == "leerkrachten" && t.Name.Local == "leerkracht":
				err = r.leerkrachtElem(d, &t)
			default:
				err = d.Skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

func (r *refReader) vestiging(d *xml.Decoder, se *xml.StartElement) error {
	var v uwlr.Vestiging
	if err := d.DecodeElement(&v, se); err != nil {
		return fmt.Errorf("read vestiging %d: %w", r.sum.Vestigingen+1, err)
	}
	r.sum.Vestigingen++
	if v.Key == "" {
		r.warn("vestiging #%d has no key", r.sum.Vestigingen)
	}
	r.vests[v.Key] = true
	if r.h.Vestiging != nil {
		return callerErr(r.h.Vestiging(&v))
	}
	return nil
}

func (r *refReader) groep(d *xml.Decoder, se *xml.StartElement) error {
	var g uwlr.Groep
	if err := d.DecodeElement(&g, se); err != nil {
		return fmt.Errorf("read groep %d: %w", r.sum.Groepen+1, err)
	}
	r.sum.Groepen++
	switch {
	case g.Key == "":
		r.warn("groep #%d has no key", r.sum.Groepen)
	case r.groups[g.Key] || r.comps[g.Key]:
		r.warn("groep %q: key is used twice", g.Key)
	}
	if g.Naam == "" {
		r.warn("groep %q has no naam", g.Key)
	}
	if g.Jaargroep == "" {
		r.warn("groep %q has no jaargroep", g.Key)
	}
	r.groups[g.Key] = true
	if r.h.Groep != nil {
		return callerErr(r.h.Groep(&g))
	}
	return nil
}

func (r *refReader) samengesteldeGroep(d *xml.Decoder, se *xml.StartElement) error {
	var g uwlr.SamengesteldeGroep
	if err := d.DecodeElement(&g, se); err != nil {
		return fmt.Errorf("read samengestelde_groep %d: %w", r.sum.SamengesteldeGroepen+1, err)
	}
	r.sum.SamengesteldeGroepen++
	switch {
	case g.Key == "":
		r.warn("samengestelde_groep #%d has no key", r.sum.SamengesteldeGroepen)
	case r.groups[g.Key] || r.comps[g.Key]:
		r.warn("samengestelde_groep %q: key is used twice", g.Key)
	}
	r.comps[g.Key] = true
	if r.h.SamengesteldeGroep != nil {
		return callerErr(r.h.SamengesteldeGroep(&g))
	}
	return nil
}

func (r *refReader) leerlingElem(d *xml.Decoder, se *xml.StartElement) error {
	l := &r.leerling
	*l = uwlr.Leerling{}
	if err := decodeLeerling(d, se, l); err != nil {
		return fmt.Errorf("read leerling #%d: %w", r.sum.Leerlingen+1, err)
	}
	r.sum.Leerlingen++
	owner := "leerling " + quoteKey(l.Key, r.sum.Leerlingen)
	switch {
	case l.Key == "" && l.Eckid == "":
		r.warn("%s has neither key nor eckid", owner)
	case l.Key != "":
		hk := maphash.String(r.seed, l.Key)
		if _, dup := r.pupils[hk]; dup {
			r.warn("%s: key is used twice", owner)
		}
		r.pupils[hk] = struct{}{}
	}
	if l.Achternaam == "" && l.Roepnaam == "" {
		r.warn("%s has neither achternaam nor roepnaam", owner)
	}
	if l.Groep != nil {
		r.ref("groep", l.Groep.Key, owner)
	}
	if l.SamengesteldeGroepen != nil {
		for _, g := range l.SamengesteldeGroepen.SamengesteldeGroep {
			r.ref("samengestelde_groep", g.Key, owner)
		}
	}
	if l.Vestiging != nil {
		r.ref("vestiging", l.Vestiging.Key, owner)
	}
	if r.h.Leerling != nil {
		return callerErr(r.h.Leerling(l))
	}
	return nil
}

func (r *refReader) leerkrachtElem(d *xml.Decoder, se *xml.StartElement) error {
	t := &r.leerkracht
	*t = uwlr.Leerkracht{}
	if err := decodeLeerkracht(d, se, t); err != nil {
		return fmt.Errorf("read leerkracht #%d: %w", r.sum.Leerkrachten+1, err)
	}
	r.sum.Leerkrachten++
	owner := "leerkracht " + quoteKey(t.Key, r.sum.Leerkrachten)
	if t.Key == "" && t.Eckid == "" {
		r.warn("%s has neither key nor eckid", owner)
	}
	if t.Groepen != nil {
		for _, g := range t.Groepen.Groep {
			r.ref("groep", g.Key, owner)
		}
		for _, g := range t.Groepen.SamengesteldeGroep {
			r.ref("samengestelde_groep", g.Key, owner)
		}
	}
	if r.h.Leerkracht != nil {
		return callerErr(r.h.Leerkracht(t))
	}
	return nil
}

func quoteKey(key string, pos int) string {
	if key == "" {
		return fmt.Sprintf("#%d (no key)", pos)
	}
	return fmt.Sprintf("%q", key)
}

// ref checks a reference now, or keeps it for the end when the target list
// has not been read yet (vendors may send lists in any order).
func (r *refReader) ref(kind, key, owner string) {
	if key == "" {
		r.warn("%s: %s reference without key", owner, kind)
		return
	}
	if !r.checkRefs || r.known(kind, key) {
		return
	}
	r.pending = append(r.pending, pendingRef{kind: kind, key: key, owner: owner})
}

func (r *refReader) known(kind, key string) bool {
	switch kind {
	case "groep":
		return r.groups[key]
	case "samengestelde_groep":
		return r.comps[key]
	default:
		return r.vests[key]
	}
}

func (r *refReader) finish() {
	if !r.checkRefs {
		r.pending = nil
	}
	for _, p := range r.pending {
		if !r.known(p.kind, p.key) {
			if p.kind == "groep" && r.comps[p.key] || p.kind == "samengestelde_groep" && r.groups[p.key] {
				r.warn("%s: %s %q refers to a group of the other kind", p.owner, p.kind, p.key)
				continue
			}
			r.warn("%s: %s %q is not defined in this message", p.owner, p.kind, p.key)
		}
	}
	r.pending = nil
	if r.sum.Warnings == nil {
		r.sum.Warnings = []string{}
	}
}
