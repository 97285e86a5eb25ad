package pull

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// entry is what the sync keeps of a current pupil to match and diff: no names.
type entry struct {
	id     gateway.PupilID
	hash   [32]byte
	index  []byte
	sealed []byte
	leftOn string
	seen   bool // matched by a record of this answer
}

// differs reports whether a pupil hashing to h is a change of e: other
// fields, or a pupil marked left who is back.
func (e *entry) differs(h [32]byte) bool { return e.leftOn != "" || e.hash != h }

// snapshot indexes a school's current pupils by blind index and LAS key.
// It keeps ids, hashes and sealed bytes, never names.
type snapshot struct {
	updated map[gateway.PupilID]time.Time
	byIndex map[string]*entry
	byKey   map[string]*entry
	active  int // pupils not marked left
}

func loadSnapshot(ctx context.Context, st gateway.Store, id gateway.SchoolID) (*snapshot, error) {
	s := &snapshot{updated: map[gateway.PupilID]time.Time{}, byIndex: map[string]*entry{}, byKey: map[string]*entry{}}
	err := st.Pupils(ctx, id, func(p gateway.Pupil) error {
		e := &entry{id: p.ID, hash: hashPupil(&p), index: p.EckIndex, sealed: p.SealedEckID, leftOn: p.LeftOn}
		s.updated[p.ID] = p.UpdatedAt
		if len(p.EckIndex) > 0 {
			s.byIndex[string(p.EckIndex)] = e
		}
		if p.LASKey != "" {
			if _, dup := s.byKey[p.LASKey]; !dup || p.LeftOn == "" {
				s.byKey[p.LASKey] = e
			}
		}
		if len(p.EckIndex) == 0 && p.LASKey == "" {
			s.byKey["\x00"+string(p.ID)] = e
		}
		if p.LeftOn == "" {
			s.active++
		}
		return nil
	})
	return s, err
}

// match finds the current pupil a record is: by ECK iD (blind index idx)
// first, by LAS key second, where a LAS-key-only pupil may gain an ECK iD (a
// merge, not a new pupil) or keep lacking one. A pupil already matched by an
// earlier record of the answer is not matched again.
func (s *snapshot) match(idx []byte, key string) *entry {
	var old *entry
	if idx != nil {
		old = s.byIndex[string(idx)]
	}
	if old == nil && key != "" {
		if e := s.byKey[key]; e != nil && (e.index == nil || idx == nil) {
			old = e
		}
	}
	if old != nil && old.seen {
		return nil
	}
	return old
}

// byID returns every distinct current entry by id.
func (s *snapshot) byID() map[gateway.PupilID]*entry {
	out := make(map[gateway.PupilID]*entry, len(s.updated))
	for _, m := range []map[string]*entry{s.byIndex, s.byKey} {
		for _, e := range m {
			out[e.id] = e
		}
	}
	return out
}

// carryOver stages the current pupils the LAS no longer sends, marked left
// (on the first run they are missing); one past the retention period is
// not carried into the new snapshot (retention removes the rest of its
// data).
func (r *run) carryOver(ctx context.Context) error {
	want := map[gateway.PupilID]bool{}
	for id, e := range r.snap.byID() {
		if !e.seen {
			want[id] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	today := r.start.In(gateway.Amsterdam).Format("2006-01-02")
	expiredToday := retention.Today(r.start)
	expired := 0
	err := r.s.Store.Pupils(ctx, r.school.ID, func(p gateway.Pupil) error {
		if !want[p.ID] {
			return nil
		}
		if p.LeftOn != "" && retention.PupilExpired(p.LeftOn, expiredToday) {
			expired++
			return nil
		}
		if p.LeftOn == "" {
			p.LeftOn = today
			p.UpdatedAt = r.start.UTC()
			r.rec.Left++
		}
		return r.put(ctx, p)
	})
	if err == nil {
		err = r.flush(ctx)
	}
	if err != nil {
		return err
	}
	if expired > 0 {
		r.rec.Warnings = append(r.rec.Warnings, fmt.Sprintf("%d pupils who left %d or more years ago were not kept (retention)", expired, retention.Period))
	}
	return nil
}

// sameGroups reports whether the staged groups are the current ones (a read
// failure counts as a difference: the run is then applied, not skipped).
func (r *run) sameGroups(ctx context.Context) bool {
	cg, cc, err := r.s.Store.Groups(ctx, r.school.ID)
	if err != nil || len(cg) != len(r.groups) || len(cc) != len(r.comps) {
		return false
	}
	gs, cs := append([]gateway.Group(nil), r.groups...), append([]gateway.CompositeGroup(nil), r.comps...)
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
