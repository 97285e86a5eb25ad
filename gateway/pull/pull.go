package pull

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// sealer seals ECK iDs and computes their blind index. The vault's Sealer
// satisfies it; no Opener is ever given to this package.
type sealer interface {
	Seal(place vault.Place, plaintext []byte) ([]byte, error)
	Index(school gateway.SchoolID, value string) []byte
}

// fetcher streams one school's data from its LAS (a *soap.Client).
type fetcher interface {
	HaalLeerlinggegevens(ctx context.Context, r soap.Request, h soap.Handler) (*soap.Summary, error)
}

// gate is the consent check.
type gate interface {
	Require(ctx context.Context, school gateway.SchoolID, p gateway.Processing) error
}

// auditor appends audit entries (gateway/audit.Log).
type auditor interface {
	Append(ctx context.Context, chain string, kind gateway.AuditKind, school gateway.SchoolID, actor string, details map[string]string) (gateway.AuditEntry, error)
}

// Syncer syncs schools into a store.
type Syncer struct {
	Store      gateway.Store
	Sealer     sealer
	Consent    gate
	Thresholds Thresholds
	// Audit, when set, records every run (counts only) and every approval.
	Audit auditor
	Now   func() time.Time
	// BatchSize is the number of pupils written per stage batch.
	BatchSize int
}

// Options for one run.
type Options struct {
	DryRun     bool
	Schooljaar string // default: gateway.SchoolYearAt(now)
	// UseSince sends laatstontvangengegevens (the start of the last
	// successful pull) when the vendor profile allows it.
	UseSince bool
	// Progress, when set, is told the number of pupils read so far.
	Progress func(pupils int)
	// Actor is who started the run, recorded in its audit entry (default
	// "sync": the nightly schedule).
	Actor string
	// Lock, when set, is the school's sync lock this run holds: the run
	// stages with it as the fence, so once another process has taken the
	// lock over nothing of this run is applied; the run then fails with
	// error class "conflict".
	Lock *gateway.Lock
	// Scrubber scrubs the run's error text before it is recorded: the LAS
	// client's own (soap.Client.Scrubber, with the school's secrets); nil
	// finds ECK iDs by their shape and neutralises control characters.
	Scrubber *soap.Scrubber
}

// ErrorClassConflict is the error class of a run that collided with
// another writer: above all one whose sync lock was taken over.
const ErrorClassConflict = gateway.ClassConflict

// fence returns the stage options for a run under lock (none without one).
func fence(lock *gateway.Lock) []gateway.StageOption {
	if lock == nil {
		return nil
	}
	return []gateway.StageOption{{Fence: lock}}
}

// lockLost explains a conflict of a run under lock: the school's sync lock
// was taken over (or another run replaced this run's stage), so nothing of
// this run was applied.
func lockLost(lock *gateway.Lock, err error) error {
	if lock == nil || err == nil || !errors.Is(err, gateway.ErrConflict) {
		return err
	}
	return fmt.Errorf("%w (the sync lock was lost to another run; nothing was applied)", err)
}

// Result is the outcome of one run (counts only).
type Result struct {
	Run     gateway.SyncRun
	Reasons []string // why a sync was held
}

// audit records a run: counts, status and error class only.
func (s *Syncer) audit(ctx context.Context, kind gateway.AuditKind, run gateway.SyncRun, actor string) error {
	if s.Audit == nil {
		return nil
	}
	d := map[string]string{"run": run.ID, "status": string(run.Status), "pupils": fmt.Sprint(run.Pupils),
		"added": fmt.Sprint(run.Added), "changed": fmt.Sprint(run.Changed), "left": fmt.Sprint(run.Left),
		"teachers": fmt.Sprint(run.Teachers), "groups": fmt.Sprint(run.Groups), "warnings": fmt.Sprint(len(run.Warnings))}
	if run.DryRun {
		d["dry_run"] = "true"
	}
	if run.ErrorClass != "" {
		d["error_class"] = string(run.ErrorClass)
	}
	if _, err := s.Audit.Append(context.WithoutCancel(ctx), gateway.AuditChainOf(run.School), kind, run.School, actor, d); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func newID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// Sync runs one school: consent, fetch, map, seal, stage, thresholds, swap
// (see the run type for the stages). A refusal (no las_exchange) is
// returned as an error wrapping gateway.ErrConsentRequired together with a
// run of status refused. Every run, whatever its end, is recorded and
// audited.
func (s *Syncer) Sync(ctx context.Context, school gateway.School, las fetcher, o Options) (Result, error) {
	r := s.newRun(school, o)
	status, err := r.sync(ctx, las)
	return r.record(ctx, status, err)
}

func (s *Syncer) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 1000
}
