package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
)

// The caller's scope holds inID only; outID exists in the store too.
const inID, outID gateway.SchoolID = "12AB00", "34CD00"

var at = time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)

// scopeEnv is a real bbolt store (raw, to prepare and check) and the
// ScopedStore around it (sc, under test).
type scopeEnv struct {
	t     *testing.T
	raw   gateway.Store
	sc    gateway.Store
	clock time.Time // for locks: every call moves it an hour on
	n     int       // for unique ids
}

func newScopeEnv(t *testing.T) *scopeEnv {
	t.Helper()
	raw, err := boltstore.Open(filepath.Join(t.TempDir(), "store.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { raw.Close() })
	e := &scopeEnv{t: t, raw: raw, sc: gateway.ScopedStore(raw), clock: at}
	e.seed(inID)
	e.seed(outID)
	bg := context.Background()
	e.must(raw.PutToken(bg, gateway.Token{ID: "tok1", Hash: "hash1", Role: gateway.RoleOperator, CreatedAt: at}))
	_, err = raw.PutGatewaySecret(bg, "evidence-key", []byte("sealed"), false)
	e.must(err)
	e.must(raw.AddLogin(bg, gateway.Login{ID: "login-gw", Account: "tok1", At: at, OK: true}))
	e.appendAudit(bg, raw, gateway.AuditChainGateway, "")
	return e
}

func (e *scopeEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *scopeEnv) id(prefix string, school gateway.SchoolID) string {
	e.n++
	return fmt.Sprintf("%s-%s-%d", prefix, school, e.n)
}

func (e *scopeEnv) now() time.Time {
	e.clock = e.clock.Add(time.Hour)
	return e.clock
}

func (e *scopeEnv) results(school gateway.SchoolID) []gateway.Result {
	return []gateway.Result{{Key: e.id("r", school), School: school, Pupil: "p1", Test: "T1", Date: "2026-03-01",
		Score: "7", Digest: "d1", SubmittedAt: at}}
}

func queued(id string) gateway.Batch {
	return gateway.Batch{ID: id, State: gateway.BatchQueued, CreatedAt: at, NextAttemptAt: at}
}

func (e *scopeEnv) appendAudit(ctx context.Context, st gateway.Store, chain string, school gateway.SchoolID) error {
	head, err := e.raw.AuditHead(context.Background(), chain)
	e.must(err)
	return st.AppendAudit(ctx, gateway.AuditEntry{Chain: chain, Seq: head.Seq + 1, Prev: head.Hash, At: at,
		Kind: gateway.AuditSync, School: school, Hash: e.id("h", school)})
}

// seed gives a school one of every record.
func (e *scopeEnv) seed(id gateway.SchoolID) {
	e.t.Helper()
	ctx := context.Background()
	st := e.raw
	e.must(st.PutSchool(ctx, gateway.School{ID: id, Klantnaam: "seeded", CreatedAt: at}))
	e.must(st.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, New: true, By: "x", At: at}))
	stage, err := st.Stage(ctx, id, "run1")
	e.must(err)
	e.must(stage.PutPupils(ctx, []gateway.Pupil{{ID: "p1", School: id, LASKey: "k1"}, {ID: "p2", School: id, LASKey: "k2"}}))
	e.must(stage.PutTeachers(ctx, []gateway.Teacher{{School: id, Key: "t1"}}))
	e.must(stage.PutGroups(ctx, []gateway.Group{{School: id, Key: "g1"}}, nil))
	e.must(stage.Commit(ctx))
	stage, err = st.Stage(ctx, id, "held")
	e.must(err)
	e.must(stage.Keep(ctx))
	e.must(st.AddSyncRun(ctx, gateway.SyncRun{ID: "run1", School: id, StartedAt: at, Status: gateway.SyncApplied}))
	e.must(st.PutTests(ctx, id, []gateway.TestDefinition{{Code: gateway.Term{Value: "T1"}}}))
	_, err = st.Enqueue(ctx, id, e.results(id), queued("b1"))
	e.must(err)
	e.must(st.PutEvidence(ctx, gateway.Evidence{ID: "ev1", School: id, Batch: "b1", CreatedAt: at}))
	e.must(st.AddLogin(ctx, gateway.Login{ID: "login-" + string(id), Account: "tok1", School: id, At: at, OK: true}))
	e.must(e.appendAudit(ctx, st, gateway.AuditChainOf(id), id))
	e.must(st.PutConnectionCheck(ctx, id, gateway.ConnectionCheck{At: at, OK: true, Groups: 1}))
	e.must(st.PutScheduleState(ctx, id, gateway.ScheduleState{LastAttemptAt: at}))
}

// claimOf enqueues a batch for school, claims it through the raw store and
// reports it sent (as a worker would before a split).
func (e *scopeEnv) claimOf(school gateway.SchoolID) gateway.Claim {
	e.t.Helper()
	ctx := context.Background()
	id := e.id("b", school)
	_, err := e.raw.Enqueue(ctx, school, e.results(school), queued(id))
	e.must(err)
	cs, err := e.raw.Claim(ctx, gateway.ClaimRequest{Consumer: "w", Max: 100, Lease: time.Hour, Now: at.Add(time.Minute)})
	e.must(err)
	for _, c := range cs {
		if c.Batch.ID == id {
			_, err := e.raw.Settle(ctx, c, gateway.Settlement{State: gateway.BatchSent, At: at, Lease: time.Hour})
			e.must(err)
			return c
		}
	}
	e.t.Fatalf("batch %s was not claimed", id)
	return gateway.Claim{}
}

func (e *scopeEnv) lockOf(school gateway.SchoolID) gateway.Lock {
	e.t.Helper()
	l, err := e.raw.AcquireLock(context.Background(), school, "prep", time.Minute, e.now())
	e.must(err)
	return l
}

// How a method meets the scope.
type scopeKind int

const (
	perSchool scopeKind = iota // names a school: ErrNotFound out of scope
	chain                      // names an audit chain: the school's chain is checked
	global                     // names no school: needs Scope.All, else ErrForbidden
	listing                    // lists across schools: filtered
	noContext                  // takes no context (Close): delegates
	chainAll                   // names an audit chain and needs Scope.All: ErrNotFound out of scope, else ErrForbidden
)

// scopeRow covers one method of gateway.Store. call calls it through st
// for school (for chain rows: on that school's chain; for global rows
// school is empty). list, for listing rows, returns the schools whose
// records it saw ("" for gateway-wide records).
type scopeRow struct {
	method string
	kind   scopeKind
	call   func(ctx context.Context, e *scopeEnv, st gateway.Store, school gateway.SchoolID) error
	list   func(ctx context.Context, st gateway.Store) ([]gateway.SchoolID, error)
}

func nothing[T any](_ T, err error) error { return err }

// scopeRows run in this order, each first out of scope, then in scope
// (three times: with the limited scope, with Scope.All and without a
// scope): StagedRun and OpenStage before Stage replaces the kept stage.
var scopeRows = []scopeRow{
	{method: "Schools", kind: listing, list: func(ctx context.Context, st gateway.Store) ([]gateway.SchoolID, error) {
		ss, err := st.Schools(ctx)
		var ids []gateway.SchoolID
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return ids, err
	}},
	{method: "PutSchool", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.PutSchool(ctx, gateway.School{ID: s, Klantnaam: "replaced", CreatedAt: at})
	}},
	{method: "School", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.School(ctx, s))
	}},
	{method: "UpdateSchool", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.UpdateSchool(ctx, s, func(x *gateway.School) error { x.Klantnaam = "updated"; return nil }))
	}},
	{method: "SetConsent", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.SetConsent(ctx, gateway.ConsentChange{School: s, Processing: gateway.ProcessingResearch, New: true, By: "x", At: at})
	}},
	{method: "Consent", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Consent(ctx, s))
	}},
	{method: "ConsentHistory", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.ConsentHistory(ctx, s))
	}},
	{method: "StagedRun", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.StagedRun(ctx, s))
	}},
	{method: "OpenStage", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.OpenStage(ctx, s, "held"))
	}},
	{method: "Stage", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		stage, err := st.Stage(ctx, s, e.id("run", s))
		if err != nil {
			return err
		}
		return stage.Discard(ctx)
	}},
	{method: "Pupils", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		n := 0
		err := st.Pupils(ctx, s, func(gateway.Pupil) error { n++; return nil })
		if err == nil && n != 2 {
			err = fmt.Errorf("saw %d pupils, want 2", n)
		}
		return err
	}},
	{method: "Teachers", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Teachers(ctx, s))
	}},
	{method: "Groups", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		_, _, err := st.Groups(ctx, s)
		return err
	}},
	{method: "PupilsByID", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.PupilsByID(ctx, s, []gateway.PupilID{"p1"}))
	}},
	{method: "PurgePupils", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.PurgePupils(ctx, s, []gateway.PupilID{"nobody"}))
	}},
	{method: "AddSyncRun", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.AddSyncRun(ctx, gateway.SyncRun{ID: e.id("run", s), School: s, StartedAt: at, Status: gateway.SyncFailed})
	}},
	{method: "SyncRuns", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.SyncRuns(ctx, s, 10))
	}},
	{method: "PutTests", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.PutTests(ctx, s, []gateway.TestDefinition{{Code: gateway.Term{Value: "T2"}}})
	}},
	{method: "Tests", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Tests(ctx, s))
	}},
	{method: "Enqueue", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Enqueue(ctx, s, e.results(s), queued(e.id("b", s))))
	}},
	{method: "EnqueueExport", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		b := queued(e.id("x", s))
		b.Recipient, b.Processing, b.Export = "uni", gateway.ProcessingResearch, "study"
		return st.EnqueueExport(ctx, s, b)
	}},
	{method: "Results", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Results(ctx, s, []string{"nokey"}))
	}},
	{method: "WalkResults", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.WalkResults(ctx, s, func(gateway.Result) error { return nil })
	}},
	{method: "DeleteResults", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.DeleteResults(ctx, s, []string{"nokey"}))
	}},
	{method: "Batch", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Batch(ctx, s, "b1"))
	}},
	{method: "WalkBatches", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.WalkBatches(ctx, s, func(gateway.Batch) error { return nil })
	}},
	{method: "Claim", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.Claim(ctx, gateway.ClaimRequest{Consumer: "w2", Max: 1, Lease: time.Minute, Now: at}))
	}},
	{method: "Settle", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Settle(ctx, e.claimOf(s), gateway.Settlement{State: gateway.BatchAccepted, At: at}))
	}},
	{method: "Split", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		c := e.claimOf(s)
		part := gateway.Batch{ID: c.Batch.ID + ".1", Keys: c.Batch.Keys, CreatedAt: at, NextAttemptAt: at}
		return st.Split(ctx, c, []gateway.Batch{part}, at)
	}},
	{method: "HoldBatches", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.HoldBatches(ctx, s, gateway.ProcessingLASExchange, "consent revoked", at))
	}},
	{method: "ReleaseBatches", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.ReleaseBatches(ctx, s, gateway.ProcessingLASExchange, at))
	}},
	{method: "Requeue", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Requeue(ctx, s, []string{"b1"}, at))
	}},
	{method: "InFlight", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.InFlight(ctx, s, at))
	}},
	{method: "DeleteBatches", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.DeleteBatches(ctx, s, []string{"b1"}))
	}},
	{method: "OutboxDepth", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.OutboxDepth(ctx, s))
	}},
	{method: "PutEvidence", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.PutEvidence(ctx, gateway.Evidence{ID: e.id("ev", s), School: s, Batch: "b1", CreatedAt: at})
	}},
	{method: "Evidence", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.Evidence(ctx, s, "ev1"))
	}},
	{method: "WalkEvidence", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.WalkEvidence(ctx, s, func(gateway.Evidence) error { return nil })
	}},
	{method: "DeleteEvidence", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.DeleteEvidence(ctx, s, []string{"noev"}))
	}},
	{method: "AppendAudit", kind: chain, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return e.appendAudit(ctx, st, gateway.AuditChainOf(s), s)
	}},
	{method: "AuditHead", kind: chain, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		h, err := st.AuditHead(ctx, gateway.AuditChainOf(s))
		if err == nil && h.Seq == 0 {
			err = errors.New("empty head")
		}
		return err
	}},
	{method: "WalkAudit", kind: chain, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.WalkAudit(ctx, gateway.AuditChainOf(s), func(gateway.AuditEntry) error { return nil })
	}},
	{method: "AuditChains", kind: listing, list: func(ctx context.Context, st gateway.Store) ([]gateway.SchoolID, error) {
		cs, err := st.AuditChains(ctx)
		var ids []gateway.SchoolID
		for _, c := range cs {
			switch c {
			case gateway.AuditChainOf(inID):
				ids = append(ids, inID)
			case gateway.AuditChainOf(outID):
				ids = append(ids, outID)
			default:
				ids = append(ids, "")
			}
		}
		return ids, err
	}},
	{method: "AddLogin", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.AddLogin(ctx, gateway.Login{ID: e.id("login", s), Account: "tok1", School: s, At: at, OK: true})
	}},
	{method: "WalkLogins", kind: listing, list: func(ctx context.Context, st gateway.Store) ([]gateway.SchoolID, error) {
		var ids []gateway.SchoolID
		err := st.WalkLogins(ctx, func(l gateway.Login) error { ids = append(ids, l.School); return nil })
		return ids, err
	}},
	{method: "DeleteLogins", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.DeleteLogins(ctx, []string{"nologin"}))
	}},
	{method: "GatewaySecret", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.GatewaySecret(ctx, "evidence-key"))
	}},
	{method: "PutGatewaySecret", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.PutGatewaySecret(ctx, "evidence-key", []byte("other"), true))
	}},
	{method: "PutToken", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return st.PutToken(ctx, gateway.Token{ID: "tok1", Hash: "hash1", Role: gateway.RoleOperator, CreatedAt: at, LastUsedAt: at})
	}},
	{method: "TokenByHash", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.TokenByHash(ctx, "hash1"))
	}},
	{method: "Tokens", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.Tokens(ctx))
	}},
	{method: "UpdateToken", kind: global, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, _ gateway.SchoolID) error {
		return nothing(st.UpdateToken(ctx, "tok1", func(t *gateway.Token) error { t.SessionGen++; return nil }))
	}},
	{method: "AcquireLock", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.AcquireLock(ctx, s, "serve", time.Minute, e.now()))
	}},
	{method: "RenewLock", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		l := e.lockOf(s)
		return nothing(st.RenewLock(ctx, l, time.Minute, l.Until.Add(-time.Second)))
	}},
	{method: "ReleaseLock", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.ReleaseLock(ctx, e.lockOf(s))
	}},
	{method: "PutConnectionCheck", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.PutConnectionCheck(ctx, s, gateway.ConnectionCheck{At: at, OK: false, ErrorClass: "credential"})
	}},
	{method: "ConnectionCheck", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.ConnectionCheck(ctx, s))
	}},
	{method: "PutScheduleState", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return st.PutScheduleState(ctx, s, gateway.ScheduleState{Failures: 9})
	}},
	{method: "ScheduleState", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		return nothing(st.ScheduleState(ctx, s))
	}},
	{method: "Close", kind: noContext},
	{method: "DeleteSchool", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
		err := st.DeleteSchool(ctx, s)
		if err == nil {
			e.seed(s) // for the next in-scope call
		}
		return err
	}},
}

// TestScopedStoreCoversEveryMethod fails when gateway.Store gains a method
// that has no row in scopeRows (or a row names a method it does not have).
func TestScopedStoreCoversEveryMethod(t *testing.T) {
	rows := map[string]int{}
	for _, r := range scopeRows {
		rows[r.method]++
	}
	iface := reflect.TypeFor[gateway.Store]()
	for i := range iface.NumMethod() {
		m := iface.Method(i).Name
		switch rows[m] {
		case 0:
			t.Errorf("gateway.Store.%s has no row in scopeRows: decide its scope in ScopedStore and add a row", m)
		case 1:
		default:
			t.Errorf("gateway.Store.%s has %d rows in scopeRows", m, rows[m])
		}
		delete(rows, m)
	}
	for m := range rows {
		t.Errorf("scopeRows has a row for %s, which gateway.Store does not have", m)
	}
}

func TestScopedStore(t *testing.T) {
	e := newScopeEnv(t)
	bg := context.Background()
	limited := gateway.WithScope(bg, gateway.Scope{Schools: []gateway.SchoolID{inID}})
	all := gateway.WithScope(bg, gateway.Scope{All: true})
	none := gateway.WithScope(bg, gateway.Scope{})
	for _, r := range scopeRows {
		switch r.kind {
		case perSchool, chain:
			for _, c := range []struct {
				ctx    context.Context
				school gateway.SchoolID
				what   string
			}{{limited, outID, "out of scope"}, {none, inID, "with the empty scope"}} {
				if err := r.call(c.ctx, e, e.sc, c.school); !errors.Is(err, gateway.ErrNotFound) {
					t.Errorf("%s %s: %v, want ErrNotFound", r.method, c.what, err)
				}
			}
			for _, ctx := range []context.Context{limited, all, bg} {
				if err := r.call(ctx, e, e.sc, inID); err != nil {
					t.Errorf("%s in scope %v: %v", r.method, scopeOf(ctx), err)
				}
			}
		case global:
			for _, ctx := range []context.Context{limited, none} {
				if err := r.call(ctx, e, e.sc, ""); !errors.Is(err, gateway.ErrForbidden) {
					t.Errorf("%s in scope %v: %v, want ErrForbidden", r.method, scopeOf(ctx), err)
				}
			}
			for _, ctx := range []context.Context{all, bg} {
				if err := r.call(ctx, e, e.sc, ""); err != nil {
					t.Errorf("%s in scope %v: %v", r.method, scopeOf(ctx), err)
				}
			}
		case listing:
			got, err := r.list(limited, e.sc)
			if err != nil || !slices.Contains(got, inID) || slices.Contains(got, outID) || slices.Contains(got, "") {
				t.Errorf("%s out of scope saw %v, %v; want %s only", r.method, got, err, inID)
			}
			if got, err := r.list(none, e.sc); err != nil || len(got) != 0 {
				t.Errorf("%s with the empty scope saw %v, %v; want nothing", r.method, got, err)
			}
			want, err := r.list(bg, e.raw)
			if err != nil {
				t.Fatalf("%s of the raw store: %v", r.method, err)
			}
			for _, ctx := range []context.Context{all, bg} {
				if got, err := r.list(ctx, e.sc); err != nil || !slices.Equal(got, want) {
					t.Errorf("%s in scope %v saw %v, %v; want everything: %v", r.method, scopeOf(ctx), got, err, want)
				}
			}
		case chainAll:
			if err := r.call(limited, e, e.sc, outID); !errors.Is(err, gateway.ErrNotFound) {
				t.Errorf("%s out of scope: %v, want ErrNotFound", r.method, err)
			}
			if err := r.call(limited, e, e.sc, inID); !errors.Is(err, gateway.ErrForbidden) {
				t.Errorf("%s of the limited scope's own chain: %v, want ErrForbidden", r.method, err)
			}
			for _, ctx := range []context.Context{all, bg} {
				if err := r.call(ctx, e, e.sc, inID); err != nil {
					t.Errorf("%s in scope %v: %v", r.method, scopeOf(ctx), err)
				}
			}
		case noContext:
			// See TestScopedStoreClose.
		}
	}

	// The refused calls changed nothing of the school out of scope (the
	// raw store prepared a few claims and locks of it, nothing else).
	sch, err := e.raw.School(bg, outID)
	if err != nil || sch.Klantnaam != "seeded" {
		t.Errorf("school out of scope after refused calls: %+v, %v", sch, err)
	}
	if h, err := e.raw.ConsentHistory(bg, outID); err != nil || len(h) != 1 {
		t.Errorf("consent history out of scope: %d changes, %v; want the seeded 1", len(h), err)
	}
	if runs, err := e.raw.SyncRuns(bg, outID, 0); err != nil || len(runs) != 1 {
		t.Errorf("sync runs out of scope: %d, %v; want the seeded 1", len(runs), err)
	}
	if run, err := e.raw.StagedRun(bg, outID); err != nil || run != "held" {
		t.Errorf("kept stage out of scope: %q, %v", run, err)
	}
	if h, err := e.raw.AuditHead(bg, gateway.AuditChainOf(outID)); err != nil || h.Seq != 1 {
		t.Errorf("audit chain out of scope: head %d, %v; want the seeded 1", h.Seq, err)
	}
	if c, err := e.raw.ConnectionCheck(bg, outID); err != nil || !c.OK {
		t.Errorf("connection check out of scope: %+v, %v", c, err)
	}
}

// Values that carry a second school, and chains that are not a school's.
func TestScopedStoreCarriedSchools(t *testing.T) {
	e := newScopeEnv(t)
	ctx := gateway.WithScope(context.Background(), gateway.Scope{Schools: []gateway.SchoolID{inID}})
	foreign := gateway.Lock{School: outID, Owner: "x", Token: 1}
	_, err := e.sc.Stage(ctx, inID, "run9", gateway.StageOption{Fence: &foreign})
	checkKind(t, "Stage fenced with another school's lock", err, gateway.ErrNotFound)
	_, err = e.sc.OpenStage(ctx, inID, "held", gateway.StageOption{Fence: &foreign})
	checkKind(t, "OpenStage fenced with another school's lock", err, gateway.ErrNotFound)
	b := queued("b-foreign")
	b.School = outID
	_, err = e.sc.Enqueue(ctx, inID, e.results(inID), b)
	checkKind(t, "Enqueue of a batch of another school", err, gateway.ErrNotFound)
	_, err = e.sc.Enqueue(ctx, inID, e.results(outID), queued("b-foreign2"))
	checkKind(t, "Enqueue of results of another school", err, gateway.ErrNotFound)
	c := e.claimOf(inID)
	part := gateway.Batch{ID: "part", School: outID, Keys: c.Batch.Keys, CreatedAt: at, NextAttemptAt: at}
	checkKind(t, "Split into a batch of another school", e.sc.Split(ctx, c, []gateway.Batch{part}, at), gateway.ErrNotFound)
	checkKind(t, "AppendAudit about another school in its own chain",
		e.appendAudit(ctx, e.sc, gateway.AuditChainOf(inID), outID), gateway.ErrNotFound)
	checkKind(t, "AddLogin without a school", e.sc.AddLogin(ctx, gateway.Login{ID: "l9", At: at}), gateway.ErrForbidden)
	for _, to := range []gateway.SchoolID{outID, "56EF00"} {
		_, err = e.sc.UpdateSchool(ctx, inID, func(x *gateway.School) error { x.ID, x.Klantnaam = to, "moved"; return nil })
		checkKind(t, "UpdateSchool moving the school to "+string(to), err, gateway.ErrInvalid)
	}
	if sch, err := e.raw.School(context.Background(), inID); err != nil || sch.Klantnaam != "seeded" {
		t.Errorf("school after refused moves: %+v, %v", sch, err)
	}
	if sch, err := e.raw.School(context.Background(), outID); err != nil || sch.Klantnaam != "seeded" {
		t.Errorf("school out of scope after a refused move onto it: %+v, %v", sch, err)
	}
	for _, ch := range []string{gateway.AuditChainGateway, "school/", "other", string(inID)} {
		checkKind(t, "AppendAudit on chain "+ch, e.appendAudit(ctx, e.sc, ch, ""), gateway.ErrNotFound)
		_, err := e.sc.AuditHead(ctx, ch)
		checkKind(t, "AuditHead of chain "+ch, err, gateway.ErrNotFound)
		err = e.sc.WalkAudit(ctx, ch, func(gateway.AuditEntry) error { return nil })
		checkKind(t, "WalkAudit of chain "+ch, err, gateway.ErrNotFound)
	}
	// With Scope.All the gateway chain and school-less logins are fine.
	allCtx := gateway.WithScope(context.Background(), gateway.Scope{All: true})
	if err := e.appendAudit(allCtx, e.sc, gateway.AuditChainGateway, ""); err != nil {
		t.Errorf("AppendAudit on the gateway chain with Scope.All: %v", err)
	}
	if err := e.sc.AddLogin(allCtx, gateway.Login{ID: "l9", At: at}); err != nil {
		t.Errorf("AddLogin without a school with Scope.All: %v", err)
	}
}

func TestScopedStoreClose(t *testing.T) {
	raw, err := boltstore.Open(filepath.Join(t.TempDir(), "store.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := gateway.ScopedStore(raw).Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := raw.Schools(context.Background()); err == nil {
		t.Error("the wrapped store still works after Close of the ScopedStore")
	}
}

func checkKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: %v, want %v", what, err, kind)
	}
}

func scopeOf(ctx context.Context) string {
	s, ok := gateway.ScopeFrom(ctx)
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%+v", s)
}
