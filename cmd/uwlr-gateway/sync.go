package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
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
	Fault     *faultJSON       `json:"fault,omitempty"`
	ElapsedMS int64            `json:"elapsed_ms"`
}

func (a *app) syncer(st gateway.Store, kr *vault.Keyring) *pull.Syncer {
	return &pull.Syncer{Store: st, Sealer: kr.Sealer(), Consent: consent.New(st, nil), Thresholds: pull.DefaultThresholds,
		Audit: a.auditLog(st)}
}

func (a *app) syncCommand() *cobra.Command {
	var id, jaar string
	var all, dry, asJSON bool
	var conc int
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Pull schools from their LAS into the store (atomic per school; big changes are held)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (id != "") {
				return usageErr("give --school ID or --all")
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
			var schools []gateway.School
			if all {
				if schools, err = st.Schools(ctx); err != nil {
					return err
				}
			} else {
				s, err := a.school(ctx, st, id)
				if err != nil {
					return err
				}
				schools = []gateway.School{s}
			}
			gw := a.service(st, kr)
			if conc < 1 {
				return usageErr("--concurrency must be at least 1")
			}
			var (
				mu              sync.Mutex
				refused, failed int
				done            int
				firstErr        error
			)
			tty := !asJSON && isTerminal(a.stderr)
			report := func(out syncJSON) {
				mu.Lock()
				defer mu.Unlock()
				done++
				switch out.Status {
				case string(gateway.SyncRefused):
					refused++
				case string(gateway.SyncFailed):
					failed++
				}
				if tty && all {
					fmt.Fprint(a.stderr, "\r\033[K")
				}
				if asJSON {
					if err := writeJSON(a.stdout, out); err != nil && firstErr == nil {
						firstErr = err
					}
				} else {
					printSync(a, out)
				}
				if tty && all {
					fmt.Fprintf(a.stderr, "[%d/%d done]", done, len(schools))
				}
			}
			// A bounded pool: each school gets its own LAS client and timeout.
			work := make(chan gateway.School)
			var wg sync.WaitGroup
			for i := 0; i < min(conc, len(schools)); i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for s := range work {
						report(a.syncOne(ctx, gw, s, pull.Options{DryRun: dry, Schooljaar: jaar, UseSince: service.UseSince(s)}))
					}
				}()
			}
		feed:
			for _, s := range schools {
				select {
				case work <- s:
				case <-ctx.Done():
					break feed
				}
			}
			close(work)
			wg.Wait()
			if tty && all {
				fmt.Fprintln(a.stderr)
			}
			if firstErr != nil {
				return firstErr
			}
			if err := ctx.Err(); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("interrupted after %d of %d schools: %w", done, len(schools), err)}
			}
			switch {
			case failed > 0:
				return errReported
			case refused > 0:
				return &exitError{code: exitConsent, err: fmt.Errorf("%d school(s) refused: las_exchange not granted", refused)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.BoolVar(&all, "all", false, "sync every enrolled school")
	f.BoolVar(&dry, "dry-run", false, "fetch and compare, change nothing")
	f.StringVar(&jaar, "schooljaar", "", "schooljaar (default: current, switching 1 August)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per school")
	f.IntVar(&conc, "concurrency", 4, "schools synced at the same time with --all")
	cmd.AddCommand(a.syncDiffCommand(), a.syncApproveCommand(), a.syncHistoryCommand())
	return cmd
}

func (a *app) syncOne(ctx context.Context, gw *service.Gateway, s gateway.School, o pull.Options) syncJSON {
	start := time.Now()
	out := syncJSON{School: s.ID, Warnings: []string{}}
	res, err := gw.Sync(ctx, s, o)
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
	out.ElapsedMS = time.Since(start).Milliseconds()
	if err != nil {
		out.Error = err.Error()
		if !errors.Is(err, gateway.ErrConsentRequired) {
			out.Fault = toFault(err)
		}
		if out.Status == "" {
			out.Status = string(gateway.SyncFailed)
		}
	}
	return out
}

func printSync(a *app, o syncJSON) {
	dry := ""
	if o.DryRun {
		dry = " (dry run: nothing changed)"
	}
	fmt.Fprintf(a.stdout, "%s: %s%s: %d pupils, +%d added, %d changed, %d left; %d teachers, %d groups (%d ms)\n",
		o.School, o.Status, dry, o.Pupils, o.Added, o.Changed, o.Left, o.Teachers, o.Groups, o.ElapsedMS)
	for _, r := range o.Reasons {
		fmt.Fprintf(a.stdout, "  held: %s\n  see `sync diff --school %s`, then `sync approve --school %s --by NAME`\n", r, o.School, o.School)
	}
	if o.Fault != nil {
		a.printFault(o.Fault)
	} else if o.Error != "" {
		fmt.Fprintf(a.stdout, "  %s\n", o.Error)
	}
	if n := len(o.Warnings); n > 0 {
		fmt.Fprintf(a.stdout, "  %d warnings (see --json)\n", n)
	}
}

func (a *app) syncDiffCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "diff", Short: "Show exactly what a held sync would change", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			d, err := pull.HeldDiff(ctx, st, gateway.SchoolID(id))
			if errors.Is(err, pull.ErrNothingHeld) {
				return &exitError{code: exitFailure, err: fmt.Errorf("school %s has no held sync", id)}
			} else if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, d)
			}
			fmt.Fprintf(a.stdout, "held sync %s of %s: +%d added, %d changed, %d left\n", d.Run, d.School, d.Added, d.Changed, d.Left)
			for _, c := range d.Changes {
				fmt.Fprintf(a.stdout, "  %-8s %s (LAS key %s) %v\n", c.Kind, c.Pupil, c.LASKey, c.Fields)
			}
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) syncApproveCommand() *cobra.Command {
	var id, by string
	var asJSON bool
	cmd := &cobra.Command{Use: "approve", Short: "Apply a held sync", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if by == "" {
				return usageErr("--by NAME is required: approvals are recorded")
			}
			ctx := cmd.Context()
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			run, err := a.service(st, kr).Approve(ctx, s, by)
			switch {
			case errors.Is(err, pull.ErrNothingHeld):
				return &exitError{code: exitFailure, err: fmt.Errorf("school %s has no held sync", id)}
			case errors.Is(err, gateway.ErrConsentRequired):
				return &exitError{code: exitConsent, err: err}
			case err != nil:
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, syncJSON{School: s.ID, Status: string(run.Status), Run: run.ID, Added: run.Added,
					Changed: run.Changed, Left: run.Left, Warnings: run.Warnings})
			}
			fmt.Fprintf(a.stdout, "%s: held sync applied: +%d added, %d changed, %d left\n", s.ID, run.Added, run.Changed, run.Left)
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().StringVar(&by, "by", "", "who approves (recorded)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) syncHistoryCommand() *cobra.Command {
	var id string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{Use: "history", Short: "Show a school's sync runs, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.SyncRuns(ctx, gateway.SchoolID(id), limit)
			if err != nil {
				return err
			}
			if asJSON {
				if runs == nil {
					runs = []gateway.SyncRun{}
				}
				return writeJSON(a.stdout, runs)
			}
			for _, r := range runs {
				fmt.Fprintf(a.stdout, "%s %-9s %4d pupils +%d ~%d -%d %s %s\n", r.StartedAt.Format(time.RFC3339), r.Status,
					r.Pupils, r.Added, r.Changed, r.Left, r.ErrorClass, r.Error)
			}
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) pupilsCommand() *cobra.Command {
	var id string
	var asJSON bool
	list := &cobra.Command{Use: "list", Short: "List a school's synced pupils (the ECK iD is only ever shown as present)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
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
			var out []pupilJSON
			err = st.Pupils(ctx, gateway.SchoolID(id), func(p gateway.Pupil) error {
				eck := "absent"
				if len(p.SealedEckID) > 0 {
					eck = "present"
				}
				name := p.FirstName
				if p.Prefix != "" {
					name += " " + p.Prefix
				}
				name += " " + p.LastName
				out = append(out, pupilJSON{ID: p.ID, LASKey: p.LASKey, Name: name, YearGroup: p.YearGroup, Group: p.GroupKey,
					Composite: p.CompositeGroupKeys, EckID: eck, LeftOn: p.LeftOn})
				return nil
			})
			if err != nil {
				return err
			}
			if asJSON {
				if out == nil {
					out = []pupilJSON{}
				}
				return writeJSON(a.stdout, out)
			}
			for _, p := range out {
				left := ""
				if p.LeftOn != "" {
					left = "left " + p.LeftOn
				}
				fmt.Fprintf(a.stdout, "%s %-10s %-30s jaargroep %-2s %-6s ECK iD: %s %s\n", p.ID, p.LASKey, p.Name, p.YearGroup, p.Group, p.EckID, left)
			}
			return nil
		}}
	list.Flags().StringVar(&id, "school", "", "school id")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd := &cobra.Command{Use: "pupils", Short: "Read synced pupils"}
	cmd.AddCommand(list)
	return cmd
}
