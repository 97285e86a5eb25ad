package soap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// DefaultMaxResponseBytes caps a response body (after decompression): ten
// times the whole-school answer of a 50,000-pupil school (about 25 MiB).
const DefaultMaxResponseBytes int64 = 256 << 20

// Connection is everything needed to talk to one LAS for one school. It is
// a value: every call builds its own request from it, so concurrent calls for
// different schools can never share header state.
type Connection struct {
	Endpoint string // the LAS SOAP endpoint URL

	// Credentials for the autorisatie header.
	Autorisatiesleutel string
	Klantcode          string
	Klantnaam          string

	// School identification: Brincode (+ Dependancecode), or Schoolkey.
	Brincode       string
	Dependancecode string
	Schoolkey      string

	Xsdversie     string // "2.2" (default) or "2.3"
	Gegevenssetid string // omitted when empty

	QuoteSOAPAction  bool        // send SOAPAction: "X" instead of X
	Header           http.Header // extra HTTP headers, e.g. IddinkHub-Subscription-Key
	MaxResponseBytes int64       // 0 means DefaultMaxResponseBytes
	DisableGzip      bool        // do not send Accept-Encoding: gzip
	UserAgent        string

	// Secrets are the school's other secrets, opened (the results
	// receiver's key, vendor header values): the client scrubs them, and its
	// own Autorisatiesleutel, from every LAS text that reaches an error.
	Secrets []string

	// InsecureHTTP accepts a plain http:// endpoint outside loopback (an
	// operator's explicit choice, school add --insecure-http); without it
	// the endpoint must be https, or http to a loopback host.
	InsecureHTTP bool
	// Reads, when set, bounds the calls running at once across every
	// connection that shares it (gateway/app: one for the process).
	Reads *ReadLimiter
}

// Validate checks the connection before any call, so a bad configuration
// is reported as such and not as a LAS fault.
func (c Connection) Validate() error {
	var problems []string
	switch {
	case c.Endpoint == "":
		problems = append(problems, "endpoint is empty")
	case !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://"):
		problems = append(problems, "endpoint must start with http:// or https://")
	default:
		if err := c.checkEndpoint(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.Autorisatiesleutel == "" {
		problems = append(problems, "autorisatiesleutel is empty")
	}
	if c.Klantcode == "" {
		problems = append(problems, "klantcode is empty")
	}
	if c.Klantnaam == "" {
		problems = append(problems, "klantnaam is empty")
	}
	switch {
	case c.Brincode != "" && c.Schoolkey != "":
		problems = append(problems, "give brincode or schoolkey, not both")
	case c.Brincode == "" && c.Schoolkey == "":
		problems = append(problems, "give brincode (with dependancecode) or schoolkey")
	case c.Brincode != "" && !ValidBrincode(c.Brincode):
		problems = append(problems, fmt.Sprintf("brincode %q is not 2 digits + 2 capitals (e.g. 12AB)", c.Brincode))
	}
	if c.Dependancecode != "" && !ValidDependancecode(c.Dependancecode) {
		problems = append(problems, fmt.Sprintf("dependancecode %q is not 2 digits", c.Dependancecode))
	}
	if c.Dependancecode != "" && c.Brincode == "" {
		problems = append(problems, "dependancecode needs a brincode")
	}
	if len(problems) > 0 {
		return fmt.Errorf("LAS connection: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkEndpoint applies gateway.CheckEgressURL to the endpoint: https, or
// http to a loopback host, never with user info; InsecureHTTP accepts
// plain http to any host.
func (c Connection) checkEndpoint() error {
	u := c.Endpoint
	if rest, ok := strings.CutPrefix(u, "http://"); ok && c.InsecureHTTP {
		u = "https://" + rest
	}
	if err := gateway.CheckEgressURL(u); err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	return nil
}

// ValidBrincode reports whether s is a BRIN code: 2 digits and 2 capitals.
func ValidBrincode(s string) bool {
	return len(s) == 4 && isDigit(s[0]) && isDigit(s[1]) && isUpper(s[2]) && isUpper(s[3])
}

// ValidDependancecode reports whether s is 2 digits.
func ValidDependancecode(s string) bool { return len(s) == 2 && isDigit(s[0]) && isDigit(s[1]) }

// ValidSchooljaar reports whether s matches the request pattern [1-2]ddd-[1-2]ddd.
func ValidSchooljaar(s string) bool {
	return len(s) == 9 && (s[0] == '1' || s[0] == '2') && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) &&
		s[4] == '-' && (s[5] == '1' || s[5] == '2') && isDigit(s[6]) && isDigit(s[7]) && isDigit(s[8])
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// Client calls one LAS for one school. Every *Error it returns has its
// LAS text (fault code and string, HTTP error body) scrubbed of ECK iDs and
// of the connection's secrets, with control characters neutralised.
type Client struct {
	hc    *http.Client
	conn  Connection
	now   func() time.Time
	scrub *Scrubber
}

// NewClient returns a client for conn over hc (nil: NewHTTPClient's
// defaults). It never follows a redirect, whoever built hc: it calls a copy
// of hc whose CheckRedirect refuses them (see noRedirect).
func NewClient(hc *http.Client, conn Connection) *Client {
	if hc == nil {
		// Not http.DefaultClient: its transport adds and strips gzip itself,
		// which would defeat DisableGzip and the size cap on what we parse.
		hc, _ = NewHTTPClient(TransportOptions{}) // cannot fail without files
	}
	own := *hc
	own.CheckRedirect = noRedirect
	hc = &own
	if conn.Xsdversie == "" {
		conn.Xsdversie = "2.2"
	}
	if conn.MaxResponseBytes <= 0 {
		conn.MaxResponseBytes = DefaultMaxResponseBytes
	}
	conn.Header = conn.Header.Clone()
	conn.Secrets = slices.Clone(conn.Secrets)
	scrub := NewScrubber(append([]string{conn.Autorisatiesleutel}, conn.Secrets...)...)
	return &Client{hc: hc, conn: conn, now: time.Now, scrub: scrub}
}

// Scrubber is the client's scrubber: ECK iDs and the connection's secrets.
// Use it for any other LAS text the caller keeps or shows.
func (c *Client) Scrubber() *Scrubber { return c.scrub }

// Request are the per-call parameters of a leerlinggegevens request.
type Request struct {
	Schooljaar string    // e.g. "2025-2026"; use gateway.SchoolYearAt
	Since      time.Time // laatstontvangengegevens; zero means "send everything"
}

func (c *Client) basis(r Request) uwlr.VerzoekBasis {
	b := uwlr.VerzoekBasis{
		Schooljaar:     r.Schooljaar,
		Brincode:       c.conn.Brincode,
		Dependancecode: c.conn.Dependancecode,
		Schoolkey:      c.conn.Schoolkey,
		Xsdversie:      c.conn.Xsdversie,
		Gegevenssetid:  c.conn.Gegevenssetid,
	}
	if !r.Since.IsZero() {
		b.Laatstontvangengegevens = r.Since.UTC().Format(time.RFC3339)
	}
	return b
}

func (c *Client) auth() *uwlr.Autorisatie {
	return &uwlr.Autorisatie{Autorisatiesleutel: c.conn.Autorisatiesleutel, Klantcode: c.conn.Klantcode, Klantnaam: c.conn.Klantnaam}
}

// RequestBody builds the body element of a leerlinggegevens operation.
func (c *Client) RequestBody(op uwlr.Operation, r Request, groups *uwlr.GroepenSelectie) (any, error) {
	b := c.basis(r)
	switch op.Name {
	case uwlr.OpHaalLeerlinggegevens.Name:
		return &uwlr.LeerlinggegevensVerzoek{VerzoekBasis: b}, nil
	case uwlr.OpHaalStructuur.Name:
		return &uwlr.StructuurVerzoek{VerzoekBasis: b}, nil
	case uwlr.OpHaalLeerlingen.Name, uwlr.OpHaalLeerkrachten.Name:
		if groups == nil || len(groups.Groep)+len(groups.SamengesteldeGroep) == 0 {
			return nil, fmt.Errorf("%s needs at least one group", op.Name)
		}
		if op.Name == uwlr.OpHaalLeerlingen.Name {
			return &uwlr.LeerlingenVerzoek{VerzoekBasis: b, Groepen: *groups}, nil
		}
		return &uwlr.LeerkrachtenVerzoek{VerzoekBasis: b, Groepen: *groups}, nil
	}
	return nil, fmt.Errorf("operation %s has no leerlinggegevens request", op.Name)
}

// HaalLeerlinggegevens pulls the whole school and streams it into h.
func (c *Client) HaalLeerlinggegevens(ctx context.Context, r Request, h Handler) (*Summary, error) {
	return c.pull(ctx, uwlr.OpHaalLeerlinggegevens, r, nil, h)
}

// HaalStructuur pulls the school, its branches and its groups.
func (c *Client) HaalStructuur(ctx context.Context, r Request, h Handler) (*Summary, error) {
	return c.pull(ctx, uwlr.OpHaalStructuur, r, nil, h)
}

// HaalLeerlingen pulls the pupils of the given groups.
func (c *Client) HaalLeerlingen(ctx context.Context, r Request, groups uwlr.GroepenSelectie, h Handler) (*Summary, error) {
	return c.pull(ctx, uwlr.OpHaalLeerlingen, r, &groups, h)
}

// HaalLeerkrachten pulls the teachers of the given groups.
func (c *Client) HaalLeerkrachten(ctx context.Context, r Request, groups uwlr.GroepenSelectie, h Handler) (*Summary, error) {
	return c.pull(ctx, uwlr.OpHaalLeerkrachten, r, &groups, h)
}

func (c *Client) pull(ctx context.Context, op uwlr.Operation, r Request, groups *uwlr.GroepenSelectie, h Handler) (*Summary, error) {
	body, err := c.RequestBody(op, r, groups)
	if err != nil {
		return nil, err
	}
	var sum *Summary
	err = c.call(ctx, op, body, func(rd io.Reader) error {
		s, err := ReadLeerlinggegevens(rd, h)
		if err != nil {
			return err
		}
		sum = s
		return nil
	})
	return sum, err
}

// BrengLeerresultaten sends results; nil means the LAS confirmed them with
// leerresultaten_bevestiging.
func (c *Client) BrengLeerresultaten(ctx context.Context, msg *uwlr.LeerresultatenVerzoek) error {
	_, err := c.SendResults(ctx, msg)
	return err
}

// Exchange is one request and its answer as they crossed the wire, kept as
// evidence. Request is the exact request body with the autorisatiesleutel
// replaced by "[redacted]"; it still holds every ECK iD in plain text, so
// the caller must seal them before it stores anything.
type Exchange struct {
	Request []byte
	// RequestSHA256 is the hex SHA-256 of the exact bytes sent (key included).
	RequestSHA256 string
	Response      []byte // the answer body (decompressed), at most MaxExchangeResponse bytes
	// Truncated is set when the answer was longer than MaxExchangeResponse.
	Truncated bool
}

// MaxExchangeResponse caps the answer bytes an Exchange keeps.
const MaxExchangeResponse = 1 << 20

// SendResults is BrengLeerresultaten that also returns the exchange: the
// exact request bytes and the answer (also when the answer is a fault).
func (c *Client) SendResults(ctx context.Context, msg *uwlr.LeerresultatenVerzoek) (*Exchange, error) {
	ex := &Exchange{}
	err := c.exchange(ctx, uwlr.OpBrengLeerresultaten, msg, nil, ex, func(rd io.Reader) error {
		d := newAnswerDecoder(rd)
		se, err := firstElement(d)
		if err != nil {
			return err
		}
		if se.Name.Local == "Envelope" {
			if se, err = bodyStartAfterEnvelope(d); err != nil {
				return err
			}
		}
		switch se.Name.Local {
		case "Fault":
			f, err := decodeFault(d, &se)
			if err != nil {
				return err
			}
			return faultError(f.Code, f.String)
		case uwlr.OpBrengLeerresultaten.Response:
			return nil
		}
		return fmt.Errorf("unexpected answer <%s>, want <%s>", se.Name.Local, uwlr.OpBrengLeerresultaten.Response)
	})
	return ex, err
}

// MarshalRequest renders the full envelope a call would send (for tests and
// `las fetch --dry-run`-style inspection).
func (c *Client) MarshalRequest(body any) ([]byte, error) { return MarshalEnvelope(c.auth(), body) }

// call posts one envelope and hands the (decompressed, size-capped) body to
// read. Every failure comes back as *Error with the operation filled in.
func (c *Client) call(ctx context.Context, op uwlr.Operation, body any, read func(io.Reader) error) error {
	return c.do(ctx, op, body, nil, read)
}

// do is call with faultBody: when set, the body of a fault answered with an
// HTTP error status is handed to it too (las fetch keeps it for support).
func (c *Client) do(ctx context.Context, op uwlr.Operation, body any, faultBody, read func(io.Reader) error) error {
	return c.exchange(ctx, op, body, faultBody, nil, read)
}

// maxMessage bounds the LAS text an *Error keeps, cut after scrubbing so a
// cut never leaves part of a secret out of the scrubber's reach.
const maxMessage = 500

// exchange is do that, when ex is set, keeps the request bytes and up to
// MaxExchangeResponse bytes of the answer in ex. It is where every *Error
// of the client is scrubbed: fault code and message, whatever produced them.
func (c *Client) exchange(ctx context.Context, op uwlr.Operation, body any, faultBody func(io.Reader) error, ex *Exchange, read func(io.Reader) error) error {
	err := c.roundTrip(ctx, op, body, faultBody, ex, read)
	var se *Error
	if errors.As(err, &se) {
		se.Code = c.scrub.Scrub(se.Code)
		se.Message = clip(c.scrub.Scrub(se.Message), maxMessage)
	}
	return err
}

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// newRequest builds the HTTP request of one envelope.
func (c *Client) newRequest(ctx context.Context, op uwlr.Operation, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.conn.Endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, &Error{Op: op.Name, Class: ClassRequest, Message: "bad endpoint URL", Err: err,
			Hint: "Check the endpoint URL of this connection."}
	}
	for k, vs := range c.conn.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	action := op.SOAPAction
	if c.conn.QuoteSOAPAction {
		action = `"` + action + `"`
	}
	req.Header.Set("SOAPAction", action)
	if !c.conn.DisableGzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	ua := c.conn.UserAgent
	if ua == "" {
		ua = "uwlr-gateway"
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}

// roundTrip posts one envelope and reads the answer (see exchange).
func (c *Client) roundTrip(ctx context.Context, op uwlr.Operation, body any, faultBody func(io.Reader) error, ex *Exchange, read func(io.Reader) error) error {
	if err := c.conn.Validate(); err != nil {
		return &Error{Op: op.Name, Class: ClassRequest, Message: err.Error(), Err: err,
			Hint: "Fix the connection settings of this school."}
	}
	payload, err := MarshalEnvelope(c.auth(), body)
	if err != nil {
		return fmt.Errorf("%s: %w", op.Name, err)
	}
	if ex != nil {
		sum := sha256.Sum256(payload)
		ex.RequestSHA256 = hex.EncodeToString(sum[:])
		ex.Request = redactKey(payload)
	}
	req, err := c.newRequest(ctx, op, payload)
	if err != nil {
		return err
	}
	if c.conn.Reads != nil {
		if err := c.conn.Reads.acquire(ctx); err != nil {
			return transportError(op.Name, err)
		}
		defer c.conn.Reads.release()
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return transportError(op.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return redirectError(op.Name, req.URL, resp) // its body is not read
	}
	rd, err := decompress(op.Name, resp)
	if err != nil {
		return err
	}
	limited := &capReader{r: rd, left: c.conn.MaxResponseBytes}
	rd = limited
	if ex != nil {
		kept := &keepWriter{ex: ex}
		rd = io.TeeReader(rd, kept)
		defer func() {
			// The reader may stop at the answer element: keep the rest too.
			_, _ = io.Copy(io.Discard, io.LimitReader(rd, MaxExchangeResponse))
		}()
	}
	if resp.StatusCode != http.StatusOK {
		return c.statusFailure(op, resp, rd, faultBody)
	}
	if err := read(rd); err != nil {
		if le := limitFailure(op.Name, resp.StatusCode, err); le != nil {
			return le
		}
		return c.readFailure(ctx, op, resp.StatusCode, limited, err)
	}
	return nil
}

// redactKey returns a copy of an envelope we wrote with the content of its
// autorisatiesleutel element replaced by "[redacted]".
func redactKey(payload []byte) []byte {
	open, end := []byte("<autorisatiesleutel>"), []byte("</autorisatiesleutel>")
	i := bytes.Index(payload, open)
	j := bytes.Index(payload, end)
	if i < 0 || j < i {
		return bytes.Clone(payload)
	}
	out := make([]byte, 0, len(payload))
	out = append(out, payload[:i+len(open)]...)
	out = append(out, "[redacted]"...)
	return append(out, payload[j:]...)
}

// keepWriter keeps up to MaxExchangeResponse bytes of an answer.
type keepWriter struct{ ex *Exchange }

func (k *keepWriter) Write(p []byte) (int, error) {
	room := MaxExchangeResponse - len(k.ex.Response)
	if len(p) > room {
		k.ex.Truncated = true
		k.ex.Response = append(k.ex.Response, p[:max(room, 0)]...)
		return len(p), nil
	}
	k.ex.Response = append(k.ex.Response, p...)
	return len(p), nil
}
