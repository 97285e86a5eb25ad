package mapping_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// chars is n characters of two bytes each: limits count characters, as the
// XSD's maxLength does, not bytes.
func chars(n int) string { return strings.Repeat("é", n) }

// limitCase sets the element of a limit to v on a fresh, valid record and
// maps it the way a sync does (through a Checker): it returns whether the
// record was kept, its warnings and everything the mapping returned.
type limitCase func(element, v string) (kept, handled bool, ws []mapping.Warning, out string)

func pupilCase(element, v string) (bool, bool, []mapping.Warning, string) {
	l := uwlr.Leerling{Key: "L1", Eckid: eck(1), Achternaam: "Jansen", Roepnaam: "Kim", Voorletters: "K.",
		Groep: &uwlr.Ref{Key: "G1"}, SamengesteldeGroepen: &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: "S1"}}}}
	switch element {
	case "@key":
		l.Key = v
	case "@eckid":
		l.Eckid = v
	case "achternaam":
		l.Achternaam = v
	case "voorvoegsel":
		l.Voorvoegsel = v
	case "voornamen":
		l.Voornamen = v
	case "voorletters-1":
		l.Voorletters = v
	case "roepnaam":
		l.Roepnaam = v
	case "groep":
		l.Groep.Key = v
	case "samengestelde_groep":
		l.SamengesteldeGroepen.SamengesteldeGroep = append(l.SamengesteldeGroepen.SamengesteldeGroep, uwlr.Ref{Key: v})
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	p, eckid, ok := c.Pupil(&l)
	return ok, true, c.Warnings(), fmt.Sprintf("%+v %s", p, eckid)
}

func teacherCase(element, v string) (bool, bool, []mapping.Warning, string) {
	t := uwlr.Leerkracht{Key: "T1", Eckid: eck(2), Achternaam: "Meester", Roepnaam: "Jan", Emailadres: "jan@school.nl",
		Rol: []string{"LRK"}, Groepen: &uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: "G1", Rol: []string{"KLA"}}},
			SamengesteldeGroep: []uwlr.LeerkrachtGroepRef{{Key: "S1"}}}}
	switch element {
	case "@key":
		t.Key = v
	case "@eckid":
		t.Eckid = v
	case "achternaam":
		t.Achternaam = v
	case "voorvoegsel":
		t.Voorvoegsel = v
	case "roepnaam":
		t.Roepnaam = v
	case "emailadres":
		t.Emailadres = v
	case "rol":
		t.Groepen.Groep[0].Rol = append(t.Groepen.Groep[0].Rol, v) // on a group reference: the same limit
	case "rolomschrijving":
		t.Rolomschrijving = append(t.Rolomschrijving, v)
	case "groep":
		t.Groepen.Groep[0].Key = v
	case "samengestelde_groep":
		t.Groepen.SamengesteldeGroep[0].Key = v
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	out, eckid, ok := c.Teacher(&t)
	return ok, true, c.Warnings(), fmt.Sprintf("%+v %s", out, eckid)
}

func groupCase(element, v string) (bool, bool, []mapping.Warning, string) {
	g := uwlr.Groep{Key: "G1", Naam: "Groep 4", Jaargroep: "4"}
	switch element {
	case "@key":
		g.Key = v
	case "naam":
		g.Naam = v
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	out, ok := c.Group(&g)
	return ok, true, c.Warnings(), fmt.Sprintf("%+v", out)
}

func compositeCase(element, v string) (bool, bool, []mapping.Warning, string) {
	g := uwlr.SamengesteldeGroep{Key: "S1", Naam: "Rekengroep"}
	switch element {
	case "@key":
		g.Key = v
	case "naam":
		g.Naam = v
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	out, ok := c.CompositeGroup(&g)
	return ok, true, c.Warnings(), fmt.Sprintf("%+v", out)
}

func vestigingCase(element, v string) (bool, bool, []mapping.Warning, string) {
	ve := uwlr.Vestiging{Key: "V1", Naam: "Hoofdgebouw"}
	switch element {
	case "@key":
		ve.Key = v
	case "naam":
		ve.Naam = v
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	ok := c.Vestiging(&ve)
	return ok, true, c.Warnings(), ""
}

func schoolCase(element, v string) (bool, bool, []mapping.Warning, string) {
	s := uwlr.School{Schooljaar: "2025-2026", Schoolkey: "SK1", Xsdversie: "2.2"}
	switch element {
	case "schoolkey":
		s.Schoolkey = v
	case "xsdversie":
		s.Xsdversie = v
	case "schooljaar":
		s.Schooljaar = v
	default:
		return false, false, nil, ""
	}
	c := mapping.NewChecker(school)
	id, ok := c.School(&s)
	return ok, true, c.Warnings(), string(id)
}

func TestFieldLimits(t *testing.T) {
	cases := map[string]limitCase{"leerling": pupilCase, "leerkracht": teacherCase, "groep": groupCase,
		"samengestelde_groep": compositeCase, "vestiging": vestigingCase, "school": schoolCase}
	limits := mapping.FieldLimits()
	for kind := range cases {
		if len(limits[kind]) == 0 {
			t.Errorf("no field limits for %s", kind)
		}
	}
	for kind, ls := range limits {
		run, ok := cases[kind]
		if !ok {
			t.Errorf("no test case for the limits of %s", kind)
			continue
		}
		for _, l := range ls {
			t.Run(kind+"/"+l.Element, func(t *testing.T) {
				value := chars(l.Max)
				if l.Element == "schooljaar" {
					value = "2025-2026"[:l.Max]
				}
				kept, handled, ws, _ := run(l.Element, value)
				if !handled {
					t.Fatalf("the test has no case for %s %s", kind, l.Element)
				}
				if !kept || fatalOn(ws, l.Element) {
					t.Errorf("a value of exactly %d characters was refused: %v", l.Max, ws)
				}

				over := chars(l.Max + 1)
				kept, _, ws, out := run(l.Element, over)
				if kept || !fatalOn(ws, l.Element) {
					t.Errorf("a value of %d characters: kept = %v, warnings %v; want the record skipped with a fatal warning on %s", l.Max+1, kept, ws, l.Element)
				}
				if strings.Contains(out, over) {
					t.Errorf("the over-long value is in what the mapping returned: %.200s", out)
				}
				for _, w := range ws {
					if strings.Contains(w.String(), chars(65)) {
						t.Errorf("the warning carries the value: %.200s", w.String())
					}
				}
			})
		}
	}
}

// TestFieldLimitsCoverAllowedText: every text field an allow-list lets
// through has a limit, unless its value is checked against a format.
func TestFieldLimitsCoverAllowedText(t *testing.T) {
	formatted := []string{"Geboortedatum", "Geslacht", "Jaargroep", "Brincode", "Dependancecode"}
	allowed := map[string][]string{
		"leerling": mapping.AllowedLeerlingFields(), "leerkracht": mapping.AllowedLeerkrachtFields(),
		"groep": mapping.AllowedGroepFields(), "samengestelde_groep": mapping.AllowedSamengesteldeGroepFields(),
		"vestiging": mapping.AllowedVestigingFields(), "school": mapping.AllowedSchoolFields(),
	}
	limits := mapping.FieldLimits()
	for kind, fields := range allowed {
		for _, f := range fields {
			if slices.Contains(formatted, f) {
				continue
			}
			if !slices.ContainsFunc(limits[kind], func(l mapping.Limit) bool { return l.Field == f }) {
				t.Errorf("%s field %s is allowed but has no length limit", kind, f)
			}
		}
		for _, l := range limits[kind] {
			if !slices.Contains(fields, l.Field) {
				t.Errorf("%s limit on %s (%s): not an allowed field", kind, l.Field, l.Element)
			}
			if l.Max <= 0 {
				t.Errorf("%s limit on %s: max %d", kind, l.Element, l.Max)
			}
		}
	}
}

func TestFieldLimitsAreTheXSDs(t *testing.T) {
	// The ECK iD is an EDEXKeyType attribute: 1..256, like every key.
	want := map[string]int{"leerling @eckid": 256, "leerling @key": 256, "leerling achternaam": 200, "leerling voorletters-1": 6,
		"leerling roepnaam": 64, "leerkracht emailadres": 256, "leerkracht rolomschrijving": 64, "groep naam": 64}
	for kind, ls := range mapping.FieldLimits() {
		for _, l := range ls {
			if n, ok := want[kind+" "+l.Element]; ok && n != l.Max {
				t.Errorf("%s %s: max %d, the XSD says %d", kind, l.Element, l.Max, n)
			}
			delete(want, kind+" "+l.Element)
		}
	}
	for k := range want {
		t.Errorf("no limit for %s", k)
	}
}

func fatalOn(ws []mapping.Warning, element string) bool {
	return slices.ContainsFunc(ws, func(w mapping.Warning) bool { return w.Fatal && w.Field == element })
}

// The pupil as a sync gets it: over-long values never reach the store.
func TestPupilOverLimitIsNotMapped(t *testing.T) {
	l := uwlr.Leerling{Key: "L1", Achternaam: chars(201), Roepnaam: "Kim"}
	p, eckid, ws := mapping.Pupil(school, &l)
	if !mapping.Unusable(ws) || !reflect.DeepEqual(p, gateway.Pupil{School: school}) || eckid != "" {
		t.Errorf("Pupil = %+v, %q, %v; want an empty record and a fatal warning", p, eckid, ws)
	}
}
