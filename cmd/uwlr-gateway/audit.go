package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The append-only, hash-chained audit log: show, verify, export"}
	cmd.AddCommand(c.auditVerifyCommand(), c.auditExportCommand(), c.auditShowCommand())
	return cmd
}

// auditProblemJSON is how `audit verify --json` has always printed a problem.
type auditProblemJSON struct {
	Chain  string
	Seq    uint64
	Kind   string
	Detail string
}

func (c *edge) auditVerifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "verify", Short: "Check every audit chain for edited, removed, reordered or inserted entries", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			rep, err := a.VerifyAudit(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				problems := []auditProblemJSON{}
				for _, p := range rep.Problems {
					problems = append(problems, auditProblemJSON(p))
				}
				if err := writeJSON(c.stdout, map[string]any{"ok": rep.OK, "chains": rep.Chains, "entries": rep.Entries, "problems": problems}); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintf(c.stdout, "PROBLEM %s\n", safe(p.String()))
				}
				verdict := "intact"
				if !rep.OK {
					verdict = fmt.Sprintf("%d problem(s)", len(rep.Problems))
				}
				fmt.Fprintf(c.stdout, "%d chain(s), %d entries: %s\n", rep.Chains, rep.Entries, verdict)
			}
			if !rep.OK {
				return errReported
			}
			return nil
		})}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) auditExportCommand() *cobra.Command {
	var id, out, by string
	cmd := &cobra.Command{Use: "export", Short: "Write a school's audit chain as signed XML for its data protection officer", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if id == "" || out == "" {
				return usageErr("--school ID and --out FILE are required")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			x, err := a.ExportAudit(ctx, gateway.SchoolID(id), operator(by).String())
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, x.Doc, 0o600); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "%d audit entries of %s written to %s, signed; check with `xmlsec1 --verify --pubkey-cert-pem CERT --id-attr:ID urn:uwlr-gateway:evidence:1:AuditExport %s` (CERT from `evidence cert`)\n",
				x.Entries, safe(id), safe(out), safe(out))
			return nil
		})}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().StringVar(&out, "out", "", "file to write (0600)")
	cmd.Flags().StringVar(&by, "by", "", "who exports (recorded)")
	return cmd
}

func (c *edge) auditShowCommand() *cobra.Command {
	var id string
	var gw, asJSON bool
	var limit int
	cmd := &cobra.Command{Use: "show", Short: "List audit entries of a school (or of the gateway chain), newest last", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if (id == "") == !gw {
				return usageErr("give --school ID or --gateway")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			chain := gateway.AuditChainGateway
			if id != "" {
				chain = gateway.AuditChainOf(gateway.SchoolID(id))
			}
			entries, err := a.AuditEntries(ctx, chain, limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, entries)
			}
			for _, e := range entries {
				var d []string
				for _, k := range sortedKeys(e.Details) {
					d = append(d, safe(k)+"="+safe(e.Details[k]))
				}
				fmt.Fprintf(c.stdout, "%6d %s %-16s %-10s %s\n", e.Seq, e.At.Local().Format(time.DateTime), safe(e.Kind), safe(e.Actor), strings.Join(d, " "))
			}
			return nil
		})}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().BoolVar(&gw, "gateway", false, "the gateway-wide chain (keys, logins, retention totals)")
	cmd.Flags().IntVar(&limit, "limit", 50, "newest N entries (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
