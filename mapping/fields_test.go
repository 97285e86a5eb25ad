package mapping_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// allowList is one record kind: its allow-list, a base record and what the
// mapping makes of a record (everything it returns, printed).
type allowList[T any] struct {
	allowed []string
	base    T
	mapped  func(*T) string
	// valid are values that pass validation, for fields that are checked.
	valid map[string]string
}

// check changes one field of the base record at a time: the mapping's
// result must change when the field is on the allow-list, and must stay
// the same when it is not. So the list and the mapping code cannot drift:
// a field copied without being listed, or listed without being copied,
// fails here, and package capture keeps exactly the listed fields.
func (a allowList[T]) check(t *testing.T) {
	t.Helper()
	base := a.base
	want := a.mapped(&base)
	typ := reflect.TypeFor[T]()
	for _, name := range a.allowed {
		if _, ok := typ.FieldByName(name); !ok {
			t.Errorf("allow-list names %s.%s, which does not exist", typ.Name(), name)
		}
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "XMLName" {
			continue
		}
		rec := a.base
		v := reflect.ValueOf(&rec).Elem().Field(i)
		if !setOther(v, f.Name, a.valid[f.Name]) {
			t.Fatalf("%s.%s: the test cannot set a field of type %s: extend setOther", typ.Name(), f.Name, f.Type)
		}
		got := a.mapped(&rec)
		switch allowed := slices.Contains(a.allowed, f.Name); {
		case allowed && got == want:
			t.Errorf("%s.%s is on the allow-list, but the mapping ignores it", typ.Name(), f.Name)
		case !allowed && got != want:
			t.Errorf("%s.%s is not on the allow-list, but it changes the mapping:\n got %s\nwant %s", typ.Name(), f.Name, got, want)
		}
	}
}

// setOther sets v (field name) to a value that differs from any base
// value: valid when given, else a distinctive one of the field's type.
func setOther(v reflect.Value, name, valid string) bool {
	s := valid
	if s == "" {
		s = "OTHER-" + name
	}
	switch v.Type() {
	case reflect.TypeFor[string]():
		v.SetString(s)
	case reflect.TypeFor[[]string]():
		v.Set(reflect.ValueOf([]string{s}))
	case reflect.TypeFor[*uwlr.Ref]():
		v.Set(reflect.ValueOf(&uwlr.Ref{Key: s}))
	case reflect.TypeFor[*uwlr.SamengesteldeGroepenRef]():
		v.Set(reflect.ValueOf(&uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: s}}}))
	case reflect.TypeFor[*uwlr.LeerkrachtGroepen]():
		v.Set(reflect.ValueOf(&uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: s}}}))
	default:
		return false
	}
	return true
}

func TestAllowListsMatchTheMapping(t *testing.T) {
	t.Run("leerling", allowList[uwlr.Leerling]{
		allowed: mapping.AllowedLeerlingFields(),
		base:    uwlr.Leerling{Key: "L1", Achternaam: "Jansen", Geslacht: "1", Geboortedatum: "2016-01-02", Jaargroep: "3"},
		mapped: func(l *uwlr.Leerling) string {
			p, eckid, ws := mapping.Pupil(school, l)
			return fmt.Sprintf("%#v %q %v", p, eckid, ws)
		},
		valid: map[string]string{"Geslacht": "2", "Geboortedatum": "2015-03-04", "Jaargroep": "4"},
	}.check)
	t.Run("leerkracht", allowList[uwlr.Leerkracht]{
		allowed: mapping.AllowedLeerkrachtFields(),
		base:    uwlr.Leerkracht{Key: "T1", Achternaam: "Bakker"},
		mapped: func(l *uwlr.Leerkracht) string {
			out, eckid, ws := mapping.Teacher(school, l)
			return fmt.Sprintf("%#v %q %v", out, eckid, ws)
		},
	}.check)
	t.Run("groep", allowList[uwlr.Groep]{
		allowed: mapping.AllowedGroepFields(),
		base:    uwlr.Groep{Key: "G1", Naam: "1A", Jaargroep: "1"},
		mapped: func(g *uwlr.Groep) string {
			out, ws := mapping.Group(school, g)
			return fmt.Sprintf("%#v %v", out, ws)
		},
		valid: map[string]string{"Jaargroep": "2"},
	}.check)
	t.Run("samengestelde_groep", allowList[uwlr.SamengesteldeGroep]{
		allowed: mapping.AllowedSamengesteldeGroepFields(),
		base:    uwlr.SamengesteldeGroep{Key: "S1", Naam: "Rekengroep"},
		mapped: func(g *uwlr.SamengesteldeGroep) string {
			out, ws := mapping.CompositeGroup(school, g)
			return fmt.Sprintf("%#v %v", out, ws)
		},
	}.check)
	t.Run("vestiging", allowList[uwlr.Vestiging]{
		allowed: mapping.AllowedVestigingFields(),
		base:    uwlr.Vestiging{Key: "V1"}, // no naam: its warning names the key
		mapped: func(v *uwlr.Vestiging) string {
			c := mapping.NewChecker(school)
			ok := c.Vestiging(v)
			return fmt.Sprintf("%v %v", ok, c.Warnings())
		},
	}.check)
	t.Run("school", allowList[uwlr.School]{
		allowed: mapping.AllowedSchoolFields(),
		base:    uwlr.School{Schooljaar: "2025-2026", Brincode: "12AB", Dependancecode: "00", Xsdversie: "2.2"},
		// School reads the identity; the schooljaar and xsdversie of an
		// answer are what las parse reports about it.
		mapped: func(s *uwlr.School) string {
			brin, dep, key, ws := mapping.School(s)
			return fmt.Sprintf("%s %s %s %v | %s %s", brin, dep, key, ws, s.Schooljaar, s.Xsdversie)
		},
		valid: map[string]string{"Brincode": "34CD", "Dependancecode": "01", "Schooljaar": "2026-2027"},
	}.check)
}

func TestAllowListsAreCopies(t *testing.T) {
	l := mapping.AllowedLeerlingFields()
	l[0] = "Bsn"
	if mapping.AllowedLeerlingFields()[0] == "Bsn" {
		t.Fatal("changing the returned slice changed the allow-list")
	}
}
