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
	"github.com/uwlr-gateway/uwlr-gateway/gateway/capture"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// The LAS tools: talking to one LAS endpoint with credentials given by hand
// (las check, las fetch, las parse, conformance), for vendors testing their
// endpoint and operators setting a school up. They use no store and keep no
// personal data: check and conformance count, fetch writes a redacted
// capture, and every LAS text they return is scrubbed. Run for an enrolled
// school they are acts on its data: see lasschool.go.

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
		// A header given by hand may be a credential (a subscription key).
		conn.Secrets = append(conn.Secrets, strings.TrimSpace(value))
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

// FaultOf classifies a failure for printing. Its code and message are
// scrubbed (a client scrubbed its own already; this also covers a fault
// read from a file and any other error text).
func FaultOf(err error) *gateway.Fault {
	var sc *soap.Scrubber
	var se *soap.Error
	if errors.As(err, &se) {
		return &gateway.Fault{Code: sc.Scrub(se.Code), Class: se.Class, Hint: se.Hint, Message: sc.Scrub(se.Message), HTTPStatus: se.HTTPStatus}
	}
	return &gateway.Fault{Class: gateway.ClassRequest, Message: sc.Scrub(err.Error()), Hint: "See the message; this is not a classified LAS failure."}
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
	// RedactedEckIDs counts the records whose ECK iD is a redacted
	// capture's marker (las parse of a capture of las fetch).
	RedactedEckIDs int `json:"redacted_eckids,omitempty"`
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
		for i, w := range out.Warnings {
			out.Warnings[i] = (*soap.Scrubber)(nil).Scrub(w) // a LAS key may be shaped like an ECK iD
		}
	case errors.As(err, &se):
		out.Fault = FaultOf(err)
	default:
		out.Error = (*soap.Scrubber)(nil).Scrub(err.Error())
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
// answer element), a redacted capture too.
func ParseAnswer(r io.Reader) Answer {
	redacted := 0
	count := func(eckid string) {
		if mapping.IsRedactedEckID(eckid) {
			redacted++
		}
	}
	h, checked := mapping.CheckAnswer(soap.Handler{
		Leerling:   func(l *uwlr.Leerling) error { count(l.Eckid); return nil },
		Leerkracht: func(t *uwlr.Leerkracht) error { count(t.Eckid); return nil },
	})
	sum, err := soap.ReadLeerlinggegevens(r, h)
	out := answer(sum, checked, err)
	out.RedactedEckIDs = redacted
	return out
}

// Capture is what las fetch wrote.
type Capture struct {
	Bytes int64 `json:"bytes"`
	// Saved: the bytes are worth keeping (the answer, or the LAS's fault
	// answer, scrubbed).
	Saved bool `json:"-"`
	Raw   bool `json:"raw"`
	// EckIDs and Keys count the distinct ECK iDs and the echoes of our keys
	// replaced by markers, Dropped the elements and attributes left out
	// (none for a raw capture's answer).
	EckIDs  int `json:"redacted_eckids"`
	Keys    int `json:"redacted_keys"`
	Dropped int `json:"dropped_fields"`
	// DeleteBy is, for a raw capture, when the file must be deleted
	// (las.capture_ttl after it was taken).
	DeleteBy time.Time `json:"delete_by,omitzero"`
	// Err is the LAS call's failure (a fault, a transport error); nil when
	// the whole answer came.
	Err error `json:"-"`
}

// FetchLAS writes a redacted capture of the target's answer to op to w
// (package capture: only what the gateway itself keeps, ECK iDs numbered,
// our keys out); a fault answer is written scrubbed. Only a bad target is
// an error; a failed call is the Capture's Err.
func (l LAS) FetchLAS(ctx context.Context, t Target, op uwlr.Operation, schooljaar string, w io.Writer) (Capture, error) {
	return l.fetch(ctx, t, op, schooljaar, w, false)
}

// fetch is FetchLAS; raw writes the answer as it came (a fault still
// scrubbed).
func (l LAS) fetch(ctx context.Context, t Target, op uwlr.Operation, schooljaar string, w io.Writer, raw bool) (Capture, error) {
	conn, hc, err := l.Connect(t)
	if err != nil {
		return Capture{}, err
	}
	cl := soap.NewClient(hc, conn)
	var st capture.Stats
	save, saveFailed := capture.Save(raw, cl.Scrubber(), &st), false
	c := Capture{Raw: raw}
	c.Bytes, c.Err = cl.Fetch(ctx, op, soap.Request{Schooljaar: schooljaar}, nil, w, func(dst io.Writer, body io.Reader, fault bool) error {
		err := save(dst, body, fault)
		saveFailed = err != nil
		return err
	})
	var se *soap.Error
	c.Saved = c.Bytes > 0 && !saveFailed && (c.Err == nil || errors.As(c.Err, &se) && se.Code != "")
	c.EckIDs, c.Keys, c.Dropped = st.EckIDs, st.Keys, st.Dropped
	return c, nil
}

// Conformance runs the official conformance cases against the target;
// progress, when set, is told each case as it ends. What the LAS said in
// each case (the fault code and text) is scrubbed of our keys and ECK iDs.
func (l LAS) Conformance(ctx context.Context, t Target, schooljaar string, progress func(conformance.Result)) (*conformance.Report, error) {
	conn, hc, err := l.Connect(t)
	if err != nil {
		return nil, err
	}
	sc := soap.NewScrubber(append([]string{conn.Autorisatiesleutel}, conn.Secrets...)...)
	scrub := func(r conformance.Result) conformance.Result {
		r.Got, r.Detail = sc.Scrub(r.Got), sc.Scrub(r.Detail)
		return r
	}
	ct := conformance.Target{Endpoint: conn.Endpoint, Brincode: conn.Brincode, Dependancecode: conn.Dependancecode,
		Schoolkey: conn.Schoolkey, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam,
		Autorisatiesleutel: conn.Autorisatiesleutel, Xsdversie: conn.Xsdversie, Schooljaar: schooljaar}
	told := func(r conformance.Result) {
		if progress != nil {
			progress(scrub(r))
		}
	}
	rep, err := conformance.Run(ctx, hc, ct, conformance.Options{QuoteSOAPAction: conn.QuoteSOAPAction, Header: conn.Header}, told)
	if rep != nil {
		for i := range rep.Cases {
			rep.Cases[i] = scrub(rep.Cases[i])
		}
	}
	if err != nil {
		return rep, fmt.Errorf("conformance: %w", err)
	}
	return rep, nil
}
