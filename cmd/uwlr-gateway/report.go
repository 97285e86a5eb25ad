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
	var fromFlag, toFlag, school, format, out, by, incidentFile string
	var from, to time.Time
	cmd := &cobra.Command{
		Use:   "breach",
		Short: "Draft a data-breach notification: the incident's facts, data categories, people concerned, contact persons",
		Long: "Writes the facts a data-breach notification needs. From --incident (a JSON file; see README):\n" +
			"when the breach was discovered, its nature, which part of the security failed and how, the\n" +
			"cause, how it was discovered, the measures taken, the possible consequences and the risk; a\n" +
			"fact not given is marked \"not given\", never filled in. From the store: the duration (the\n" +
			"window), per school the data categories and whether the gateway encrypts them, the pupils,\n" +
			"teachers and accounts at the window's start and end and now (with how each count is derived),\n" +
			"results submitted and delivered and audit entries in the window, consent, last sync and the\n" +
			"school's contact person; that no special categories of personal data are held; and what the\n" +
			"gateway cannot know. Counts and ids only, never a pupil's name, birth date or ECK iD; the\n" +
			"contact persons' names and addresses are the one personal datum. The report is recorded in\n" +
			"the gateway's audit chain. --from and --to take RFC 3339 or YYYY-MM-DD (midnight at the start\n" +
			"of that day, Europe/Amsterdam); both ends are included.",
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
			q := app.BreachRequest{From: from, To: to, School: gateway.SchoolID(school), Format: format}
			if incidentFile != "" {
				var err error
				if q.Incident, err = c.readInput(incidentFile); err != nil {
					return err
				}
			}
			r, err := a.BreachReport(ctx, q, operator(by).String())
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
			fmt.Fprintf(c.stdout, "breach report (%s, %s) written to %s\n", safe(format), safe(r.Scope), safe(out))
			return nil
		})}
	f := cmd.Flags()
	f.StringVar(&fromFlag, "from", "", "start of the window: RFC 3339 or YYYY-MM-DD (Europe/Amsterdam)")
	f.StringVar(&toFlag, "to", "", "end of the window, included: RFC 3339 or YYYY-MM-DD (Europe/Amsterdam midnight)")
	f.StringVar(&school, "school", "", "only this school (default: all schools)")
	f.StringVar(&incidentFile, "incident", "", "JSON file with the facts only a person knows ('-' = stdin; default: every such fact not given)")
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
