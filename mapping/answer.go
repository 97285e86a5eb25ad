package mapping

// The results of a Checker: the dangling links to drop, and a
// soap.Handler for callers that only report (CheckAnswer).

import (
	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Dangling is what [Checker.Finish] found: links from pupils and teachers to
// groups the answer did not define (as that kind), which stayed on the
// records because the group might still have come. Drop them from every
// record kept before Finish (Pupil, Teacher) that has them.
type Dangling struct {
	c *Checker
	n int
}

// Count is the number of such links; 0 means no record needs a change.
func (d Dangling) Count() int { return d.n }

// Pupil drops p's links to groups the answer did not define and reports
// whether it changed p. The slice is replaced, never changed in place.
func (d Dangling) Pupil(p *gateway.Pupil) bool {
	if d.n == 0 {
		return false
	}
	changed := false
	if p.GroupKey != "" && !d.c.defined(target{kindGroep, p.GroupKey}) {
		p.GroupKey, changed = "", true
	}
	if keys := d.keep(kindComposite, p.CompositeGroupKeys); len(keys) != len(p.CompositeGroupKeys) {
		p.CompositeGroupKeys, changed = keys, true
	}
	return changed
}

// Teacher drops t's links to groups the answer did not define and reports
// whether it changed t. The slices are replaced, never changed in place.
func (d Dangling) Teacher(t *gateway.Teacher) bool {
	if d.n == 0 {
		return false
	}
	gs, cs := d.keep(kindGroep, t.GroupKeys), d.keep(kindComposite, t.CompositeGroupKeys)
	changed := len(gs) != len(t.GroupKeys) || len(cs) != len(t.CompositeGroupKeys)
	t.GroupKeys, t.CompositeGroupKeys = gs, cs
	return changed
}

func (d Dangling) keep(kind refKind, keys []string) []string {
	var out []string
	for _, k := range keys {
		if d.c.defined(target{kind, k}) {
			out = append(out, k)
		}
	}
	if len(out) == len(keys) {
		return keys
	}
	return out
}

// CheckAnswer returns a soap.Handler that feeds every record of an answer to
// a new Checker before passing it on to next (whose nil funcs are skipped),
// and a func to call once the answer is read: it finishes the checker and
// returns its warnings, as "record: field: problem" lines, and how many more
// were dropped. It suits a caller that reports on an answer without keeping
// its records (las check, las parse).
func CheckAnswer(next soap.Handler) (soap.Handler, func() (warnings []string, dropped int)) {
	c := NewChecker("")
	h := soap.Handler{
		Answer: func(k soap.AnswerKind) error {
			c.Begin(k)
			return call(next.Answer, k)
		},
		School: func(s *uwlr.School) error {
			c.School(s)
			return call(next.School, s)
		},
		Vestiging: func(v *uwlr.Vestiging) error {
			c.Vestiging(v)
			return call(next.Vestiging, v)
		},
		Groep: func(g *uwlr.Groep) error {
			c.Group(g)
			return call(next.Groep, g)
		},
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error {
			c.CompositeGroup(g)
			return call(next.SamengesteldeGroep, g)
		},
		Leerling: func(l *uwlr.Leerling) error {
			c.Pupil(l)
			return call(next.Leerling, l)
		},
		Leerkracht: func(t *uwlr.Leerkracht) error {
			c.Teacher(t)
			return call(next.Leerkracht, t)
		},
	}
	return h, func() ([]string, int) {
		c.Finish()
		return Strings(c.Warnings()), c.Dropped()
	}
}

func call[T any](fn func(T) error, v T) error {
	if fn == nil {
		return nil
	}
	return fn(v)
}

// Strings renders warnings as "record: field: problem" lines; never nil.
func Strings(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}
