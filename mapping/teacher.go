package mapping

import (
	"slices"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Teacher copies the allowed fields of a leerkracht into a gateway.Teacher
// of school and returns the raw ECK iD beside it (the caller seals it and
// fills EckIndex and SealedEckID). Voornamen, voorletters-1, gebruikersnaam
// and mutatiedatum are dropped.
//
// Roles is the sorted, de-duplicated union of the teacher's own rol and
// rolomschrijving values and those given on each group reference (the
// domain record does not keep roles per group). A rol that is an EDEX code
// (in any letter case) is stored as the upper-case code ([IsRoleCode]); an
// unknown rol is warned about but kept as role text, like rolomschrijving,
// so nothing the school said about the teacher's role is lost. Empty role
// values are ignored. GroupKeys and CompositeGroupKeys are sorted and unique.
// A teacher with neither @key nor @eckid gets a Fatal warning; so does one
// with a value over its field limit ([FieldLimits]), returned empty.
func Teacher(school gateway.SchoolID, t *uwlr.Leerkracht) (gateway.Teacher, string, []Warning) {
	w := warnings{rec: record("leerkracht", t.Key)}
	if overLimit(&w, "leerkracht", leerkrachtValues(t)) {
		return gateway.Teacher{School: school}, "", w.ws
	}
	out := gateway.Teacher{
		School:    school,
		Key:       t.Key,
		LastName:  strings.TrimSpace(t.Achternaam),
		Prefix:    strings.TrimSpace(t.Voorvoegsel),
		FirstName: strings.TrimSpace(t.Roepnaam),
		Email:     strings.TrimSpace(t.Emailadres),
	}
	eckid := t.Eckid
	if t.Key == "" && eckid == "" {
		w.fatal("", "has neither key nor eckid")
	}
	checkEckID(&w, eckid)
	if out.LastName == "" && out.FirstName == "" {
		w.add("", "has neither achternaam nor roepnaam")
	}
	var roles []string
	roles = addRoles(&w, roles, "", t.Rol, t.Rolomschrijving)
	if t.Groepen != nil {
		var groups, comps []string
		for _, g := range t.Groepen.Groep {
			if g.Key == "" {
				w.add("groep", "reference without key; dropped")
			}
			groups = append(groups, g.Key)
			roles = addRoles(&w, roles, "groep ", g.Rol, g.Rolomschrijving)
		}
		for _, g := range t.Groepen.SamengesteldeGroep {
			if g.Key == "" {
				w.add("samengestelde_groep", "reference without key; dropped")
			}
			comps = append(comps, g.Key)
			roles = addRoles(&w, roles, "samengestelde_groep ", g.Rol, g.Rolomschrijving)
		}
		out.GroupKeys = sortedKeys(groups)
		out.CompositeGroupKeys = sortedKeys(comps)
	}
	out.Roles = sortedKeys(roles)
	return out, eckid, w.ws
}

// addRoles appends the role codes and texts to roles; where prefixes the
// field name in warnings ("groep " for roles on a group reference).
func addRoles(w *warnings, roles []string, where string, codes, texts []string) []string {
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if up := strings.ToUpper(c); IsRoleCode(up) {
			roles = append(roles, up)
			continue
		}
		w.add(where+"rol", "not an EDEX role code ("+strings.Join(roleCodes, " ")+"); kept as role text")
		roles = append(roles, c)
	}
	for _, s := range texts {
		if s = strings.TrimSpace(s); s != "" {
			roles = append(roles, s)
		}
	}
	return slices.Clip(roles)
}
