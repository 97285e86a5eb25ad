package soap

// Fuzz target for the fault decoder (issue 12, item 7). It is an internal
// test: the decoder the client runs on an error response, peekFault, is
// unexported. Every name here starts with fz (see reader_fuzz_test.go).

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// fzPeekBytes is what statusFailure peeks at before it calls peekFault.
const fzPeekBytes = 64 << 10

// FuzzFaultDecoder: peekFault (the fault decoder of an error response) on
// any bytes never panics. A fault it finds is classified (a known class, a
// hint, the domain kind unwrapped), its code has no namespace prefix, its
// code and text hold no ECK iD and no control character, and the text is
// bounded. It agrees with ReadLeerlinggegevens on a fault envelope, and it
// is stable: the fault written again by the server's writeFault decodes to
// the same code and text.
func FuzzFaultDecoder(f *testing.F) {
	env := func(prefix, code, text string) string {
		return `<?xml version="1.0" encoding="utf-8"?><` + prefix + `:Envelope xmlns:` + prefix + `="` + uwlr.NSSOAPEnvelope + `"><` + prefix + `:Body><` +
			prefix + `:Fault><faultcode>` + code + `</faultcode><faultstring>` + text + `</faultstring></` + prefix + `:Fault></` +
			prefix + `:Body></` + prefix + `:Envelope>`
	}
	for _, code := range FaultCodes() {
		var b bytes.Buffer
		if err := writeFault(&b, code, DefaultFaultString(code)); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	for _, s := range []string{
		env("s", "s:Client.AutorisatieOngeldig", "Autorisatie ongeldig voor https://ketenid.nl/201703/"+strings.Repeat("ab", 64)),
		env("SOAP-ENV", "SOAP-ENV:Server.TijdelijkNietBeschikbaar", "  onderhoud \n tot 06:00\x1b[31m "),
		env("soap", "soap:VersionMismatch", "SOAP 1.2 only"),
		env("soap", "Client.Onbekend", "<![CDATA[iets & nog iets]]>"),
		env("soap", "", ""),
		`<soap:Fault xmlns:soap="` + uwlr.NSSOAPEnvelope + `"><faultcode>soap:Client.OngeldigBericht</faultcode><faultstring>schooljaar</faultstring><detail><x>1</x></detail></soap:Fault>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?>` + env("e", "e:Client.LeerlingOngeldig", "leerling onbekend: M\xfcller"),
		`<html><body>Fault: 502 Bad Gateway</body></html>`,
		`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text xml:lang="nl">fout</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>`,
	} {
		f.Add([]byte(s))
	}
	// The real answer: a Fault nowhere but in the text is no fault.
	if sample, err := os.ReadFile("../../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"); err == nil {
		f.Add(append(sample[:len(sample):len(sample)], []byte("<!-- Fault -->")...))
	} else {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fzPeekBytes {
			data = data[:fzPeekBytes]
		}
		fe := peekFault(data)
		if fe == nil {
			// No fault at the start: then the reader sees none either.
			_, err := ReadLeerlinggegevens(bytes.NewReader(data), Handler{})
			var se *Error
			if errors.As(err, &se) {
				t.Fatalf("peekFault found no fault, ReadLeerlinggegevens read %+v", se)
			}
			return
		}
		fzCheckFault(t, fe)

		// The reader decodes a fault envelope the same way.
		_, err := ReadLeerlinggegevens(bytes.NewReader(data), Handler{})
		var se *Error
		if errors.As(err, &se) && (se.Code != fe.Code || se.Message != fe.Message || se.Class != fe.Class) {
			t.Fatalf("ReadLeerlinggegevens read fault %+v, peekFault %+v", se, fe)
		}

		// Stable: written again as the server writes a fault, it decodes
		// to the same code and text (a text clipped once is clipped again,
		// so only one within the bound).
		if len(fe.Message) > maxUnscrubbedFault {
			return
		}
		var b bytes.Buffer
		if err := writeFault(&b, fe.Code, fe.Message); err != nil {
			t.Fatal(err)
		}
		again := peekFault(b.Bytes())
		if again == nil {
			t.Fatalf("the fault %+v written again is not read as a fault:\n%s", fe, b.Bytes())
		}
		if again.Code != fe.Code || again.Message != fe.Message || again.Class != fe.Class {
			t.Fatalf("the fault written again reads otherwise:\n got %q %q %s\nwant %q %q %s", again.Code, again.Message, again.Class, fe.Code, fe.Message, fe.Class)
		}
	})
}

func fzCheckFault(t *testing.T, fe *Error) {
	t.Helper()
	switch fe.Class {
	case ClassCredential, ClassRequest, ClassVersion, ClassTemporary:
	default:
		t.Fatalf("fault %+v: class %q", fe, fe.Class)
	}
	if fe.Hint == "" {
		t.Fatalf("fault %+v: no hint", fe)
	}
	if !errors.Is(fe, KindOf(fe.Class)) {
		t.Fatalf("fault %+v does not unwrap to %v", fe, KindOf(fe.Class))
	}
	if fe.Op != "" || fe.HTTPStatus != 0 || fe.Err != nil {
		t.Fatalf("fault %+v: op, status or cause set by the decoder", fe)
	}
	_ = fe.Error()
	if strings.Contains(strings.ReplaceAll(fe.Code, Marker(ScrubEckID), ""), ":") {
		t.Fatalf("fault code %q keeps a namespace prefix", fe.Code)
	}
	if n := len(fe.Message); n > maxUnscrubbedFault+len("…") {
		t.Fatalf("fault text of %d bytes, more than %d", n, maxUnscrubbedFault)
	}
	for name, s := range map[string]string{"code": fe.Code, "text": fe.Message} {
		if m := eckidShape.FindString(s); m != "" {
			t.Fatalf("fault %s %q holds an ECK iD shape %q", name, s, m)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("fault %s %q is not valid UTF-8", name, s)
		}
		for _, r := range s {
			if needsEscape(r) {
				t.Fatalf("fault %s %q holds control character %U", name, s, r)
			}
		}
	}
	if fe.Message != strings.TrimSpace(fe.Message) {
		t.Fatalf("fault text %q is not trimmed", fe.Message)
	}
}
