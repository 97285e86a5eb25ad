package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

func (c *edge) keysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the vault keys that seal ECK iDs and secrets"}
	cmd.AddCommand(c.keysGenerateCommand(), c.keysRotateCommand(), c.keysRewrapCommand())
	return cmd
}

func (c *edge) keysGenerateCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "generate", Short: "Create a new key file (0600); never overwrites", Args: cobra.NoArgs,
		RunE: plain(func(ctx context.Context) error {
			if out == "" {
				return usageErr("--out FILE is required")
			}
			kr, err := vault.Generate(rand.Reader, time.Now())
			if err != nil {
				return err
			}
			if err := kr.SaveNew(out); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "key file %s created (term %d active); keep a backup: without it sealed data cannot be opened\n", safe(out), kr.ActiveTerm())
			c.auditKeys(ctx, gateway.AuditKeyGenerate, map[string]string{"key": "vault key file", "active_term": fmt.Sprint(kr.ActiveTerm())})
			return nil
		})}
	cmd.Flags().StringVar(&out, "out", "", "key file to create")
	return cmd
}

func (c *edge) keysRotateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "rotate", Short: "Add a new active key term (old terms still open old data)", Args: cobra.NoArgs,
		RunE: plain(func(ctx context.Context) error {
			path := c.keysPath()
			if path == "" {
				return usageErr("keys rotate needs the key file: --vault-keys FILE")
			}
			kr, err := vault.Load(path)
			if err != nil {
				return usageErr("vault keys: %w", err)
			}
			next, err := kr.Rotate(rand.Reader, time.Now())
			if err != nil {
				return err
			}
			if err := next.Save(path); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "term %d is now active (terms %v); run `keys rewrap` to re-seal older data\n", next.ActiveTerm(), next.Terms())
			c.auditKeys(ctx, gateway.AuditKeyRotate, map[string]string{"active_term": fmt.Sprint(next.ActiveTerm()), "terms": fmt.Sprint(next.Terms())})
			return nil
		})}
	return cmd
}

// auditKeys records a key event on the gateway chain of the configured
// store. Key files live outside the store and are often made before it:
// an embedded store that does not exist yet is not created for this (the
// key file keeps each term's creation time); the command says so.
func (c *edge) auditKeys(ctx context.Context, kind gateway.AuditKind, details map[string]string) {
	sc := c.storeConfig()
	if !sc.Exists() {
		fmt.Fprintf(c.stderr, "note: %s not recorded in an audit log: no store exists yet in %s\n", kind, safe(sc.DataDir))
		return
	}
	a, err := c.openWith(ctx, c.options(nil, nil))
	if err == nil {
		defer a.Close(ctx)
		err = a.AuditKeyEvent(ctx, kind, details)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "warning: %s not recorded in the audit log: %s\n", kind, safe(err.Error()))
	}
}

func (c *edge) keysRewrapCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "rewrap", Short: "Re-seal everything with the active term (resumable: done schools are skipped)",
		Long: "Re-seals every school's secrets and ECK iDs, and the evidence key, with the active key term.\n" +
			"Each school is done under its sync lock: a running sync (of serve, or another process) is\n" +
			"waited for, and nothing of a rewrap is applied once another process took the lock over.",
		Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			tty := isTerminal(c.stderr)
			rep, err := a.Rewrap(ctx, func(i, n int, id gateway.SchoolID, waiting bool) {
				switch {
				case waiting:
					fmt.Fprintf(c.stderr, "rewrap %s: waiting for its running sync to end\n", safe(id))
				case tty:
					fmt.Fprintf(c.stderr, "\rrewrap [%d/%d] %s ", i, n, safe(id))
				}
			})
			if tty {
				fmt.Fprintln(c.stderr)
			}
			for _, id := range rep.Skipped {
				fmt.Fprintf(c.stdout, "%s: skipped: a held sync is waiting (approve it, then run rewrap again)\n", safe(id))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "re-sealed %d values in %d schools with term %d", rep.Values, rep.Schools, rep.ActiveTerm)
			if len(rep.Skipped) > 0 {
				fmt.Fprintf(c.stdout, "; %d schools skipped", len(rep.Skipped))
			}
			fmt.Fprintln(c.stdout)
			if len(rep.Skipped) > 0 {
				return errReported
			}
			return nil
		})}
	return cmd
}
