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
	entries map[string][]gateway.AuditEntry // as stored: without personal parts
	heads   map[string]gateway.AuditEntry
	parts   map[string]map[uint64]gateway.AuditPersonalPart
	appends int // calls of AppendAudit
	// before, when set, runs at the start of every AppendAudit, without the
	// lock; a non-nil error is returned as the append's result.
	before func(e gateway.AuditEntry) error
}

func newMemStore() *memStore {
	return &memStore{entries: map[string][]gateway.AuditEntry{}, heads: map[string]gateway.AuditEntry{},
		parts: map[string]map[uint64]gateway.AuditPersonalPart{}}
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
	stored, part := e.SplitPersonal()
	m.entries[e.Chain] = append(m.entries[e.Chain], stored)
	m.heads[e.Chain] = stored
	if e.Personal != nil {
		if m.parts[e.Chain] == nil {
			m.parts[e.Chain] = map[uint64]gateway.AuditPersonalPart{}
		}
		m.parts[e.Chain][e.Seq] = part
	}
	return nil
}

// join puts the kept personal part back into a stored entry; m.mu held.
func (m *memStore) join(e gateway.AuditEntry) gateway.AuditEntry {
	if part, ok := m.parts[e.Chain][e.Seq]; ok {
		return e.JoinPersonal(part)
	}
	return e
}

func (m *memStore) DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, seq := range seqs {
		if _, ok := m.parts[chain][seq]; ok {
			delete(m.parts[chain], seq)
			n++
		}
	}
	return n, nil
}

func (m *memStore) AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return gateway.AuditEntry{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.heads[chain]; !ok {
		return gateway.AuditEntry{}, nil
	}
	return m.join(m.heads[chain]), nil
}

func (m *memStore) WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error {
	m.mu.Lock()
	es := slices.Clone(m.entries[chain])
	for i := range es {
		es[i] = m.join(es[i])
	}
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
