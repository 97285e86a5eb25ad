package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// The LAS tools: talking to one LAS endpoint with credentials given by hand
// (las check, las fetch, las parse, conformance), for vendors testing their
// endpoint and operators setting a school up. They use no store.

// Target is a LAS endpoint and one school's credentials, given by hand.
// Empty Klantcode, Klantnaam and Xsdversie take the LAS defaults.
type Target struct {
	Endpoint                        string
	Brin, Dependancecode, Schoolkey string
	Klantcode, Klantnaam, Key       string
	Xsdversie, Gegevenssetid        string
	// Headers are extra HTTP headers, each "Name: value" (e.g. a vendor's
	// subscription key).
	Headers                               []string
	ClientCertFile, ClientKeyFile, CAFile string
	QuoteSOAPAction                       bool
	// Timeout bounds the whole call (0: the LAS default).
	Timeout time.Duration
}

// CheckTarget reports whether a target is complete (ErrInvalid if not).
func (l LAS) CheckTarget(t Target) error {
	_, _, err := l.Connect(t)
	return err
}

// Connect checks a target and builds its connection and transport
// (ErrInvalid for a bad target).
func (l LAS) Connect(t Target) (soap.Connection, *http.Client, error) {
	conn := soap.Connection{Endpoint: t.Endpoint, Autorisatiesleutel: t.Key, Klantcode: or(t.Klantcode, l.Klantcode),
		Klantnaam: or(t.Klantnaam, l.Klantnaam), Brincode: t.Brin, Dependancecode: t.Dependancecode, Schoolkey: t.Schoolkey,
		Xsdversie: or(t.Xsdversie, l.Xsdversie), Gegevenssetid: t.Gegevenssetid, QuoteSOAPAction: t.QuoteSOAPAction || l.SOAPActionQuoted,
		MaxResponseBytes: l.MaxResponseBytes, DisableGzip: !l.AcceptGzip, UserAgent: l.UserAgent, Header: http.Header{}}
	for _, h := range t.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return conn, nil, invalidf("header %q: want 'Name: value'", h)
		}
		conn.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if err := conn.Validate(); err != nil {
		return conn, nil, invalid(err)
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = l.Timeout
	}
	hc, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: t.ClientCertFile, ClientKeyFile: t.ClientKeyFile,
		CAFile: t.CAFile, Timeout: timeout, ConnectTimeout: l.ConnectTimeout})
	if err != nil {
		return conn, nil, invalid(err)
	}
	return conn, hc, nil
}

// FaultOf classifies a failure for printing.
func FaultOf(err error) *gateway.Fault {
	var se *soap.Error
	if errors.As(err, &se) {
		return &gateway.Fault{Code: se.Code, Class: se.Class, Hint: se.Hint, Message: se.Message, HTTPStatus: se.HTTPStatus}
	}
	return &gateway.Fault{Class: gateway.ClassRequest, Message: err.Error(), Hint: "See the message; this is not a classified LAS failure."}
}

// Answer is what a leerlinggegevens answer held: counts, the school it is
// about, and every record warning (mapping's checks, one format).
type Answer struct {
	OK      bool        `json:"ok"`
	Outcome string      `json:"outcome,omitempty"`
	School  uwlr.School `json:"-"`
	Counts
	DroppedWarnings int `json:"dropped_warnings,omitempty"`
	// Fault is a classified failure (a SOAP fault, an HTTP error); Error a
	// file that is not a readable answer at all.
	Fault *gateway.Fault `json:"fault,omitempty"`
	Error string         `json:"error,omitempty"`
}

// Counts are the records of an answer and its record warnings.
type Counts struct {
	Pupils          int      `json:"pupils"`
	Groups          int      `json:"groups"`
	CompositeGroups int      `json:"composite_groups"`
	Teachers        int      `json:"teachers"`
	Vestigingen     int      `json:"vestigingen"`
	Warnings        []string `json:"warnings"`
}

// answer reads a summary and its checker into an Answer.
func answer(sum *soap.Summary, checked func() ([]string, int), err error) Answer {
	out := Answer{Counts: Counts{Warnings: []string{}}}
	var se *soap.Error
	switch {
	case err == nil:
		out.OK, out.Outcome, out.School = true, string(sum.Outcome), sum.School
		out.Pupils, out.Groups, out.CompositeGroups = sum.Leerlingen, sum.Groepen, sum.SamengesteldeGroepen
		out.Teachers, out.Vestigingen = sum.Leerkrachten, sum.Vestigingen
		out.Warnings, out.DroppedWarnings = checked()
	case errors.As(err, &se):
		out.Fault = FaultOf(err)
	default:
		out.Error = err.Error()
	}
	return out
}

// CheckLAS asks the target for one school's whole leerlinggegevens and
// reports what came back; progress, when set, is told the pupils read.
// Only a bad target is an error; a failed call is the Answer's Fault.
func (l LAS) CheckLAS(ctx context.Context, t Target, schooljaar string, progress func(pupils int)) (Answer, soap.Connection, error) {
	conn, hc, err := l.Connect(t)
	if err != nil {
		return Answer{}, conn, err
	}
	h := soap.Handler{}
	if progress != nil {
		n := 0
		h.Leerling = func(*uwlr.Leerling) error { n++; progress(n); return nil }
	}
	h, checked := mapping.CheckAnswer(h)
	sum, err := soap.NewClient(hc, conn).HaalLeerlinggegevens(ctx, soap.Request{Schooljaar: schooljaar}, h)
	out := answer(sum, checked, err)
	if err != nil && out.Fault == nil {
		out.Fault = FaultOf(err)
	}
	return out, conn, nil
}

// ParseAnswer reads a saved answer offline (a SOAP envelope or the bare
// answer element).
func ParseAnswer(r io.Reader) Answer {
	h, checked := mapping.CheckAnswer(soap.Handler{})
	sum, err := soap.ReadLeerlinggegevens(r, h)
	return answer(sum, checked, err)
}

// FetchLAS writes the target's raw answer to op to w and returns how many
// bytes it wrote; a LAS fault answer is written too (saved reports whether
// the bytes are worth keeping: the answer, or the LAS's fault envelope).
func (l LAS) FetchLAS(ctx context.Context, t Target, op uwlr.Operation, schooljaar string, w io.Writer) (n int64, saved bool, err error) {
	conn, hc, err := l.Connect(t)
	if err != nil {
		return 0, false, err
	}
	n, err = soap.NewClient(hc, conn).Fetch(ctx, op, soap.Request{Schooljaar: schooljaar}, nil, w, nil)
	var se *soap.Error
	return n, n > 0 && (err == nil || errors.As(err, &se) && se.Code != ""), err
}

// Conformance runs the official conformance cases against the target;
// progress, when set, is told each case as it ends.
func (l LAS) Conformance(ctx context.Context, t Target, schooljaar string, progress func(conformance.Result)) (*conformance.Report, error) {
	conn, hc, err := l.Connect(t)
	if err != nil {
		return nil, err
	}
	ct := conformance.Target{Endpoint: conn.Endpoint, Brincode: conn.Brincode, Dependancecode: conn.Dependancecode,
		Schoolkey: conn.Schoolkey, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam,
		Autorisatiesleutel: conn.Autorisatiesleutel, Xsdversie: conn.Xsdversie, Schooljaar: schooljaar}
	rep, err := conformance.Run(ctx, hc, ct, conformance.Options{QuoteSOAPAction: conn.QuoteSOAPAction, Header: conn.Header}, progress)
	if err != nil {
		return rep, fmt.Errorf("conformance: %w", err)
	}
	return rep, nil
}
