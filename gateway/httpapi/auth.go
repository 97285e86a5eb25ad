package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// tokenPrefix starts every admin token, so a leaked one is recognisable
// (and secret scanners can find it).
const tokenPrefix = "uwlr_"

// GenerateToken returns a new token secret (shown once, never stored) and
// its hash (stored).
func GenerateToken(random io.Reader) (secret, hash string, err error) {
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// HashToken is how a token secret is stored and looked up: hex SHA-256.
// The secret has 256 random bits, so a plain hash suffices (no salt or
// slow hash is needed against guessing).
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// principal is the authenticated caller of a request.
type principal struct {
	token gateway.Token
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
func (p principal) actor() string {
	if p.token.Name != "" {
		return p.token.Name + " (token " + p.token.ID + ")"
	}
	return "token " + p.token.ID
}

// authFailure is why a token was refused; the text is safe to log.
type authFailure string

func (f authFailure) Error() string { return string(f) }

// authenticate finds the active token with this secret.
func (s *Server) authenticate(ctx context.Context, secret string) (gateway.Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) < len(tokenPrefix)+40 {
		return gateway.Token{}, authFailure("malformed token")
	}
	t, err := s.store.TokenByHash(ctx, HashToken(secret))
	if errors.Is(err, gateway.ErrNotFound) {
		return gateway.Token{}, authFailure("unknown token")
	} else if err != nil {
		return gateway.Token{}, err
	}
	now := s.now()
	switch {
	case !t.RevokedAt.IsZero():
		return t, authFailure("revoked token")
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return t, authFailure("expired token")
	case !t.Role.Valid():
		return t, authFailure("token with an unknown role")
	}
	return t, nil
}

// loginGap: an API token used after this much quiet counts as a new login
// (audited); a web login is always one.
const loginGap = time.Hour

// recordLogin audits a login or a failed login (the processing agreement
// requires login logging) and keeps a login record for retention. It
// never records the secret.
func (s *Server) recordLogin(r *http.Request, t gateway.Token, ok bool, how, reason string) {
	ctx := context.WithoutCancel(r.Context())
	now := s.now().UTC()
	account := t.ID
	if account == "" {
		account = "unknown"
	}
	d := map[string]string{"account": account, "ok": strconv.FormatBool(ok), "via": how, "remote": remoteIP(r), "request_id": requestID(r.Context())}
	if t.Role != "" {
		d["role"] = string(t.Role)
	}
	if reason != "" {
		d["reason"] = reason
	}
	if s.audit != nil {
		if _, err := s.audit.Append(ctx, gateway.AuditChainGateway, gateway.AuditLogin, "", account, d); err != nil {
			s.log(r).Error("login not audited", "error", err)
		}
	}
	l := gateway.Login{ID: fmt.Sprintf("%d-%s", now.UnixNano(), requestID(r.Context())), Account: account, At: now, OK: ok}
	if len(t.Schools) == 1 {
		l.School = t.Schools[0]
	}
	if err := s.store.AddLogin(ctx, l); err != nil {
		s.log(r).Error("login record not kept", "error", err)
	}
	if s.metrics != nil {
		s.metrics.logins.WithLabelValues(strconv.FormatBool(ok), how).Inc()
	}
	if ok {
		// Write back the token as it is now, not as it was read before the
		// audit: a revocation made meanwhile must not be undone. (A store
		// method that sets only the last use would close the window left
		// between this read and the write.)
		cur, err := s.store.TokenByHash(ctx, t.Hash)
		if err == nil && cur.ID == t.ID {
			cur.LastUsedAt = now
			err = s.store.PutToken(ctx, cur)
		}
		if err != nil {
			s.log(r).Error("token last use not kept", "error", err)
		}
	}
}

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
		t, err := s.authenticate(r.Context(), strings.TrimSpace(secret))
		var af authFailure
		if errors.As(err, &af) {
			s.recordLogin(r, t, false, "api", string(af))
			w.Header().Set("WWW-Authenticate", `Bearer realm="uwlr-gateway", error="invalid_token"`)
			writeProblem(w, r, Problem{Type: typeAuth, Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: string(af)})
			return
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.now().Sub(t.LastUsedAt) >= loginGap {
			s.recordLogin(r, t, true, "api", "")
		}
		ctx := withPrincipal(r.Context(), principal{token: t})
		ctx = gateway.WithScope(ctx, t.ScopeOf())
		next.ServeHTTP(w, r.WithContext(setToken(ctx, t.ID)))
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
	b, _ := json.Marshal(sessionData{Hash: t.Hash, Expires: s.now().Add(sessionTTL).Unix()})
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
	t, err := s.store.TokenByHash(r.Context(), d.Hash)
	if err != nil || !t.Active(s.now()) || !t.Role.Valid() {
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
