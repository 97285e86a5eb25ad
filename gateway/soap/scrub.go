package soap

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ScrubKind is what a Scrubber found in a text a LAS sent.
type ScrubKind string

const (
	// ScrubEckID: an ECK iD, by its shape (a ketenid.nl URL, also
	// URL-encoded, or a bare tail of 128 or more hex digits) or as one of
	// the known values given to the Scrubber, in any echo form.
	ScrubEckID ScrubKind = "eckid"
	// ScrubSecret: one of the school's keys given to the Scrubber (the
	// autorisatiesleutel, the results receiver's key, a vendor header
	// secret), in any echo form.
	ScrubSecret ScrubKind = "key"
	// ScrubLASKey: a LAS key of a pupil given to the Scrubber (a delivery
	// fault may name the pupils of its batch), in any echo form, as a whole
	// word.
	ScrubLASKey ScrubKind = "laskey"
)

// Marker is what Scrub and Redact put in place of what they found:
// "[redacted:eckid]", "[redacted:key]" or "[redacted:laskey]".
func Marker(k ScrubKind) string { return "[redacted:" + string(k) + "]" }

// minSecret is the shortest key or ECK iD value a Scrubber looks for: a
// shorter one would match all over ordinary text (keys are far longer).
const minSecret = 4

// eckidShape matches an ECK iD by its form (docs/UWLR-SPEC.md §5): any
// https://ketenid.nl/<segment>/<id> (production, pilot and the short test
// form), also URL-encoded, and a bare run of 128 or more hex digits (the
// tail on its own). Matching is case-insensitive: an echo may change case.
var eckidShape = regexp.MustCompile(`(?i)(?:https?(?::|%3a)(?:/|%2f){2})?ketenid\.nl(?:/|%2f)[a-z0-9]+(?:/|%2f)[0-9a-z]+|[0-9a-f]{128,}`)

// Scrubber finds, in any text a LAS sent (a fault string, an HTTP error
// body, an answer's text), what must never be stored or shown: ECK iDs, the
// school's keys and the LAS keys of pupils. Keys and known values are found
// in every echo form a LAS might use: exact, lower- or upper-cased,
// URL-encoded and base64-encoded (standard and URL alphabets, padded or
// not, including the aligned prefix of a value that is followed by more
// encoded bytes). Letter case is folded for ASCII letters only.
//
// A nil *Scrubber finds ECK iDs by their shape only. A Scrubber is
// immutable and safe for concurrent use; With returns a new one. Known
// values are matched as literals, so a delivery batch's hundreds of LAS keys
// and ECK iDs cost a few string searches per text, not a large automaton.
type Scrubber struct {
	values map[ScrubKind][]string
	forms  []form // every echo form, ASCII-lower-cased, longest first
}

// form is one echo form of a known value.
type form struct {
	lit  string // ASCII-lower-cased
	kind ScrubKind
	word bool // must stand as a whole word (LAS keys)
}

// NewScrubber returns a Scrubber for the given secrets (kind ScrubSecret);
// empty and very short values are ignored.
func NewScrubber(secrets ...string) *Scrubber {
	return (*Scrubber)(nil).With(ScrubSecret, secrets...)
}

// With returns a Scrubber that also finds values as kind k.
func (s *Scrubber) With(k ScrubKind, values ...string) *Scrubber {
	out := &Scrubber{values: map[ScrubKind][]string{}}
	if s != nil {
		for kind, vs := range s.values {
			out.values[kind] = slices.Clone(vs)
		}
	}
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" && (k == ScrubLASKey || len(v) >= minSecret) {
			out.values[k] = append(out.values[k], v)
		}
	}
	seen := map[form]bool{}
	for _, kind := range []ScrubKind{ScrubEckID, ScrubSecret, ScrubLASKey} {
		for _, lit := range echoForms(out.values[kind]) {
			f := form{lit: asciiLower(lit), kind: kind, word: kind == ScrubLASKey}
			if !seen[f] {
				seen[f] = true
				out.forms = append(out.forms, f)
			}
		}
	}
	slices.SortStableFunc(out.forms, func(a, b form) int { return len(b.lit) - len(a.lit) })
	return out
}

// echoForms returns every echo form of values: as is, URL-encoded and
// base64-encoded (of the value as is, lower- and upper-cased).
func echoForms(values []string) []string {
	var forms []string
	for _, v := range values {
		forms = append(forms, v, url.QueryEscape(v), url.PathEscape(v))
		if len(v) < minSecret {
			continue
		}
		for _, c := range []string{v, strings.ToLower(v), strings.ToUpper(v)} {
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				forms = append(forms, enc.EncodeToString([]byte(c)))
				if whole := len(c) - len(c)%3; whole >= minSecret && whole < len(c) {
					forms = append(forms, enc.EncodeToString([]byte(c[:whole])))
				}
			}
		}
	}
	return forms
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay the same.
func asciiLower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if c := b[j]; c >= 'A' && c <= 'Z' {
			b[j] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// wholeWord reports whether text[i:j] does not continue a word on either
// side where it starts or ends with a word character.
func wholeWord(text string, i, j int) bool {
	if i > 0 && isWordByte(text[i]) && isWordByte(text[i-1]) {
		return false
	}
	return j >= len(text) || !isWordByte(text[j-1]) || !isWordByte(text[j])
}

// found is one thing found in a text: text[i:j], of kind.
type found struct {
	i, j int
	kind ScrubKind
}

// find returns what s finds in text, leftmost first, the longest where
// several start at one place, none overlapping.
func (s *Scrubber) find(text string) []found {
	lower := asciiLower(text)
	var all []found
	if len(text) >= 128 || strings.Contains(lower, "ketenid") {
		for _, loc := range eckidShape.FindAllStringIndex(text, -1) {
			all = append(all, found{loc[0], loc[1], ScrubEckID})
		}
	}
	if s != nil {
		for _, f := range s.forms {
			for off := 0; off < len(lower); {
				k := strings.Index(lower[off:], f.lit)
				if k < 0 {
					break
				}
				i, j := off+k, off+k+len(f.lit)
				if f.word && !wholeWord(text, i, j) {
					off = i + 1
					continue
				}
				all = append(all, found{i, j, f.kind})
				off = j
			}
		}
	}
	slices.SortStableFunc(all, func(a, b found) int {
		if a.i != b.i {
			return a.i - b.i
		}
		return (b.j - b.i) - (a.j - a.i)
	})
	out := all[:0]
	end := 0
	for _, f := range all {
		if f.i >= end {
			out = append(out, f)
			end = f.j
		}
	}
	return out
}

// Replace returns text with everything the Scrubber finds replaced by what
// mark returns for it (the kind and the text found).
func (s *Scrubber) Replace(text string, mark func(k ScrubKind, found string) string) string {
	fs := s.find(text)
	if len(fs) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.i])
		b.WriteString(mark(f.kind, text[f.i:f.j]))
		last = f.j
	}
	b.WriteString(text[last:])
	return b.String()
}

// Redact returns text with everything the Scrubber finds replaced by its
// Marker. Line breaks and other characters stay as they are: use it for
// text that is not one line (a body before it is cut to its first line).
func (s *Scrubber) Redact(text string) string {
	return s.Replace(text, func(k ScrubKind, _ string) string { return Marker(k) })
}

// Scrub is Redact for one-line LAS text that is stored or shown (a fault
// string, a batch reason, an error): it also neutralises control
// characters (OneLine). It redacts again after escaping: an escape's hex
// digits ("\u202e") can join the hex runs beside it into an ECK iD's shape,
// as two halves of one split by an invisible character would be joined.
func (s *Scrubber) Scrub(text string) string { return s.Redact(OneLine(s.Redact(text))) }

// OneLine makes outside text (a LAS's, a user's, a file's) safe to print
// as one line of a terminal, a log or a page: line breaks (also NEL,
// U+2028 and U+2029), tabs, ANSI escape sequences (their ESC), other C0
// and C1 controls, DEL, bidirectional overrides, embeddings, isolates and
// marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and other
// invisible format characters, private-use and unassigned code points are
// shown as escapes (\n, \t, \x1b, \u202e, \U000f0000); invalid UTF-8
// becomes U+FFFD. Ordinary text, accents, CJK and emoji included, is
// unchanged. Use it for every such string in human output; JSON output
// carries the exact value.
func OneLine(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !needsEscape(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

// needsEscape: controls (Cc), format characters (Cf: the bidi controls,
// zero-width characters, the BOM, tags), line and paragraph separators,
// private use (Co) and unassigned code points and noncharacters (Cn: what
// a later Unicode or a font may turn into a control). U+FFFD stays: it is
// what invalid UTF-8 becomes.
func needsEscape(r rune) bool {
	if r == utf8.RuneError {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) ||
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}
