package storetest

import (
	"errors"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// auditPersonalTests specify the personal parts of audit entries
// (AuditEntry.Personal, DeleteAuditPersonal).
//
// Besides the method docs in gateway/audit.go, they pin down:
//
//   - An entry with a personal part comes back from WalkAudit and AuditHead
//     exactly as appended (Actor, every detail, Personal with its Salt)
//     while the part is kept.
//   - After DeleteAuditPersonal it comes back as AuditEntry.SplitPersonal
//     leaves it: no personal Actor, no personal details, Personal without
//     Salt (PersonalExpired), everything else (Hash and Prev included) as
//     appended; the head record too when it is that entry. Deleting again
//     counts nothing; other entries, and the same seq of another chain,
//     keep their parts.
//   - A refused append (ErrConflict) keeps no personal part: the entry
//     appended at that seq afterwards comes back with its own.
//   - Personal parts outlive DeleteSchool, like the chain.
//   - Whether the values are really gone from the store's files and keys is
//     tested by each store on its raw data.
var auditPersonalTests = []struct {
	name string
	fn   func(t *testing.T, s gateway.Store)
}{
	{"AuditPersonalRoundTrip", testAuditPersonalRoundTrip},
	{"AuditPersonalDelete", testAuditPersonalDelete},
	{"AuditPersonalRefusedAppend", testAuditPersonalRefusedAppend},
	{"AuditPersonalInvalid", testAuditPersonalInvalid},
}

// personalEntry is auditEntry with a personal part: the actor and the
// details "account" and "remote" (the commitment is a stand-in: stores do
// not check it).
func personalEntry(chain string, seq uint64, prev, tag string) gateway.AuditEntry {
	e := auditEntry(chain, seq, prev, tag)
	e.Actor = "Jan de Vries (token " + tag + ")"
	e.Details["account"] = "acct-" + tag
	e.Details["remote"] = "192.0.2." + tag
	e.Personal = &gateway.AuditPersonal{Actor: true, Keys: []string{"account", "remote"}, Sum: "sum-" + tag, Salt: "salt-" + tag}
	return e
}

// appendMixed appends n entries, every odd seq with a personal part.
func appendMixed(t *testing.T, s gateway.Store, chain string, n int) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	prev := ""
	for i := 1; i <= n; i++ {
		e := auditEntry(chain, uint64(i), prev, "p")
		if i%2 == 1 {
			e = personalEntry(chain, uint64(i), prev, string(rune('a'+i)))
		}
		if err := s.AppendAudit(ctxFor(t), e); err != nil {
			t.Fatalf("AppendAudit(%s, seq %d): %v", chain, i, err)
		}
		out = append(out, e)
		prev = e.Hash
	}
	return out
}

func testAuditPersonalRoundTrip(t *testing.T, s gateway.Store) {
	const chain = "gateway"
	want := appendMixed(t, s, chain, 5)
	checkChain(t, s, chain, want)
	mustSchool(t, s, "12AB00")
	if err := s.DeleteSchool(ctxFor(t), "12AB00"); err != nil {
		t.Fatal(err)
	}
	checkChain(t, s, chain, want)
}

func testAuditPersonalDelete(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const chain, other = "school/12AB00", "school/34CD00"
	want := appendMixed(t, s, chain, 5)
	wantOther := appendMixed(t, s, other, 3)
	tests := []struct {
		seqs []uint64
		n    int
	}{
		{nil, 0},
		{[]uint64{2, 4, 99, 0}, 0}, // no personal part, unknown
		{[]uint64{1, 5, 1}, 2},
		{[]uint64{1, 5}, 0},
	}
	for _, tc := range tests {
		n, err := s.DeleteAuditPersonal(ctx, chain, tc.seqs)
		if err != nil || n != tc.n {
			t.Errorf("DeleteAuditPersonal(%v) = %d, %v; want %d", tc.seqs, n, err, tc.n)
		}
	}
	for _, i := range []int{0, 4} {
		want[i], _ = want[i].SplitPersonal()
		if !want[i].PersonalExpired() || want[i].Actor != "" || want[i].Details["remote"] != "" {
			t.Fatalf("SplitPersonal left %+v", want[i])
		}
	}
	checkChain(t, s, chain, want) // the head record (seq 5) too
	checkChain(t, s, other, wantOther)
	if n, err := s.DeleteAuditPersonal(ctx, "school/unknown", []uint64{1}); err != nil || n != 0 {
		t.Errorf("DeleteAuditPersonal of an unknown chain = %d, %v", n, err)
	}
	if chains, err := s.AuditChains(ctx); err != nil || len(chains) != 2 {
		t.Errorf("AuditChains after deleting personal parts: %v, %v", chains, err)
	}
}

func testAuditPersonalRefusedAppend(t *testing.T, s gateway.Store) {
	ctx := ctxFor(t)
	const chain = "gateway"
	want := appendMixed(t, s, chain, 2)
	if err := s.AppendAudit(ctx, personalEntry(chain, 3, "h/wrong", "lost")); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("AppendAudit off the head: %v, want ErrConflict", err)
	}
	won := personalEntry(chain, 3, want[1].Hash, "won")
	if err := s.AppendAudit(ctx, won); err != nil {
		t.Fatal(err)
	}
	checkChain(t, s, chain, append(want, won))
	plain := auditEntry(chain, 4, won.Hash, "plain")
	if err := s.AppendAudit(ctx, plain); err != nil {
		t.Fatal(err)
	}
	checkChain(t, s, chain, append(want, won, plain))
}

func testAuditPersonalInvalid(t *testing.T, s gateway.Store) {
	e := personalEntry("gateway", 1, "", "x")
	e.Personal.Salt = ""
	if err := s.AppendAudit(ctxFor(t), e); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("AppendAudit of a personal part without salt: %v, want ErrInvalid", err)
	}
	checkChain(t, s, "gateway", nil)
}
