package audit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

// The golden hashes below were computed outside Go, with
//
//	printf '%s' '<canonical>' | sha256sum
//
// so they pin the canonical form, not just this implementation.
func TestHashGolden(t *testing.T) {
	cest := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name      string
		e         gateway.AuditEntry
		canonical string
		hash      string
	}{
		{
			name: "every field",
			e: gateway.AuditEntry{
				Chain:  "school/12AB00",
				Seq:    7,
				At:     time.Date(2025, 9, 2, 8, 15, 42, 123456700, cest),
				Kind:   gateway.AuditConsent,
				School: "12AB00",
				Actor:  "token-3",
				Details: map[string]string{
					"processing": "results",
					"new":        "true",
					"note":       "a<b & \"c\"\n\u2028é",
				},
				Prev: "5f2b8c6e0d1a4b3c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
				Hash: "ignored",
			},
			canonical: `{"v":1,"chain":"school/12AB00","seq":7,"at":"2025-09-02T06:15:42.1234567Z","kind":"consent.change","school":"12AB00","actor":"token-3","details":{"new":"true","note":"a<b & \"c\"\n\u2028é","processing":"results"},"prev":"5f2b8c6e0d1a4b3c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"}`,
			hash:      "5268ca3282f35ff45ac4b6ebfb79a77406fdfe54b798ea583a9df74eefc01fd6",
		},
		{
			name:      "first entry, empty fields",
			e:         gateway.AuditEntry{Chain: "gateway", Seq: 1, At: time.Date(2025, 8, 1, 9, 30, 0, 0, cest), Kind: gateway.AuditKeyGenerate},
			canonical: `{"v":1,"chain":"gateway","seq":1,"at":"2025-08-01T07:30:00Z","kind":"key.generate","school":"","actor":"","details":{},"prev":""}`,
			hash:      "a8a123738fe19082a665383eaf84b35613b6c6abc75bdc2f4aacaa381947288e",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(audit.Canonical(tc.e)); got != tc.canonical {
				t.Errorf("Canonical:\n got %s\nwant %s", got, tc.canonical)
			}
			sum := sha256.Sum256([]byte(tc.canonical))
			if want := hex.EncodeToString(sum[:]); want != tc.hash {
				t.Fatalf("golden hash %s is not the SHA-256 of the golden form (%s)", tc.hash, want)
			}
			if got := audit.Hash(tc.e); got != tc.hash {
				t.Errorf("Hash = %s, want %s", got, tc.hash)
			}
		})
	}
}

// Every field but Hash changes the hash; Hash, the time's location and
// nil versus empty Details do not.
func TestHashCoversFields(t *testing.T) {
	base := gateway.AuditEntry{
		Chain: "school/12AB00", Seq: 3, At: time.Date(2025, 9, 2, 6, 0, 0, 5, time.UTC),
		Kind: gateway.AuditSync, School: "12AB00", Actor: "cli", Details: map[string]string{"pupils": "12"}, Prev: "abc",
	}
	h := audit.Hash(base)
	tests := []struct {
		name string
		edit func(e *gateway.AuditEntry)
		same bool
	}{
		{"chain", func(e *gateway.AuditEntry) { e.Chain = "school/12AB01" }, false},
		{"seq", func(e *gateway.AuditEntry) { e.Seq = 4 }, false},
		{"at by a nanosecond", func(e *gateway.AuditEntry) { e.At = e.At.Add(1) }, false},
		{"kind", func(e *gateway.AuditEntry) { e.Kind = gateway.AuditSyncApprove }, false},
		{"school", func(e *gateway.AuditEntry) { e.School = "" }, false},
		{"actor", func(e *gateway.AuditEntry) { e.Actor = "api" }, false},
		{"detail value", func(e *gateway.AuditEntry) { e.Details = map[string]string{"pupils": "13"} }, false},
		{"detail key", func(e *gateway.AuditEntry) { e.Details = map[string]string{"pupil": "12"} }, false},
		{"detail added", func(e *gateway.AuditEntry) { e.Details = map[string]string{"pupils": "12", "x": ""} }, false},
		{"prev", func(e *gateway.AuditEntry) { e.Prev = "abd" }, false},
		{"hash", func(e *gateway.AuditEntry) { e.Hash = "whatever" }, true},
		{"location", func(e *gateway.AuditEntry) { e.At = e.At.In(time.FixedZone("X", -5*3600)) }, true},
		{"no details: nil or empty", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			e.Details = map[string]string{"pupils": "12"}
			if tc.edit == nil {
				a, b := base, base
				a.Details, b.Details = nil, map[string]string{}
				if audit.Hash(a) != audit.Hash(b) {
					t.Error("nil and empty Details hash differently")
				}
				return
			}
			tc.edit(&e)
			if got := audit.Hash(e) == h; got != tc.same {
				t.Errorf("hash unchanged = %v, want %v", got, tc.same)
			}
		})
	}
}
