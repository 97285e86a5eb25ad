package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
)

func (a *app) resultsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "results", Short: "Take in results for delivery to the LAS, and follow them"}
	cmd.AddCommand(a.resultsSubmitCommand(), a.resultsStatusCommand(), a.resultsRetryCommand(), a.resultsSchemaCommand())
	return cmd
}

func (a *app) resultsSubmitCommand() *cobra.Command {
	var file, id, by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Validate a results file (see `results schema`) and queue its results for the school's LAS",
		Long: "Checks every record first and reports every bad one by position and reason; when any is bad,\n" +
			"nothing is stored. Good files are queued in batches; results already queued with the same\n" +
			"content are not queued again, so a file can be submitted again safely (e.g. after an interruption).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageErr("--file FILE is required ('-' reads stdin)")
			}
			data, err := readInput(a, file)
			if err != nil {
				return err
			}
			if id == "" {
				id = schoolOfFile(data)
				if id == "" {
					return usageErr("give --school ID, or name the school in the file (\"school\": \"12AB00\")")
				}
			}
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			gw := a.service(st, kr)
			batch, problems, err := gw.ReadResults(ctx, s, data)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if len(problems) > 0 {
				if asJSON {
					_ = writeJSON(a.stdout, map[string]any{"ok": false, "school": s.ID, "problems": problems})
				} else {
					fmt.Fprintf(a.stdout, "%s: %d problem(s); nothing was stored:\n", file, len(problems))
					for _, p := range problems {
						fmt.Fprintf(a.stdout, "  %s\n", p)
					}
				}
				return &exitError{code: exitUsage, err: fmt.Errorf("results file %s has %d problem(s); nothing was stored", file, len(problems))}
			}
			var progress func(done, total int)
			if !asJSON && isTerminal(a.stderr) && len(batch.Results) > a.cfg.Delivery.BatchSize {
				progress = func(done, total int) { fmt.Fprintf(a.stderr, "\rqueued %d/%d results", done, total) }
				defer fmt.Fprintln(a.stderr)
			}
			sub, err := gw.Submit(ctx, s, batch, or(by, "cli"), progress)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					OK bool `json:"ok"`
					delivery.Submitted
				}{true, sub})
			}
			fmt.Fprintf(a.stdout, "%s: %d results (%d new, %d corrected, %d already queued), %d test definitions; %d batch(es) queued\n",
				s.ID, sub.Results, sub.New, sub.Changed, sub.Unchanged, sub.Tests, len(sub.Batches))
			if sub.Held {
				fmt.Fprintf(a.stdout, "  held: las_exchange is not granted for %s; the results wait until a school admin grants it\n", s.ID)
			} else if len(sub.Batches) > 0 {
				fmt.Fprintln(a.stdout, "  run `uwlr-gateway deliver` to send them (serve does it continuously)")
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "results file (JSON; '-' = stdin)")
	f.StringVar(&id, "school", "", "school id (default: the file's \"school\")")
	f.StringVar(&by, "by", "", "who submits (recorded in the audit log)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// readInput reads a file, or stdin for "-".
func readInput(a *app, file string) ([]byte, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(a.stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	return data, nil
}

// schoolOfFile returns the "school" member of a results file, if any.
func schoolOfFile(data []byte) string {
	var head struct {
		School string `json:"school"`
	}
	_ = json.Unmarshal(data, &head)
	return head.School
}

func (a *app) resultsStatusCommand() *cobra.Command {
	var id, state string
	var keys []string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{Use: "status", Short: "Show the receipt of each result: queued, sent, accepted, rejected or held, with time and reason",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "" && !slices.Contains(gateway.BatchStates, gateway.BatchState(state)) {
				return usageErr("--state %q: one of queued, sent, accepted, rejected, held", state)
			}
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			rcs, err := service.Receipts(ctx, st, s.ID)
			if err != nil {
				return err
			}
			counts := map[gateway.BatchState]int{}
			var out []httpapi.Receipt
			for _, r := range rcs {
				counts[r.State]++
				if (state != "" && string(r.State) != state) || (len(keys) > 0 && !slices.Contains(keys, r.Key)) {
					continue
				}
				out = append(out, r)
			}
			if asJSON {
				if out == nil {
					out = []httpapi.Receipt{}
				}
				return writeJSON(a.stdout, map[string]any{"school": s.ID, "counts": counts, "receipts": out})
			}
			var parts []string
			for _, k := range gateway.BatchStates {
				if k != gateway.BatchSplit {
					parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
				}
			}
			fmt.Fprintf(a.stdout, "%s: %d results: %s\n", s.ID, len(rcs), strings.Join(parts, ", "))
			shown := 0
			for _, r := range out {
				if state == "" && len(keys) == 0 && r.State == gateway.BatchAccepted {
					continue // the list shows what needs attention unless asked
				}
				if limit > 0 && shown >= limit {
					fmt.Fprintf(a.stdout, "  … %d more (use --json, --state or --limit)\n", len(out)-shown)
					break
				}
				shown++
				line := fmt.Sprintf("  %-30s %-9s %s  pupil %s %s %s", r.Key, r.State, r.At.Local().Format(time.DateTime), r.Pupil, r.Test, r.Date)
				if r.NextAttempt != nil {
					line += "  next attempt " + r.NextAttempt.Local().Format(time.DateTime)
				}
				fmt.Fprintln(a.stdout, line)
				if r.Reason != "" {
					fmt.Fprintf(a.stdout, "      %s\n", r.Reason)
				}
			}
			if counts[gateway.BatchRejected] > 0 {
				fmt.Fprintf(a.stdout, "rejected results are dead letters: fix the cause, then `results retry --school %s --all`\n", s.ID)
			}
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.StringVar(&state, "state", "", "only results in this state")
	f.StringSliceVar(&keys, "key", nil, "only these result keys (repeatable)")
	f.IntVar(&limit, "limit", 50, "most results listed (0: all); --json lists all")
	f.BoolVar(&asJSON, "json", false, "print JSON: counts and every receipt")
	return cmd
}

func (a *app) resultsRetryCommand() *cobra.Command {
	var id, by string
	var batches, keys []string
	var all, asJSON bool
	cmd := &cobra.Command{Use: "retry", Short: "Queue rejected results (dead letters) again, by batch, by result key, or all",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !all && len(batches) == 0 && len(keys) == 0 {
				return usageErr("say which dead letters: --batch ID, --key KEY (both repeatable) or --all")
			}
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			n, results, err := delivery.Retry(ctx, st, a.auditLog(st), s.ID, delivery.RetrySelection{All: all, Batches: batches, Keys: keys}, or(by, "cli"), time.Now())
			if errors.Is(err, gateway.ErrNotFound) {
				return &exitError{code: exitFailure, err: err}
			} else if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, map[string]any{"school": s.ID, "batches": n, "results": results})
			}
			fmt.Fprintf(a.stdout, "%s: %d rejected batch(es) with %d results queued again; run `uwlr-gateway deliver`\n", s.ID, n, results)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.StringSliceVar(&batches, "batch", nil, "a rejected batch to retry (repeatable)")
	f.StringSliceVar(&keys, "key", nil, "retry the rejected batch holding this result key (repeatable)")
	f.BoolVar(&all, "all", false, "retry every rejected batch of the school")
	f.StringVar(&by, "by", "", "who retries (recorded in the audit log)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) resultsSchemaCommand() *cobra.Command {
	return &cobra.Command{Use: "schema", Short: "Print the JSON Schema of results files", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := a.stdout.Write(intake.Schema)
			return err
		}}
}
