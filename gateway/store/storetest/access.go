package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// accessTests specify the LockStore, TokenStore and StatusStore parts of
// gateway.Store, and the fence of Stage and OpenStage.
//
// Besides the method docs in gateway/access.go, they pin down:
//
//   - AcquireLock succeeds when the school's lock is free or lapsed (Until <=
//     now, the caller's clock) and then issues a fencing token larger than
//     every token issued for the school before, also after a release (tokens
//     are never reused while the school exists). A lock held past now is
//     ErrConflict for everyone, its own owner included: acquisition is not
//     re-entrant. An empty owner or a ttl <= 0 is ErrInvalid.
//   - RenewLock and ReleaseLock act only while the lock is held with l.Token
//     and return ErrConflict otherwise (released, or taken over). A lock that
//     lapsed but that nobody took over is still held: it can be renewed,
//     released, and it still fences (a Commit fenced with it succeeds).
//   - Every lock and status method returns ErrNotFound for an unknown school;
//     DeleteSchool removes the lock and the status records with the school.
//   - A Stage or OpenStage with StageOption.Fence refuses with ErrConflict
//     when the lock is not held with the fence's token at that moment, and
//     Commit checks again, atomically with the swap: a refused Commit writes
//     nothing, and the handle can still Discard. A fence of another school is
//     ErrInvalid.
//   - Tokens: ID and Hash are required (ErrInvalid); a Hash that another ID
//     has is ErrConflict and changes nothing; PutToken replaces by ID, and a
//     replaced hash no longer finds the token. Every field comes back (times
//     to the nanosecond).
//   - ConnectionCheck is ErrNotFound until one is put; ScheduleState is the
//     zero state until one is put.
var accessTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"LockAcquire", testLockAcquire},
	{"LockRenew", testLockRenew},
	{"LockRelease", testLockRelease},
	{"LockConcurrentAcquirers", testLockConcurrentAcquirers},
	{"LockUnknownSchool", testLockUnknownSchool},
	{"LockDeletedWithSchool", testLockDeletedWithSchool},
	{"FencedCommit", testFencedCommit},
	{"FencedStageAfterTakeover", testFencedStageAfterTakeover},
	{"FencedOpenStage", testFencedOpenStage},
	{"FenceInvalid", testFenceInvalid},
	{"TokensRoundTrip", testTokensRoundTrip},
	{"TokenReplace", testTokenReplace},
	{"TokenUpdate", testTokenUpdate},
	{"TokenHashUnique", testTokenHashUnique},
	{"ConnectionCheck", testConnectionCheck},
	{"ScheduleState", testScheduleState},
	{"AccessContextCanceled", testAccessContextCanceled},
}

// l0 is the fake clock's start for lock tests; it carries nanoseconds.
var l0 = time.Date(2026, 11, 23, 2, 0, 0, 123456789, time.UTC)

func mustAcquire(t *testing.T, s gateway.Store, id gateway.SchoolID, owner string, ttl time.Duration, now time.Time) gateway.Lock {
	t.Helper()
	l, err := s.AcquireLock(ctxFor(t), id, owner, ttl, now)
	if err != nil {
		t.Fatalf("AcquireLock(%s, %s) at %s: %v", id, owner, now, err)
	}
	if l.School != id || l.Owner != owner || l.Token == 0 || !l.Until.Equal(now.Add(ttl)) {
		t.Fatalf("AcquireLock(%s, %s) = %+v; want school, owner, a token and Until %s", id, owner, l, now.Add(ttl))
	}
	return l
}

func checkConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("%s: got error %v, want ErrConflict", what, err)
	}
}

func testLockAcquire(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const a, b = "12AB00", "34CD00"
	mustSchool(t, s, a)
	mustSchool(t, s, b)
	l1 := mustAcquire(t, s, a, "serve-1", time.Minute, l0)

	// Held: nobody gets it, not even its own owner, up to a nanosecond
	// before Until.
	for _, owner := range []string{"serve-2", "serve-1"} {
		_, err := s.AcquireLock(ctx, a, owner, time.Minute, l0.Add(time.Minute-time.Nanosecond))
		checkConflict(t, "AcquireLock of a held lock by "+owner, err)
	}
	// Another school's lock is another lock.
	mustAcquire(t, s, b, "serve-2", time.Minute, l0)

	// At Until the lock has lapsed: the next owner gets a larger token.
	l2 := mustAcquire(t, s, a, "serve-2", time.Hour, l0.Add(time.Minute))
	if l2.Token <= l1.Token {
		t.Errorf("token after takeover %d, want more than %d", l2.Token, l1.Token)
	}
	_, err := s.AcquireLock(ctx, a, "serve-1", time.Minute, l0.Add(2*time.Minute))
	checkConflict(t, "AcquireLock of the taken-over lock", err)

	// A clock far ahead (and times in other zones) compare as instants.
	cet := time.FixedZone("CET", 3600)
	l3 := mustAcquire(t, s, a, "serve-3", time.Second, l0.Add(time.Hour+time.Minute).In(cet))
	if l3.Token <= l2.Token {
		t.Errorf("third token %d, want more than %d", l3.Token, l2.Token)
	}

	for _, bad := range []struct {
		owner string
		ttl   time.Duration
	}{{"", time.Minute}, {"serve-1", 0}, {"serve-1", -time.Second}} {
		_, err := s.AcquireLock(ctx, a, bad.owner, bad.ttl, l0.Add(48*time.Hour))
		if !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("AcquireLock(owner %q, ttl %s): %v, want ErrInvalid", bad.owner, bad.ttl, err)
		}
	}
}

func testLockRenew(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	l := mustAcquire(t, s, id, "serve-1", time.Minute, l0)

	r, err := s.RenewLock(ctx, l, 5*time.Minute, l0.Add(30*time.Second))
	if err != nil {
		t.Fatalf("RenewLock: %v", err)
	}
	if r.Token != l.Token || r.School != id || r.Owner != l.Owner || !r.Until.Equal(l0.Add(30*time.Second+5*time.Minute)) {
		t.Errorf("RenewLock = %+v; want the same lock until %s", r, l0.Add(30*time.Second+5*time.Minute))
	}
	// The old Until no longer frees the lock; the new one does.
	_, err = s.AcquireLock(ctx, id, "serve-2", time.Minute, l0.Add(time.Minute))
	checkConflict(t, "AcquireLock before the renewed Until", err)

	// Renewal after the lapse, while nobody took the lock, still works.
	late := l0.Add(time.Hour)
	r, err = s.RenewLock(ctx, r, time.Minute, late)
	if err != nil || !r.Until.Equal(late.Add(time.Minute)) {
		t.Fatalf("RenewLock of a lapsed lock nobody took = %+v, %v; want Until %s", r, err, late.Add(time.Minute))
	}

	// Once taken over, the old holder can renew nothing.
	l2 := mustAcquire(t, s, id, "serve-2", time.Minute, late.Add(time.Minute))
	_, err = s.RenewLock(ctx, r, time.Minute, late.Add(time.Minute))
	checkConflict(t, "RenewLock by the old holder", err)
	wrong := l2
	wrong.Token++
	_, err = s.RenewLock(ctx, wrong, time.Minute, late.Add(time.Minute))
	checkConflict(t, "RenewLock with a token never issued", err)
	_, err = s.RenewLock(ctx, l2, 0, late.Add(time.Minute))
	if !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("RenewLock with ttl 0: %v, want ErrInvalid", err)
	}
	// The new holder's lock is untouched by the refused renewals.
	_, err = s.AcquireLock(ctx, id, "serve-3", time.Minute, late.Add(time.Minute+time.Second))
	checkConflict(t, "AcquireLock after refused renewals", err)
	if _, err := s.RenewLock(ctx, l2, time.Minute, late.Add(time.Minute+time.Second)); err != nil {
		t.Errorf("RenewLock by the holder: %v", err)
	}
}

func testLockRelease(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	l1 := mustAcquire(t, s, id, "serve-1", time.Hour, l0)
	wrong := l1
	wrong.Token = l1.Token + 1
	checkConflict(t, "ReleaseLock with a wrong token", s.ReleaseLock(ctx, wrong))
	_, err := s.AcquireLock(ctx, id, "serve-2", time.Minute, l0.Add(time.Minute))
	checkConflict(t, "AcquireLock after a refused release", err)

	if err := s.ReleaseLock(ctx, l1); err != nil {
		t.Fatalf("ReleaseLock: %v", err)
	}
	checkConflict(t, "second ReleaseLock", s.ReleaseLock(ctx, l1))
	_, err = s.RenewLock(ctx, l1, time.Minute, l0)
	checkConflict(t, "RenewLock after release", err)

	// Free again at once, long before the old Until, with a new token: a
	// release never lets a token be issued twice.
	seen := map[uint64]bool{l1.Token: true}
	last := l1.Token
	for i := range 5 {
		l := mustAcquire(t, s, id, fmt.Sprintf("serve-%d", i), time.Hour, l0.Add(time.Duration(i)*time.Second))
		if seen[l.Token] || l.Token <= last {
			t.Fatalf("acquisition %d after releases got token %d (seen before or not above %d)", i, l.Token, last)
		}
		seen[l.Token], last = true, l.Token
		if err := s.ReleaseLock(ctx, l); err != nil {
			t.Fatalf("ReleaseLock %d: %v", i, err)
		}
	}
}

func testLockConcurrentAcquirers(t *testing.T, s gateway.Store) {
	const id, n, rounds = "12AB00", 12, 4
	mustSchool(t, s, id)
	ctx := ctxFor(t)
	var last uint64
	for round := range rounds {
		// Every round starts after the previous winner's lease lapsed.
		now := l0.Add(time.Duration(round) * time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []gateway.Lock
		var errs []error
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				l, err := s.AcquireLock(ctx, id, fmt.Sprintf("serve-%d", i), time.Minute, now)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, l)
				case !errors.Is(err, gateway.ErrConflict):
					errs = append(errs, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("round %d: AcquireLock failed with %v, want success or ErrConflict", round, err)
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d acquirers won, want exactly 1: %+v", round, len(won), won)
		}
		if won[0].Token <= last {
			t.Errorf("round %d: token %d, want more than %d", round, won[0].Token, last)
		}
		last = won[0].Token
	}
}

func testLockUnknownSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	mustSchool(t, s, "12AB00")
	const id = "99XX00"
	_, err := s.AcquireLock(ctx, id, "serve-1", time.Minute, l0)
	checkNotFound(t, "AcquireLock", err)
	l := gateway.Lock{School: id, Owner: "serve-1", Token: 1, Until: l0.Add(time.Minute)}
	_, err = s.RenewLock(ctx, l, time.Minute, l0)
	checkNotFound(t, "RenewLock", err)
	checkNotFound(t, "ReleaseLock", s.ReleaseLock(ctx, l))
	_, err = s.Stage(ctx, id, "run1", gateway.StageOption{Fence: &l})
	checkNotFound(t, "fenced Stage", err)
	checkNotFound(t, "PutConnectionCheck", s.PutConnectionCheck(ctx, id, gateway.ConnectionCheck{At: t0, OK: true}))
	_, err = s.ConnectionCheck(ctx, id)
	checkNotFound(t, "ConnectionCheck", err)
	checkNotFound(t, "PutScheduleState", s.PutScheduleState(ctx, id, gateway.ScheduleState{Failures: 1}))
	_, err = s.ScheduleState(ctx, id)
	checkNotFound(t, "ScheduleState", err)
}

func testLockDeletedWithSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id, other = "12AB00", "12AB01"
	mustSchool(t, s, id)
	mustSchool(t, s, other)
	for _, sc := range []gateway.SchoolID{id, other} {
		mustAcquire(t, s, sc, "serve-1", time.Hour, l0)
		if err := s.PutConnectionCheck(ctx, sc, gateway.ConnectionCheck{At: t1, OK: true, Groups: 3}); err != nil {
			t.Fatalf("PutConnectionCheck: %v", err)
		}
		if err := s.PutScheduleState(ctx, sc, gateway.ScheduleState{LastAttemptAt: t1, Failures: 2}); err != nil {
			t.Fatalf("PutScheduleState: %v", err)
		}
	}
	if err := s.DeleteSchool(ctx, id); err != nil {
		t.Fatalf("DeleteSchool: %v", err)
	}
	_, err := s.AcquireLock(ctx, id, "serve-2", time.Minute, l0)
	checkNotFound(t, "AcquireLock of a deleted school", err)

	// Re-created, the school has no lock and no status records.
	mustSchool(t, s, id)
	mustAcquire(t, s, id, "serve-2", time.Minute, l0.Add(time.Second))
	_, err = s.ConnectionCheck(ctx, id)
	checkNotFound(t, "ConnectionCheck of a re-created school", err)
	if st, err := s.ScheduleState(ctx, id); err != nil || st != (gateway.ScheduleState{}) {
		t.Errorf("ScheduleState of a re-created school = %+v, %v; want the zero state", st, err)
	}
	// The other school keeps its lock and records.
	_, err = s.AcquireLock(ctx, other, "serve-2", time.Minute, l0.Add(time.Second))
	checkConflict(t, "AcquireLock of the other school", err)
	if c, err := s.ConnectionCheck(ctx, other); err != nil || c.Groups != 3 {
		t.Errorf("ConnectionCheck of the other school = %+v, %v", c, err)
	}
	if st, err := s.ScheduleState(ctx, other); err != nil || st.Failures != 2 {
		t.Errorf("ScheduleState of the other school = %+v, %v", st, err)
	}
}

// A holder that paused past its lease and lost the lock cannot commit its
// stage; the new holder's fenced stage commits.
func testFencedCommit(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 30, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)

	la := mustAcquire(t, s, id, "serve-a", time.Minute, l0)
	sa, err := s.Stage(ctx, id, "runA", gateway.StageOption{Fence: &la})
	if err != nil {
		t.Fatalf("fenced Stage: %v", err)
	}
	stage(t, sa, pupils(id, "STALE", 40, 2), 15, teachers(id, 2), nil, nil)

	// serve-a stalls past its lease; serve-b takes the lock over.
	lb := mustAcquire(t, s, id, "serve-b", time.Minute, l0.Add(90*time.Second))
	checkConflict(t, "Commit fenced with a lock taken over", sa.Commit(ctx))
	checkSnapshot(t, s, id, old, nil, nil, nil)
	// The refused handle still works for Discard.
	if err := sa.Discard(ctx); err != nil {
		t.Errorf("Discard after a refused Commit: %v", err)
	}
	checkSnapshot(t, s, id, old, nil, nil, nil)

	next := pupils(id, "NEW", 25, 3)
	sb, err := s.Stage(ctx, id, "runB", gateway.StageOption{Fence: &lb})
	if err != nil {
		t.Fatalf("Stage fenced with the new lock: %v", err)
	}
	stage(t, sb, next, 10, nil, nil, nil)
	// Commit takes no clock: the lock record carries lb's token (lapsed or
	// not, nobody took it over), so the commit goes through.
	if err := sb.Commit(ctx); err != nil {
		t.Fatalf("Commit fenced with the current lock: %v", err)
	}
	checkSnapshot(t, s, id, next, nil, nil, nil)

	// A fenced stage whose lock was released cannot commit either.
	sc, err := s.Stage(ctx, id, "runC", gateway.StageOption{Fence: &lb})
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, sc, pupils(id, "RELEASED", 5, 4), 5, nil, nil, nil)
	if err := s.ReleaseLock(ctx, lb); err != nil {
		t.Fatalf("ReleaseLock: %v", err)
	}
	checkConflict(t, "Commit fenced with a released lock", sc.Commit(ctx))
	checkSnapshot(t, s, id, next, nil, nil, nil)

	// Unfenced stages are not affected by locks at all.
	mustAcquire(t, s, id, "serve-c", time.Hour, l0.Add(time.Hour))
	commitSnapshot(t, s, id, "runD", old, nil, nil, nil)
	checkSnapshot(t, s, id, old, nil, nil, nil)
}

// A holder that lost the lock cannot even start a fenced stage, so it
// cannot drop the new holder's staging area.
func testFencedStageAfterTakeover(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	la := mustAcquire(t, s, id, "serve-a", time.Minute, l0)
	lb := mustAcquire(t, s, id, "serve-b", time.Minute, l0.Add(time.Minute))
	sb, err := s.Stage(ctx, id, "runB", gateway.StageOption{Fence: &lb})
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	ps := pupils(id, "B", 12, 1)
	stage(t, sb, ps, 5, nil, nil, nil)

	_, err = s.Stage(ctx, id, "runA", gateway.StageOption{Fence: &la})
	checkConflict(t, "Stage fenced with a lock taken over", err)
	checkEqual(t, "the new holder's staged pupils", readStaged(t, sb), sortedPupils(ps))
	if err := sb.Commit(ctx); err != nil {
		t.Fatalf("Commit of the new holder: %v", err)
	}
	checkSnapshot(t, s, id, ps, nil, nil, nil)
}

// Approving a held sync under a lock: OpenStage takes the fence too.
func testFencedOpenStage(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const id = "12AB00"
	mustSchool(t, s, id)
	old := pupils(id, "OLD", 10, 1)
	commitSnapshot(t, s, id, "run0", old, nil, nil, nil)
	held := pupils(id, "HELD", 20, 2)
	st, err := s.Stage(ctx, id, "run1")
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	stage(t, st, held, 10, nil, nil, nil)
	if err := st.Keep(ctx); err != nil {
		t.Fatalf("Keep: %v", err)
	}

	la := mustAcquire(t, s, id, "approver-a", time.Minute, l0)
	oa, err := s.OpenStage(ctx, id, "run1", gateway.StageOption{Fence: &la})
	if err != nil {
		t.Fatalf("fenced OpenStage: %v", err)
	}
	lb := mustAcquire(t, s, id, "approver-b", time.Minute, l0.Add(time.Minute))
	checkConflict(t, "Commit of a kept stage fenced with a lock taken over", oa.Commit(ctx))
	checkSnapshot(t, s, id, old, nil, nil, nil)
	if run, err := s.StagedRun(ctx, id); err != nil || run != "run1" {
		t.Fatalf("StagedRun after a refused Commit = %q, %v; want the kept stage to stay", run, err)
	}
	_, err = s.OpenStage(ctx, id, "run1", gateway.StageOption{Fence: &la})
	checkConflict(t, "OpenStage fenced with a lock taken over", err)

	ob, err := s.OpenStage(ctx, id, "run1", gateway.StageOption{Fence: &lb})
	if err != nil {
		t.Fatalf("OpenStage fenced with the current lock: %v", err)
	}
	if err := ob.Commit(ctx); err != nil {
		t.Fatalf("Commit fenced with the current lock: %v", err)
	}
	checkSnapshot(t, s, id, held, nil, nil, nil)
}

func testFenceInvalid(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const a, b = "12AB00", "34CD00"
	mustSchool(t, s, a)
	mustSchool(t, s, b)
	lb := mustAcquire(t, s, b, "serve-1", time.Hour, l0)
	for _, fence := range []gateway.Lock{lb, {School: a}} {
		_, err := s.Stage(ctx, a, "run1", gateway.StageOption{Fence: &fence})
		if !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("Stage of %s fenced with %+v: %v, want ErrInvalid", a, fence, err)
		}
	}
	_, err := s.StagedRun(ctx, a)
	checkNotFound(t, "StagedRun after refused stages", err)
	// An option without a fence is no fence.
	st, err := s.Stage(ctx, a, "run2", gateway.StageOption{})
	if err != nil {
		t.Fatalf("Stage with an empty option: %v", err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Errorf("Commit of a stage without a fence: %v", err)
	}
}

// someTokens returns tokens in no particular order, every field set on
// some, times with nanoseconds and in other zones.
func someTokens() []gateway.Token {
	cet := time.FixedZone("CET", 3600)
	return []gateway.Token{
		{ID: "tok-b", Name: "school admin B", Hash: "hash-b", Role: gateway.RoleSchoolAdmin, Schools: []gateway.SchoolID{"12AB00", "34CD00"},
			CreatedAt: t0, ExpiresAt: t1, LastUsedAt: t1.Add(-time.Nanosecond)},
		{ID: "tok-a", Name: "operator", Hash: "hash-a", Role: gateway.RoleOperator, CreatedAt: t1.In(cet)},
		{ID: "tok-c", Name: "viewer", Hash: "hash-c", Role: gateway.RoleViewer, CreatedAt: t0, RevokedAt: t1},
		{ID: "id with spaces/ and:{braces}", Hash: "{weird}:hash", Role: gateway.RoleViewer, Schools: []gateway.SchoolID{"56EF00"}},
	}
}

func tokensByID(ts []gateway.Token) []gateway.Token {
	out := make([]gateway.Token, 0, len(ts))
	for _, id := range []string{"id with spaces/ and:{braces}", "tok-a", "tok-b", "tok-c"} {
		for _, tok := range ts {
			if tok.ID == id {
				out = append(out, tok)
			}
		}
	}
	return out
}

func mustTokens(t *testing.T, s gateway.Store) []gateway.Token {
	t.Helper()
	ts, err := s.Tokens(ctxFor(t))
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	return ts
}

func testTokensRoundTrip(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	if ts := mustTokens(t, s); len(ts) != 0 {
		t.Errorf("Tokens of an empty store: %v", ts)
	}
	_, err := s.TokenByHash(ctx, "hash-a")
	checkNotFound(t, "TokenByHash in an empty store", err)
	ts := someTokens()
	for _, tok := range ts {
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatalf("PutToken(%s): %v", tok.ID, err)
		}
	}
	checkEqual(t, "Tokens", mustTokens(t, s), tokensByID(ts))
	for _, tok := range ts {
		got, err := s.TokenByHash(ctx, tok.Hash)
		if err != nil {
			t.Fatalf("TokenByHash(%s): %v", tok.ID, err)
		}
		checkOne(t, "TokenByHash("+tok.ID+")", got, tok)
	}
	for _, h := range []string{"hash-x", "", "HASH-A", "tok-a"} {
		_, err := s.TokenByHash(ctx, h)
		checkNotFound(t, fmt.Sprintf("TokenByHash(%q)", h), err)
	}
	// Returned slices belong to the caller.
	got, _ := s.TokenByHash(ctx, "hash-b")
	got.Schools[0] = "99XX00"
	if again, _ := s.TokenByHash(ctx, "hash-b"); again.Schools[0] != "12AB00" {
		t.Errorf("changing a returned token changed the stored one: %v", again.Schools)
	}
}

func testTokenReplace(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	ts := someTokens()
	for _, tok := range ts {
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatalf("PutToken(%s): %v", tok.ID, err)
		}
	}
	// Used, then revoked: the same id and hash, other fields.
	ts[0].LastUsedAt = t1.Add(time.Hour + time.Nanosecond)
	if err := s.PutToken(ctx, ts[0]); err != nil {
		t.Fatalf("PutToken (last used): %v", err)
	}
	ts[0].RevokedAt = t1.Add(2 * time.Hour)
	ts[0].Schools = nil
	if err := s.PutToken(ctx, ts[0]); err != nil {
		t.Fatalf("PutToken (revoked): %v", err)
	}
	got, err := s.TokenByHash(ctx, ts[0].Hash)
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	checkOne(t, "replaced token", got, ts[0])
	if got.Active(t1.Add(3 * time.Hour)) {
		t.Error("a revoked token came back active")
	}

	// A new hash for the same id (rotation): the old hash finds nothing,
	// and another token may take it.
	ts[1].Hash = "hash-a2"
	if err := s.PutToken(ctx, ts[1]); err != nil {
		t.Fatalf("PutToken (new hash): %v", err)
	}
	_, err = s.TokenByHash(ctx, "hash-a")
	checkNotFound(t, "TokenByHash of a replaced hash", err)
	if got, err := s.TokenByHash(ctx, "hash-a2"); err != nil || got.ID != ts[1].ID {
		t.Errorf("TokenByHash of the new hash = %s, %v", got.ID, err)
	}
	checkEqual(t, "Tokens after replacing", mustTokens(t, s), tokensByID(ts))
	ts[2].Hash = "hash-a"
	if err := s.PutToken(ctx, ts[2]); err != nil {
		t.Fatalf("PutToken taking a freed hash: %v", err)
	}
	if got, err := s.TokenByHash(ctx, "hash-a"); err != nil || got.ID != ts[2].ID {
		t.Errorf("TokenByHash of the re-used hash = %s, %v; want %s", got.ID, err, ts[2].ID)
	}
	_, err = s.TokenByHash(ctx, "hash-c")
	checkNotFound(t, "TokenByHash of the hash given up", err)
}

func testTokenHashUnique(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	ts := someTokens()
	for _, tok := range ts {
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatalf("PutToken(%s): %v", tok.ID, err)
		}
	}
	// A new id with a taken hash, and an existing id moving to a taken hash.
	dup := gateway.Token{ID: "tok-d", Hash: "hash-a", Role: gateway.RoleOperator, CreatedAt: t0}
	checkConflict(t, "PutToken of a new id with a taken hash", s.PutToken(ctx, dup))
	moved := ts[2]
	moved.Hash = "hash-b"
	checkConflict(t, "PutToken moving to a taken hash", s.PutToken(ctx, moved))
	checkEqual(t, "Tokens after refused puts", mustTokens(t, s), tokensByID(ts))
	for _, tok := range ts {
		if got, err := s.TokenByHash(ctx, tok.Hash); err != nil || got.ID != tok.ID {
			t.Errorf("TokenByHash(%s) after refused puts = %s, %v", tok.ID, got.ID, err)
		}
	}
	for _, bad := range []gateway.Token{{Hash: "hash-z"}, {ID: "tok-z"}} {
		if err := s.PutToken(ctx, bad); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("PutToken(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	checkEqual(t, "Tokens after invalid puts", mustTokens(t, s), tokensByID(ts))
}

func testConnectionCheck(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const a, b = "12AB00", "34CD00"
	mustSchool(t, s, a)
	mustSchool(t, s, b)
	_, err := s.ConnectionCheck(ctx, a)
	checkNotFound(t, "ConnectionCheck before any", err)
	bad := gateway.ConnectionCheck{At: t1, OK: false, ErrorClass: "credential", FaultCode: "LAS-002",
		Message: "autorisatiesleutel rejected", Hint: "check the key", ElapsedMS: 1234, Groups: 0}
	if err := s.PutConnectionCheck(ctx, a, bad); err != nil {
		t.Fatalf("PutConnectionCheck: %v", err)
	}
	got, err := s.ConnectionCheck(ctx, a)
	if err != nil {
		t.Fatalf("ConnectionCheck: %v", err)
	}
	checkOne(t, "ConnectionCheck", got, bad)
	_, err = s.ConnectionCheck(ctx, b)
	checkNotFound(t, "ConnectionCheck of another school", err)

	good := gateway.ConnectionCheck{At: t1.Add(time.Nanosecond), OK: true, ElapsedMS: 87, Groups: 12}
	if err := s.PutConnectionCheck(ctx, a, good); err != nil {
		t.Fatalf("PutConnectionCheck: %v", err)
	}
	if got, err := s.ConnectionCheck(ctx, a); err != nil || !equal(got, good) {
		t.Errorf("ConnectionCheck after replacing = %+v, %v; want %+v", got, err, good)
	}
}

func testScheduleState(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const a, b = "12AB00", "34CD00"
	mustSchool(t, s, a)
	mustSchool(t, s, b)
	if st, err := s.ScheduleState(ctx, a); err != nil || st != (gateway.ScheduleState{}) {
		t.Errorf("ScheduleState before any = %+v, %v; want the zero state", st, err)
	}
	want := gateway.ScheduleState{LastAttemptAt: t1, LastSuccessAt: t0, Failures: 3}
	if err := s.PutScheduleState(ctx, a, want); err != nil {
		t.Fatalf("PutScheduleState: %v", err)
	}
	got, err := s.ScheduleState(ctx, a)
	if err != nil {
		t.Fatalf("ScheduleState: %v", err)
	}
	checkOne(t, "ScheduleState", got, want)
	if st, err := s.ScheduleState(ctx, b); err != nil || st != (gateway.ScheduleState{}) {
		t.Errorf("ScheduleState of another school = %+v, %v; want the zero state", st, err)
	}
	// Back to zero values: a zero time stays zero.
	if err := s.PutScheduleState(ctx, a, gateway.ScheduleState{LastAttemptAt: t1.Add(time.Hour)}); err != nil {
		t.Fatalf("PutScheduleState: %v", err)
	}
	got, err = s.ScheduleState(ctx, a)
	if err != nil || !got.LastSuccessAt.IsZero() || got.Failures != 0 || !got.LastAttemptAt.Equal(t1.Add(time.Hour)) {
		t.Errorf("ScheduleState after replacing = %+v, %v", got, err)
	}
}

func testAccessContextCanceled(t *testing.T, s gateway.Store) {
	const id = "12AB00"
	mustSchool(t, s, id)
	l := mustAcquire(t, s, id, "serve-1", time.Minute, l0)
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want context.Canceled", what, err)
		}
	}
	_, err := s.AcquireLock(ctx, id, "serve-2", time.Minute, l0.Add(time.Hour))
	check("AcquireLock", err)
	_, err = s.RenewLock(ctx, l, time.Minute, l0)
	check("RenewLock", err)
	check("ReleaseLock", s.ReleaseLock(ctx, l))
	check("PutToken", s.PutToken(ctx, gateway.Token{ID: "t", Hash: "h"}))
	_, err = s.TokenByHash(ctx, "h")
	check("TokenByHash", err)
	_, err = s.Tokens(ctx)
	check("Tokens", err)
	check("PutConnectionCheck", s.PutConnectionCheck(ctx, id, gateway.ConnectionCheck{OK: true}))
	_, err = s.ConnectionCheck(ctx, id)
	check("ConnectionCheck", err)
	check("PutScheduleState", s.PutScheduleState(ctx, id, gateway.ScheduleState{Failures: 1}))
	_, err = s.ScheduleState(ctx, id)
	check("ScheduleState", err)

	// Nothing changed: the lock is still held with its token.
	if _, err := s.RenewLock(ctxFor(t), l, time.Minute, l0); err != nil {
		t.Errorf("RenewLock after calls with a cancelled context: %v", err)
	}
	if ts := mustTokens(t, s); len(ts) != 0 {
		t.Errorf("Tokens after a cancelled PutToken: %v", ts)
	}
}
