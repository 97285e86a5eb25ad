package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

const chainA = "school/12AB00"

var at0 = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// sealed returns e with its hash set.
func sealed(e gateway.AuditEntry) gateway.AuditEntry {
	e.Hash = audit.Hash(e)
	return e
}

// build returns an intact chain of n entries and its head record.
func build(chain string, n int) ([]gateway.AuditEntry, gateway.AuditEntry) {
	var es []gateway.AuditEntry
	prev := ""
	for i := 1; i <= n; i++ {
		e := sealed(gateway.AuditEntry{
			Chain: chain, Seq: uint64(i), At: at0.Add(time.Duration(i) * time.Minute),
			Kind: gateway.AuditSync, School: "12AB00", Actor: "scheduler",
			Details: map[string]string{"run": fmt.Sprint("run", i), "pupils": fmt.Sprint(100 + i)},
			Prev:    prev,
		})
		es = append(es, e)
		prev = e.Hash
	}
	var head gateway.AuditEntry
	if n > 0 {
		head = es[n-1]
	}
	return es, head
}

// forged returns a well-formed entry that was never appended.
func forged(chain string, seq uint64, prev string) gateway.AuditEntry {
	return sealed(gateway.AuditEntry{Chain: chain, Seq: seq, At: at0, Kind: gateway.AuditConsent, School: "12AB00", Actor: "intruder", Prev: prev})
}

// rechain re-links and re-hashes es[from:] on top of es[from-1], as an
// attacker who knows the form would.
func rechain(es []gateway.AuditEntry, from int) {
	for i := from; i < len(es); i++ {
		es[i].Seq = uint64(i + 1)
		es[i].Prev = ""
		if i > 0 {
			es[i].Prev = es[i-1].Hash
		}
		es[i] = sealed(es[i])
	}
}

func kinds(ps []gateway.AuditProblem) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s@%d", p.Kind, p.Seq))
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	const n = 8
	tests := []struct {
		name   string
		tamper func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry
		want   []string // kind@seq, in report order
		detail string   // when set, a substring of the first problem's detail
	}{
		{name: "intact", tamper: nil, want: []string{}},
		{name: "edited details", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Details = map[string]string{"run": "run3", "pupils": "999"}
			return es
		}, want: []string{"edited@3"}, detail: "content was changed"},
		{name: "detail removed", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Details = map[string]string{"run": "run3"}
			return es
		}, want: []string{"edited@3"}},
		{name: "edited time", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[4].At = es[4].At.Add(time.Nanosecond)
			return es
		}, want: []string{"edited@5"}},
		{name: "edited actor", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[0].Actor = "someone else"
			return es
		}, want: []string{"edited@1"}},
		{name: "edited kind", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[3].Kind = gateway.AuditSyncApprove
			return es
		}, want: []string{"edited@4"}},
		{name: "edited hash", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Hash = strings.Repeat("0", 64)
			return es
		}, want: []string{"edited@3"}, detail: "stored hash was changed"},
		{name: "edited last entry", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[n-1].Actor = "x"
			return es
		}, want: []string{"edited@8"}},
		{name: "edited last entry and re-hashed", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[n-1].Actor = "x"
			es[n-1] = sealed(es[n-1])
			return es
		}, want: []string{"head@8"}},
		{name: "edited and re-hashed", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Details = nil
			es[2] = sealed(es[2])
			return es
		}, want: []string{"link@4"}},
		{name: "replaced by a forged entry", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2] = forged(chainA, 3, es[1].Hash)
			return es
		}, want: []string{"link@4"}},
		{name: "removed in the middle", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Delete(es, 2, 3)
		}, want: []string{"removed@3"}},
		{name: "removed several in the middle", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Delete(es, 2, 5)
		}, want: []string{"removed@3"}},
		{name: "removed the first", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return es[1:]
		}, want: []string{"removed@1"}},
		{name: "removed and renumbered", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es = slices.Delete(es, 2, 3)
			for i := 2; i < len(es); i++ {
				es[i].Seq--
			}
			return es
		}, want: []string{"edited@3", "link@3", "edited@4", "edited@5", "edited@6", "edited@7", "truncated@8"}},
		{name: "removed, later entries re-chained", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es = slices.Delete(es, 2, 3)
			rechain(es, 2)
			return es
		}, want: []string{"truncated@8"}},
		{name: "removed at the end", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return es[:n-2]
		}, want: []string{"truncated@8"}},
		{name: "removed all", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return nil
		}, want: []string{"truncated@8"}},
		{name: "swapped neighbours", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2], es[3] = es[3], es[2]
			return es
		}, want: []string{"reordered@3"}},
		{name: "last moved to the front", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return append([]gateway.AuditEntry{es[n-1]}, es[:n-1]...)
		}, want: []string{"reordered@1", "reordered@2", "reordered@3", "reordered@4", "reordered@5", "reordered@6", "reordered@7"}},
		{name: "reordered and one of them forged", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2], es[3] = es[3], forged(chainA, 3, es[1].Hash)
			return es
		}, want: []string{"reordered@3", "link@4"}},
		{name: "inserted after the original", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Insert(es, 3, forged(chainA, 3, es[1].Hash))
		}, want: []string{"inserted@3"}},
		{name: "inserted before the original", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Insert(es, 2, forged(chainA, 3, es[1].Hash))
		}, want: []string{"inserted@3"}, detail: "so the one stored before it"},
		{name: "inserted with a seq already passed", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Insert(es, 5, forged(chainA, 2, es[0].Hash))
		}, want: []string{"inserted@2"}},
		{name: "inserted, later entries renumbered and re-chained", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es = slices.Insert(es, 2, forged(chainA, 3, es[1].Hash))
			rechain(es, 2)
			return es
		}, want: []string{"head@8", "inserted@9"}},
		{name: "inserted at seq 0", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Insert(es, 0, forged(chainA, 0, ""))
		}, want: []string{"inserted@0"}},
		{name: "duplicated entry", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return slices.Insert(es, 4, es[3])
		}, want: []string{"inserted@4"}},
		{name: "appended beyond the head record", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			return append(es, forged(chainA, n+1, es[n-1].Hash))
		}, want: []string{"inserted@9"}},
		{name: "sequence gap by renumbering", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			for i := 4; i < len(es); i++ {
				es[i].Seq += 2
				es[i] = sealed(es[i])
			}
			return es
		}, want: []string{"removed@5", "link@8", "head@8", "link@9", "inserted@9", "link@10"}},
		{name: "entry of another chain", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			other, _ := build("school/34CD00", n)
			es[2] = other[2]
			return es
		}, want: []string{"chain@3", "link@3", "link@4"}},
		{name: "chain field edited", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Chain = "school/34CD00"
			return es
		}, want: []string{"chain@3", "edited@3"}},
		{name: "first entry with a prev", tamper: func(es []gateway.AuditEntry, _ *gateway.AuditEntry) []gateway.AuditEntry {
			es[0].Prev = strings.Repeat("a", 64)
			es[0] = sealed(es[0])
			rechain(es, 1)
			return es
		}, want: []string{"link@1", "head@8"}},
		{name: "head record edited", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			head.Hash = strings.Repeat("f", 64)
			return es
		}, want: []string{"head@8", "head@8"}},
		{name: "head record of another chain", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			_, *head = build("school/34CD00", n)
			return es
		}, want: []string{"head@8", "head@8"}},
		{name: "head record missing", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			*head = gateway.AuditEntry{}
			return es
		}, want: []string{"head@8"}},
		{name: "head record ahead", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			*head = forged(chainA, n+3, "")
			return es
		}, want: []string{"truncated@11"}},

		// What a hash chain cannot detect (see doc.go): these must pass.
		{name: "limit: tail removed and head rolled back", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			es = es[:n-2]
			*head = es[len(es)-1]
			return es
		}, want: []string{}},
		{name: "limit: everything from an entry on rewritten, head too", tamper: func(es []gateway.AuditEntry, head *gateway.AuditEntry) []gateway.AuditEntry {
			es[2].Details = map[string]string{"run": "run3", "pupils": "0"}
			rechain(es, 2)
			*head = es[len(es)-1]
			return es
		}, want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, head := build(chainA, n)
			if tc.tamper != nil {
				es = tc.tamper(es, &head)
			}
			ps := audit.VerifyChain(chainA, es, head)
			if got := kinds(ps); !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want %v", got, tc.want)
				for _, p := range ps {
					t.Logf("  %v", p)
				}
			}
			for _, p := range ps {
				if p.Chain != chainA {
					t.Errorf("problem names chain %q", p.Chain)
				}
			}
			if tc.detail != "" && (len(ps) == 0 || !strings.Contains(ps[0].Detail, tc.detail)) {
				t.Errorf("problems %v: want a detail containing %q", ps, tc.detail)
			}
		})
	}
}

func TestVerifyChainEmpty(t *testing.T) {
	if ps := audit.VerifyChain(chainA, nil, gateway.AuditEntry{}); len(ps) != 0 {
		t.Errorf("empty chain: %v", ps)
	}
}

// A chain that is wrong throughout lists at most 1000 problems and counts the rest.
func TestVerifyChainCapsProblems(t *testing.T) {
	es, head := build(chainA, 1500)
	for i := range es {
		es[i].Actor = "x"
	}
	ps := audit.VerifyChain(chainA, es, head)
	if len(ps) != 1001 || ps[1000].Kind != audit.ProblemMore || !strings.Contains(ps[1000].Detail, "500 more") {
		t.Errorf("got %d problems, last %v; want 1000 and a ProblemMore counting 500", len(ps), ps[len(ps)-1])
	}
}

func TestVerifyStore(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	log := audit.New(st, func() time.Time { return at0 })
	for i := range 30 {
		if _, err := log.School(ctx, gateway.SchoolID(fmt.Sprint("12AB0", i%3)), gateway.AuditSync, "scheduler", map[string]string{"i": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := log.Gateway(ctx, gateway.AuditKeyRotate, "cli", nil); err != nil {
		t.Fatal(err)
	}
	r, err := audit.Verify(ctx, st)
	if err != nil || !r.OK || r.Chains != 4 || r.Entries != 31 {
		t.Fatalf("Verify = %+v, %v; want 4 chains, 31 entries, no problems", r, err)
	}

	// Tampering with one chain is reported for that chain only.
	st.entries["school/12AB01"][4].Details["i"] = "99"
	r, err = audit.Verify(ctx, st)
	if err != nil || r.OK || len(r.Problems) != 1 || r.Problems[0].Chain != "school/12AB01" || r.Problems[0].Kind != audit.ProblemEdited {
		t.Errorf("Verify after tampering = %+v, %v; want one edited problem in school/12AB01", r, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := audit.Verify(cancelled, st); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: %v", err)
	}
}

// Entries appended while Verify walks a chain are not taken for tampering.
func TestVerifyWhileAppending(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	log := audit.New(st, nil)
	for range 5 {
		if _, err := log.Gateway(ctx, gateway.AuditLogin, "api", nil); err != nil {
			t.Fatal(err)
		}
	}
	w := appendingWalker{memStore: st, log: log}
	r, err := audit.Verify(ctx, &w)
	if err != nil || !r.OK {
		t.Errorf("Verify during appends = %+v, %v", r, err)
	}
}

// appendingWalker appends an entry before walking and after each entry, so
// the head moves during the walk.
type appendingWalker struct {
	*memStore
	log *audit.Log
}

func (w *appendingWalker) WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error {
	if _, err := w.log.Gateway(ctx, gateway.AuditLogin, "api", nil); err != nil {
		return err
	}
	return w.memStore.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
		if _, err := w.log.Gateway(ctx, gateway.AuditLogin, "api", nil); err != nil {
			return err
		}
		return fn(e)
	})
}
