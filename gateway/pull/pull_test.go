package pull_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// fixture is one simulated school, a real bolt store and a real keyring.
type fixture struct {
	t      *testing.T
	sim    *lassim.Sim
	sch    *lassim.School
	store  gateway.Store
	dbPath string
	keys   *vault.Keyring
	school gateway.School
	syncer *pull.Syncer
	client *soap.Client
	now    time.Time
}

const schooljaar = "2026-2027"

func newFixture(t *testing.T, pupils int) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	prof := lassim.Profiles["standard"]
	endpoint := srv.URL + prof.Path
	world := lassim.NewWorld(lassim.Options{Seed: 3, Schools: 1, Pupils: pupils, Profile: prof, Schooljaar: schooljaar,
		Now: f.now.Add(-time.Hour), Endpoint: endpoint})
	f.sim = lassim.NewSim(world, prof, 3)
	h = f.sim.Handler(endpoint)
	f.sch = world.Schools[0]
	f.client = soap.NewClient(srv.Client(), f.sch.Creds.Connection())

	f.dbPath = filepath.Join(t.TempDir(), "gateway.db")
	st, err := boltstore.Open(f.dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	if f.keys, err = vault.Generate(rand.Reader, f.now); err != nil {
		t.Fatal(err)
	}
	c := f.sch.Creds
	id := gateway.SchoolIDFor(c.Brin, c.Dependancecode, "")
	sealed, err := f.keys.Sealer().Seal(vault.SchoolSecret(id, vault.FieldAutorisatiesleutel), []byte(c.Autorisatiesleutel))
	if err != nil {
		t.Fatal(err)
	}
	f.school = gateway.School{ID: id, Brin: c.Brin, Dependancecode: c.Dependancecode, Vendor: "standard", Endpoint: endpoint,
		Klantcode: c.Klantcode, Klantnaam: c.Klantnaam, Xsdversie: c.Xsdversie, SealedKey: sealed}
	if err := st.PutSchool(context.Background(), f.school); err != nil {
		t.Fatal(err)
	}
	f.syncer = &pull.Syncer{Store: st, Sealer: f.keys.Sealer(), Consent: consent.New(st, func() time.Time { return f.now }),
		Thresholds: pull.DefaultThresholds, Now: func() time.Time { return f.now }, BatchSize: 64}
	return f
}

func (f *fixture) grant() {
	f.t.Helper()
	if _, _, err := consent.New(f.store, nil).Set(context.Background(), f.school.ID, gateway.ProcessingLASExchange, true, "test admin"); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) sync(o pull.Options) pull.Result {
	f.t.Helper()
	f.now = f.now.Add(time.Minute)
	o.Schooljaar = schooljaar
	s, err := f.store.School(context.Background(), f.school.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.syncer.Sync(context.Background(), s, f.client, o)
	if err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	return res
}

func (f *fixture) pupils() []gateway.Pupil {
	f.t.Helper()
	var ps []gateway.Pupil
	if err := f.store.Pupils(context.Background(), f.school.ID, func(p gateway.Pupil) error { ps = append(ps, p); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return ps
}

func TestSyncRefusedWithoutConsent(t *testing.T) {
	f := newFixture(t, 30)
	res, err := f.syncer.Sync(context.Background(), f.school, f.client, pull.Options{Schooljaar: schooljaar})
	if !errors.Is(err, gateway.ErrConsentRequired) || res.Run.Status != gateway.SyncRefused {
		t.Fatalf("Sync = %v, %v; want refused with ErrConsentRequired", res.Run.Status, err)
	}
	if n := f.sim.Calls(uwlr.OpHaalLeerlinggegevens.Name); n != 0 {
		t.Errorf("the LAS was called %d times without consent", n)
	}
	runs, _ := f.store.SyncRuns(context.Background(), f.school.ID, 5)
	if len(runs) != 1 || runs[0].Status != gateway.SyncRefused {
		t.Errorf("recorded runs = %+v, want one refused run", runs)
	}
}

func TestSyncAppliesThenUnchanged(t *testing.T) {
	f := newFixture(t, 300)
	f.grant()
	res := f.sync(pull.Options{})
	want := len(f.sch.Pupils())
	if r := res.Run; r.Status != gateway.SyncApplied || r.Pupils != want || r.Added != want || r.Changed != 0 || r.Left != 0 {
		t.Fatalf("first sync = %+v, want applied with %d added", r, want)
	}
	ps := f.pupils()
	if len(ps) != want {
		t.Fatalf("store holds %d pupils, want %d", len(ps), want)
	}
	eckByKey := map[string]string{}
	for _, l := range f.sch.Pupils() {
		eckByKey[l.Key] = l.Eckid
	}
	for _, p := range ps {
		if len(p.SealedEckID) == 0 || len(p.EckIndex) == 0 {
			t.Fatalf("pupil %s has no sealed ECK iD", p.ID)
		}
		// Only the results path may open it: here a test does, to prove the seal.
		got, err := f.keys.Opener().Open(vault.PupilEckID(f.school.ID, p.ID), p.SealedEckID)
		if err != nil || string(got) != eckByKey[p.LASKey] {
			t.Fatalf("pupil %s: opened ECK iD does not match the LAS's (err %v)", p.ID, err)
		}
	}
	res = f.sync(pull.Options{})
	if res.Run.Status != gateway.SyncUnchanged {
		t.Errorf("second sync = %s, want unchanged", res.Run.Status)
	}
	// An unchanged ECK iD is not sealed again (no nonce burnt per night).
	seals := f.keys.Seals(f.keys.ActiveTerm())
	f.sync(pull.Options{})
	if n := f.keys.Seals(f.keys.ActiveTerm()); n != seals {
		t.Errorf("an unchanged sync sealed %d values, want 0", n-seals)
	}
	again := f.pupils()
	for i := range ps {
		if !bytes.Equal(ps[i].SealedEckID, again[i].SealedEckID) {
			t.Fatalf("pupil %s was re-sealed on an unchanged sync", ps[i].ID)
		}
	}
}

func TestSyncHeldThenApproved(t *testing.T) {
	f := newFixture(t, 200)
	f.grant()
	f.sync(pull.Options{})
	before := f.pupils()
	// 30% of the pupils vanish from the LAS: more than the 10% limit.
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[:len(ls)*7/10] })
	res := f.sync(pull.Options{})
	if res.Run.Status != gateway.SyncHeld || len(res.Reasons) == 0 || res.Run.Left != len(before)-len(before)*7/10 {
		t.Fatalf("sync = %+v %v, want held with %d left", res.Run, res.Reasons, len(before)-len(before)*7/10)
	}
	// Readers still see the old snapshot, nobody left.
	for _, p := range f.pupils() {
		if p.LeftOn != "" {
			t.Fatalf("pupil %s marked left before approval", p.ID)
		}
	}
	d, err := pull.HeldDiff(context.Background(), f.store, f.school.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Left != res.Run.Left || d.Added != 0 {
		t.Errorf("diff = +%d ~%d -%d, want -%d", d.Added, d.Changed, d.Left, res.Run.Left)
	}
	run, err := f.syncer.Approve(context.Background(), f.school, "test admin")
	if err != nil || run.Left != res.Run.Left || run.Pupils != res.Run.Pupils || run.Pupils == 0 || run.Teachers != res.Run.Teachers {
		t.Fatalf("Approve = %+v, %v; want the held run's counts (%d pupils)", run, err, res.Run.Pupils)
	}
	left := 0
	for _, p := range f.pupils() {
		if p.LeftOn != "" {
			left++
		}
	}
	if left != res.Run.Left || len(f.pupils()) != len(before) {
		t.Errorf("after approval %d of %d pupils are left, want %d of %d (kept, not deleted)", left, len(f.pupils()), res.Run.Left, len(before))
	}
	if _, err := pull.HeldDiff(context.Background(), f.store, f.school.ID); !errors.Is(err, pull.ErrNothingHeld) {
		t.Errorf("held diff after approval: %v, want ErrNothingHeld", err)
	}
}

func TestSyncMergesPupilWhoGainsEckID(t *testing.T) {
	f := newFixture(t, 50)
	f.grant()
	var key, eck string
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling {
		key, eck = ls[5].Key, ls[5].Eckid
		ls[5].Eckid = "" // known by LAS key only at first
		return ls
	})
	f.sync(pull.Options{})
	var id gateway.PupilID
	for _, p := range f.pupils() {
		if p.LASKey == key {
			id = p.ID
			if len(p.SealedEckID) != 0 {
				t.Fatal("pupil without ECK iD got a sealed value")
			}
		}
	}
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling {
		for i := range ls {
			if ls[i].Key == key {
				ls[i].Eckid = eck
			}
		}
		return ls
	})
	res := f.sync(pull.Options{})
	if res.Run.Added != 0 || res.Run.Changed != 1 || res.Run.Left != 0 {
		t.Fatalf("sync = %+v, want exactly one changed pupil (merged, not duplicated)", res.Run)
	}
	// Then the LAS changes the pupil's key (2.3: the ECK iD is the identity).
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling {
		for i := range ls {
			if ls[i].Key == key {
				ls[i].Key = "NEW-" + key
			}
		}
		return ls
	})
	res = f.sync(pull.Options{})
	ps := f.pupils()
	if res.Run.Added != 0 || len(ps) != 50 {
		t.Fatalf("key change: %+v, %d pupils; want no new pupil", res.Run, len(ps))
	}
	for _, p := range ps {
		if p.ID == id && p.LASKey != "NEW-"+key {
			t.Errorf("pupil %s kept key %q", p.ID, p.LASKey)
		}
	}
}

func TestSyncLASFailureMidStreamKeepsOldSnapshot(t *testing.T) {
	f := newFixture(t, 400)
	f.grant()
	f.sync(pull.Options{})
	before := f.pupils()
	// A LAS that sends the first part of a valid answer and then breaks.
	answer, err := lassim.RecordAnswer(context.Background(), lassim.Options{Seed: 9, Pupils: 400, Schooljaar: schooljaar, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write(answer[:len(answer)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer broken.Close()
	conn := f.sch.Creds.Connection()
	conn.Endpoint = broken.URL
	res, err := f.syncer.Sync(context.Background(), f.school, soap.NewClient(nil, conn), pull.Options{Schooljaar: schooljaar})
	var se *soap.Error
	if err == nil || res.Run.Status != gateway.SyncFailed || !errors.As(err, &se) || se.Class != soap.ClassTemporary {
		t.Fatalf("Sync = %s, %v; want failed with a temporary error", res.Run.Status, err)
	}
	after := f.pupils()
	if len(after) != len(before) {
		t.Fatalf("snapshot has %d pupils after a broken sync, want the old %d", len(after), len(before))
	}
	for i := range before {
		if before[i].ID != after[i].ID || before[i].LastName != after[i].LastName {
			t.Fatalf("snapshot changed by a broken sync at pupil %d", i)
		}
	}
	runs, _ := f.store.SyncRuns(context.Background(), f.school.ID, 1)
	if len(runs) != 1 || runs[0].Status != gateway.SyncFailed || runs[0].ErrorClass != "temporary" {
		t.Errorf("last run = %+v, want failed/temporary", runs)
	}
}

func TestStoreFileHoldsNoECKID(t *testing.T) {
	f := newFixture(t, 250)
	f.grant()
	f.sync(pull.Options{})
	f.store.Close()
	raw, err := os.ReadFile(f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range f.sch.Pupils() {
		if l.Eckid == "" {
			continue
		}
		n++
		if bytes.Contains(raw, []byte(l.Eckid)) || bytes.Contains(raw, []byte(l.Eckid[len(l.Eckid)-128:])) {
			t.Fatalf("the bolt file holds a plain ECK iD (pupil %s)", l.Key)
		}
	}
	if bytes.Contains(raw, []byte(f.sch.Creds.Autorisatiesleutel)) {
		t.Fatal("the bolt file holds the plain autorisatiesleutel")
	}
	if n < 200 {
		t.Fatalf("checked only %d ECK iDs", n)
	}
}

// A pupil who left 2 years ago or more is not carried into a new snapshot;
// one who left less long ago is.
func TestSyncDropsLeaversPastRetention(t *testing.T) {
	f := newFixture(t, 100)
	f.grant()
	f.sync(pull.Options{})
	gone := f.sch.Pupils()[:3]
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[3:] })
	res := f.sync(pull.Options{})
	if res.Run.Left != 3 {
		t.Fatalf("left = %d, want 3", res.Run.Left)
	}
	// Two years minus a day later another pupil leaves: the three stay.
	f.now = f.now.AddDate(2, 0, -1)
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[1:] })
	res = f.sync(pull.Options{})
	if n := len(f.pupils()); n != 100 {
		t.Fatalf("%d pupils kept, want all 100 (nobody past retention yet)", n)
	}
	// A day later the first three are past retention and drop out of the
	// next snapshot (written when something changes: one more leaves).
	f.now = f.now.AddDate(0, 0, 1)
	f.sch.EditPupils(f.now, func(ls []uwlr.Leerling) []uwlr.Leerling { return ls[1:] })
	res = f.sync(pull.Options{})
	ps := f.pupils()
	if len(ps) != 97 {
		t.Fatalf("%d pupils kept, want 97", len(ps))
	}
	for _, p := range ps {
		for _, g := range gone {
			if p.LASKey == g.Key {
				t.Fatalf("pupil %s left over two years ago and is still kept", p.LASKey)
			}
		}
	}
	if !slices.ContainsFunc(res.Run.Warnings, func(w string) bool { return strings.Contains(w, "3 pupils who left") }) {
		t.Errorf("warnings %v do not report the 3 pupils dropped for retention", res.Run.Warnings)
	}
}
