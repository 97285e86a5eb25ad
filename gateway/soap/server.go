package soap

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Call is one decoded UWLR request as a server sees it.
type Call struct {
	Op uwlr.Operation
	// Auth is the autorisatie header; nil when the request had none.
	Auth *uwlr.Autorisatie
	// Request is *uwlr.LeerlinggegevensVerzoek, *uwlr.StructuurVerzoek,
	// *uwlr.LeerlingenVerzoek, *uwlr.LeerkrachtenVerzoek or *uwlr.LeerresultatenVerzoek.
	Request any
	// Raw is the request envelope as received (inflated), when the Server
	// keeps it (Server.KeepRaw) or DecodeCall was given it; nil otherwise.
	Raw    []byte
	Header http.Header
	TLS    *tls.ConnectionState
}

// Backend answers UWLR calls. It returns the answer element (a struct that
// marshals to it, or a BodyWriter/EnvelopeWriter to stream it), or an error:
// a *Fault is sent as that SOAP fault, anything else as Server.InterneFout.
type Backend interface {
	Handle(ctx context.Context, call *Call) (any, error)
}

// BodyWriter streams the answer element itself (for large answers).
type BodyWriter interface {
	WriteBody(w io.Writer) error
}

// EnvelopeWriter writes a whole response envelope (replay of recorded files).
type EnvelopeWriter interface {
	WriteEnvelope(w io.Writer) error
}

// Fault is an error a Backend returns to answer with a SOAP fault.
type Fault struct {
	Code   string // e.g. CodeAutorisatieOngeldig
	String string // faultstring; DefaultFaultString(Code) when empty
}

func (f *Fault) Error() string { return "SOAP fault " + f.Code + ": " + f.String }

// NewFault returns a *Fault with the default faultstring for code, plus detail.
func NewFault(code, detail string) *Fault {
	s := DefaultFaultString(code)
	if detail != "" {
		s += ": " + detail
	}
	return &Fault{Code: code, String: s}
}

// Authorizer is an optional capability of a Backend: it refuses a call from
// its autorisatie header alone. The server calls Authorize once it has read
// the header and the start tag of the request element (so op is known), before
// it reads or inflates the rest of the body, so a caller without a valid key
// cannot make the server parse a large body. auth is nil when the request has
// no autorisatie header. An error is answered like one from Handle (a *Fault
// as that fault, anything else as Server.InterneFout); Handle still sees every
// call that passes and does all of its checks.
type Authorizer interface {
	Authorize(ctx context.Context, op uwlr.Operation, auth *uwlr.Autorisatie) error
}

// Server serves UWLR SOAP 1.1 over HTTP POST for a Backend. It reads the
// request as a stream: the header, the Backend's Authorize (when it is an
// Authorizer), the request element, then the rest of the document, within
// the caps of server_limits.go. Serve it with NewHTTPServer for timeouts.
type Server struct {
	Backend Backend
	// Gzip compresses answers for clients that send Accept-Encoding: gzip.
	Gzip bool
	// OnError, when set, is told about internal errors (never sent to clients).
	OnError func(op string, err error)
	// MaxRequestBytes caps a request envelope, compressed on the wire and
	// inflated; 0 means MaxRequestBytes.
	MaxRequestBytes int64
	// KeepRaw fills Call.Raw with the request envelope (inflated). Off, the
	// request is never held whole.
	KeepRaw bool
}

// ServeHTTP implements http.Handler.
func (h *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "UWLR SOAP endpoint: POST a SOAP 1.1 envelope", http.StatusMethodNotAllowed)
		return
	}
	limit := h.MaxRequestBytes
	if limit <= 0 {
		limit = MaxRequestBytes
	}
	body, f := openBody(w, r, limit)
	defer body.Close()
	if f != nil {
		h.refuse(w, r, body, "", f)
		return
	}
	var in io.Reader = body
	var raw *bytes.Buffer
	if h.KeepRaw {
		raw = &bytes.Buffer{}
		in = io.TeeReader(body, raw)
	}
	var op string // the operation, once known: for OnError
	refused := false
	authorize := func(o uwlr.Operation, auth *uwlr.Autorisatie) error {
		op = o.Name
		if a, ok := h.Backend.(Authorizer); ok {
			err := a.Authorize(r.Context(), o, auth)
			refused = err != nil
			return err
		}
		return nil
	}
	call, err := decodeCall(in, r.Header.Get("SOAPAction"), authorize)
	if err != nil {
		if f := body.fault(); f != nil && !refused {
			err = f // a cap or a broken transfer, not the XML, stopped the parse
		}
		h.refuse(w, r, body, op, err)
		return
	}
	if raw != nil {
		call.Raw = raw.Bytes()
	}
	call.Header = r.Header
	call.TLS = r.TLS
	answer, err := h.Backend.Handle(r.Context(), call)
	if err != nil {
		h.refuse(w, r, body, call.Op.Name, err)
		return
	}
	h.answer(w, r, call.Op, answer)
}

// refuse answers err as a SOAP fault: a *Fault as it is, anything else as
// Server.InterneFout (told to OnError). When the body was not read to its
// end, the connection is closed after the answer instead of reading the
// rest of what was refused.
func (h *Server) refuse(w http.ResponseWriter, r *http.Request, body *requestBody, op string, err error) {
	var f *Fault
	if !errors.As(err, &f) {
		if h.OnError != nil {
			h.OnError(op, err)
		}
		f = NewFault(CodeInterneFout, "")
	}
	if !body.done() {
		w.Header().Set("Connection", "close")
	}
	h.fault(w, r, f)
}

// DecodeCall parses a request envelope. The SOAPAction header, when given,
// must agree with the body element. Problems come back as a Client.OngeldigBericht
// fault; a missing header is not a problem here (the backend decides).
// Call.Raw is raw.
func DecodeCall(raw []byte, soapAction string) (*Call, *Fault) {
	call, err := decodeCall(bytes.NewReader(raw), soapAction, nil)
	if err != nil {
		var f *Fault
		if !errors.As(err, &f) {
			f = NewFault(CodeOngeldigBericht, "not a readable SOAP 1.1 request: "+trimErr(err))
		}
		return nil, f
	}
	call.Raw = raw
	return call, nil
}

func trimErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func (h *Server) writer(w http.ResponseWriter, r *http.Request) (io.Writer, func() error) {
	if h.Gzip && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		return gz, gz.Close
	}
	return w, func() error { return nil }
}

func (h *Server) fault(w http.ResponseWriter, r *http.Request, f *Fault) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	out, done := h.writer(w, r)
	w.WriteHeader(http.StatusInternalServerError)
	text := f.String
	if text == "" {
		text = DefaultFaultString(f.Code)
	}
	_ = writeFault(out, f.Code, text)
	_ = done()
}

func (h *Server) answer(w http.ResponseWriter, r *http.Request, op uwlr.Operation, answer any) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	out, done := h.writer(w, r)
	var err error
	switch a := answer.(type) {
	case EnvelopeWriter:
		err = a.WriteEnvelope(out)
	case BodyWriter:
		if _, err = io.WriteString(out, envelopeOpen+`<soap:Body>`); err == nil {
			if err = a.WriteBody(out); err == nil {
				_, err = io.WriteString(out, `</soap:Body>`+envelopeClose)
			}
		}
	default:
		err = WriteEnvelope(out, nil, answer)
	}
	if err == nil {
		err = done()
	}
	if err != nil {
		if h.OnError != nil {
			h.OnError(op.Name, err)
		}
		// Headers and part of the body are gone. Abort the connection so the
		// client sees a broken transfer (retryable), not a short document.
		panic(http.ErrAbortHandler)
	}
}
