package vault

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// Keyring, Sealer, Opener and Rewrapper print as their term numbers and
// nothing else, through every door fmt and slog have: String, GoString,
// LogValue and Format (which fmt prefers for every verb, so %s, %q and %x on
// a value cannot reach the key bytes through fmt's reflection either). The
// methods have value receivers so they apply to values and pointers alike.

func (r *ring) describe(name string) string {
	if r == nil {
		return name + "[nil]"
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteString("[terms=[")
	for i, n := range r.order {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	b.WriteString("], active=")
	b.WriteString(strconv.FormatUint(uint64(r.active), 10))
	b.WriteByte(']')
	return b.String()
}

// String describes the keyring by term numbers only: "vault[terms=[1 2], active=2]".
func (k Keyring) String() string { return k.r.describe("vault") }

// GoString is String, so %#v shows no key either.
func (k Keyring) GoString() string { return k.String() }

// LogValue is String, so slog shows no key.
func (k Keyring) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Format writes String for every verb.
func (k Keyring) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// String describes the keyring behind the Sealer: "vault.Sealer[terms=[1 2], active=2]".
func (s Sealer) String() string { return s.r.describe("vault.Sealer") }

// GoString is String.
func (s Sealer) GoString() string { return s.String() }

// LogValue is String.
func (s Sealer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Format writes String for every verb.
func (s Sealer) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// String describes the keyring behind the Opener: "vault.Opener[terms=[1 2], active=2]".
func (o Opener) String() string { return o.r.describe("vault.Opener") }

// GoString is String.
func (o Opener) GoString() string { return o.String() }

// LogValue is String.
func (o Opener) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Format writes String for every verb.
func (o Opener) Format(f fmt.State, _ rune) { io.WriteString(f, o.String()) }

// String describes the keyring behind the Rewrapper: "vault.Rewrapper[terms=[1 2], active=2]".
func (w Rewrapper) String() string { return w.r.describe("vault.Rewrapper") }

// GoString is String.
func (w Rewrapper) GoString() string { return w.String() }

// LogValue is String.
func (w Rewrapper) LogValue() slog.Value { return slog.StringValue(w.String()) }

// Format writes String for every verb.
func (w Rewrapper) Format(f fmt.State, _ rune) { io.WriteString(f, w.String()) }
