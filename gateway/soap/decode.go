package soap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Hand-written decoders for every record of an answer. They match children
// by local name in any order, like encoding/xml's reflection decoder, but
// without its per-field reflection (pupils are where the bytes are) and
// within the limits of limits.go: a field's text is at most MaxTextBytes,
// a record at most MaxRecordBytes, however the LAS splits them up.

// rec reads the tokens of one record and fails once the record is longer
// than MaxRecordBytes in the answer, so that nothing it holds (a million
// group references) grows past that.
type rec struct {
	d   *xml.Decoder
	end int64 // the input offset the record must not pass
}

// newRec starts a record at the decoder's position (after its start tag).
func newRec(d *xml.Decoder) *rec { return &rec{d: d, end: d.InputOffset() + MaxRecordBytes} }

func (r *rec) token() (xml.Token, error) {
	tok, err := r.d.Token()
	if err == nil && r.d.InputOffset() > r.end {
		return nil, limitf("a record of more than %d bytes", MaxRecordBytes)
	}
	return tok, err
}

// text reads the character data of the current element up to its end, at
// most MaxTextBytes of it. Nested elements inside a text field are skipped.
func text(r *rec) (string, error) {
	var b []byte
	single := true
	var first xml.CharData
	for {
		tok, err := r.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(b)+len(first)+len(t) > MaxTextBytes {
				return "", limitf("element text of more than %d bytes", MaxTextBytes)
			}
			if first == nil && single {
				first = t.Copy() // Token reuses its buffer: the bytes change on the next call
				continue
			}
			if single {
				b = append(b, first...)
				first, single = nil, false
			}
			b = append(b, t...)
		case xml.StartElement:
			if err := r.d.Skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			if single {
				return string(first), nil
			}
			return string(b), nil
		}
	}
}

// fields reads the children of the current element into the string fields
// named by their local names, up to its end; other children are skipped.
func fields(r *rec, f map[string]*string) error {
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			dst := f[t.Name.Local]
			if dst == nil {
				if err := r.d.Skip(); err != nil {
					return err
				}
				continue
			}
			if *dst, err = text(r); err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
		}
	}
}

// The records besides pupils and teachers, read by hand like them rather
// than by encoding/xml's reflection, which would gather a field's text
// without bound.

func decodeSchool(d *xml.Decoder) (uwlr.School, error) {
	var s uwlr.School
	err := fields(newRec(d), map[string]*string{"schooljaar": &s.Schooljaar, "peildatum": &s.Peildatum,
		"brincode": &s.Brincode, "dependancecode": &s.Dependancecode, "instellingsnummer": &s.Instellingsnummer,
		"schoolkey": &s.Schoolkey, "aanmaakdatum": &s.Aanmaakdatum, "auteur": &s.Auteur, "xsdversie": &s.Xsdversie,
		"commentaar": &s.Commentaar})
	return s, err
}

func decodeVestiging(d *xml.Decoder, se *xml.StartElement) (uwlr.Vestiging, error) {
	v := uwlr.Vestiging{Key: attr(se, "key")}
	err := fields(newRec(d), map[string]*string{"naam": &v.Naam, "omschrijving": &v.Omschrijving, "mutatiedatum": &v.Mutatiedatum})
	return v, err
}

func decodeGroep(d *xml.Decoder, se *xml.StartElement) (uwlr.Groep, error) {
	g := uwlr.Groep{Key: attr(se, "key")}
	err := fields(newRec(d), map[string]*string{"naam": &g.Naam, "jaargroep": &g.Jaargroep, "omschrijving": &g.Omschrijving,
		"mutatiedatum": &g.Mutatiedatum})
	return g, err
}

func decodeSamengesteldeGroep(d *xml.Decoder, se *xml.StartElement) (uwlr.SamengesteldeGroep, error) {
	g := uwlr.SamengesteldeGroep{Key: attr(se, "key")}
	err := fields(newRec(d), map[string]*string{"naam": &g.Naam, "omschrijving": &g.Omschrijving, "mutatiedatum": &g.Mutatiedatum})
	return g, err
}

// decodeFault reads the SOAP 1.1 Fault se: code, string and actor (each at
// most MaxTextBytes); its detail is skipped, however long.
func decodeFault(d *xml.Decoder, se *xml.StartElement) (uwlr.Fault, error) {
	var f uwlr.Fault
	if se.Name.Space != uwlr.NSSOAPEnvelope {
		return f, errors.New("decode SOAP fault: <Fault> is not in the SOAP 1.1 envelope namespace")
	}
	r := &rec{d: d, end: math.MaxInt64}
	err := fields(r, map[string]*string{"faultcode": &f.Code, "faultstring": &f.String, "faultactor": &f.Actor})
	if err != nil {
		return f, fmt.Errorf("decode SOAP fault: %w", err)
	}
	return f, nil
}

func attr(se *xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == uwlr.NSLeerlinggegevens) {
			return a.Value
		}
	}
	return ""
}

// decodeLeerling fills l (which must be zero) from the element se.
func decodeLeerling(d *xml.Decoder, se *xml.StartElement, l *uwlr.Leerling) error {
	l.Key, l.Eckid = attr(se, "key"), attr(se, "eckid")
	r := newRec(d)
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			var dst *string
			switch t.Name.Local {
			case "achternaam":
				dst = &l.Achternaam
			case "voorvoegsel":
				dst = &l.Voorvoegsel
			case "voornamen":
				dst = &l.Voornamen
			case "voorletters-1":
				dst = &l.Voorletters
			case "roepnaam":
				dst = &l.Roepnaam
			case "geboortedatum":
				dst = &l.Geboortedatum
			case "geslacht":
				dst = &l.Geslacht
			case "start_ondw_jgr3":
				dst = &l.StartOndwJgr3
			case "jaargroep":
				dst = &l.Jaargroep
			case "gebruikersnaam":
				dst = &l.Gebruikersnaam
			case "emailadres":
				dst = &l.Emailadres
			case "fotourl":
				dst = &l.Fotourl
			case "etniciteit":
				dst = &l.Etniciteit
			case "land":
				dst = &l.Land
			case "land_vader":
				dst = &l.LandVader
			case "land_moeder":
				dst = &l.LandMoeder
			case "sofinummer":
				dst = &l.Sofinummer
			case "bsn":
				dst = &l.Bsn
			case "onderwijsnummer":
				dst = &l.Onderwijsnummer
			case "bsn_ondwnr-4":
				dst = &l.BsnOndwnr4
			case "rijksregisternummer":
				dst = &l.Rijksregisternummer
			case "gewicht_nieuw":
				dst = &l.GewichtNieuw
			case "gewicht":
				dst = &l.Gewicht
			case "postcodenl":
				dst = &l.Postcodenl
			case "postnummerbe":
				dst = &l.Postnummerbe
			case "postcodeoverig":
				dst = &l.Postcodeoverig
			case "instroomdatum":
				dst = &l.Instroomdatum
			case "uitstroomdatum":
				dst = &l.Uitstroomdatum
			case "mutatiedatum":
				dst = &l.Mutatiedatum
			case "groep":
				l.Groep = &uwlr.Ref{Key: attr(&t, "key")}
				err = r.d.Skip()
			case "vestiging":
				l.Vestiging = &uwlr.Ref{Key: attr(&t, "key")}
				err = r.d.Skip()
			case "samengestelde_groepen":
				if l.SamengesteldeGroepen == nil {
					l.SamengesteldeGroepen = &uwlr.SamengesteldeGroepenRef{}
				}
				err = refs(r, "samengestelde_groep", &l.SamengesteldeGroepen.SamengesteldeGroep)
			default:
				err = r.d.Skip()
			}
			if dst != nil {
				*dst, err = text(r)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
		}
	}
}

// refs reads <name key="..."/> children of the current element.
func refs(r *rec, name string, out *[]uwlr.Ref) error {
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local == name {
				*out = append(*out, uwlr.Ref{Key: attr(&t, "key")})
			}
			if err := r.d.Skip(); err != nil {
				return err
			}
		}
	}
}

// decodeLeerkracht fills t (which must be zero) from the element se.
func decodeLeerkracht(d *xml.Decoder, se *xml.StartElement, lk *uwlr.Leerkracht) error {
	lk.Key, lk.Eckid = attr(se, "key"), attr(se, "eckid")
	r := newRec(d)
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			var dst *string
			switch t.Name.Local {
			case "achternaam":
				dst = &lk.Achternaam
			case "voorvoegsel":
				dst = &lk.Voorvoegsel
			case "voornamen":
				dst = &lk.Voornamen
			case "voorletters-1":
				dst = &lk.Voorletters
			case "roepnaam":
				dst = &lk.Roepnaam
			case "gebruikersnaam":
				dst = &lk.Gebruikersnaam
			case "emailadres":
				dst = &lk.Emailadres
			case "mutatiedatum":
				dst = &lk.Mutatiedatum
			case "rol", "rolomschrijving":
				var v string
				if v, err = text(r); err == nil {
					if t.Name.Local == "rol" {
						lk.Rol = append(lk.Rol, strings.TrimSpace(v))
					} else {
						lk.Rolomschrijving = append(lk.Rolomschrijving, v)
					}
				}
			case "groepen":
				if lk.Groepen == nil {
					lk.Groepen = &uwlr.LeerkrachtGroepen{}
				}
				err = teacherGroups(r, lk.Groepen)
			default:
				err = r.d.Skip()
			}
			if dst != nil {
				*dst, err = text(r)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
		}
	}
}

func teacherGroups(r *rec, g *uwlr.LeerkrachtGroepen) error {
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			var list *[]uwlr.LeerkrachtGroepRef
			switch t.Name.Local {
			case "groep":
				list = &g.Groep
			case "samengestelde_groep":
				list = &g.SamengesteldeGroep
			default:
				if err := r.d.Skip(); err != nil {
					return err
				}
				continue
			}
			ref := uwlr.LeerkrachtGroepRef{Key: attr(&t, "key")}
			if err := roles(r, &ref); err != nil {
				return err
			}
			*list = append(*list, ref)
		}
	}
}

func roles(r *rec, ref *uwlr.LeerkrachtGroepRef) error {
	for {
		tok, err := r.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "rol":
				v, err := text(r)
				if err != nil {
					return err
				}
				ref.Rol = append(ref.Rol, strings.TrimSpace(v))
			case "rolomschrijving":
				v, err := text(r)
				if err != nil {
					return err
				}
				ref.Rolomschrijving = append(ref.Rolomschrijving, v)
			default:
				if err := r.d.Skip(); err != nil {
					return err
				}
			}
		}
	}
}
