package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func (c *edge) resultsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "results", Short: "Take in results for delivery to the LAS, and follow them"}
	cmd.AddCommand(c.resultsSubmitCommand(), c.resultsStatusCommand(), c.resultsRetryCommand(), c.resultsSchemaCommand())
	return cmd
}

func (c *edge) resultsSubmitCommand() *cobra.Command {
	var file, id, by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Validate a results file (see `results schema`) and queue its results for the school's LAS",
		Long: "Checks every record first and reports every bad one by position and reason; when any is bad,\n" +
			"nothing is stored. Good files are queued in batches; results already queued with the same\n" +
			"content are not queued again, so a file can be submitted again safely (e.g. after an interruption).",
		Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			if file == "" {
				return usageErr("--file FILE is required ('-' reads stdin)")
			}
			data, err := c.readInput(file)
			if err != nil {
				return err
			}
			if id == "" {
				if id = schoolOfFile(data); id == "" {
					return usageErr("give --school ID, or name the school in the file (\"school\": \"12AB00\")")
				}
			}
			var progress func(done, total int)
			if !asJSON && isTerminal(c.stderr) {
				progress = func(done, total int) {
					if total > c.cfg.Delivery.BatchSize {
						fmt.Fprintf(c.stderr, "\rqueued %d/%d results", done, total)
					}
				}
				defer fmt.Fprintln(c.stderr)
			}
			sub, problems, err := a.SubmitResults(ctx, gateway.SchoolID(id), data, operator(by).String(), progress)
			if err != nil && !errors.Is(err, gateway.ErrNotFound) && !errors.Is(err, app.ErrNoSchool) {
				return failed(err)
			} else if err != nil {
				return err
			}
			if len(problems) > 0 {
				return c.printProblems(file, id, problems, asJSON)
			}
			if asJSON {
				return writeJSON(c.stdout, struct {
					OK bool `json:"ok"`
					gateway.Submission
				}{true, sub})
			}
			fmt.Fprintf(c.stdout, "%s: %d results (%d new, %d corrected, %d already queued), %d test definitions; %d batch(es) queued\n",
				id, sub.Results, sub.New, sub.Changed, sub.Unchanged, sub.Tests, len(sub.Batches))
			if sub.Held {
				fmt.Fprintf(c.stdout, "  held: las_exchange is not granted for %s; the results wait until a school admin grants it\n", id)
			} else if len(sub.Batches) > 0 {
				fmt.Fprintln(c.stdout, "  run `uwlr-gateway deliver` to send them (serve does it continuously)")
			}
			return nil
		})}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "results file (JSON; '-' = stdin)")
	f.StringVar(&id, "school", "", "school id (default: the file's \"school\")")
	f.StringVar(&by, "by", "", "who submits (recorded in the audit log)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printProblems reports a refused results file (exit 2: nothing stored).
func (c *edge) printProblems(file, id string, problems []gateway.Problem, asJSON bool) error {
	if asJSON {
		_ = writeJSON(c.stdout, map[string]any{"ok": false, "school": id, "problems": problems})
	} else {
		fmt.Fprintf(c.stdout, "%s: %d problem(s); nothing was stored:\n", file, len(problems))
		for _, p := range problems {
			fmt.Fprintf(c.stdout, "  %s\n", p)
		}
	}
	return usageErr("results file %s has %d problem(s); nothing was stored", file, len(problems))
}

// schoolOfFile returns the "school" member of a results file, if any.
func schoolOfFile(data []byte) string {
	var head struct {
		School string `json:"school"`
	}
	_ = json.Unmarshal(data, &head)
	return head.School
}

func (c *edge) resultsStatusCommand() *cobra.Command {
	var id, state string
	var keys []string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{Use: "status", Short: "Show the receipt of each result: queued, sent, accepted, rejected or held, with time and reason",
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if state != "" && !slices.Contains(gateway.BatchStates, gateway.BatchState(state)) {
				return usageErr("--state %q: one of queued, sent, accepted, rejected, held", state)
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			rcs, err := a.Receipts(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			counts := map[gateway.BatchState]int{}
			out := []gateway.Receipt{}
			for _, r := range rcs {
				counts[r.State]++
				if (state == "" || string(r.State) == state) && (len(keys) == 0 || slices.Contains(keys, r.Key)) {
					out = append(out, r)
				}
			}
			if asJSON {
				return writeJSON(c.stdout, map[string]any{"school": id, "counts": counts, "receipts": out})
			}
			c.printReceipts(id, len(rcs), counts, out, state == "" && len(keys) == 0, limit)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&state, "state", "", "only results in this state")
	f.StringSliceVar(&keys, "key", nil, "only these result keys (repeatable)")
	f.IntVar(&limit, "limit", 50, "most results listed (0: all); --json lists all")
	f.BoolVar(&asJSON, "json", false, "print JSON: counts and every receipt")
	return cmd
}

// printReceipts lists receipts; unasked, only those that need attention.
func (c *edge) printReceipts(id string, total int, counts map[gateway.BatchState]int, out []gateway.Receipt, unasked bool, limit int) {
	var parts []string
	for _, k := range gateway.BatchStates {
		if k != gateway.BatchSplit {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	fmt.Fprintf(c.stdout, "%s: %d results: %s\n", id, total, strings.Join(parts, ", "))
	shown := 0
	for _, r := range out {
		if unasked && r.State == gateway.BatchAccepted {
			continue
		}
		if limit > 0 && shown >= limit {
			fmt.Fprintf(c.stdout, "  … %d more (use --json, --state or --limit)\n", len(out)-shown)
			break
		}
		shown++
		line := fmt.Sprintf("  %-30s %-9s %s  pupil %s %s %s", r.Key, r.State, r.At.Local().Format(time.DateTime), r.Pupil, r.Test, r.Date)
		if r.NextAttempt != nil {
			line += "  next attempt " + r.NextAttempt.Local().Format(time.DateTime)
		}
		fmt.Fprintln(c.stdout, line)
		if r.Reason != "" {
			fmt.Fprintf(c.stdout, "      %s\n", soap.OneLine(r.Reason))
		}
	}
	if counts[gateway.BatchRejected] > 0 {
		fmt.Fprintf(c.stdout, "rejected results are dead letters: fix the cause, then `results retry --school %s --all`\n", id)
	}
}

func (c *edge) resultsRetryCommand() *cobra.Command {
	var id, by string
	var sel delivery.RetrySelection
	var asJSON bool
	cmd := &cobra.Command{Use: "retry", Short: "Queue rejected results (dead letters) again, by batch, by result key, or all",
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if !sel.All && len(sel.Batches) == 0 && len(sel.Keys) == 0 {
				return usageErr("say which dead letters: --batch ID, --key KEY (both repeatable) or --all")
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			n, results, err := a.RetryResults(ctx, gateway.SchoolID(id), sel, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, map[string]any{"school": id, "batches": n, "results": results})
			}
			fmt.Fprintf(c.stdout, "%s: %d rejected batch(es) with %d results queued again; run `uwlr-gateway deliver`\n", id, n, results)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringSliceVar(&sel.Batches, "batch", nil, "a rejected batch to retry (repeatable)")
	f.StringSliceVar(&sel.Keys, "key", nil, "retry the rejected batch holding this result key (repeatable)")
	f.BoolVar(&sel.All, "all", false, "retry every rejected batch of the school")
	f.StringVar(&by, "by", "", "who retries (recorded in the audit log)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) resultsSchemaCommand() *cobra.Command {
	return &cobra.Command{Use: "schema", Short: "Print the JSON Schema of results files", Args: cobra.NoArgs,
		RunE: plain(func(context.Context) error {
			_, err := c.stdout.Write(intake.Schema)
			return err
		})}
}
