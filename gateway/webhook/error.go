package webhook

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

const (
	// maxSnippet is the most of an answer an error repeats, after control
	// characters are removed: enough to tell a receiver's complaint, too
	// little to carry a document.
	maxSnippet = 200
	// maxRetryAfter bounds a Retry-After a receiver asks for, so that a
	// huge value cannot overflow a time.Duration or park a message for
	// years; the caller's backoff decides within it.
	maxRetryAfter = 7 * 24 * time.Hour
)

// Error is what Send returns when the receiver answered other than 2xx or
// no answer came. Class says what to do: gateway.ClassTemporary (a network
// failure, 5xx, 408, 425, 429: retry, not before RetryAfter),
// gateway.ClassCredential (401, 403: the secret or the recipient's
// configuration must be fixed) or gateway.ClassRequest (any other 4xx, a
// redirect: the same post fails again). Msg names the endpoint's host
// only, with at most a short one-line snippet of the answer.
type Error struct {
	Class gateway.ErrorClass
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// RetryAfter is the receiver's Retry-After (seconds form), 0 when absent.
	RetryAfter time.Duration
	Msg        string
	// Err is the transport failure, if any (e.g. context.Canceled).
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("webhook: %s [%s]", e.Msg, e.Class)
}

// Unwrap exposes the domain kind of the class (gateway.ErrTransient for
// temporary, gateway.ErrForbidden for credential, gateway.ErrInvalid
// otherwise, as package soap maps its classes) and the transport failure.
func (e *Error) Unwrap() []error {
	kind := gateway.ErrInvalid
	switch e.Class {
	case gateway.ClassTemporary:
		kind = gateway.ErrTransient
	case gateway.ClassCredential:
		kind = gateway.ErrForbidden
	}
	if e.Err != nil {
		return []error{kind, e.Err}
	}
	return []error{kind}
}

// ErrorClass is the class of the failure (for a caller that classifies
// failures of any sender).
func (e *Error) ErrorClass() gateway.ErrorClass { return e.Class }

// Retryable reports whether the post may succeed later.
func (e *Error) Retryable() bool { return e.Class.Retryable() }

// statusError is the *Error of a non-2xx answer to a post to u.
func statusError(u *url.URL, resp *http.Response, body []byte) *Error {
	e := &Error{Class: classOf(resp.StatusCode), Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header)}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e.Class = gateway.ClassRequest
		e.Msg = fmt.Sprintf("post to %s: HTTP %d: redirect refused%s", u.Host, resp.StatusCode, locationHost(u, resp.Header))
		return e
	}
	e.Msg = fmt.Sprintf("post to %s: HTTP %d", u.Host, resp.StatusCode)
	if s := oneLine(string(body), maxSnippet); s != "" {
		e.Msg += ": " + s
	}
	if e.RetryAfter > 0 {
		e.Msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return e
}

// classOf classifies a non-2xx status.
func classOf(status int) gateway.ErrorClass {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return gateway.ClassCredential
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly ||
		status == http.StatusTooManyRequests || (status >= 500 && status <= 599):
		return gateway.ClassTemporary
	}
	return gateway.ClassRequest
}

// locationHost names the host a redirect points at, never its path or
// query (which may carry a token).
func locationHost(base *url.URL, h http.Header) string {
	loc := h.Get("Location")
	if loc == "" {
		return " (no Location)"
	}
	u, err := base.Parse(loc)
	if err != nil || u.Host == "" {
		return " (Location unreadable)"
	}
	return " (Location host " + oneLine(u.Host, maxSnippet) + ")"
}

// retryAfter reads a Retry-After header in its seconds form; the date form
// and anything else count as absent.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0
	}
	if n > uint64(maxRetryAfter/time.Second) {
		return maxRetryAfter
	}
	return time.Duration(n) * time.Second
}

// oneLine returns s on one line and at most limit bytes: invalid UTF-8 and
// control characters (line breaks included) are removed, runs of white
// space become one space, and a cut falls on a character boundary.
func oneLine(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "") {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		// Format characters (bidi overrides, zero width) go too: they can
		// disguise what a line says.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			continue
		}
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > limit {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
