package soap

import (
	"encoding/xml"
	"errors"
	"fmt"
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
//
// The reader does not validate records: a record without key or name, a
// duplicate key or a dangling reference is handed over as it came. Checking
// them is the job of package mapping (mapping.Checker).
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

// Summary is what a streamed response held, counted.
type Summary struct {
	Outcome              Outcome     `json:"outcome"`
	School               uwlr.School `json:"-"`
	Vestigingen          int         `json:"vestigingen"`
	Groepen              int         `json:"groups"`
	SamengesteldeGroepen int         `json:"composite_groups"`
	Leerlingen           int         `json:"pupils"`
	Leerkrachten         int         `json:"teachers"`
	// Warnings and DroppedWarnings are kept for compatibility: the reader
	// no longer validates records, so Warnings is always empty (not nil)
	// and DroppedWarnings zero. Record warnings come from mapping.Checker.
	Warnings        []string `json:"warnings"`
	DroppedWarnings int      `json:"dropped_warnings,omitempty"`
}

// MaxWarnings bounds the record warnings kept per answer (by
// mapping.Checker, and in a sync run) so memory stays flat even when every
// pupil of a 50,000-pupil school has a broken reference; the rest are counted.
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
// fields accepted. A SOAP Fault in the body is returned as *Error. It reads
// within the limits of limits.go (text runs, tags, nesting, record size):
// an answer over one fails with an error that errors.Is ErrLimit.
func ReadLeerlinggegevens(r io.Reader, h Handler) (*Summary, error) {
	d := newAnswerDecoder(r)
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
		f, err := decodeFault(d, &root)
		if err != nil {
			return nil, err
		}
		return nil, faultError(f.Code, f.String)
	}
	if !answers[root.Name.Local] {
		return nil, fmt.Errorf("%w: got <%s>", ErrNotLeerlinggegevens, root.Name.Local)
	}
	rd := &reader{h: h, sum: Summary{Warnings: []string{}}}
	if err := rd.answer(d); err != nil {
		return nil, err
	}
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

// reader streams one answer into its handler and counts what it saw.
type reader struct {
	h   Handler
	sum Summary

	leerling   uwlr.Leerling
	leerkracht uwlr.Leerkracht
}

// answer reads the children of the answer element up to its end.
func (r *reader) answer(d *xml.Decoder) error {
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

func (r *reader) container(d *xml.Decoder) error {
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
				err = r.school(d)
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

func (r *reader) school(d *xml.Decoder) error {
	s, err := decodeSchool(d)
	if err != nil {
		return fmt.Errorf("read school: %w", err)
	}
	r.sum.School = s
	if r.h.School != nil {
		return callerErr(r.h.School(&s))
	}
	return nil
}

func (r *reader) list(d *xml.Decoder, list string) error {
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

func (r *reader) vestiging(d *xml.Decoder, se *xml.StartElement) error {
	v, err := decodeVestiging(d, se)
	if err != nil {
		return fmt.Errorf("read vestiging %d: %w", r.sum.Vestigingen+1, err)
	}
	r.sum.Vestigingen++
	if r.h.Vestiging != nil {
		return callerErr(r.h.Vestiging(&v))
	}
	return nil
}

func (r *reader) groep(d *xml.Decoder, se *xml.StartElement) error {
	g, err := decodeGroep(d, se)
	if err != nil {
		return fmt.Errorf("read groep %d: %w", r.sum.Groepen+1, err)
	}
	r.sum.Groepen++
	if r.h.Groep != nil {
		return callerErr(r.h.Groep(&g))
	}
	return nil
}

func (r *reader) samengesteldeGroep(d *xml.Decoder, se *xml.StartElement) error {
	g, err := decodeSamengesteldeGroep(d, se)
	if err != nil {
		return fmt.Errorf("read samengestelde_groep %d: %w", r.sum.SamengesteldeGroepen+1, err)
	}
	r.sum.SamengesteldeGroepen++
	if r.h.SamengesteldeGroep != nil {
		return callerErr(r.h.SamengesteldeGroep(&g))
	}
	return nil
}

func (r *reader) leerlingElem(d *xml.Decoder, se *xml.StartElement) error {
	l := &r.leerling
	*l = uwlr.Leerling{}
	if err := decodeLeerling(d, se, l); err != nil {
		return fmt.Errorf("read leerling #%d: %w", r.sum.Leerlingen+1, err)
	}
	r.sum.Leerlingen++
	if r.h.Leerling != nil {
		return callerErr(r.h.Leerling(l))
	}
	return nil
}

func (r *reader) leerkrachtElem(d *xml.Decoder, se *xml.StartElement) error {
	t := &r.leerkracht
	*t = uwlr.Leerkracht{}
	if err := decodeLeerkracht(d, se, t); err != nil {
		return fmt.Errorf("read leerkracht #%d: %w", r.sum.Leerkrachten+1, err)
	}
	r.sum.Leerkrachten++
	if r.h.Leerkracht != nil {
		return callerErr(r.h.Leerkracht(t))
	}
	return nil
}
