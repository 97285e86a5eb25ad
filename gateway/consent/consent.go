package consent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// store is what the gate needs of gateway.Store: consent, and the outbox
// batches that consent to las_exchange holds back or lets go.
type store interface {
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error)
	SetConsent(ctx context.Context, c gateway.ConsentChange) error
	HoldBatches(ctx context.Context, school gateway.SchoolID, p gateway.Processing, reason string, at time.Time) (int, error)
	ReleaseBatches(ctx context.Context, school gateway.SchoolID, p gateway.Processing, at time.Time) (int, error)
	InFlight(ctx context.Context, school gateway.SchoolID, now time.Time) (int, error)
}

// auditor appends audit entries (gateway/audit.Log).
type auditor interface {
	Append(ctx context.Context, chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) (gateway.AuditEntry, error)
}

// Gate checks and changes consent.
type Gate struct {
	store store
	now   func() time.Time
	audit auditor
	// InFlightWait bounds how long a revocation of las_exchange waits for
	// deliveries already under way (default 3 minutes, more than a
	// delivery lease).
	InFlightWait time.Duration
}

// New returns a gate over st; now is the clock (nil means time.Now).
func New(st store, now func() time.Time) *Gate {
	if now == nil {
		now = time.Now
	}
	return &Gate{store: st, now: now, InFlightWait: 3 * time.Minute}
}

// WithAudit makes the gate record every consent change in the school's
// audit chain.
func (g *Gate) WithAudit(a auditor) *Gate {
	g.audit = a
	return g
}

// HeldReason is the reason on batches held when las_exchange is revoked.
const HeldReason = "las_exchange was revoked: the results wait until a school admin grants it again"

// HeldReasonFor is the reason on batches held when p is revoked.
func HeldReasonFor(p gateway.Processing) string {
	if p == gateway.ProcessingLASExchange {
		return HeldReason
	}
	return string(p) + " was revoked: the export waits until a school admin grants it again"
}

// RefusedError says which processing a school has not granted.
type RefusedError struct {
	School     gateway.SchoolID
	Processing gateway.Processing
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("school %s has not granted %s: a school admin must opt in first (consent set --school %s --processing %s --grant --by NAME)",
		e.School, e.Processing, e.School, e.Processing)
}

// Unwrap makes errors.Is(err, gateway.ErrConsentRequired) hold.
func (e *RefusedError) Unwrap() error { return gateway.ErrConsentRequired }

// Require returns nil only when school has granted p right now. It reads the
// store on every call: consent is never cached across acts.
func (g *Gate) Require(ctx context.Context, school gateway.SchoolID, p gateway.Processing) error {
	if !p.Valid() {
		return fmt.Errorf("%w: unknown processing %q", gateway.ErrInvalid, p)
	}
	c, err := g.store.Consent(ctx, school)
	if err != nil {
		return fmt.Errorf("consent of school %s: %w", school, err)
	}
	if !c[p] {
		return &RefusedError{School: school, Processing: p}
	}
	return nil
}

// Set grants or revokes p for school on behalf of by. It returns the change
// and whether anything changed; an unchanged setting is not recorded again.
// See Apply for what a change of las_exchange does to queued results.
func (g *Gate) Set(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (gateway.ConsentChange, bool, error) {
	a, err := g.Apply(ctx, school, p, grant, by)
	return a.Change, a.Changed, err
}

// Apply is Set, reporting its effects. Revoking a processing holds every
// queued batch of the school that needs it (results to the LAS for
// las_exchange, to a dashboard for dashboards, an export for research or
// legal) and then waits (up to InFlightWait) for deliveries already under
// way to end, so that when Apply returns no further request reaches a
// recipient of it; granting it queues its held batches again.
// Every change is recorded in the school's audit chain.
func (g *Gate) Apply(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (gateway.ConsentApplied, error) {
	ch, changed, err := g.set(ctx, school, p, grant, by)
	a := gateway.ConsentApplied{Change: ch, Changed: changed}
	if err != nil || !changed {
		return a, err
	}
	details := map[string]string{"processing": string(p), "old": onOff(ch.Old), "new": onOff(ch.New)}
	if grant {
		if a.Released, err = g.store.ReleaseBatches(ctx, school, p, g.now().UTC()); err != nil {
			return a, fmt.Errorf("release held %s batches of school %s: %w", p, school, err)
		}
		details["released_batches"] = fmt.Sprint(a.Released)
	} else {
		if a.Held, err = g.store.HoldBatches(ctx, school, p, HeldReasonFor(p), g.now().UTC()); err != nil {
			return a, fmt.Errorf("hold queued %s batches of school %s: %w", p, school, err)
		}
		details["held_batches"] = fmt.Sprint(a.Held)
		if a.StillInFlight, err = g.waitInFlight(ctx, school); err != nil {
			return a, err
		}
	}
	if g.audit != nil {
		if _, err := g.audit.Append(ctx, gateway.AuditChainOf(school), gateway.AuditConsent, school, ch.By, details); err != nil {
			return a, fmt.Errorf("audit consent change of school %s: %w", school, err)
		}
	}
	return a, nil
}

// waitInFlight waits until no delivery of the school is under way (a
// worker re-checks consent before it sends, so nothing new starts).
func (g *Gate) waitInFlight(ctx context.Context, school gateway.SchoolID) (int, error) {
	deadline := time.Now().Add(g.InFlightWait)
	for {
		n, err := g.store.InFlight(ctx, school, g.now())
		if err != nil {
			return 0, fmt.Errorf("deliveries in flight for school %s: %w", school, err)
		}
		if n == 0 || !time.Now().Before(deadline) {
			return n, nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, ctx.Err()
		case <-t.C:
		}
	}
}

func onOff(b bool) string {
	if b {
		return "granted"
	}
	return "off"
}

func (g *Gate) set(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (gateway.ConsentChange, bool, error) {
	by = strings.TrimSpace(by)
	switch {
	case !p.Valid():
		return gateway.ConsentChange{}, false, fmt.Errorf("%w: unknown processing %q (one of las_exchange, dashboards, legal, research)", gateway.ErrInvalid, p)
	case by == "":
		return gateway.ConsentChange{}, false, fmt.Errorf("%w: who changes consent must be named (--by)", gateway.ErrInvalid)
	}
	if _, err := g.store.School(ctx, school); err != nil {
		if errors.Is(err, gateway.ErrNotFound) {
			return gateway.ConsentChange{}, false, fmt.Errorf("school %s: %w", school, gateway.ErrNotFound)
		}
		return gateway.ConsentChange{}, false, err
	}
	cur, err := g.store.Consent(ctx, school)
	if err != nil {
		return gateway.ConsentChange{}, false, fmt.Errorf("consent of school %s: %w", school, err)
	}
	ch := gateway.ConsentChange{School: school, Processing: p, Old: cur[p], New: grant, By: by, At: g.now().UTC()}
	if ch.Old == ch.New {
		return ch, false, nil
	}
	if err := g.store.SetConsent(ctx, ch); err != nil {
		return gateway.ConsentChange{}, false, fmt.Errorf("set consent of school %s: %w", school, err)
	}
	return ch, true, nil
}
