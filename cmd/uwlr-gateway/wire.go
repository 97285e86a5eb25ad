package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// auditLog is the audit log of the store.
func (a *app) auditLog(st gateway.Store) *audit.Log { return audit.New(st, time.Now) }

// gate is the consent gate, recording changes in the audit log.
func (a *app) gate(st gateway.Store) *consent.Gate {
	return consent.New(st, nil).WithAudit(a.auditLog(st))
}

// evidenceKeyRecord is how the evidence signing key is kept in the store:
// the PKCS#8 key sealed by the vault, and the certificate.
type evidenceKeyRecord struct {
	SealedKey []byte `json:"sealed_key"`
	Cert      []byte `json:"cert"`
}

const evidenceKeySecret = "evidence_key"

// evidenceKey loads the gateway's evidence signing key, creating it (once,
// even with several processes racing) when there is none yet.
func (a *app) evidenceKey(ctx context.Context, st gateway.Store, kr *vault.Keyring) (*evidence.Key, error) {
	rec, err := st.GatewaySecret(ctx, evidenceKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		k, err := evidence.GenerateKey(rand.Reader, time.Now(), "uwlr-gateway evidence")
		if err != nil {
			return nil, err
		}
		der, err := k.MarshalPrivate()
		if err != nil {
			return nil, err
		}
		sealed, err := kr.Sealer().Seal(vault.GatewaySecret(vault.FieldEvidenceKey), der)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(evidenceKeyRecord{SealedKey: sealed, Cert: k.Certificate().Raw})
		if err != nil {
			return nil, err
		}
		stored, err := st.PutGatewaySecret(ctx, evidenceKeySecret, b, true)
		if err != nil {
			return nil, fmt.Errorf("store evidence key: %w", err)
		}
		if string(stored) == string(b) {
			_, _ = a.auditLog(st).Gateway(ctx, gateway.AuditKeyGenerate, "gateway", map[string]string{
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
	der, err := kr.SecretOpener().Open(vault.GatewaySecret(vault.FieldEvidenceKey), r.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("open evidence key: %w", err)
	}
	return evidence.ParseKey(der, r.Cert)
}

// evidenceCerts are the certificates evidence is checked against: the
// stored key's. Without a stored key there is nothing to check against.
func (a *app) evidenceCerts(ctx context.Context, st gateway.Store) ([]*x509.Certificate, error) {
	rec, err := st.GatewaySecret(ctx, evidenceKeySecret)
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

// worker wires a delivery worker: the only place the vault's Opener for
// ECK iDs is handed out.
func (a *app) worker(ctx context.Context, st gateway.Store, kr *vault.Keyring) (*delivery.Worker, error) {
	key, err := a.evidenceKey(ctx, st, kr)
	if err != nil {
		return nil, err
	}
	d := a.cfg.Delivery
	return &delivery.Worker{
		Store:   st,
		Opener:  kr.Opener(),
		Consent: consent.New(st, nil),
		Connect: func(ctx context.Context, s gateway.School) (delivery.Sender, string, error) {
			cl, endpoint, err := a.resultsClient(s, kr)
			return cl, endpoint, err
		},
		Sign: func(e delivery.Evidence) ([]byte, error) {
			return evidence.Sign(key, evidence.Delivery{ID: e.ID, Batch: e.Batch, School: e.School, Attempt: e.Attempt,
				Endpoint: e.Endpoint, SentAt: e.SentAt, AnsweredAt: e.AnsweredAt, RequestSHA256: e.RequestSHA256,
				Request: e.Request, Response: e.Response})
		},
		Audit:   a.auditLog(st),
		Options: delivery.Options{Concurrency: d.Concurrency, Lease: d.Lease, MaxAttempts: d.MaxAttempts, RetryBase: d.RetryBase, RetryMax: d.RetryMax},
	}, nil
}

// resultsClient builds the SOAP client of a school's results receiver: its
// own profile when one is set, else the school's LAS connection.
func (a *app) resultsClient(s gateway.School, kr *vault.Keyring) (*soap.Client, string, error) {
	if s.Results == nil {
		cl, err := a.lasClient(s, kr)
		return cl, s.Endpoint, err
	}
	r := s.Results
	place, sealed := schoolKeyPlace(s.ID), s.SealedKey
	if len(r.SealedKey) > 0 {
		place, sealed = vault.SchoolSecret(s.ID, fieldResultsKey), r.SealedKey
	}
	secret, err := kr.SecretOpener().Open(place, sealed)
	if err != nil {
		return nil, "", fmt.Errorf("school %s: open results receiver key: %w", s.ID, err)
	}
	conn := soap.Connection{Endpoint: r.Endpoint, Autorisatiesleutel: string(secret), Klantcode: or(r.Klantcode, s.Klantcode),
		Klantnaam: or(r.Klantnaam, s.Klantnaam), Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey,
		Xsdversie: or(r.Xsdversie, s.Xsdversie), QuoteSOAPAction: r.QuoteSOAPAction, MaxResponseBytes: a.cfg.LAS.MaxResponseBytes,
		DisableGzip: !a.cfg.LAS.AcceptGzip, UserAgent: a.cfg.LAS.UserAgent, Header: http.Header{}}
	hc, err := soap.NewHTTPClient(soap.TransportOptions{Timeout: a.cfg.LAS.Timeout, ConnectTimeout: a.cfg.LAS.ConnectTimeout})
	if err != nil {
		return nil, "", fmt.Errorf("school %s: %w", s.ID, err)
	}
	return soap.NewClient(hc, conn), r.Endpoint, nil
}

// fieldResultsKey is the vault field of a results receiver's own key.
const fieldResultsKey = "results_autorisatiesleutel"
