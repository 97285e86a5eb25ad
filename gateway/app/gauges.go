package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// OutboxDepth counts result batches by state over every school in scope.
func (a *App) OutboxDepth(ctx context.Context) (map[gateway.BatchState]int, error) {
	schools, err := a.st.Schools(ctx)
	if err != nil {
		return nil, err
	}
	out := map[gateway.BatchState]int{}
	for _, s := range schools {
		d, err := a.st.OutboxDepth(ctx, s.ID)
		if err != nil && !errors.Is(err, gateway.ErrNotFound) {
			return nil, err
		}
		for k, v := range d {
			out[k] += v
		}
	}
	return out, nil
}

// Expiries are the evidence certificate's and the earliest client
// certificate's NotAfter, by name ("evidence_certificate",
// "client_certificate"); absent when unknown.
func (a *App) Expiries(ctx context.Context) map[string]time.Time {
	out := map[string]time.Time{}
	if certs, err := a.EvidenceCerts(ctx); err == nil && len(certs) > 0 {
		out["evidence_certificate"] = certs[0].NotAfter
	}
	if t, ok := a.earliestClientCert(ctx); ok {
		out["client_certificate"] = t
	}
	return out
}

// VaultTerm is the active key term's creation time and its seal count
// (zero without keys).
func (a *App) VaultTerm() (time.Time, uint64) {
	if a.keys == nil {
		return time.Time{}, 0
	}
	c, _ := a.keys.Created(a.keys.ActiveTerm())
	return c, a.keys.Seals(a.keys.ActiveTerm())
}

// earliestClientCert is the soonest NotAfter of the schools' mTLS certificates.
func (a *App) earliestClientCert(ctx context.Context) (time.Time, bool) {
	schools, err := a.st.Schools(ctx)
	if err != nil {
		return time.Time{}, false
	}
	var first time.Time
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
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && (first.IsZero() || c.NotAfter.Before(first)) {
				first = c.NotAfter
			}
		}
	}
	return first, !first.IsZero()
}
