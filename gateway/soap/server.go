package soap

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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
	// Raw is the request envelope as received.
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

// MaxRequestBytes caps request envelopes the server reads.
const MaxRequestBytes = 64 << 20

// Server serves UWLR SOAP 1.1 over HTTP POST for a Backend.
type Server struct {
	Backend Backend
	// Gzip compresses answers for clients that send Accept-Encoding: gzip.
	Gzip bool
	// OnError, when set, is told about internal errors (never sent to clients).
	OnError func(op string, err error)
}

// ServeHTTP implements http.Handler.
func (h *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "UWLR SOAP endpoint: POST a SOAP 1.1 envelope", http.StatusMethodNotAllowed)
		return
	}
	// Clients may compress the request (PHP's SoapClient does with its
	// compression option); the size cap applies to the decompressed bytes.
	var body io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip", "deflate":
		var zr io.ReadCloser
		var err error
		if enc == "deflate" {
			zr, err = zlib.NewReader(r.Body)
		} else {
			zr, err = gzip.NewReader(r.Body)
		}
		if err != nil {
			h.fault(w, r, NewFault(CodeOngeldigBericht, "request body is not valid "+enc))
			return
		}
		defer zr.Close()
		body = zr
	default:
		h.fault(w, r, NewFault(CodeOngeldigBericht, "unsupported request Content-Encoding "+enc))
		return
	}
	raw, err := io.ReadAll(io.LimitReader(body, MaxRequestBytes+1))
	if err != nil {
		h.fault(w, r, NewFault(CodeOngeldigBericht, "request body could not be read"))
		return
	}
	if len(raw) > MaxRequestBytes {
		h.fault(w, r, NewFault(CodeOngeldigBericht, "request too large"))
		return
	}
	call, f := DecodeCall(raw, r.Header.Get("SOAPAction"))
	if f != nil {
		h.fault(w, r, f)
		return
	}
	call.Header = r.Header
	call.TLS = r.TLS
	answer, err := h.Backend.Handle(r.Context(), call)
	if err != nil {
		var bf *Fault
		if !errors.As(err, &bf) {
			if h.OnError != nil {
				h.OnError(call.Op.Name, err)
			}
			bf = NewFault(CodeInterneFout, "")
		}
		h.fault(w, r, bf)
		return
	}
	h.answer(w, r, call.Op, answer)
}

// DecodeCall parses a request envelope. The SOAPAction header, when given,
// must agree with the body element. Problems come back as a Client.OngeldigBericht
// fault; a missing header is not a problem here (the backend decides).
func DecodeCall(raw []byte, soapAction string) (*Call, *Fault) {
	d := newDecoder(bytes.NewReader(raw))
	var auth uwlr.Autorisatie
	var found bool
	se, err := bodyStart(d, &auth, &found)
	if err != nil {
		return nil, NewFault(CodeOngeldigBericht, "not a readable SOAP 1.1 request: "+trimErr(err))
	}
	op, ok := uwlr.OperationByRequest(se.Name.Local)
	if !ok {
		return nil, NewFault(CodeOngeldigBericht, fmt.Sprintf("unknown request element %q", se.Name.Local))
	}
	want := uwlr.NSLeerlinggegevens
	if op == uwlr.OpBrengLeerresultaten {
		want = uwlr.NSLeerresultaten
	}
	if se.Name.Space != want {
		return nil, NewFault(CodeOngeldigBericht, fmt.Sprintf("request element %q is not in namespace %s", se.Name.Local, want))
	}
	if soapAction != "" {
		if sop, ok := uwlr.OperationBySOAPAction(strings.TrimSpace(soapAction)); ok && sop.Name != op.Name {
			return nil, NewFault(CodeOngeldigBericht, fmt.Sprintf("SOAPAction %s does not match body element %s", sop.Name, se.Name.Local))
		}
	}
	var req any
	switch op.Name {
	case uwlr.OpHaalLeerlinggegevens.Name:
		req = &uwlr.LeerlinggegevensVerzoek{}
	case uwlr.OpHaalStructuur.Name:
		req = &uwlr.StructuurVerzoek{}
	case uwlr.OpHaalLeerlingen.Name:
		req = &uwlr.LeerlingenVerzoek{}
	case uwlr.OpHaalLeerkrachten.Name:
		req = &uwlr.LeerkrachtenVerzoek{}
	default:
		req = &uwlr.LeerresultatenVerzoek{}
	}
	if err := d.DecodeElement(req, &se); err != nil {
		return nil, NewFault(CodeOngeldigBericht, "request body: "+trimErr(err))
	}
	// The rest of the document must be well-formed too.
	for {
		if _, err := d.Token(); err != nil {
			if err == io.EOF {
				break
			}
			return nil, NewFault(CodeOngeldigBericht, "request envelope: "+trimErr(err))
		}
	}
	c := &Call{Op: op, Request: req, Raw: raw}
	if found {
		c.Auth = &auth
	}
	return c, nil
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
