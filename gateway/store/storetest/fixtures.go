package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Fixed instants; one carries nanoseconds to pin down precision.
var (
	t0 = time.Date(2025, 8, 1, 7, 30, 0, 0, time.UTC)
	t1 = time.Date(2025, 9, 2, 8, 15, 42, 123456789, time.FixedZone("CEST", 2*3600))
)

func school(id gateway.SchoolID) gateway.School {
	return gateway.School{
		ID:                  id,
		Brin:                string(id[:4]),
		Dependancecode:      string(id[4:]),
		Vendor:              "magister",
		Endpoint:            "https://las.example/" + string(id),
		Klantcode:           "kc-" + string(id),
		Klantnaam:           "Klant " + string(id),
		Xsdversie:           "2.2",
		Gegevenssetid:       "set1",
		SealedKey:           []byte{0, 1, 2, 0xff, byte(len(id))},
		ClientCertFile:      "/etc/certs/" + string(id) + ".pem",
		ClientKeyFile:       "/etc/certs/" + string(id) + ".key",
		SealedKeyPassphrase: []byte("sealed\x00pass"),
		SealedSecrets:       map[string][]byte{"subscription_key": {9, 0, 8, 0xfe}},
		CreatedAt:           t0,
		LastPulledAt:        t1,
		// UTC: normalize does not look behind pointers.
		Contact: &gateway.SchoolContact{Name: "Contact " + string(id), Email: "beheer@" + string(id) + ".example",
			Phone: "+31 20 123 4567", UpdatedAt: t1.UTC(), UpdatedBy: "Anna Admin (token tok-a)"},
	}
}

// mustSchool stores a school and fails the test on error.
func mustSchool(t *testing.T, s gateway.Store, id gateway.SchoolID) gateway.School {
	t.Helper()
	sc := school(id)
	if err := s.PutSchool(ctxFor(t), sc); err != nil {
		t.Fatalf("PutSchool(%s): %v", id, err)
	}
	return sc
}

// pupils returns n pupils of a school, in a shuffled (non-sorted) order, every
// field set; LastName carries marker so snapshots can be told apart. The ids
// depend on seed only, so two calls with the same seed give the same pupils
// (apart from the marker).
func pupils(id gateway.SchoolID, marker string, n int, seed uint64) []gateway.Pupil {
	r := rand.New(rand.NewPCG(seed, 7))
	seen := make(map[gateway.PupilID]bool, n)
	ps := make([]gateway.Pupil, 0, n)
	for i := 0; len(ps) < n; i++ {
		pid := gateway.PupilID(fmt.Sprintf("%016x", r.Uint64()))
		if seen[pid] {
			continue
		}
		seen[pid] = true
		p := gateway.Pupil{
			ID:          pid,
			School:      id,
			LASKey:      fmt.Sprintf("las-%d", i),
			EckIndex:    []byte{byte(i), byte(i >> 8), 0, 0xfe},
			SealedEckID: []byte(fmt.Sprintf("sealed\x00%d", i)),
			LastName:    fmt.Sprintf("%s-Achternaam%d", marker, i),
			Prefix:      "van der",
			FirstName:   "Roep",
			GivenNames:  "Voor Namen",
			Initials:    "V.N.",
			Gender:      []string{"0", "1", "2", "9"}[i%4],
			BirthDate:   "2015-03-04",
			YearGroup:   fmt.Sprint(1 + i%8),
			GroupKey:    fmt.Sprintf("g%d", i%8),
			LeftOn:      "",
			UpdatedAt:   t1.Add(time.Duration(i) * time.Second),
		}
		switch i % 5 {
		case 0: // 2.3 pupil known by ECK iD only
			p.LASKey = ""
		case 1: // no ECK iD sent
			p.EckIndex, p.SealedEckID = nil, nil
		case 2:
			p.CompositeGroupKeys = []string{"c1", "c2"}
		case 3:
			p.LeftOn = "2025-07-31"
			p.CompositeGroupKeys = []string{}
		}
		ps = append(ps, p)
	}
	return ps
}

func teachers(id gateway.SchoolID, n int) []gateway.Teacher {
	ts := make([]gateway.Teacher, n)
	for i := range ts {
		ts[i] = gateway.Teacher{
			School:             id,
			Key:                fmt.Sprintf("t%03d", (i*37)%n), // unsorted
			LastName:           "Docent",
			Prefix:             "de",
			FirstName:          "Jan",
			Email:              fmt.Sprintf("t%d@school.example", i),
			Roles:              []string{"leerkracht"},
			GroupKeys:          []string{"g1"},
			CompositeGroupKeys: []string{"c1", "c2"},
			EckIndex:           []byte{1, 2, byte(i)},
			SealedEckID:        []byte("sealed-t"),
		}
		if i%2 == 1 {
			ts[i].Roles, ts[i].GroupKeys, ts[i].CompositeGroupKeys = nil, nil, nil
			ts[i].EckIndex, ts[i].SealedEckID = nil, nil
		}
	}
	return ts
}

func groups(id gateway.SchoolID) ([]gateway.Group, []gateway.CompositeGroup) {
	gs := []gateway.Group{
		{School: id, Key: "g3", Name: "Groep 3", YearGroup: "3"},
		{School: id, Key: "g1", Name: "Groep 1", YearGroup: "1"},
		{School: id, Key: "g2", Name: "Groep 2", YearGroup: "2"},
	}
	cs := []gateway.CompositeGroup{
		{School: id, Key: "c2", Name: "Rekenen"},
		{School: id, Key: "c1", Name: "Taal"},
	}
	return gs, cs
}

// stage puts ps in batches of size batch, plus teachers and groups.
func stage(t *testing.T, st gateway.Stage, ps []gateway.Pupil, batch int, ts []gateway.Teacher, gs []gateway.Group, cs []gateway.CompositeGroup) {
	t.Helper()
	ctx := ctxFor(t)
	for i := 0; i < len(ps); i += batch {
		if err := st.PutPupils(ctx, ps[i:min(i+batch, len(ps))]); err != nil {
			t.Fatalf("PutPupils batch at %d: %v", i, err)
		}
	}
	if len(ts) > 0 {
		if err := st.PutTeachers(ctx, ts); err != nil {
			t.Fatalf("PutTeachers: %v", err)
		}
	}
	if len(gs) > 0 || len(cs) > 0 {
		if err := st.PutGroups(ctx, gs, cs); err != nil {
			t.Fatalf("PutGroups: %v", err)
		}
	}
}

// commitSnapshot stages and commits ps (in batches of 500), ts, gs and cs.
func commitSnapshot(t *testing.T, s gateway.Store, id gateway.SchoolID, runID string, ps []gateway.Pupil, ts []gateway.Teacher, gs []gateway.Group, cs []gateway.CompositeGroup) {
	t.Helper()
	st, err := s.Stage(ctxFor(t), id, runID)
	if err != nil {
		t.Fatalf("Stage(%s, %s): %v", id, runID, err)
	}
	stage(t, st, ps, 500, ts, gs, cs)
	if err := st.Commit(ctxFor(t)); err != nil {
		t.Fatalf("Commit(%s, %s): %v", id, runID, err)
	}
}

func readPupils(t *testing.T, s gateway.Store, id gateway.SchoolID) []gateway.Pupil {
	t.Helper()
	var got []gateway.Pupil
	if err := s.Pupils(ctxFor(t), id, func(p gateway.Pupil) error { got = append(got, p); return nil }); err != nil {
		t.Fatalf("Pupils(%s): %v", id, err)
	}
	return got
}

func readStaged(t *testing.T, st gateway.Stage) []gateway.Pupil {
	t.Helper()
	var got []gateway.Pupil
	if err := st.Pupils(ctxFor(t), func(p gateway.Pupil) error { got = append(got, p); return nil }); err != nil {
		t.Fatalf("Stage.Pupils: %v", err)
	}
	return got
}

func sortedPupils(ps []gateway.Pupil) []gateway.Pupil {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b gateway.Pupil) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return ps
}

func sortedTeachers(ts []gateway.Teacher) []gateway.Teacher {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b gateway.Teacher) int { return strings.Compare(a.Key, b.Key) })
	return ts
}

func sortedGroups(gs []gateway.Group, cs []gateway.CompositeGroup) ([]gateway.Group, []gateway.CompositeGroup) {
	gs, cs = slices.Clone(gs), slices.Clone(cs)
	slices.SortFunc(gs, func(a, b gateway.Group) int { return strings.Compare(a.Key, b.Key) })
	slices.SortFunc(cs, func(a, b gateway.CompositeGroup) int { return strings.Compare(a.Key, b.Key) })
	return gs, cs
}

// normalize maps a value to its canonical form for comparison: empty slices
// become nil (bytes.Equal semantics) and times lose location and monotonic
// reading (time.Time.Equal semantics). It walks structs, pointers, slices
// and maps.
func normalize(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(normalize(v.Elem()))
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(normalize(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), normalize(it.Value()))
		}
		return out
	case reflect.Struct:
		if tm, ok := v.Interface().(time.Time); ok {
			return reflect.ValueOf(tm.UTC())
		}
		out := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			out.Field(i).Set(normalize(v.Field(i)))
		}
		return out
	}
	return v
}

// equal reports whether got and want are the same after normalize.
func equal(got, want any) bool {
	return reflect.DeepEqual(normalize(reflect.ValueOf(got)).Interface(), normalize(reflect.ValueOf(want)).Interface())
}

// checkEqual fails the test when got and want differ, naming the first
// differing element of a slice.
func checkEqual[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Errorf("%s: got %d items, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !equal(got[i], want[i]) {
			t.Errorf("%s: item %d differs:\n got: %+v\nwant: %+v", what, i, got[i], want[i])
			return
		}
	}
}

func checkOne(t *testing.T, what string, got, want any) {
	t.Helper()
	if !equal(got, want) {
		t.Errorf("%s:\n got: %+v\nwant: %+v", what, got, want)
	}
}

func checkNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
}

func checkSnapshot(t *testing.T, s gateway.Store, id gateway.SchoolID, ps []gateway.Pupil, ts []gateway.Teacher, gs []gateway.Group, cs []gateway.CompositeGroup) {
	t.Helper()
	checkEqual(t, "Pupils of "+string(id), readPupils(t, s, id), sortedPupils(ps))
	gotT, err := s.Teachers(ctxFor(t), id)
	if err != nil {
		t.Fatalf("Teachers(%s): %v", id, err)
	}
	checkEqual(t, "Teachers of "+string(id), gotT, sortedTeachers(ts))
	gotG, gotC, err := s.Groups(ctxFor(t), id)
	if err != nil {
		t.Fatalf("Groups(%s): %v", id, err)
	}
	wantG, wantC := sortedGroups(gs, cs)
	checkEqual(t, "Groups of "+string(id), gotG, wantG)
	checkEqual(t, "CompositeGroups of "+string(id), gotC, wantC)
}
