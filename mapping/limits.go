package mapping

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// overLimit checks the values of one record against the limits of its
// kind: values returns the values of an element. Each value over its limit
// gets a Fatal warning (naming the element, never the value); it reports
// whether there was one.
func overLimit(w *warnings, kind string, values func(element string) []string) bool {
	over := false
	for _, l := range fieldLimits[kind] {
		for _, v := range values(l.Element) {
			if len(v) > l.Max && utf8.RuneCountInString(v) > l.Max {
				w.fatal(l.Element, fmt.Sprintf("longer than %d characters (the UWLR maximum); record skipped", l.Max))
				over = true
				break
			}
		}
	}
	return over
}

func one(s string) []string { return []string{s} }

func trimmed(s string) []string { return []string{strings.TrimSpace(s)} }

// leerlingValues are the limited values of a leerling, by element.
func leerlingValues(l *uwlr.Leerling) func(string) []string {
	return func(element string) []string {
		switch element {
		case "@key":
			return one(l.Key)
		case "@eckid":
			return one(l.Eckid)
		case "achternaam":
			return trimmed(l.Achternaam)
		case "voorvoegsel":
			return trimmed(l.Voorvoegsel)
		case "voornamen":
			return trimmed(l.Voornamen)
		case "voorletters-1":
			return trimmed(l.Voorletters)
		case "roepnaam":
			return trimmed(l.Roepnaam)
		case "groep":
			if l.Groep != nil {
				return one(l.Groep.Key)
			}
		case "samengestelde_groep":
			if l.SamengesteldeGroepen != nil {
				return refKeys(l.SamengesteldeGroepen.SamengesteldeGroep)
			}
		}
		return nil
	}
}

func refKeys(refs []uwlr.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.Key
	}
	return out
}

// leerkrachtValues are the limited values of a leerkracht, by element: the
// roles given on its group references count as its roles.
func leerkrachtValues(t *uwlr.Leerkracht) func(string) []string {
	var groups []uwlr.LeerkrachtGroepRef
	var comps []uwlr.LeerkrachtGroepRef
	if t.Groepen != nil {
		groups, comps = t.Groepen.Groep, t.Groepen.SamengesteldeGroep
	}
	return func(element string) []string {
		switch element {
		case "@key":
			return one(t.Key)
		case "@eckid":
			return one(t.Eckid)
		case "achternaam":
			return trimmed(t.Achternaam)
		case "voorvoegsel":
			return trimmed(t.Voorvoegsel)
		case "roepnaam":
			return trimmed(t.Roepnaam)
		case "emailadres":
			return trimmed(t.Emailadres)
		case "rol", "rolomschrijving":
			own := t.Rol
			if element == "rolomschrijving" {
				own = t.Rolomschrijving
			}
			vs := slices.Clone(own)
			for _, g := range slices.Concat(groups, comps) {
				if element == "rol" {
					vs = append(vs, g.Rol...)
				} else {
					vs = append(vs, g.Rolomschrijving...)
				}
			}
			for i := range vs {
				vs[i] = strings.TrimSpace(vs[i])
			}
			return vs
		case "groep", "samengestelde_groep":
			refs := groups
			if element == "samengestelde_groep" {
				refs = comps
			}
			keys := make([]string, len(refs))
			for i, r := range refs {
				keys[i] = r.Key
			}
			return keys
		}
		return nil
	}
}

// keyAndName are the limited values of a group, composite group or branch.
func keyAndName(key, naam string) func(string) []string {
	return func(element string) []string {
		switch element {
		case "@key":
			return one(key)
		case "naam":
			return trimmed(naam)
		}
		return nil
	}
}

// schoolValues are the limited values of the school element.
func schoolValues(s *uwlr.School) func(string) []string {
	return func(element string) []string {
		switch element {
		case "schooljaar":
			return trimmed(s.Schooljaar)
		case "schoolkey":
			return one(s.Schoolkey)
		case "xsdversie":
			return trimmed(s.Xsdversie)
		}
		return nil
	}
}
