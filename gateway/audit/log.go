package audit

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// appender is what Log needs of gateway.Store.
type appender interface {
	AppendAudit(ctx context.Context, e gateway.AuditEntry) error
	AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error)
}

const (
	// maxTries bounds how often Append rebuilds an entry on a newer head
	// after losing a race. Each lost race means another writer's entry went
	// in, so 50 tries outlast any realistic burst of writers on one chain.
	maxTries = 50
	// maxPause caps the random pause between tries.
	maxPause = 10 * time.Millisecond
)

// Log appends entries to the audit chains of a store. It is safe for
// concurrent use, also with other processes appending to the same store:
// the store's compare-and-set on the chain head decides who goes first.
type Log struct {
	st   appender
	now  func() time.Time
	rand io.Reader
}

// New returns a Log that appends through st, stamping entries with now (nil
// means time.Now). now must be safe for concurrent use. Commitment salts
// come from crypto/rand unless WithRandom says otherwise.
func New(st appender, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{st: st, now: now, rand: crand.Reader}
}

// WithRandom makes the Log read commitment salts from r (nil: crypto/rand)
// and returns it. r must be safe for concurrent use.
func (l *Log) WithRandom(r io.Reader) *Log {
	if r == nil {
		r = crand.Reader
	}
	l.rand = r
	return l
}

// School appends an entry to the chain of school (gateway.AuditChainOf).
func (l *Log) School(ctx context.Context, school gateway.SchoolID, kind gateway.AuditKind, actor string, details map[string]string) (gateway.AuditEntry, error) {
	return l.Append(ctx, gateway.AuditChainOf(school), kind, school, actor, details)
}

// Gateway appends an entry without a school to the gateway's own chain
// (gateway.AuditChainGateway).
func (l *Log) Gateway(ctx context.Context, kind gateway.AuditKind, actor string, details map[string]string) (gateway.AuditEntry, error) {
	return l.Append(ctx, gateway.AuditChainGateway, kind, "", actor, details)
}

// Append adds an entry to chain on top of its current head: Seq is the
// head's Seq+1, Prev the head's Hash, At now() in UTC and Hash the hash of
// the entry (see Hash). details is copied. When another writer appends
// first (the store answers gateway.ErrConflict), Append rebuilds the entry
// on the new head and tries again, up to 50 times with a short random
// pause; then it gives up with an error satisfying both gateway.ErrTransient
// and gateway.ErrConflict. It returns the entry as appended.
//
// The personal part of the entry, an actor not in SystemActors and the
// details of PersonalKeys, is marked in Personal with a random salt and its
// commitment (PersonalSum); the store keeps it apart from the chain, and
// retention deletes it two years after the entry (canonical form 2, see
// Canonical). Other details must not hold personal data: the chain is kept
// for years and shown to auditors.
//
// An empty chain or kind, or a string that is not valid UTF-8, is
// gateway.ErrInvalid.
func (l *Log) Append(ctx context.Context, chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) (gateway.AuditEntry, error) {
	if err := check(chain, kind, school, actor, details); err != nil {
		return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s: %w", kind, chain, err)
	}
	details = maps.Clone(details)
	personal := personalPart(actor, details)
	if personal != nil {
		salt, err := newSalt(l.rand)
		if err != nil {
			return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s: %w", kind, chain, err)
		}
		personal.Salt = salt
	}
	var lastErr error
	for try := 1; try <= maxTries; try++ {
		head, err := l.st.AuditHead(ctx, chain)
		if err != nil {
			return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s: read head: %w", kind, chain, err)
		}
		e := gateway.AuditEntry{
			Chain:   chain,
			Seq:     head.Seq + 1,
			At:      l.now().UTC(),
			Kind:    kind,
			School:  school,
			Actor:   actor,
			Details: details,
			Prev:    head.Hash,
		}
		if personal != nil {
			p := *personal
			e.Personal = &p
			p.Sum = PersonalSum(e)
		}
		e.Hash = Hash(e)
		err = l.st.AppendAudit(ctx, e)
		if err == nil {
			return e, nil
		}
		if !errors.Is(err, gateway.ErrConflict) {
			return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s seq %d: %w", kind, chain, e.Seq, err)
		}
		lastErr = err
		if err := pause(ctx, try); err != nil {
			return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s: %w", kind, chain, err)
		}
	}
	return gateway.AuditEntry{}, fmt.Errorf("audit: append %s to chain %s: %w: gave up after %d tries: %w",
		kind, chain, gateway.ErrTransient, maxTries, lastErr)
}

// pause waits a random time that grows with the number of tries, up to
// maxPause, or until ctx ends.
func pause(ctx context.Context, try int) error {
	limit := min(time.Duration(try)*time.Millisecond, maxPause)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// check refuses entries that could not be verified later.
func check(chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) error {
	if chain == "" {
		return fmt.Errorf("%w: empty chain", gateway.ErrInvalid)
	}
	if kind == "" {
		return fmt.Errorf("%w: empty kind", gateway.ErrInvalid)
	}
	valid := utf8.ValidString(chain) && utf8.ValidString(string(kind)) &&
		utf8.ValidString(string(school)) && utf8.ValidString(actor)
	for k, v := range details {
		valid = valid && utf8.ValidString(k) && utf8.ValidString(v)
	}
	if !valid {
		return fmt.Errorf("%w: a field is not valid UTF-8", gateway.ErrInvalid)
	}
	return nil
}
