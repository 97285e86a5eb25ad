package webhook

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// CheckURL accepts an absolute https URL, or an http URL to a loopback host
// (127.0.0.0/8, ::1, localhost: a test or a receiver on the same machine),
// with a host and without user info. Anything else is an error wrapping
// gateway.ErrInvalid; it never repeats the URL (a query may hold a token).
// The recipient registry checks webhook URLs with it when they are
// registered; Send checks again before each post.
func CheckURL(raw string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("webhook: url: %w: %s", gateway.ErrInvalid, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	if u.User != nil {
		return bad("user info is not allowed in the URL: the secret is the credential")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("no host")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return bad("http is allowed only to a loopback host; use https")
	case "":
		return bad("not an absolute URL")
	}
	return bad("scheme is not https")
}

// isLoopback reports whether host (without port or brackets) is a loopback
// address or the name localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
