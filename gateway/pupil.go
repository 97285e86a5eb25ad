package gateway

import (
	"log/slog"
	"time"
)

// PupilID is our own id of a pupil, stable across LAS key changes.
type PupilID string

// Pupil is the minimal copy of a pupil that the processing agreement allows:
// name parts, initials, gender, birth date, LAS key, year group, group
// memberships and the ECK iD (sealed, plus a blind index to find it).
type Pupil struct {
	ID       PupilID
	School   SchoolID
	LASKey   string // leerling/@key; empty for 2.3 pupils known by ECK iD only
	EckIndex []byte // HMAC blind index of the ECK iD; nil when the LAS sent none
	// SealedEckID is the ECK iD sealed by the vault, bound to school and pupil.
	SealedEckID []byte

	LastName   string // achternaam
	Prefix     string // voorvoegsel
	FirstName  string // roepnaam
	GivenNames string // voornamen
	Initials   string // voorletters
	Gender     string // NEN-ISO 5218: 0, 1, 2, 9
	BirthDate  string // YYYY-MM-DD
	YearGroup  string // jaargroep
	GroupKey   string // home group (stamgroep)
	// CompositeGroupKeys are the composite groups the pupil is in.
	CompositeGroupKeys []string

	// LeftOn is the date the pupil was last seen missing from the LAS
	// (YYYY-MM-DD); empty while the pupil is current.
	LeftOn    string
	UpdatedAt time.Time
}

// LogValue logs the pupil by internal ids only, never name, birth date or ECK iD.
func (p Pupil) LogValue() slog.Value {
	return slog.GroupValue(slog.String("school", string(p.School)), slog.String("pupil", string(p.ID)))
}

// Group is a home group (stamgroep).
type Group struct {
	School    SchoolID
	Key       string
	Name      string
	YearGroup string
}

// CompositeGroup is a composite group (lesson group, sub-group).
type CompositeGroup struct {
	School SchoolID
	Key    string
	Name   string
}

// Teacher is the minimal copy of a teacher: name, e-mail, roles, group links.
type Teacher struct {
	School             SchoolID
	Key                string
	LastName           string
	Prefix             string
	FirstName          string
	Email              string
	Roles              []string
	GroupKeys          []string
	CompositeGroupKeys []string
	EckIndex           []byte
	SealedEckID        []byte
}

// LogValue logs the teacher by key only.
func (t Teacher) LogValue() slog.Value {
	return slog.GroupValue(slog.String("school", string(t.School)), slog.String("teacher", t.Key))
}
