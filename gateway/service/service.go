package service

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/pull"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
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
}

// Delivery are the outbox settings.
type Delivery struct {
	BatchSize   int
	Concurrency int
	Lease       time.Duration
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
}

// Planner is the nightly schedule (gateway/schedule.Config).
type Planner interface {
	NextRun(school gateway.School, state gateway.ScheduleState, now time.Time) time.Time
	IsDue(school gateway.School, state gateway.ScheduleState, now time.Time) bool
	Record(state gateway.ScheduleState, startedAt time.Time, ok bool) gateway.ScheduleState
}

// Options configure a Gateway; cmd copies them from the configuration.
type Options struct {
	Store    gateway.Store
	Keys     *vault.Keyring
	LAS      LAS
	Delivery Delivery
	Planner  Planner // nil: no schedule (NextRun is zero)
	// Instance names this process in locks and outbox consumers (default host-pid).
	Instance string
	// LockTTL is how long a sync lock lasts without renewal (default 2m);
	// it is renewed every third of that while the sync runs.
	LockTTL time.Duration
	// SyncTimeout bounds one sync (default 30m).
	SyncTimeout time.Duration
	Log         *slog.Logger
	Now         func() time.Time
	// ObserveSync, when set, is told about every sync (metrics).
	ObserveSync func(s gateway.School, run gateway.SyncRun, d time.Duration)
	// Client, when set, replaces the HTTP client of LAS calls (tests).
	Client *http.Client
}

// Gateway is the gateway's composition of its parts over one store and one
// keyring. It is safe for concurrent use.
type Gateway struct {
	o     Options
	st    gateway.Store
	keys  *vault.Keyring
	log   *audit.Log
	gate  *consent.Gate
	now   func() time.Time
	slog  *slog.Logger
	bg    sync.WaitGroup
	bgCtx context.Context
	stop  context.CancelFunc

	keyMu sync.Mutex
	key   *evidence.Key
}

// New returns a Gateway; Close waits for the syncs it started in the background.
func New(o Options) *Gateway {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
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
	g := &Gateway{o: o, st: o.Store, keys: o.Keys, now: o.Now, slog: o.Log}
	g.log = audit.New(o.Store, o.Now)
	g.gate = consent.New(o.Store, o.Now).WithAudit(g.log)
	g.bgCtx, g.stop = context.WithCancel(context.Background())
	return g
}

// Close cancels background syncs and waits for them (they discard their
// stage, so nothing is half-applied), at most until ctx ends.
func (g *Gateway) Close(ctx context.Context) error {
	g.stop()
	done := make(chan struct{})
	go func() { g.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("background syncs still running: %w", ctx.Err())
	}
}

// Audit is the audit log.
func (g *Gateway) Audit() *audit.Log { return g.log }

// Gate is the consent gate (changes are audited).
func (g *Gateway) Gate() *consent.Gate { return g.gate }

// Store is the store.
func (g *Gateway) Store() gateway.Store { return g.st }

// schoolKeyPlace is where a school's autorisatiesleutel is sealed.
func schoolKeyPlace(id gateway.SchoolID) vault.Place {
	return vault.SchoolSecret(id, vault.FieldAutorisatiesleutel)
}

// FieldResultsKey is the vault field of a results receiver's own key.
const FieldResultsKey = "results_autorisatiesleutel"

// LASClient builds the SOAP client of a school; the autorisatiesleutel is
// opened here, for this client only.
func (g *Gateway) LASClient(s gateway.School) (*soap.Client, error) {
	secret, err := g.keys.SecretOpener().Open(schoolKeyPlace(s.ID), s.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("school %s: open autorisatiesleutel: %w", s.ID, err)
	}
	conn := soap.Connection{Endpoint: s.Endpoint, Autorisatiesleutel: string(secret), Klantcode: s.Klantcode, Klantnaam: s.Klantnaam,
		Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey, Xsdversie: s.Xsdversie,
		Gegevenssetid: s.Gegevenssetid, QuoteSOAPAction: g.o.LAS.SOAPActionQuoted, MaxResponseBytes: g.o.LAS.MaxResponseBytes,
		DisableGzip: !g.o.LAS.AcceptGzip, UserAgent: g.o.LAS.UserAgent, Header: http.Header{}}
	hc, err := g.httpClient(s)
	if err != nil {
		return nil, err
	}
	return soap.NewClient(hc, conn), nil
}

func (g *Gateway) httpClient(s gateway.School) (*http.Client, error) {
	if g.o.Client != nil {
		return g.o.Client, nil
	}
	var pass []byte
	if len(s.SealedKeyPassphrase) > 0 {
		var err error
		if pass, err = g.keys.SecretOpener().Open(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), s.SealedKeyPassphrase); err != nil {
			return nil, fmt.Errorf("school %s: open client key passphrase: %w", s.ID, err)
		}
	}
	hc, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: s.ClientCertFile, ClientKeyFile: s.ClientKeyFile,
		ClientKeyPassphrase: pass, Timeout: g.o.LAS.Timeout, ConnectTimeout: g.o.LAS.ConnectTimeout})
	if err != nil {
		return nil, fmt.Errorf("school %s: %w", s.ID, err)
	}
	return hc, nil
}

// ResultsClient builds the SOAP client of a school's results receiver: its
// own profile when one is set, else the school's LAS connection.
func (g *Gateway) ResultsClient(s gateway.School) (*soap.Client, string, error) {
	if s.Results == nil {
		cl, err := g.LASClient(s)
		return cl, s.Endpoint, err
	}
	r := s.Results
	place, sealed := schoolKeyPlace(s.ID), s.SealedKey
	if len(r.SealedKey) > 0 {
		place, sealed = vault.SchoolSecret(s.ID, FieldResultsKey), r.SealedKey
	}
	secret, err := g.keys.SecretOpener().Open(place, sealed)
	if err != nil {
		return nil, "", fmt.Errorf("school %s: open results receiver key: %w", s.ID, err)
	}
	conn := soap.Connection{Endpoint: r.Endpoint, Autorisatiesleutel: string(secret), Klantcode: or(r.Klantcode, s.Klantcode),
		Klantnaam: or(r.Klantnaam, s.Klantnaam), Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey,
		Xsdversie: or(r.Xsdversie, s.Xsdversie), QuoteSOAPAction: r.QuoteSOAPAction, MaxResponseBytes: g.o.LAS.MaxResponseBytes,
		DisableGzip: !g.o.LAS.AcceptGzip, UserAgent: g.o.LAS.UserAgent, Header: http.Header{}}
	hc := g.o.Client
	if hc == nil {
		if hc, err = soap.NewHTTPClient(soap.TransportOptions{Timeout: g.o.LAS.Timeout, ConnectTimeout: g.o.LAS.ConnectTimeout}); err != nil {
			return nil, "", fmt.Errorf("school %s: %w", s.ID, err)
		}
	}
	return soap.NewClient(hc, conn), r.Endpoint, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Syncer is the sync of this gateway (audited).
func (g *Gateway) Syncer() *pull.Syncer {
	return &pull.Syncer{Store: g.st, Sealer: g.keys.Sealer(), Consent: g.gate, Thresholds: pull.DefaultThresholds,
		Audit: g.log, Now: g.now}
}

// evidenceKeyRecord is how the evidence signing key is kept in the store:
// the PKCS#8 key sealed by the vault, and the certificate.
type evidenceKeyRecord struct {
	SealedKey []byte `json:"sealed_key"`
	Cert      []byte `json:"cert"`
}

// EvidenceKeySecret names the evidence key in the store's gateway secrets.
const EvidenceKeySecret = "evidence_key"

// EvidenceKey loads the gateway's evidence signing key, creating it (once,
// even with several processes racing) when there is none yet.
func (g *Gateway) EvidenceKey(ctx context.Context) (*evidence.Key, error) {
	g.keyMu.Lock()
	defer g.keyMu.Unlock()
	if g.key != nil {
		return g.key, nil
	}
	rec, err := g.st.GatewaySecret(ctx, EvidenceKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		k, err := evidence.GenerateKey(rand.Reader, g.now(), "uwlr-gateway evidence")
		if err != nil {
			return nil, err
		}
		der, err := k.MarshalPrivate()
		if err != nil {
			return nil, err
		}
		sealed, err := g.keys.Sealer().Seal(vault.GatewaySecret(vault.FieldEvidenceKey), der)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(evidenceKeyRecord{SealedKey: sealed, Cert: k.Certificate().Raw})
		if err != nil {
			return nil, err
		}
		stored, err := g.st.PutGatewaySecret(ctx, EvidenceKeySecret, b, true)
		if err != nil {
			return nil, fmt.Errorf("store evidence key: %w", err)
		}
		if string(stored) == string(b) {
			_, _ = g.log.Gateway(ctx, gateway.AuditKeyGenerate, "gateway", map[string]string{
				"key": "evidence signing key", "algorithm": "RSA-3072", "not_after": k.Certificate().NotAfter.UTC().Format(time.RFC3339)})
		}
		rec = stored
	} else if err != nil {
		return nil, fmt.Errorf("load evidence key: %w", err)
	}
	var r evidenceKeyRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, fmt.Errorf("decode evidence key record: %w", err)
	}
	der, err := g.keys.SecretOpener().Open(vault.GatewaySecret(vault.FieldEvidenceKey), r.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("open evidence key: %w", err)
	}
	k, err := evidence.ParseKey(der, r.Cert)
	if err != nil {
		return nil, err
	}
	g.key = k
	return k, nil
}

// EvidenceCerts are the certificates evidence is checked against.
func EvidenceCerts(ctx context.Context, st gateway.Store) ([]*x509.Certificate, error) {
	rec, err := st.GatewaySecret(ctx, EvidenceKeySecret)
	if err != nil {
		return nil, fmt.Errorf("evidence certificate: %w", err)
	}
	var r evidenceKeyRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, fmt.Errorf("decode evidence key record: %w", err)
	}
	c, err := x509.ParseCertificate(r.Cert)
	if err != nil {
		return nil, fmt.Errorf("parse evidence certificate: %w", err)
	}
	return []*x509.Certificate{c}, nil
}

// RewrapEvidenceKey re-seals the evidence signing key with the active term.
func RewrapEvidenceKey(ctx context.Context, st gateway.Store, kr *vault.Keyring) (int, error) {
	rec, err := st.GatewaySecret(ctx, EvidenceKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var r evidenceKeyRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return 0, err
	}
	v, changed, err := kr.Rewrap(vault.GatewaySecret(vault.FieldEvidenceKey), r.SealedKey)
	if err != nil || !changed {
		return 0, err
	}
	r.SealedKey = v
	b, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	_, err = st.PutGatewaySecret(ctx, EvidenceKeySecret, b, false)
	return 1, err
}

// Worker is a delivery worker: the only place the vault's Opener for ECK
// iDs is handed out.
func (g *Gateway) Worker(ctx context.Context) (*delivery.Worker, error) {
	key, err := g.EvidenceKey(ctx)
	if err != nil {
		return nil, err
	}
	d := g.o.Delivery
	return &delivery.Worker{
		Store:   g.st,
		Opener:  g.keys.Opener(),
		Consent: consent.New(g.st, g.now),
		Connect: func(ctx context.Context, s gateway.School) (delivery.Sender, string, error) {
			cl, endpoint, err := g.ResultsClient(s)
			return cl, endpoint, err
		},
		Sign: func(e delivery.Evidence) ([]byte, error) {
			return evidence.Sign(key, evidence.Delivery{ID: e.ID, Batch: e.Batch, School: e.School, Attempt: e.Attempt,
				Endpoint: e.Endpoint, SentAt: e.SentAt, AnsweredAt: e.AnsweredAt, RequestSHA256: e.RequestSHA256,
				Request: e.Request, Response: e.Response})
		},
		Audit: g.log,
		Log:   g.slog,
		Now:   g.now,
		Options: delivery.Options{Concurrency: d.Concurrency, Lease: d.Lease, MaxAttempts: d.MaxAttempts, RetryBase: d.RetryBase,
			RetryMax: d.RetryMax, Name: g.o.Instance},
	}, nil
}
