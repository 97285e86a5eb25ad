package pull_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
)

// set gives field f of the struct v a value it does not have yet.
func set(t *testing.T, v reflect.Value, f reflect.StructField) {
	t.Helper()
	fv := v.FieldByIndex(f.Index)
	switch {
	case fv.Kind() == reflect.String:
		fv.SetString(fv.String() + "x")
	case f.Type == reflect.TypeFor[[]string]():
		fv.Set(reflect.ValueOf(append(fv.Interface().([]string), "x")))
	case f.Type == reflect.TypeFor[[]byte]():
		fv.SetBytes(append(fv.Bytes(), 1))
	case f.Type == reflect.TypeFor[time.Time]():
		fv.Set(reflect.ValueOf(fv.Interface().(time.Time).Add(time.Hour)))
	default:
		t.Fatalf("field %s of type %s: teach this test how to change it", f.Name, f.Type)
	}
}

// Every field of a pupil makes it changed, in the hash the sync matches
// with and in the held diff alike, except the ones that are no change of
// the pupil (ids, sealed bytes, times, LeftOn which is a kind of its own).
// A new field of gateway.Pupil fails here until it is put in the table or
// in this list.
func TestPupilFieldTable(t *testing.T) {
	notChanges := map[string]bool{"ID": true, "School": true, "SealedEckID": true, "LeftOn": true, "UpdatedAt": true}
	base := gateway.Pupil{ID: "p1", School: "12AB00", LASKey: "L1", LastName: "A", CompositeGroupKeys: []string{"S1"}, EckIndex: []byte{9}}
	seen := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[gateway.Pupil]()) {
		b := base
		b.CompositeGroupKeys = append([]string(nil), base.CompositeGroupKeys...)
		set(t, reflect.ValueOf(&b).Elem(), f)
		names := pull.ChangedPupilFields(&base, &b)
		hashed := pull.HashPupil(&base) != pull.HashPupil(&b)
		if notChanges[f.Name] {
			if len(names) != 0 || hashed {
				t.Errorf("Pupil.%s counts as a change (diff %q, hash %v)", f.Name, names, hashed)
			}
			continue
		}
		if len(names) != 1 || !hashed {
			t.Errorf("Pupil.%s: diff fields %q, hash changed %v; want one field and a new hash", f.Name, names, hashed)
			continue
		}
		if seen[names[0]] {
			t.Errorf("Pupil.%s reported as %q, like another field", f.Name, names[0])
		}
		seen[names[0]] = true
	}
}

// Every field of a teacher but its school and sealed ECK iD makes it changed.
func TestTeacherFieldTable(t *testing.T) {
	notChanges := map[string]bool{"School": true, "SealedEckID": true}
	base := gateway.Teacher{School: "12AB00", Key: "T1", Roles: []string{"LRK"}, GroupKeys: []string{"G1"}}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[gateway.Teacher]()) {
		b := base
		b.Roles, b.GroupKeys = append([]string(nil), base.Roles...), append([]string(nil), base.GroupKeys...)
		set(t, reflect.ValueOf(&b).Elem(), f)
		names := pull.ChangedTeacherFields(&base, &b)
		if notChanges[f.Name] != (len(names) == 0) || len(names) > 1 {
			t.Errorf("Teacher.%s: changed fields %q", f.Name, names)
		}
	}
}
