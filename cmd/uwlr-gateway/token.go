package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Admin API and web page tokens: create, list, revoke"}
	cmd.AddCommand(c.tokenCreateCommand(), c.tokenListCommand(), c.tokenRevokeCommand())
	return cmd
}

// tokenJSON shows a token: never its secret or hash (unless just created).
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

func toTokenJSON(t gateway.Token) tokenJSON {
	s := t.Schools
	if s == nil {
		s = []gateway.SchoolID{}
	}
	return tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Schools: s, CreatedAt: t.CreatedAt, ExpiresAt: timePtr(t.ExpiresAt),
		RevokedAt: timePtr(t.RevokedAt), LastUsedAt: timePtr(t.LastUsedAt)}
}

func (c *edge) tokenCreateCommand() *cobra.Command {
	var role, by string
	var r app.TokenRequest
	var schools []string
	var asJSON bool
	cmd := &cobra.Command{Use: "create", Short: "Create a token (its secret is printed once and stored only as a hash)", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			r.Role = gateway.Role(role)
			for _, s := range schools {
				r.Schools = append(r.Schools, gateway.SchoolID(s))
			}
			t, secret, err := a.CreateToken(ctx, r, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				j := toTokenJSON(t)
				j.Secret = secret
				return writeJSON(c.stdout, j)
			}
			fmt.Fprintf(c.stdout, "token %s (%s", t.ID, t.Role)
			if len(t.Schools) > 0 {
				fmt.Fprintf(c.stdout, " for %s", safeList(t.Schools))
			}
			fmt.Fprintf(c.stdout, ") created; it is shown only now, keep it safe:\n%s\n", secret)
			return nil
		})}
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "operator (every school), school-admin (its schools) or viewer (read-only)")
	f.StringSliceVar(&schools, "school", nil, "a school the token is for (repeatable); required for school-admin and viewer")
	f.StringVar(&r.Name, "name", "", "who or what uses the token (shown in the audit log)")
	f.DurationVar(&r.Expires, "expires", 0, "valid for this long (e.g. 720h); default: auth.token_ttl (90 days)")
	f.StringVar(&by, "by", "", "who creates it (recorded)")
	f.BoolVar(&asJSON, "json", false, "print JSON (with the token secret)")
	return cmd
}

func (c *edge) tokenListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			ts, err := a.Tokens(ctx)
			if err != nil {
				return err
			}
			out := make([]tokenJSON, 0, len(ts))
			for _, t := range ts {
				out = append(out, toTokenJSON(t))
			}
			if asJSON {
				return writeJSON(c.stdout, out)
			}
			for _, t := range ts {
				state := "active"
				switch {
				case !t.RevokedAt.IsZero():
					state = "revoked " + t.RevokedAt.Local().Format(time.DateOnly)
				case !t.Active(a.Now()):
					state = "expired"
				}
				fmt.Fprintf(c.stdout, "%s %-12s %-20s %s %s\n", safe(t.ID), t.Role, safe(t.Name), safeList(t.Schools), state)
			}
			return nil
		})}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) tokenRevokeCommand() *cobra.Command {
	var id, by string
	cmd := &cobra.Command{Use: "revoke", Short: "Revoke a token at once (its sessions end too)", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if id == "" {
				return usageErr("--id ID is required (see `token list`)")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			t, err := a.RevokeToken(ctx, id, operator(by).String())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "token %s revoked\n", safe(t.ID))
			return nil
		})}
	cmd.Flags().StringVar(&id, "id", "", "token id")
	cmd.Flags().StringVar(&by, "by", "", "who revokes it (recorded)")
	return cmd
}
