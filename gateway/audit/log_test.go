package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

func TestAppendBuildsTheChain(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	cest := time.FixedZone("CEST", 2*3600)
	clock := time.Date(2025, 9, 2, 8, 15, 42, 123456789, cest)
	log := audit.New(st, func() time.Time { return clock })

	details := map[string]string{"processing": "results", "new": "true"}
	e1, err := log.School(ctx, "12AB00", gateway.AuditConsent, "cli", details)
	if err != nil {
		t.Fatal(err)
	}
	details["new"] = "false" // the entry holds its own copy
	clock = clock.Add(time.Second)
	e2, err := log.School(ctx, "12AB00", gateway.AuditSync, "scheduler", nil)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := log.Gateway(ctx, gateway.AuditKeyRotate, "cli", nil)
	if err != nil {
		t.Fatal(err)
	}

	want1 := gateway.AuditEntry{Chain: "school/12AB00", Seq: 1, At: time.Date(2025, 9, 2, 6, 15, 42, 123456789, time.UTC),
		Kind: gateway.AuditConsent, School: "12AB00", Actor: "cli", Details: map[string]string{"processing": "results", "new": "true"}}
	want1.Hash = audit.Hash(want1)
	if fmt.Sprint(e1) != fmt.Sprint(want1) || e1.At.Location() != time.UTC {
		t.Errorf("first entry\n got %+v\nwant %+v", e1, want1)
	}
	if e2.Seq != 2 || e2.Prev != e1.Hash || e2.Hash != audit.Hash(e2) || !e2.At.Equal(clock) {
		t.Errorf("second entry %+v does not extend %s", e2, e1.Hash)
	}
	if g1.Chain != gateway.AuditChainGateway || g1.Seq != 1 || g1.Prev != "" || g1.School != "" {
		t.Errorf("gateway entry %+v", g1)
	}
	if head := st.heads["school/12AB00"]; fmt.Sprint(head) != fmt.Sprint(e2) {
		t.Errorf("stored head %+v, want %+v", head, e2)
	}
	if ps := audit.VerifyChain("school/12AB00", st.entries["school/12AB00"], st.heads["school/12AB00"]); len(ps) != 0 {
		t.Errorf("VerifyChain: %v", ps)
	}
}

func TestAppendInvalid(t *testing.T) {
	tests := []struct {
		name    string
		chain   string
		kind    gateway.AuditKind
		school  gateway.SchoolID
		actor   string
		details map[string]string
	}{
		{name: "empty chain", kind: gateway.AuditSync},
		{name: "empty kind", chain: "gateway"},
		{name: "bad UTF-8 in actor", chain: "gateway", kind: gateway.AuditLogin, actor: "a\xffb"},
		{name: "bad UTF-8 in school", chain: "gateway", kind: gateway.AuditLogin, school: "\xc3"},
		{name: "bad UTF-8 in a detail key", chain: "gateway", kind: gateway.AuditLogin, details: map[string]string{"\xfe": "v"}},
		{name: "bad UTF-8 in a detail value", chain: "gateway", kind: gateway.AuditLogin, details: map[string]string{"k": "\xfe"}},
		{name: "bad UTF-8 in chain", chain: "school/\xff", kind: gateway.AuditLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			_, err := audit.New(st, nil).Append(t.Context(), tc.chain, tc.kind, tc.school, tc.actor, tc.details)
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("Append: %v, want ErrInvalid", err)
			}
			if st.appends != 0 {
				t.Errorf("%d appends reached the store", st.appends)
			}
		})
	}
}

// A lost race is retried on the new head; other errors are not retried.
func TestAppendRetries(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name      string
		rivals    int   // appends by another writer, one before each of our first tries
		fail      error // returned by every append instead
		wantSeq   uint64
		wantErr   []error
		wantCalls int
	}{
		{name: "no race", wantSeq: 2, wantCalls: 1},
		{name: "lost once", rivals: 1, wantSeq: 3, wantCalls: 3},
		{name: "lost 49 times", rivals: 49, wantSeq: 51, wantCalls: 99},
		{name: "lost 50 times", rivals: 50, wantErr: []error{gateway.ErrTransient, gateway.ErrConflict}, wantCalls: 100},
		{name: "store failure", fail: boom, wantErr: []error{boom}, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := newMemStore()
			log := audit.New(st, nil)
			rival := audit.New(st, nil)
			if _, err := log.Gateway(ctx, gateway.AuditLogin, "a", nil); err != nil {
				t.Fatal(err)
			}
			st.appends = 0
			left := tc.rivals
			st.before = func(e gateway.AuditEntry) error {
				if tc.fail != nil {
					return tc.fail
				}
				if e.Actor == "rival" || left == 0 {
					return nil
				}
				left--
				_, err := rival.Gateway(ctx, gateway.AuditLogin, "rival", nil)
				return err
			}
			e, err := log.Gateway(ctx, gateway.AuditLogin, "me", nil)
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Append: %v, want %v", err, want)
				}
			}
			if tc.wantErr == nil && (err != nil || e.Seq != tc.wantSeq) {
				t.Errorf("Append: seq %d, %v; want seq %d", e.Seq, err, tc.wantSeq)
			}
			if st.appends != tc.wantCalls {
				t.Errorf("%d calls of AppendAudit, want %d", st.appends, tc.wantCalls)
			}
			if ps := audit.VerifyChain("gateway", st.entries["gateway"], st.heads["gateway"]); len(ps) != 0 {
				t.Errorf("VerifyChain: %v", ps)
			}
		})
	}
}

func TestAppendCancelledWhileRetrying(t *testing.T) {
	st := newMemStore()
	ctx, cancel := context.WithCancel(t.Context())
	st.before = func(gateway.AuditEntry) error {
		cancel()
		return fmt.Errorf("lost: %w", gateway.ErrConflict)
	}
	_, err := audit.New(st, nil).Gateway(ctx, gateway.AuditLogin, "me", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Append: %v, want context.Canceled", err)
	}
}

// Writers racing on one chain through one store make one chain without gaps.
func TestAppendConcurrent(t *testing.T) {
	const writers, each = 8, 25
	st := newMemStore()
	log := audit.New(st, nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := appendRacing(t.Context(), log, "12AB00", fmt.Sprint("w", w), fmt.Sprint(i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	es := st.entries["school/12AB00"]
	if len(es) != writers*each {
		t.Fatalf("%d entries, want %d", len(es), writers*each)
	}
	if ps := audit.VerifyChain("school/12AB00", es, st.heads["school/12AB00"]); len(ps) != 0 {
		t.Errorf("VerifyChain: %v", ps)
	}
	seen := map[string]bool{}
	_ = st.WalkAudit(t.Context(), "school/12AB00", func(e gateway.AuditEntry) error { // the writers' names joined back
		seen[e.Actor+"/"+e.Details["i"]] = true
		return nil
	})
	if len(seen) != writers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), writers*each)
	}
}

// appendRacing appends like a caller that honours the retry class. Append
// gives up on a contended chain after a fixed number of lost races
// (gateway.ErrTransient; TestAppendRetries in gateway/audit covers that),
// and how often one writer loses in a row depends on how busy the machine
// is, so a racing writer asks again, within a generous deadline. Any other
// error is returned at once.
func appendRacing(ctx context.Context, log *audit.Log, school gateway.SchoolID, actor, i string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := log.School(ctx, school, gateway.AuditSync, actor, map[string]string{"i": i})
		if err == nil || !errors.Is(err, gateway.ErrTransient) || time.Now().After(deadline) {
			return err
		}
	}
}
