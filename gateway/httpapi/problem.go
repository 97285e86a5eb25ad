package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Problem is an RFC 9457 problem details document. Errors names each bad
// field (a JSON pointer into the request body, or a query parameter).
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []FieldProblem `json:"errors,omitempty"`
	// Connection is the last connection check, on a connection test
	// refused within its cooldown (429).
	Connection *gateway.ConnectionCheck `json:"connection,omitempty"`
}

// FieldProblem is one bad field of a request.
type FieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// problem types: one URN per kind, so clients can switch on them.
const (
	typeInvalid  = "urn:uwlr-gateway:problem:invalid"
	typeNotFound = "urn:uwlr-gateway:problem:not-found"
	typeAuth     = "urn:uwlr-gateway:problem:unauthorized"
	typeForbid   = "urn:uwlr-gateway:problem:forbidden"
	typeConsent  = "urn:uwlr-gateway:problem:consent-required"
	typeConflict = "urn:uwlr-gateway:problem:conflict"
	typeTransit  = "urn:uwlr-gateway:problem:temporarily-unavailable"
	typeTooMany  = "urn:uwlr-gateway:problem:too-many-requests"
	typeMedia    = "urn:uwlr-gateway:problem:unsupported-media-type"
	typeInternal = "urn:uwlr-gateway:problem:internal"
)

// statusOf is the one table from error kinds to HTTP statuses (STYLE R6).
// A few routes answer a kind otherwise, and say why where they do: the
// results feed and the research and legal exports answer
// ErrConsentRequired with 403 (notGranted, feed.go), since the refusal is
// the school's choice, not a state the request could wait out.
//
// An error that says when to come back (RetryAfter, e.g. failed logins of
// the address used up, a connection test within its cooldown) is a 429
// whatever its kind; fail sends its Retry-After.
func statusOf(err error) (int, string, string) {
	var ra retryAfterer
	switch {
	case errors.As(err, &ra):
		return http.StatusTooManyRequests, typeTooMany, "Too many requests"
	case errors.Is(err, gateway.ErrInvalid):
		return http.StatusUnprocessableEntity, typeInvalid, "Invalid request"
	case errors.Is(err, gateway.ErrNotFound):
		return http.StatusNotFound, typeNotFound, "Not found"
	case errors.Is(err, gateway.ErrConsentRequired):
		return http.StatusConflict, typeConsent, "Consent required"
	case errors.Is(err, gateway.ErrConflict):
		return http.StatusConflict, typeConflict, "Conflict"
	case errors.Is(err, gateway.ErrForbidden):
		return http.StatusForbidden, typeForbid, "Forbidden"
	case errors.Is(err, gateway.ErrTransient), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, typeTransit, "Temporarily unavailable"
	}
	return http.StatusInternalServerError, typeInternal, "Internal error"
}

// retryAfterer is an error that says when to try again.
type retryAfterer interface{ RetryAfter() time.Duration }

// setRetryAfter sends err's Retry-After (whole seconds, rounded up), if it
// has one.
func setRetryAfter(w http.ResponseWriter, err error) {
	var ra retryAfterer
	if errors.As(err, &ra) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(ra.RetryAfter().Seconds())))))
	}
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = r.URL.Path
	if p.Type == "" {
		p.Type = "about:blank"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// fail writes the problem of err: its kind decides the status. The detail
// of a 5xx is generic (the error is logged with the request id instead);
// the detail of a 4xx is the error text, which carries ids only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, typ, title := statusOf(err)
	p := Problem{Type: typ, Title: title, Status: status, Detail: err.Error()}
	if status >= 500 {
		s.log(r).Error("request failed", "error", err)
		p.Detail = "the gateway could not complete the request; see its log (request id " + requestID(r.Context()) + ")"
	} else {
		s.log(r).Info("request refused", "status", status, "error", err)
	}
	setRetryAfter(w, err)
	writeProblem(w, r, p)
}

// invalid writes a 422 naming each bad field.
func invalid(w http.ResponseWriter, r *http.Request, detail string, fields ...FieldProblem) {
	writeProblem(w, r, Problem{Type: typeInvalid, Title: "Invalid request", Status: http.StatusUnprocessableEntity, Detail: detail, Errors: fields})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
