package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func (c *edge) deliverCommand() *cobra.Command {
	var o app.DeliverOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "deliver",
		Short: "Send queued results to the LAS (BrengLeerresultaten); by default until nothing is due",
		Long: "Sends every due batch from the outbox, checking las_exchange at the moment of sending, and\n" +
			"settles each one: accepted (with signed evidence), retried later (temporary faults), or rejected\n" +
			"(dead letter; see `results status`). With --follow it keeps running until interrupted.",
		Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			tty := !asJSON && isTerminal(c.stderr)
			start := time.Now()
			o.Settled = c.deliveryProgress(tty, !asJSON, start)
			if o.Follow && !asJSON {
				fmt.Fprintln(c.stderr, "delivering; press Ctrl-C to stop")
			}
			d, err := a.Deliver(ctx, o)
			if tty {
				fmt.Fprintln(c.stderr)
			}
			if o.Follow {
				return nil
			}
			if err != nil {
				return failed(err)
			}
			if asJSON {
				return writeJSON(c.stdout, struct {
					delivery.Drained
					ElapsedMS int64 `json:"elapsed_ms"`
				}{d, time.Since(start).Milliseconds()})
			}
			fmt.Fprintf(c.stdout, "delivered: %d results accepted; %d rejected; %d held; %d to retry later",
				d.Results[gateway.BatchAccepted], d.Results[gateway.BatchRejected], d.Results[gateway.BatchHeld], d.Results[gateway.BatchQueued])
			if d.Waiting > 0 {
				fmt.Fprintf(c.stdout, " (%d batches wait; the first retry is due %s)", d.Waiting, d.NextAttempt.Local().Format(time.DateTime))
			}
			fmt.Fprintf(c.stdout, " (%s)\n", time.Since(start).Round(time.Millisecond))
			if d.Errors > 0 {
				return failed(fmt.Errorf("%d batch(es) could not be settled (the store failed); they are sent again after their lease", d.Errors))
			}
			return nil
		})}
	cmd.Flags().BoolVar(&o.Follow, "follow", false, "keep delivering until interrupted")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 0, "batches sent at the same time (default delivery.concurrency)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON summary")
	return cmd
}

// deliveryProgress prints every batch that was not accepted (lines) and,
// on a terminal, a running count.
func (c *edge) deliveryProgress(tty, lines bool, start time.Time) func(delivery.Outcome) {
	var mu sync.Mutex
	counts, results := map[gateway.BatchState]int{}, map[gateway.BatchState]int{}
	return func(o delivery.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		if o.Err == nil {
			counts[o.State]++
			results[o.State] += o.Results
		}
		if lines && (o.Err != nil || (o.State != gateway.BatchAccepted && o.State != gateway.BatchSplit)) {
			if tty {
				fmt.Fprint(c.stderr, "\r\033[K")
			}
			reason := o.Reason
			if o.Err != nil {
				reason = o.Err.Error()
			}
			state := string(o.State)
			if o.State == gateway.BatchQueued {
				state = "retry later"
			}
			fmt.Fprintf(c.stdout, "%s batch %s (%d results): %s: %s\n", safe(o.School), safe(o.Batch), o.Results, safe(state), soap.OneLine(reason))
		}
		if tty {
			fmt.Fprintf(c.stderr, "\r\033[Kdelivered %d results in %d batches (%.0f results/s)", results[gateway.BatchAccepted],
				counts[gateway.BatchAccepted], float64(results[gateway.BatchAccepted])/time.Since(start).Seconds())
		}
	}
}
