package mapping

import "slices"

// The allow-lists of data minimisation, one per wire record of an answer:
// the fields of the wsdl/uwlr type, by Go field name, that cross into the
// gateway. Pupil, Teacher, Group and CompositeGroup copy exactly these
// fields and no other (fields_test.go holds each function to its list, field
// by field: changing an allowed field changes the result, changing any other
// field changes nothing), and a redacted capture of an answer keeps exactly
// these elements and attributes (package capture derives its set from these
// lists), so what the gateway keeps and what a capture shows cannot drift.
// Each function returns a new slice.
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
