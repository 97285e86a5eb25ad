package soap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Class says what kind of action a failure needs: the domain's closed
// set, gateway.ErrorClass.
type Class = gateway.ErrorClass

const (
	// ClassCredential: key, klant identification, certificate or trust is wrong; a person must fix it.
	ClassCredential = gateway.ClassCredential
	// ClassRequest: the request, endpoint or configuration is wrong; retrying the same call fails again.
	ClassRequest = gateway.ClassRequest
	// ClassVersion: the LAS does not speak the UWLR version we sent.
	ClassVersion = gateway.ClassVersion
	// ClassTemporary: the LAS or the network failed for now; retry with backoff.
	ClassTemporary = gateway.ClassTemporary
)

// KindOf maps a class onto the domain error kind.
func KindOf(c Class) error {
	switch c {
	case ClassCredential:
		return gateway.ErrForbidden
	case ClassTemporary:
		return gateway.ErrTransient
	default:
		return gateway.ErrInvalid
	}
}

// UWLR fault codes (the part after the envelope prefix).
const (
	CodeAutorisatieOngeldig         = "Client.AutorisatieOngeldig"
	CodeOngeldigeKlantIdentificatie = "Client.OngeldigeKlantIdentificatie"
	CodeOngeldigBericht             = "Client.OngeldigBericht"
	CodeXsdVersieOngeldig           = "Client.XsdVersieOngeldig"
	CodeVocabulaireTermOngeldig     = "Client.VocabulaireTermOngeldig"
	CodeLeerlingOngeldig            = "Client.LeerlingOngeldig"
	CodeToetsNormeringOngeldig      = "Client.ToetsNormeringOngeldig"
	CodeScoreOngeldig               = "Client.ScoreOngeldig"
	CodeEldResultaatOngeldig        = "Client.EldResultaatOngeldig"
	CodeInterneFout                 = "Server.InterneFout"
	CodeTijdelijkNietBeschikbaar    = "Server.TijdelijkNietBeschikbaar"
)

type faultInfo struct {
	class Class
	hint  string
	text  string // the default Dutch faultstring
}

var faultTable = map[string]faultInfo{
	CodeAutorisatieOngeldig: {ClassCredential,
		"The LAS rejected the autorisatiesleutel for this school: ask the school to issue a new key in its LAS for exactly this BRIN and dependancecode (or schoolkey) and enter it again.",
		"Autorisatie ongeldig"},
	CodeOngeldigeKlantIdentificatie: {ClassCredential,
		"The LAS does not recognise our klantcode/klantnaam: check them against the values this LAS vendor issued (they differ per vendor).",
		"Klantidentificatie ongeldig"},
	CodeOngeldigBericht: {ClassRequest,
		"The LAS could not accept our request: check the schooljaar, BRIN, dependancecode or schoolkey of this connection; if they are right, send this fault to support.",
		"Ongeldig bericht"},
	CodeXsdVersieOngeldig: {ClassVersion,
		"The LAS does not support the UWLR version we sent: set xsdversie for this connection to the version the vendor supports (usually 2.2, or 2.3 for Magister).",
		"XSD versie ongeldig"},
	CodeVocabulaireTermOngeldig: {ClassRequest,
		"The LAS does not know a vocabulary term in the results (test code, subject or norm): check the test definitions with the LAS vendor.",
		"Vocabulaireterm ongeldig"},
	CodeLeerlingOngeldig: {ClassRequest,
		"The LAS does not know a pupil in the results: run a fresh sync so results use the pupils the LAS has now.",
		"Leerling ongeldig"},
	CodeToetsNormeringOngeldig: {ClassRequest,
		"The LAS rejected the norms of a test: check the test definitions (normering) with the LAS vendor.",
		"Toetsnormering ongeldig"},
	CodeScoreOngeldig: {ClassRequest,
		"The LAS rejected a score: check that scores fit this receiver (whole numbers, within the norm range).",
		"Score ongeldig"},
	CodeEldResultaatOngeldig: {ClassRequest,
		"The LAS rejected a result in an agreed own format: check the receiver profile with the LAS vendor.",
		"Eigen resultaat ongeldig"},
	CodeInterneFout: {ClassTemporary,
		"The LAS had an internal error; the gateway retries automatically. If it keeps happening, report it to the LAS vendor.",
		"Interne fout"},
	CodeTijdelijkNietBeschikbaar: {ClassTemporary,
		"The LAS is temporarily unavailable (maintenance or load); the gateway retries automatically.",
		"Tijdelijk niet beschikbaar"},
}

// DefaultFaultString is the generic Dutch faultstring for a UWLR code.
func DefaultFaultString(code string) string {
	if fi, ok := faultTable[code]; ok {
		return fi.text
	}
	return code
}

// FaultCodes lists every UWLR fault code this package knows.
func FaultCodes() []string {
	codes := make([]string, 0, len(faultTable))
	for c := range faultTable {
		codes = append(codes, c)
	}
	return codes
}

// ClassifyFaultCode classifies a faultcode as sent (any prefix) and returns
// its class and fix hint. Unknown codes fall back on their Client/Server part.
func ClassifyFaultCode(code string) (Class, string) {
	local := FaultCodeLocal(code)
	if fi, ok := faultTable[local]; ok {
		return fi.class, fi.hint
	}
	switch {
	case strings.HasPrefix(local, "Server"):
		return ClassTemporary, "The LAS reported a server-side problem; the gateway retries automatically."
	case local == "VersionMismatch":
		return ClassVersion, "The LAS does not accept SOAP 1.1 envelopes: check the endpoint is the UWLR 2.x SOAP endpoint."
	default:
		return ClassRequest, "The LAS rejected the request with an unknown fault code; send this fault to support."
	}
}

// FaultCodeLocal strips the namespace prefix: "soap:Client.X" -> "Client.X".
func FaultCodeLocal(code string) string {
	code = strings.TrimSpace(code)
	if i := strings.LastIndex(code, ":"); i >= 0 {
		return code[i+1:]
	}
	return code
}

// Error is a classified failure of one UWLR call: a SOAP Fault from the LAS
// (Code set) or a transport failure (HTTP status, TLS, network, timeout).
// errors.Is(err, gateway.ErrTransient) etc. hold according to Class.
type Error struct {
	Op         string // the UWLR operation, e.g. "HaalLeerlinggegevens"
	Code       string // the UWLR fault code without prefix; empty for transport failures
	Message    string // the LAS's faultstring, or a description of the transport failure
	HTTPStatus int    // 0 when no HTTP response was received
	Class      Class
	Hint       string // one line for a school admin
	Err        error  // the underlying transport error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Code != "" {
		fmt.Fprintf(&b, ": SOAP fault %s", e.Code)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	fmt.Fprintf(&b, " [%s]", e.Class)
	return b.String()
}

// Unwrap exposes the domain kind and the underlying error.
func (e *Error) Unwrap() []error {
	errs := []error{KindOf(e.Class)}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether the call may succeed later.
func (e *Error) Retryable() bool { return e.Class.Retryable() }

// faultError builds the *Error of a SOAP fault. Its text is scrubbed of
// ECK iDs and control characters at once (a fault read from a file, with
// no client, is shown too); a client scrubs its own secrets from it later.
func faultError(code, text string) *Error {
	class, hint := ClassifyFaultCode(code)
	// Cut far above maxMessage: a cut through an echoed key here would keep
	// part of it out of reach of the client's scrubbing, which cuts again.
	msg := clip((*Scrubber)(nil).Scrub(strings.TrimSpace(text)), maxUnscrubbedFault)
	return &Error{Code: (*Scrubber)(nil).Scrub(FaultCodeLocal(code)), Message: msg, Class: class, Hint: hint}
}

// maxUnscrubbedFault bounds a faultstring kept before the client's secrets
// are known; it is far above maxMessage, so any key cut here is cut away
// again there.
const maxUnscrubbedFault = 4096

// statusError classifies a non-SOAP HTTP error response.
func statusError(op string, status int, snippet string) *Error {
	e := &Error{Op: op, HTTPStatus: status, Message: http.StatusText(status)}
	if snippet != "" {
		e.Message += ": " + snippet
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Class = ClassCredential
		e.Hint = "The LAS endpoint refused access before reading the request: check the client certificate and any vendor subscription key (e.g. IddinkHub-Subscription-Key) for this connection."
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		e.Class = ClassRequest
		e.Hint = "The LAS endpoint URL is wrong (nothing answers there): check the endpoint the vendor gave for this school."
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		e.Class = ClassTemporary
		e.Hint = "The LAS or a gateway in front of it failed for now; the gateway retries automatically."
	default:
		e.Class = ClassRequest
		e.Hint = "The LAS endpoint did not accept the request: check the endpoint URL and vendor profile of this connection."
	}
	return e
}

// transportError classifies a failure before any HTTP response arrived.
func transportError(op string, err error) *Error {
	e := &Error{Op: op, Err: err, Message: err.Error()}
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certInvalid x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		alert       tls.AlertError
		dnsErr      *net.DNSError
		netErr      net.Error
		verifyErr   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &hostErr):
		// Before verifyErr: crypto/tls wraps the HostnameError in a CertificateVerificationError.
		e.Class = ClassCredential
		e.Hint = "The LAS's TLS certificate is for another host name: check the endpoint URL."
	case errors.As(err, &unknownAuth), errors.As(err, &verifyErr), errors.As(err, &certInvalid):
		e.Class = ClassCredential
		e.Hint = "The LAS's TLS certificate is not trusted: if the vendor uses a private CA, configure its CA file for this connection."
	case errors.As(err, &alert), isTLSAlert(err):
		e.Class = ClassCredential
		e.Hint = "The LAS refused the TLS handshake: it probably requires a client certificate (mTLS, e.g. ESIS); configure a valid certificate and key for this connection."
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http replaces the RecordHeaderError of https:// to a plain HTTP port by that text.
		e.Class = ClassRequest
		e.Hint = "The endpoint does not speak TLS: use http:// or the right port."
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Class = ClassTemporary
		e.Hint = "The LAS did not answer in time; the gateway retries automatically. Large schools may need a longer las.timeout."
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		e.Class = ClassRequest
		e.Hint = "The LAS host name does not exist: check the endpoint URL."
	default:
		e.Class = ClassTemporary
		e.Hint = "The LAS could not be reached; the gateway retries automatically. If it persists, check the endpoint and the network."
	}
	return e
}

// isTLSAlert catches handshake alerts that crypto/tls reports only as text
// (e.g. "remote error: tls: certificate required").
func isTLSAlert(err error) bool {
	s := err.Error()
	return strings.Contains(s, "remote error: tls:")
}

// statusFailure classifies an answer with an HTTP error status: a SOAP
// fault (HTTP 500, handed to faultBody when set) or the transport's error.
func (c *Client) statusFailure(op uwlr.Operation, resp *http.Response, rd io.Reader, faultBody func(io.Reader) error) error {
	br := bufio.NewReader(rd)
	peek, _ := br.Peek(64 << 10)
	if fe := peekFault(peek); fe != nil {
		fe.Op, fe.HTTPStatus = op.Name, resp.StatusCode
		if faultBody != nil {
			var ce *CallerError
			if err := faultBody(br); errors.As(err, &ce) {
				return fmt.Errorf("%s: %w", op.Name, ce.Err)
			}
		}
		return fe
	}
	snippet := ""
	if !isXMLContentType(resp.Header.Get("Content-Type")) {
		// Redact before firstLine shortens it, like a fault's text.
		snippet = firstLine([]byte(c.scrub.Redact(string(peek))))
	}
	return statusError(op.Name, resp.StatusCode, snippet)
}

// readFailure classifies a failure to read an answer with HTTP 200.
func (c *Client) readFailure(ctx context.Context, op uwlr.Operation, status int, limited *capReader, err error) error {
	var ce *CallerError
	if errors.As(err, &ce) {
		// The caller's own handler failed: not the LAS's doing.
		return fmt.Errorf("%s: %w", op.Name, ce.Err)
	}
	var fe *Error
	if errors.As(err, &fe) {
		fe.Op = op.Name
		if fe.HTTPStatus == 0 {
			fe.HTTPStatus = status
		}
		return fe
	}
	if limited.exceeded {
		return &Error{Op: op.Name, HTTPStatus: status, Class: ClassRequest, Err: err,
			Message: fmt.Sprintf("response larger than %d bytes", c.conn.MaxResponseBytes),
			Hint:    "The LAS response exceeds las.max_response_bytes: raise the limit for this school, or use the stepwise operations."}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return transportError(op.Name, fmt.Errorf("read response: %w", ctxErr))
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return transportError(op.Name, fmt.Errorf("read response: %w", err))
	}
	return &Error{Op: op.Name, HTTPStatus: status, Class: ClassRequest, Err: err,
		Message: "unreadable response: " + err.Error(),
		Hint:    "The LAS answered with something that is not a UWLR response: check the endpoint and vendor profile; save it with `las fetch` for support."}
}

// peekFault recognises a SOAP Fault at the start of a body.
func peekFault(b []byte) *Error {
	if !bytes.Contains(b, []byte("Fault")) {
		return nil
	}
	d := newDecoder(bytes.NewReader(b))
	se, err := firstElement(d)
	if err != nil {
		return nil
	}
	if se.Name.Local == "Envelope" {
		if se, err = bodyStartAfterEnvelope(d); err != nil {
			return nil
		}
	}
	if se.Name.Local != "Fault" {
		return nil
	}
	var f uwlr.Fault
	if err := d.DecodeElement(&f, &se); err != nil {
		return nil
	}
	return faultError(f.Code, f.String)
}

func isXMLContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml"))
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
