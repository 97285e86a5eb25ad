package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
)

// newLogger is the process logger: JSON or text on w, at the configured level.
func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func (c *edge) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: admin API and web page, nightly syncs, result delivery and retention",
		Long: "One process that serves the admin REST API (/api/v1), the school-admin web page, /metrics,\n" +
			"/healthz and /readyz; syncs schools nightly within schedule.window_*; delivers queued results;\n" +
			"and runs the retention once per night. Several serve processes may share one Redis store.\n" +
			"SIGTERM or Ctrl-C shuts down gracefully: no sync is half-applied, no result is lost.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return classify(c.serve(cmd.Context())) },
	}
}

// serve wires the application layer to the HTTP edge and runs both until
// ctx ends, then shuts down in order: the HTTP server drains, background
// work is told to stop and gets server.shutdown_timeout to finish.
func (c *edge) serve(ctx context.Context) error {
	log := newLogger(c.cfg.Log, c.stderr)
	kr, err := c.loadKeys()
	if err != nil {
		return err
	}
	if kr == nil {
		return app.ErrNoKeys
	}
	o := c.options(kr, log)
	o.Nightly = c.cfg.Schedule.Enabled
	if o.Nightly {
		if err := o.Schedule.Validate(); err != nil {
			return usageErr("schedule: %w", err)
		}
	}
	var a *app.App
	metrics := httpapi.NewMetrics(httpapi.Gauges{
		Outbox:    func(ctx context.Context) (map[gateway.BatchState]int, error) { return a.OutboxDepth(ctx) },
		Expiry:    func(ctx context.Context) map[string]time.Time { return a.Expiries(ctx) },
		VaultTerm: func() (time.Time, uint64) { return a.VaultTerm() },
	})
	o.Observer = metrics
	if a, err = c.openWith(ctx, o); err != nil {
		return err
	}
	srv, hs, err := c.httpServer(ctx, a, log, metrics)
	if err != nil {
		a.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", c.cfg.Server.Addr)
	if err != nil {
		a.Close(ctx)
		return failed(fmt.Errorf("listen on %s: %w", c.cfg.Server.Addr, err))
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workDone := make(chan struct{})
	go func() {
		defer close(workDone)
		var wg sync.WaitGroup
		wg.Go(func() { _ = a.Run(work) })
		// Failed logins are counted in memory per window; their aggregates
		// are written as windows close, and all of them when work ends.
		wg.Go(func() { a.RunLoginFlush(work) })
		wg.Wait()
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(srv.Listener(ln)) }()
	fmt.Fprintf(c.stderr, "uwlr-gateway serving on http://%s (web page /, API /api/v1, metrics /metrics)\n", ln.Addr())
	log.Info("serving", "addr", ln.Addr().String(), "store", c.storeConfig().Driver, "schedule", o.Nightly)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			runErr = failed(fmt.Errorf("http server: %w", err))
		}
	}
	c.shutdown(log, srv, hs, a, stopWork, workDone)
	return runErr
}

// httpServer is the admin HTTP server over the application layer.
func (c *edge) httpServer(ctx context.Context, a *app.App, log *slog.Logger, m *httpapi.Metrics) (*httpapi.Server, *http.Server, error) {
	key, err := a.SessionKey(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("session key: %w", err)
	}
	// The server's limits are httpapi's defaults (Default*: header, body
	// and upload read deadlines, idle and write timeouts, header bytes,
	// open connections) until the configuration names them.
	srv := httpapi.New(httpapi.Options{App: a, Log: log, Now: a.Now, Metrics: m, SessionKey: key, SecureCookies: c.cfg.Server.SecureCookies,
		MaxResultsBytes: c.maxResultsBytes()})
	return srv, srv.HTTPServer(slog.NewLogLogger(log.Handler(), slog.LevelWarn)), nil
}

// shutdown drains the HTTP server, then stops the background work and
// waits for it, all within server.shutdown_timeout.
func (c *edge) shutdown(log *slog.Logger, srv *httpapi.Server, hs *http.Server, a *app.App, stopWork func(), workDone <-chan struct{}) {
	log.Info("shutting down", "timeout", c.cfg.Server.ShutdownTimeout.String())
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), c.cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "error", err)
	}
	stopWork()
	select {
	case <-workDone:
	case <-sctx.Done():
		log.Warn("background work did not end in time; leases and locks lapse on their own")
	}
	if err := a.Close(sctx); err != nil {
		log.Warn("background syncs", "error", err)
	}
	log.Info("stopped")
}
