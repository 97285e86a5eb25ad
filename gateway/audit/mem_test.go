package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// memStore keeps chains in memory with the compare-and-set of
// gateway.AuditStore. The real stores are covered by the contract suite and
// by the audit tests in their own packages; this one lets the tests here
// provoke races and failures at chosen moments.
type memStore struct {
	mu      sync.Mutex
	entries map[string][]gateway.AuditEntry
	heads   map[string]gateway.AuditEntry
	appends int // calls of AppendAudit
	// before, when set, runs at the start of every AppendAudit, without the
	// lock; a non-nil error is returned as the append's result.
	before func(e gateway.AuditEntry) error
}

func newMemStore() *memStore {
	return &memStore{entries: map[string][]gateway.AuditEntry{}, heads: map[string]gateway.AuditEntry{}}
}

func (m *memStore) AppendAudit(ctx context.Context, e gateway.AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	m.appends++
	before := m.before
	m.mu.Unlock()
	if before != nil {
		if err := before(e); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	head := m.heads[e.Chain]
	if e.Seq != head.Seq+1 || e.Prev != head.Hash {
		return fmt.Errorf("mem: chain %s seq %d: %w", e.Chain, e.Seq, gateway.ErrConflict)
	}
	m.entries[e.Chain] = append(m.entries[e.Chain], e)
	m.heads[e.Chain] = e
	return nil
}

func (m *memStore) AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return gateway.AuditEntry{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heads[chain], nil
}

func (m *memStore) WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error {
	m.mu.Lock()
	es := slices.Clone(m.entries[chain])
	m.mu.Unlock()
	for _, e := range es {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) AuditChains(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for c := range m.entries {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}
