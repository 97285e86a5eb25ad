package pull

import (
	"bytes"
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// The record stages: each gets one record of the answer as it streams in,
// has the checker map and check it, and keeps what is usable.

func (r *run) group(g *uwlr.Groep) error {
	if grp, ok := r.check.Group(g); ok {
		r.groups = append(r.groups, grp)
	}
	return nil
}

func (r *run) compositeGroup(g *uwlr.SamengesteldeGroep) error {
	if c, ok := r.check.CompositeGroup(g); ok {
		r.comps = append(r.comps, c)
	}
	return nil
}

// pupil matches a pupil with the current snapshot (ECK iD first, LAS key
// second), seals its ECK iD, counts it as added, changed or unchanged and
// stages it.
func (r *run) pupil(ctx context.Context, l *uwlr.Leerling) error {
	p, eckid, ok := r.check.Pupil(l)
	if !ok {
		return nil // no identity, or the ECK iD of an earlier pupil
	}
	var idx []byte
	if eckid != "" {
		idx = r.s.Sealer.Index(r.school.ID, eckid)
	}
	old := r.snap.match(idx, p.LASKey)
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
			sealed, err := r.s.Sealer.Seal(vault.PupilEckID(r.school.ID, p.ID), []byte(eckid))
			if err != nil {
				return fmt.Errorf("seal: %w", err)
			}
			p.SealedEckID = sealed
		}
	}
	r.rec.Pupils++
	switch {
	case old == nil:
		r.rec.Added++
		p.UpdatedAt = r.start.UTC()
	case old.differs(hashPupil(&p)):
		r.rec.Changed++
		p.UpdatedAt = r.start.UTC()
	default:
		p.UpdatedAt = r.snap.updated[old.id]
	}
	if r.o.Progress != nil && r.rec.Pupils%1000 == 0 {
		r.o.Progress(r.rec.Pupils)
	}
	return r.put(ctx, p)
}

// teacher seals a teacher's ECK iD (keeping the seal of an unchanged one)
// and keeps the teacher for the end of the run.
func (r *run) teacher(t *uwlr.Leerkracht) error {
	tt, eckid, ok := r.check.Teacher(t)
	if !ok {
		return nil
	}
	if eckid != "" {
		tt.EckIndex = r.s.Sealer.Index(r.school.ID, eckid)
		if old, ok := r.sealedBy[tt.Key]; ok && bytes.Equal(old.EckIndex, tt.EckIndex) && len(old.SealedEckID) > 0 {
			tt.SealedEckID = old.SealedEckID // unchanged: do not burn a nonce
		} else {
			sealed, err := r.s.Sealer.Seal(vault.TeacherEckID(r.school.ID, tt.Key), []byte(eckid))
			if err != nil {
				return fmt.Errorf("seal: %w", err)
			}
			tt.SealedEckID = sealed
		}
	}
	r.teachers = append(r.teachers, tt)
	return nil
}

// put adds a pupil to the batch and writes the batch once it is full.
func (r *run) put(ctx context.Context, p gateway.Pupil) error {
	r.batch = append(r.batch, p)
	if len(r.batch) >= r.s.batchSize() {
		return r.flush(ctx)
	}
	return nil
}

// flush writes the pupils of the batch to the stage.
func (r *run) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	if err := r.stage.PutPupils(ctx, r.batch); err != nil {
		return err
	}
	r.batch = r.batch[:0]
	return nil
}

// restage drops the dangling links from the staged pupils that have them
// and recounts those whose change the link decided: a pupil counted changed
// only for a link that is now gone is unchanged after all, and one counted
// unchanged may now have lost a link it had.
func (r *run) restage(ctx context.Context, d mapping.Dangling) error {
	ids := r.snap.byID()
	err := r.stage.Pupils(ctx, func(p gateway.Pupil) error {
		before := hashPupil(&p)
		if !d.Pupil(&p) {
			return nil
		}
		if old := ids[p.ID]; old != nil {
			switch was, now := old.differs(before), old.differs(hashPupil(&p)); {
			case was && !now:
				r.rec.Changed--
				p.UpdatedAt = r.snap.updated[old.id]
			case !was && now:
				r.rec.Changed++
				p.UpdatedAt = r.start.UTC()
			}
		}
		return r.put(ctx, p)
	})
	if err != nil {
		return err
	}
	return r.flush(ctx)
}
