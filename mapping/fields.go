package mapping

import (
	"maps"
	"slices"
)

// The allow-lists of data minimisation, one per wire record of an answer:
// the fields of the wsdl/uwlr type, by Go field name, that cross into the
// gateway. Pupil, Teacher, Group and CompositeGroup copy exactly these
// fields and no other (fields_test.go holds each function to its list, field
// by field: changing an allowed field changes the result, changing any other
// field changes nothing), and a redacted capture of an answer keeps exactly
// these elements and attributes (package capture derives its set from these
// lists), so what the gateway keeps and what a capture shows cannot drift.
// Each function returns a new slice. The length of each kept field is
// bounded by its field limit (limits.go, [FieldLimits]).
var (
	leerlingFields = []string{"Key", "Eckid", "Achternaam", "Voorvoegsel", "Voornamen", "Voorletters", "Roepnaam",
		"Geboortedatum", "Geslacht", "Jaargroep", "Groep", "SamengesteldeGroepen"}
	leerkrachtFields = []string{"Key", "Eckid", "Achternaam", "Voorvoegsel", "Roepnaam", "Emailadres", "Rol",
		"Rolomschrijving", "Groepen"}
	groepFields              = []string{"Key", "Naam", "Jaargroep"}
	samengesteldeGroepFields = []string{"Key", "Naam"}
	vestigingFields          = []string{"Key", "Naam"}
	schoolFields             = []string{"Schooljaar", "Brincode", "Dependancecode", "Schoolkey", "Xsdversie"}
)

// AllowedLeerlingFields are the fields of uwlr.Leerling that [Pupil]
// copies: the LAS key, the ECK iD (returned beside the record, to be
// sealed), the name parts, birth date, gender, jaargroep and the group
// references.
func AllowedLeerlingFields() []string { return slices.Clone(leerlingFields) }

// AllowedLeerkrachtFields are the fields of uwlr.Leerkracht that [Teacher]
// copies: key, ECK iD, name, e-mail address, roles and group references
// (with their roles).
func AllowedLeerkrachtFields() []string { return slices.Clone(leerkrachtFields) }

// AllowedGroepFields are the fields of uwlr.Groep that [Group] copies.
func AllowedGroepFields() []string { return slices.Clone(groepFields) }

// AllowedSamengesteldeGroepFields are the fields of uwlr.SamengesteldeGroep
// that [CompositeGroup] copies.
func AllowedSamengesteldeGroepFields() []string { return slices.Clone(samengesteldeGroepFields) }

// AllowedVestigingFields are the fields of uwlr.Vestiging that
// [Checker.Vestiging] reads: a branch is not kept, but pupils refer to it
// by key and a branch without naam is warned about.
func AllowedVestigingFields() []string { return slices.Clone(vestigingFields) }

// AllowedSchoolFields are the fields of uwlr.School the gateway reads: the
// school's identity ([School]: brincode, dependancecode, schoolkey) and the
// schooljaar and xsdversie the answer says it follows (las parse reports
// them). Free text (auteur, commentaar) and the dates are not.
func AllowedSchoolFields() []string { return slices.Clone(schoolFields) }

// Limit is the longest value the gateway keeps of one field of a wire
// record: the XSD's maxLength for it, in characters (as xs:maxLength counts
// them), measured on the value as kept (names trimmed, keys as sent).
type Limit struct {
	Field   string // the Go field of the wire record, as on its allow-list
	Element string // the UWLR element or attribute, as a Warning names it
	Max     int
}

// The field limits, one list per record kind beside its allow-list
// (fields.go): every text field an allow-list lets through has a limit
// here, unless its value is checked against a format (dates, gender,
// jaargroep, BRIN). A record with a value over its limit is refused: a
// Fatal warning, and nothing of it is returned, so nothing over a limit
// reaches the store. Keys and ECK iDs are EDEXKeyType (1..256: the ECK iD
// has no other length in UWLR); group references are keys too.
var fieldLimits = map[string][]Limit{
	"leerling": {{"Key", "@key", 256}, {"Eckid", "@eckid", 256}, {"Achternaam", "achternaam", 200},
		{"Voorvoegsel", "voorvoegsel", 10}, {"Voornamen", "voornamen", 200}, {"Voorletters", "voorletters-1", 6},
		{"Roepnaam", "roepnaam", 64}, {"Groep", "groep", 256}, {"SamengesteldeGroepen", "samengestelde_groep", 256}},
	"leerkracht": {{"Key", "@key", 256}, {"Eckid", "@eckid", 256}, {"Achternaam", "achternaam", 200},
		{"Voorvoegsel", "voorvoegsel", 10}, {"Roepnaam", "roepnaam", 64}, {"Emailadres", "emailadres", 256},
		{"Rol", "rol", 64}, {"Rolomschrijving", "rolomschrijving", 64}, {"Groepen", "groep", 256},
		{"Groepen", "samengestelde_groep", 256}},
	"groep":               {{"Key", "@key", 256}, {"Naam", "naam", 64}},
	"samengestelde_groep": {{"Key", "@key", 256}, {"Naam", "naam", 64}},
	"vestiging":           {{"Key", "@key", 256}, {"Naam", "naam", 64}},
	"school":              {{"Schooljaar", "schooljaar", 9}, {"Schoolkey", "schoolkey", 256}, {"Xsdversie", "xsdversie", 32}},
}

// FieldLimits returns the field limits by record kind ("leerling",
// "leerkracht", "groep", "samengestelde_groep", "vestiging", "school"), in
// new slices.
func FieldLimits() map[string][]Limit {
	out := maps.Clone(fieldLimits)
	for k, v := range out {
		out[k] = slices.Clone(v)
	}
	return out
}
