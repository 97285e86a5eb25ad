package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// evidenceKeyRecord is how the evidence signing key is kept in the store:
// the PKCS#8 key sealed by the vault, and the certificate.
type evidenceKeyRecord struct {
	SealedKey []byte `json:"sealed_key"`
	Cert      []byte `json:"cert"`
}

// evidenceKeySecret names the evidence key in the store's gateway secrets.
const evidenceKeySecret = "evidence_key"

// EvidenceKey loads the gateway's evidence signing key, creating it (once,
// even with several processes racing) when there is none yet.
func (a *App) EvidenceKey(ctx context.Context) (*evidence.Key, error) {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	if a.key != nil {
		return a.key, nil
	}
	kr, err := a.keyring()
	if err != nil {
		return nil, err
	}
	rec, err := a.st.GatewaySecret(ctx, evidenceKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		rec, err = a.newEvidenceKey(ctx, kr)
	}
	if err != nil {
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
	k, err := evidence.ParseKey(der, r.Cert)
	if err != nil {
		return nil, err
	}
	a.key = k
	return k, nil
}

// newEvidenceKey makes, seals and stores a key unless another process
// stored one first; it returns the stored record.
func (a *App) newEvidenceKey(ctx context.Context, kr *vault.Keyring) ([]byte, error) {
	k, err := evidence.GenerateKey(a.o.Random, a.now(), "uwlr-gateway evidence")
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
	stored, err := a.st.PutGatewaySecret(ctx, evidenceKeySecret, b, true)
	if err != nil {
		return nil, fmt.Errorf("store evidence key: %w", err)
	}
	if bytes.Equal(stored, b) {
		_, _ = a.log.Gateway(ctx, gateway.AuditKeyGenerate, "gateway", map[string]string{
			"key": "evidence signing key", "algorithm": "RSA-3072", "not_after": k.Certificate().NotAfter.UTC().Format(time.RFC3339)})
	}
	return stored, nil
}

// EvidenceCerts are the certificates evidence is checked against;
// ErrNotFound when no evidence key was ever made (nothing was delivered).
func (a *App) EvidenceCerts(ctx context.Context) ([]*x509.Certificate, error) {
	rec, err := a.st.GatewaySecret(ctx, evidenceKeySecret)
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

// rewrapEvidenceKey re-seals the evidence signing key with the active term.
func (a *App) rewrapEvidenceKey(ctx context.Context, kr *vault.Keyring) (int, error) {
	rec, err := a.st.GatewaySecret(ctx, evidenceKeySecret)
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
	_, err = a.st.PutGatewaySecret(ctx, evidenceKeySecret, b, false)
	return 1, err
}

// FindEvidence finds the evidence of a delivery: id is a batch id or an
// evidence id; school narrows the search (empty: every school in scope).
// ErrNotFound when there is none, also for a batch that was not accepted.
func (a *App) FindEvidence(ctx context.Context, school gateway.SchoolID, id string) (gateway.Evidence, error) {
	schools, err := a.schoolIDs(ctx, school)
	if err != nil {
		return gateway.Evidence{}, err
	}
	for _, s := range schools {
		if e, err := a.st.Evidence(ctx, s, id); err == nil {
			return e, nil
		} else if !errors.Is(err, gateway.ErrNotFound) {
			return gateway.Evidence{}, err
		}
		b, err := a.st.Batch(ctx, s, id)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		} else if err != nil {
			return gateway.Evidence{}, err
		}
		if b.Evidence == "" {
			return gateway.Evidence{}, fmt.Errorf("delivery %s of school %s has no evidence (state %s: only accepted deliveries have): %w",
				id, s, b.State, gateway.ErrNotFound)
		}
		return a.st.Evidence(ctx, s, b.Evidence)
	}
	return gateway.Evidence{}, fmt.Errorf("no delivery or evidence %s found: %w", id, gateway.ErrNotFound)
}

// schoolIDs is one school (checked in scope) or every school in scope.
func (a *App) schoolIDs(ctx context.Context, school gateway.SchoolID) ([]gateway.SchoolID, error) {
	if school != "" {
		if _, err := a.school(ctx, school); err != nil {
			return nil, err
		}
		return []gateway.SchoolID{school}, nil
	}
	all, err := a.st.Schools(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]gateway.SchoolID, len(all))
	for i, s := range all {
		ids[i] = s.ID
	}
	return ids, nil
}

// ShowEvidence returns a delivery's evidence record and its signed XML
// document (ECK iDs in it are sealed, LAS keys are not): a read of personal
// data, logged.
func (a *App) ShowEvidence(ctx context.Context, school gateway.SchoolID, id string) (gateway.Evidence, []byte, error) {
	e, err := a.FindEvidence(ctx, school, id)
	if err != nil {
		return e, nil, err
	}
	doc, err := EvidenceDocument(e)
	if err != nil {
		return e, nil, err
	}
	return e, doc, a.logRead(ctx, e.School, "evidence", len(e.Keys))
}

// EvidenceDocument returns the signed XML document of a record (stored
// gzipped).
func EvidenceDocument(e gateway.Evidence) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(e.Doc))
	if err != nil {
		return nil, fmt.Errorf("evidence %s: %w", e.ID, err)
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

// EvidenceQuery says which evidence VerifyEvidence checks: a document the
// caller holds (Doc), one delivery (Delivery, in School or any school), or
// every record of School (or of every school).
type EvidenceQuery struct {
	Doc      []byte
	Delivery string
	School   gateway.SchoolID
}

// VerifyEvidence checks evidence signatures against the gateway's
// certificate. ErrNotFound when there is no evidence key (nothing was ever
// delivered) or the named delivery has no evidence.
func (a *App) VerifyEvidence(ctx context.Context, q EvidenceQuery) ([]gateway.EvidenceCheck, error) {
	certs, err := a.EvidenceCerts(ctx)
	if errors.Is(err, gateway.ErrNotFound) {
		return nil, fmt.Errorf("no evidence key in this store: nothing was ever delivered: %w", gateway.ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	switch {
	case q.Doc != nil:
		return []gateway.EvidenceCheck{checkEvidence(certs, gateway.Evidence{}, q.Doc)}, nil
	case q.Delivery != "":
		e, err := a.FindEvidence(ctx, q.School, q.Delivery)
		if err != nil {
			return nil, err
		}
		return []gateway.EvidenceCheck{checkRecord(certs, e)}, nil
	}
	schools, err := a.schoolIDs(ctx, q.School)
	if err != nil {
		return nil, err
	}
	out := []gateway.EvidenceCheck{}
	for _, s := range schools {
		var ids []string
		if err := a.st.WalkEvidence(ctx, s, func(e gateway.Evidence) error { ids = append(ids, e.ID); return nil }); err != nil {
			return nil, err
		}
		for _, id := range ids {
			e, err := a.st.Evidence(ctx, s, id)
			if err != nil {
				return nil, err
			}
			out = append(out, checkRecord(certs, e))
		}
	}
	return out, nil
}

func checkRecord(certs []*x509.Certificate, e gateway.Evidence) gateway.EvidenceCheck {
	doc, err := EvidenceDocument(e)
	if err != nil {
		return gateway.EvidenceCheck{Evidence: e.ID, Delivery: e.Batch, School: e.School, Error: err.Error()}
	}
	return checkEvidence(certs, e, doc)
}

// checkEvidence verifies doc; e is the record it is stored as (zero for a
// document given by the caller).
func checkEvidence(certs []*x509.Certificate, e gateway.Evidence, doc []byte) gateway.EvidenceCheck {
	r := gateway.EvidenceCheck{Evidence: e.ID, Delivery: e.Batch, School: e.School, OK: true}
	if evidence.IsExport(doc) {
		return checkExport(certs, e, doc)
	}
	d, err := evidence.Verify(certs, doc)
	switch {
	case err != nil:
		r.OK, r.Error = false, err.Error()
	case e.ID != "" && (d.ID != e.ID || d.Batch != e.Batch || d.School != e.School):
		r.OK, r.Error = false, fmt.Sprintf("the signed document is evidence %s of delivery %s (school %s), not the record it is stored as", d.ID, d.Batch, d.School)
	case e.ID == "":
		r.Evidence, r.Delivery, r.School = d.ID, d.Batch, d.School
	}
	return r
}

// checkExport verifies the evidence of an export (to a dashboard, a
// research or legal recipient).
func checkExport(certs []*x509.Certificate, e gateway.Evidence, doc []byte) gateway.EvidenceCheck {
	r := gateway.EvidenceCheck{Evidence: e.ID, Delivery: e.Batch, School: e.School, OK: true}
	d, err := evidence.VerifyExport(certs, doc)
	switch {
	case err != nil:
		r.OK, r.Error = false, err.Error()
	case e.ID != "" && (d.ID != e.ID || d.School != e.School || d.Details["batch"] != e.Batch):
		r.OK, r.Error = false, fmt.Sprintf("the signed document is export evidence %s (school %s), not the record it is stored as", d.ID, d.School)
	case e.ID == "":
		r.Evidence, r.Delivery, r.School = d.ID, d.Details["batch"], d.School
	}
	return r
}
