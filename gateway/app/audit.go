package app

import (
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// AuditEntries returns the newest limit entries (0: all) of a chain, oldest
// first: gateway.AuditChainOf(school) or gateway.AuditChainGateway (which
// needs the gateway-wide scope; out of scope is ErrNotFound). A school's
// chain outlives the school. Entries are as shown (audit.Shown): the
// personal part joined back while it is kept, "(expired)" in its place
// after retention deleted it.
func (a *App) AuditEntries(ctx context.Context, chain string, limit int) ([]gateway.AuditEntry, error) {
	entries, err := a.storedEntries(ctx, chain, limit)
	for i := range entries {
		entries[i] = audit.Shown(entries[i])
	}
	return entries, err
}

// storedEntries returns the newest limit entries (0: all) of a chain as the
// store returns them: what the chain is verified on.
func (a *App) storedEntries(ctx context.Context, chain string, limit int) ([]gateway.AuditEntry, error) {
	entries := []gateway.AuditEntry{}
	err := a.st.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
		entries = append(entries, e)
		if limit > 0 && len(entries) > limit {
			entries = entries[1:]
		}
		return nil
	})
	return entries, err
}

// VerifyAudit checks every audit chain in scope for edited, removed,
// reordered or inserted entries.
func (a *App) VerifyAudit(ctx context.Context) (gateway.AuditReport, error) {
	return audit.Verify(ctx, a.st)
}

// AuditExport is a school's audit chain as a signed XML document for its
// data protection officer.
type AuditExport struct {
	Doc     []byte
	Entries int
	LastSeq uint64
}

// ExportAudit signs a school's audit chain (also of an offboarded school:
// the chain stays) after checking it is intact. Entries are exported as
// shown (audit.Shown): with their personal part while it is kept,
// "(expired)" after. The export is recorded in the chain before it is
// returned. ErrNotFound: the school has no entries.
func (a *App) ExportAudit(ctx context.Context, school gateway.SchoolID, by string) (AuditExport, error) {
	chain := gateway.AuditChainOf(school)
	entries, err := a.storedEntries(ctx, chain, 0)
	if err != nil {
		return AuditExport{}, err
	}
	if len(entries) == 0 {
		return AuditExport{}, fmt.Errorf("school %s has no audit entries: %w", school, gateway.ErrNotFound)
	}
	head, err := a.st.AuditHead(ctx, chain)
	if err != nil {
		return AuditExport{}, err
	}
	// The chain must be intact before it is signed for someone else.
	if problems := audit.VerifyChain(chain, entries, head); len(problems) > 0 {
		return AuditExport{}, fmt.Errorf("the audit chain of %s has %d problem(s) (first: %s); run `audit verify`: %w",
			school, len(problems), problems[0], gateway.ErrConflict)
	}
	k, err := a.EvidenceKey(ctx)
	if err != nil {
		return AuditExport{}, err
	}
	for i := range entries {
		entries[i] = audit.Shown(entries[i])
	}
	doc, err := evidence.ExportAudit(k, school, a.now(), entries)
	if err != nil {
		return AuditExport{}, err
	}
	last := entries[len(entries)-1].Seq
	if _, err := a.log.School(ctx, school, gateway.AuditEvidenceExport, or(by, "cli"), map[string]string{
		"entries": fmt.Sprint(len(entries)), "last_seq": fmt.Sprint(last)}); err != nil {
		return AuditExport{}, err
	}
	return AuditExport{Doc: doc, Entries: len(entries), LastSeq: last}, nil
}
