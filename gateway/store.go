package gateway

import (
	"context"
	"time"
)

// SyncStatus is how a sync run ended.
type SyncStatus string

const (
	SyncApplied   SyncStatus = "applied"
	SyncHeld      SyncStatus = "held"
	SyncUnchanged SyncStatus = "unchanged"
	SyncRefused   SyncStatus = "refused"
	SyncFailed    SyncStatus = "failed"
)

// SyncRun records one sync of one school (counts only, never personal data).
type SyncRun struct {
	ID         string     `json:"id"`
	School     SchoolID   `json:"school"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at"`
	Status     SyncStatus `json:"status"`
	DryRun     bool       `json:"dry_run,omitempty"`
	Pupils     int        `json:"pupils"`
	Added      int        `json:"added"`
	Changed    int        `json:"changed"`
	Left       int        `json:"left"`
	Teachers   int        `json:"teachers"`
	Groups     int        `json:"groups"`
	Warnings   []string   `json:"warnings,omitempty"`
	ErrorClass ErrorClass `json:"error_class,omitempty"` // empty on success
	Error      string     `json:"error,omitempty"`
}

// Store keeps schools, consent, the current snapshot of each school's data
// and sync runs. Every method returns ErrNotFound for an unknown school or
// record, and wraps other failures with context. Implementations:
// gateway/store/boltstore and gateway/store/redisstore; behaviour is specified
// once, by gateway/store/storetest.
type Store interface {
	// PutSchool creates or replaces a school.
	PutSchool(ctx context.Context, s School) error
	// School returns one school, or ErrNotFound.
	School(ctx context.Context, id SchoolID) (School, error)
	// UpdateSchool reads school id, lets fn change it and writes it back,
	// atomically against every other writer of the school: a change made
	// between the read and the write (a PutSchool, another UpdateSchool) is
	// never lost; the store runs fn again on the fresh record instead, so
	// fn may run more than once. fn must only change the School it is
	// given (it must not call the store). It returns the school as
	// written. ErrNotFound when the school does not exist (fn is not
	// called); an error from fn is returned as it is, not wrapped, and
	// nothing is written; an fn that changes the ID is refused with
	// ErrInvalid and nothing is written; ErrConflict when the record kept
	// changing under it (a store may give up after many attempts).
	UpdateSchool(ctx context.Context, id SchoolID, fn func(*School) error) (School, error)
	// Schools lists every school, ordered by id.
	Schools(ctx context.Context) ([]School, error)
	// DeleteSchool removes the school and every record of it (snapshot,
	// staged data, consent, runs, results, batches, evidence); its audit
	// chain stays. ErrNotFound when it does not exist.
	DeleteSchool(ctx context.Context, id SchoolID) error

	// SetConsent applies one change and appends it to the history, atomically.
	SetConsent(ctx context.Context, c ConsentChange) error
	// Consent returns the current opt-ins (empty when none were ever given).
	Consent(ctx context.Context, id SchoolID) (Consent, error)
	// ConsentHistory returns every change, oldest first.
	ConsentHistory(ctx context.Context, id SchoolID) ([]ConsentChange, error)

	// Stage starts a new staging area for a school's next snapshot, replacing
	// any earlier staging area of that school. Readers keep seeing the
	// current snapshot until Stage.Commit.
	// With StageOption.Fence, Commit refuses (ErrConflict) once the school's
	// lock is no longer held with that fencing token.
	Stage(ctx context.Context, id SchoolID, runID string, opts ...StageOption) (Stage, error)
	// StagedRun returns the run id of a kept (held) staging area, or ErrNotFound.
	StagedRun(ctx context.Context, id SchoolID) (string, error)
	// OpenStage reopens a kept staging area (to read it for a diff, or to
	// commit it on approval). ErrNotFound when runID is not the kept one.
	OpenStage(ctx context.Context, id SchoolID, runID string, opts ...StageOption) (Stage, error)

	// Pupils calls fn for every pupil of the current snapshot, ordered by PupilID.
	Pupils(ctx context.Context, id SchoolID, fn func(Pupil) error) error
	// Teachers returns the current teachers, ordered by key.
	Teachers(ctx context.Context, id SchoolID) ([]Teacher, error)
	// Groups returns the current home groups and composite groups, ordered by key.
	Groups(ctx context.Context, id SchoolID) ([]Group, []CompositeGroup, error)

	// PupilsByID returns the current pupils with the given ids; unknown ids
	// are absent from the map.
	PupilsByID(ctx context.Context, id SchoolID, ids []PupilID) (map[PupilID]Pupil, error)
	// PurgePupils deletes pupils from the current snapshot and from a kept
	// (held) staging area, for retention; it returns how many it deleted
	// from the current snapshot.
	PurgePupils(ctx context.Context, id SchoolID, ids []PupilID) (int, error)
	// MarkPupilsLeft sets LeftOn to leftOn (YYYY-MM-DD) on the named pupils
	// of the current snapshot that have none, and on the same pupils in a
	// kept (held) staging area, for retention: a school whose data is no
	// longer refreshed. A pupil already marked keeps its date; unknown ids
	// are skipped. It returns how many it marked in the current snapshot.
	// ErrInvalid when leftOn is empty.
	MarkPupilsLeft(ctx context.Context, id SchoolID, ids []PupilID, leftOn string) (int, error)
	// ExpireTexts clears the free texts of the school's records whose texts
	// date from before before (see ExpiredTexts): the Warnings and Error of
	// sync runs, the Message of the last connection check and the Reason
	// of batches. Everything else of those records stays; a record changed
	// meanwhile by another writer keeps its new texts. It returns how many
	// records of each kind it changed.
	ExpireTexts(ctx context.Context, id SchoolID, before time.Time) (ExpiredTexts, error)

	// AddSyncRun records a run; SyncRuns returns the newest first, at most limit.
	AddSyncRun(ctx context.Context, r SyncRun) error
	SyncRuns(ctx context.Context, id SchoolID, limit int) ([]SyncRun, error)

	Outbox
	EvidenceStore
	AuditStore
	LoginStore
	SecretStore
	TokenStore
	LockStore
	StatusStore

	Close() error
}

// Stage is a school's next snapshot being written. Pupils, teachers and
// groups are added in batches; Commit swaps it in atomically (readers see
// either the old or the new snapshot, never a mix); Keep leaves it for a later
// OpenStage (a held sync); Discard drops it. After Commit or Discard the stage
// cannot be used again.
type Stage interface {
	RunID() string
	PutPupils(ctx context.Context, ps []Pupil) error
	PutTeachers(ctx context.Context, ts []Teacher) error
	PutGroups(ctx context.Context, gs []Group, cs []CompositeGroup) error
	// Pupils calls fn for every staged pupil, ordered by PupilID. fn may
	// PutPupils to overwrite pupils by id as it goes (the walk still sees
	// each pupil once, as it was when the walk reached it).
	Pupils(ctx context.Context, fn func(Pupil) error) error
	Commit(ctx context.Context) error
	Keep(ctx context.Context) error
	Discard(ctx context.Context) error
}
