package mapping

import (
	"slices"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Refs checks the group references of pupils and teachers against the
// groups of one message. Add every groep and samengestelde_groep first, then
// check the records. The zero value is ready to use.
//
// A dangling reference (to a key not added, or to a group of the other kind)
// is removed from the record, with a warning, so that the store never holds
// a link to a group that does not exist; the record itself is kept. Use it
// only when the message carries the group list (the whole-school
// leerlinggegevens answer); for the stepwise leerlingen/leerkrachten answers,
// add the groups known from the earlier structuur answer instead.
type Refs struct {
	groups, comps map[string]bool
}

// AddGroup registers the key of a groep.
func (r *Refs) AddGroup(key string) {
	if r.groups == nil {
		r.groups = map[string]bool{}
	}
	r.groups[key] = true
}

// AddComposite registers the key of a samengestelde_groep.
func (r *Refs) AddComposite(key string) {
	if r.comps == nil {
		r.comps = map[string]bool{}
	}
	r.comps[key] = true
}

// CheckPupil removes the pupil's dangling group references and reports
// each. The CompositeGroupKeys slice is replaced, never changed in place.
func (r *Refs) CheckPupil(p *gateway.Pupil) []Warning {
	w := warnings{rec: record("leerling", p.LASKey)}
	if p.GroupKey != "" && !r.check(&w, "groep", p.GroupKey) {
		p.GroupKey = ""
	}
	p.CompositeGroupKeys = r.filter(&w, "samengestelde_groep", p.CompositeGroupKeys)
	return w.ws
}

// CheckTeacher removes the teacher's dangling group references and reports
// each. The key slices are replaced, never changed in place.
func (r *Refs) CheckTeacher(t *gateway.Teacher) []Warning {
	w := warnings{rec: record("leerkracht", t.Key)}
	t.GroupKeys = r.filter(&w, "groep", t.GroupKeys)
	t.CompositeGroupKeys = r.filter(&w, "samengestelde_groep", t.CompositeGroupKeys)
	return w.ws
}

func (r *Refs) filter(w *warnings, kind string, keys []string) []string {
	if !slices.ContainsFunc(keys, func(k string) bool { return !r.known(kind, k) }) {
		return keys
	}
	var out []string
	for _, k := range keys {
		if r.check(w, kind, k) {
			out = append(out, k)
		}
	}
	return out
}

func (r *Refs) known(kind, key string) bool {
	if kind == "groep" {
		return r.groups[key]
	}
	return r.comps[key]
}

// check reports whether key refers to a known group of kind, warning when not.
func (r *Refs) check(w *warnings, kind, key string) bool {
	switch {
	case r.known(kind, key):
		return true
	case kind == "groep" && r.comps[key], kind == "samengestelde_groep" && r.groups[key]:
		w.add(kind, strconv.Quote(key)+" refers to a group of the other kind; dropped")
	default:
		w.add(kind, strconv.Quote(key)+" is not defined in this message; dropped")
	}
	return false
}
