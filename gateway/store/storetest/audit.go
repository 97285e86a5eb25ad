package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// auditTests specify the AuditStore, LoginStore and SecretStore parts of gateway.Store.
//
// Besides the method docs in gateway/audit.go, they pin down:
//
//   - AppendAudit is a compare-and-set on the chain's head record: it appends
//     only when e.Seq is head.Seq+1 and e.Prev is head.Hash (the zero entry
//     for a new chain), and then makes e the head, atomically; otherwise it
//     returns ErrConflict and writes nothing (a chain whose first append
//     failed is not listed). Stores neither compute nor check hashes. An
//     empty Chain is ErrInvalid.
//   - AuditHead reads the head record, not the last stored entry.
//   - Entries come back field for field (times equal to the nanosecond); a
//     nil and an empty Details are the same value.
//   - Audit chains outlive DeleteSchool.
//   - WalkAudit and WalkLogins stream: fn may use the store, an error from
//     fn stops the walk and is returned (errors.Is holds), and a cancelled
//     context stops it with context.Canceled.
//   - AddLogin with an empty ID is ErrInvalid and replaces a record with the
//     same ID; WalkLogins orders by At, then ID.
//   - Gateway secrets: an empty name or value is ErrInvalid; returned bytes
//     belong to the caller.
var auditTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"AuditRoundTrip", testAuditRoundTrip},
	{"AuditEmptyChain", testAuditEmptyChain},
	{"AuditConflicts", testAuditConflicts},
	{"AuditConcurrentAppenders", testAuditConcurrentAppenders},
	{"AuditChainsOrdered", testAuditChainsOrdered},
	{"AuditWalk", testAuditWalk},
	{"AuditSurvivesDeleteSchool", testAuditSurvivesDeleteSchool},
	{"AuditContextCanceled", testAuditContextCanceled},
	{"LoginsRoundTrip", testLoginsRoundTrip},
	{"LoginsDelete", testLoginsDelete},
	{"LoginsWalk", testLoginsWalk},
	{"GatewaySecrets", testGatewaySecrets},
	{"GatewaySecretRace", testGatewaySecretRace},
}

// auditEntry returns entry seq of chain on top of prev, every field set.
// Hash is a stand-in: stores do not check it.
func auditEntry(chain string, seq uint64, prev, tag string) gateway.AuditEntry {
	return gateway.AuditEntry{
		Chain:   chain,
		Seq:     seq,
		At:      t1.Add(-time.Duration(seq) * 1_000_000_007), // nanoseconds differ
		Kind:    gateway.AuditConsent,
		School:  "12AB00",
		Actor:   "token-" + tag,
		Details: map[string]string{"processing": "results", "new": "true", "tag": tag},
		Prev:    prev,
		Hash:    fmt.Sprintf("h/%s/%d/%s", chain, seq, tag),
	}
}

// appendN appends n entries to chain on top of its head and returns them.
func appendN(t *testing.T, s gateway.Store, chain string, n int) []gateway.AuditEntry {
	t.Helper()
	ctx := ctxFor(t)
	head, err := s.AuditHead(ctx, chain)
	if err != nil {
		t.Fatalf("AuditHead(%s): %v", chain, err)
	}
	var out []gateway.AuditEntry
	for range n {
		e := auditEntry(chain, head.Seq+1, head.Hash, "x")
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit(%s, seq %d): %v", chain, e.Seq, err)
		}
		out = append(out, e)
		head = e
	}
	return out
}

func walkAudit(t *testing.T, s gateway.Store, chain string) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	if err := s.WalkAudit(ctxFor(t), chain, func(e gateway.AuditEntry) error { out = append(out, e); return nil }); err != nil {
		t.Fatalf("WalkAudit(%s): %v", chain, err)
	}
	return out
}

// checkChain checks that a chain holds exactly want and its head is want's last.
func checkChain(t *testing.T, s gateway.Store, chain string, want []gateway.AuditEntry) {
	t.Helper()
	checkEqual(t, "WalkAudit("+chain+")", walkAudit(t, s, chain), want)
	head, err := s.AuditHead(ctxFor(t), chain)
	if err != nil {
		t.Fatalf("AuditHead(%s): %v", chain, err)
	}
	var wantHead gateway.AuditEntry
	if len(want) > 0 {
		wantHead = want[len(want)-1]
	}
	checkOne(t, "AuditHead("+chain+")", head, wantHead)
}

func testAuditRoundTrip(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const chain = "school/12AB00"
	first := auditEntry(chain, 1, "", "a")
	second := auditEntry(chain, 2, first.Hash, "b")
	second.School, second.Actor, second.Details = "", "", nil // optional fields empty
	third := auditEntry(chain, 3, second.Hash, "c")
	third.At = t0
	third.Details = map[string]string{"note": "ünïcode, \"quotes\", <tags> & \x00 bytes", "": "empty key"}
	var want []gateway.AuditEntry
	for _, e := range []gateway.AuditEntry{first, second, third} {
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit seq %d: %v", e.Seq, err)
		}
		want = append(want, e)
		checkChain(t, s, chain, want)
	}
	got := walkAudit(t, s, chain)
	for i := range got {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("entry %d: At %v, want %v", i+1, got[i].At, want[i].At)
		}
	}
	if err := s.AppendAudit(ctx, auditEntry("", 1, "", "x")); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("AppendAudit with an empty chain: %v, want ErrInvalid", err)
	}
}

func testAuditEmptyChain(t *testing.T, s gateway.Store) {
	checkChain(t, s, "school/unknown", nil)
	if chains, err := s.AuditChains(ctxFor(t)); err != nil || len(chains) != 0 {
		t.Errorf("AuditChains of an empty store: %v, %v", chains, err)
	}
}

func testAuditConflicts(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const chain = "gateway"
	// On an empty chain only seq 1 with an empty prev goes in.
	for _, e := range []gateway.AuditEntry{
		auditEntry(chain, 0, "", "zero"),
		auditEntry(chain, 2, "", "ahead"),
		auditEntry(chain, 1, "h/gateway/0/x", "prev"),
	} {
		if err := s.AppendAudit(ctx, e); !errors.Is(err, gateway.ErrConflict) {
			t.Errorf("AppendAudit seq %d prev %q on an empty chain: %v, want ErrConflict", e.Seq, e.Prev, err)
		}
	}
	checkChain(t, s, chain, nil)
	if chains, err := s.AuditChains(ctx); err != nil || len(chains) != 0 {
		t.Errorf("AuditChains after failed appends only: %v, %v", chains, err)
	}

	want := appendN(t, s, chain, 3)
	head := want[2]
	tests := []struct {
		name string
		seq  uint64
		prev string
	}{
		{"seq of the head", head.Seq, head.Hash},
		{"seq behind", head.Seq - 1, head.Hash},
		{"seq ahead", head.Seq + 2, head.Hash},
		{"seq zero", 0, head.Hash},
		{"prev of an older entry", head.Seq + 1, want[1].Hash},
		{"prev empty", head.Seq + 1, ""},
		{"prev unknown", head.Seq + 1, "h/other"},
		{"both wrong", head.Seq + 3, want[0].Hash},
	}
	for _, tc := range tests {
		if err := s.AppendAudit(ctx, auditEntry(chain, tc.seq, tc.prev, "bad")); !errors.Is(err, gateway.ErrConflict) {
			t.Errorf("%s: AppendAudit: %v, want ErrConflict", tc.name, err)
		}
	}
	checkChain(t, s, chain, want)
	want = append(want, appendN(t, s, chain, 1)...)
	checkChain(t, s, chain, want)
}

// testAuditConcurrentAppenders: writers racing on one chain, each rebuilding
// its entry on the new head after a conflict, make one chain without gaps
// or forks.
func testAuditConcurrentAppenders(t *testing.T, s gateway.Store) {
	const chain, writers, each = "school/12AB00", 8, 25
	ctx := ctxFor(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tag := fmt.Sprintf("w%d-%d", w, i)
				for tries := 0; ; tries++ {
					if tries == 10000 {
						errs <- fmt.Errorf("%s: still conflicting after %d tries", tag, tries)
						return
					}
					head, err := s.AuditHead(ctx, chain)
					if err != nil {
						errs <- err
						return
					}
					err = s.AppendAudit(ctx, auditEntry(chain, head.Seq+1, head.Hash, tag))
					if err == nil {
						break
					}
					if !errors.Is(err, gateway.ErrConflict) {
						errs <- err
						return
					}
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := walkAudit(t, s, chain)
	if len(got) != writers*each {
		t.Fatalf("%d entries, want %d", len(got), writers*each)
	}
	tags := map[string]bool{}
	prev := ""
	for i, e := range got {
		if e.Seq != uint64(i+1) || e.Prev != prev {
			t.Fatalf("entry %d has seq %d prev %q; want seq %d prev %q", i, e.Seq, e.Prev, i+1, prev)
		}
		prev = e.Hash
		tags[e.Details["tag"]] = true
	}
	if len(tags) != writers*each {
		t.Errorf("%d distinct entries, want %d", len(tags), writers*each)
	}
	head, err := s.AuditHead(ctx, chain)
	if err != nil || head.Hash != prev || head.Seq != writers*each {
		t.Errorf("AuditHead = seq %d hash %q, %v; want the last entry", head.Seq, head.Hash, err)
	}
}

func testAuditChainsOrdered(t *testing.T, s gateway.Store) {
	// Names with the characters key layouts are made of.
	chains := []string{"school/34CD00", "gateway", "school/12AB00", "school/a}b", "school/{x}", "school/*", "school/12AB00:log", "school/é"}
	byChain := map[string][]gateway.AuditEntry{}
	for i, c := range chains {
		byChain[c] = appendN(t, s, c, 1+i%3)
	}
	got, err := s.AuditChains(ctxFor(t))
	if err != nil {
		t.Fatalf("AuditChains: %v", err)
	}
	if want := slices.Sorted(slices.Values(chains)); !slices.Equal(got, want) {
		t.Errorf("AuditChains = %q, want %q", got, want)
	}
	for _, c := range chains {
		checkChain(t, s, c, byChain[c])
	}
}

func testAuditWalk(t *testing.T, s gateway.Store) {
	const chain, n = "gateway", 1100 // more than one page of any sensible size
	want := appendN(t, s, chain, n)
	checkChain(t, s, chain, want)

	stop := errors.New("stop here")
	calls := 0
	err := s.WalkAudit(ctxFor(t), chain, func(gateway.AuditEntry) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("WalkAudit: got %v after %d calls, want the callback's error after 3", err, calls)
	}

	// fn may use the store, even append to the chain being walked.
	seen := 0
	err = s.WalkAudit(ctxFor(t), chain, func(e gateway.AuditEntry) error {
		seen++
		if e.Seq == 1 {
			appendN(t, s, "school/12AB00", 1)
			appendN(t, s, chain, 1)
		}
		return nil
	})
	if err != nil || seen < n {
		t.Errorf("WalkAudit appending from fn: %v after %d entries", err, seen)
	}

	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	calls = 0
	err = s.WalkAudit(ctx, chain, func(gateway.AuditEntry) error {
		calls++
		if calls == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WalkAudit cancelled during the walk: got %v after %d entries, want context.Canceled", err, calls)
	}
}

// testAuditSurvivesDeleteSchool: offboarding deletes the school's data, not
// its audit trail.
func testAuditSurvivesDeleteSchool(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	for _, id := range []gateway.SchoolID{"12AB00", "1{2}*?[AB]:x"} {
		chain := gateway.AuditChainOf(id)
		mustSchool(t, s, id)
		want := appendN(t, s, chain, 3)
		if err := s.DeleteSchool(ctx, id); err != nil {
			t.Fatalf("DeleteSchool(%s): %v", id, err)
		}
		checkChain(t, s, chain, want)
		if chains, err := s.AuditChains(ctx); err != nil || !slices.Contains(chains, chain) {
			t.Errorf("AuditChains after DeleteSchool(%s): %q, %v", id, chains, err)
		}
		// A school enrolled again continues its chain.
		mustSchool(t, s, id)
		want = append(want, appendN(t, s, chain, 1)...)
		checkChain(t, s, chain, want)
	}
}

func testAuditContextCanceled(t *testing.T, s gateway.Store) {
	const chain = "gateway"
	want := appendN(t, s, chain, 2)
	login := gateway.Login{ID: "l1", Account: "admin", At: t0, OK: true}
	if err := s.AddLogin(ctxFor(t), login); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutGatewaySecret(ctxFor(t), "evidence", []byte("k1"), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: got %v, want context.Canceled", what, err)
		}
	}
	check("AppendAudit", s.AppendAudit(ctx, auditEntry(chain, 3, want[1].Hash, "x")))
	_, err := s.AuditHead(ctx, chain)
	check("AuditHead", err)
	check("WalkAudit", s.WalkAudit(ctx, chain, func(gateway.AuditEntry) error { return nil }))
	_, err = s.AuditChains(ctx)
	check("AuditChains", err)
	check("AddLogin", s.AddLogin(ctx, gateway.Login{ID: "l2", At: t1}))
	check("WalkLogins", s.WalkLogins(ctx, func(gateway.Login) error { return nil }))
	_, err = s.DeleteLogins(ctx, []string{"l1"})
	check("DeleteLogins", err)
	_, err = s.GatewaySecret(ctx, "evidence")
	check("GatewaySecret", err)
	_, err = s.PutGatewaySecret(ctx, "evidence", []byte("k2"), false)
	check("PutGatewaySecret", err)
	_, err = s.PutGatewaySecret(ctx, "other", []byte("k2"), true)
	check("PutGatewaySecret ifAbsent", err)

	// Nothing changed.
	checkChain(t, s, chain, want)
	checkEqual(t, "WalkLogins", walkLogins(t, s), []gateway.Login{login})
	if v, err := s.GatewaySecret(ctxFor(t), "evidence"); err != nil || string(v) != "k1" {
		t.Errorf("GatewaySecret after cancelled calls: %q, %v", v, err)
	}
	_, err = s.GatewaySecret(ctxFor(t), "other")
	checkNotFound(t, "GatewaySecret(other) after a cancelled put", err)
}
