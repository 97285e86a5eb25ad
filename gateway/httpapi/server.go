package httpapi

import (
	"cmp"
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

// App is what the server needs of the application layer (gateway/app.App
// satisfies it). Every method gets a ctx that carries the caller's scope,
// which the application layer enforces inside every store call; a school
// outside it is ErrNotFound.
type App interface {
	// Schools lists the schools in scope; School returns one.
	Schools(ctx context.Context) ([]gateway.School, error)
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	// SchoolStatus is how a school stands (consent, last test and sync,
	// next run, held sync, outbox).
	SchoolStatus(ctx context.Context, id gateway.SchoolID) (gateway.SchoolStatus, error)
	// Consent returns the current opt-ins and their history; SetConsent
	// changes one (holding or releasing queued results).
	Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, []gateway.ConsentChange, error)
	// (Only a school-admin token for the school grants: ErrForbidden else.)
	SetConsent(ctx context.Context, id gateway.SchoolID, p gateway.Processing, grant bool, by gateway.Actor) (gateway.ConsentApplied, error)
	// SchoolContact returns the school's contact person (ErrNotFound also
	// when none is set); SetSchoolContact sets its Name, Email and Phone
	// (gateway.InvalidFields naming each bad field).
	SchoolContact(ctx context.Context, id gateway.SchoolID) (gateway.SchoolContact, error)
	SetSchoolContact(ctx context.Context, id gateway.SchoolID, c gateway.SchoolContact, by string) (gateway.SchoolContact, error)
	// TestConnection asks the school's LAS for its structure (no pupil
	// data) and records the outcome as the school's connection check.
	TestConnection(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error)
	// SyncNow starts a sync in the background (its outcome appears in the
	// sync history); ErrConflict while one runs; ErrConsentRequired
	// without las_exchange.
	SyncNow(ctx context.Context, id gateway.SchoolID, by string) error
	SyncRuns(ctx context.Context, id gateway.SchoolID, limit int) ([]gateway.SyncRun, error)
	// HeldDiff describes the held sync (ErrNotFound: none); Approve applies it.
	HeldDiff(ctx context.Context, id gateway.SchoolID) (*gateway.HeldDiff, error)
	Approve(ctx context.Context, id gateway.SchoolID, by string) (gateway.SyncRun, error)
	// resultsApp (results_upload.go) validates a results file as it
	// streams in and queues it.
	resultsApp
	Receipts(ctx context.Context, id gateway.SchoolID) ([]gateway.Receipt, error)
	// AuditEntries returns the newest entries of a chain; VerifyAudit
	// checks every chain in scope.
	AuditEntries(ctx context.Context, chain string, limit int) ([]gateway.AuditEntry, error)
	VerifyAudit(ctx context.Context) (gateway.AuditReport, error)
	// Authenticate finds the active token of a secret presented from the
	// client address remote: a refusal wraps ErrForbidden (its text is the
	// reason, for the login record, never for the caller); past the limit of
	// failed logins of the address an error with RetryAfter() (not checked
	// at all). SessionToken the active token of a session (its token hash
	// and session generation); EndSessions ends every session of a token
	// (logout); RecordLogin audits a login (a failed one per address and
	// window).
	Authenticate(ctx context.Context, secret, remote string) (gateway.Token, error)
	SessionToken(ctx context.Context, hash string, gen uint64) (gateway.Token, error)
	EndSessions(ctx context.Context, tokenID string) error
	RecordLogin(ctx context.Context, l gateway.LoginAttempt) error
	// Ready reports whether the store answers.
	Ready(ctx context.Context) error
	recipientApp
	exportApp
}

// recipientApp is what the recipients routes and the results feed need:
// the school's recipients (ErrInvalid for bad input, naming no secret;
// ErrConflict for a name already used; ErrNotFound for an unknown name)
// and a page of a dashboard's results feed (ErrConsentRequired while the
// school does not grant dashboards; ErrInvalid for a bad cursor or a name
// that is no feed recipient of the school).
type recipientApp interface {
	Recipients(ctx context.Context, id gateway.SchoolID) ([]gateway.RecipientView, error)
	RecipientInfo(ctx context.Context, id gateway.SchoolID, name string) (gateway.RecipientView, error)
	RegisterRecipient(ctx context.Context, id gateway.SchoolID, in gateway.RecipientInput, by string) (gateway.RecipientView, error)
	RemoveRecipient(ctx context.Context, id gateway.SchoolID, name, by string) error
	Feed(ctx context.Context, id gateway.SchoolID, recipient, cursor string, limit int) (gateway.FeedPage, error)
}

// exportApp is what the studies and exports routes need: the school's
// research studies (ErrInvalid for a bad study, stores nothing;
// ErrConflict for a name already used) and its exports. An export is
// written (toFiles) for a recipient of kind file and queued for a webhook
// (Queued names the outbox batch, Held while the processing is not
// granted); asked the other way it is ErrInvalid. ErrConsentRequired while
// the school does not grant the processing; ErrNotFound for an unknown
// study; ErrInvalid for a study that ended or an unknown legal basis.
type exportApp interface {
	AddStudy(ctx context.Context, id gateway.SchoolID, in gateway.StudyInput, by string) (gateway.StudyView, error)
	Studies(ctx context.Context, id gateway.SchoolID) ([]gateway.StudyView, error)
	ExportResearch(ctx context.Context, id gateway.SchoolID, study string, toFiles bool, by string) (gateway.ResearchExportResult, error)
	// LegalBases are the configured legal bases (legal.bases).
	LegalBases() []gateway.LegalBase
	ExportLegal(ctx context.Context, id gateway.SchoolID, basis string, toFile bool, by string) (gateway.LegalExportResult, error)
}

// Options configure a Server.
type Options struct {
	App     App
	Log     *slog.Logger
	Now     func() time.Time
	Metrics *Metrics
	// SessionKey signs web sessions and CSRF tokens (32 random bytes,
	// shared by every instance).
	SessionKey []byte
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
	// Limits bound what one client may hold of the server.
	Limits Limits
	// MaxResultsBytes caps a results submission's body (intake.max_body_bytes;
	// 0: 64 MiB).
	MaxResultsBytes int64
}

// Server is the admin HTTP server: the REST API under /api/v1, the
// school-admin web page, /metrics, /healthz and /readyz.
type Server struct {
	app        App
	logger     *slog.Logger
	now        func() time.Time
	metrics    *Metrics
	sessionKey []byte
	secure     bool
	limits     Limits
	draining   atomic.Bool
	mux        *http.ServeMux
	submits    submitSlots // results submissions under way, per token
	maxResults int64       // the cap on a results submission's body
}

// New returns a server; call Handler for its http.Handler.
func New(o Options) *Server {
	s := &Server{app: o.App, logger: o.Log, now: o.Now, metrics: o.Metrics, sessionKey: o.SessionKey, secure: o.SecureCookies,
		limits: o.Limits.withDefaults(), mux: http.NewServeMux(), maxResults: cmp.Or(o.MaxResultsBytes, maxResultsBody)}
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
	// Every API route refuses a dashboard token (notDashboard), but the
	// one it exists for: its results feed.
	api := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.requireToken(notDashboard(h))) }
	feed := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.requireToken(h)) }
	api("GET /api/v1/schools", s.listSchools)
	api("GET /api/v1/schools/{school}", s.getSchool)
	api("POST /api/v1/schools/{school}/connection-test", s.write(s.testConnection))
	api("GET /api/v1/schools/{school}/consent", s.getConsent)
	api("PUT /api/v1/schools/{school}/consent/{processing}", s.write(s.putConsent))
	api("GET /api/v1/schools/{school}/contact", s.getContact)
	api("PUT /api/v1/schools/{school}/contact", s.write(s.putContact))
	api("POST /api/v1/schools/{school}/syncs", s.write(s.syncNow))
	api("GET /api/v1/schools/{school}/syncs", s.listSyncs)
	api("GET /api/v1/schools/{school}/held-sync", s.getHeldSync)
	api("POST /api/v1/schools/{school}/held-sync/approve", s.write(s.approveHeldSync))
	api("POST /api/v1/schools/{school}/results", s.write(s.submitResults))
	api("GET /api/v1/schools/{school}/results", s.listResults)
	api("GET /api/v1/schools/{school}/audit", s.listAudit)
	api("GET /api/v1/schools/{school}/recipients", s.listRecipients)
	api("POST /api/v1/schools/{school}/recipients", s.write(s.addRecipient))
	api("GET /api/v1/schools/{school}/recipients/{name}", s.getRecipient)
	api("DELETE /api/v1/schools/{school}/recipients/{name}", s.write(s.removeRecipient))
	feed("GET /api/v1/schools/{school}/feeds/results", s.resultsFeed)
	api("GET /api/v1/schools/{school}/studies", s.listStudies)
	api("POST /api/v1/schools/{school}/studies", s.write(s.addStudy))
	api("GET /api/v1/schools/{school}/studies/{study}", s.getStudy)
	api("POST /api/v1/schools/{school}/studies/{study}/exports", s.write(s.researchExport))
	api("POST /api/v1/schools/{school}/legal/{basis}/exports", s.write(s.legalExport))
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

// notDashboard refuses a dashboard token at once, whatever the school: it
// may read its results feed and nothing else (not even whether a school
// exists).
func notDashboard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, _ := principalOf(r.Context()); p.token.Role == gateway.RoleDashboard {
			writeProblem(w, r, Problem{Type: typeForbid, Title: "Forbidden", Status: http.StatusForbidden,
				Detail: "a dashboard token may only read its results feed"})
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
	{
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.app.Ready(ctx); err != nil {
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

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		s.bodyDeadline(w, r)
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
