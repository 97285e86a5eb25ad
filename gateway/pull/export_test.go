package pull

import "github.com/uwlr-gateway/uwlr-gateway/gateway"

// Bridges for the field-table test.
var (
	HashPupil            = hashPupil
	ChangedPupilFields   = func(a, b *gateway.Pupil) []string { return changed(pupilFields, a, b) }
	ChangedTeacherFields = func(a, b *gateway.Teacher) []string { return changed(teacherFields, a, b) }
)
