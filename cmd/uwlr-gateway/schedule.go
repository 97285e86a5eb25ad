package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "The nightly sync schedule of serve"}
	cmd.AddCommand(a.scheduleShowCommand())
	return cmd
}

func (a *app) scheduleShowCommand() *cobra.Command {
	var n int
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "List the next planned syncs, soonest first, with the reason for each", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc := a.scheduleConfig()
			if err := sc.Validate(); err != nil {
				return usageErr("schedule: %w", err)
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			schools, states, err := listSchedule(ctx, st)
			if err != nil {
				return err
			}
			now := a.clock()()
			plan := sc.Upcoming(schools, states, now, n)
			if asJSON {
				type row struct {
					School string    `json:"school"`
					Vendor string    `json:"vendor"`
					At     time.Time `json:"at"`
					Reason string    `json:"reason"`
				}
				out := make([]row, 0, len(plan))
				for _, p := range plan {
					out = append(out, row{School: string(p.School), Vendor: p.Vendor, At: p.At, Reason: p.Reason})
				}
				return writeJSON(a.stdout, out)
			}
			fmt.Fprintf(a.stdout, "window %s-%s Europe/Amsterdam; %d school(s)\n", sc.WindowStart, sc.WindowEnd, len(schools))
			for _, p := range plan {
				fmt.Fprintf(a.stdout, "%s  %-12s %-9s %s\n", p.At.In(amsterdamTZ).Format("Mon 2006-01-02 15:04"), p.School, p.Vendor, p.Reason)
			}
			return nil
		}}
	cmd.Flags().IntVar(&n, "limit", 50, "how many planned runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
