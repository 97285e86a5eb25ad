package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

// Store is what Run needs of gateway.Store. Every method reports an unknown
// school as gateway.ErrNotFound.
type Store interface {
	Schools(ctx context.Context) ([]gateway.School, error)
	Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error)
	ConsentHistory(ctx context.Context, id gateway.SchoolID) ([]gateway.ConsentChange, error)
	SyncRuns(ctx context.Context, id gateway.SchoolID, limit int) ([]gateway.SyncRun, error)
	ConnectionCheck(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error)
	Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error
	PupilsByID(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (map[gateway.PupilID]gateway.Pupil, error)
	PurgePupils(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (int, error)
	MarkPupilsLeft(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID, leftOn string) (int, error)
	WalkResults(ctx context.Context, id gateway.SchoolID, fn func(gateway.Result) error) error
	DeleteResults(ctx context.Context, id gateway.SchoolID, keys []string) (int, error)
	WalkEvidence(ctx context.Context, id gateway.SchoolID, fn func(gateway.Evidence) error) error
	DeleteEvidence(ctx context.Context, id gateway.SchoolID, ids []string) (int, error)
	WalkBatches(ctx context.Context, id gateway.SchoolID, fn func(gateway.Batch) error) error
	Results(ctx context.Context, id gateway.SchoolID, keys []string) ([]gateway.Result, error)
	DeleteBatches(ctx context.Context, id gateway.SchoolID, ids []string) (int, error)
	ExpireTexts(ctx context.Context, id gateway.SchoolID, before time.Time) (gateway.ExpiredTexts, error)
	WalkLogins(ctx context.Context, fn func(gateway.Login) error) error
	DeleteLogins(ctx context.Context, ids []string) (int, error)
	AuditChains(ctx context.Context) ([]string, error)
	WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error
	DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error)
	// AppendAudit and AuditHead let Run write its receipt when
	// Options.Audit is nil.
	AppendAudit(ctx context.Context, e gateway.AuditEntry) error
	AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error)
}

// Auditor appends the purge receipts; *audit.Log is one.
type Auditor interface {
	School(ctx context.Context, school gateway.SchoolID, kind gateway.AuditKind, actor string, details map[string]string) (gateway.AuditEntry, error)
	Gateway(ctx context.Context, kind gateway.AuditKind, actor string, details map[string]string) (gateway.AuditEntry, error)
}

// Compacter rewrites a store's files so that what was deleted is gone from
// them too: the bbolt store keeps deleted records in free pages until it
// is compacted; a store that frees deleted data at once (Redis) does
// nothing. Both stores have the method.
type Compacter interface {
	Compact(ctx context.Context) error
}

// Options steer one run.
type Options struct {
	// Now is the moment the rules are applied at (required); its
	// Europe/Amsterdam date is "today".
	Now time.Time
	// DryRun finds and counts what a real run would delete, and changes
	// nothing: no deletion, no audit entry.
	DryRun bool
	// Actor is recorded in the audit entries; empty means "retention".
	Actor string
	// Audit receives the purge receipts; nil means an audit.Log on the
	// store whose entries are stamped with Now.
	Audit Auditor
	// StaleAfter is how long a school with las_exchange may go without a
	// successful sync before its data counts as no longer refreshed (see
	// Stale); 0 means DefaultStaleAfter, a negative value turns that rule
	// off (a school without las_exchange is stale all the same).
	StaleAfter time.Duration
	// Compact, when set, is called after a run that deleted or cleared
	// anything (not in a dry run), before the gateway receipt is written;
	// when it fails, the receipt says so and the next run calls it even if
	// it deletes nothing.
	Compact Compacter
}

// chunk is how many ids one delete call carries.
const chunk = 500

// detailCompactPending marks a gateway receipt of a run that deleted
// something but could not compact the store: the next run compacts.
const detailCompactPending = "compact_pending"

// Run applies the retention rules to every school of st, to the login
// records and to the personal parts of audit entries, at o.Now (see the
// package doc for the rules, the order of the deletions and why a stopped
// run is safe to repeat), and then compacts the store (o.Compact). Unless
// o.DryRun, it appends one gateway.AuditRetentionPurge entry to the chain
// of each school that purged or marked something, and one to the gateway
// chain with the totals, also when nothing was purged.
//
// A school whose purge fails is recorded in its SchoolReceipt and the run
// goes on with the others; the error returned then joins every school's
// error. A zero o.Now is gateway.ErrInvalid. A cancelled ctx stops the run.
func Run(ctx context.Context, st Store, o Options) (Receipt, error) {
	if o.Now.IsZero() {
		return Receipt{}, fmt.Errorf("retention: %w: no time given", gateway.ErrInvalid)
	}
	if o.Actor == "" {
		o.Actor = "retention"
	}
	if o.Audit == nil {
		now := o.Now
		o.Audit = audit.New(st, func() time.Time { return now })
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	today := Today(o.Now)
	rc := Receipt{At: o.Now, DryRun: o.DryRun, Today: today.String(), Cutoff: Cutoff(today).String(),
		TextCutoff: TextCutoff(today).String(), Schools: []SchoolReceipt{}}

	purged, errs, err := runSchools(ctx, st, o, today, &rc)
	if err != nil {
		return rc, err
	}
	n, err := purgeLogins(ctx, st, purged, today, o.DryRun)
	rc.Logins = n
	if err != nil {
		errs = append(errs, err)
	}
	var pending bool
	rc.AuditPersonal, pending, err = purgeAuditPersonal(ctx, st, today, o.DryRun)
	if err != nil {
		errs = append(errs, err)
	}
	if err := ctx.Err(); err != nil {
		return rc, fmt.Errorf("retention: %w", err)
	}
	failed := false
	if !o.DryRun && o.Compact != nil && (rc.deleted() || pending) {
		if err := o.Compact.Compact(ctx); err != nil {
			errs = append(errs, fmt.Errorf("retention: compact the store: %w", err))
			failed = true
		} else {
			rc.Compacted = true
		}
	}
	rc.Rules = rules(rc, o.StaleAfter)
	if !o.DryRun {
		d := gatewayDetails(rc, len(errs))
		if failed {
			// The next run compacts even when it deletes nothing.
			d[detailCompactPending] = "true"
		}
		if _, err := o.Audit.Gateway(ctx, gateway.AuditRetentionPurge, o.Actor, d); err != nil {
			errs = append(errs, fmt.Errorf("retention: audit receipt: %w", err))
		}
	}
	return rc, errors.Join(errs...)
}

// runSchools applies the per-school rules to every school and adds their
// receipts to rc. It returns, per school, the pupils purged (or to be: the
// login rule needs them, and in a dry run the store still has them), the
// schools' errors, and an error that ends the run (a cancelled ctx, a
// store that cannot list its schools).
func runSchools(ctx context.Context, st Store, o Options, today Date, rc *Receipt) (map[gateway.SchoolID]map[gateway.PupilID]bool, []error, error) {
	schools, err := st.Schools(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("retention: list schools: %w", err)
	}
	var errs []error
	purged := make(map[gateway.SchoolID]map[gateway.PupilID]bool, len(schools))
	for _, s := range schools {
		if err := ctx.Err(); err != nil {
			return purged, errs, fmt.Errorf("retention: %w", err)
		}
		sr, gone, err := purgeSchool(ctx, st, s, today, o)
		purged[s.ID] = gone
		if err != nil {
			sr.Error = err.Error()
			errs = append(errs, err)
		}
		rc.add(sr)
		if !o.DryRun && sr.Changed() {
			if _, err := o.Audit.School(ctx, s.ID, gateway.AuditRetentionPurge, o.Actor, schoolDetails(sr, *rc)); err != nil {
				errs = append(errs, fmt.Errorf("retention: school %s: audit receipt: %w", s.ID, err))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return purged, errs, fmt.Errorf("retention: %w", err)
	}
	return purged, errs, nil
}

// deleteChunks calls del for the ids, chunk at a time, and adds up how many
// existed.
func deleteChunks[T any](ctx context.Context, ids []T, del func([]T) (int, error)) (int, error) {
	total := 0
	for part := range slices.Chunk(ids, chunk) {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := del(part)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
