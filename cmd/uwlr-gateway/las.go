package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// lasFlags are the connection flags shared by las check/fetch and conformance.
type lasFlags struct {
	t             app.Target
	keyFile, jaar string
	asJSON        bool
	// school and by name the enrolled school a run is for, and who runs it.
	school, by string
}

// registerSchool adds --school and --by: what the run is recorded as.
func (f *lasFlags) registerSchool(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.school, "school", "", what)
	cmd.Flags().StringVar(&f.by, "by", "", "who runs it, for the school's audit chain (default: cli)")
}

// run is the LAS run of the flags' school.
func (f *lasFlags) run() app.LASRun { return app.LASRun{School: gateway.SchoolID(f.school), By: f.by} }

// forSchool runs body with the application layer opened when --school
// names a school (the run is an act on that school's data), and without
// one otherwise (a is nil), after noting on stderr that the run is not
// recorded anywhere. So a run without --school needs no store, and works
// while serve holds the embedded one.
func (c *edge) forSchool(cmd *cobra.Command, f *lasFlags, body func(ctx context.Context, a *app.App) error) error {
	if f.school == "" {
		fmt.Fprintln(c.stderr, "note: not recorded on any school's audit chain: no enrolled school was named (--school ID)")
		return classify(body(cmd.Context(), nil))
	}
	return c.act(body)(cmd, nil)
}

func (f *lasFlags) register(cmd *cobra.Command) {
	fl, t := cmd.Flags(), &f.t
	fl.StringVar(&t.Endpoint, "endpoint", "", "LAS SOAP endpoint URL (required)")
	fl.StringVar(&t.Brin, "brin", "", "BRIN code of the school, e.g. 12AB")
	fl.StringVar(&t.Dependancecode, "dependancecode", "", "dependancecode (2 digits; empty means 00)")
	fl.StringVar(&t.Schoolkey, "schoolkey", "", "schoolkey, instead of --brin")
	fl.StringVar(&t.Klantcode, "klantcode", "", "klantcode issued by the LAS vendor (default: las.klantcode)")
	fl.StringVar(&t.Klantnaam, "klantnaam", "", "klantnaam issued by the LAS vendor (default: las.klantnaam)")
	fl.StringVar(&f.keyFile, "key-file", "", "file holding the autorisatiesleutel ('-' reads stdin); never pass the key itself")
	fl.StringVar(&t.Xsdversie, "xsdversie", "", "UWLR version to send: 2.2 or 2.3 (default: las.xsdversie)")
	fl.StringVar(&t.Gegevenssetid, "gegevenssetid", "", "gegevenssetid to ask for, e.g. Smalle-set-VO (default: none)")
	fl.StringVar(&f.jaar, "schooljaar", "", "schooljaar to ask for (default: the current one, switching on 1 August)")
	fl.StringArrayVar(&t.Headers, "header", nil, "extra HTTP header 'Name: value' (repeatable), e.g. an IddinkHub-Subscription-Key")
	fl.StringVar(&t.ClientCertFile, "client-cert", "", "PEM client certificate for mTLS (e.g. ESIS)")
	fl.StringVar(&t.ClientKeyFile, "client-key", "", "PEM key for --client-cert")
	fl.StringVar(&t.CAFile, "ca-file", "", "PEM CA bundle to trust in addition to the system roots")
	fl.BoolVar(&t.QuoteSOAPAction, "quote-soapaction", false, "send the SOAPAction header quoted (default: las.soapaction_quoted)")
	fl.DurationVar(&t.Timeout, "timeout", 0, "timeout for the whole call (default: las.timeout)")
	fl.BoolVar(&f.asJSON, "json", false, "print machine-readable JSON")
}

// target reads the key file and checks the schooljaar: what every LAS
// tool needs before it calls.
func (c *edge) target(f *lasFlags) (app.Target, string, error) {
	t := f.t
	var err error
	if t.Key, err = c.readKey(f.keyFile); err != nil {
		return t, "", err
	}
	jaar := f.jaar
	if jaar == "" {
		jaar = gateway.SchoolYearAt(time.Now())
	} else if !soap.ValidSchooljaar(jaar) {
		return t, "", usageErr("--schooljaar %q: want e.g. 2025-2026", jaar)
	}
	return t, jaar, nil
}

// las is the LAS settings of the configuration.
func (c *edge) las() app.LAS { return c.options(nil, nil).LAS }

func (c *edge) lasCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "las", Short: "Talk to one LAS: test a connection, save or parse responses"}
	cmd.AddCommand(c.lasCheckCommand(), c.lasFetchCommand(), c.lasParseCommand())
	return cmd
}

// printFault prints a classified failure. The LAS's text in it (code,
// message) was scrubbed when it was read; it is made one line again here,
// so that no text kept from before can move the cursor or fake a line.
func (c *edge) printFault(fj *gateway.Fault) {
	what := soap.OneLine(fj.Code)
	if what == "" && fj.HTTPStatus != 0 {
		what = fmt.Sprintf("HTTP %d", fj.HTTPStatus)
	}
	fmt.Fprintf(c.stdout, "FAILED: %s (%s)\n", or(what, "failure"), safe(fj.Class))
	if fj.Message != "" {
		fmt.Fprintf(c.stdout, "  message: %s\n", soap.OneLine(fj.Message))
	}
	fmt.Fprintf(c.stdout, "  fix:     %s\n", safe(fj.Hint))
}

func (c *edge) printCounts(a app.Answer) {
	fmt.Fprintf(c.stdout, "  pupils %d, groups %d, composite groups %d, teachers %d, vestigingen %d\n",
		a.Pupils, a.Groups, a.CompositeGroups, a.Teachers, a.Vestigingen)
	c.printWarnings(a)
}

func (c *edge) printWarnings(a app.Answer) {
	if len(a.Warnings) == 0 {
		return
	}
	fmt.Fprintf(c.stdout, "  %d warnings:\n", len(a.Warnings)+a.DroppedWarnings)
	for _, s := range a.Warnings {
		fmt.Fprintf(c.stdout, "    - %s\n", soap.OneLine(s)) // they name records by LAS key
	}
	if a.DroppedWarnings > 0 {
		fmt.Fprintf(c.stdout, "    … and %d more\n", a.DroppedWarnings)
	}
}

func (c *edge) lasCheckCommand() *cobra.Command {
	f := &lasFlags{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Test a connection to one LAS school: TLS, credentials, version; prints counts or the classified fault",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, jaar, err := c.target(f)
			if err != nil {
				return err
			}
			return c.forSchool(cmd, f, func(ctx context.Context, a *app.App) error {
				check := c.las().CheckLAS
				if a != nil {
					check = func(ctx context.Context, t app.Target, jaar string, progress func(int)) (app.Answer, soap.Connection, error) {
						return a.CheckLASForSchool(ctx, f.run(), t, jaar, progress)
					}
				}
				return c.runCheck(ctx, f, t, jaar, check)
			})
		},
	}
	f.register(cmd)
	f.registerSchool(cmd, "the enrolled school this is (it must have granted las_exchange); the run is recorded on its audit chain")
	return cmd
}

// runCheck runs one check and prints it.
func (c *edge) runCheck(ctx context.Context, f *lasFlags, t app.Target, jaar string,
	check func(context.Context, app.Target, string, func(int)) (app.Answer, soap.Connection, error)) error {
	var progress func(int)
	if !f.asJSON && isTerminal(c.stderr) {
		progress = func(n int) {
			if n%1000 == 0 {
				fmt.Fprintf(c.stderr, "\rreading pupils: %d", n)
			}
		}
		defer fmt.Fprintln(c.stderr)
	}
	start := time.Now()
	ans, conn, err := check(ctx, t, jaar, progress)
	if err != nil {
		return err
	}
	out := struct {
		OK         bool   `json:"ok"`
		Endpoint   string `json:"endpoint"`
		Operation  string `json:"operation"`
		Schooljaar string `json:"schooljaar"`
		Xsdversie  string `json:"xsdversie"`
		Outcome    string `json:"outcome,omitempty"`
		app.Counts
		DroppedWarnings int            `json:"dropped_warnings,omitempty"`
		ElapsedMS       int64          `json:"elapsed_ms"`
		Fault           *gateway.Fault `json:"fault,omitempty"`
	}{ans.OK, conn.Endpoint, uwlr.OpHaalLeerlinggegevens.Name, jaar, conn.Xsdversie, ans.Outcome, ans.Counts, ans.DroppedWarnings,
		time.Since(start).Milliseconds(), ans.Fault}
	switch {
	case f.asJSON:
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	case ans.OK:
		fmt.Fprintf(c.stdout, "OK: %s answered %s for schooljaar %s in %d ms\n", safe(conn.Endpoint), safe(ans.Outcome), safe(jaar), out.ElapsedMS)
		c.printCounts(ans)
	default:
		c.printFault(ans.Fault)
	}
	if !ans.OK {
		return errReported
	}
	return nil
}

func (c *edge) lasParseCommand() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "parse",
		Short: "Parse a saved LAS response offline and report what it holds and every warning",
		Args:  cobra.NoArgs,
		RunE: plain(func(context.Context) error {
			if file == "" {
				return usageErr("--file is required")
			}
			fh, err := os.Open(file)
			if err != nil {
				return usageErr("%w", err)
			}
			defer fh.Close()
			return c.printParsed(file, app.ParseAnswer(bufio.NewReaderSize(fh, 1<<20)), asJSON)
		}),
	}
	cmd.Flags().StringVar(&file, "file", "", "saved response (SOAP envelope or bare answer element)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print machine-readable JSON")
	return cmd
}

func (c *edge) printParsed(file string, a app.Answer, asJSON bool) error {
	s := a.School
	res := struct {
		OK             bool   `json:"ok"`
		File           string `json:"file"`
		Outcome        string `json:"outcome,omitempty"`
		Schooljaar     string `json:"schooljaar,omitempty"`
		Brincode       string `json:"brincode,omitempty"`
		Dependancecode string `json:"dependancecode,omitempty"`
		Schoolkey      string `json:"schoolkey,omitempty"`
		Xsdversie      string `json:"xsdversie,omitempty"`
		app.Counts
		DroppedWarnings int            `json:"dropped_warnings,omitempty"`
		RedactedEckIDs  int            `json:"redacted_eckids,omitempty"`
		Fault           *gateway.Fault `json:"fault,omitempty"`
		Error           string         `json:"error,omitempty"`
	}{a.OK, file, a.Outcome, s.Schooljaar, s.Brincode, s.Dependancecode, s.Schoolkey, s.Xsdversie, a.Counts, a.DroppedWarnings,
		a.RedactedEckIDs, a.Fault, a.Error}
	switch {
	case asJSON:
		if err := writeJSON(c.stdout, res); err != nil {
			return err
		}
	case a.OK:
		fmt.Fprintf(c.stdout, "%s: %s\n", safe(file), safe(a.Outcome))
		if a.Outcome == string(soap.OutcomeData) {
			id := soap.OneLine(s.Brincode + " " + s.Dependancecode)
			if s.Schoolkey != "" {
				id = "schoolkey " + soap.OneLine(s.Schoolkey)
			}
			fmt.Fprintf(c.stdout, "  school %s, schooljaar %s, xsdversie %s\n", id, soap.OneLine(s.Schooljaar), soap.OneLine(s.Xsdversie))
			if a.RedactedEckIDs > 0 {
				fmt.Fprintf(c.stdout, "  a redacted capture: %d ECK iDs are markers\n", a.RedactedEckIDs)
			}
			c.printCounts(a)
		} else {
			c.printWarnings(a)
		}
	case a.Fault != nil:
		fmt.Fprintf(c.stdout, "%s holds a SOAP fault\n", safe(file))
		c.printFault(a.Fault)
	default:
		fmt.Fprintf(c.stdout, "%s: not a readable UWLR leerlinggegevens answer: %s\n", safe(file), soap.OneLine(a.Error))
	}
	if !a.OK {
		return errReported
	}
	return nil
}
