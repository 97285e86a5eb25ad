package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// parseWhen reads a time given on the command line: RFC 3339, or a date
// (YYYY-MM-DD) meaning midnight at its start in Europe/Amsterdam.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, gateway.Amsterdam); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-03-15T10:00:00+01:00) nor a date (2026-03-15)", s)
}

func (c *edge) retentionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Apply the processing agreement's retention periods"}
	cmd.AddCommand(c.retentionRunCommand())
	return cmd
}

func (c *edge) retentionRunCommand() *cobra.Command {
	var nowFlag string
	var o app.RetentionOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Apply the retention rules: purge what the processing agreement no longer allows to keep",
		Long: "Deletes what the processing agreement no longer allows the gateway to keep, in every school\n" +
			"(dates in Europe/Amsterdam): pupils who left two years ago or longer, with all their results and\n" +
			"the delivery evidence that names them; results of trial and norming tests two years after the\n" +
			"test date; login records, and the personal part of audit entries (who, account, remote address),\n" +
			"two years after the event; delivery batches held two years ago, with their results; the warnings\n" +
			"and fault texts of sync runs, connection checks and batches one year after they were written.\n" +
			"A school whose data is no longer refreshed (las_exchange not granted, or no successful sync for\n" +
			"retention.stale_after) has its current pupils marked left as of its last successful sync. After\n" +
			"a purge the embedded store rewrites its file, so nothing deleted stays in it. Each school that\n" +
			"purged or marked something gets a receipt in its audit chain, and every run one on the gateway\n" +
			"chain. --dry-run reports what would be done and changes nothing; --json lists every rule.",
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if nowFlag == "" {
				return nil
			}
			t, err := parseWhen(nowFlag)
			if err != nil {
				return usageErr("--now: %w", err)
			}
			o.At = t
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			o.By = operator(o.By).String()
			rc, runErr := a.RunRetention(ctx, o)
			if codeOf(runErr) == exitUsage {
				return runErr
			}
			if asJSON {
				if err := writeJSON(c.stdout, rc); err != nil {
					return err
				}
			} else {
				c.printRetention(rc)
			}
			if runErr != nil {
				return failed(fmt.Errorf("retention run incomplete (run it again to finish): %w", runErr))
			}
			return nil
		})}
	f := cmd.Flags()
	f.BoolVar(&o.DryRun, "dry-run", false, "report what would be purged; delete nothing, write no audit entry")
	f.StringVar(&nowFlag, "now", "", "apply the rules as at this time: RFC 3339 or YYYY-MM-DD (Europe/Amsterdam); default now")
	f.StringVar(&o.By, "by", "", "who runs it (recorded in the audit log; default: the operating-system user)")
	f.BoolVar(&asJSON, "json", false, "print the receipt as JSON")
	return cmd
}

func (c *edge) printRetention(rc retention.Receipt) {
	verb, clear, mark, mode := "purged", "cleared", "marked", ""
	if rc.DryRun {
		verb, clear, mark, mode = "would purge", "would clear", "would mark", " (dry run: nothing deleted)"
	}
	fmt.Fprintf(c.stdout, "retention as at %s: data that started on or before %s has expired, texts written on or before %s%s\n",
		rc.Today, rc.Cutoff, rc.TextCutoff, mode)
	quiet := 0
	for _, s := range rc.Schools {
		if !s.Changed() && s.Skipped == 0 && s.Error == "" && s.Stale == "" {
			quiet++
			continue
		}
		fmt.Fprintf(c.stdout, "%s: %s %d pupils, %d of their results, %d trial results, %d evidence records, %d delivery batches without results, %d held batches with %d results; %s the texts of %d records\n",
			safe(s.School), verb, s.Pupils, s.Results, s.TrialResults, s.Evidence, s.Batches, s.HeldBatches, s.HeldResults, clear, s.Texts.Total())
		if s.Stale != "" {
			fmt.Fprintf(c.stdout, "  no longer refreshed (%s): %s %d current pupils left as of %s\n", s.Stale, mark, s.MarkedLeft, s.LeftAsOf)
		}
		if s.Skipped > 0 {
			fmt.Fprintf(c.stdout, "  kept %d records whose date cannot be read: check them\n", s.Skipped)
		}
		if s.Error != "" {
			fmt.Fprintf(c.stdout, "  failed: %s\n", safe(s.Error))
		}
	}
	if quiet > 0 {
		fmt.Fprintf(c.stdout, "%d of %d schools: nothing to purge\n", quiet, len(rc.Schools))
	}
	fmt.Fprintf(c.stdout, "login records: %s %d; personal parts of audit entries: %s %d\n", verb, rc.Logins, verb, rc.AuditPersonal)
	fmt.Fprintf(c.stdout, "total: %s %d pupils, %d of their results, %d trial results, %d evidence records, %d delivery batches, %d login records\n",
		verb, rc.Pupils, rc.Results, rc.TrialResults, rc.Evidence, rc.Batches+rc.HeldBatches, rc.Logins)
	for _, r := range rc.Rules {
		when := r.Kept
		if r.OnOrBefore != "" {
			when += ", on or before " + r.OnOrBefore
		}
		fmt.Fprintf(c.stdout, "  %-22s %-11s %6d  %s (%s)\n", r.Rule, r.Action, r.Count, r.Records, when)
	}
	if rc.Compacted {
		fmt.Fprintln(c.stdout, "the store file was rewritten: nothing deleted stays in it")
	}
}
