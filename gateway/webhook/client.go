package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// DefaultMaxResponseBytes is how much of an answer Send reads when
// Client.MaxResponseBytes is not set: a receiver acknowledges, it does not
// answer with documents.
const DefaultMaxResponseBytes = 64 << 10

// maxIDLen bounds a message id: it is a header value and part of what is
// signed.
const maxIDLen = 256

// Client posts signed JSON messages. The zero value works (http.DefaultClient,
// the system clock, 64 KiB answers, Go's user agent).
type Client struct {
	// HTTP is the caller's client (its transport, timeout, TLS settings).
	// Send uses a copy that never follows redirects, whatever its
	// CheckRedirect says. Nil means http.DefaultClient.
	HTTP *http.Client
	// Now is the clock the timestamp is read from; nil means time.Now.
	Now func() time.Time
	// MaxResponseBytes is the most Send reads of an answer; not positive
	// means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// UserAgent is sent when set.
	UserAgent string
}

// Response is what a receiver answered to one post.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// SentAt is the time the message was signed with; its webhook-timestamp
	// is SentAt's unix seconds.
	SentAt time.Time
	// Body is the start of the answer, at most MaxResponseBytes.
	Body []byte
	// RequestSHA256 is the lower-case hex SHA-256 of the body posted.
	RequestSHA256 string
}

// Send POSTs body (JSON, Content-Type application/json) to url with the
// headers webhook-id (id: the caller's stable message id; a resend carries
// the same id with a new timestamp and signature), webhook-timestamp and
// webhook-signature, signed with key.
//
// Bad input (a URL CheckURL refuses, an empty key, an id that is empty,
// longer than 256 bytes or holds other than printable ASCII without spaces,
// a body that is not JSON) is an error wrapping gateway.ErrInvalid and
// nothing is sent. A 2xx answer returns its Response and nil. Any other
// answer, and a failure to get one, is an *Error; when an answer was read,
// Response is filled as well, for the caller's evidence.
func (c *Client) Send(ctx context.Context, url string, key []byte, id string, body []byte) (Response, error) {
	if err := CheckURL(url); err != nil {
		return Response{}, fmt.Errorf("webhook: send: %w", err)
	}
	switch {
	case len(key) == 0:
		return Response{}, fmt.Errorf("webhook: send: %w: no key", gateway.ErrInvalid)
	case !validID(id):
		return Response{}, fmt.Errorf("webhook: send: %w: message id must be 1-%d printable ASCII characters without spaces", gateway.ErrInvalid, maxIDLen)
	case !json.Valid(body):
		return Response{}, fmt.Errorf("webhook: send %s: %w: body is not JSON", id, gateway.ErrInvalid)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		// Not err: it would repeat the URL.
		return Response{}, fmt.Errorf("webhook: send %s: %w: cannot build the request", id, gateway.ErrInvalid)
	}
	host := req.URL.Host
	sum := sha256.Sum256(body)
	out := Response{SentAt: c.now(), RequestSHA256: hex.EncodeToString(sum[:])}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(out.SentAt.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(key, id, out.SentAt, body))
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}

	resp, err := c.client().Do(req)
	if err != nil {
		return Response{}, transportError(host, err)
	}
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, c.maxResponse()))
	if err != nil {
		return out, transportError(host, fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return out, nil
	}
	return out, statusError(req.URL, resp, out.Body)
}

// client returns a copy of the caller's client that does not follow
// redirects: the message is signed for, and the recipient registered with,
// one endpoint.
func (c *Client) client() *http.Client {
	hc := http.DefaultClient
	if c.HTTP != nil {
		hc = c.HTTP
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) maxResponse() int64 {
	if c.MaxResponseBytes > 0 {
		return c.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// validID accepts 1 to maxIDLen printable ASCII characters without spaces.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// transportError is the *Error of a post that got no (complete) answer.
// The URL is not repeated: net/http's *url.Error names it whole.
func transportError(host string, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{
		Class: gateway.ClassTemporary,
		Msg:   fmt.Sprintf("post to %s: %s", host, oneLine(err.Error(), maxSnippet)),
		Err:   err,
	}
}
