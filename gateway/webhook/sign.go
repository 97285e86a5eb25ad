package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The headers of a signed message.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a message's timestamp may lie from the
// receiver's clock, as the specification's libraries allow: enough for
// clock skew and a slow network, short enough that a captured message
// cannot be replayed for long.
const DefaultTolerance = 5 * time.Minute

// signatureVersion is the only scheme we sign and accept: HMAC-SHA256.
const signatureVersion = "v1"

// ErrUnverified is wrapped (beside gateway.ErrInvalid) by every error of
// Verify: a header is missing or malformed, the timestamp is outside the
// tolerance, or no signature matches.
var ErrUnverified = errors.New("webhook message does not verify")

// Sign returns the webhook-signature value of a message: "v1," + the
// standard base64 of HMAC-SHA256(key, id + "." + unix seconds of ts + "." +
// body).
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body))
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte("."))
	m.Write([]byte(strconv.FormatInt(unix, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a received message as a receiver would: the three headers
// are present, the timestamp lies within tolerance of now
// (DefaultTolerance when tolerance is not positive), and one of the
// space-separated v1 signatures is the message's, compared in constant
// time; signatures of other versions are ignored. Every failure wraps
// ErrUnverified and gateway.ErrInvalid.
func Verify(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("webhook: verify: %w: %w: %s", ErrUnverified, gateway.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if len(key) == 0 {
		return fail("no key")
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fail("missing %s, %s or %s header", HeaderID, HeaderTimestamp, HeaderSignature)
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fail("%s is not unix seconds", HeaderTimestamp)
	}
	// Compare in seconds: a time.Duration overflows for timestamps far
	// from now.
	skew := now.Unix() - unix
	limit := int64(tolerance / time.Second)
	switch {
	case skew > limit:
		return fail("timestamp is %d s old, more than the tolerance of %s", skew, tolerance)
	case skew < -limit:
		return fail("timestamp is %d s ahead, more than the tolerance of %s", -skew, tolerance)
	}
	want := mac(key, id, unix, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != signatureVersion {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fail("no %s signature matches", signatureVersion)
}
