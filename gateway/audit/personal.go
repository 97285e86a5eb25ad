package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// PersonalKeys are the detail keys whose values name or locate a person:
// an account (the token of a login), a remote address, who did something
// (by), a name and an e-mail address. Log.Append keeps them, and a
// personal Actor, in the entry's personal part, which retention deletes two
// years after the entry.
var PersonalKeys = []string{"account", "by", "email", "name", "remote"}

// SystemActors are the actors that name a part of the gateway, not a
// person; every other Actor (a person's name given with --by, an API token
// and its name) is personal.
var SystemActors = []string{"", "cli", "delivery", "gateway", "retention", "scheduler", "serve", "sync"}

// Expired is what Shown puts in place of a personal value that was deleted.
const Expired = "(expired)"

// saltBytes is the size of a commitment's random salt: 128 bits, so the
// commitment of a small set of values (an IPv4 address) cannot be found by
// trying them all.
const saltBytes = 16

// personalForm is the object PersonalForm writes.
type personalForm struct {
	V       int               `json:"v"`
	Chain   string            `json:"chain"`
	Seq     uint64            `json:"seq"`
	Salt    string            `json:"salt"`
	Actor   string            `json:"actor"`
	Details map[string]string `json:"details"`
}

// PersonalForm returns the bytes whose SHA-256 is the commitment
// (Personal.Sum) to an entry's personal part: one line of JSON, written as
// Canonical writes its form,
//
//	{"v":1,"chain":…,"seq":…,"salt":…,"actor":…,"details":{…}}
//
// with salt Personal.Salt (hex), actor the Actor when Personal.Actor ("" when
// not) and details the Details of the keys in Personal.Keys, sorted by key
// ({} when none). Chain and seq bind the part to its entry: a side record
// copied onto another entry does not match. The entry must carry its
// personal part (Personal set, the values and the salt joined back); for
// an entry without one it returns nil.
func PersonalForm(e gateway.AuditEntry) []byte {
	p := e.Personal
	if p == nil {
		return nil
	}
	f := personalForm{V: 1, Chain: e.Chain, Seq: e.Seq, Salt: p.Salt, Details: map[string]string{}}
	if p.Actor {
		f.Actor = e.Actor
	}
	for _, k := range p.Keys {
		if v, ok := e.Details[k]; ok {
			f.Details[k] = v
		}
	}
	return encodeForm(f)
}

// PersonalSum returns the lowercase hex SHA-256 of PersonalForm(e).
func PersonalSum(e gateway.AuditEntry) string {
	sum := sha256.Sum256(PersonalForm(e))
	return hex.EncodeToString(sum[:])
}

// personalPart returns what of actor and details is personal, without Sum
// and Salt; nil when nothing is.
func personalPart(actor string, details map[string]string) *gateway.AuditPersonal {
	p := &gateway.AuditPersonal{Actor: !slices.Contains(SystemActors, actor)}
	for _, k := range slices.Sorted(maps.Keys(details)) {
		if slices.Contains(PersonalKeys, k) {
			p.Keys = append(p.Keys, k)
		}
	}
	if !p.Actor && len(p.Keys) == 0 {
		return nil
	}
	return p
}

// newSalt reads a commitment salt from r.
func newSalt(r io.Reader) (string, error) {
	b := make([]byte, saltBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Shown returns e as it is shown to people (audit show, the HTTP API, an
// export): an entry whose personal part expired gets Expired in place of
// each deleted value (the Actor, each key of Personal.Keys). The chain is
// verified on the entries as stored, never on shown ones.
func Shown(e gateway.AuditEntry) gateway.AuditEntry {
	if !e.PersonalExpired() {
		return e
	}
	if e.Personal.Actor {
		e.Actor = Expired
	}
	if len(e.Personal.Keys) > 0 {
		d := make(map[string]string, len(e.Details)+len(e.Personal.Keys))
		maps.Copy(d, e.Details)
		for _, k := range e.Personal.Keys {
			d[k] = Expired
		}
		e.Details = d
	}
	return e
}
