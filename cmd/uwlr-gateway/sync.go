package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// syncJSON is one school's line of `sync --json`.
type syncJSON struct {
	School    gateway.SchoolID `json:"school"`
	Status    string           `json:"status"`
	DryRun    bool             `json:"dry_run,omitempty"`
	Run       string           `json:"run"`
	Pupils    int              `json:"pupils"`
	Added     int              `json:"added"`
	Changed   int              `json:"changed"`
	Left      int              `json:"left"`
	Teachers  int              `json:"teachers"`
	Groups    int              `json:"groups"`
	Warnings  []string         `json:"warnings"`
	Reasons   []string         `json:"reasons,omitempty"`
	Error     string           `json:"error,omitempty"`
	Fault     *gateway.Fault   `json:"fault,omitempty"`
	ElapsedMS int64            `json:"elapsed_ms"`
}

func (c *edge) syncCommand() *cobra.Command {
	var id, by string
	var o app.SyncOptions
	var all, asJSON bool
	var conc int
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Pull schools from their LAS into the store (atomic per school; big changes are held)",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if all == (id != "") {
				return usageErr("give --school ID or --all")
			}
			if conc < 1 {
				return usageErr("--concurrency must be at least 1")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			o.By = operator(by).String()
			var ids []gateway.SchoolID
			if !all {
				if _, err := a.School(ctx, gateway.SchoolID(id)); err != nil {
					return err
				}
				ids = []gateway.SchoolID{gateway.SchoolID(id)}
			} else if schools, err := a.Schools(ctx); err != nil {
				return err
			} else {
				for _, s := range schools {
					ids = append(ids, s.ID)
				}
			}
			return c.syncMany(ctx, a, ids, conc, o, all, asJSON)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.BoolVar(&all, "all", false, "sync every enrolled school")
	f.BoolVar(&o.DryRun, "dry-run", false, "fetch and compare, change nothing")
	f.StringVar(&o.Schooljaar, "schooljaar", "", "schooljaar (default: current, switching 1 August)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per school")
	f.IntVar(&conc, "concurrency", 4, "schools synced at the same time with --all")
	f.StringVar(&by, "by", "", "who starts the sync (recorded; default: the operating-system user)")
	cmd.AddCommand(c.syncDiffCommand(), c.syncApproveCommand(), c.syncHistoryCommand())
	return cmd
}

// syncMany syncs the schools and prints each as it ends (with a progress
// line on a terminal for --all); the exit code says the worst outcome.
func (c *edge) syncMany(ctx context.Context, a *app.App, ids []gateway.SchoolID, conc int, o app.SyncOptions, all, asJSON bool) error {
	refused, failedN, n := 0, 0, 0
	var writeErr error
	tty := all && !asJSON && isTerminal(c.stderr)
	done, err := a.SyncMany(ctx, ids, conc, o, func(r app.SyncReport) {
		out := toSyncJSON(r)
		n++
		switch out.Status {
		case string(gateway.SyncRefused):
			refused++
		case string(gateway.SyncFailed):
			failedN++
		}
		if tty {
			fmt.Fprint(c.stderr, "\r\033[K")
		}
		if asJSON {
			if err := writeJSON(c.stdout, out); err != nil && writeErr == nil {
				writeErr = err
			}
		} else {
			c.printSync(out)
		}
		if tty {
			fmt.Fprintf(c.stderr, "[%d/%d done]", n, len(ids))
		}
	})
	if tty {
		fmt.Fprintln(c.stderr)
	}
	switch {
	case writeErr != nil:
		return writeErr
	case err != nil:
		return failed(fmt.Errorf("interrupted after %d of %d schools: %w", done, len(ids), err))
	case failedN > 0:
		return errReported
	case refused > 0:
		return &exitError{code: exitConsent, err: fmt.Errorf("%d school(s) refused: las_exchange not granted", refused)}
	}
	return nil
}

func toSyncJSON(rep app.SyncReport) syncJSON {
	out := syncJSON{School: rep.School, Warnings: []string{}, ElapsedMS: rep.Elapsed.Milliseconds()}
	res, err := rep.Result, rep.Err
	if errors.Is(err, gateway.ErrConflict) && res.Run.ID == "" {
		out.Status, out.Error = string(gateway.SyncFailed), "another process is syncing this school now (its sync lock is held); try again later"
		return out
	}
	r := res.Run
	out.Status, out.DryRun, out.Run = string(r.Status), r.DryRun, r.ID
	out.Pupils, out.Added, out.Changed, out.Left, out.Teachers, out.Groups = r.Pupils, r.Added, r.Changed, r.Left, r.Teachers, r.Groups
	if r.Warnings != nil {
		out.Warnings = r.Warnings
	}
	out.Reasons = res.Reasons
	if err != nil {
		out.Error = err.Error()
		if !errors.Is(err, gateway.ErrConsentRequired) {
			out.Fault = app.FaultOf(err)
		}
		if out.Status == "" {
			out.Status = string(gateway.SyncFailed)
		}
	}
	return out
}

func (c *edge) printSync(o syncJSON) {
	dry := ""
	if o.DryRun {
		dry = " (dry run: nothing changed)"
	}
	fmt.Fprintf(c.stdout, "%s: %s%s: %d pupils, +%d added, %d changed, %d left; %d teachers, %d groups (%d ms)\n",
		safe(o.School), o.Status, dry, o.Pupils, o.Added, o.Changed, o.Left, o.Teachers, o.Groups, o.ElapsedMS)
	for _, r := range o.Reasons {
		fmt.Fprintf(c.stdout, "  held: %s\n  see `sync diff --school %s`, then `sync approve --school %s --by NAME`\n", safe(r), safe(o.School), safe(o.School))
	}
	if o.Fault != nil {
		c.printFault(o.Fault)
	} else if o.Error != "" {
		fmt.Fprintf(c.stdout, "  %s\n", soap.OneLine(o.Error))
	}
	if n := len(o.Warnings); n > 0 {
		fmt.Fprintf(c.stdout, "  %d warnings (see --json)\n", n)
	}
}

// noHeld turns "nothing held" into the CLI's message.
func noHeld(err error, id string) error {
	if errors.Is(err, pull.ErrNothingHeld) {
		return failed(fmt.Errorf("school %s has no held sync", id))
	}
	return err
}

func (c *edge) syncDiffCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "diff", Short: "Show exactly what a held sync would change", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			d, err := a.HeldDiff(ctx, gateway.SchoolID(id))
			if err != nil {
				return noHeld(err, id)
			}
			if asJSON {
				return writeJSON(c.stdout, d)
			}
			fmt.Fprintf(c.stdout, "held sync %s of %s: +%d added, %d changed, %d left\n", d.Run, safe(d.School), d.Added, d.Changed, d.Left)
			for _, ch := range d.Changes {
				fmt.Fprintf(c.stdout, "  %-8s %s (LAS key %s) %s\n", ch.Kind, ch.Pupil, safe(ch.LASKey), safeList(ch.Fields))
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) syncApproveCommand() *cobra.Command {
	var id, by string
	var asJSON bool
	cmd := &cobra.Command{Use: "approve", Short: "Apply a held sync", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if by == "" {
				return usageErr("--by NAME is required: approvals are recorded")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			run, err := a.Approve(ctx, gateway.SchoolID(id), by)
			if err != nil {
				return noHeld(err, id)
			}
			if asJSON {
				return writeJSON(c.stdout, syncJSON{School: run.School, Status: string(run.Status), Run: run.ID, Added: run.Added,
					Changed: run.Changed, Left: run.Left, Warnings: run.Warnings})
			}
			fmt.Fprintf(c.stdout, "%s: held sync applied: +%d added, %d changed, %d left\n", safe(id), run.Added, run.Changed, run.Left)
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().StringVar(&by, "by", "", "who approves (recorded)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) syncHistoryCommand() *cobra.Command {
	var id string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{Use: "history", Short: "Show a school's sync runs, newest first", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			runs, err := a.SyncRuns(ctx, gateway.SchoolID(id), limit)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, runs)
			}
			for _, r := range runs {
				fmt.Fprintf(c.stdout, "%s %-9s %4d pupils +%d ~%d -%d %s %s\n", r.StartedAt.Format(time.RFC3339), r.Status,
					r.Pupils, r.Added, r.Changed, r.Left, r.ErrorClass, soap.OneLine(r.Error))
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) pupilsCommand() *cobra.Command {
	var id string
	var asJSON bool
	list := &cobra.Command{Use: "list", Short: "List a school's synced pupils (the ECK iD is only ever shown as present)", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			type pupilJSON struct {
				ID        gateway.PupilID `json:"id"`
				LASKey    string          `json:"las_key,omitempty"`
				Name      string          `json:"name"`
				YearGroup string          `json:"year_group,omitempty"`
				Group     string          `json:"group,omitempty"`
				Composite []string        `json:"composite_groups,omitempty"`
				EckID     string          `json:"eckid"`
				LeftOn    string          `json:"left_on,omitempty"`
			}
			out := []pupilJSON{}
			err := a.Pupils(ctx, gateway.SchoolID(id), func(p gateway.Pupil) error {
				eck := "absent"
				if len(p.SealedEckID) > 0 {
					eck = "present"
				}
				name := p.FirstName
				if p.Prefix != "" {
					name += " " + p.Prefix
				}
				out = append(out, pupilJSON{ID: p.ID, LASKey: p.LASKey, Name: name + " " + p.LastName, YearGroup: p.YearGroup, Group: p.GroupKey,
					Composite: p.CompositeGroupKeys, EckID: eck, LeftOn: p.LeftOn})
				return nil
			})
			if err != nil || asJSON {
				return errors.Join(err, writeJSON(c.stdout, out))
			}
			for _, p := range out {
				left := ""
				if p.LeftOn != "" {
					left = "left " + p.LeftOn
				}
				fmt.Fprintf(c.stdout, "%s %-10s %-30s jaargroep %-2s %-6s ECK iD: %s %s\n", p.ID, safe(p.LASKey), safe(p.Name), safe(p.YearGroup),
					safe(p.Group), p.EckID, safe(left))
			}
			return nil
		})}
	schoolFlag(list, &id)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd := &cobra.Command{Use: "pupils", Short: "Read synced pupils"}
	cmd.AddCommand(list)
	return cmd
}
