package mapping_test

import (
	"reflect"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
)

func TestRefs(t *testing.T) {
	var r mapping.Refs
	if ws := r.CheckPupil(&gateway.Pupil{LASKey: "L0"}); ws != nil {
		t.Errorf("zero Refs, pupil without groups: %v", ws)
	}
	r.AddGroup("G1")
	r.AddGroup("G2")
	r.AddComposite("S1")
	r.AddComposite("S2")

	pupils := []struct {
		name     string
		in, want gateway.Pupil
		warnings []string
	}{
		{"all known",
			gateway.Pupil{LASKey: "L1", GroupKey: "G1", CompositeGroupKeys: []string{"S1", "S2"}},
			gateway.Pupil{LASKey: "L1", GroupKey: "G1", CompositeGroupKeys: []string{"S1", "S2"}}, nil},
		{"no groups",
			gateway.Pupil{LASKey: "L2"}, gateway.Pupil{LASKey: "L2"}, nil},
		{"dangling home group",
			gateway.Pupil{LASKey: "L3", GroupKey: "G9", CompositeGroupKeys: []string{"S1"}},
			gateway.Pupil{LASKey: "L3", CompositeGroupKeys: []string{"S1"}},
			[]string{`leerling L3: groep: "G9" is not defined in this message; dropped`}},
		{"home group is a composite",
			gateway.Pupil{LASKey: "L4", GroupKey: "S1"},
			gateway.Pupil{LASKey: "L4"},
			[]string{`leerling L4: groep: "S1" refers to a group of the other kind; dropped`}},
		{"dangling composites",
			gateway.Pupil{CompositeGroupKeys: []string{"G1", "S1", "S9"}},
			gateway.Pupil{CompositeGroupKeys: []string{"S1"}},
			[]string{
				`leerling (no key): samengestelde_groep: "G1" refers to a group of the other kind; dropped`,
				`leerling (no key): samengestelde_groep: "S9" is not defined in this message; dropped`,
			}},
		{"all composites dangling",
			gateway.Pupil{LASKey: "L6", CompositeGroupKeys: []string{"S8", "S9"}},
			gateway.Pupil{LASKey: "L6"},
			[]string{
				`leerling L6: samengestelde_groep: "S8" is not defined in this message; dropped`,
				`leerling L6: samengestelde_groep: "S9" is not defined in this message; dropped`,
			}},
	}
	for _, tt := range pupils {
		t.Run("pupil "+tt.name, func(t *testing.T) {
			orig := append([]string(nil), tt.in.CompositeGroupKeys...)
			p := tt.in
			ws := r.CheckPupil(&p)
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("pupil = %+v, want %+v", p, tt.want)
			}
			if w := warningStrings(ws); !reflect.DeepEqual(w, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", w, tt.warnings)
			}
			if !reflect.DeepEqual(tt.in.CompositeGroupKeys, orig) {
				t.Error("CheckPupil changed the caller's slice in place")
			}
		})
	}

	teachers := []struct {
		name     string
		in, want gateway.Teacher
		warnings []string
	}{
		{"all known",
			gateway.Teacher{Key: "T1", GroupKeys: []string{"G1", "G2"}, CompositeGroupKeys: []string{"S2"}},
			gateway.Teacher{Key: "T1", GroupKeys: []string{"G1", "G2"}, CompositeGroupKeys: []string{"S2"}}, nil},
		{"dangling both kinds",
			gateway.Teacher{Key: "T2", GroupKeys: []string{"G1", "G3", "S1"}, CompositeGroupKeys: []string{"G2", "S2"}},
			gateway.Teacher{Key: "T2", GroupKeys: []string{"G1"}, CompositeGroupKeys: []string{"S2"}},
			[]string{
				`leerkracht T2: groep: "G3" is not defined in this message; dropped`,
				`leerkracht T2: groep: "S1" refers to a group of the other kind; dropped`,
				`leerkracht T2: samengestelde_groep: "G2" refers to a group of the other kind; dropped`,
			}},
	}
	for _, tt := range teachers {
		t.Run("teacher "+tt.name, func(t *testing.T) {
			te := tt.in
			ws := r.CheckTeacher(&te)
			if !reflect.DeepEqual(te, tt.want) {
				t.Errorf("teacher = %+v, want %+v", te, tt.want)
			}
			if w := warningStrings(ws); !reflect.DeepEqual(w, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", w, tt.warnings)
			}
		})
	}
}
