package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// LAS are the settings of every SOAP connection to a LAS.
type LAS struct {
	Timeout          time.Duration
	ConnectTimeout   time.Duration
	MaxResponseBytes int64
	AcceptGzip       bool
	UserAgent        string
	SOAPActionQuoted bool
	// Xsdversie, Klantcode and Klantnaam are the defaults of an enrolment
	// that does not name its own.
	Xsdversie, Klantcode, Klantnaam string
	// CaptureTTL is how long a raw capture may be kept (las.capture_ttl;
	// default DefaultCaptureTTL).
	CaptureTTL time.Duration
}

// DefaultCaptureTTL is how long a raw capture may be kept when las.capture_ttl
// does not say: one support case's time, not the two years of pupil data.
const DefaultCaptureTTL = 30 * 24 * time.Hour

// Delivery are the outbox settings.
type Delivery struct {
	BatchSize   int
	Concurrency int
	Lease       time.Duration
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
}

// Observer is told about syncs and deliveries (the metrics). Labels it gets
// are closed sets: vendor profile names, sync statuses, batch states and
// error classes.
type Observer interface {
	ObserveSync(vendor string, status gateway.SyncStatus, d time.Duration, pupils int)
	ObserveDelivery(state gateway.BatchState, class gateway.ErrorClass, results int)
}

// Options configure an App; cmd copies them from the configuration.
type Options struct {
	Store gateway.Store
	// Keys is the vault keyring; nil for acts that need no keys (listing,
	// status, audit show). An act that needs them then fails with ErrNoKeys.
	Keys     *vault.Keyring
	LAS      LAS
	Delivery Delivery
	// Schedule is the nightly schedule (nil: none; `schedule show` needs it).
	Schedule *schedule.Config
	// Nightly runs the nightly syncs and retention in Run; without it
	// NextRun is zero.
	Nightly bool
	// RetentionAt ("HH:MM", Europe/Amsterdam) is when Run purges, once a
	// night over all instances (default 05:30).
	RetentionAt string
	// RetentionStaleAfter is how long a school may go without a successful
	// sync before retention marks its pupils left (0: retention's default,
	// a school year; negative: never by time alone).
	RetentionStaleAfter time.Duration
	// Tick is how often Run's scheduler looks for due schools (default 30s).
	Tick time.Duration
	// Instance names this process in locks and outbox consumers (default host-pid).
	Instance string
	// LockTTL is how long a sync lock lasts without renewal (default 2m);
	// it is renewed every third of that while the sync runs.
	LockTTL time.Duration
	// SyncTimeout bounds one sync (default 30m).
	SyncTimeout time.Duration
	// Log is the one logger (default: discard).
	Log *slog.Logger
	// Now is the one clock (default time.Now): schedule, syncs, consent
	// changes, deliveries, tokens and retention all read it.
	Now func() time.Time
	// Random is the source of key material and ids (default crypto/rand).
	Random io.Reader
	// Observer, when set, is told about every sync and delivery.
	Observer Observer
	// Client, when set, replaces the HTTP client of LAS calls (tests).
	Client *http.Client
	// TokenTTL is the lifetime of a token created without one (0: none).
	TokenTTL time.Duration
	// InFlightWait bounds how long a revocation of las_exchange waits for
	// deliveries under way (default: the consent gate's).
	InFlightWait time.Duration
	// LegalBases are the legal bases of disclosures under legal (legal.bases).
	LegalBases []gateway.LegalBase
	// MaxResultProblems caps the problems a refused results file lists
	// (intake.max_problems; 0: DefaultMaxResultProblems).
	MaxResultProblems int
}

// ErrNoKeys: the act needs the vault keys and the App was built without.
var ErrNoKeys = fmt.Errorf("%w: this needs the vault keys (a key file: --vault-keys FILE, vault.keys_file or UWLR_VAULT_KEYS_FILE; create one with `uwlr-gateway keys generate --out FILE`)", gateway.ErrInvalid)

// ErrNoSchool: a use case for one school was not told which.
var ErrNoSchool = invalidf("no school given")

// App is the application layer over one store and one keyring. It is safe
// for concurrent use.
type App struct {
	o     Options
	raw   gateway.Store // only for Close and the delivery worker's claims
	st    gateway.Store // gateway.ScopedStore(raw): every use case reads through it
	keys  *vault.Keyring
	log   *audit.Log
	gate  *consent.Gate
	now   func() time.Time
	slog  *slog.Logger
	owned bool // Close closes the store (it was opened by Open)

	bg    sync.WaitGroup
	bgCtx context.Context
	stop  context.CancelFunc

	keyMu sync.Mutex
	key   *evidence.Key

	// edges is what the App keeps in memory for its edges: the login
	// throttle, the open windows of failed logins, the connection tests
	// under way.
	edges *edgeState
}

// New returns an App over o.Store. Close waits for the syncs it started in
// the background; the store stays open (the caller opened it).
func New(o Options) (*App, error) {
	if err := checkLegalBases(o.LegalBases); err != nil {
		return nil, err
	}
	if o.Store == nil {
		return nil, errors.New("app: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Random == nil {
		o.Random = rand.Reader
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 2 * time.Minute
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = 30 * time.Minute
	}
	if o.RetentionAt == "" {
		o.RetentionAt = "05:30"
	}
	if o.Tick <= 0 {
		o.Tick = 30 * time.Second
	}
	a := &App{o: o, raw: o.Store, st: gateway.ScopedStore(o.Store), keys: o.Keys, now: o.Now, slog: o.Log,
		edges: &edgeState{throttle: newLoginThrottle(LoginLimits{}), fails: newFailedLogins(LoginLimits{})}}
	a.log = audit.New(a.st, o.Now).WithRandom(o.Random)
	a.gate = consent.New(a.st, o.Now).WithAudit(a.log)
	if o.InFlightWait > 0 {
		a.gate.InFlightWait = o.InFlightWait
	}
	a.bgCtx, a.stop = context.WithCancel(context.Background())
	return a, nil
}

// Open opens the store c names and returns an App over it; Close closes it.
func Open(ctx context.Context, c StoreConfig, o Options) (*App, error) {
	st, err := OpenStore(ctx, c)
	if err != nil {
		return nil, err
	}
	o.Store = st
	a, err := New(o)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.owned = true
	return a, nil
}

// Close cancels background syncs and waits for them (they discard their
// stage, so nothing is half-applied), at most until ctx ends; then it
// closes the store if Open opened it.
func (a *App) Close(ctx context.Context) error {
	a.stop()
	done := make(chan struct{})
	go func() { a.bg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("background syncs still running: %w", ctx.Err())
	}
	if a.owned {
		err = errors.Join(err, a.raw.Close())
	}
	return err
}

// Now is the App's clock.
func (a *App) Now() time.Time { return a.now() }

// keyring returns the keyring, or ErrNoKeys.
func (a *App) keyring() (*vault.Keyring, error) {
	if a.keys == nil {
		return nil, ErrNoKeys
	}
	return a.keys, nil
}

// school loads a school within the caller's scope: ErrNotFound ("is not
// enrolled") for an unknown school and for one outside the scope alike.
func (a *App) school(ctx context.Context, id gateway.SchoolID) (gateway.School, error) {
	if id == "" {
		return gateway.School{}, ErrNoSchool
	}
	s, err := a.st.School(ctx, id)
	if errors.Is(err, gateway.ErrNotFound) {
		return s, fmt.Errorf("school %s is not enrolled: %w", id, gateway.ErrNotFound)
	} else if err != nil {
		return s, fmt.Errorf("school %s: %w", id, err)
	}
	return s, nil
}

// needAll refuses a gateway-wide act to a caller whose scope is limited.
func needAll(ctx context.Context, act string) error {
	if sc, ok := gateway.ScopeFrom(ctx); ok && !sc.All {
		return fmt.Errorf("%s: %w: needs the gateway-wide scope", act, gateway.ErrForbidden)
	}
	return nil
}
