package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ScopedStore returns a Store that enforces the caller's scope (WithScope)
// in every method, before the wrapped store is asked anything (STYLE.md R12):
// an API handler that forgets a check still cannot read or change school B.
//
// Without a scope in ctx (the CLI, the scheduler, the delivery worker) every
// method delegates unchanged. With one:
//
//   - A method that names a school (as an argument, or inside a value it
//     writes: School.ID, ConsentChange.School, SyncRun.School,
//     Evidence.School, Claim.Batch.School, Lock.School, a batch's or result's
//     School, a StageOption's fence) returns an error wrapping ErrNotFound
//     when the scope does not allow that school: to the caller it does not
//     exist. A value that leaves its school empty (a Result or Batch handed
//     to Enqueue, a part handed to Split) takes the checked school of the call.
//   - An audit chain counts as its school's (AuditChainOf); the gateway chain,
//     and any other name, needs Scope.All; out of scope is ErrNotFound.
//   - Listings filter: Schools, AuditChains and WalkLogins show only what the
//     scope allows (a login without a school needs Scope.All).
//   - Gateway-wide acts that name no school (tokens, gateway secrets,
//     deleting login records, claiming outbox batches across schools) need
//     Scope.All; otherwise they return an error wrapping ErrForbidden. So
//     does deleting the personal part of audit entries, also of a school's
//     own chain (after the chain check).
//
// The wrapper holds no state; a Stage it returns is bound to a school that
// was checked when it was made. It does not embed Store, so a new Store
// method does not compile here until someone decides its scope.
func ScopedStore(st Store) Store { return scopedStore{st: st} }

type scopedStore struct{ st Store }

var _ Store = scopedStore{}

// needAll refuses a gateway-wide act to a caller whose scope is limited.
func needAll(ctx context.Context, op string) error {
	if s, ok := ScopeFrom(ctx); ok && !s.All {
		return fmt.Errorf("%s: %w: needs the gateway-wide scope", op, ErrForbidden)
	}
	return nil
}

// chainInScope allows a school's chain to a scope with that school, and
// every other chain (the gateway chain included) only to Scope.All.
func chainInScope(ctx context.Context, chain string) error {
	s, ok := ScopeFrom(ctx)
	if !ok || s.All {
		return nil
	}
	if id, isSchool := strings.CutPrefix(chain, AuditChainOf("")); isSchool && id != "" && s.Allows(SchoolID(id)) {
		return nil
	}
	return fmt.Errorf("audit chain %s: %w", chain, ErrNotFound)
}

// optionalInScope checks a school carried by a value only when it is set.
func optionalInScope(ctx context.Context, school SchoolID) error {
	if school == "" {
		return nil
	}
	return inScope(ctx, school)
}

// fencesInScope checks the school of every fence in opts.
func fencesInScope(ctx context.Context, opts []StageOption) error {
	for _, o := range opts {
		if o.Fence != nil {
			if err := inScope(ctx, o.Fence.School); err != nil {
				return err
			}
		}
	}
	return nil
}

// Schools: filtered to the scope.
func (s scopedStore) Schools(ctx context.Context) ([]School, error) {
	all, err := s.st.Schools(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := ScopeFrom(ctx)
	if !ok || sc.All {
		return all, nil
	}
	out := all[:0:0]
	for _, x := range all {
		if sc.Allows(x.ID) {
			out = append(out, x)
		}
	}
	return out, nil
}

// PutSchool: checks the school's ID (a limited scope cannot create a school
// outside it, nor replace one).
func (s scopedStore) PutSchool(ctx context.Context, x School) error {
	if err := inScope(ctx, x.ID); err != nil {
		return err
	}
	return s.st.PutSchool(ctx, x)
}

func (s scopedStore) School(ctx context.Context, id SchoolID) (School, error) {
	if err := inScope(ctx, id); err != nil {
		return School{}, err
	}
	return s.st.School(ctx, id)
}

// UpdateSchool: checks the id, and refuses an fn that changes it
// (ErrInvalid, nothing written): a scoped caller cannot move a school into
// or out of its scope.
func (s scopedStore) UpdateSchool(ctx context.Context, id SchoolID, fn func(*School) error) (School, error) {
	if err := inScope(ctx, id); err != nil {
		return School{}, err
	}
	return s.st.UpdateSchool(ctx, id, func(x *School) error {
		if err := fn(x); err != nil {
			return err
		}
		if x.ID != id {
			return fmt.Errorf("update school %s: %w: the id cannot change", id, ErrInvalid)
		}
		return nil
	})
}

func (s scopedStore) DeleteSchool(ctx context.Context, id SchoolID) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.DeleteSchool(ctx, id)
}

// SetConsent: checks ConsentChange.School.
func (s scopedStore) SetConsent(ctx context.Context, c ConsentChange) error {
	if err := inScope(ctx, c.School); err != nil {
		return err
	}
	return s.st.SetConsent(ctx, c)
}

func (s scopedStore) Consent(ctx context.Context, id SchoolID) (Consent, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.Consent(ctx, id)
}

func (s scopedStore) ConsentHistory(ctx context.Context, id SchoolID) ([]ConsentChange, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.ConsentHistory(ctx, id)
}

// Stage: checks the school and the school of any fence.
func (s scopedStore) Stage(ctx context.Context, id SchoolID, runID string, opts ...StageOption) (Stage, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	if err := fencesInScope(ctx, opts); err != nil {
		return nil, err
	}
	return s.st.Stage(ctx, id, runID, opts...)
}

func (s scopedStore) StagedRun(ctx context.Context, id SchoolID) (string, error) {
	if err := inScope(ctx, id); err != nil {
		return "", err
	}
	return s.st.StagedRun(ctx, id)
}

// OpenStage: checks the school and the school of any fence.
func (s scopedStore) OpenStage(ctx context.Context, id SchoolID, runID string, opts ...StageOption) (Stage, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	if err := fencesInScope(ctx, opts); err != nil {
		return nil, err
	}
	return s.st.OpenStage(ctx, id, runID, opts...)
}

func (s scopedStore) Pupils(ctx context.Context, id SchoolID, fn func(Pupil) error) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.Pupils(ctx, id, fn)
}

func (s scopedStore) Teachers(ctx context.Context, id SchoolID) ([]Teacher, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.Teachers(ctx, id)
}

func (s scopedStore) Groups(ctx context.Context, id SchoolID) ([]Group, []CompositeGroup, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, nil, err
	}
	return s.st.Groups(ctx, id)
}

func (s scopedStore) PupilsByID(ctx context.Context, id SchoolID, ids []PupilID) (map[PupilID]Pupil, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.PupilsByID(ctx, id, ids)
}

func (s scopedStore) PurgePupils(ctx context.Context, id SchoolID, ids []PupilID) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.PurgePupils(ctx, id, ids)
}

// AddSyncRun: checks SyncRun.School.
func (s scopedStore) AddSyncRun(ctx context.Context, r SyncRun) error {
	if err := inScope(ctx, r.School); err != nil {
		return err
	}
	return s.st.AddSyncRun(ctx, r)
}

func (s scopedStore) SyncRuns(ctx context.Context, id SchoolID, limit int) ([]SyncRun, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.SyncRuns(ctx, id, limit)
}

// --- Outbox

func (s scopedStore) PutTests(ctx context.Context, id SchoolID, tests []TestDefinition) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.PutTests(ctx, id, tests)
}

func (s scopedStore) Tests(ctx context.Context, id SchoolID) ([]TestDefinition, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.Tests(ctx, id)
}

// Enqueue: checks the school, the batch's School and every result's
// School (each when set).
func (s scopedStore) Enqueue(ctx context.Context, id SchoolID, rs []Result, b Batch, also ...Batch) (Enqueued, error) {
	if err := inScope(ctx, id); err != nil {
		return Enqueued{}, err
	}
	for _, x := range append([]Batch{b}, also...) {
		if err := optionalInScope(ctx, x.School); err != nil {
			return Enqueued{}, err
		}
	}
	for _, r := range rs {
		if err := optionalInScope(ctx, r.School); err != nil {
			return Enqueued{}, err
		}
	}
	return s.st.Enqueue(ctx, id, rs, b, also...)
}

func (s scopedStore) EnqueueExport(ctx context.Context, id SchoolID, b Batch) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	if err := optionalInScope(ctx, b.School); err != nil {
		return err
	}
	return s.st.EnqueueExport(ctx, id, b)
}

func (s scopedStore) Results(ctx context.Context, id SchoolID, keys []string) ([]Result, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.Results(ctx, id, keys)
}

func (s scopedStore) WalkResults(ctx context.Context, id SchoolID, fn func(Result) error) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.WalkResults(ctx, id, fn)
}

func (s scopedStore) DeleteResults(ctx context.Context, id SchoolID, keys []string) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.DeleteResults(ctx, id, keys)
}

func (s scopedStore) Batch(ctx context.Context, id SchoolID, batch string) (Batch, error) {
	if err := inScope(ctx, id); err != nil {
		return Batch{}, err
	}
	return s.st.Batch(ctx, id, batch)
}

func (s scopedStore) WalkBatches(ctx context.Context, id SchoolID, fn func(Batch) error) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.WalkBatches(ctx, id, fn)
}

// Claim: names no school and leases batches of every school, so it needs
// Scope.All. Filtering the claimed batches afterwards would leave the others
// leased to nobody until their lease lapsed.
func (s scopedStore) Claim(ctx context.Context, r ClaimRequest) ([]Claim, error) {
	if err := needAll(ctx, "claim outbox batches"); err != nil {
		return nil, err
	}
	return s.st.Claim(ctx, r)
}

// Settle: checks Claim.Batch.School (a claim without a school is denied to
// a limited scope).
func (s scopedStore) Settle(ctx context.Context, c Claim, st Settlement) (Batch, error) {
	if err := inScope(ctx, c.Batch.School); err != nil {
		return Batch{}, err
	}
	return s.st.Settle(ctx, c, st)
}

// Split: checks Claim.Batch.School and the School of every part (when set).
func (s scopedStore) Split(ctx context.Context, c Claim, parts []Batch, at time.Time) error {
	if err := inScope(ctx, c.Batch.School); err != nil {
		return err
	}
	for _, p := range parts {
		if err := optionalInScope(ctx, p.School); err != nil {
			return err
		}
	}
	return s.st.Split(ctx, c, parts, at)
}

func (s scopedStore) HoldBatches(ctx context.Context, id SchoolID, p Processing, reason string, at time.Time) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.HoldBatches(ctx, id, p, reason, at)
}

func (s scopedStore) ReleaseBatches(ctx context.Context, id SchoolID, p Processing, at time.Time) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.ReleaseBatches(ctx, id, p, at)
}

func (s scopedStore) Requeue(ctx context.Context, id SchoolID, ids []string, at time.Time) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.Requeue(ctx, id, ids, at)
}

func (s scopedStore) InFlight(ctx context.Context, id SchoolID, now time.Time) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.InFlight(ctx, id, now)
}

func (s scopedStore) OutboxDepth(ctx context.Context, id SchoolID) (map[BatchState]int, error) {
	if err := inScope(ctx, id); err != nil {
		return nil, err
	}
	return s.st.OutboxDepth(ctx, id)
}

// DeleteBatches: checks id.
func (s scopedStore) DeleteBatches(ctx context.Context, id SchoolID, ids []string) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.DeleteBatches(ctx, id, ids)
}

// --- EvidenceStore

// PutEvidence: checks Evidence.School.
func (s scopedStore) PutEvidence(ctx context.Context, e Evidence) error {
	if err := inScope(ctx, e.School); err != nil {
		return err
	}
	return s.st.PutEvidence(ctx, e)
}

func (s scopedStore) Evidence(ctx context.Context, id SchoolID, evID string) (Evidence, error) {
	if err := inScope(ctx, id); err != nil {
		return Evidence{}, err
	}
	return s.st.Evidence(ctx, id, evID)
}

func (s scopedStore) WalkEvidence(ctx context.Context, id SchoolID, fn func(Evidence) error) error {
	if err := inScope(ctx, id); err != nil {
		return err
	}
	return s.st.WalkEvidence(ctx, id, fn)
}

func (s scopedStore) DeleteEvidence(ctx context.Context, id SchoolID, ids []string) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.DeleteEvidence(ctx, id, ids)
}
