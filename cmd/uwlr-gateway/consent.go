package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) consentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "consent", Short: "Show and change a school's opt-ins (default: everything off)"}
	cmd.AddCommand(c.consentSetCommand(), c.consentShowCommand())
	return cmd
}

func (c *edge) consentSetCommand() *cobra.Command {
	var id, processing, by, instruction string
	var grant, revoke, asJSON bool
	cmd := &cobra.Command{Use: "set", Short: "Grant or revoke one processing for one school", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if grant == revoke {
				return usageErr("give exactly one of --grant and --revoke")
			}
			if !gateway.Processing(processing).Valid() {
				return usageErr("--processing %q: one of las_exchange, dashboards, legal, research", processing)
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			p := gateway.Processing(processing)
			actor := gateway.Actor{Via: "cli", Name: by, Instruction: instruction}
			res, err := a.SetConsent(ctx, gateway.SchoolID(id), p, grant, actor)
			if err != nil {
				return err
			}
			ch := res.Change
			if asJSON {
				return writeJSON(c.stdout, struct {
					consentChangeJSON
					Changed       bool `json:"changed"`
					HeldBatches   int  `json:"held_batches"`
					Released      int  `json:"released_batches"`
					StillInFlight int  `json:"still_in_flight"`
				}{toChangeJSON(ch), res.Changed, res.Held, res.Released, res.StillInFlight})
			}
			if !res.Changed {
				fmt.Fprintf(c.stdout, "school %s: %s was already %s; nothing changed\n", safe(id), safe(p), onOff(grant))
				return nil
			}
			fmt.Fprintf(c.stdout, "school %s: %s %s -> %s by %s\n", safe(id), safe(p), onOff(ch.Old), onOff(ch.New), safe(ch.By))
			if res.Held > 0 {
				fmt.Fprintf(c.stdout, "  %d queued result batch(es) held until %s is granted again\n", res.Held, safe(p))
			}
			if res.Released > 0 {
				fmt.Fprintf(c.stdout, "  %d held result batch(es) queued again\n", res.Released)
			}
			if res.StillInFlight > 0 {
				fmt.Fprintf(c.stdout, "  warning: %d delivery(ies) were still under way when the wait ran out\n", res.StillInFlight)
			}
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&processing, "processing", "", "las_exchange | dashboards | legal | research")
	f.BoolVar(&grant, "grant", false, "opt in")
	f.BoolVar(&revoke, "revoke", false, "opt out")
	f.StringVar(&by, "by", "", "who makes the change (required; recorded)")
	f.StringVar(&instruction, "instruction", "", "reference of the school's written instruction (required to grant: the school itself opts in)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type consentChangeJSON struct {
	School     gateway.SchoolID   `json:"school"`
	Processing gateway.Processing `json:"processing"`
	Old        bool               `json:"old"`
	New        bool               `json:"new"`
	By         string             `json:"by"`
	At         time.Time          `json:"at"`
}

func toChangeJSON(c gateway.ConsentChange) consentChangeJSON {
	return consentChangeJSON{School: c.School, Processing: c.Processing, Old: c.Old, New: c.New, By: c.By, At: c.At}
}

func (c *edge) consentShowCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show a school's opt-ins and their history", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			cur, hist, err := a.Consent(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			out := struct {
				School     gateway.SchoolID    `json:"school"`
				Processing map[string]bool     `json:"processing"`
				History    []consentChangeJSON `json:"history"`
			}{School: gateway.SchoolID(id), Processing: map[string]bool{}, History: []consentChangeJSON{}}
			for _, p := range gateway.Processings {
				out.Processing[string(p)] = cur[p]
			}
			for _, ch := range hist {
				out.History = append(out.History, toChangeJSON(ch))
			}
			if asJSON {
				return writeJSON(c.stdout, out)
			}
			for _, p := range gateway.Processings {
				fmt.Fprintf(c.stdout, "%-12s %s\n", p, onOff(cur[p]))
			}
			for _, ch := range hist {
				fmt.Fprintf(c.stdout, "  %s %s %s -> %s by %s\n", ch.At.Format(time.RFC3339), ch.Processing, onOff(ch.Old), onOff(ch.New), safe(ch.By))
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
