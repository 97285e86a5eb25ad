package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// FormVersion is the version of the canonical form, written into it as "v".
// A different form gets a new number, so old entries stay verifiable.
const FormVersion = 1

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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(canonicalForm{
		V:       FormVersion,
		Chain:   e.Chain,
		Seq:     e.Seq,
		At:      e.At.UTC().Format(time.RFC3339Nano),
		Kind:    string(e.Kind),
		School:  string(e.School),
		Actor:   e.Actor,
		Details: details,
		Prev:    e.Prev,
	})
	if err != nil {
		// Strings, an integer and a map of strings always encode.
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
