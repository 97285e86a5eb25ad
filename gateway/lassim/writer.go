package lassim

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// xw writes UWLR answer elements with an optional prefix; it is a small
// hand-written writer so that vendor quirks (field order, empty elements,
// prefixes) can be reproduced exactly and large answers stream.
type xw struct {
	w   *bufio.Writer
	pfx string // "le:" or ""
}

func (x *xw) start(name string, attrs ...string) {
	x.w.WriteByte('<')
	x.w.WriteString(x.pfx)
	x.w.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		x.w.WriteByte(' ')
		x.w.WriteString(attrs[i])
		x.w.WriteString(`="`)
		xml.EscapeText(x.w, []byte(attrs[i+1]))
		x.w.WriteByte('"')
	}
	x.w.WriteByte('>')
}

func (x *xw) end(name string) {
	x.w.WriteString("</")
	x.w.WriteString(x.pfx)
	x.w.WriteString(name)
	x.w.WriteByte('>')
}

// empty writes <name attrs/>.
func (x *xw) empty(name string, attrs ...string) {
	x.start(name, attrs...)
	x.end(name)
}

// text writes <name>value</name>, or nothing when value is empty and !force.
func (x *xw) text(name, value string, force bool) {
	if value == "" && !force {
		return
	}
	x.start(name)
	xml.EscapeText(x.w, []byte(value))
	x.end(name)
}

type emptyAnswer struct {
	op     uwlr.Operation
	kind   string // geenwijzigingen | geengegevens
	prefix string
}

func (e emptyAnswer) WriteBody(w io.Writer) error {
	x := newXW(w, e.prefix)
	x.root(e.op.Response)
	x.empty(e.kind)
	x.end(e.op.Response)
	return x.w.Flush()
}

func newXW(w io.Writer, prefix string) *xw {
	x := &xw{w: bufio.NewWriterSize(w, 64<<10)}
	if prefix != "" {
		x.pfx = prefix + ":"
	}
	return x
}

func (x *xw) root(name string) {
	ns := "xmlns"
	if x.pfx != "" {
		ns = "xmlns:" + x.pfx[:len(x.pfx)-1]
	}
	x.start(name, ns, uwlr.NSLeerlinggegevens)
}

var containerOf = map[string]string{
	uwlr.OpHaalLeerlinggegevens.Name: "leerlinggegevens",
	uwlr.OpHaalStructuur.Name:        "leerlinggegevens-structuur",
	uwlr.OpHaalLeerlingen.Name:       "leerlinggegevens-leerlingen",
	uwlr.OpHaalLeerkrachten.Name:     "leerlinggegevens-leerkrachten",
}

// dataAnswer streams one school's data for a leerlinggegevens operation.
type dataAnswer struct {
	school    *School
	op        uwlr.Operation
	profile   Profile
	xsdversie string
	selection *uwlr.GroepenSelectie
	// churn, when set, changes the school's data. It runs before the answer
	// is written (which is written from a copy taken first), so a request that
	// follows this answer always sees the change.
	churn    func()
	snapshot []uwlr.Leerling
}

func (a *dataAnswer) WriteBody(w io.Writer) error {
	if a.churn != nil {
		a.snapshot = a.school.Pupils()
		a.churn()
	}
	return a.write(w)
}

func (a *dataAnswer) write(w io.Writer) error {
	s := a.school
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := newXW(w, a.profile.Prefix)
	op := a.op.Name
	withPupils := op == uwlr.OpHaalLeerlinggegevens.Name || op == uwlr.OpHaalLeerlingen.Name
	withTeachers := op == uwlr.OpHaalLeerlinggegevens.Name || op == uwlr.OpHaalLeerkrachten.Name
	withStructure := op == uwlr.OpHaalLeerlinggegevens.Name || op == uwlr.OpHaalStructuur.Name

	pupils := s.leerlingen
	if a.snapshot != nil {
		pupils = a.snapshot
	}
	if op == uwlr.OpHaalLeerlingen.Name {
		pupils = nil
		for i := range s.leerlingen {
			if a.pupilSelected(&s.leerlingen[i]) {
				pupils = append(pupils, s.leerlingen[i])
			}
		}
	}
	teachers := s.leerkrachten
	if op == uwlr.OpHaalLeerkrachten.Name {
		teachers = nil
		for i := range s.leerkrachten {
			if a.teacherSelected(&s.leerkrachten[i]) {
				teachers = append(teachers, s.leerkrachten[i])
			}
		}
	}
	x.root(a.op.Response)
	if withPupils && len(pupils) == 0 {
		// leerlingen needs at least one leerling: nothing to send.
		x.empty("geengegevens")
		x.end(a.op.Response)
		return x.w.Flush()
	}
	container := containerOf[op]
	x.start(container)
	a.writeSchool(x)
	if withStructure {
		if len(s.vestigingen) > 0 {
			x.start("vestigingen")
			for _, v := range s.vestigingen {
				x.start("vestiging", "key", v.Key)
				x.text("naam", v.Naam, true)
				x.text("omschrijving", v.Omschrijving, false)
				x.text("mutatiedatum", v.Mutatiedatum, false)
				x.end("vestiging")
			}
			x.end("vestigingen")
		}
		if len(s.groepen)+len(s.comps) > 0 {
			x.start("groepen")
			for _, g := range s.groepen {
				x.start("groep", "key", g.Key)
				x.text("naam", g.Naam, true)
				x.text("jaargroep", g.Jaargroep, true)
				x.text("omschrijving", g.Omschrijving, false)
				x.text("mutatiedatum", g.Mutatiedatum, false)
				x.end("groep")
			}
			for _, g := range s.comps {
				x.start("samengestelde_groep", "key", g.Key)
				x.text("naam", g.Naam, true)
				x.text("omschrijving", g.Omschrijving, false)
				x.text("mutatiedatum", g.Mutatiedatum, false)
				x.end("samengestelde_groep")
			}
			x.end("groepen")
		}
	}
	if withPupils {
		x.start("leerlingen")
		for i := range pupils {
			a.writePupil(x, &pupils[i])
		}
		x.end("leerlingen")
	}
	if withTeachers && len(teachers) > 0 {
		x.start("leerkrachten")
		for i := range teachers {
			a.writeTeacher(x, &teachers[i])
		}
		x.end("leerkrachten")
	}
	x.end(container)
	x.end(a.op.Response)
	return x.w.Flush()
}

func (a *dataAnswer) writeSchool(x *xw) {
	s := a.school.info
	x.start("school")
	if a.profile.VendorFieldOrder {
		x.text("dependancecode", s.Dependancecode, false)
		x.text("brincode", s.Brincode, false)
		x.text("schooljaar", s.Schooljaar, true)
		x.text("auteur", s.Auteur, false)
		x.text("xsdversie", a.xsdversie, false)
		x.text("commentaar", "las-sim", false)
	} else {
		x.text("schooljaar", s.Schooljaar, true)
		x.text("brincode", s.Brincode, false)
		x.text("dependancecode", s.Dependancecode, false)
		x.text("schoolkey", s.Schoolkey, false)
		x.text("aanmaakdatum", s.Aanmaakdatum, false)
		x.text("auteur", s.Auteur, false)
		x.text("xsdversie", a.xsdversie, false)
	}
	x.end("school")
}

func (a *dataAnswer) eckid(v string) string {
	if a.xsdversie == "2.1" {
		return "" // 2.1 has no eckid: strip it, as the Topicus LAS does
	}
	return v
}

func (a *dataAnswer) writePupil(x *xw, l *uwlr.Leerling) {
	p := a.profile
	x.start("leerling", "key", l.Key, "eckid", a.eckid(l.Eckid))
	x.text("achternaam", l.Achternaam, false)
	x.text("voorvoegsel", l.Voorvoegsel, p.EmptyVoorvoegsel && l.Achternaam != "")
	x.text("voornamen", l.Voornamen, false)
	x.text("voorletters-1", l.Voorletters, false)
	x.text("roepnaam", l.Roepnaam, false)
	x.text("geboortedatum", l.Geboortedatum, false)
	if !p.VendorFieldOrder { // the smalle set has no geslacht
		x.text("geslacht", l.Geslacht, false)
	}
	x.text("jaargroep", l.Jaargroep, false)
	if l.Groep != nil {
		x.empty("groep", "key", l.Groep.Key)
	}
	if l.SamengesteldeGroepen != nil && len(l.SamengesteldeGroepen.SamengesteldeGroep) > 0 {
		x.start("samengestelde_groepen")
		for _, g := range l.SamengesteldeGroepen.SamengesteldeGroep {
			x.empty("samengestelde_groep", "key", g.Key)
		}
		x.end("samengestelde_groepen")
	}
	if l.Vestiging != nil {
		x.empty("vestiging", "key", l.Vestiging.Key)
	}
	if p.FullRecords {
		writeFullPupil(x, l)
	}
	if !p.VendorFieldOrder {
		x.text("mutatiedatum", l.Mutatiedatum, false)
	}
	x.end("leerling")
}

func (a *dataAnswer) writeTeacher(x *xw, t *uwlr.Leerkracht) {
	p := a.profile
	x.start("leerkracht", "key", t.Key, "eckid", a.eckid(t.Eckid))
	groups := func() {
		if t.Groepen == nil || len(t.Groepen.Groep)+len(t.Groepen.SamengesteldeGroep) == 0 {
			return
		}
		x.start("groepen")
		for _, g := range t.Groepen.Groep {
			x.start("groep", "key", g.Key)
			for _, r := range g.Rol {
				x.text("rol", r, true)
			}
			x.end("groep")
		}
		for _, g := range t.Groepen.SamengesteldeGroep {
			x.start("samengestelde_groep", "key", g.Key)
			for _, r := range g.Rol {
				x.text("rol", r, true)
			}
			x.end("samengestelde_groep")
		}
		x.end("groepen")
	}
	if p.VendorFieldOrder {
		x.text("roepnaam", t.Roepnaam, false)
		x.text("emailadres", t.Emailadres, false)
		x.text("voorvoegsel", t.Voorvoegsel, p.EmptyVoorvoegsel)
		groups()
		x.text("achternaam", t.Achternaam, false)
	} else {
		x.text("achternaam", t.Achternaam, false)
		x.text("voorvoegsel", t.Voorvoegsel, false)
		if p.FullRecords {
			x.text("voornamen", t.Roepnaam+" Maria", false)
		}
		x.text("roepnaam", t.Roepnaam, false)
		if p.FullRecords {
			x.text("gebruikersnaam", "lk."+strings.ToLower(t.Key), false)
		}
		x.text("emailadres", t.Emailadres, false)
		for _, r := range t.Rol {
			x.text("rol", r, true)
		}
		groups()
		x.text("mutatiedatum", t.Mutatiedatum, false)
	}
	x.end("leerkracht")
}

func (a *dataAnswer) pupilSelected(l *uwlr.Leerling) bool {
	for _, g := range a.selection.Groep {
		if g.Key == "" && l.Groep == nil || l.Groep != nil && g.Key == l.Groep.Key {
			return true
		}
	}
	for _, g := range a.selection.SamengesteldeGroep {
		if l.SamengesteldeGroepen == nil || len(l.SamengesteldeGroepen.SamengesteldeGroep) == 0 {
			if g.Key == "" {
				return true
			}
			continue
		}
		for _, r := range l.SamengesteldeGroepen.SamengesteldeGroep {
			if r.Key == g.Key {
				return true
			}
		}
	}
	return false
}

func (a *dataAnswer) teacherSelected(t *uwlr.Leerkracht) bool {
	none := t.Groepen == nil || len(t.Groepen.Groep)+len(t.Groepen.SamengesteldeGroep) == 0
	for _, g := range a.selection.Groep {
		if g.Key == "" && none {
			return true
		}
		if t.Groepen != nil {
			for _, r := range t.Groepen.Groep {
				if r.Key == g.Key {
					return true
				}
			}
		}
	}
	for _, g := range a.selection.SamengesteldeGroep {
		if g.Key == "" && none {
			return true
		}
		if t.Groepen != nil {
			for _, r := range t.Groepen.SamengesteldeGroep {
				if r.Key == g.Key {
					return true
				}
			}
		}
	}
	return false
}

// writeFullPupil writes the fields of a whole EDEXML leerling that the
// gateway never keeps, in XSD order after vestiging, with values that
// follow from the pupil's key (FullRecords).
func writeFullPupil(x *xw, l *uwlr.Leerling) {
	h := fnv.New64a()
	h.Write([]byte(l.Key + l.Eckid))
	n := h.Sum64()
	x.text("gebruikersnaam", "ll."+strings.ToLower(l.Key), false)
	x.text("emailadres", strings.ToLower(l.Roepnaam)+"."+strings.ToLower(l.Key)+"@leerling.example", false)
	x.text("etniciteit", "9", false)
	x.text("land", "NL", false)
	x.text("land_vader", []string{"MA", "TR", "SR", "NL"}[n%4], false)
	x.text("land_moeder", []string{"NL", "PL", "SY", "DE"}[n/4%4], false)
	x.text("bsn", fmt.Sprintf("%09d", n%1_000_000_000), false)
	x.text("gewicht", "0.00", false)
	x.text("postcodenl", fmt.Sprintf("%04d%c%c", 1000+n%9000, 'A'+rune(n/9000%26), 'A'+rune(n/234000%26)), false)
	x.text("instroomdatum", "2019-08-19", false)
}
