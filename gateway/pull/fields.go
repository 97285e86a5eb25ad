package pull

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// field is one field a change of a record is judged by: its name (as a held
// diff shows it) and its value, as a string.
type field[T any] struct {
	name string
	get  func(*T) string
}

// pupilFields are the fields that make a pupil changed: not ids, times or
// sealed bytes (the ECK iD counts through its blind index), and not LeftOn
// (leaving and returning are kinds of change of their own). The hash that
// matches a pupil against the current snapshot and the held diff both read
// this one table.
var pupilFields = []field[gateway.Pupil]{
	{"las_key", func(p *gateway.Pupil) string { return p.LASKey }},
	{"last_name", func(p *gateway.Pupil) string { return p.LastName }},
	{"prefix", func(p *gateway.Pupil) string { return p.Prefix }},
	{"first_name", func(p *gateway.Pupil) string { return p.FirstName }},
	{"given_names", func(p *gateway.Pupil) string { return p.GivenNames }},
	{"initials", func(p *gateway.Pupil) string { return p.Initials }},
	{"gender", func(p *gateway.Pupil) string { return p.Gender }},
	{"birth_date", func(p *gateway.Pupil) string { return p.BirthDate }},
	{"year_group", func(p *gateway.Pupil) string { return p.YearGroup }},
	{"group", func(p *gateway.Pupil) string { return p.GroupKey }},
	{"composite_groups", func(p *gateway.Pupil) string { return joinKeys(p.CompositeGroupKeys) }},
	{"eckid", func(p *gateway.Pupil) string { return string(p.EckIndex) }},
}

// teacherFields are the fields that make a teacher changed: everything but
// the school and the sealed ECK iD (which counts through its blind index).
var teacherFields = []field[gateway.Teacher]{
	{"key", func(t *gateway.Teacher) string { return t.Key }},
	{"last_name", func(t *gateway.Teacher) string { return t.LastName }},
	{"prefix", func(t *gateway.Teacher) string { return t.Prefix }},
	{"first_name", func(t *gateway.Teacher) string { return t.FirstName }},
	{"email", func(t *gateway.Teacher) string { return t.Email }},
	{"roles", func(t *gateway.Teacher) string { return joinKeys(t.Roles) }},
	{"groups", func(t *gateway.Teacher) string { return joinKeys(t.GroupKeys) }},
	{"composite_groups", func(t *gateway.Teacher) string { return joinKeys(t.CompositeGroupKeys) }},
	{"eckid", func(t *gateway.Teacher) string { return string(t.EckIndex) }},
}

// joinKeys joins a list with a separator that no key or role text holds.
func joinKeys(ks []string) string { return strings.Join(ks, "\x1f") }

// changed returns the names of the fields in which a and b differ.
func changed[T any](fields []field[T], a, b *T) []string {
	var out []string
	for _, f := range fields {
		if f.get(a) != f.get(b) {
			out = append(out, f.name)
		}
	}
	return out
}

// hashPupil hashes the fields of pupilFields, so the sync keeps 32 bytes per
// current pupil to tell whether it changed, instead of its names.
func hashPupil(p *gateway.Pupil) [32]byte {
	h := sha256.New()
	for _, f := range pupilFields {
		v := f.get(p)
		fmt.Fprintf(h, "%d:%s;", len(v), v)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// sameTeachers reports whether two teacher lists, both ordered by key, hold
// the same teachers.
func sameTeachers(a, b []gateway.Teacher) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(changed(teacherFields, &a[i], &b[i])) > 0 {
			return false
		}
	}
	return true
}
