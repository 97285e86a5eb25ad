package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
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

// scheduleConfig copies the schedule keys into the scheduler's Config.
func (a *app) scheduleConfig() schedule.Config {
	c := a.cfg.Schedule
	sc := schedule.DefaultConfig()
	sc.WindowStart, sc.WindowEnd = c.WindowStart, c.WindowEnd
	sc.SummerPauseFrom, sc.SummerPauseTo = c.SummerPauseFrom, c.SummerPauseTo
	sc.VendorCaps = c.VendorCaps()
	sc.DefaultCap = c.DefaultCap
	sc.BackoffBase, sc.BackoffMax, sc.MaxAttemptsPerNight, sc.SyncTimeout = c.BackoffBase, c.BackoffMax, c.MaxAttemptsPerNight, c.SyncTimeout
	return sc
}

// clock is the scheduler's clock: real time plus schedule.clock_offset.
func (a *app) clock() func() time.Time {
	off := a.cfg.Schedule.ClockOffset
	return func() time.Time { return time.Now().Add(off) }
}

// gatewayService builds the composition over a store and keyring.
func (a *app) gatewayService(st gateway.Store, kr *vault.Keyring, log *slog.Logger, planner service.Planner, observe func(gateway.School, gateway.SyncRun, time.Duration)) *service.Gateway {
	l, d := a.cfg.LAS, a.cfg.Delivery
	return service.New(service.Options{Store: st, Keys: kr, Log: log, Planner: planner, ObserveSync: observe, Now: a.clock(),
		LAS: service.LAS{Timeout: l.Timeout, ConnectTimeout: l.ConnectTimeout, MaxResponseBytes: l.MaxResponseBytes, AcceptGzip: l.AcceptGzip,
			UserAgent: l.UserAgent, SOAPActionQuoted: l.SOAPActionQuoted},
		Delivery: service.Delivery{BatchSize: d.BatchSize, Concurrency: d.Concurrency, Lease: d.Lease, MaxAttempts: d.MaxAttempts,
			RetryBase: d.RetryBase, RetryMax: d.RetryMax},
		LockTTL: a.cfg.Schedule.LockTTL, SyncTimeout: a.cfg.Schedule.SyncTimeout})
}

// sessionKeySecret names the web session key among the gateway secrets:
// 32 random bytes, sealed, shared by every instance.
const sessionKeySecret = "session_key"

func sessionKey(ctx context.Context, st gateway.Store, kr *vault.Keyring) ([]byte, error) {
	place := vault.GatewaySecret("session_key")
	sealed, err := st.GatewaySecret(ctx, sessionKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		s, err := kr.Sealer().Seal(place, k)
		if err != nil {
			return nil, err
		}
		if sealed, err = st.PutGatewaySecret(ctx, sessionKeySecret, s, true); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return kr.SecretOpener().Open(place, sealed)
}

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: admin API and web page, nightly syncs, result delivery and retention",
		Long: "One process that serves the admin REST API (/api/v1), the school-admin web page, /metrics,\n" +
			"/healthz and /readyz; syncs schools nightly within schedule.window_*; delivers queued results;\n" +
			"and runs the retention once per night. Several serve processes may share one Redis store.\n" +
			"SIGTERM or Ctrl-C shuts down gracefully: no sync is half-applied, no result is lost.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context())
		}}
	return cmd
}

func (a *app) serve(ctx context.Context) error {
	log := newLogger(a.cfg.Log, a.stderr)
	kr, err := a.loadKeys()
	if err != nil {
		return err
	}
	sched := a.scheduleConfig()
	if a.cfg.Schedule.Enabled {
		if err := sched.Validate(); err != nil {
			return usageErr("schedule: %w", err)
		}
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	now := a.clock()

	var metrics *httpapi.Metrics
	var gw *service.Gateway
	metrics = httpapi.NewMetrics(httpapi.Gauges{
		Outbox: func(ctx context.Context) (map[gateway.BatchState]int, error) { return outboxDepth(ctx, st) },
		Expiry: func(ctx context.Context) map[string]time.Time { return expiries(ctx, st, gw) },
		VaultTerm: func() (time.Time, uint64) {
			c, _ := kr.Created(kr.ActiveTerm())
			return c, kr.Seals(kr.ActiveTerm())
		},
	})
	var planner service.Planner
	if a.cfg.Schedule.Enabled {
		planner = sched
	}
	gw = a.gatewayService(st, kr, log, planner, func(s gateway.School, run gateway.SyncRun, d time.Duration) {
		metrics.ObserveSync(s.Vendor, run.Status, d, run.Pupils)
	})
	key, err := sessionKey(ctx, st, kr)
	if err != nil {
		return fmt.Errorf("session key: %w", err)
	}
	srv := httpapi.New(httpapi.Options{Store: st, Services: gw, Audit: gw.Audit(), Log: log, Metrics: metrics, SessionKey: key,
		SecureCookies: a.cfg.Server.SecureCookies,
		Ready: func(ctx context.Context) error {
			_, err := st.Schools(ctx)
			return err
		}})
	ln, err := net.Listen("tcp", a.cfg.Server.Addr)
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("listen on %s: %w", a.cfg.Server.Addr, err)}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	w, err := gw.Worker(ctx)
	if err != nil {
		return err
	}
	w.Log = log
	w.Settled = func(o delivery.Outcome) {
		if o.Err == nil {
			metrics.ObserveDelivery(o.State, faultClass(o), o.Results)
		}
	}

	// Background work runs on its own context: on SIGTERM the HTTP server
	// drains first, then syncs and deliveries are told to stop and get
	// server.shutdown_timeout to finish what they hold.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(work) }()
	if a.cfg.Schedule.Enabled {
		runner := &schedule.Runner{Config: sched, Now: now, Log: log, Tick: a.cfg.Schedule.Tick,
			List: func(ctx context.Context) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
				return listSchedule(ctx, st)
			},
			Sync: func(ctx context.Context, s gateway.School) error {
				_, _, err := gw.SyncSchool(ctx, s, true)
				if errors.Is(err, gateway.ErrConflict) {
					log.Debug("school skipped: another instance holds its sync lock", "school", s.ID, "error", err)
					return nil
				}
				return err
			}}
		wg.Add(2)
		go func() { defer wg.Done(); _ = runner.Run(work) }()
		go func() { defer wg.Done(); a.nightlyRetention(work, st, gw, now, log) }()
	}
	fmt.Fprintf(a.stderr, "uwlr-gateway serving on http://%s (web page /, API /api/v1, metrics /metrics)\n", ln.Addr())
	log.Info("serving", "addr", ln.Addr().String(), "store", or(a.sf.driver, a.cfg.Store.Driver), "schedule", a.cfg.Schedule.Enabled)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			stopWork()
			wg.Wait()
			return &exitError{code: exitFailure, err: fmt.Errorf("http server: %w", err)}
		}
	}
	log.Info("shutting down", "timeout", a.cfg.Server.ShutdownTimeout.String())
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "error", err)
	}
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		log.Warn("background work did not end in time; leases and locks lapse on their own")
	}
	if err := gw.Close(sctx); err != nil {
		log.Warn("background syncs", "error", err)
	}
	log.Info("stopped")
	return nil
}

// faultClass is the closed label set of delivery outcomes: none,
// credential, request, version, temporary, consent.
func faultClass(o delivery.Outcome) string {
	switch o.ErrorClass {
	case "credential", "request", "version", "temporary", "consent":
		return o.ErrorClass
	case "":
		return "none"
	}
	return "other"
}

// listSchedule lists the schools and their schedule states.
func listSchedule(ctx context.Context, st gateway.Store) ([]gateway.School, map[gateway.SchoolID]gateway.ScheduleState, error) {
	schools, err := st.Schools(ctx)
	if err != nil {
		return nil, nil, err
	}
	states := make(map[gateway.SchoolID]gateway.ScheduleState, len(schools))
	for _, s := range schools {
		ss, err := st.ScheduleState(ctx, s.ID)
		if err != nil && !errors.Is(err, gateway.ErrNotFound) {
			return nil, nil, err
		}
		states[s.ID] = ss
	}
	return schools, states, nil
}

// outboxDepth counts result batches by state over every school.
func outboxDepth(ctx context.Context, st gateway.Store) (map[gateway.BatchState]int, error) {
	schools, err := st.Schools(ctx)
	if err != nil {
		return nil, err
	}
	out := map[gateway.BatchState]int{}
	for _, s := range schools {
		d, err := st.OutboxDepth(ctx, s.ID)
		if err != nil && !errors.Is(err, gateway.ErrNotFound) {
			return nil, err
		}
		for k, v := range d {
			out[k] += v
		}
	}
	return out, nil
}

// expiries: the evidence certificate and the earliest client certificate.
func expiries(ctx context.Context, st gateway.Store, gw *service.Gateway) map[string]time.Time {
	out := map[string]time.Time{}
	if certs, err := service.EvidenceCerts(ctx, st); err == nil && len(certs) > 0 {
		out["evidence_certificate"] = certs[0].NotAfter
	}
	if t, ok := earliestClientCert(ctx, st); ok {
		out["client_certificate"] = t
	}
	return out
}

// nightlyRetention runs the retention once per night at
// schedule.retention_at, over all instances: the first to claim the night
// (an if-absent gateway secret named after the date) runs it.
func (a *app) nightlyRetention(ctx context.Context, st gateway.Store, gw *service.Gateway, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := now().In(amsterdamTZ)
		if !retentionTime(n, a.cfg.Schedule.RetentionAt) {
			continue
		}
		marker := "retention/" + n.Format(time.DateOnly)
		me := fmt.Sprintf("%s@%d", gatewayInstance(), n.UnixNano())
		got, err := st.PutGatewaySecret(ctx, marker, []byte(me), true)
		if err != nil || string(got) != me {
			continue // another instance (or an earlier tick) has this night
		}
		rc, err := retention.Run(ctx, st, retention.Options{Now: now(), Actor: "serve", Audit: gw.Audit()})
		if err != nil {
			log.Error("nightly retention", "error", err)
			continue
		}
		log.Info("nightly retention", "pupils", rc.Pupils, "results", rc.Results, "trial_results", rc.TrialResults,
			"evidence", rc.Evidence, "logins", rc.Logins)
	}
}

// retentionTime: within two hours after retention_at, and never in school
// hours (08:00-16:00) on a school day.
func retentionTime(n time.Time, at string) bool {
	start, err := time.ParseInLocation("2006-01-02 15:04", n.Format(time.DateOnly)+" "+at, n.Location())
	if err != nil || n.Before(start) || !n.Before(start.Add(2*time.Hour)) {
		return false
	}
	if wd := n.Weekday(); wd != time.Saturday && wd != time.Sunday && n.Hour() >= 8 && n.Hour() < 16 {
		return false
	}
	return true
}

func gatewayInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// earliestClientCert is the soonest NotAfter of the schools' mTLS certificates.
func earliestClientCert(ctx context.Context, st gateway.Store) (time.Time, bool) {
	schools, err := st.Schools(ctx)
	if err != nil {
		return time.Time{}, false
	}
	var min time.Time
	for _, s := range schools {
		if s.ClientCertFile == "" {
			continue
		}
		b, err := os.ReadFile(s.ClientCertFile)
		if err != nil {
			continue
		}
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && (min.IsZero() || c.NotAfter.Before(min)) {
				min = c.NotAfter
			}
		}
	}
	return min, !min.IsZero()
}
