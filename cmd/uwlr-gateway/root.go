package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
)

// Exit codes: one table for the CLI edge.
const (
	exitOK      = 0
	exitFailure = 1 // the act ran and failed (LAS fault, failed case, unreadable file)
	exitUsage   = 2 // bad flags or configuration: nothing was attempted
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// failed reports a failure that the command already printed.
var errReported = errors.New("reported")

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configFile     string
	cfg            config.Config
	sf             storeFlags
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "uwlr-gateway",
		Short:         "Connect educational applications to Dutch school administration systems over UWLR",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFile(a.configFile)
			if err != nil {
				return usageErr("config: %w", err)
			}
			a.cfg = cfg
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.configFile, "config", os.Getenv("UWLR_CONFIG"), "configuration file (YAML); env UWLR_* overrides its keys")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	a.registerStoreFlags(root)
	root.AddCommand(a.lasCommand(), a.conformanceCommand(), a.keysCommand(), a.schoolCommand(), a.consentCommand(),
		a.syncCommand(), a.pupilsCommand(), a.resultsCommand(), a.deliverCommand(),
		a.evidenceCommand(), a.auditCommand(), a.retentionCommand(), a.reportCommand(),
		a.serveCommand(), a.tokenCommand(), a.scheduleCommand())

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errReported) {
		return exitFailure
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(stderr, "uwlr-gateway: %v\n", ee.err)
		return ee.code
	}
	fmt.Fprintf(stderr, "uwlr-gateway: %v\n", err)
	// Unknown commands and flags are cobra's usage errors.
	return exitUsage
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is an interactive terminal (for progress output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
