package pull

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
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

// Thresholds hold a sync whose share of left or changed pupils is too large.
type Thresholds struct {
	Left    float64 // share of current pupils marked left
	Changed float64 // share of current pupils changed
	// Rollover thresholds apply from 1 August to 1 October, when whole
	// year groups move on and leave.
	RolloverLeft    float64
	RolloverChanged float64
}

// DefaultThresholds: 10% left, 50% changed; relaxed to 40% / 95% during the rollover.
var DefaultThresholds = Thresholds{Left: 0.10, Changed: 0.50, RolloverLeft: 0.40, RolloverChanged: 0.95}

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
	// Lock, when set, is the school's sync lock this run holds: the run
	// stages with it as the fence, so once another process has taken the
	// lock over nothing of this run is applied; the run then fails with
	// error class "conflict".
	Lock *gateway.Lock
}

// ErrorClassConflict is the error class of a run that collided with
// another writer: above all one whose sync lock was taken over.
const ErrorClassConflict = "conflict"

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
		d["error_class"] = run.ErrorClass
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

// entry is what the sync keeps of a current pupil to match and diff: no names.
type entry struct {
	id     gateway.PupilID
	hash   [32]byte
	index  []byte
	sealed []byte
	leftOn string
	seen   bool
}

// Sync runs one school. A refusal (no las_exchange) is returned as an error
// wrapping gateway.ErrConsentRequired together with a run of status refused.
func (s *Syncer) Sync(ctx context.Context, school gateway.School, las fetcher, o Options) (Result, error) {
	start := s.now()
	run := gateway.SyncRun{ID: newID("run_"), School: school.ID, StartedAt: start.UTC(), DryRun: o.DryRun}
	res := Result{}
	finish := func(status gateway.SyncStatus, err error) (Result, error) {
		run.Status, run.FinishedAt = status, s.now().UTC()
		if err != nil {
			var se *soap.Error
			if errors.As(err, &se) {
				run.ErrorClass = string(se.Class)
			} else if errors.Is(err, gateway.ErrConflict) {
				run.ErrorClass = ErrorClassConflict
				err = lockLost(o.Lock, err)
			}
			run.Error = err.Error()
		}
		res.Run = run
		if aerr := s.Store.AddSyncRun(context.WithoutCancel(ctx), run); aerr != nil && err == nil {
			err = fmt.Errorf("sync %s: record run: %w", school.ID, aerr)
		}
		if aerr := s.audit(ctx, gateway.AuditSync, run, "sync"); aerr != nil && err == nil {
			err = fmt.Errorf("sync %s: %w", school.ID, aerr)
		}
		return res, err
	}
	if err := s.Consent.Require(ctx, school.ID, gateway.ProcessingLASExchange); err != nil {
		if errors.Is(err, gateway.ErrConsentRequired) {
			return finish(gateway.SyncRefused, err)
		}
		return finish(gateway.SyncFailed, err)
	}

	current, byIndex, byKey, active, err := s.loadCurrent(ctx, school.ID)
	if err != nil {
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: read current snapshot: %w", school.ID, err))
	}

	oldTeachers, err := s.Store.Teachers(ctx, school.ID)
	if err != nil {
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: read current teachers: %w", school.ID, err))
	}
	sealedTeacher := make(map[string]gateway.Teacher, len(oldTeachers))
	for _, t := range oldTeachers {
		sealedTeacher[t.Key] = t
	}

	stage, err := s.Store.Stage(ctx, school.ID, run.ID, fence(o.Lock)...)
	if err != nil {
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: stage: %w", school.ID, err))
	}
	discard := func() { _ = stage.Discard(context.WithoutCancel(ctx)) }

	jaar := o.Schooljaar
	if jaar == "" {
		jaar = gateway.SchoolYearAt(start)
	}
	req := soap.Request{Schooljaar: jaar}
	if o.UseSince && !school.LastPulledAt.IsZero() {
		req.Since = school.LastPulledAt
	}
	today := start.In(amsterdam()).Format("2006-01-02")
	batch := make([]gateway.Pupil, 0, s.batchSize())
	var teachers []gateway.Teacher
	var groups []gateway.Group
	var comps []gateway.CompositeGroup
	// The checker is the one validation pass: it maps every record, finds
	// every record and reference problem once, and decides at the end the
	// references to groups sent after the pupils.
	check := mapping.NewChecker(school.ID)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := stage.PutPupils(ctx, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	h := soap.Handler{
		Answer: func(k soap.AnswerKind) error { check.Begin(k); return nil },
		School: func(sc *uwlr.School) error { check.School(sc); return nil },
		Vestiging: func(v *uwlr.Vestiging) error {
			check.Vestiging(v)
			return nil
		},
		Groep: func(g *uwlr.Groep) error {
			if grp, ok := check.Group(g); ok {
				groups = append(groups, grp)
			}
			return nil
		},
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error {
			if c, ok := check.CompositeGroup(g); ok {
				comps = append(comps, c)
			}
			return nil
		},
		Leerling: func(l *uwlr.Leerling) error {
			p, eckid, ok := check.Pupil(l)
			if !ok {
				return nil // no identity, or the ECK iD of an earlier pupil
			}
			var idx []byte
			if eckid != "" {
				idx = s.Sealer.Index(school.ID, eckid)
			}
			// Identity: ECK iD first, LAS key second.
			var old *entry
			if idx != nil {
				old = byIndex[string(idx)]
			}
			if old == nil && p.LASKey != "" {
				if e := byKey[p.LASKey]; e != nil && (e.index == nil || idx == nil) {
					old = e // merge: a LAS-key-only pupil gains (or keeps lacking) an ECK iD
				}
			}
			if old != nil && old.seen {
				old = nil // already matched by another record of this answer
			}
			if old != nil {
				p.ID = old.id
				old.seen = true
			} else {
				p.ID = gateway.PupilID(newID("p_"))
			}
			if idx != nil {
				p.EckIndex = idx
				if old != nil && bytes.Equal(old.index, idx) && len(old.sealed) > 0 {
					p.SealedEckID = old.sealed // unchanged: do not burn a nonce
				} else {
					sealed, err := s.Sealer.Seal(vault.PupilEckID(school.ID, p.ID), []byte(eckid))
					if err != nil {
						return fmt.Errorf("seal: %w", err)
					}
					p.SealedEckID = sealed
				}
			}
			run.Pupils++
			switch {
			case old == nil:
				run.Added++
				p.UpdatedAt = start.UTC()
			case old.hash != hashPupil(&p) || old.leftOn != "":
				run.Changed++
				p.UpdatedAt = start.UTC()
			default:
				p.UpdatedAt = current[old.id]
			}
			batch = append(batch, p)
			if o.Progress != nil && run.Pupils%1000 == 0 {
				o.Progress(run.Pupils)
			}
			if len(batch) >= s.batchSize() {
				return flush()
			}
			return nil
		},
		Leerkracht: func(t *uwlr.Leerkracht) error {
			tt, eckid, ok := check.Teacher(t)
			if !ok {
				return nil
			}
			if eckid != "" {
				tt.EckIndex = s.Sealer.Index(school.ID, eckid)
				if old, ok := sealedTeacher[tt.Key]; ok && bytes.Equal(old.EckIndex, tt.EckIndex) && len(old.SealedEckID) > 0 {
					tt.SealedEckID = old.SealedEckID // unchanged: do not burn a nonce
				} else {
					sealed, err := s.Sealer.Seal(vault.TeacherEckID(school.ID, tt.Key), []byte(eckid))
					if err != nil {
						return fmt.Errorf("seal: %w", err)
					}
					tt.SealedEckID = sealed
				}
			}
			teachers = append(teachers, tt)
			return nil
		},
	}
	sum, err := las.HaalLeerlinggegevens(ctx, req, h)
	if err == nil {
		err = flush()
	}
	if err != nil {
		discard()
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: %w", school.ID, err))
	}
	// Links to groups the answer never defined: drop them from the pupils
	// already staged (and recount those whose change they decided) and
	// from the teachers.
	if dangling := check.Finish(); dangling.Count() > 0 {
		for i := range teachers {
			dangling.Teacher(&teachers[i])
		}
		ids := map[gateway.PupilID]*entry{}
		for _, e := range byID(current, byIndex, byKey) {
			ids[e.id] = e
		}
		err := stage.Pupils(ctx, func(p gateway.Pupil) error {
			before := hashPupil(&p)
			if !dangling.Pupil(&p) {
				return nil
			}
			if old := ids[p.ID]; old != nil && old.leftOn == "" {
				switch was, now := old.hash != before, old.hash != hashPupil(&p); {
				case was && !now:
					run.Changed--
					p.UpdatedAt = current[old.id]
				case !was && now:
					run.Changed++
					p.UpdatedAt = start.UTC()
				}
			}
			batch = append(batch, p)
			if len(batch) >= s.batchSize() {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			discard()
			return finish(gateway.SyncFailed, fmt.Errorf("sync %s: drop dangling group links: %w", school.ID, err))
		}
	}
	run.Warnings = mapping.Strings(check.Warnings())
	if n := check.Dropped(); n > 0 {
		run.Warnings = append(run.Warnings, fmt.Sprintf("%d more warnings not kept (at most %d are)", n, soap.MaxWarnings))
	}
	// geenwijzigingen, or nothing at all for a school we hold nothing of:
	// nothing to apply. geengegevens for a school that has pupils goes on as
	// an empty answer: every pupil would be marked left, so the thresholds
	// hold it for a person to approve instead of applying it silently.
	if sum.Outcome == soap.OutcomeGeenWijzigingen || sum.Outcome == soap.OutcomeGeenGegevens && active == 0 {
		discard()
		if sum.Outcome == soap.OutcomeGeenWijzigingen && !o.DryRun {
			school.LastPulledAt = start.UTC()
			if err := s.Store.PutSchool(ctx, school); err != nil {
				return finish(gateway.SyncFailed, fmt.Errorf("sync %s: %w", school.ID, err))
			}
		}
		return finish(gateway.SyncUnchanged, nil)
	}
	// Pupils the LAS no longer sends: carry them over, marked left.
	var carry []gateway.PupilID
	for _, e := range byID(current, byIndex, byKey) {
		if !e.seen {
			carry = append(carry, e.id)
		}
	}
	if len(carry) > 0 {
		want := make(map[gateway.PupilID]bool, len(carry))
		for _, id := range carry {
			want[id] = true
		}
		expiredToday := retention.Today(start)
		expired := 0
		err := s.Store.Pupils(ctx, school.ID, func(p gateway.Pupil) error {
			if !want[p.ID] {
				return nil
			}
			// A pupil past the retention period is not carried into the
			// new snapshot (retention removes the rest of its data).
			if p.LeftOn != "" && retention.PupilExpired(p.LeftOn, expiredToday) {
				expired++
				return nil
			}
			if p.LeftOn == "" {
				p.LeftOn = today
				p.UpdatedAt = start.UTC()
				run.Left++
			}
			batch = append(batch, p)
			if len(batch) >= s.batchSize() {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			discard()
			return finish(gateway.SyncFailed, fmt.Errorf("sync %s: carry over left pupils: %w", school.ID, err))
		}
		if expired > 0 {
			run.Warnings = append(run.Warnings, fmt.Sprintf("%d pupils who left %d or more years ago were not kept (retention)", expired, retention.Period))
		}
	}
	sort.Slice(teachers, func(i, j int) bool { return teachers[i].Key < teachers[j].Key })
	if err := stage.PutTeachers(ctx, teachers); err == nil {
		err = stage.PutGroups(ctx, groups, comps)
		if err != nil {
			discard()
			return finish(gateway.SyncFailed, fmt.Errorf("sync %s: stage groups: %w", school.ID, err))
		}
	} else {
		discard()
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: stage teachers: %w", school.ID, err))
	}
	run.Teachers, run.Groups = len(teachers), len(groups)+len(comps)

	if run.Added == 0 && run.Changed == 0 && run.Left == 0 && sameTeachersAndGroups(ctx, s.Store, school.ID, teachers, groups, comps) {
		discard()
		if !o.DryRun {
			school.LastPulledAt = start.UTC()
			if err := s.Store.PutSchool(ctx, school); err != nil {
				return finish(gateway.SyncFailed, fmt.Errorf("sync %s: %w", school.ID, err))
			}
		}
		return finish(gateway.SyncUnchanged, nil)
	}
	reasons := s.Thresholds.check(start, active, run.Left, run.Changed)
	if o.DryRun {
		// The run says what a real sync would do (applied or held, with the
		// reasons); DryRun is set on it and nothing is kept.
		discard()
		res.Reasons = reasons
		if len(reasons) > 0 {
			return finish(gateway.SyncHeld, nil)
		}
		return finish(gateway.SyncApplied, nil)
	}
	if len(reasons) > 0 {
		res.Reasons = reasons
		if err := stage.Keep(ctx); err != nil {
			return finish(gateway.SyncFailed, fmt.Errorf("sync %s: keep held stage: %w", school.ID, err))
		}
		return finish(gateway.SyncHeld, nil)
	}
	if err := stage.Commit(ctx); err != nil {
		discard()
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: commit: %w", school.ID, err))
	}
	school.LastPulledAt = start.UTC()
	if err := s.Store.PutSchool(ctx, school); err != nil {
		return finish(gateway.SyncFailed, fmt.Errorf("sync %s: %w", school.ID, err))
	}
	return finish(gateway.SyncApplied, nil)
}

func (s *Syncer) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 1000
}

// loadCurrent indexes the current snapshot by blind index and LAS key.
// It keeps ids, hashes and sealed bytes, never names.
func (s *Syncer) loadCurrent(ctx context.Context, id gateway.SchoolID) (map[gateway.PupilID]time.Time, map[string]*entry, map[string]*entry, int, error) {
	updated := map[gateway.PupilID]time.Time{}
	byIndex, byKey := map[string]*entry{}, map[string]*entry{}
	active := 0
	err := s.Store.Pupils(ctx, id, func(p gateway.Pupil) error {
		e := &entry{id: p.ID, hash: hashPupil(&p), index: p.EckIndex, sealed: p.SealedEckID, leftOn: p.LeftOn}
		updated[p.ID] = p.UpdatedAt
		if len(p.EckIndex) > 0 {
			byIndex[string(p.EckIndex)] = e
		}
		if p.LASKey != "" {
			if _, dup := byKey[p.LASKey]; !dup || p.LeftOn == "" {
				byKey[p.LASKey] = e
			}
		}
		if len(p.EckIndex) == 0 && p.LASKey == "" {
			byKey["\x00"+string(p.ID)] = e
		}
		if p.LeftOn == "" {
			active++
		}
		return nil
	})
	return updated, byIndex, byKey, active, err
}

// byID returns every distinct current entry.
func byID(current map[gateway.PupilID]time.Time, idx, key map[string]*entry) []*entry {
	seen := make(map[gateway.PupilID]*entry, len(current))
	for _, m := range []map[string]*entry{idx, key} {
		for _, e := range m {
			seen[e.id] = e
		}
	}
	out := make([]*entry, 0, len(seen))
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// hashPupil hashes the fields a change is judged by (not ids, not times).
func hashPupil(p *gateway.Pupil) [32]byte {
	h := sha256.New()
	for _, f := range []string{p.LASKey, p.LastName, p.Prefix, p.FirstName, p.GivenNames, p.Initials, p.Gender,
		p.BirthDate, p.YearGroup, p.GroupKey, strings.Join(p.CompositeGroupKeys, "\x1f")} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	h.Write(p.EckIndex)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (t Thresholds) check(now time.Time, active, left, changed int) []string {
	if active == 0 {
		return nil // a first sync has nothing to lose
	}
	maxLeft, maxChanged := t.Left, t.Changed
	if inRollover(now) {
		maxLeft, maxChanged = t.RolloverLeft, t.RolloverChanged
	}
	var reasons []string
	if share := float64(left) / float64(active); share > maxLeft {
		reasons = append(reasons, fmt.Sprintf("%d of %d pupils (%.0f%%) would be marked left; the limit is %.0f%%", left, active, share*100, maxLeft*100))
	}
	if share := float64(changed) / float64(active); share > maxChanged {
		reasons = append(reasons, fmt.Sprintf("%d of %d pupils (%.0f%%) would change; the limit is %.0f%%", changed, active, share*100, maxChanged*100))
	}
	return reasons
}

// inRollover reports whether now is between 1 August and 1 October (Amsterdam).
func inRollover(now time.Time) bool {
	t := now.In(amsterdam())
	return t.Month() == time.August || t.Month() == time.September
}

func amsterdam() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.UTC
	}
	return loc
}

func sameTeachersAndGroups(ctx context.Context, st gateway.Store, id gateway.SchoolID, ts []gateway.Teacher, gs []gateway.Group, cs []gateway.CompositeGroup) bool {
	cur, err := st.Teachers(ctx, id)
	if err != nil || len(cur) != len(ts) {
		return false
	}
	for i := range cur {
		a, b := cur[i], ts[i]
		if a.Key != b.Key || a.LastName != b.LastName || a.Prefix != b.Prefix || a.FirstName != b.FirstName || a.Email != b.Email ||
			strings.Join(a.Roles, ",") != strings.Join(b.Roles, ",") || strings.Join(a.GroupKeys, ",") != strings.Join(b.GroupKeys, ",") ||
			strings.Join(a.CompositeGroupKeys, ",") != strings.Join(b.CompositeGroupKeys, ",") || !bytes.Equal(a.EckIndex, b.EckIndex) {
			return false
		}
	}
	cg, cc, err := st.Groups(ctx, id)
	if err != nil || len(cg) != len(gs) || len(cc) != len(cs) {
		return false
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].Key < gs[j].Key })
	sort.Slice(cs, func(i, j int) bool { return cs[i].Key < cs[j].Key })
	for i := range cg {
		if cg[i] != gs[i] {
			return false
		}
	}
	for i := range cc {
		if cc[i] != cs[i] {
			return false
		}
	}
	return true
}
