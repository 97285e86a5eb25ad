package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// principal is the authenticated caller of a request.
type principal struct {
	token gateway.Token
	via   string // "api" or "web"
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalOf(ctx context.Context) (principal, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p, ok
}

// canWrite reports whether the role may change things (viewers may not).
func (p principal) canWrite() bool {
	return p.token.Role == gateway.RoleOperator || p.token.Role == gateway.RoleSchoolAdmin
}

// actor names the caller in audit entries and consent history: the token's
// name and id, never the secret.
func (p principal) actor() string { return p.as().String() }

// as is the caller as an actor of the application layer.
func (p principal) as() gateway.Actor { return gateway.TokenActor(p.token, p.via) }

// caller puts the authenticated caller in the context: its principal, its
// school scope and its actor.
func caller(ctx context.Context, t gateway.Token, via string) context.Context {
	p := principal{token: t, via: via}
	ctx = gateway.WithActor(withPrincipal(ctx, p), p.as())
	return gateway.WithScope(setToken(ctx, t.ID), t.ScopeOf())
}

// recordLogin records a login or a failed login (the processing
// agreement's login logging) through the application layer; a failure to
// record is logged, the request goes on.
func (s *Server) recordLogin(r *http.Request, t gateway.Token, ok bool, how, reason string) {
	err := s.app.RecordLogin(r.Context(), gateway.LoginAttempt{Token: t, OK: ok, Via: how, Remote: remoteIP(r),
		RequestID: requestID(r.Context()), Reason: reason})
	if err != nil {
		s.log(r).Error("login not fully recorded", "error", err)
	}
	if s.metrics != nil {
		s.metrics.logins.WithLabelValues(strconv.FormatBool(ok), how).Inc()
	}
}

// refused reports whether err is a refused token (its text is the reason,
// for the login record: the caller is told refusedToken).
func refused(err error) bool { return errors.Is(err, gateway.ErrForbidden) }

// throttled reports whether err is a login refused unchecked, because the
// caller's address used up its failed logins; it counts it.
func (s *Server) throttled(err error, via string) bool {
	var ra retryAfterer
	if !errors.As(err, &ra) {
		return false
	}
	if s.metrics != nil {
		s.metrics.throttled.WithLabelValues(via).Inc()
	}
	return true
}

// refusedToken is what every refused token is told, whatever the reason
// (malformed, unknown, revoked, expired): the reason stays in the login
// record, so a guesser learns nothing of which tokens exist.
const refusedToken = "this token is not valid: it may be mistyped, revoked or expired (ask for a new one: `uwlr-gateway token create`)"

// loginGap: an API token used after this much quiet counts as a new login
// (audited); a web login is always one.
const loginGap = time.Hour

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireToken authenticates an API request by its bearer token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme name is case-insensitive (RFC 9110 section 11.1).
		scheme, secret, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="uwlr-gateway"`)
			writeProblem(w, r, Problem{Type: typeAuth, Title: "Unauthorized", Status: http.StatusUnauthorized,
				Detail: "send an admin token: Authorization: Bearer uwlr_… (create one with `uwlr-gateway token create`)"})
			return
		}
		t, err := s.app.Authenticate(r.Context(), strings.TrimSpace(secret), remoteIP(r))
		if s.throttled(err, "api") {
			s.fail(w, r, err)
			return
		} else if refused(err) {
			s.recordLogin(r, t, false, "api", err.Error())
			w.Header().Set("WWW-Authenticate", `Bearer realm="uwlr-gateway", error="invalid_token"`)
			writeProblem(w, r, Problem{Type: typeAuth, Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: refusedToken})
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.now().Sub(t.LastUsedAt) >= loginGap {
			s.recordLogin(r, t, true, "api", "")
		}
		next.ServeHTTP(w, r.WithContext(caller(r.Context(), t, "api")))
	})
}

// Sessions of the web page: a cookie naming the token (by its hash) and an
// expiry, signed with the gateway's session key; every request re-checks
// that the token is still active. CSRF tokens are an HMAC of the cookie.
const (
	sessionCookie = "uwlr_session"
	sessionTTL    = 8 * time.Hour
)

type sessionData struct {
	Hash    string `json:"h"`
	Expires int64  `json:"e"`
	// Gen is the token's session generation the session was made in: a
	// logout or revocation moves it on, ending the session on the server.
	Gen uint64 `json:"g"`
}

func (s *Server) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.sessionKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// newSession returns the cookie value for a token.
func (s *Server) newSession(t gateway.Token) string {
	b, _ := json.Marshal(sessionData{Hash: t.Hash, Expires: s.now().Add(sessionTTL).Unix(), Gen: t.SessionGen})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
}

// session returns the active token of a request's session cookie.
func (s *Server) session(r *http.Request) (gateway.Token, string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return gateway.Token{}, "", false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return gateway.Token{}, "", false
	}
	want := base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return gateway.Token{}, "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return gateway.Token{}, "", false
	}
	var d sessionData
	if json.Unmarshal(raw, &d) != nil || s.now().Unix() >= d.Expires {
		return gateway.Token{}, "", false
	}
	t, err := s.app.SessionToken(r.Context(), d.Hash, d.Gen)
	if err != nil || t.Role == gateway.RoleDashboard { // a dashboard token never has a page
		return gateway.Token{}, "", false
	}
	return t, c.Value, true
}

// csrfToken is the form token of a session.
func (s *Server) csrfToken(session string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", session))
}

// checkCSRF compares a form's token with the session's.
func (s *Server) checkCSRF(r *http.Request, session string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(session))) == 1
}
