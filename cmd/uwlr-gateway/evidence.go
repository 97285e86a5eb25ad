package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) evidenceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Show and verify the signed evidence of result deliveries (non-repudiation)"}
	cmd.AddCommand(c.evidenceShowCommand(), c.evidenceVerifyCommand(), c.evidenceCertCommand())
	return cmd
}

func (c *edge) evidenceShowCommand() *cobra.Command {
	var id, school, out string
	cmd := &cobra.Command{Use: "show", Short: "Print the signed evidence XML of a delivery (ECK iDs in it are sealed)", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if id == "" {
				return usageErr("--delivery ID is required (a batch id from `results status`, or an evidence id)")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			e, doc, err := a.ShowEvidence(ctx, gateway.SchoolID(school), id)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = c.stdout.Write(doc)
				return err
			}
			if err := os.WriteFile(out, doc, 0o600); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "evidence %s of delivery %s (school %s, %d results) written to %s\n", safe(e.ID), safe(e.Batch), safe(e.School), len(e.Keys), safe(out))
			return nil
		})}
	cmd.Flags().StringVar(&id, "delivery", "", "delivery (batch) id or evidence id")
	cmd.Flags().StringVar(&school, "school", "", "school id (default: search every school)")
	cmd.Flags().StringVar(&out, "out", "", "write the XML to this file (0600) instead of stdout")
	return cmd
}

func (c *edge) evidenceVerifyCommand() *cobra.Command {
	var id, school, file string
	var asJSON bool
	cmd := &cobra.Command{Use: "verify", Short: "Check evidence signatures: one delivery, a file, a school, or everything", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			q := app.EvidenceQuery{Delivery: id, School: gateway.SchoolID(school)}
			if file != "" {
				var err error
				if q.Doc, err = c.readInput(file); err != nil {
					return err
				}
			}
			results, err := a.VerifyEvidence(ctx, q)
			if err != nil {
				return err
			}
			bad := 0
			for _, r := range results {
				if !r.OK {
					bad++
				}
			}
			if asJSON {
				if err := writeJSON(c.stdout, map[string]any{"checked": len(results), "failed": bad, "records": results}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if r.OK {
						fmt.Fprintf(c.stdout, "OK   %s (delivery %s, school %s)\n", safe(r.Evidence), safe(r.Delivery), safe(r.School))
					} else {
						fmt.Fprintf(c.stdout, "FAIL %s (delivery %s, school %s): %s\n", safe(r.Evidence), safe(r.Delivery), safe(r.School), safe(r.Error))
					}
				}
				fmt.Fprintf(c.stdout, "%d evidence record(s) checked, %d failed\n", len(results), bad)
			}
			if bad > 0 {
				return errReported
			}
			return nil
		})}
	f := cmd.Flags()
	f.StringVar(&id, "delivery", "", "one delivery (batch) id or evidence id")
	f.StringVar(&school, "school", "", "only this school")
	f.StringVar(&file, "file", "", "verify an evidence XML file (e.g. from `evidence show --out`)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) evidenceCertCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{Use: "cert", Short: "Print the certificate (PEM) that evidence and audit exports are signed with", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			k, err := a.EvidenceKey(ctx)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = c.stdout.Write(k.CertPEM())
				return err
			}
			if err := os.WriteFile(out, k.CertPEM(), 0o644); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "certificate written to %s (valid until %s)\n", safe(out), k.Certificate().NotAfter.Format(time.DateOnly))
			return nil
		})}
	cmd.Flags().StringVar(&out, "out", "", "write the PEM to this file")
	return cmd
}
