package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) reportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "Reports for the data protection officer"}
	cmd.AddCommand(c.reportBreachCommand())
	return cmd
}

func (c *edge) reportBreachCommand() *cobra.Command {
	var fromFlag, toFlag, school, format, out, by string
	var from, to time.Time
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
		PreRunE: func(*cobra.Command, []string) error {
			if fromFlag == "" || toFlag == "" {
				return usageErr("give the window of the breach: --from and --to")
			}
			var err error
			if from, err = parseWhen(fromFlag); err != nil {
				return usageErr("--from: %w", err)
			}
			if to, err = parseWhen(toFlag); err != nil {
				return usageErr("--to: %w", err)
			}
			if format != "markdown" && format != "json" {
				return usageErr("--format %q: want markdown or json", format)
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			r, err := a.BreachReport(ctx, from, to, gateway.SchoolID(school), format, operator(by).String())
			if err != nil {
				return err
			}
			doc := []byte(r.Markdown())
			if format == "json" {
				if doc, err = json.MarshalIndent(r, "", "  "); err != nil {
					return err
				}
				doc = append(doc, '\n')
			}
			if out == "" {
				_, err := c.stdout.Write(doc)
				return err
			}
			if err := writePrivate(out, doc); err != nil {
				return failed(err)
			}
			fmt.Fprintf(c.stdout, "breach report (%s, %s) written to %s\n", format, r.Scope, out)
			return nil
		})}
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
// beside it, then renamed into place, so a failed write never leaves a half
// file under the name.
func writePrivate(path string, doc []byte) error {
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
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
