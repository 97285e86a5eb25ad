package main

import (
	"bytes"
	"context"
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
			in, closeIn, err := c.resultsInput(file, &id)
			if err != nil {
				return err
			}
			defer closeIn()
			var progress func(done, total int)
			if !asJSON && isTerminal(c.stderr) {
				progress = func(done, total int) {
					if total > c.cfg.Delivery.BatchSize {
						fmt.Fprintf(c.stderr, "\rqueued %d/%d results", done, total)
					}
				}
				defer fmt.Fprintln(c.stderr)
			}
			sub, problems, err := a.SubmitResultsFrom(ctx, gateway.SchoolID(id), in, operator(by).String(), progress)
			switch {
			case errors.Is(err, errResultsTooLarge):
				return usageErr("results file %s holds more than the %d bytes a submission may hold: split it", file, c.maxResultsBytes())
			case err != nil && !errors.Is(err, gateway.ErrNotFound) && !errors.Is(err, app.ErrNoSchool):
				return failed(err)
			case err != nil:
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
				safe(id), sub.Results, sub.New, sub.Changed, sub.Unchanged, sub.Tests, len(sub.Batches))
			if sub.Held {
				fmt.Fprintf(c.stdout, "  held: las_exchange is not granted for %s; the results wait until a school admin grants it\n", safe(id))
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

// printProblems reports a refused results file (exit 2: nothing stored):
// the problems listed (the first app.DefaultMaxResultProblems, then one
// that counts the rest), escaped for the terminal: they echo the file.
func (c *edge) printProblems(file, id string, problems []gateway.Problem, asJSON bool) error {
	n := intake.Count(problems)
	if asJSON {
		_ = writeJSON(c.stdout, map[string]any{"ok": false, "school": id, "problems": problems, "count": n})
	} else {
		fmt.Fprintf(c.stdout, "%s: %d problem(s); nothing was stored:\n", safe(file), n)
		for _, p := range problems {
			fmt.Fprintf(c.stdout, "  %s\n", safe(p.String()))
		}
	}
	return usageErr("results file %s has %d problem(s); nothing was stored", file, n)
}

// maxResultsBytes is intake.max_body_bytes (app.DefaultMaxResultsBytes
// when unset).
func (c *edge) maxResultsBytes() int64 {
	if n := c.cfg.Intake.MaxBodyBytes; n > 0 {
		return n
	}
	return app.DefaultMaxResultsBytes
}

// errResultsTooLarge: a results file read from stdin passed the cap.
var errResultsTooLarge = errors.New("results file larger than a submission may hold")

// resultsInput opens a results file ('-': stdin) to be read as a stream,
// capped at app.DefaultMaxResultsBytes (intake.max_body_bytes): a file past
// it is refused by its size before it is read, stdin when it passes it
// (errResultsTooLarge). Without *id it finds the file's "school" first.
func (c *edge) resultsInput(file string, id *string) (io.Reader, func(), error) {
	limit := c.maxResultsBytes()
	noSchool := usageErr("give --school ID, or name the school in the file (\"school\": \"12AB00\")")
	switch {
	case file == "":
		return nil, nil, usageErr("--file FILE is required ('-' reads stdin)")
	case file == "-":
		in := io.Reader(&capReader{r: c.stdin, left: limit})
		if *id == "" {
			// Only the head of stdin is kept to be read again: "school"
			// must come in its first MiB.
			var head bytes.Buffer
			*id = schoolOf(io.TeeReader(io.LimitReader(in, 1<<20), &head))
			in = io.MultiReader(&head, in)
		}
		if *id == "" {
			return nil, nil, noSchool
		}
		return in, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, failed(err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		f.Close()
		return nil, nil, usageErr("results file %s is %d bytes, more than the %d a submission may hold: split it", file, fi.Size(), limit)
	}
	if *id == "" {
		*id = schoolOf(f) // a first pass over the file, reading no more than it must
		if _, err := f.Seek(0, io.SeekStart); err != nil || *id == "" {
			f.Close()
			return nil, nil, errors.Join(noSchool, err)
		}
	}
	return &capReader{r: f, left: limit}, func() { f.Close() }, nil
}

// schoolOf returns the top-level "school" of a results file, reading it
// token by token only as far as it must; "" when there is none.
func schoolOf(r io.Reader) string {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		if key == "school" {
			var s string
			_ = dec.Decode(&s)
			return s
		}
		for depth := 0; ; { // skip the value
			tok, err := dec.Token()
			if err != nil {
				return ""
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				break
			}
		}
	}
	return ""
}

// capReader fails with errResultsTooLarge once more than left bytes are
// read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errResultsTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return n, errResultsTooLarge
	}
	return n, err
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
	fmt.Fprintf(c.stdout, "%s: %d results: %s\n", safe(id), total, strings.Join(parts, ", "))
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
		line := fmt.Sprintf("  %-30s %-9s %s  pupil %s %s %s", safe(r.Key), r.State, r.At.Local().Format(time.DateTime), safe(r.Pupil), safe(r.Test), safe(r.Date))
		if r.NextAttempt != nil {
			line += "  next attempt " + r.NextAttempt.Local().Format(time.DateTime)
		}
		fmt.Fprintln(c.stdout, line)
		if r.Reason != "" {
			fmt.Fprintf(c.stdout, "      %s\n", soap.OneLine(r.Reason))
		}
	}
	if counts[gateway.BatchRejected] > 0 {
		fmt.Fprintf(c.stdout, "rejected results are dead letters: fix the cause, then `results retry --school %s --all`\n", safe(id))
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
			fmt.Fprintf(c.stdout, "%s: %d rejected batch(es) with %d results queued again; run `uwlr-gateway deliver`\n", safe(id), n, results)
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
