package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// Exit codes: the one table of the CLI edge.
const (
	exitOK      = 0
	exitFailure = 1 // the act ran and failed (LAS fault, failed case, unknown school, unreadable file)
	exitUsage   = 2 // bad flags, input or configuration: nothing was attempted
	exitConsent = 3 // refused: the school has not granted the processing
)

// codeOf maps an error of the application layer to its exit code.
func codeOf(err error) int {
	switch {
	case errors.Is(err, gateway.ErrConsentRequired):
		return exitConsent
	case errors.Is(err, gateway.ErrInvalid):
		return exitUsage
	}
	return exitFailure
}

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

func failed(err error) error { return &exitError{code: exitFailure, err: err} }

// errReported: the command failed and has already printed why.
var errReported = errors.New("reported")

// edge is the CLI edge: flags, files the user names, printing, exit codes.
type edge struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configFile     string
	cfg            config.Config
	sf             storeFlags
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &edge{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "uwlr-gateway",
		Short:         "Connect educational applications to Dutch school administration systems over UWLR",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFile(c.configFile)
			if err != nil {
				return usageErr("config: %w", err)
			}
			c.cfg = cfg
			return nil
		},
	}
	root.PersistentFlags().StringVar(&c.configFile, "config", os.Getenv("UWLR_CONFIG"), "configuration file (YAML); env UWLR_* overrides its keys")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	c.registerStoreFlags(root)
	root.AddCommand(c.lasCommand(), c.conformanceCommand(), c.keysCommand(), c.schoolCommand(), c.consentCommand(),
		c.syncCommand(), c.pupilsCommand(), c.resultsCommand(), c.deliverCommand(),
		c.evidenceCommand(), c.auditCommand(), c.retentionCommand(), c.reportCommand(),
		c.serveCommand(), c.tokenCommand(), c.scheduleCommand(), c.recipientCommand(), c.studyCommand(), c.exportCommand())

	err := root.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errReported):
		return exitFailure
	case errors.As(err, &ee):
		fmt.Fprintf(stderr, "uwlr-gateway: %s\n", safeLines(ee.err.Error()))
		return ee.code
	}
	// What no command returned: cobra's unknown commands and flags.
	fmt.Fprintf(stderr, "uwlr-gateway: %s\n", safeLines(err.Error()))
	return exitUsage
}

// act runs a command's body with the application layer opened once for it
// (and closed after), and turns what it returns into an exit code.
func (c *edge) act(fn func(ctx context.Context, a *app.App) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		a, err := c.open(cmd.Context())
		if err != nil {
			return classify(err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), c.cfg.Server.ShutdownTimeout)
			defer cancel()
			_ = a.Close(cctx)
		}()
		ctx := gateway.WithActor(cmd.Context(), operator(""))
		return classify(fn(ctx, a))
	}
}

// plain runs a command's body that needs no application layer.
func plain(fn func(ctx context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error { return classify(fn(cmd.Context())) }
}

// classify gives an error its exit code (the table in codeOf).
func classify(err error) error {
	var ee *exitError
	if err == nil || errors.Is(err, errReported) || errors.As(err, &ee) {
		return err
	}
	if errors.Is(err, app.ErrNoSchool) {
		return usageErr("--school is required")
	}
	if errors.Is(err, gateway.ErrNotFound) && strings.Contains(err.Error(), "is not enrolled") {
		err = fmt.Errorf("%w (see `school list`)", err)
	}
	return &exitError{code: codeOf(err), err: err}
}

// storeFlags are the global flags that choose the store and the key file.
type storeFlags struct {
	dataDir, driver, redisURL, vaultKeys string
}

func (c *edge) registerStoreFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&c.sf.dataDir, "data-dir", "", "directory of the embedded store (default: data_dir, ./data)")
	pf.StringVar(&c.sf.driver, "store", "", "store: bolt (embedded, default) or redis (default: store.driver)")
	pf.StringVar(&c.sf.redisURL, "redis-url", "", "Redis URL for --store redis (default: store.redis_url; with store.redis_sentinel_addrs only its credentials, database and TLS)")
	pf.StringVar(&c.sf.vaultKeys, "vault-keys", "", "vault key file (default: vault.keys_file, env UWLR_VAULT_KEYS_FILE)")
}

// storeConfig is the store the flags and configuration name. With
// store.redis_sentinel_addrs set, the Sentinels name the primary and
// --redis-url (or store.redis_url) gives only its credentials, database
// and TLS.
func (c *edge) storeConfig() app.StoreConfig {
	st := c.cfg.Store
	return app.StoreConfig{Driver: or(c.sf.driver, st.Driver), DataDir: or(c.sf.dataDir, c.cfg.DataDir),
		RedisURL: or(c.sf.redisURL, st.RedisURL.Reveal()), KeyPrefix: st.KeyPrefix,
		RedisSentinelAddrs: st.SentinelAddrs(), RedisSentinelMaster: st.RedisSentinelMaster,
		RedisSentinelPassword: st.RedisSentinelPassword.Reveal(), RedisMinReplicas: st.MinReplicas()}
}

func (c *edge) keysPath() string { return or(c.sf.vaultKeys, c.cfg.Vault.KeysFile) }

// loadKeys loads the keyring from the key file, or from UWLR_VAULT_KEYS;
// none at all is nil (acts that need keys then say so).
func (c *edge) loadKeys() (*vault.Keyring, error) {
	if p := c.keysPath(); p != "" {
		kr, err := vault.Load(p)
		if err != nil {
			return nil, usageErr("vault keys: %w", err)
		}
		return kr, nil
	}
	kr, err := vault.FromEnv()
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, usageErr("vault keys: %w", err)
	}
	return kr, nil
}

// clock is the gateway's one clock: real time plus schedule.clock_offset.
func (c *edge) clock() func() time.Time {
	off := c.cfg.Schedule.ClockOffset
	return func() time.Time { return time.Now().Add(off) }
}

// options copies the configuration into the application layer's options
// (the one wiring of the gateway).
func (c *edge) options(kr *vault.Keyring, log *slog.Logger) app.Options {
	l, d, s := c.cfg.LAS, c.cfg.Delivery, c.cfg.Schedule
	sched := c.scheduleConfig()
	return app.Options{Keys: kr, Log: log, Now: c.clock(), Schedule: &sched, RetentionAt: s.RetentionAt, Tick: s.Tick,
		RetentionStaleAfter: c.cfg.Retention.StaleAfter,
		LAS: app.LAS{Timeout: l.Timeout, ConnectTimeout: l.ConnectTimeout, MaxResponseBytes: l.MaxResponseBytes, AcceptGzip: l.AcceptGzip,
			UserAgent: l.UserAgent, SOAPActionQuoted: l.SOAPActionQuoted, Xsdversie: l.XSDVersie, Klantcode: l.Klantcode, Klantnaam: l.Klantnaam,
			CaptureTTL: l.CaptureTTL},
		Delivery: app.Delivery{BatchSize: d.BatchSize, Concurrency: d.Concurrency, Lease: d.Lease, MaxAttempts: d.MaxAttempts,
			RetryBase: d.RetryBase, RetryMax: d.RetryMax},
		LockTTL: s.LockTTL, SyncTimeout: s.SyncTimeout, TokenTTL: c.cfg.Auth.TokenTTL, LegalBases: legalBases(c.cfg.Legal),
		MaxResultProblems: c.cfg.Intake.MaxProblems}
}

// legalBases are the configured legal bases as the application layer takes them.
func legalBases(l config.LegalConfig) []gateway.LegalBase {
	out := make([]gateway.LegalBase, len(l.Bases))
	for i, b := range l.Bases {
		out[i] = gateway.LegalBase{Name: b.Name, Reference: b.Reference, Recipient: b.Recipient, Fields: b.Fields}
	}
	return out
}

// open opens the application layer for one command: warnings and errors
// are logged to stderr as text.
func (c *edge) open(ctx context.Context) (*app.App, error) {
	kr, err := c.loadKeys()
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return c.openWith(ctx, c.options(kr, log))
}

func (c *edge) openWith(ctx context.Context, o app.Options) (*app.App, error) {
	sc := c.storeConfig()
	if err := sc.Validate(); err != nil {
		return nil, usageErr("--store %q: want bolt or redis", sc.Driver)
	}
	a, err := app.Open(ctx, sc, o)
	if err != nil {
		return nil, failed(err)
	}
	return a, nil
}

// scheduleConfig copies the schedule keys into the scheduler's Config.
func (c *edge) scheduleConfig() schedule.Config {
	s := c.cfg.Schedule
	sc := schedule.DefaultConfig()
	sc.WindowStart, sc.WindowEnd = s.WindowStart, s.WindowEnd
	sc.SummerPauseFrom, sc.SummerPauseTo = s.SummerPauseFrom, s.SummerPauseTo
	sc.VendorCaps = s.VendorCaps()
	sc.DefaultCap = s.DefaultCap
	sc.BackoffBase, sc.BackoffMax, sc.MaxAttemptsPerNight, sc.SyncTimeout = s.BackoffBase, s.BackoffMax, s.MaxAttemptsPerNight, s.SyncTimeout
	return sc
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

// readInput reads a file the user names, or stdin for "-".
func (c *edge) readInput(file string) ([]byte, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(c.stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, failed(err)
	}
	return data, nil
}

// readKey reads a secret from a file the user names ('-': stdin), trimmed.
func (c *edge) readKey(path string) (string, error) {
	if path == "" {
		return "", usageErr("--key-file is required (the autorisatiesleutel is never passed on the command line)")
	}
	var r io.Reader = c.stdin
	if path != "-" {
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

// operator is the person at the CLI: by (--by) when given, else the
// operating-system user running the command.
func operator(by string) gateway.Actor {
	if by == "" {
		by = "user " + or(os.Getenv("USER"), "unknown")
		if u, err := user.Current(); err == nil && u.Username != "" {
			by = "user " + u.Username
		}
	}
	return gateway.Actor{Via: "cli", Name: by}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func onOff(b bool) string {
	if b {
		return "granted"
	}
	return "off"
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
