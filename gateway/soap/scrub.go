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
const eckidShape = `(?:https?(?::|%3a)(?:/|%2f){2})?ketenid\.nl(?:/|%2f)[a-z0-9]+(?:/|%2f)[0-9a-z]+|[0-9a-f]{128,}`

// Scrubber finds, in any text a LAS sent (a fault string, an HTTP error
// body, an answer's text), what must never be stored or shown: ECK iDs, the
// school's keys and the LAS keys of pupils. Keys and known values are found
// in every echo form a LAS might use: exact, lower- or upper-cased,
// URL-encoded and base64-encoded (standard and URL alphabets, padded or
// not, including the aligned prefix of a value that is followed by more
// encoded bytes).
//
// A nil *Scrubber finds ECK iDs by their shape only. A Scrubber is
// immutable and safe for concurrent use; With returns a new one.
type Scrubber struct {
	values map[ScrubKind][]string
	re     *regexp.Regexp
	kinds  []ScrubKind // the kind of each capture group of re, in order
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
	out.compile()
	return out
}

var shapeOnly = func() *Scrubber { s := &Scrubber{}; s.compile(); return s }()

// compile builds one regular expression with a capture group per kind:
// ECK iDs first (shape and known values), then secrets, then LAS keys.
// Within a group longer forms come first, so the longest echo is replaced
// whole.
func (s *Scrubber) compile() {
	var groups []string
	s.kinds = nil
	for _, k := range []ScrubKind{ScrubEckID, ScrubSecret, ScrubLASKey} {
		forms := echoForms(s.values[k], k == ScrubLASKey)
		if k == ScrubEckID {
			forms = append(forms, eckidShape)
		}
		if len(forms) == 0 {
			continue
		}
		groups = append(groups, "("+strings.Join(forms, "|")+")")
		s.kinds = append(s.kinds, k)
	}
	s.re = regexp.MustCompile("(?i)" + strings.Join(groups, "|"))
}

// echoForms returns the quoted patterns of every echo form of values,
// longest first; word wraps each in word boundaries where it starts or
// ends with a word character (short LAS keys must not match inside other
// words).
func echoForms(values []string, word bool) []string {
	seen := map[string]bool{}
	var forms []string
	add := func(f string) {
		if len(f) > 0 && !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	for _, v := range values {
		add(v)
		add(url.QueryEscape(v))
		add(url.PathEscape(v))
		if len(v) < minSecret {
			continue
		}
		for _, c := range []string{v, strings.ToLower(v), strings.ToUpper(v)} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				add(enc.WithPadding(base64.NoPadding).EncodeToString([]byte(c)))
				if whole := len(c) - len(c)%3; whole >= minSecret && whole < len(c) {
					add(enc.WithPadding(base64.NoPadding).EncodeToString([]byte(c[:whole])))
				}
			}
		}
	}
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	out := make([]string, len(forms))
	for i, f := range forms {
		q := regexp.QuoteMeta(f)
		if word {
			if isWordByte(f[0]) {
				q = `\b` + q
			}
			if isWordByte(f[len(f)-1]) {
				q += `\b`
			}
		}
		out[i] = q
	}
	return out
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// Replace returns text with everything the Scrubber finds replaced by what
// mark returns for it (the kind and the text found).
func (s *Scrubber) Replace(text string, mark func(k ScrubKind, found string) string) string {
	if s == nil {
		s = shapeOnly
	}
	locs := s.re.FindAllStringSubmatchIndex(text, -1)
	if locs == nil {
		return text
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		kind := ScrubEckID
		for g := range s.kinds {
			if loc[2+2*g] >= 0 {
				kind = s.kinds[g]
				break
			}
		}
		b.WriteString(text[last:loc[0]])
		b.WriteString(mark(kind, text[loc[0]:loc[1]]))
		last = loc[1]
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
// characters (OneLine).
func (s *Scrubber) Scrub(text string) string { return OneLine(s.Redact(text)) }

// OneLine makes LAS text safe to print as one line of a terminal, a log or
// a page: line breaks, tabs, ANSI escape sequences (their ESC), other C0
// and C1 controls, DEL, bidirectional overrides and isolates and other
// invisible format characters, and line and paragraph separators are shown
// as escapes (\n, \t, \x1b, \u202e); invalid UTF-8 becomes U+FFFD.
// Ordinary text, accents included, is unchanged.
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
		case r < 0x100 && needsEscape(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
