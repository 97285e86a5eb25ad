package retention

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// plan is what a run found to do at one school.
type plan struct {
	known, gone map[gateway.PupilID]bool
	mark        []gateway.PupilID // current pupils of a stale school, to mark left
	leftAsOf    string
	ofGone      []string // result keys of purged or unknown pupils
	trial       []string // expired trial results of pupils who stay
	held        []string // results of batches held too long
	dead        map[string]bool
	evidence    []string
	batches     []string // ended or held, no result left
	heldBatches []string // held too long
}

// purgeSchool finds what has expired at one school (reading, never
// changing) and, unless dry, marks, deletes and clears it: see "Order and
// crash safety" in the package doc. It returns the pupils purged (or to be
// purged).
func purgeSchool(ctx context.Context, st Store, s gateway.School, today Date, o Options) (SchoolReceipt, map[gateway.PupilID]bool, error) {
	id := s.ID
	sr := SchoolReceipt{School: id}
	p := &plan{known: map[gateway.PupilID]bool{}, gone: map[gateway.PupilID]bool{}, dead: map[string]bool{}}
	fail := func(step string, err error) (SchoolReceipt, map[gateway.PupilID]bool, error) {
		return sr, p.gone, fmt.Errorf("retention: school %s: %s: %w", id, step, err)
	}
	r, err := refreshOf(ctx, st, s)
	if err != nil {
		return fail("read its consent and syncs", err)
	}
	if asOf, reason, stale := Stale(r, o.Now, o.StaleAfter); stale {
		sr.Stale, p.leftAsOf = reason, Today(asOf).String()
		sr.LeftAsOf = p.leftAsOf
	}
	if err := p.pupils(ctx, st, id, today, &sr); err != nil {
		return fail("walk pupils", err)
	}
	if err := p.results(ctx, st, id, today, &sr); err != nil {
		return fail("walk results", err)
	}
	if err := p.heldTooLong(ctx, st, id, today); err != nil {
		return fail("walk held batches", err)
	}
	if err := p.evidenceOf(ctx, st, id); err != nil {
		return fail("walk evidence", err)
	}
	if err := p.withoutResults(ctx, st, id); err != nil {
		return fail("walk batches", err)
	}
	before := TextsBefore(today)
	if o.DryRun {
		sr.MarkedLeft, sr.Evidence, sr.Results, sr.TrialResults = len(p.mark), len(p.evidence), len(p.ofGone), len(p.trial)
		sr.HeldResults, sr.Batches, sr.HeldBatches, sr.Pupils = len(p.held), len(p.batches), len(p.heldBatches), len(p.gone)
		if sr.Texts, err = countTexts(ctx, st, id, before, p); err != nil {
			return fail("count texts", err)
		}
		return sr, p.gone, nil
	}
	if step, err := p.apply(ctx, st, id, &sr); err != nil {
		return fail(step, err)
	}
	if sr.Texts, err = st.ExpireTexts(ctx, id, before); err != nil {
		return fail("expire texts", err)
	}
	return sr, p.gone, nil
}

// apply marks and deletes what p found: marks first (a purge in the same run
// may follow from it), then evidence, results, batches and pupils. It
// returns the step that failed.
func (p *plan) apply(ctx context.Context, st Store, id gateway.SchoolID, sr *SchoolReceipt) (string, error) {
	var err error
	if sr.MarkedLeft, err = deleteChunks(ctx, p.mark, func(ids []gateway.PupilID) (int, error) {
		return st.MarkPupilsLeft(ctx, id, ids, p.leftAsOf)
	}); err != nil {
		return "mark pupils left", err
	}
	results := func(keys []string) (int, error) { return st.DeleteResults(ctx, id, keys) }
	batches := func(ids []string) (int, error) { return st.DeleteBatches(ctx, id, ids) }
	if sr.Evidence, err = deleteChunks(ctx, p.evidence, func(ids []string) (int, error) { return st.DeleteEvidence(ctx, id, ids) }); err != nil {
		return "delete evidence", err
	}
	if sr.Results, err = deleteChunks(ctx, p.ofGone, results); err != nil {
		return "delete results of purged pupils", err
	}
	if sr.TrialResults, err = deleteChunks(ctx, p.trial, results); err != nil {
		return "delete trial results", err
	}
	if sr.HeldResults, err = deleteChunks(ctx, p.held, results); err != nil {
		return "delete results of batches held too long", err
	}
	if sr.HeldBatches, err = deleteChunks(ctx, p.heldBatches, batches); err != nil {
		return "delete batches held too long", err
	}
	if sr.Batches, err = deleteChunks(ctx, p.batches, batches); err != nil {
		return "delete batches", err
	}
	pupils := slices.Sorted(maps.Keys(p.gone))
	if sr.Pupils, err = deleteChunks(ctx, pupils, func(ids []gateway.PupilID) (int, error) { return st.PurgePupils(ctx, id, ids) }); err != nil {
		return "purge pupils", err
	}
	return "", nil
}

// refreshOf reads what tells whether a school's data is still refreshed.
func refreshOf(ctx context.Context, st Store, s gateway.School) (Refresh, error) {
	c, err := st.Consent(ctx, s.ID)
	if err != nil {
		return Refresh{}, err
	}
	r := Refresh{Granted: c[gateway.ProcessingLASExchange], Enrolled: s.CreatedAt, LastSuccess: s.LastPulledAt}
	runs, err := st.SyncRuns(ctx, s.ID, 0)
	if err != nil {
		return Refresh{}, err
	}
	for _, run := range runs {
		// An approved held sync applies data without moving LastPulledAt.
		if !run.DryRun && (run.Status == gateway.SyncApplied || run.Status == gateway.SyncUnchanged) && run.StartedAt.After(r.LastSuccess) {
			r.LastSuccess = run.StartedAt
		}
	}
	if r.Granted {
		return r, nil
	}
	hist, err := st.ConsentHistory(ctx, s.ID)
	if err != nil {
		return Refresh{}, err
	}
	for _, ch := range hist {
		if ch.Processing == gateway.ProcessingLASExchange && !ch.New && ch.At.After(r.RevokedAt) {
			r.RevokedAt = ch.At
		}
	}
	return r, nil
}

// pupils finds the expired pupils, and the current pupils of a stale
// school, which count as left as of p.leftAsOf from now on.
func (p *plan) pupils(ctx context.Context, st Store, id gateway.SchoolID, today Date, sr *SchoolReceipt) error {
	return st.Pupils(ctx, id, func(x gateway.Pupil) error {
		p.known[x.ID] = true
		left := x.LeftOn
		if left == "" && p.leftAsOf != "" {
			p.mark = append(p.mark, x.ID)
			left = p.leftAsOf
		}
		if left == "" {
			return nil
		}
		if _, err := ParseDate(left); err != nil {
			sr.Skipped++
			return nil
		}
		if PupilExpired(left, today) {
			p.gone[x.ID] = true
		}
		return nil
	})
}

// goneOrUnknown: a record of a pupil the school no longer knows is treated
// as one of a purged pupil (see "Order and crash safety" in the package doc).
func (p *plan) goneOrUnknown(x gateway.PupilID) bool { return p.gone[x] || !p.known[x] }

// results finds the results of purged or unknown pupils and the expired
// trial results.
func (p *plan) results(ctx context.Context, st Store, id gateway.SchoolID, today Date, sr *SchoolReceipt) error {
	err := st.WalkResults(ctx, id, func(r gateway.Result) error {
		switch {
		case p.goneOrUnknown(r.Pupil):
			p.ofGone = append(p.ofGone, r.Key)
		case ResultExpired(r, false, today):
			p.trial = append(p.trial, r.Key)
		case r.Trial:
			if _, err := ParseDate(r.Date); err != nil {
				sr.Skipped++
			}
		}
		return nil
	})
	for _, k := range slices.Concat(p.ofGone, p.trial) {
		p.dead[k] = true
	}
	return err
}

// heldTooLong finds the batches held two years ago or longer, and those of
// their results that they still deliver (a result submitted again belongs
// to its newer batch and stays).
func (p *plan) heldTooLong(ctx context.Context, st Store, id gateway.SchoolID, today Date) error {
	return st.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if b.State != gateway.BatchHeld || !InstantExpired(b.TextsAt(), today) {
			return nil
		}
		p.heldBatches = append(p.heldBatches, b.ID)
		rs, err := st.Results(ctx, id, b.Keys)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Batch == b.ID && !p.dead[r.Key] {
				p.held = append(p.held, r.Key)
				p.dead[r.Key] = true
			}
		}
		return nil
	})
}

// evidenceOf finds the evidence records that name a purged (or unknown)
// pupil or a purged result.
func (p *plan) evidenceOf(ctx context.Context, st Store, id gateway.SchoolID) error {
	return st.WalkEvidence(ctx, id, func(e gateway.Evidence) error {
		if slices.ContainsFunc(e.Pupils, p.goneOrUnknown) || slices.ContainsFunc(e.Keys, func(k string) bool { return p.dead[k] }) {
			p.evidence = append(p.evidence, e.ID)
		}
		return nil
	})
}

// withoutResults finds the ended and held batches whose results are all
// gone (now or earlier): they list result keys, and a key may be the
// publisher's own id.
func (p *plan) withoutResults(ctx context.Context, st Store, id gateway.SchoolID) error {
	return st.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if (!b.State.Terminal() && b.State != gateway.BatchHeld) || slices.Contains(p.heldBatches, b.ID) {
			return nil
		}
		left, err := st.Results(ctx, id, b.Keys)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(left, func(r gateway.Result) bool { return !p.dead[r.Key] }) {
			p.batches = append(p.batches, b.ID)
		}
		return nil
	})
}

// countTexts counts, for a dry run, the records whose texts ExpireTexts(
// before) would clear after the deletions p plans.
func countTexts(ctx context.Context, st Store, id gateway.SchoolID, before time.Time, p *plan) (gateway.ExpiredTexts, error) {
	var out gateway.ExpiredTexts
	runs, err := st.SyncRuns(ctx, id, 0)
	if err != nil {
		return out, err
	}
	for _, r := range runs {
		if gateway.TextsExpire(r.HasTexts(), r.TextsAt(), before) {
			out.SyncRuns++
		}
	}
	c, err := st.ConnectionCheck(ctx, id)
	switch {
	case err == nil && gateway.TextsExpire(c.HasTexts(), c.TextsAt(), before):
		out.ConnectionChecks++
	case err != nil && !errors.Is(err, gateway.ErrNotFound):
		return out, err
	}
	gone := map[string]bool{}
	for _, b := range slices.Concat(p.batches, p.heldBatches) {
		gone[b] = true
	}
	err = st.WalkBatches(ctx, id, func(b gateway.Batch) error {
		if !gone[b.ID] && gateway.TextsExpire(b.HasTexts(), b.TextsAt(), before) {
			out.Batches++
		}
		return nil
	})
	return out, err
}
