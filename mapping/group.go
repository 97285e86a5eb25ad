package mapping

import (
	"regexp"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Group copies a home group (groep): key, naam (trimmed) and jaargroep. The
// jaargroep is required and must be in the EDEXJaargroepType enumeration;
// otherwise it is left empty with a warning. A group without key gets a
// Fatal warning: nothing could refer to it; so does one with a key or naam
// over its field limit ([FieldLimits]), returned empty. Omschrijving and
// mutatiedatum are dropped.
func Group(school gateway.SchoolID, g *uwlr.Groep) (gateway.Group, []Warning) {
	w := warnings{rec: record("groep", g.Key)}
	if overLimit(&w, "groep", keyAndName(g.Key, g.Naam)) {
		return gateway.Group{School: school}, w.ws
	}
	out := gateway.Group{School: school, Key: g.Key, Name: strings.TrimSpace(g.Naam)}
	if g.Key == "" {
		w.fatal("@key", "missing")
	}
	if out.Name == "" {
		w.add("naam", "missing")
	}
	out.YearGroup = jaargroep(&w, g.Jaargroep, true)
	return out, w.ws
}

// CompositeGroup copies a composite group (samengestelde_groep): key and
// naam (trimmed); omschrijving and mutatiedatum are dropped. A composite
// group has no coded fields; a missing naam is warned about, and a group
// without key, or over a field limit, gets a Fatal warning.
func CompositeGroup(school gateway.SchoolID, g *uwlr.SamengesteldeGroep) (gateway.CompositeGroup, []Warning) {
	w := warnings{rec: record("samengestelde_groep", g.Key)}
	if overLimit(&w, "samengestelde_groep", keyAndName(g.Key, g.Naam)) {
		return gateway.CompositeGroup{School: school}, w.ws
	}
	out := gateway.CompositeGroup{School: school, Key: g.Key, Name: strings.TrimSpace(g.Naam)}
	if g.Key == "" {
		w.fatal("@key", "missing")
	}
	if out.Name == "" {
		w.add("naam", "missing")
	}
	return out, w.ws
}

var (
	brinPattern = regexp.MustCompile(`^\d{2}[A-Z]{2}$`)
	depPattern  = regexp.MustCompile(`^\d{2}$`)
)

// School returns the identity of the school an answer is about: brincode,
// dependancecode and schoolkey, trimmed of white space (the schoolkey is
// opaque and copied as is). A brincode that is not two digits and two
// upper-case letters, or a dependancecode that is not two digits, is
// returned empty with a Fatal warning, because falling back to the
// schoolkey would silently change the school's id; so is a school with
// neither brincode nor schoolkey (Flemish instellingsnummer-only schools are
// not supported), and so is one whose schoolkey, schooljaar or xsdversie
// is over its field limit. The caller compares the result with the school
// it asked for (gateway.SchoolIDFor).
func School(s *uwlr.School) (brin, dependancecode, schoolkey string, ws []Warning) {
	w := warnings{rec: "school"}
	if overLimit(&w, "school", schoolValues(s)) {
		return "", "", "", w.ws
	}
	brin = strings.TrimSpace(s.Brincode)
	dependancecode = strings.TrimSpace(s.Dependancecode)
	schoolkey = s.Schoolkey
	if brin != "" && !brinPattern.MatchString(brin) {
		w.fatal("brincode", "not two digits and two upper-case letters; left empty")
		brin = ""
	}
	if dependancecode != "" && !depPattern.MatchString(dependancecode) {
		w.fatal("dependancecode", "not two digits; left empty")
		dependancecode = ""
	}
	if strings.TrimSpace(s.Brincode) == "" {
		if dependancecode != "" {
			w.add("dependancecode", "given without brincode; ignored")
			dependancecode = ""
		}
		if schoolkey == "" {
			w.fatal("", "has neither brincode nor schoolkey")
		}
	}
	return brin, dependancecode, schoolkey, w.ws
}
