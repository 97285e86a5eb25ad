package soap

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Hand-written decoders for the two records that make up almost all of a
// response. They match children by local name in any order, like
// encoding/xml's reflection decoder, but without its per-field reflection:
// pupils are where the bytes are.

// text reads the character data of the current element up to its end.
// Nested elements inside a text field are skipped.
func text(d *xml.Decoder) (string, error) {
	var b []byte
	single := true
	var first xml.CharData
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if first == nil && single {
				first = t.Copy() // Token reuses its buffer: the bytes change on the next call
				continue
			}
			if single {
				b = append(b, first...)
				single = false
			}
			b = append(b, t...)
		case xml.StartElement:
			if err := d.Skip(); err != nil {
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
	for {
		tok, err := d.Token()
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
				err = d.Skip()
			case "vestiging":
				l.Vestiging = &uwlr.Ref{Key: attr(&t, "key")}
				err = d.Skip()
			case "samengestelde_groepen":
				if l.SamengesteldeGroepen == nil {
					l.SamengesteldeGroepen = &uwlr.SamengesteldeGroepenRef{}
				}
				err = refs(d, "samengestelde_groep", &l.SamengesteldeGroepen.SamengesteldeGroep)
			default:
				err = d.Skip()
			}
			if dst != nil {
				*dst, err = text(d)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
		}
	}
}

// refs reads <name key="..."/> children of the current element.
func refs(d *xml.Decoder, name string, out *[]uwlr.Ref) error {
	for {
		tok, err := d.Token()
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
			if err := d.Skip(); err != nil {
				return err
			}
		}
	}
}

// decodeLeerkracht fills t (which must be zero) from the element se.
func decodeLeerkracht(d *xml.Decoder, se *xml.StartElement, lk *uwlr.Leerkracht) error {
	lk.Key, lk.Eckid = attr(se, "key"), attr(se, "eckid")
	for {
		tok, err := d.Token()
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
				if v, err = text(d); err == nil {
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
				err = teacherGroups(d, lk.Groepen)
			default:
				err = d.Skip()
			}
			if dst != nil {
				*dst, err = text(d)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
		}
	}
}

func teacherGroups(d *xml.Decoder, g *uwlr.LeerkrachtGroepen) error {
	for {
		tok, err := d.Token()
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
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			ref := uwlr.LeerkrachtGroepRef{Key: attr(&t, "key")}
			if err := roles(d, &ref); err != nil {
				return err
			}
			*list = append(*list, ref)
		}
	}
}

func roles(d *xml.Decoder, ref *uwlr.LeerkrachtGroepRef) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "rol":
				v, err := text(d)
				if err != nil {
					return err
				}
				ref.Rol = append(ref.Rol, strings.TrimSpace(v))
			case "rolomschrijving":
				v, err := text(d)
				if err != nil {
					return err
				}
				ref.Rolomschrijving = append(ref.Rolomschrijving, v)
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		}
	}
}
