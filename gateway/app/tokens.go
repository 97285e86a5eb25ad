package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
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

// TokenRequest is what creating a token takes.
type TokenRequest struct {
	Role gateway.Role
	// Schools limits a school-admin (required) or viewer token; an operator
	// token is for every school and takes none.
	Schools []gateway.SchoolID
	Name    string
	// Recipient is the feed recipient a dashboard token reads for (a
	// dashboards recipient of kind feed at each of its schools).
	Recipient string
	// Expires is how long the token is valid; 0: until revoked.
	Expires time.Duration
}

// CreateToken creates an admin token and returns it with its secret, which
// is shown only now and stored only as a hash. The token policy (least
// privilege): a role must be known; a school-admin or viewer token names
// its schools (each enrolled); an operator token names none; a token
// expires after Expires, or after the default lifetime (Options.TokenTTL)
// when none is given. Bad requests are ErrInvalid. Needs the gateway-wide
// scope.
func (a *App) CreateToken(ctx context.Context, r TokenRequest, by string) (gateway.Token, string, error) {
	switch {
	case !r.Role.Valid():
		return gateway.Token{}, "", invalidf("role %q: operator, school-admin, viewer or dashboard", r.Role)
	case r.Role == gateway.RoleDashboard && (len(r.Schools) == 0 || r.Recipient == ""):
		return gateway.Token{}, "", invalidf("a dashboard token names its schools and its feed recipient (--recipient)")
	case r.Role != gateway.RoleDashboard && r.Recipient != "":
		return gateway.Token{}, "", invalidf("only a dashboard token names a recipient")
	case r.Role == gateway.RoleSchoolAdmin && len(r.Schools) == 0:
		return gateway.Token{}, "", invalidf("a school-admin token needs a school")
	case r.Role == gateway.RoleViewer && len(r.Schools) == 0:
		return gateway.Token{}, "", invalidf("a viewer token names the schools it may read (least privilege)")
	case r.Role == gateway.RoleOperator && len(r.Schools) > 0:
		return gateway.Token{}, "", invalidf("an operator token is for every school: name no school")
	case r.Expires < 0:
		return gateway.Token{}, "", invalidf("the validity must be positive")
	}
	var ids []gateway.SchoolID
	for _, s := range r.Schools {
		id := gateway.SchoolID(strings.TrimSpace(string(s)))
		if _, err := a.school(ctx, id); errors.Is(err, gateway.ErrNotFound) {
			return gateway.Token{}, "", invalid(err)
		} else if err != nil {
			return gateway.Token{}, "", err
		}
		if r.Role == gateway.RoleDashboard {
			if _, err := a.feedRecipient(ctx, id, r.Recipient); err != nil {
				return gateway.Token{}, "", err
			}
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	secret, hash, err := GenerateToken(a.o.Random)
	if err != nil {
		return gateway.Token{}, "", err
	}
	var idb [6]byte
	if _, err := io.ReadFull(a.o.Random, idb[:]); err != nil {
		return gateway.Token{}, "", err
	}
	now := a.now().UTC()
	t := gateway.Token{ID: "tok_" + hex.EncodeToString(idb[:]), Name: r.Name, Hash: hash, Role: r.Role, Schools: ids, Recipient: r.Recipient, CreatedAt: now}
	if ttl := cmp.Or(r.Expires, a.o.TokenTTL); ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := a.st.PutToken(ctx, t); err != nil {
		return gateway.Token{}, "", err
	}
	d := map[string]string{"token": t.ID, "role": string(t.Role), "schools": fmt.Sprint(len(ids))}
	if _, err := a.log.Gateway(ctx, gateway.AuditTokenCreate, or(by, "cli"), d); err != nil {
		return t, "", err
	}
	return t, secret, nil
}

// Tokens lists every token (never a secret), ordered by id.
func (a *App) Tokens(ctx context.Context) ([]gateway.Token, error) { return a.st.Tokens(ctx) }

// RevokeToken revokes a token at once and ends its web sessions; revoking
// a revoked token changes nothing. ErrNotFound for an unknown id.
func (a *App) RevokeToken(ctx context.Context, id, by string) (gateway.Token, error) {
	was := time.Time{}
	t, err := a.st.UpdateToken(ctx, id, func(t *gateway.Token) error {
		if was = t.RevokedAt; was.IsZero() {
			t.RevokedAt, t.SessionGen = a.now().UTC(), t.SessionGen+1
		}
		return nil
	})
	if errors.Is(err, gateway.ErrNotFound) {
		return t, fmt.Errorf("no token %s: %w", id, gateway.ErrNotFound)
	}
	if err != nil || !was.IsZero() {
		return t, err
	}
	_, err = a.log.Gateway(ctx, gateway.AuditTokenRevoke, or(by, "cli"), map[string]string{"token": t.ID})
	return t, err
}

// EndSessions ends every web session of the token (a logout): the token's
// session generation moves on, and a session made before is refused on its
// next request. It needs no scope: a caller ends its own sessions.
func (a *App) EndSessions(ctx context.Context, tokenID string) error {
	_, err := a.raw.UpdateToken(ctx, tokenID, func(t *gateway.Token) error { t.SessionGen++; return nil })
	return err
}
