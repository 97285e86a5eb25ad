package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// LegalExport is one disclosure under a legal basis: the CSV (exactly the
// basis's fields) and its signed evidence, or the export batch that will
// push it to a webhook recipient.
type LegalExport = gateway.LegalExportResult

// checkLegalBases checks the configured bases once, at start.
func checkLegalBases(bs []gateway.LegalBase) error {
	seen := map[string]bool{}
	for i, b := range bs {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("legal.bases[%d]: %w", i, err)
		}
		if seen[b.Name] {
			return fmt.Errorf("legal.bases[%d]: %w: basis %q twice", i, gateway.ErrInvalid, b.Name)
		}
		seen[b.Name] = true
	}
	return nil
}

// LegalBases returns the configured legal bases (legal.bases).
func (a *App) LegalBases() []gateway.LegalBase { return slices.Clone(a.o.LegalBases) }

// legalBasis returns the configured basis by name.
func (a *App) legalBasis(name string) (gateway.LegalBase, error) {
	for _, b := range a.o.LegalBases {
		if b.Name == name {
			return b, nil
		}
	}
	names := make([]string, len(a.o.LegalBases))
	for i, b := range a.o.LegalBases {
		names[i] = b.Name
	}
	return gateway.LegalBase{}, invalidf("no legal basis %q is configured (legal.bases: %v)", name, names)
}

// ExportLegal makes a disclosure of the school's data under a configured
// legal basis: exactly the basis's fields, only while the school grants
// legal (checked when the export starts and again before the data is
// handed out), to the school's legal recipient the basis names. The export
// is on the school's audit chain (basis, recipient, records, digest) before
// it is returned, and its signed evidence is kept.
//
// A basis whose recipient is a webhook is not written but queued (toFile
// false); one whose recipient takes files needs toFile.
func (a *App) ExportLegal(ctx context.Context, id gateway.SchoolID, basis string, toFile bool, by string) (LegalExport, error) {
	out := LegalExport{School: id, Basis: basis}
	b, err := a.legalBasis(basis)
	if err != nil {
		return out, err
	}
	s, err := a.school(ctx, id)
	if err != nil {
		return out, err
	}
	r, ok := s.Recipient(b.Recipient)
	if !ok || r.Processing != gateway.ProcessingLegal {
		return out, invalidf("legal basis %q names recipient %q: school %s has no legal recipient by that name (recipient add --processing legal)", basis, b.Recipient, id)
	}
	if err := fitsRecipient(r, toFile); err != nil {
		return out, err
	}
	if r.Kind == gateway.RecipientWebhook {
		out.Queued, out.Held, err = a.queueExport(ctx, id, r, gateway.ProcessingLegal, b.Name, by)
		return out, err
	}
	if err := a.gate.Require(ctx, id, gateway.ProcessingLegal); err != nil {
		return out, err
	}
	if out.CSV, out.Records, err = a.legalCSV(ctx, id, b); err != nil {
		return out, err
	}
	sum := sha256.Sum256(out.CSV)
	out.SHA256 = hex.EncodeToString(sum[:])
	if err := a.gate.Require(ctx, id, gateway.ProcessingLegal); err != nil {
		return LegalExport{School: id, Basis: basis}, err
	}
	now := a.now().UTC()
	out.Evidence = "ex_legal_" + out.SHA256[:16] + "_" + strconv.FormatInt(now.UnixNano(), 36)
	_, err = a.log.School(ctx, id, gateway.AuditExport, or(by, "cli"), map[string]string{"processing": string(gateway.ProcessingLegal),
		"recipient": r.Name, "kind": string(r.Kind), "basis": b.Name, "reference": b.Reference, "records": strconv.Itoa(out.Records),
		"sha256": out.SHA256, "evidence": out.Evidence})
	if err != nil {
		return LegalExport{School: id, Basis: basis}, fmt.Errorf("record the legal export: %w", err)
	}
	ev := gateway.ExportEvidence{ID: out.Evidence, School: id, Processing: gateway.ProcessingLegal, Recipient: r.Name, Endpoint: r.Endpoint(),
		Basis: b.Name + ": " + b.Reference, Records: out.Records, SHA256: out.SHA256, CreatedAt: now,
		Files: map[string]string{"disclosure.csv": out.SHA256}, Details: map[string]string{"fields": fmt.Sprint(b.Fields)}}
	if out.Signed, err = a.keepExport(ctx, ev, nil, nil); err != nil {
		return LegalExport{School: id, Basis: basis}, err
	}
	return out, nil
}

// legalCSV writes the disclosure: one row per pupil, or per result when
// the basis names a result field.
func (a *App) legalCSV(ctx context.Context, id gateway.SchoolID, b gateway.LegalBase) ([]byte, int, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(b.Fields)
	n := 0
	var pupils []gateway.Pupil
	if err := a.st.Pupils(ctx, id, func(p gateway.Pupil) error { pupils = append(pupils, p); return nil }); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(pupils, func(x, y gateway.Pupil) int { return cmpStr(string(x.ID), string(y.ID)) })
	if !b.PerResult() {
		for _, p := range pupils {
			_ = w.Write(b.LegalRow(id, p, nil))
			n++
		}
		w.Flush()
		return buf.Bytes(), n, w.Error()
	}
	byID := map[gateway.PupilID]gateway.Pupil{}
	for _, p := range pupils {
		byID[p.ID] = p
	}
	var rs []gateway.Result
	if err := a.st.WalkResults(ctx, id, func(r gateway.Result) error { rs = append(rs, r); return nil }); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(rs, func(x, y gateway.Result) int { return cmpStr(x.Key, y.Key) })
	for _, r := range rs {
		p, ok := byID[r.Pupil]
		if !ok {
			continue
		}
		_ = w.Write(b.LegalRow(id, p, &r))
		n++
	}
	w.Flush()
	return buf.Bytes(), n, w.Error()
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keepExport signs export evidence with the gateway's evidence key and
// keeps it in the store; it returns the signed document.
// pupils and keys say whom and which results it concerns (for retention).
func (a *App) keepExport(ctx context.Context, ev gateway.ExportEvidence, pupils []gateway.PupilID, keys []string) ([]byte, error) {
	// The signing key is the gateway's own: a caller limited to its schools
	// (a dashboard token reading the feed) signs with it without seeing it.
	key, err := a.EvidenceKey(gateway.WithScope(ctx, gateway.Scope{All: true}))
	if err != nil {
		return nil, err
	}
	doc, err := evidence.SignExport(key, ev)
	if err != nil {
		return nil, fmt.Errorf("sign the export: %w", err)
	}
	gz, err := gzipped(doc)
	if err != nil {
		return nil, err
	}
	if err := a.st.PutEvidence(ctx, gateway.Evidence{ID: ev.ID, School: ev.School, CreatedAt: ev.CreatedAt,
		Pupils: pupils, Keys: keys, Doc: gz}); err != nil {
		return nil, fmt.Errorf("keep the export evidence: %w", err)
	}
	return doc, nil
}

// gzipped compresses a document as evidence is stored.
func gzipped(doc []byte) ([]byte, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(doc); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return gz.Bytes(), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
