package mapping

import (
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Pupil copies the allowed fields of a leerling into a gateway.Pupil of
// school and returns the raw ECK iD beside it (empty when the LAS sent none).
// ID, EckIndex and SealedEckID stay empty: the caller seals eckid and must
// not store it in plain text. Every other field of l is dropped.
//
// Name parts are trimmed of surrounding white space; keys and the ECK iD are
// opaque and copied byte-exactly. Validation, each failing value left empty
// with a warning: geslacht must be 0, 1, 2 or 9; geboortedatum an xs:date
// (YYYY-MM-DD, a zone suffix is stripped); jaargroep a value of the
// EDEXJaargroepType enumeration. An ECK iD that does not look like
// https://ketenid.nl/<segment>/<128 hex> is kept and warned about (a
// redacted capture's marker, [IsRedactedEckID], is not). Composite
// group keys come back sorted and de-duplicated. A pupil with neither @key
// nor @eckid gets a Fatal warning: the caller must skip it ([Unusable]); so
// does one with a value over its field limit ([FieldLimits]), and then
// nothing of it is returned but the school.
//
// References to groups are not checked here; a [Checker] does that.
func Pupil(school gateway.SchoolID, l *uwlr.Leerling) (p gateway.Pupil, eckid string, ws []Warning) {
	w := warnings{rec: record("leerling", l.Key)}
	if overLimit(&w, "leerling", leerlingValues(l)) {
		return gateway.Pupil{School: school}, "", w.ws
	}
	p = gateway.Pupil{
		School:     school,
		LASKey:     l.Key,
		LastName:   strings.TrimSpace(l.Achternaam),
		Prefix:     strings.TrimSpace(l.Voorvoegsel),
		FirstName:  strings.TrimSpace(l.Roepnaam),
		GivenNames: strings.TrimSpace(l.Voornamen),
		Initials:   strings.TrimSpace(l.Voorletters),
	}
	eckid = l.Eckid
	if l.Key == "" && eckid == "" {
		w.fatal("", "has neither key nor eckid")
	}
	checkEckID(&w, eckid)
	if p.LastName == "" && p.FirstName == "" {
		w.add("", "has neither achternaam nor roepnaam")
	}
	if l.Geslacht != "" {
		if g, ok := gender(l.Geslacht); ok {
			p.Gender = g
		} else {
			w.add("geslacht", "not one of 0, 1, 2, 9; left empty")
		}
	}
	if l.Geboortedatum != "" {
		if d, ok := xsDate(l.Geboortedatum); ok {
			p.BirthDate = d
		} else {
			w.add("geboortedatum", "not a valid xs:date (YYYY-MM-DD); left empty")
		}
	}
	p.YearGroup = jaargroep(&w, l.Jaargroep, false)
	if l.Groep != nil {
		if l.Groep.Key == "" {
			w.add("groep", "reference without key; dropped")
		}
		p.GroupKey = l.Groep.Key
	}
	if l.SamengesteldeGroepen != nil {
		keys := make([]string, 0, len(l.SamengesteldeGroepen.SamengesteldeGroep))
		for _, g := range l.SamengesteldeGroepen.SamengesteldeGroep {
			if g.Key == "" {
				w.add("samengestelde_groep", "reference without key; dropped")
			}
			keys = append(keys, g.Key)
		}
		p.CompositeGroupKeys = sortedKeys(keys)
	}
	return p, eckid, w.ws
}

func checkEckID(w *warnings, eckid string) {
	if eckid != "" && !ValidEckID(eckid) && !IsRedactedEckID(eckid) {
		w.add("@eckid", "not of the form https://ketenid.nl/<segment>/<128 hex>; kept")
	}
}

// jaargroep validates a jaargroep, trimmed of white space; required says
// whether an empty value is a problem (groep) or not (leerling).
func jaargroep(w *warnings, s string, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		if required {
			w.add("jaargroep", "missing")
		}
		return ""
	case !ValidJaargroep(s):
		w.add("jaargroep", "not in the EDEXJaargroep enumeration (B, D, 0-8, 11-16, S, V, C, N, H); left empty")
		return ""
	}
	return s
}
