package soap_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const (
	scrubKey     = "Pk77881FG-HJ99777737="                                            // the spec's example autorisatiesleutel (SPEC §2.1)
	scrubResults = "rk/Results+Key_0042"                                              // a results receiver key
	scrubSub     = "9f1c2e3d4b5a69788796a5b4c3d2e1f0"                                 // a vendor subscription key
	scrubHex     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" // half an ECK iD tail
)

var (
	scrubTail  = scrubHex + scrubHex
	scrubEckID = "https://ketenid.nl/201703/" + scrubTail
)

func TestScrubberEchoForms(t *testing.T) {
	sc := soap.NewScrubber(scrubKey, scrubResults, scrubSub).
		With(soap.ScrubLASKey, "LL000001", "17").
		With(soap.ScrubEckID, "eckid_L1")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, in string
		gone     []string // must not be in the output
		want     string   // must be in the output
	}{
		{"key exact", "sleutel " + scrubKey + " onbekend", []string{scrubKey}, "sleutel [redacted:key] onbekend"},
		{"key lower-cased", "sleutel " + strings.ToLower(scrubKey), []string{strings.ToLower(scrubKey)}, "[redacted:key]"},
		{"key upper-cased", "SLEUTEL " + strings.ToUpper(scrubKey), []string{strings.ToUpper(scrubKey)}, "[redacted:key]"},
		{"key URL-encoded", "?key=" + url.QueryEscape(scrubKey) + "&x=1", []string{url.QueryEscape(scrubKey), "77881FG"}, "?key=[redacted:key]&x=1"},
		{"key URL-encoded, lower-case escapes", "k=" + strings.ToLower(url.QueryEscape(scrubKey)), []string{"77881fg"}, "k=[redacted:key]"},
		{"key base64", "auth " + b64(scrubKey), []string{b64(scrubKey)[:20]}, "auth [redacted:key]"},
		{"key base64url", "auth " + base64.RawURLEncoding.EncodeToString([]byte(scrubKey)), []string{base64.RawURLEncoding.EncodeToString([]byte(scrubKey))}, "[redacted:key]"},
		{"key base64 of the lower-cased key", b64(strings.ToLower(scrubKey)), []string{b64(strings.ToLower(scrubKey))[:20]}, "[redacted:key]"},
		{"key base64 with more bytes after it", b64(scrubKey + "\n"), []string{b64(scrubKey)[:24]}, "[redacted:key]"},
		{"key twice, glued to text", "a" + scrubKey + scrubKey + "b", []string{scrubKey}, "a[redacted:key][redacted:key]b"},
		{"results receiver key", "bad key " + scrubResults, []string{scrubResults}, "[redacted:key]"},
		{"results receiver key URL-encoded", url.PathEscape(scrubResults), []string{"Results+Key"}, "[redacted:key]"},
		{"subscription key upper-cased", "Subscription " + strings.ToUpper(scrubSub), []string{strings.ToUpper(scrubSub)}, "[redacted:key]"},
		{"ECK iD", "leerling " + scrubEckID + " onbekend", []string{scrubTail}, "leerling [redacted:eckid] onbekend"},
		{"ECK iD upper-cased", strings.ToUpper(scrubEckID), []string{strings.ToUpper(scrubTail)}, "[redacted:eckid]"},
		{"ECK iD URL-encoded", url.QueryEscape(scrubEckID), []string{scrubTail}, "[redacted:eckid]"},
		{"ECK iD pilot form", "https://ketenid.nl/pilot/" + scrubTail, []string{scrubTail, "pilot"}, "[redacted:eckid]"},
		{"short test ECK iD", "id https://ketenid.nl/201703/00000000.", []string{"ketenid", "00000000"}, "id [redacted:eckid]."},
		{"ECK iD without scheme", "ketenid.nl/201703/" + scrubTail, []string{scrubTail}, "[redacted:eckid]"},
		{"bare tail", "tail=" + scrubTail, []string{scrubTail}, "tail=[redacted:eckid]"},
		{"bare tail upper-cased", strings.ToUpper(scrubTail), []string{strings.ToUpper(scrubTail)}, "[redacted:eckid]"},
		{"ECK iD base64 (a known one)", b64("eckid_L1"), []string{b64("eckid_L1")}, "[redacted:eckid]"},
		{"known placeholder ECK iD", "pupil eckid_L1 unknown", []string{"eckid_L1"}, "pupil [redacted:eckid] unknown"},
		{"LAS key", "leerling LL000001 onbekend", []string{"LL000001"}, "leerling [redacted:laskey] onbekend"},
		{"LAS key lower-cased", "leerling ll000001", []string{"ll000001"}, "[redacted:laskey]"},
		{"short LAS key as a word", "toetsafname 17: leerling 17 onbekend", []string{" 17 "}, "toetsafname [redacted:laskey]: leerling [redacted:laskey] onbekend"},
		{"short LAS key inside a word stays", "HTTP 1700 and X17Y", nil, "HTTP 1700 and X17Y"},
		{"nothing to scrub", "Autorisatie ongeldig", nil, "Autorisatie ongeldig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sc.Scrub(tt.in)
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("Scrub(%q) = %q, still holds %q", tt.in, got, g)
				}
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Scrub(%q) = %q, want it to hold %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrubberNilAndShortValues(t *testing.T) {
	var sc *soap.Scrubber
	if got := sc.Scrub("x " + scrubEckID); got != "x [redacted:eckid]" {
		t.Errorf("nil Scrubber: %q, want the ECK iD found by its shape", got)
	}
	if got := sc.Scrub("x " + scrubKey); got != "x "+scrubKey {
		t.Errorf("nil Scrubber changed a text without an ECK iD: %q", got)
	}
	// A key of fewer than four characters would match all over ordinary text.
	if got := soap.NewScrubber("abc", "", "  ").Scrub("abc def"); got != "abc def" {
		t.Errorf("short key: %q", got)
	}
	// With does not change the scrubber it was called on.
	base := soap.NewScrubber(scrubKey)
	_ = base.With(soap.ScrubSecret, scrubSub)
	if got := base.Scrub(scrubSub); got != scrubSub {
		t.Errorf("With changed its receiver: %q", got)
	}
}

func TestScrubberReplace(t *testing.T) {
	sc := soap.NewScrubber(scrubKey)
	var kinds []soap.ScrubKind
	got := sc.Replace("a "+scrubEckID+" b "+scrubKey+" c "+scrubTail, func(k soap.ScrubKind, found string) string {
		kinds = append(kinds, k)
		return "<" + string(k) + ":" + found[len(found)-4:] + ">"
	})
	if want := "a <eckid:cdef> b <key:737=> c <eckid:cdef>"; got != want {
		t.Errorf("Replace = %q, want %q", got, want)
	}
	if len(kinds) != 3 {
		t.Errorf("mark called %d times, want 3", len(kinds))
	}
	if got := sc.Redact("line 1\n" + scrubKey + "\nline 3"); got != "line 1\n[redacted:key]\nline 3" {
		t.Errorf("Redact = %q: want markers and the line breaks kept", got)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Autorisatie ongeldig", "Autorisatie ongeldig"},
		{"accents stay", "Müller-Ĳsselmeer, café", "Müller-Ĳsselmeer, café"},
		{"newline and carriage return", "ongeldig\nOK: all good\r\n", `ongeldig\nOK: all good\r\n`},
		{"tab", "a\tb", `a\tb`},
		{"ANSI escape", "\x1b[2J\x1b[31mFAILED\x1b[0m", `\x1b[2J\x1b[31mFAILED\x1b[0m`},
		{"NUL, BEL, DEL", "a\x00b\x07c\x7f", `a\x00b\x07c\x7f`},
		{"C1 control (CSI)", "a\u009b31m", `a\x9b31m`},
		{"bidi override", "fault \u202egnp.exe\u202c", `fault \u202egnp.exe\u202c`},
		{"bidi isolates and marks", "\u2066a\u2069\u200f\u061c", `\u2066a\u2069\u200f\u061c`},
		{"zero width and BOM", "a\u200bb\ufeff", `a\u200bb\ufeff`},
		{"line and paragraph separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"NEL (a C1 line break)", "a\u0085b", `a\x85b`},
		{"ESC forging a line", "Jansen\x1b[1A\x1b[2KOK: 0 problems", `Jansen\x1b[1A\x1b[2KOK: 0 problems`},
		{"all bidi controls", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
			`\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c`},
		{"language tag", "a\U000e0001b", `a\U000e0001b`},
		{"private use", "a\ue000b\U000f0000", `a\ue000b\U000f0000`},
		{"unassigned and noncharacters", "a\u0378b\ufffe\U0010ffff", `a\u0378b\ufffe\U0010ffff`},
		{"emoji and CJK stay", "Jan 😀 李", "Jan 😀 李"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := soap.OneLine(tt.in); got != tt.want {
				t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := soap.NewScrubber().Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q (Scrub neutralises control characters too)", tt.in, got, tt.want)
			}
		})
	}
}

// TestClientScrubsItsErrors: whatever path a LAS text takes into an *Error
// (a fault with HTTP 200 or 500, a fault through Fetch, an HTTP error body),
// the client's secrets, ECK iDs and control characters are gone from its
// code and message.
func TestClientScrubsItsErrors(t *testing.T) {
	const sub = "Sub-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	// XML 1.0 cannot carry ESC, but it can carry C1 controls (CSI), bidi
	// overrides and line breaks; a plain-text body can carry anything.
	echo := "sleutel " + strings.ToLower(testKey) + ", abonnement " + base64.StdEncoding.EncodeToString([]byte(sub)) +
		", leerling " + scrubEckID + "\u009b2J\u202e\nOK: fine"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		fetch  bool
	}{
		{"fault 500", 500, "text/xml", faultEnvelope("soap", "soap:Client.LeerlingOngeldig", echo), false},
		{"fault 200", 200, "text/xml", faultEnvelope("soap", "soap:Client.LeerlingOngeldig", echo), false},
		{"fault 200 via Fetch", 200, "text/xml", faultEnvelope("soap", "soap:Client.LeerlingOngeldig", echo), true},
		{"fault 500 via Fetch", 500, "text/xml", faultEnvelope("soap", "soap:Client.LeerlingOngeldig", echo), true},
		{"fault code holding an ECK iD", 500, "text/xml", faultEnvelope("soap", "soap:Client."+scrubTail, "x"), false},
		{"403 text/plain", 403, "text/plain", echo + "\x1b[2J", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			conn := testConn(las.URL)
			conn.Secrets = []string{sub}
			cl := soap.NewClient(nil, conn)
			var err error
			if tt.fetch {
				_, err = cl.Fetch(context.Background(), uwlr.OpHaalLeerlinggegevens, testRequest, nil, io.Discard, nil)
			} else {
				_, err = cl.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
			}
			se := asSOAPError(t, err)
			all := se.Code + " " + se.Message + " " + err.Error()
			for _, leak := range []string{strings.ToLower(testKey)[:20], base64.StdEncoding.EncodeToString([]byte(sub))[:20], scrubHex, "\x1b", "\u009b", "\u202e", "\n"} {
				if strings.Contains(all, leak) {
					t.Errorf("error holds %q: code %q message %q", leak, se.Code, se.Message)
				}
			}
			if tt.name != "fault code holding an ECK iD" && !strings.Contains(se.Message, "[redacted:eckid]") {
				t.Errorf("message %q: want the ECK iD's marker", se.Message)
			}
		})
	}
}

// TestScrubAfterEscaping: an escape's hex digits never complete an ECK
// iD's shape in what Scrub returns: "\u202e" before 124 hex digits would
// make a run of 128 (FuzzFaultDecoder found it). Scrub redacts again after
// escaping.
func TestScrubAfterEscaping(t *testing.T) {
	for _, tt := range []struct {
		sep string
		n   int // hex digits after it: with the escape's, 128
	}{{"\u202e", 124}, {"\u200b", 124}, {"\u0085", 126}, {"\x1b", 126}} {
		run := strings.Repeat("a", tt.n)
		got := soap.NewScrubber().Scrub("leerling onbekend: " + tt.sep + run)
		if strings.Contains(got, run) || !strings.Contains(got, soap.Marker(soap.ScrubEckID)) {
			t.Errorf("Scrub(%U + %d hex digits) = %q", []rune(tt.sep)[0], tt.n, got)
		}
	}
}
