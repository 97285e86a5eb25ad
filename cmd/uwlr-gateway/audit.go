package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The append-only, hash-chained audit log: show, verify, export"}
	cmd.AddCommand(a.auditVerifyCommand(), a.auditExportCommand(), a.auditShowCommand())
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "verify", Short: "Check every audit chain for edited, removed, reordered or inserted entries", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := audit.Verify(ctx, st)
			if err != nil {
				return err
			}
			if asJSON {
				if rep.Problems == nil {
					rep.Problems = []audit.Problem{}
				}
				if err := writeJSON(a.stdout, map[string]any{"ok": rep.OK(), "chains": rep.Chains, "entries": rep.Entries, "problems": rep.Problems}); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintf(a.stdout, "PROBLEM %s\n", p)
				}
				verdict := "intact"
				if !rep.OK() {
					verdict = fmt.Sprintf("%d problem(s)", len(rep.Problems))
				}
				fmt.Fprintf(a.stdout, "%d chain(s), %d entries: %s\n", rep.Chains, rep.Entries, verdict)
			}
			if !rep.OK() {
				return errReported
			}
			return nil
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) auditExportCommand() *cobra.Command {
	var id, out, by string
	cmd := &cobra.Command{Use: "export", Short: "Write a school's audit chain as signed XML for its data protection officer", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" || out == "" {
				return usageErr("--school ID and --out FILE are required")
			}
			ctx := cmd.Context()
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			// An offboarded school has no record left, but its chain stays.
			school := gateway.SchoolID(id)
			var entries []gateway.AuditEntry
			if err := st.WalkAudit(ctx, gateway.AuditChainOf(school), func(e gateway.AuditEntry) error {
				entries = append(entries, e)
				return nil
			}); err != nil {
				return err
			}
			if len(entries) == 0 {
				return &exitError{code: exitFailure, err: fmt.Errorf("school %s has no audit entries", id)}
			}
			// The chain must be intact before it is signed for someone else.
			if problems := audit.VerifyChain(gateway.AuditChainOf(school), entries, mustHead(st.AuditHead(ctx, gateway.AuditChainOf(school)))); len(problems) > 0 {
				return &exitError{code: exitFailure, err: fmt.Errorf("the audit chain of %s has %d problem(s) (first: %s); run `audit verify`", id, len(problems), problems[0])}
			}
			k, err := a.service(st, kr).EvidenceKey(ctx)
			if err != nil {
				return err
			}
			doc, err := evidence.ExportAudit(k, school, time.Now(), entries)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, doc, 0o600); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if _, err := a.auditLog(st).School(ctx, school, gateway.AuditEvidenceExport, or(by, "cli"), map[string]string{
				"entries": fmt.Sprint(len(entries)), "last_seq": fmt.Sprint(entries[len(entries)-1].Seq)}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d audit entries of %s written to %s, signed; check with `xmlsec1 --verify --pubkey-cert-pem CERT --id-attr:ID urn:uwlr-gateway:evidence:1:AuditExport %s` (CERT from `evidence cert`)\n",
				len(entries), id, out, out)
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().StringVar(&out, "out", "", "file to write (0600)")
	cmd.Flags().StringVar(&by, "by", "", "who exports (recorded)")
	return cmd
}

func mustHead(e gateway.AuditEntry, err error) gateway.AuditEntry {
	if err != nil {
		return gateway.AuditEntry{}
	}
	return e
}

func (a *app) auditShowCommand() *cobra.Command {
	var id string
	var gw, asJSON bool
	var limit int
	cmd := &cobra.Command{Use: "show", Short: "List audit entries of a school (or of the gateway chain), newest last", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (id == "") == !gw {
				return usageErr("give --school ID or --gateway")
			}
			chain := gateway.AuditChainGateway
			if id != "" {
				chain = gateway.AuditChainOf(gateway.SchoolID(id))
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var entries []gateway.AuditEntry
			if err := st.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
				entries = append(entries, e)
				if limit > 0 && len(entries) > limit {
					entries = entries[1:]
				}
				return nil
			}); err != nil {
				return err
			}
			if asJSON {
				if entries == nil {
					entries = []gateway.AuditEntry{}
				}
				return writeJSON(a.stdout, entries)
			}
			for _, e := range entries {
				var d []string
				for _, k := range sortedKeys(e.Details) {
					d = append(d, k+"="+e.Details[k])
				}
				fmt.Fprintf(a.stdout, "%6d %s %-16s %-10s %s\n", e.Seq, e.At.Local().Format(time.DateTime), e.Kind, e.Actor, strings.Join(d, " "))
			}
			return nil
		}}
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
