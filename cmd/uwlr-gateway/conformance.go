package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/conformance"
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
			conn, hc, err := c.connection(f)
			if err != nil {
				return err
			}
			jaar, err := f.schooljaar()
			if err != nil {
				return err
			}
			t := conformance.Target{Endpoint: conn.Endpoint, Brincode: conn.Brincode, Dependancecode: conn.Dependancecode,
				Schoolkey: conn.Schoolkey, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam,
				Autorisatiesleutel: conn.Autorisatiesleutel, Xsdversie: conn.Xsdversie, Schooljaar: jaar}
			var progress func(conformance.Result)
			if !f.asJSON {
				// Fixed columns, printed as each case finishes (slow endpoints show progress).
				const row = "%-6s %-54s %-36s %s\n"
				fmt.Fprintf(c.stdout, row, "RESULT", "CASE", "EXPECTED", "GOT")
				progress = func(r conformance.Result) {
					mark := "PASS"
					if !r.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(c.stdout, row, mark, r.Name, r.Expected, r.Got)
				}
			}
			rep, err := conformance.Run(cmd.Context(), hc, t, conformance.Options{QuoteSOAPAction: conn.QuoteSOAPAction, Header: conn.Header}, progress)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
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
		},
	}
	f.register(cmd)
	return cmd
}
