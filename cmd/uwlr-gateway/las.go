package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// lasFlags are the connection flags shared by las check/fetch and conformance.
type lasFlags struct {
	endpoint, brin, dep, schoolkey string
	klantcode, klantnaam, keyFile  string
	xsdversie, gegevenssetid, jaar string
	headers                        []string
	clientCert, clientKey, caFile  string
	quote                          bool
	timeout                        time.Duration
	asJSON                         bool
}

func (f *lasFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "LAS SOAP endpoint URL (required)")
	fl.StringVar(&f.brin, "brin", "", "BRIN code of the school, e.g. 12AB")
	fl.StringVar(&f.dep, "dependancecode", "", "dependancecode (2 digits; empty means 00)")
	fl.StringVar(&f.schoolkey, "schoolkey", "", "schoolkey, instead of --brin")
	fl.StringVar(&f.klantcode, "klantcode", "", "klantcode issued by the LAS vendor (default: las.klantcode)")
	fl.StringVar(&f.klantnaam, "klantnaam", "", "klantnaam issued by the LAS vendor (default: las.klantnaam)")
	fl.StringVar(&f.keyFile, "key-file", "", "file holding the autorisatiesleutel ('-' reads stdin); never pass the key itself")
	fl.StringVar(&f.xsdversie, "xsdversie", "", "UWLR version to send: 2.2 or 2.3 (default: las.xsdversie)")
	fl.StringVar(&f.gegevenssetid, "gegevenssetid", "", "gegevenssetid to ask for, e.g. Smalle-set-VO (default: none)")
	fl.StringVar(&f.jaar, "schooljaar", "", "schooljaar to ask for (default: the current one, switching on 1 August)")
	fl.StringArrayVar(&f.headers, "header", nil, "extra HTTP header 'Name: value' (repeatable), e.g. an IddinkHub-Subscription-Key")
	fl.StringVar(&f.clientCert, "client-cert", "", "PEM client certificate for mTLS (e.g. ESIS)")
	fl.StringVar(&f.clientKey, "client-key", "", "PEM key for --client-cert")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle to trust in addition to the system roots")
	fl.BoolVar(&f.quote, "quote-soapaction", false, "send the SOAPAction header quoted (default: las.soapaction_quoted)")
	fl.DurationVar(&f.timeout, "timeout", 0, "timeout for the whole call (default: las.timeout)")
	fl.BoolVar(&f.asJSON, "json", false, "print machine-readable JSON")
}

func (a *app) readKey(path string) (string, error) {
	if path == "" {
		return "", usageErr("--key-file is required (the autorisatiesleutel is never passed on the command line)")
	}
	var r io.Reader
	if path == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", usageErr("key file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", usageErr("key file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", usageErr("key file %s is empty", path)
	}
	return key, nil
}

func (a *app) connection(f *lasFlags) (soap.Connection, *http.Client, error) {
	key, err := a.readKey(f.keyFile)
	if err != nil {
		return soap.Connection{}, nil, err
	}
	c := a.cfg.LAS
	conn := soap.Connection{
		Endpoint: f.endpoint, Autorisatiesleutel: key,
		Klantcode: or(f.klantcode, c.Klantcode), Klantnaam: or(f.klantnaam, c.Klantnaam),
		Brincode: f.brin, Dependancecode: f.dep, Schoolkey: f.schoolkey,
		Xsdversie: or(f.xsdversie, c.XSDVersie), Gegevenssetid: f.gegevenssetid,
		QuoteSOAPAction: f.quote || c.SOAPActionQuoted, MaxResponseBytes: c.MaxResponseBytes,
		DisableGzip: !c.AcceptGzip, UserAgent: c.UserAgent, Header: http.Header{},
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return conn, nil, usageErr("--header %q: want 'Name: value'", h)
		}
		conn.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if err := conn.Validate(); err != nil {
		return conn, nil, usageErr("%w", err)
	}
	timeout := f.timeout
	if timeout == 0 {
		timeout = c.Timeout
	}
	hc, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: f.clientCert, ClientKeyFile: f.clientKey,
		CAFile: f.caFile, Timeout: timeout, ConnectTimeout: c.ConnectTimeout})
	if err != nil {
		return conn, nil, usageErr("%w", err)
	}
	return conn, hc, nil
}

func (f *lasFlags) schooljaar() (string, error) {
	if f.jaar == "" {
		return gateway.SchoolYearAt(time.Now()), nil
	}
	if !soap.ValidSchooljaar(f.jaar) {
		return "", usageErr("--schooljaar %q: want e.g. 2025-2026", f.jaar)
	}
	return f.jaar, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (a *app) lasCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "las", Short: "Talk to one LAS: test a connection, save or parse responses"}
	cmd.AddCommand(a.lasCheckCommand(), a.lasFetchCommand(), a.lasParseCommand())
	return cmd
}

// faultJSON is the machine-readable form of a classified failure.
type faultJSON struct {
	Code       string `json:"code"`
	Class      string `json:"class"`
	Hint       string `json:"hint"`
	Message    string `json:"message,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
}

func toFault(err error) *faultJSON {
	var se *soap.Error
	if errors.As(err, &se) {
		return &faultJSON{Code: se.Code, Class: string(se.Class), Hint: se.Hint, Message: se.Message, HTTPStatus: se.HTTPStatus}
	}
	return &faultJSON{Class: string(soap.ClassRequest), Message: err.Error(), Hint: "See the message; this is not a classified LAS failure."}
}

func (a *app) printFault(fj *faultJSON) {
	what := fj.Code
	if what == "" && fj.HTTPStatus != 0 {
		what = fmt.Sprintf("HTTP %d", fj.HTTPStatus)
	}
	if what == "" {
		what = "failure"
	}
	fmt.Fprintf(a.stdout, "FAILED: %s (%s)\n", what, fj.Class)
	if fj.Message != "" {
		fmt.Fprintf(a.stdout, "  message: %s\n", fj.Message)
	}
	fmt.Fprintf(a.stdout, "  fix:     %s\n", fj.Hint)
}

// answerCounts is what both check and parse report about an answer.
type answerCounts struct {
	Pupils          int      `json:"pupils"`
	Groups          int      `json:"groups"`
	CompositeGroups int      `json:"composite_groups"`
	Teachers        int      `json:"teachers"`
	Vestigingen     int      `json:"vestigingen"`
	Warnings        []string `json:"warnings"`
}

// countsOf reports an answer: the reader's counts, and the record warnings
// (and how many more were dropped) of the mapping.CheckAnswer it went through.
func countsOf(s *soap.Summary, checked func() ([]string, int)) (answerCounts, int) {
	ws, dropped := checked()
	return answerCounts{Pupils: s.Leerlingen, Groups: s.Groepen, CompositeGroups: s.SamengesteldeGroepen,
		Teachers: s.Leerkrachten, Vestigingen: s.Vestigingen, Warnings: ws}, dropped
}

type checkJSON struct {
	OK         bool   `json:"ok"`
	Endpoint   string `json:"endpoint"`
	Operation  string `json:"operation"`
	Schooljaar string `json:"schooljaar"`
	Xsdversie  string `json:"xsdversie"`
	Outcome    string `json:"outcome,omitempty"`
	answerCounts
	ElapsedMS int64      `json:"elapsed_ms"`
	Fault     *faultJSON `json:"fault,omitempty"`
}

func (a *app) lasCheckCommand() *cobra.Command {
	f := &lasFlags{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Test a connection to one LAS school: TLS, credentials, version; prints counts or the classified fault",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, hc, err := a.connection(f)
			if err != nil {
				return err
			}
			jaar, err := f.schooljaar()
			if err != nil {
				return err
			}
			progress := !f.asJSON && isTerminal(a.stderr)
			h := soap.Handler{}
			n := 0
			if progress {
				h.Leerling = func(*uwlr.Leerling) error {
					if n++; n%1000 == 0 {
						fmt.Fprintf(a.stderr, "\rreading pupils: %d", n)
					}
					return nil
				}
			}
			h, checked := mapping.CheckAnswer(h)
			start := time.Now()
			sum, err := soap.NewClient(hc, conn).HaalLeerlinggegevens(cmd.Context(), soap.Request{Schooljaar: jaar}, h)
			if progress && n >= 1000 {
				fmt.Fprintln(a.stderr)
			}
			out := checkJSON{Endpoint: conn.Endpoint, Operation: uwlr.OpHaalLeerlinggegevens.Name, Schooljaar: jaar,
				Xsdversie: conn.Xsdversie, ElapsedMS: time.Since(start).Milliseconds(), answerCounts: answerCounts{Warnings: []string{}}}
			dropped := 0
			if err != nil {
				out.Fault = toFault(err)
			} else {
				out.OK = true
				out.Outcome = string(sum.Outcome)
				out.answerCounts, dropped = countsOf(sum, checked)
			}
			if f.asJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else if out.OK {
				fmt.Fprintf(a.stdout, "OK: %s answered %s for schooljaar %s in %d ms\n", conn.Endpoint, out.Outcome, jaar, out.ElapsedMS)
				fmt.Fprintf(a.stdout, "  pupils %d, groups %d, composite groups %d, teachers %d, vestigingen %d\n",
					out.Pupils, out.Groups, out.CompositeGroups, out.Teachers, out.Vestigingen)
				printWarnings(a.stdout, out.Warnings, dropped)
			} else {
				a.printFault(out.Fault)
			}
			if !out.OK {
				return errReported
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func printWarnings(w io.Writer, ws []string, dropped int) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintf(w, "  %d warnings:\n", len(ws)+dropped)
	for _, s := range ws {
		fmt.Fprintf(w, "    - %s\n", s)
	}
	if dropped > 0 {
		fmt.Fprintf(w, "    … and %d more\n", dropped)
	}
}

func (a *app) lasFetchCommand() *cobra.Command {
	f := &lasFlags{}
	var out, opName string
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Save a raw LAS response to a file (for vendor fixtures and support cases)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErr("--out is required")
			}
			op, ok := map[string]uwlr.Operation{
				"HaalLeerlinggegevens": uwlr.OpHaalLeerlinggegevens, "HaalStructuur": uwlr.OpHaalStructuur,
			}[opName]
			if !ok {
				return usageErr("--operation %q: want HaalLeerlinggegevens or HaalStructuur", opName)
			}
			conn, hc, err := a.connection(f)
			if err != nil {
				return err
			}
			jaar, err := f.schooljaar()
			if err != nil {
				return err
			}
			// Write next to the target and rename, so a failed fetch never
			// leaves a half file under the requested name.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".fetch-*")
			if err != nil {
				return usageErr("--out: %w", err)
			}
			defer os.Remove(tmp.Name())
			bw := bufio.NewWriterSize(tmp, 1<<20)
			start := time.Now()
			n, callErr := soap.NewClient(hc, conn).Fetch(cmd.Context(), op, soap.Request{Schooljaar: jaar}, nil, bw)
			if err := bw.Flush(); err == nil {
				err = tmp.Close()
			}
			var se *soap.Error
			saved := callErr == nil || errors.As(callErr, &se) && se.Code != ""
			if saved && n > 0 {
				if err := os.Rename(tmp.Name(), out); err != nil {
					return &exitError{code: exitFailure, err: fmt.Errorf("save %s: %w", out, err)}
				}
			}
			res := struct {
				OK        bool       `json:"ok"`
				File      string     `json:"file,omitempty"`
				Bytes     int64      `json:"bytes"`
				ElapsedMS int64      `json:"elapsed_ms"`
				Fault     *faultJSON `json:"fault,omitempty"`
			}{OK: callErr == nil, Bytes: n, ElapsedMS: time.Since(start).Milliseconds()}
			if saved && n > 0 {
				res.File = out
			}
			if callErr != nil {
				res.Fault = toFault(callErr)
			}
			if f.asJSON {
				if err := writeJSON(a.stdout, res); err != nil {
					return err
				}
			} else {
				if res.File != "" {
					fmt.Fprintf(a.stdout, "saved %d bytes to %s\n", n, out)
				}
				if callErr != nil {
					if res.File != "" {
						fmt.Fprintln(a.stdout, "the saved file holds the LAS's fault answer")
					}
					a.printFault(res.Fault)
				}
			}
			if callErr != nil {
				return errReported
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "file to write the raw response to (required)")
	cmd.Flags().StringVar(&opName, "operation", "HaalLeerlinggegevens", "operation: HaalLeerlinggegevens or HaalStructuur")
	return cmd
}

func (a *app) lasParseCommand() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "parse",
		Short: "Parse a saved LAS response offline and report what it holds and every warning",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageErr("--file is required")
			}
			fh, err := os.Open(file)
			if err != nil {
				return usageErr("%w", err)
			}
			defer fh.Close()
			h, checked := mapping.CheckAnswer(soap.Handler{})
			sum, err := soap.ReadLeerlinggegevens(bufio.NewReaderSize(fh, 1<<20), h)
			type parseJSON struct {
				OK             bool   `json:"ok"`
				File           string `json:"file"`
				Outcome        string `json:"outcome,omitempty"`
				Schooljaar     string `json:"schooljaar,omitempty"`
				Brincode       string `json:"brincode,omitempty"`
				Dependancecode string `json:"dependancecode,omitempty"`
				Schoolkey      string `json:"schoolkey,omitempty"`
				Xsdversie      string `json:"xsdversie,omitempty"`
				answerCounts
				DroppedWarnings int        `json:"dropped_warnings,omitempty"`
				Fault           *faultJSON `json:"fault,omitempty"`
				Error           string     `json:"error,omitempty"`
			}
			res := parseJSON{File: file, answerCounts: answerCounts{Warnings: []string{}}}
			var se *soap.Error
			switch {
			case err == nil:
				res.OK = true
				res.Outcome = string(sum.Outcome)
				res.Schooljaar, res.Brincode, res.Dependancecode = sum.School.Schooljaar, sum.School.Brincode, sum.School.Dependancecode
				res.Schoolkey, res.Xsdversie = sum.School.Schoolkey, sum.School.Xsdversie
				res.answerCounts, res.DroppedWarnings = countsOf(sum, checked)
			case errors.As(err, &se):
				res.Fault = toFault(err)
			default:
				res.Error = err.Error()
			}
			if asJSON {
				if err := writeJSON(a.stdout, res); err != nil {
					return err
				}
			} else if res.OK {
				fmt.Fprintf(a.stdout, "%s: %s\n", file, res.Outcome)
				if res.Outcome == string(soap.OutcomeData) {
					id := res.Brincode + " " + res.Dependancecode
					if res.Schoolkey != "" {
						id = "schoolkey " + res.Schoolkey
					}
					fmt.Fprintf(a.stdout, "  school %s, schooljaar %s, xsdversie %s\n", id, res.Schooljaar, res.Xsdversie)
					fmt.Fprintf(a.stdout, "  pupils %d, groups %d, composite groups %d, teachers %d, vestigingen %d\n",
						res.Pupils, res.Groups, res.CompositeGroups, res.Teachers, res.Vestigingen)
				}
				printWarnings(a.stdout, res.Warnings, res.DroppedWarnings)
			} else if res.Fault != nil {
				fmt.Fprintf(a.stdout, "%s holds a SOAP fault\n", file)
				a.printFault(res.Fault)
			} else {
				fmt.Fprintf(a.stdout, "%s: not a readable UWLR leerlinggegevens answer: %s\n", file, res.Error)
			}
			if !res.OK {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "saved response (SOAP envelope or bare answer element)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print machine-readable JSON")
	return cmd
}
