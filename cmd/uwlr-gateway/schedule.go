package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "The nightly sync schedule of serve"}
	cmd.AddCommand(c.scheduleShowCommand())
	return cmd
}

func (c *edge) scheduleShowCommand() *cobra.Command {
	var n int
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "List the next planned syncs, soonest first, with the reason for each", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			plan, schools, err := a.Upcoming(ctx, n)
			if err != nil {
				return err
			}
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
				return writeJSON(c.stdout, out)
			}
			sc := c.scheduleConfig()
			fmt.Fprintf(c.stdout, "window %s-%s Europe/Amsterdam; %d school(s)\n", sc.WindowStart, sc.WindowEnd, schools)
			for _, p := range plan {
				fmt.Fprintf(c.stdout, "%s  %-12s %-9s %s\n", p.At.In(gateway.Amsterdam).Format("Mon 2006-01-02 15:04"), safe(p.School), safe(p.Vendor), safe(p.Reason))
			}
			return nil
		})}
	cmd.Flags().IntVar(&n, "limit", 50, "how many planned runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
