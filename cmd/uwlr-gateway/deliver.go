package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
)

func (a *app) deliverCommand() *cobra.Command {
	var follow, asJSON bool
	var conc int
	cmd := &cobra.Command{
		Use:   "deliver",
		Short: "Send queued results to the LAS (BrengLeerresultaten); by default until nothing is due",
		Long: "Sends every due batch from the outbox, checking las_exchange at the moment of sending, and\n" +
			"settles each one: accepted (with signed evidence), retried later (temporary faults), or rejected\n" +
			"(dead letter; see `results status`). With --follow it keeps running until interrupted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			w, err := a.service(st, kr).Worker(ctx)
			if err != nil {
				return err
			}
			if conc > 0 {
				w.Options.Concurrency = conc
			}
			var mu sync.Mutex
			counts := map[gateway.BatchState]int{}
			results := map[gateway.BatchState]int{}
			tty := !asJSON && isTerminal(a.stderr)
			start := time.Now()
			w.Settled = func(o delivery.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				if o.Err == nil {
					counts[o.State]++
					results[o.State] += o.Results
				}
				if !asJSON && (o.Err != nil || (o.State != gateway.BatchAccepted && o.State != gateway.BatchSplit)) {
					if tty {
						fmt.Fprint(a.stderr, "\r\033[K")
					}
					reason := o.Reason
					if o.Err != nil {
						reason = o.Err.Error()
					}
					state := string(o.State)
					if o.State == gateway.BatchQueued {
						state = "retry later"
					}
					fmt.Fprintf(a.stdout, "%s batch %s (%d results): %s: %s\n", o.School, o.Batch, o.Results, state, reason)
				}
				if tty {
					fmt.Fprintf(a.stderr, "\r\033[Kdelivered %d results in %d batches (%.0f results/s)", results[gateway.BatchAccepted],
						counts[gateway.BatchAccepted], float64(results[gateway.BatchAccepted])/time.Since(start).Seconds())
				}
			}
			if follow {
				if !asJSON {
					fmt.Fprintln(a.stderr, "delivering; press Ctrl-C to stop")
				}
				_ = w.Run(ctx)
				if tty {
					fmt.Fprintln(a.stderr)
				}
				return nil
			}
			d, err := w.Drain(ctx)
			if tty {
				fmt.Fprintln(a.stderr)
			}
			if err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("deliver: %w", err)}
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					delivery.Drained
					ElapsedMS int64 `json:"elapsed_ms"`
				}{d, time.Since(start).Milliseconds()})
			}
			fmt.Fprintf(a.stdout, "delivered: %d results accepted; %d rejected; %d held; %d to retry later",
				d.Results[gateway.BatchAccepted], d.Results[gateway.BatchRejected], d.Results[gateway.BatchHeld], d.Results[gateway.BatchQueued])
			if d.Waiting > 0 {
				fmt.Fprintf(a.stdout, " (%d batches wait; the first retry is due %s)", d.Waiting, d.NextAttempt.Local().Format(time.DateTime))
			}
			fmt.Fprintf(a.stdout, " (%s)\n", time.Since(start).Round(time.Millisecond))
			if d.Errors > 0 {
				return &exitError{code: exitFailure, err: fmt.Errorf("%d batch(es) could not be settled (the store failed); they are sent again after their lease", d.Errors)}
			}
			return nil
		}}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep delivering until interrupted")
	cmd.Flags().IntVar(&conc, "concurrency", 0, "batches sent at the same time (default delivery.concurrency)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON summary")
	return cmd
}
