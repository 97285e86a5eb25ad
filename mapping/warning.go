package mapping

import (
	"fmt"
	"strconv"
	"strings"
)

// Warning is one problem found while mapping a record. It never contains a
// field value, only keys (a dangling reference names the group key): Record names the record by kind and LAS key ("leerling L1")
// or, when the record has no key, by "(no key)" until [Locate] replaces that
// with its position ("leerling #3"); Field is the UWLR element or attribute
// name ("geboortedatum", "@eckid"), empty when the problem is about the
// whole record.
type Warning struct {
	Record  string `json:"record"`
	Field   string `json:"field,omitempty"`
	Problem string `json:"problem"`
	// Fatal marks a record the caller must skip: it has no identity (no key
	// and no ECK iD, a group without key, a school without BRIN or schoolkey).
	Fatal bool `json:"fatal,omitempty"`
}

// String renders the warning as "record: field: problem".
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.Record)
	if w.Field != "" {
		b.WriteString(": ")
		b.WriteString(w.Field)
	}
	b.WriteString(": ")
	b.WriteString(w.Problem)
	return b.String()
}

// Unusable reports whether ws holds a Fatal warning, i.e. whether the record
// the warnings belong to must be skipped.
func Unusable(ws []Warning) bool {
	for _, w := range ws {
		if w.Fatal {
			return true
		}
	}
	return false
}

// noKey is the record suffix of a record without LAS key.
const noKey = "(no key)"

// Locate replaces the "(no key)" placeholder in the records of ws by the
// 1-based position of the record in its message ("leerling #3"), for callers
// that count records. It changes ws in place and returns it.
func Locate(ws []Warning, pos int) []Warning {
	for i := range ws {
		if kind, ok := strings.CutSuffix(ws[i].Record, " "+noKey); ok {
			ws[i].Record = kind + " #" + strconv.Itoa(pos)
		}
	}
	return ws
}

// record names a record by kind and key. Keys that are not plain (spaces,
// quotes, control characters, very long) are quoted and cut, so that a
// warning stays one readable line.
func record(kind, key string) string {
	if key == "" {
		return kind + " " + noKey
	}
	const maxKey = 64
	plain := len(key) <= maxKey
	for _, r := range key {
		if r <= ' ' || r == '"' || r == '\\' || r == 0x7f || r == '\uFFFD' || !strconv.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return kind + " " + key
	}
	if len(key) > maxKey {
		key = strings.ToValidUTF8(key[:maxKey], "") + "…"
	}
	return fmt.Sprintf("%s %q", kind, key)
}

// warnings collects the warnings of one record.
type warnings struct {
	rec string
	ws  []Warning
}

func (w *warnings) add(field, problem string) {
	w.ws = append(w.ws, Warning{Record: w.rec, Field: field, Problem: problem})
}

func (w *warnings) fatal(field, problem string) {
	w.ws = append(w.ws, Warning{Record: w.rec, Field: field, Problem: problem, Fatal: true})
}
