package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func (c *edge) conformanceCommand() *cobra.Command {
	f := &lasFlags{}
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Run the official UWLR negative cases (mapped to 2.2) against a LAS endpoint and print pass/fail per case",
		Long: `Runs the cases of the official UWLR conformance suite for a LAS (SoapUI
"LAS-LG-F01", mapped from UWLR 1.0 to 2.2) against --endpoint, using the
credentials of one school the key grants. Each case sends one bad request and
expects a specific SOAP fault code; one valid request checks the target first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, jaar, err := c.target(f)
			if err != nil {
				return err
			}
			if err := c.las().CheckTarget(t); err != nil {
				return classify(err)
			}
			return c.forSchool(cmd, f, func(ctx context.Context, a *app.App) error {
				run := c.las().Conformance
				if a != nil {
					run = func(ctx context.Context, t app.Target, jaar string, progress func(conformance.Result)) (*conformance.Report, error) {
						return a.ConformanceForSchool(ctx, f.run(), t, jaar, progress)
					}
				}
				return c.runConformance(ctx, f, t, jaar, run)
			})
		},
	}
	f.register(cmd)
	f.registerSchool(cmd, "the enrolled school this is (it must have granted las_exchange); the run is recorded on its audit chain")
	return cmd
}

// runConformance runs the cases and prints them as they end.
func (c *edge) runConformance(ctx context.Context, f *lasFlags, t app.Target, jaar string,
	run func(context.Context, app.Target, string, func(conformance.Result)) (*conformance.Report, error)) error {
	var progress func(conformance.Result)
	if !f.asJSON {
		// Fixed columns, printed as each case finishes (slow endpoints show progress).
		const row = "%-6s %-54s %-36s %s\n"
		fmt.Fprintf(c.stdout, row, "RESULT", "CASE", "EXPECTED", "GOT")
		progress = func(r conformance.Result) {
			fmt.Fprintf(c.stdout, row, map[bool]string{true: "PASS", false: "FAIL"}[r.OK], r.Name, r.Expected, soap.OneLine(r.Got))
		}
	}
	rep, err := run(ctx, t, jaar, progress)
	if err != nil {
		return err // the exit code table decides: refused (3), bad input (2), failed (1)
	}
	if f.asJSON {
		if err := writeJSON(c.stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.stdout, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return errReported
	}
	return nil
}
