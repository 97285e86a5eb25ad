package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

// A login entry with its personal part joined back, as a store returns it.
func loginEntry() gateway.AuditEntry {
	return gateway.AuditEntry{
		Chain: "gateway", Seq: 3, At: time.Date(2025, 9, 2, 8, 15, 42, 0, time.FixedZone("CEST", 2*3600)),
		Kind: gateway.AuditLogin, Actor: "tok-7",
		Details:  map[string]string{"account": "tok-7", "ok": "true", "remote": "192.0.2.7", "via": "api"},
		Personal: &gateway.AuditPersonal{Actor: true, Keys: []string{"account", "remote"}, Salt: "00112233445566778899aabbccddeeff"},
		Prev:     "ab",
	}
}

// Form 2 and the commitment, pinned like form 1: the golden values were
// computed outside Go with printf '%s' '<form>' | sha256sum.
func TestHashGoldenPersonal(t *testing.T) {
	e := loginEntry()
	const form = `{"v":1,"chain":"gateway","seq":3,"salt":"00112233445566778899aabbccddeeff","actor":"tok-7","details":{"account":"tok-7","remote":"192.0.2.7"}}`
	const sum = "44e0ca619194c01a87bcb20775c39ccd1e9954fd5d39a26408f1d6deb3474ee4"
	if got := string(audit.PersonalForm(e)); got != form {
		t.Errorf("PersonalForm:\n got %s\nwant %s", got, form)
	}
	if got := audit.PersonalSum(e); got != sum {
		t.Fatalf("PersonalSum = %s, want %s", got, sum)
	}
	e.Personal.Sum = sum
	const canonical = `{"v":2,"chain":"gateway","seq":3,"at":"2025-09-02T06:15:42Z","kind":"login","school":"","actor":"","details":{"ok":"true","via":"api"},"personal":{"actor":true,"keys":["account","remote"],"sum":"` + sum + `"},"prev":"ab"}`
	const hash = "fe0f88aaf532e8151c88387cc51b06e836ae31343fabcd0f08d23a60f03c6659"
	for _, tc := range []struct {
		name string
		e    gateway.AuditEntry
	}{{"joined", e}, {"as stored", stored(e)}} {
		if got := string(audit.Canonical(tc.e)); got != canonical {
			t.Errorf("%s: Canonical:\n got %s\nwant %s", tc.name, got, canonical)
		}
		if got := audit.Hash(tc.e); got != hash {
			t.Errorf("%s: Hash = %s, want %s", tc.name, got, hash)
		}
	}
	if s := sha256.Sum256([]byte(canonical)); hex.EncodeToString(s[:]) != hash {
		t.Fatal("the golden hash is not the SHA-256 of the golden form")
	}

	// Only the details are personal: the actor stays in the form.
	c := gateway.AuditEntry{Chain: "school/12AB00", Seq: 9, At: e.At, Kind: gateway.AuditConsent, School: "12AB00", Actor: "cli",
		Details:  map[string]string{"by": "Jan", "new": "true", "processing": "results"},
		Personal: &gateway.AuditPersonal{Keys: []string{"by"}, Sum: "00"}}
	if got, want := audit.Hash(c), "22125126634a239e8fa835f34cbc590d273179a1c086745ea2c4bbc9d1677a82"; got != want {
		t.Errorf("Hash of an entry with personal details only = %s, want %s (%s)", got, want, audit.Canonical(c))
	}
}

// stored is e as the chain keeps it: what remains once the personal part
// is deleted.
func stored(e gateway.AuditEntry) gateway.AuditEntry {
	s, _ := e.SplitPersonal()
	return s
}

// The hash does not see the personal values, but sees the commitment and
// which fields it covers; the commitment sees values, salt and place.
func TestHashPersonalCovers(t *testing.T) {
	base := loginEntry()
	base.Personal.Sum = audit.PersonalSum(base)
	h, sum := audit.Hash(base), base.Personal.Sum
	edits := []struct {
		name           string
		edit           func(e *gateway.AuditEntry)
		sameHash, same bool // same hash; same commitment
	}{
		{"personal value", func(e *gateway.AuditEntry) {
			e.Details = map[string]string{"account": "tok-7", "ok": "true", "remote": "x", "via": "api"}
		}, true, false},
		{"personal actor", func(e *gateway.AuditEntry) { e.Actor = "tok-8" }, true, false},
		{"salt", func(e *gateway.AuditEntry) { e.Personal.Salt = "ff" }, true, false},
		{"seq", func(e *gateway.AuditEntry) { e.Seq = 4 }, false, false},
		{"chain", func(e *gateway.AuditEntry) { e.Chain = "school/12AB00" }, false, false},
		{"other detail", func(e *gateway.AuditEntry) {
			e.Details = map[string]string{"account": "tok-7", "ok": "false", "remote": "192.0.2.7", "via": "api"}
		}, false, true},
		{"sum", func(e *gateway.AuditEntry) { e.Personal.Sum = "00" }, false, true},
		{"keys", func(e *gateway.AuditEntry) { e.Personal.Keys = []string{"account"} }, false, false},
		{"actor flag", func(e *gateway.AuditEntry) { e.Personal.Actor = false }, false, false},
		{"keys unsorted", func(e *gateway.AuditEntry) { e.Personal.Keys = []string{"remote", "account"} }, true, true},
		{"expired", func(e *gateway.AuditEntry) { *e = stored(*e) }, true, false},
	}
	for _, tc := range edits {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			p := *base.Personal
			e.Personal = &p
			tc.edit(&e)
			if got := audit.Hash(e) == h; got != tc.sameHash {
				t.Errorf("hash unchanged = %v, want %v", got, tc.sameHash)
			}
			if got := audit.PersonalSum(e) == sum; got != tc.same {
				t.Errorf("commitment unchanged = %v, want %v", got, tc.same)
			}
		})
	}
}

// fixedRandom hands out the bytes 0, 1, 2, ... for salts.
type fixedRandom struct{ n byte }

func (r *fixedRandom) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

// Append keeps the personal part of an entry apart: the actor naming a
// person and the personal details, with a salt from the Log's random source.
func TestAppendPersonal(t *testing.T) {
	st := newMemStore()
	log := audit.New(st, func() time.Time { return at0 }).WithRandom(&fixedRandom{})
	ctx := t.Context()
	e, err := log.Gateway(ctx, gateway.AuditLogin, "Jan de Vries (token tok-7)",
		map[string]string{"account": "tok-7", "remote": "192.0.2.7", "ok": "true", "request_id": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	p := e.Personal
	if p == nil || !p.Actor || !slices.Equal(p.Keys, []string{"account", "remote"}) || p.Salt != "000102030405060708090a0b0c0d0e0f" ||
		p.Sum != audit.PersonalSum(e) || e.Hash != audit.Hash(e) {
		t.Fatalf("entry %+v, personal %+v", e, p)
	}
	// The chain holds none of it; the store joins it back.
	raw := fmt.Sprint(st.entries["gateway"], st.heads["gateway"])
	for _, v := range []string{"Jan de Vries", "tok-7", "192.0.2.7", p.Salt} {
		if strings.Contains(raw, v) {
			t.Errorf("the chain holds %q: %s", v, raw)
		}
	}
	if got := walk(t, st, "gateway"); len(got) != 1 || got[0].Actor != e.Actor || got[0].Details["remote"] != "192.0.2.7" || got[0].Personal.Salt != p.Salt {
		t.Errorf("walked %+v", got)
	}

	// Nothing personal: no personal part, form 1.
	for _, actor := range audit.SystemActors {
		e, err := log.Gateway(ctx, gateway.AuditKeyRotate, actor, map[string]string{"term": "2"})
		if err != nil || e.Personal != nil || !bytes.HasPrefix(audit.Canonical(e), []byte(`{"v":1,`)) {
			t.Errorf("actor %q: %+v, %v; want no personal part", actor, e, err)
		}
	}
	// Personal details with a system actor: only the details are personal.
	e, err = log.Gateway(ctx, gateway.AuditTokenCreate, "cli", map[string]string{"token": "t1", "name": "Piet"})
	if err != nil || e.Personal == nil || e.Personal.Actor || !slices.Equal(e.Personal.Keys, []string{"name"}) {
		t.Errorf("token entry %+v, %v", e, err)
	}
}

func walk(t *testing.T, st *memStore, chain string) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	if err := st.WalkAudit(t.Context(), chain, func(e gateway.AuditEntry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Deleting personal parts leaves a chain that verifies; Shown marks what
// went. A kept part that was changed or moved, and a value written back into
// an expired entry, are reported.
func TestVerifyPersonal(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	log := audit.New(st, func() time.Time { return at0 })
	for i := range 6 {
		if _, err := log.Gateway(ctx, gateway.AuditLogin, fmt.Sprint("tok-", i), map[string]string{"account": fmt.Sprint("tok-", i), "remote": fmt.Sprint("192.0.2.", i), "ok": "true"}); err != nil {
			t.Fatal(err)
		}
		if _, err := log.Gateway(ctx, gateway.AuditRetentionPurge, "retention", map[string]string{"pupils": "0"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.DeleteAuditPersonal(ctx, "gateway", []uint64{1, 3, 5, 2, 99}); err != nil || n != 3 {
		t.Fatalf("DeleteAuditPersonal = %d, %v", n, err)
	}
	r, err := audit.Verify(ctx, st)
	if err != nil || !r.OK || r.Entries != 12 {
		t.Fatalf("Verify after deleting personal parts: %+v, %v", r, err)
	}
	es := walk(t, st, "gateway")
	if !es[0].PersonalExpired() || es[6].PersonalExpired() || es[0].Actor != "" || es[0].Details["remote"] != "" {
		t.Errorf("entries 1 and 7: %+v, %+v", es[0], es[6])
	}
	if s := audit.Shown(es[0]); s.Actor != audit.Expired || s.Details["account"] != audit.Expired || s.Details["remote"] != audit.Expired || s.Details["ok"] != "true" {
		t.Errorf("Shown(expired) = %+v", s)
	}
	if s := audit.Shown(es[6]); s.Actor != "tok-3" || s.Details["remote"] != "192.0.2.3" {
		t.Errorf("Shown(kept) = %+v", s)
	}

	tampers := []struct {
		name string
		do   func()
		seq  uint64
	}{
		{"kept part changed", func() {
			p := st.parts["gateway"][7]
			p.Details = map[string]string{"account": "tok-x", "remote": "192.0.2.3"}
			st.parts["gateway"][7] = p
		}, 7},
		{"kept part moved from another entry", func() { st.parts["gateway"][9] = st.parts["gateway"][11] }, 9},
		{"value written into an expired entry", func() { st.entries["gateway"][2].Details = map[string]string{"ok": "true", "remote": "198.51.100.1"} }, 3},
	}
	for _, tc := range tampers {
		tc.do()
		r, err := audit.Verify(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, p := range r.Problems {
			found = found || (p.Kind == audit.ProblemPersonal && p.Seq == tc.seq)
			if p.Kind == audit.ProblemEdited || p.Kind == audit.ProblemLink {
				t.Errorf("%s: %v (the hash does not cover personal values)", tc.name, p)
			}
		}
		if !found {
			t.Errorf("%s: problems %v, want %s at seq %d", tc.name, r.Problems, audit.ProblemPersonal, tc.seq)
		}
	}
}
