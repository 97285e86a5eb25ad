package pull_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
)

// replay makes the simulated LAS answer with the recorded files in dir.
func (f *fixture) replay(dir string) {
	f.t.Helper()
	r, err := lassim.NewReplay(dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.sim.Replay = r
}

func (f *fixture) pupilsByKey() map[string]gateway.Pupil {
	f.t.Helper()
	m := map[string]gateway.Pupil{}
	for _, p := range f.pupils() {
		m[p.LASKey] = p
	}
	return m
}

// An answer with a nameless pupil, a groep without naam and a dangling group
// reference: the run records exactly those three warnings, once each and in
// one format, and the dangling link is not stored.
func TestSyncRecordsEachProblemOnce(t *testing.T) {
	f := newFixture(t, 5)
	f.grant()
	f.replay("testdata/problems")
	want := []string{
		"groep G2: naam: missing",
		"leerling L2: has neither achternaam nor roepnaam",
		`leerling L3: groep: "G9" is not defined in this message; dropped`,
	}
	res := f.sync(pull.Options{})
	if res.Run.Status != gateway.SyncApplied || res.Run.Pupils != 3 || res.Run.Teachers != 1 || res.Run.Groups != 3 {
		t.Fatalf("sync = %+v, want applied with 3 pupils, 1 teacher, 3 groups", res.Run)
	}
	runs, err := f.store.SyncRuns(context.Background(), f.school.ID, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("SyncRuns = %v, %v", runs, err)
	}
	if !slices.Equal(runs[0].Warnings, want) {
		t.Errorf("recorded warnings:\n got %q\nwant %q", runs[0].Warnings, want)
	}
	ps := f.pupilsByKey()
	if p := ps["L3"]; p.ID == "" || p.GroupKey != "" || !slices.Equal(p.CompositeGroupKeys, []string{"S1"}) {
		t.Errorf("L3 = group %q, composites %q; want the dangling G9 dropped and S1 kept", p.GroupKey, p.CompositeGroupKeys)
	}
	if ps["L1"].GroupKey != "G1" || ps["L2"].GroupKey != "G2" {
		t.Errorf("L1 group %q, L2 group %q; want G1 and G2", ps["L1"].GroupKey, ps["L2"].GroupKey)
	}
	ts, err := f.store.Teachers(context.Background(), f.school.ID)
	if err != nil || len(ts) != 1 || !slices.Equal(ts[0].GroupKeys, []string{"G1", "G2"}) {
		t.Errorf("teachers = %+v, %v", ts, err)
	}

	// The same answer again: the dropped link is no change, and the
	// warnings are found again, once each.
	res = f.sync(pull.Options{})
	if res.Run.Status != gateway.SyncUnchanged || res.Run.Changed != 0 || !slices.Equal(res.Run.Warnings, want) {
		t.Errorf("second sync = %s, %d changed, warnings %q; want unchanged with the same three", res.Run.Status, res.Run.Changed, res.Run.Warnings)
	}
}

// Vendors send the lists in any order: a pupil whose groep (and
// samengestelde_groep) comes after the leerlingen list keeps its links.
func TestSyncKeepsLinksToGroupsSentAfterThePupils(t *testing.T) {
	f := newFixture(t, 5)
	f.grant()
	f.replay("testdata/groups-last")
	res := f.sync(pull.Options{})
	if res.Run.Status != gateway.SyncApplied || len(res.Run.Warnings) != 0 {
		t.Fatalf("sync = %s, warnings %q; want applied without warnings", res.Run.Status, res.Run.Warnings)
	}
	ps := f.pupilsByKey()
	if p := ps["L1"]; p.GroupKey != "G1" || !slices.Equal(p.CompositeGroupKeys, []string{"S1"}) {
		t.Errorf("L1 = group %q, composites %q; want G1 and S1", p.GroupKey, p.CompositeGroupKeys)
	}
	if p := ps["L2"]; p.GroupKey != "G2" {
		t.Errorf("L2 = group %q, want G2", p.GroupKey)
	}
	ts, err := f.store.Teachers(context.Background(), f.school.ID)
	if err != nil || len(ts) != 1 || !slices.Equal(ts[0].GroupKeys, []string{"G1"}) || !slices.Equal(ts[0].CompositeGroupKeys, []string{"S1"}) {
		t.Errorf("teachers = %+v, %v", ts, err)
	}

	// Then the LAS stops sending G1 but L1 still refers to it: the link,
	// kept while it was waiting for the group, is dropped at the end, and
	// that change of L1 is counted.
	before := ps["L1"]
	raw, err := os.ReadFile("testdata/groups-last/HaalLeerlinggegevens.xml")
	if err != nil {
		t.Fatal(err)
	}
	g1 := `<lg:groep key="G1"><lg:naam>1A</lg:naam><lg:jaargroep>1</lg:jaargroep></lg:groep>`
	if !bytes.Contains(raw, []byte(g1)) {
		t.Fatal("fixture changed: no G1 element")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "HaalLeerlinggegevens.xml"), bytes.Replace(raw, []byte(g1), nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	f.replay(dir)
	res = f.sync(pull.Options{})
	want := []string{`leerling L1: groep: "G1" is not defined in this message; dropped`,
		`leerkracht T1: groep: "G1" is not defined in this message; dropped`}
	if res.Run.Status != gateway.SyncApplied || res.Run.Changed != 1 || !slices.Equal(res.Run.Warnings, want) {
		t.Fatalf("sync without G1 = %s, %d changed, warnings %q; want applied, 1 changed, %q", res.Run.Status, res.Run.Changed, res.Run.Warnings, want)
	}
	after := f.pupilsByKey()["L1"]
	if after.ID != before.ID || after.GroupKey != "" || !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("L1 after G1 went: id %s (was %s), group %q, updated %v (was %v)", after.ID, before.ID, after.GroupKey, after.UpdatedAt, before.UpdatedAt)
	}
}
