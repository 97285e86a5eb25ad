package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Admin API and web page tokens: create, list, revoke"}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

// tokenJSON shows a token: never its secret or hash.
type tokenJSON struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Role       gateway.Role       `json:"role"`
	Schools    []gateway.SchoolID `json:"schools"`
	CreatedAt  time.Time          `json:"created_at"`
	ExpiresAt  *time.Time         `json:"expires_at,omitempty"`
	RevokedAt  *time.Time         `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time         `json:"last_used_at,omitempty"`
	Secret     string             `json:"token,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toTokenJSON(t gateway.Token) tokenJSON {
	s := t.Schools
	if s == nil {
		s = []gateway.SchoolID{}
	}
	return tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Schools: s, CreatedAt: t.CreatedAt, ExpiresAt: timePtr(t.ExpiresAt),
		RevokedAt: timePtr(t.RevokedAt), LastUsedAt: timePtr(t.LastUsedAt)}
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var role, name, by string
	var schools []string
	var expires time.Duration
	var asJSON bool
	cmd := &cobra.Command{Use: "create", Short: "Create a token (its secret is printed once and stored only as a hash)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := gateway.Role(role)
			switch {
			case !r.Valid():
				return usageErr("--role %q: operator, school-admin or viewer", role)
			case r == gateway.RoleSchoolAdmin && len(schools) == 0:
				return usageErr("a school-admin token needs --school ID (repeatable)")
			case r == gateway.RoleOperator && len(schools) > 0:
				return usageErr("an operator token is for every school: leave out --school")
			case expires < 0:
				return usageErr("--expires must be positive")
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var ids []gateway.SchoolID
			for _, s := range schools {
				id := gateway.SchoolID(strings.TrimSpace(s))
				if _, err := st.School(ctx, id); errors.Is(err, gateway.ErrNotFound) {
					return usageErr("--school %s: not enrolled (see `school list`)", id)
				} else if err != nil {
					return err
				}
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			secret, hash, err := httpapi.GenerateToken(rand.Reader)
			if err != nil {
				return err
			}
			var idb [6]byte
			_, _ = rand.Read(idb[:])
			now := time.Now().UTC()
			t := gateway.Token{ID: "tok_" + hex.EncodeToString(idb[:]), Name: name, Hash: hash, Role: r, Schools: ids, CreatedAt: now}
			if expires > 0 {
				t.ExpiresAt = now.Add(expires)
			}
			if err := st.PutToken(ctx, t); err != nil {
				return err
			}
			d := map[string]string{"token": t.ID, "role": string(r), "schools": fmt.Sprint(len(ids))}
			if _, err := a.auditLog(st).Gateway(ctx, gateway.AuditTokenCreate, or(by, "cli"), d); err != nil {
				return err
			}
			if asJSON {
				j := toTokenJSON(t)
				j.Secret = secret
				return writeJSON(a.stdout, j)
			}
			fmt.Fprintf(a.stdout, "token %s (%s", t.ID, r)
			if len(ids) > 0 {
				fmt.Fprintf(a.stdout, " for %v", ids)
			}
			fmt.Fprintf(a.stdout, ") created; it is shown only now, keep it safe:\n%s\n", secret)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "operator (every school), school-admin (its schools) or viewer (read-only)")
	f.StringSliceVar(&schools, "school", nil, "a school the token is for (repeatable); required for school-admin")
	f.StringVar(&name, "name", "", "who or what uses the token (shown in the audit log)")
	f.DurationVar(&expires, "expires", 0, "valid for this long (e.g. 720h); default: until revoked")
	f.StringVar(&by, "by", "", "who creates it (recorded)")
	f.BoolVar(&asJSON, "json", false, "print JSON (with the token secret)")
	return cmd
}

func (a *app) tokenListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]tokenJSON, 0, len(ts))
			for _, t := range ts {
				out = append(out, toTokenJSON(t))
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			now := time.Now()
			for _, t := range ts {
				state := "active"
				switch {
				case !t.RevokedAt.IsZero():
					state = "revoked " + t.RevokedAt.Local().Format(time.DateOnly)
				case !t.Active(now):
					state = "expired"
				}
				fmt.Fprintf(a.stdout, "%s %-12s %-20s %v %s\n", t.ID, t.Role, t.Name, t.Schools, state)
			}
			return nil
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	var id, by string
	cmd := &cobra.Command{Use: "revoke", Short: "Revoke a token at once (its sessions end too)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return usageErr("--id ID is required (see `token list`)")
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := st.Tokens(ctx)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(ts, func(t gateway.Token) bool { return t.ID == id })
			if i < 0 {
				return &exitError{code: exitFailure, err: fmt.Errorf("no token %s", id)}
			}
			t := ts[i]
			if t.RevokedAt.IsZero() {
				t.RevokedAt = time.Now().UTC()
				if err := st.PutToken(ctx, t); err != nil {
					return err
				}
				if _, err := a.auditLog(st).Gateway(ctx, gateway.AuditTokenRevoke, or(by, "cli"), map[string]string{"token": t.ID}); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stdout, "token %s revoked\n", t.ID)
			return nil
		}}
	cmd.Flags().StringVar(&id, "id", "", "token id")
	cmd.Flags().StringVar(&by, "by", "", "who revokes it (recorded)")
	return cmd
}
