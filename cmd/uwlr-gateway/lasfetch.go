package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// fetchFlags are the flags of las fetch besides the connection flags.
type fetchFlags struct {
	out, opName, reason string
	raw                 bool
}

func (c *edge) lasFetchCommand() *cobra.Command {
	f, ff := &lasFlags{}, &fetchFlags{}
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Save a LAS response to a file: redacted (only what the gateway keeps, ECK iDs as markers), or --raw for an enrolled school",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, err := ff.check(f)
			if err != nil {
				return err
			}
			t, jaar, err := c.target(f)
			if err != nil {
				return err
			}
			if !ff.raw {
				return classify(c.fetch(cmd.Context(), f, ff, func(w io.Writer) (app.Capture, error) {
					return c.las().FetchLAS(cmd.Context(), t, op, jaar, w)
				}))
			}
			return c.act(func(ctx context.Context, a *app.App) error {
				rc := app.RawCapture{LASRun: f.run(), Reason: ff.reason, File: ff.out}
				return c.fetch(ctx, f, ff, func(w io.Writer) (app.Capture, error) { return a.FetchRaw(ctx, rc, t, op, jaar, w) })
			})(cmd, nil)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&ff.out, "out", "", "file to write the response to (required; mode 0600)")
	fl.StringVar(&ff.opName, "operation", "HaalLeerlinggegevens", "operation: HaalLeerlinggegevens or HaalStructuur")
	fl.BoolVar(&ff.raw, "raw", false, "write the response as it came, every field and ECK iD included (needs --school and --reason)")
	fl.StringVar(&ff.reason, "reason", "", "why a raw capture is needed (kept on the school's audit chain)")
	f.registerSchool(cmd, "with --raw: the enrolled school this is (it must have granted las_exchange); the capture is recorded on its audit chain")
	return cmd
}

// check checks the flags of las fetch and returns the operation.
func (ff *fetchFlags) check(f *lasFlags) (uwlr.Operation, error) {
	if ff.out == "" {
		return uwlr.Operation{}, usageErr("--out is required")
	}
	op, ok := map[string]uwlr.Operation{
		"HaalLeerlinggegevens": uwlr.OpHaalLeerlinggegevens, "HaalStructuur": uwlr.OpHaalStructuur,
	}[ff.opName]
	if !ok {
		return op, usageErr("--operation %q: want HaalLeerlinggegevens or HaalStructuur", ff.opName)
	}
	switch {
	case ff.raw && (f.school == "" || ff.reason == ""):
		return op, usageErr("--raw needs --school ID (an enrolled school that has granted las_exchange) and --reason TEXT: a raw capture holds every ECK iD and BSN the LAS sends")
	case !ff.raw && (f.school != "" || ff.reason != "" || f.by != ""):
		return op, usageErr("--school, --reason and --by go with --raw (a redacted capture is not recorded on a school's audit chain)")
	}
	return op, nil
}

// fetch runs one fetch into --out and prints it.
func (c *edge) fetch(ctx context.Context, f *lasFlags, ff *fetchFlags, fetch func(io.Writer) (app.Capture, error)) error {
	start := time.Now()
	cp, err := c.fetchTo(ff.out, fetch)
	if err != nil {
		return err
	}
	res := struct {
		OK        bool   `json:"ok"`
		File      string `json:"file,omitempty"`
		ElapsedMS int64  `json:"elapsed_ms"`
		app.Capture
		Fault *gateway.Fault `json:"fault,omitempty"`
	}{OK: cp.Err == nil, ElapsedMS: time.Since(start).Milliseconds(), Capture: cp}
	if cp.Saved {
		res.File = ff.out
	}
	if cp.Err != nil {
		res.Fault = app.FaultOf(cp.Err)
	}
	if f.asJSON {
		if err := writeJSON(c.stdout, res); err != nil {
			return err
		}
	} else {
		c.printCapture(ff.out, f.school, cp)
		if cp.Err != nil {
			c.printFault(res.Fault)
		}
	}
	if cp.Err != nil {
		return errReported
	}
	return nil
}

func (c *edge) printCapture(file, school string, cp app.Capture) {
	if !cp.Saved {
		return
	}
	fmt.Fprintf(c.stdout, "saved %d bytes to %s\n", cp.Bytes, safe(file))
	switch {
	case cp.Err != nil:
		fmt.Fprintln(c.stdout, "the saved file holds the LAS's fault answer (scrubbed of our keys and ECK iDs)")
	case cp.Raw:
		fmt.Fprintf(c.stdout, "raw capture: every field the LAS sent, ECK iDs and BSNs included; recorded on the audit chain of school %s\n", safe(school))
	default:
		fmt.Fprintf(c.stdout, "redacted capture: %d ECK iDs replaced by markers, %d fields the gateway does not keep left out; it still holds names and birth dates\n",
			cp.EckIDs, cp.Dropped)
	}
	if cp.Raw {
		fmt.Fprintf(c.stdout, "this file holds personal data: delete this file by %s (las.capture_ttl)\n",
			cp.DeleteBy.In(gateway.Amsterdam).Format("2006-01-02 15:04 MST"))
	}
}

// fetchTo fetches into a temporary file (mode 0600) beside out and renames
// it into place when the answer is worth keeping, so a failed fetch never
// leaves a half file under the requested name.
func (c *edge) fetchTo(out string, fetch func(io.Writer) (app.Capture, error)) (app.Capture, error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".fetch-*")
	if err != nil {
		return app.Capture{}, usageErr("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return app.Capture{}, failed(fmt.Errorf("save %s: %w", out, err))
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	cp, err := fetch(bw)
	if err != nil {
		return cp, err
	}
	if err := bw.Flush(); err != nil {
		return cp, failed(fmt.Errorf("save %s: %w", out, err))
	}
	if err := tmp.Close(); err != nil {
		return cp, failed(fmt.Errorf("save %s: %w", out, err))
	}
	if cp.Saved {
		if err := os.Rename(tmp.Name(), out); err != nil {
			return cp, failed(fmt.Errorf("save %s: %w", out, err))
		}
	}
	return cp, nil
}
