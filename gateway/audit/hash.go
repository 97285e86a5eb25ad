package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// FormVersion is the version of the canonical form, written into it as "v".
// A different form gets a new number, so old entries stay verifiable.
const FormVersion = 1

// FormVersionPersonal is the version of the canonical form of an entry with
// a personal part (AuditEntry.Personal set); entries without one keep form 1.
const FormVersionPersonal = 2

// canonicalForm is the object that Hash hashes. Its field order is the
// order of the JSON members; changing it changes every hash.
type canonicalForm struct {
	V       int               `json:"v"`
	Chain   string            `json:"chain"`
	Seq     uint64            `json:"seq"`
	At      string            `json:"at"`
	Kind    string            `json:"kind"`
	School  string            `json:"school"`
	Actor   string            `json:"actor"`
	Details map[string]string `json:"details"`
	Prev    string            `json:"prev"`
}

// canonicalFormPersonal is form 2: form 1 without the personal values, with
// the commitment to them ("personal") before "prev".
type canonicalFormPersonal struct {
	V        int               `json:"v"`
	Chain    string            `json:"chain"`
	Seq      uint64            `json:"seq"`
	At       string            `json:"at"`
	Kind     string            `json:"kind"`
	School   string            `json:"school"`
	Actor    string            `json:"actor"`
	Details  map[string]string `json:"details"`
	Personal personalRef       `json:"personal"`
	Prev     string            `json:"prev"`
}

// personalRef is the "personal" member of form 2.
type personalRef struct {
	Actor bool     `json:"actor"`
	Keys  []string `json:"keys"`
	Sum   string   `json:"sum"`
}

// Canonical returns the bytes that Hash hashes: one line of JSON (no
// whitespace, no trailing newline) with exactly these members, in this order:
//
//	{"v":1,"chain":…,"seq":…,"at":…,"kind":…,"school":…,"actor":…,"details":{…},"prev":…}
//
// The members are:
//   - v: FormVersion (1);
//   - seq: a JSON integer in decimal;
//   - at: the time in UTC as RFC 3339 with nanoseconds, trailing zeros of
//     the fraction dropped and no fraction when it is zero (Go's
//     time.RFC3339Nano), e.g. "2025-09-02T06:15:42.1234Z";
//   - school, actor and prev: "" when empty (never left out);
//   - details: an object whose members are sorted by key (byte order of
//     the UTF-8 keys); {} when there are none.
//
// An entry with a personal part (AuditEntry.Personal set) has form 2
// instead, which leaves the personal values out and commits to them:
//
//	{"v":2,"chain":…,"seq":…,"at":…,"kind":…,"school":…,"actor":…,"details":{…},"personal":{"actor":…,"keys":[…],"sum":…},"prev":…}
//
// Its members are:
//   - v: FormVersionPersonal (2); chain, seq, at, kind, school and prev as in
//     form 1;
//   - actor: "" when the Actor is part of the personal part
//     (Personal.Actor), the Actor otherwise;
//   - details: as in form 1, without the keys of Personal.Keys;
//   - personal: an object with exactly these members, in this order: actor
//     (true or false), keys (Personal.Keys sorted, as a JSON array of
//     strings; [] when none) and sum (Personal.Sum, see PersonalForm).
//
// So form 2 is the same whether the entry is read with its personal part
// joined back or after the part was deleted, and deleting it changes no
// hash. Personal.Salt is never part of either form.
//
// Strings are JSON strings in UTF-8: '"' and '\' are escaped with a
// backslash; \n, \r, \t, \b and \f use their two-character escapes; other
// characters below U+0020, and U+2028 and U+2029, are written as \u00XX,
// \u2028 and \u2029 (lowercase hex); every other character is written as
// itself (<, > and & are not escaped).
//
// The Hash field of the entry is not part of the form. Any JSON library that
// writes these members in this order, with these escapes and no whitespace,
// reproduces the bytes; Go's encoding/json Encoder with SetEscapeHTML(false)
// does, which is what this function uses. Strings are expected to be valid
// UTF-8 (Log.Append refuses others); invalid bytes would be written as
// U+FFFD.
func Canonical(e gateway.AuditEntry) []byte {
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	at := e.At.UTC().Format(time.RFC3339Nano)
	if e.Personal == nil {
		return encodeForm(canonicalForm{V: FormVersion, Chain: e.Chain, Seq: e.Seq, At: at, Kind: string(e.Kind),
			School: string(e.School), Actor: e.Actor, Details: details, Prev: e.Prev})
	}
	p := e.Personal
	keys := slices.Sorted(slices.Values(p.Keys))
	if keys == nil {
		keys = []string{}
	}
	actor := e.Actor
	if p.Actor {
		actor = ""
	}
	rest := make(map[string]string, len(details))
	for k, v := range details {
		if !slices.Contains(keys, k) {
			rest[k] = v
		}
	}
	return encodeForm(canonicalFormPersonal{V: FormVersionPersonal, Chain: e.Chain, Seq: e.Seq, At: at, Kind: string(e.Kind),
		School: string(e.School), Actor: actor, Details: rest, Personal: personalRef{Actor: p.Actor, Keys: keys, Sum: p.Sum}, Prev: e.Prev})
}

// encodeForm writes v as one line of JSON without HTML escapes.
func encodeForm(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Strings, integers, booleans, a string array and a map of strings
		// always encode.
		panic("audit: canonical form: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Hash returns the lowercase hex SHA-256 of Canonical(e): what e.Hash must
// hold. It ignores e.Hash itself.
func Hash(e gateway.AuditEntry) string {
	sum := sha256.Sum256(Canonical(e))
	return hex.EncodeToString(sum[:])
}
