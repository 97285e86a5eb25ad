package consent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// store is what the gate needs of gateway.Store.
type store interface {
	School(ctx context.Context, id gateway.SchoolID) (gateway.School, error)
	Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error)
	SetConsent(ctx context.Context, c gateway.ConsentChange) error
}

// Gate checks and changes consent.
type Gate struct {
	store store
	now   func() time.Time
}

// New returns a gate over st; now is the clock (nil means time.Now).
func New(st store, now func() time.Time) *Gate {
	if now == nil {
		now = time.Now
	}
	return &Gate{store: st, now: now}
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
func (g *Gate) Set(ctx context.Context, school gateway.SchoolID, p gateway.Processing, grant bool, by string) (gateway.ConsentChange, bool, error) {
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
