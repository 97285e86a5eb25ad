package mapping

import (
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Checker maps and checks the records of one leerlinggegevens answer as they
// stream in: it is the one place where a record or reference problem is
// found, and it reports each exactly once, as a [Warning]. Feed it every
// record in document order (see [CheckAnswer] for a soap.Handler that does),
// then call [Checker.Finish].
//
// Per record it applies the rules of [School], [Group], [CompositeGroup],
// [Pupil] and [Teacher], and the rules that need the whole answer:
//
//   - keys are unique: a second groep or samengestelde_groep with a key
//     already used (by either kind), a second vestiging or a second
//     leerkracht with the same key is skipped; a second leerling with the
//     same key is kept (pupils are stored by their own id) and warned
//     about; a second leerling with the same ECK iD is skipped (the ECK iD is
//     a pupil's identity); a second leerkracht with the same ECK iD is
//     warned about;
//   - a samengestelde_groep or vestiging without key, and a leerkracht
//     without key, is skipped (they are stored and referred to by key);
//   - a record with a value over its field limit ([FieldLimits]) is skipped;
//   - in a self-contained answer ([soap.AnswerKind.SelfContained]: the whole
//     school) every groep, samengestelde_groep and vestiging reference of a
//     leerling or leerkracht must point to a record of that kind in the same
//     answer. A reference to a group of the other kind is dropped from the
//     record at once; one to a key not seen yet stays on the record and is
//     decided at Finish, because vendors send the lists in any order. Finish
//     returns the [Dangling] links, for the caller to drop from the records it
//     already kept. Stepwise answers refer to groups of an earlier call and
//     are not checked.
//
// Memory stays small whatever the size of the school: per pupil and teacher
// an 8-byte hash of its key and of its ECK iD (seeded per Checker, never
// stored), the keys of the groups and branches, and for each key referred to
// before its group was seen a count and the names of the first referring
// records (at most 20 per key and soap.MaxWarnings in all; released when the
// group comes). At most soap.MaxWarnings warnings are kept; the rest are
// counted ([Checker.Dropped]). Like every warning of this package they name
// records by LAS key or position ("leerling #3"), never by a name, birth date
// or ECK iD.
//
// A Checker is for one answer and not safe for concurrent use.
type Checker struct {
	school gateway.SchoolID
	refs   bool // check references (a self-contained answer)
	seed   maphash.Seed

	groups      map[string]refKind // groep and samengestelde_groep keys (one key space)
	vests       map[string]bool
	pupilKeys   map[uint64]struct{}
	pupilEcks   map[uint64]struct{}
	teacherKeys map[uint64]struct{}
	teacherEcks map[uint64]struct{}
	n           [kinds]int // records seen per kind, for positions

	pending map[target]*pending // references to records not seen yet
	order   []target            // pending targets, by first reference
	named   int                 // owners held in pending, at most soap.MaxWarnings

	ws       []Warning
	dropped  int
	finished bool
	dangling int
}

// refKind is the kind of a record that can be referred to; pupils and
// teachers only count positions.
type refKind uint8

const (
	kindGroep refKind = iota + 1
	kindComposite
	kindVestiging
	kindPupil
	kindTeacher
	kinds
)

var kindNames = [kinds]string{kindGroep: "groep", kindComposite: "samengestelde_groep", kindVestiging: "vestiging",
	kindPupil: "leerling", kindTeacher: "leerkracht"}

func (k refKind) String() string { return kindNames[k] }

// target is what a reference points to.
type target struct {
	kind refKind
	key  string
}

// pending holds the references to one target not seen yet.
type pending struct {
	owners []string // the first referring records, as a Warning names them
	more   int      // further references, counted only
}

// ownersPerTarget bounds the referring records named per pending target, so
// that a few groups referred to by every pupil before the group list comes
// leave room to name the owners of the references that really dangle.
const ownersPerTarget = 20

// NewChecker returns a Checker for an answer about school (the School of
// the mapped records; empty when not known, e.g. for a file on disk).
func NewChecker(school gateway.SchoolID) *Checker {
	return &Checker{school: school, seed: maphash.MakeSeed(), groups: map[string]refKind{}, vests: map[string]bool{},
		pupilKeys: map[uint64]struct{}{}, pupilEcks: map[uint64]struct{}{}, teacherKeys: map[uint64]struct{}{},
		teacherEcks: map[uint64]struct{}{}, pending: map[target]*pending{}}
}

// Begin tells the checker which answer it reads (soap.Handler.Answer):
// references are checked in a self-contained answer only.
func (c *Checker) Begin(k soap.AnswerKind) { c.refs = k.SelfContained() }

// Warnings returns the warnings found so far, in the order found, at most
// soap.MaxWarnings of them. The slice is the checker's own: do not change it.
func (c *Checker) Warnings() []Warning { return c.ws }

// Dropped counts the warnings found beyond soap.MaxWarnings.
func (c *Checker) Dropped() int { return c.dropped }

func (c *Checker) add(ws []Warning) {
	for _, w := range ws {
		if len(c.ws) >= soap.MaxWarnings {
			c.dropped++
			continue
		}
		c.ws = append(c.ws, w)
	}
}

// next counts a record of kind and returns its name for warnings: by key,
// or by position when it has none.
func (c *Checker) next(kind refKind, key string) string {
	c.n[kind]++
	if key == "" {
		return kind.String() + " #" + strconv.Itoa(c.n[kind])
	}
	return record(kind.String(), key)
}

// seen reports whether v was seen before in m (as its hash), and adds it.
func (c *Checker) seen(m map[uint64]struct{}, v string) bool {
	h := maphash.String(c.seed, v)
	if _, ok := m[h]; ok {
		return true
	}
	m[h] = struct{}{}
	return false
}

// has reports whether v was seen before in m, without adding it.
func (c *Checker) has(m map[uint64]struct{}, v string) bool {
	_, ok := m[maphash.String(c.seed, v)]
	return ok
}

// School maps the school element ([School]) and reports its warnings. ok is
// false when the answer does not say which school it is about.
func (c *Checker) School(s *uwlr.School) (id gateway.SchoolID, ok bool) {
	brin, dep, key, ws := School(s)
	c.add(ws)
	return gateway.SchoolIDFor(brin, dep, key), !Unusable(ws)
}

// Vestiging checks a branch. Branches are not kept (data minimisation), but
// pupils refer to them; ok is false for one the caller should skip.
func (c *Checker) Vestiging(v *uwlr.Vestiging) (ok bool) {
	w := warnings{rec: c.next(kindVestiging, v.Key)}
	switch {
	case overLimit(&w, "vestiging", keyAndName(v.Key, v.Naam)):
	case v.Key == "":
		w.fatal("@key", "missing")
	case c.vests[v.Key]:
		w.fatal("@key", "used by an earlier vestiging in this answer; skipped")
	default:
		c.define(target{kindVestiging, v.Key})
		if strings.TrimSpace(v.Naam) == "" {
			w.add("naam", "missing")
		}
	}
	c.add(w.ws)
	return !Unusable(w.ws)
}

// Group maps a home group ([Group]); ok is false for one the caller must
// skip (no key, or a key already used by a group of either kind).
func (c *Checker) Group(g *uwlr.Groep) (out gateway.Group, ok bool) {
	return checkGroup(c, kindGroep, g.Key, func() (gateway.Group, []Warning) { return Group(c.school, g) })
}

// CompositeGroup maps a composite group ([CompositeGroup]); ok is false for
// one the caller must skip (no key, or a key already used by a group of
// either kind).
func (c *Checker) CompositeGroup(g *uwlr.SamengesteldeGroep) (out gateway.CompositeGroup, ok bool) {
	return checkGroup(c, kindComposite, g.Key, func() (gateway.CompositeGroup, []Warning) { return CompositeGroup(c.school, g) })
}

// checkGroup maps a group of either kind with m, after checking that its
// key is not used by an earlier group of either kind.
func checkGroup[G any](c *Checker, kind refKind, key string, m func() (G, []Warning)) (out G, ok bool) {
	rec := c.next(kind, key)
	if _, dup := c.groups[key]; dup && key != "" {
		c.add([]Warning{{Record: rec, Field: "@key", Problem: "used by an earlier group in this answer; skipped", Fatal: true}})
		return out, false
	}
	out, ws := m()
	c.add(Locate(ws, c.n[kind]))
	if Unusable(ws) {
		return out, false
	}
	c.define(target{kind, key})
	return out, true
}

// Pupil maps a leerling ([Pupil]) and checks its identity and references;
// ok is false for one the caller must skip (no key and no ECK iD, or the ECK
// iD of an earlier pupil). A link to a group of the other kind is already
// dropped from p; a link to a group not seen yet is kept until Finish.
func (c *Checker) Pupil(l *uwlr.Leerling) (p gateway.Pupil, eckid string, ok bool) {
	rec := c.next(kindPupil, l.Key)
	p, eckid, ws := Pupil(c.school, l)
	w := warnings{rec: rec, ws: Locate(ws, c.n[kindPupil])}
	if Unusable(w.ws) {
		c.add(w.ws)
		return p, eckid, false
	}
	if eckid != "" && c.seen(c.pupilEcks, eckid) {
		c.add([]Warning{{Record: rec, Field: "@eckid", Problem: "same as an earlier leerling in this answer; skipped", Fatal: true}})
		return gateway.Pupil{}, "", false
	}
	if l.Key != "" && c.seen(c.pupilKeys, l.Key) {
		w.add("@key", "used by an earlier leerling in this answer")
	}
	if p.GroupKey != "" && !c.link(&w, target{kindGroep, p.GroupKey}) {
		p.GroupKey = ""
	}
	p.CompositeGroupKeys = c.links(&w, kindComposite, p.CompositeGroupKeys)
	if v := l.Vestiging; v != nil {
		if v.Key == "" {
			w.add("vestiging", "reference without key")
		} else {
			c.link(&w, target{kindVestiging, v.Key})
		}
	}
	c.add(w.ws)
	return p, eckid, true
}

// Teacher maps a leerkracht ([Teacher]) and checks its identity and
// references; ok is false for one the caller must skip (no key: a teacher is
// kept by its key; or a key already used). Links are handled as for Pupil.
func (c *Checker) Teacher(t *uwlr.Leerkracht) (out gateway.Teacher, eckid string, ok bool) {
	rec := c.next(kindTeacher, t.Key)
	if t.Key != "" && c.has(c.teacherKeys, t.Key) {
		c.add([]Warning{{Record: rec, Field: "@key", Problem: "used by an earlier leerkracht in this answer; skipped", Fatal: true}})
		return gateway.Teacher{}, "", false
	}
	out, eckid, ws := Teacher(c.school, t)
	w := warnings{rec: rec, ws: Locate(ws, c.n[kindTeacher])}
	if !Unusable(w.ws) && t.Key == "" {
		w.fatal("@key", "missing (a leerkracht is kept by its key); skipped")
	}
	if Unusable(w.ws) {
		c.add(w.ws)
		return out, eckid, false
	}
	c.seen(c.teacherKeys, t.Key)
	if eckid != "" && c.seen(c.teacherEcks, eckid) {
		w.add("@eckid", "same as an earlier leerkracht in this answer")
	}
	out.GroupKeys = c.links(&w, kindGroep, out.GroupKeys)
	out.CompositeGroupKeys = c.links(&w, kindComposite, out.CompositeGroupKeys)
	c.add(w.ws)
	return out, eckid, true
}

// link checks one reference of the record w is about and reports whether
// the record keeps it: not when it points to a group of the other kind.
func (c *Checker) link(w *warnings, to target) bool {
	if !c.refs {
		return true
	}
	if to.kind == kindVestiging {
		if !c.vests[to.key] {
			c.forward(w.rec, to)
		}
		return true
	}
	switch got := c.groups[to.key]; {
	case got == to.kind:
		return true
	case got != 0:
		w.add(to.kind.String(), strconv.Quote(to.key)+" refers to a group of the other kind; dropped")
		return false
	}
	c.forward(w.rec, to)
	return true
}

// links filters keys through link, into a new slice when one is dropped.
func (c *Checker) links(w *warnings, kind refKind, keys []string) []string {
	var out []string
	for i, k := range keys {
		if c.link(w, target{kind, k}) {
			if out != nil {
				out = append(out, k)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(keys)), keys[:i]...)
		}
	}
	if out == nil {
		return keys
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// forward keeps a reference to a record not seen yet, to decide at Finish.
func (c *Checker) forward(owner string, to target) {
	p := c.pending[to]
	if p == nil {
		p = &pending{}
		c.pending[to] = p
		c.order = append(c.order, to)
	}
	if len(p.owners) < ownersPerTarget && c.named < soap.MaxWarnings {
		p.owners = append(p.owners, owner)
		c.named++
		return
	}
	p.more++
}

// define registers a group or branch and settles the references to it.
func (c *Checker) define(to target) {
	if to.kind == kindVestiging {
		c.vests[to.key] = true
	} else {
		c.groups[to.key] = to.kind
	}
	if p := c.pending[to]; p != nil {
		c.named -= len(p.owners)
		delete(c.pending, to)
	}
}

// defined reports whether the answer defined the target of a reference.
func (c *Checker) defined(to target) bool {
	if to.kind == kindVestiging {
		return c.vests[to.key]
	}
	return c.groups[to.key] == to.kind
}

// Finish decides the references to records that had not been seen when
// their owner was mapped, warns about each that the answer never defined,
// and returns the links the caller must drop from the records it kept
// before Finish. Call it once the whole answer is read; later calls return
// the same result.
func (c *Checker) Finish() Dangling {
	if c.finished {
		return Dangling{c: c, n: c.dangling}
	}
	c.finished = true
	for _, to := range c.order {
		p := c.pending[to]
		if p == nil || c.defined(to) {
			continue // settled, or already reported (a target pending twice)
		}
		delete(c.pending, to)
		problem := strconv.Quote(to.key) + " is not defined in this message"
		switch {
		case to.kind == kindVestiging:
		case c.groups[to.key] != 0:
			problem = strconv.Quote(to.key) + " refers to a group of the other kind; dropped"
		default:
			problem += "; dropped"
		}
		for _, owner := range p.owners {
			c.add([]Warning{{Record: owner, Field: to.kind.String(), Problem: problem}})
		}
		c.dropped += p.more // beyond the owners named: counted
		if to.kind != kindVestiging {
			c.dangling += len(p.owners) + p.more
		}
	}
	c.pending, c.order, c.named = nil, nil, 0
	return Dangling{c: c, n: c.dangling}
}
