package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/report"
)

func (a *app) reportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Reports for the data protection officer"}
	cmd.AddCommand(a.reportBreachCommand())
	return cmd
}

func (a *app) reportBreachCommand() *cobra.Command {
	var fromFlag, toFlag, school, format, out, by string
	cmd := &cobra.Command{
		Use:   "breach",
		Short: "Draft a data-breach notification: data categories, pupils and teachers per school, encryption, the window",
		Long: "Writes the facts a data-breach notification needs, from what the store holds: per school the\n" +
			"data categories and whether the gateway encrypts them, the number of pupils and teachers, the\n" +
			"results delivered and the audit entries in the window, consent and last sync; and what the\n" +
			"gateway cannot know. Counts and ids only, never a name, birth date or ECK iD. The report is\n" +
			"recorded in the gateway's audit chain. --from and --to take RFC 3339 or YYYY-MM-DD (midnight\n" +
			"at the start of that day, Europe/Amsterdam); both ends are included.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromFlag == "" || toFlag == "" {
				return usageErr("give the window of the breach: --from and --to")
			}
			from, err := parseWhen(fromFlag)
			if err != nil {
				return usageErr("--from: %w", err)
			}
			to, err := parseWhen(toFlag)
			if err != nil {
				return usageErr("--to: %w", err)
			}
			if format != "markdown" && format != "json" {
				return usageErr("--format %q: want markdown or json", format)
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := report.Breach(ctx, st, report.BreachOptions{From: from, To: to, School: gateway.SchoolID(school), Now: time.Now()})
			switch {
			case errors.Is(err, gateway.ErrInvalid):
				return usageErr("%w", err)
			case errors.Is(err, gateway.ErrNotFound) && school != "":
				return &exitError{code: exitFailure, err: fmt.Errorf("school %s is not enrolled (see `school list`)", school)}
			case err != nil:
				return err
			}
			var doc []byte
			if format == "json" {
				if doc, err = json.MarshalIndent(r, "", "  "); err != nil {
					return err
				}
				doc = append(doc, '\n')
			} else {
				doc = []byte(r.Markdown())
			}
			record := func() error {
				_, err := a.auditLog(st).Gateway(ctx, gateway.AuditBreachReport, or(by, "cli"), map[string]string{
					"from": r.Window.From.Format(time.RFC3339), "to": r.Window.To.Format(time.RFC3339),
					"school": r.Scope, "format": format, "schools": fmt.Sprint(len(r.Schools))})
				if err != nil {
					return fmt.Errorf("record the report in the audit log: %w", err)
				}
				return nil
			}
			if out == "" {
				// Recorded first: a report that was printed is always in the log.
				if err := record(); err != nil {
					return err
				}
				_, err := a.stdout.Write(doc)
				return err
			}
			if err := writePrivate(out, doc, record); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			fmt.Fprintf(a.stdout, "breach report (%s, %s) written to %s\n", format, r.Scope, out)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&fromFlag, "from", "", "start of the window: RFC 3339 or YYYY-MM-DD (Europe/Amsterdam)")
	f.StringVar(&toFlag, "to", "", "end of the window, included: RFC 3339 or YYYY-MM-DD (Europe/Amsterdam midnight)")
	f.StringVar(&school, "school", "", "only this school (default: all schools)")
	f.StringVar(&format, "format", "markdown", "markdown or json")
	f.StringVar(&out, "out", "", "write to this file (mode 0600) instead of stdout")
	f.StringVar(&by, "by", "", "who asks for the report (recorded in the audit log; default cli)")
	return cmd
}

// writePrivate writes doc to path with mode 0600: into a new temporary file
// beside it, then, once commit succeeded, renamed into place. When commit
// fails the file is not written.
func writePrivate(path string, doc []byte, commit func() error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if _, err := tmp.Write(doc); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := commit(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
