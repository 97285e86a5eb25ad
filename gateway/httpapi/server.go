package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// ConsentApplied is what a consent change did.
type ConsentApplied struct {
	Change        gateway.ConsentChange
	Changed       bool
	Held          int
	Released      int
	StillInFlight int
}

// auditor appends audit entries (gateway/audit.Log).
type auditor interface {
	Append(ctx context.Context, chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) (gateway.AuditEntry, error)
}

// Services are the acts the API and the web page trigger; cmd/uwlr-gateway
// wires them to gateway/pull, gateway/delivery, gateway/intake and friends.
// Every method gets a ctx that carries the caller's scope.
type Services interface {
	// TestConnection asks the school's LAS for its structure (no pupil
	// data) and records the outcome as the school's connection check.
	TestConnection(ctx context.Context, s gateway.School) (gateway.ConnectionCheck, error)
	// SyncNow starts a sync of the school in the background (its outcome
	// appears in the sync history); ErrConflict while one runs;
	// ErrConsentRequired without las_exchange.
	SyncNow(ctx context.Context, s gateway.School, by string) error
	// HeldSync describes the held sync of a school, or ErrNotFound.
	HeldSync(ctx context.Context, s gateway.School) (HeldSync, error)
	// Approve applies the held sync.
	Approve(ctx context.Context, s gateway.School, by string) (gateway.SyncRun, error)
	// SubmitResults validates a results file and queues it. Problems (one
	// per bad record) mean nothing was stored.
	SubmitResults(ctx context.Context, s gateway.School, body []byte, by string) (Submitted, []FieldProblem, error)
	// Receipts returns every result's receipt.
	Receipts(ctx context.Context, s gateway.School) ([]Receipt, error)
	// VerifyAudit checks every audit chain.
	VerifyAudit(ctx context.Context) (AuditReport, error)
	// NextRun is when the scheduler will next sync the school (zero: none planned).
	NextRun(ctx context.Context, s gateway.School) time.Time
	// SetConsent changes consent (holding or releasing queued results).
	SetConsent(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (ConsentApplied, error)
}

// Options configure a Server.
type Options struct {
	Store    gateway.Store // wrapped in gateway.ScopedStore by New
	Services Services
	Audit    auditor
	Log      *slog.Logger
	Now      func() time.Time
	Metrics  *Metrics
	// SessionKey signs web sessions and CSRF tokens (32 random bytes,
	// shared by every instance).
	SessionKey []byte
	// Ready reports whether the server should take traffic (/readyz).
	Ready func(ctx context.Context) error
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
}

// Server is the admin HTTP server: the REST API under /api/v1, the
// school-admin web page, /metrics, /healthz and /readyz.
type Server struct {
	store      gateway.Store
	services   Services
	audit      auditor
	logger     *slog.Logger
	now        func() time.Time
	metrics    *Metrics
	sessionKey []byte
	ready      func(ctx context.Context) error
	secure     bool
	draining   atomic.Bool
	mux        *http.ServeMux
}

// New returns a server; call Handler for its http.Handler.
func New(o Options) *Server {
	s := &Server{store: gateway.ScopedStore(o.Store), services: o.Services, audit: o.Audit, logger: o.Log, now: o.Now,
		metrics: o.Metrics, sessionKey: o.SessionKey, ready: o.Ready, secure: o.SecureCookies, mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(s.sessionKey) == 0 {
		s.sessionKey = make([]byte, 32)
		_, _ = rand.Read(s.sessionKey)
	}
	s.routes()
	return s
}

// Drain makes /readyz fail, so a load balancer stops sending new requests
// before a graceful shutdown.
func (s *Server) Drain() { s.draining.Store(true) }

// Handler is the server's handler with request ids, logging and recovery.
func (s *Server) Handler() http.Handler { return s.observe(s.mux) }

func (s *Server) routes() {
	api := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.requireToken(h)) }
	api("GET /api/v1/schools", s.listSchools)
	api("GET /api/v1/schools/{school}", s.getSchool)
	api("POST /api/v1/schools/{school}/connection-test", s.write(s.testConnection))
	api("GET /api/v1/schools/{school}/consent", s.getConsent)
	api("PUT /api/v1/schools/{school}/consent/{processing}", s.write(s.putConsent))
	api("POST /api/v1/schools/{school}/syncs", s.write(s.syncNow))
	api("GET /api/v1/schools/{school}/syncs", s.listSyncs)
	api("GET /api/v1/schools/{school}/held-sync", s.getHeldSync)
	api("POST /api/v1/schools/{school}/held-sync/approve", s.write(s.approveHeldSync))
	api("POST /api/v1/schools/{school}/results", s.write(s.submitResults))
	api("GET /api/v1/schools/{school}/results", s.listResults)
	api("GET /api/v1/schools/{school}/audit", s.listAudit)
	api("POST /api/v1/audit/verify", s.operatorOnly(s.verifyAudit))
	s.mux.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		s.mux.Handle("GET /metrics", s.metrics.Handler())
	}
	s.webRoutes()
}

// write refuses viewers: they may read only. A school outside the
// viewer's scope still answers 404 first, as it does on every other route.
func (s *Server) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, _ := principalOf(r.Context()); !p.canWrite() {
			if r.PathValue("school") != "" {
				if _, ok := s.school(w, r); !ok {
					return
				}
			}
			writeProblem(w, r, Problem{Type: typeForbid, Title: "Forbidden", Status: http.StatusForbidden,
				Detail: "a viewer token may only read"})
			return
		}
		h(w, r)
	}
}

// operatorOnly refuses every role but operator.
func (s *Server) operatorOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, _ := principalOf(r.Context()); p.token.Role != gateway.RoleOperator {
			writeProblem(w, r, Problem{Type: typeForbid, Title: "Forbidden", Status: http.StatusForbidden,
				Detail: "only an operator token may do this"})
			return
		}
		h(w, r)
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			// The cause is logged; an unauthenticated caller learns no more.
			s.log(r).Warn("not ready", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "the store does not answer"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Request ids and access logging.

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyToken
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func setToken(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyToken, id)
}

// log returns the logger with the request's id (and token id once known).
func (s *Server) log(r *http.Request) *slog.Logger {
	l := s.logger.With("request_id", requestID(r.Context()))
	if t, ok := r.Context().Value(keyToken).(string); ok {
		l = l.With("token", t)
	}
	return l
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// observe gives every request an id (an incoming X-Request-Id is kept when
// it looks like one), logs it once (method, route pattern, status, time;
// never a query string or body), counts it, and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				s.log(r).Error("panic in handler", "panic", "recovered") // the value may hold anything: not logged
				if sw.status == 0 {
					writeProblem(sw, r, Problem{Type: typeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
						Detail: "request id " + id})
				}
			}
			_, pattern := s.mux.Handler(r)
			if pattern == "" {
				pattern = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			dur := time.Since(start)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			s.log(r).Log(r.Context(), level, "http request", "method", r.Method, "route", pattern, "status", status,
				"bytes", sw.bytes, "duration_ms", dur.Milliseconds())
			if s.metrics != nil {
				s.metrics.requests.WithLabelValues(pattern, statusClass(status)).Observe(dur.Seconds())
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func statusClass(code int) string {
	switch {
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	}
	return "2xx"
}
