package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func (a *app) consentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "consent", Short: "Show and change a school's opt-ins (default: everything off)"}
	cmd.AddCommand(a.consentSetCommand(), a.consentShowCommand())
	return cmd
}

func (a *app) consentSetCommand() *cobra.Command {
	var id, processing, by string
	var grant, revoke, asJSON bool
	cmd := &cobra.Command{Use: "set", Short: "Grant or revoke one processing for one school", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if grant == revoke {
				return usageErr("give exactly one of --grant and --revoke")
			}
			p := gateway.Processing(processing)
			if !p.Valid() {
				return usageErr("--processing %q: one of las_exchange, dashboards, legal, research", processing)
			}
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := a.gate(st).Apply(ctx, gateway.SchoolID(id), p, grant, by)
			ch, changed := res.Change, res.Changed
			if errors.Is(err, gateway.ErrInvalid) {
				return usageErr("%w", err)
			} else if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					consentChangeJSON
					Changed       bool `json:"changed"`
					HeldBatches   int  `json:"held_batches"`
					Released      int  `json:"released_batches"`
					StillInFlight int  `json:"still_in_flight"`
				}{toChangeJSON(ch), changed, res.Held, res.Released, res.StillInFlight})
			}
			if !changed {
				fmt.Fprintf(a.stdout, "school %s: %s was already %s; nothing changed\n", id, p, onOff(grant))
				return nil
			}
			fmt.Fprintf(a.stdout, "school %s: %s %s -> %s by %s\n", id, p, onOff(ch.Old), onOff(ch.New), ch.By)
			if res.Held > 0 {
				fmt.Fprintf(a.stdout, "  %d queued result batch(es) held until %s is granted again\n", res.Held, p)
			}
			if res.Released > 0 {
				fmt.Fprintf(a.stdout, "  %d held result batch(es) queued again\n", res.Released)
			}
			if res.StillInFlight > 0 {
				fmt.Fprintf(a.stdout, "  warning: %d delivery(ies) were still under way when the wait ran out\n", res.StillInFlight)
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.StringVar(&processing, "processing", "", "las_exchange | dashboards | legal | research")
	f.BoolVar(&grant, "grant", false, "opt in")
	f.BoolVar(&revoke, "revoke", false, "opt out")
	f.StringVar(&by, "by", "", "who makes the change (recorded)")
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

func (a *app) consentShowCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show a school's opt-ins and their history", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			cur, err := st.Consent(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			hist, err := st.ConsentHistory(ctx, gateway.SchoolID(id))
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
			for _, c := range hist {
				out.History = append(out.History, toChangeJSON(c))
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			for _, p := range gateway.Processings {
				fmt.Fprintf(a.stdout, "%-12s %s\n", p, onOff(cur[p]))
			}
			for _, c := range hist {
				fmt.Fprintf(a.stdout, "  %s %s %s -> %s by %s\n", c.At.Format(time.RFC3339), c.Processing, onOff(c.Old), onOff(c.New), c.By)
			}
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
