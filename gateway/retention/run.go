package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
)

// Store is what Run needs of gateway.Store. Every method reports an unknown
// school as gateway.ErrNotFound.
type Store interface {
	Schools(ctx context.Context) ([]gateway.School, error)
	Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error
	PupilsByID(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (map[gateway.PupilID]gateway.Pupil, error)
	PurgePupils(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (int, error)
	WalkResults(ctx context.Context, id gateway.SchoolID, fn func(gateway.Result) error) error
	DeleteResults(ctx context.Context, id gateway.SchoolID, keys []string) (int, error)
	WalkEvidence(ctx context.Context, id gateway.SchoolID, fn func(gateway.Evidence) error) error
	DeleteEvidence(ctx context.Context, id gateway.SchoolID, ids []string) (int, error)
	WalkBatches(ctx context.Context, id gateway.SchoolID, fn func(gateway.Batch) error) error
	Results(ctx context.Context, id gateway.SchoolID, keys []string) ([]gateway.Result, error)
	DeleteBatches(ctx context.Context, id gateway.SchoolID, ids []string) (int, error)
	WalkLogins(ctx context.Context, fn func(gateway.Login) error) error
	DeleteLogins(ctx context.Context, ids []string) (int, error)
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
}

// SchoolReceipt says what was purged at one school (or, in a dry run, what
// would be).
type SchoolReceipt struct {
	School gateway.SchoolID `json:"school"`
	// Pupils purged: they left two years ago or longer.
	Pupils int `json:"pupils"`
	// Results of those pupils (all of them, trial results included), and
	// of pupils the school no longer knows.
	Results int `json:"results"`
	// TrialResults of pupils who stay, tested two years ago or longer.
	TrialResults int `json:"trial_results"`
	// Evidence records that named a purged (or unknown) pupil or a purged
	// result.
	Evidence int `json:"evidence"`
	// Batches are ended delivery batches none of whose results is left
	// (they list the result keys).
	Batches int `json:"batches"`
	// Skipped counts records kept because their date could not be read (a
	// pupil's LeftOn, a trial result's Date); they need a person's look.
	Skipped int `json:"skipped,omitempty"`
	// Error is set when the school's purge failed part-way; a second run
	// finishes it.
	Error string `json:"error,omitempty"`
}

// Purged reports whether anything was (or would be) deleted at the school.
func (s SchoolReceipt) Purged() bool {
	return s.Pupils+s.Results+s.TrialResults+s.Evidence+s.Batches > 0
}

// Receipt is the outcome of a run: per school and in total, with the dates
// the rules were applied at.
type Receipt struct {
	At     time.Time `json:"at"`
	DryRun bool      `json:"dry_run"`
	// Today is the Europe/Amsterdam date of At; Cutoff the latest start date
	// (left, tested, last used) that has expired by Today.
	Today   string          `json:"today"`
	Cutoff  string          `json:"cutoff"`
	Schools []SchoolReceipt `json:"schools"`
	// Logins is the number of login records purged (they are gateway-wide).
	Logins int `json:"logins"`

	Pupils       int `json:"pupils"`
	Results      int `json:"results"`
	TrialResults int `json:"trial_results"`
	Evidence     int `json:"evidence"`
	Batches      int `json:"batches"`
	Skipped      int `json:"skipped,omitempty"`
}

// chunk is how many ids one delete call carries.
const chunk = 500

// Run applies the retention rules to every school of st and to the login
// records, at o.Now (see the package doc for the rules, the order of the
// deletions and why a stopped run is safe to repeat). Unless o.DryRun, it
// appends one gateway.AuditRetentionPurge entry to the chain of each school
// that purged something, and one to the gateway chain with the totals, also
// when nothing was purged.
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
	today := Today(o.Now)
	rc := Receipt{At: o.Now, DryRun: o.DryRun, Today: today.String(), Cutoff: Cutoff(today).String(), Schools: []SchoolReceipt{}}

	schools, err := st.Schools(ctx)
	if err != nil {
		return rc, fmt.Errorf("retention: list schools: %w", err)
	}
	var errs []error
	// purged keeps, per school, the pupils this run purged (or would): the
	// login rule needs them, and in a dry run the store still has them.
	purged := make(map[gateway.SchoolID]map[gateway.PupilID]bool, len(schools))
	for _, s := range schools {
		if err := ctx.Err(); err != nil {
			return rc, fmt.Errorf("retention: %w", err)
		}
		sr, gone, err := purgeSchool(ctx, st, s.ID, today, o)
		purged[s.ID] = gone
		if err != nil {
			sr.Error = err.Error()
			errs = append(errs, err)
		}
		rc.Schools = append(rc.Schools, sr)
		rc.Pupils += sr.Pupils
		rc.Results += sr.Results
		rc.TrialResults += sr.TrialResults
		rc.Evidence += sr.Evidence
		rc.Batches += sr.Batches
		rc.Skipped += sr.Skipped
		if !o.DryRun && sr.Purged() {
			if _, err := o.Audit.School(ctx, s.ID, gateway.AuditRetentionPurge, o.Actor, schoolDetails(sr, rc)); err != nil {
				errs = append(errs, fmt.Errorf("retention: school %s: audit receipt: %w", s.ID, err))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return rc, fmt.Errorf("retention: %w", err)
	}

	n, err := purgeLogins(ctx, st, purged, today, o.DryRun)
	rc.Logins = n
	if err != nil {
		errs = append(errs, err)
	}
	if !o.DryRun {
		if _, err := o.Audit.Gateway(ctx, gateway.AuditRetentionPurge, o.Actor, gatewayDetails(rc, len(errs))); err != nil {
			errs = append(errs, fmt.Errorf("retention: audit receipt: %w", err))
		}
	}
	return rc, errors.Join(errs...)
}

// purgeSchool finds the expired records of one school and, unless dry,
// deletes them: evidence, then results, then pupils. It returns the pupils
// purged (or to be purged).
func purgeSchool(ctx context.Context, st Store, id gateway.SchoolID, today Date, o Options) (SchoolReceipt, map[gateway.PupilID]bool, error) {
	sr := SchoolReceipt{School: id}
	gone := map[gateway.PupilID]bool{}
	known := map[gateway.PupilID]bool{}
	err := st.Pupils(ctx, id, func(p gateway.Pupil) error {
		known[p.ID] = true
		if p.LeftOn == "" {
			return nil
		}
		if _, err := ParseDate(p.LeftOn); err != nil {
			sr.Skipped++
			return nil
		}
		if PupilExpired(p.LeftOn, today) {
			gone[p.ID] = true
		}
		return nil
	})
	if err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: walk pupils: %w", id, err)
	}
	// A record of a pupil the school no longer knows is treated as one of a
	// purged pupil: see "Order and crash safety" in the package doc.
	goneOrUnknown := func(p gateway.PupilID) bool { return gone[p] || !known[p] }

	var ofGone, trial []string // result keys
	err = st.WalkResults(ctx, id, func(r gateway.Result) error {
		switch {
		case goneOrUnknown(r.Pupil):
			ofGone = append(ofGone, r.Key)
		case ResultExpired(r, false, today):
			trial = append(trial, r.Key)
		case r.Trial:
			if _, err := ParseDate(r.Date); err != nil {
				sr.Skipped++
			}
		}
		return nil
	})
	if err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: walk results: %w", id, err)
	}
	deadKeys := make(map[string]bool, len(ofGone)+len(trial))
	for _, k := range ofGone {
		deadKeys[k] = true
	}
	for _, k := range trial {
		deadKeys[k] = true
	}

	var evidence []string
	err = st.WalkEvidence(ctx, id, func(e gateway.Evidence) error {
		if slices.ContainsFunc(e.Pupils, goneOrUnknown) ||
			slices.ContainsFunc(e.Keys, func(k string) bool { return deadKeys[k] }) {
			evidence = append(evidence, e.ID)
		}
		return nil
	})
	if err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: walk evidence: %w", id, err)
	}
	pupils := make([]gateway.PupilID, 0, len(gone))
	for p := range gone {
		pupils = append(pupils, p)
	}
	slices.Sort(pupils)

	// Ended batches whose results are all gone (now or earlier) go too:
	// they list result keys, and a key may be the publisher's own id.
	var batches []string
	err = st.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if !b.State.Terminal() {
			return nil
		}
		left, err := st.Results(ctx, id, b.Keys)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(left, func(r gateway.Result) bool { return !deadKeys[r.Key] }) {
			batches = append(batches, b.ID)
		}
		return nil
	})
	if err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: walk batches: %w", id, err)
	}

	if o.DryRun {
		sr.Evidence, sr.Results, sr.TrialResults, sr.Pupils, sr.Batches = len(evidence), len(ofGone), len(trial), len(pupils), len(batches)
		return sr, gone, nil
	}
	// Evidence first, then results, then pupils: see "Order and crash
	// safety" in the package doc.
	if sr.Evidence, err = deleteChunks(ctx, evidence, func(ids []string) (int, error) { return st.DeleteEvidence(ctx, id, ids) }); err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: delete evidence: %w", id, err)
	}
	if sr.Results, err = deleteChunks(ctx, ofGone, func(keys []string) (int, error) { return st.DeleteResults(ctx, id, keys) }); err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: delete results of purged pupils: %w", id, err)
	}
	if sr.TrialResults, err = deleteChunks(ctx, trial, func(keys []string) (int, error) { return st.DeleteResults(ctx, id, keys) }); err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: delete trial results: %w", id, err)
	}
	if sr.Batches, err = deleteChunks(ctx, batches, func(ids []string) (int, error) { return st.DeleteBatches(ctx, id, ids) }); err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: delete batches: %w", id, err)
	}
	if sr.Pupils, err = deleteChunks(ctx, pupils, func(ids []gateway.PupilID) (int, error) { return st.PurgePupils(ctx, id, ids) }); err != nil {
		return sr, gone, fmt.Errorf("retention: school %s: purge pupils: %w", id, err)
	}
	return sr, gone, nil
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

// schoolDetails is the purge receipt of one school for the audit log:
// counts and dates only.
func schoolDetails(sr SchoolReceipt, rc Receipt) map[string]string {
	d := map[string]string{
		"pupils":              strconv.Itoa(sr.Pupils),
		"results":             strconv.Itoa(sr.Results),
		"trial_results":       strconv.Itoa(sr.TrialResults),
		"evidence":            strconv.Itoa(sr.Evidence),
		"batches":             strconv.Itoa(sr.Batches),
		"today":               rc.Today,
		"left_on_or_before":   rc.Cutoff,
		"tested_on_or_before": rc.Cutoff,
		"period_years":        strconv.Itoa(Period),
	}
	if sr.Skipped > 0 {
		d["skipped"] = strconv.Itoa(sr.Skipped)
	}
	if sr.Error != "" {
		d["outcome"] = "incomplete"
	}
	return d
}

// gatewayDetails is the run's receipt for the gateway chain: the totals.
func gatewayDetails(rc Receipt, failures int) map[string]string {
	purged := 0
	for _, s := range rc.Schools {
		if s.Purged() {
			purged++
		}
	}
	d := map[string]string{
		"schools":                strconv.Itoa(len(rc.Schools)),
		"schools_purged":         strconv.Itoa(purged),
		"pupils":                 strconv.Itoa(rc.Pupils),
		"results":                strconv.Itoa(rc.Results),
		"trial_results":          strconv.Itoa(rc.TrialResults),
		"evidence":               strconv.Itoa(rc.Evidence),
		"batches":                strconv.Itoa(rc.Batches),
		"logins":                 strconv.Itoa(rc.Logins),
		"today":                  rc.Today,
		"left_on_or_before":      rc.Cutoff,
		"tested_on_or_before":    rc.Cutoff,
		"last_used_on_or_before": rc.Cutoff,
		"period_years":           strconv.Itoa(Period),
	}
	if rc.Skipped > 0 {
		d["skipped"] = strconv.Itoa(rc.Skipped)
	}
	if failures > 0 {
		d["outcome"] = "incomplete"
		d["errors"] = strconv.Itoa(failures)
	}
	return d
}
