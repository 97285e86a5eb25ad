package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// ErrHeld: a school's held sync waits for approval, so its snapshot cannot
// be re-sealed now (approve it, then rewrap again).
var ErrHeld = fmt.Errorf("%w: a held sync is waiting", gateway.ErrConflict)

// RewrapReport is what Rewrap re-sealed.
type RewrapReport struct {
	Values      int                `json:"values"`
	Schools     int                `json:"schools"`
	Skipped     []gateway.SchoolID `json:"skipped"`
	ActiveTerm  uint32             `json:"active_term"`
	EvidenceKey bool               `json:"evidence_key"`
}

// RewrapProgress is told which school Rewrap works on (i of n, from 1), and
// when it waits for that school's running sync.
type RewrapProgress func(i, n int, school gateway.SchoolID, waiting bool)

// Rewrap re-seals every school's secrets, ECK iDs and the evidence key with
// the active key term. Each school is done under its sync lock (waiting for
// a running sync to end) and its new snapshot is staged with the lock as
// the fence, so a sync never interleaves with it and a rewrap that lost its
// lock applies nothing. A school already on the active term is left alone,
// which makes it resumable; a school with a held sync is skipped. Every
// school that was re-sealed gets an audit entry in its own chain; the run
// gets one in the gateway chain. Needs the gateway-wide scope.
func (a *App) Rewrap(ctx context.Context, progress RewrapProgress) (RewrapReport, error) {
	kr, err := a.keyring()
	if err != nil {
		return RewrapReport{}, err
	}
	if err := needAll(ctx, "rewrap"); err != nil {
		return RewrapReport{}, err
	}
	schools, err := a.st.Schools(ctx)
	if err != nil {
		return RewrapReport{}, err
	}
	rep := RewrapReport{ActiveTerm: kr.ActiveTerm(), Skipped: []gateway.SchoolID{}}
	for i, s := range schools {
		if progress != nil {
			progress(i+1, len(schools), s.ID, false)
		}
		var n int
		err := a.waitLock(ctx, s.ID, func() {
			if progress != nil {
				progress(i+1, len(schools), s.ID, true)
			}
		}, func(ctx context.Context, l gateway.Lock) error {
			var err error
			n, err = a.rewrapSchool(ctx, kr, s.ID, l)
			return err
		})
		rep.Values += n // the school's secrets may be re-sealed before a hold is found
		if errors.Is(err, ErrHeld) {
			rep.Skipped = append(rep.Skipped, s.ID)
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("rewrap %s: %w (already re-sealed schools stay done; run again to resume)", s.ID, err)
		}
		rep.Schools++
	}
	n, err := a.rewrapEvidenceKey(ctx, kr)
	if err != nil {
		return rep, fmt.Errorf("rewrap the evidence key: %w", err)
	}
	rep.Values, rep.EvidenceKey = rep.Values+n, n > 0
	_, err = a.log.Gateway(ctx, gateway.AuditKeyRewrap, "cli", map[string]string{"values": fmt.Sprint(rep.Values),
		"schools": fmt.Sprint(rep.Schools), "skipped": fmt.Sprint(len(rep.Skipped)), "active_term": fmt.Sprint(rep.ActiveTerm)})
	return rep, err
}

// waitLock runs fn holding the school's sync lock; while another process
// holds it (a sync runs), it tells waiting once and tries again until ctx
// ends.
func (a *App) waitLock(ctx context.Context, id gateway.SchoolID, waiting func(), fn func(ctx context.Context, l gateway.Lock) error) error {
	told := false
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := a.withLock(ctx, id, fn)
		if !errors.Is(err, errLockBusy) {
			return err
		}
		if !told {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the sync of school %s to end: %w", id, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// rewrapSchool re-seals one school's secrets (each field by itself, so a
// concurrent change of another field is kept) and, when anything of its
// snapshot is sealed with an old term, its ECK iDs: the snapshot is copied
// into a stage fenced by the lock and swapped atomically, so a crash leaves
// either the old or the re-sealed snapshot.
func (a *App) rewrapSchool(ctx context.Context, kr *vault.Keyring, id gateway.SchoolID, l gateway.Lock) (int, error) {
	n, err := a.rewrapSecrets(ctx, kr, id)
	if err != nil {
		return n, err
	}
	stale, err := a.staleSnapshot(ctx, kr, id)
	if err != nil || stale == 0 {
		return n, err
	}
	if _, err := a.st.StagedRun(ctx, id); err == nil {
		return n, ErrHeld
	} else if !errors.Is(err, gateway.ErrNotFound) {
		return n, err
	}
	// On record before any ECK iD is decrypted to be sealed again.
	if _, err := a.log.School(ctx, id, gateway.AuditKeyRewrap, "cli", map[string]string{"eckids": fmt.Sprint(stale),
		"secrets": fmt.Sprint(n), "active_term": fmt.Sprint(kr.ActiveTerm()), "purpose": "re-seal with the active key term"}); err != nil {
		return n, err
	}
	m, err := a.rewrapSnapshot(ctx, kr, id, l)
	return n + m, err
}

// rewrapSecrets re-seals the school's autorisatiesleutel, receiver key,
// client key passphrase and vendor header secrets.
func (a *App) rewrapSecrets(ctx context.Context, kr *vault.Keyring, id gateway.SchoolID) (int, error) {
	n := 0
	_, err := a.st.UpdateSchool(ctx, id, func(s *gateway.School) error {
		n = 0
		rewrap := func(place vault.Place, v []byte) ([]byte, error) {
			if len(v) == 0 {
				return v, nil
			}
			nv, changed, err := kr.Rewrap(place, v)
			if changed {
				n++
			}
			return nv, err
		}
		var err error
		if s.SealedKey, err = rewrap(schoolKeyPlace(s.ID), s.SealedKey); err != nil {
			return err
		}
		if s.SealedKeyPassphrase, err = rewrap(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), s.SealedKeyPassphrase); err != nil {
			return err
		}
		if s.Results != nil {
			r := *s.Results
			if r.SealedKey, err = rewrap(vault.SchoolSecret(s.ID, fieldResultsKey), r.SealedKey); err != nil {
				return err
			}
			s.Results = &r
		}
		secrets := make(map[string][]byte, len(s.SealedSecrets))
		for field, v := range s.SealedSecrets {
			if secrets[field], err = rewrap(vault.SchoolSecret(s.ID, field), v); err != nil {
				return err
			}
		}
		if len(secrets) > 0 {
			s.SealedSecrets = secrets
		}
		return rewrapRecipients(s, rewrap)
	})
	return n, err
}

// rewrapRecipients re-seals the credentials of the school's recipients and
// the keys of its studies (new slices: the record read is not changed in
// place).
func rewrapRecipients(s *gateway.School, rewrap func(vault.Place, []byte) ([]byte, error)) error {
	rs := slices.Clone(s.Recipients)
	var err error
	for i := range rs {
		if rs[i].SealedSecret, err = rewrap(recipientPlace(s.ID, rs[i].Name, "secret"), rs[i].SealedSecret); err != nil {
			return err
		}
		if rs[i].SealedKey, err = rewrap(recipientPlace(s.ID, rs[i].Name, "key"), rs[i].SealedKey); err != nil {
			return err
		}
	}
	sts := slices.Clone(s.Studies)
	for i := range sts {
		if sts[i].SealedKey, err = rewrap(studyPlace(s.ID, sts[i].Name), sts[i].SealedKey); err != nil {
			return err
		}
	}
	s.Recipients, s.Studies = rs, sts
	return nil
}

// staleSnapshot counts the ECK iDs of the school's snapshot sealed with
// another term than the active one.
func (a *App) staleSnapshot(ctx context.Context, kr *vault.Keyring, id gateway.SchoolID) (int, error) {
	stale := 0
	old := func(v []byte) bool { return len(v) > 0 && vault.TermOf(v) != kr.ActiveTerm() }
	err := a.st.Pupils(ctx, id, func(p gateway.Pupil) error {
		if old(p.SealedEckID) {
			stale++
		}
		return nil
	})
	if err != nil {
		return stale, err
	}
	teachers, err := a.st.Teachers(ctx, id)
	for _, t := range teachers {
		if old(t.SealedEckID) {
			stale++
		}
	}
	return stale, err
}

// rewrapSnapshot copies the school's snapshot into a stage fenced by l with
// every ECK iD re-sealed, and commits it.
func (a *App) rewrapSnapshot(ctx context.Context, kr *vault.Keyring, id gateway.SchoolID, l gateway.Lock) (int, error) {
	stage, err := a.st.Stage(ctx, id, fmt.Sprintf("rewrap_%d", a.now().UnixNano()), gateway.StageOption{Fence: &l})
	if err != nil {
		return 0, err
	}
	n, err := a.restage(ctx, kr, id, stage)
	if err != nil {
		_ = stage.Discard(context.WithoutCancel(ctx))
		return n, err
	}
	return n, stage.Commit(ctx)
}

// restage puts the school's pupils, teachers and groups into stage, ECK iDs
// re-sealed with the active term; it returns how many were re-sealed.
func (a *App) restage(ctx context.Context, kr *vault.Keyring, id gateway.SchoolID, stage gateway.Stage) (int, error) {
	n := 0
	rewrap := func(place vault.Place, v *[]byte) error {
		if len(*v) == 0 {
			return nil
		}
		nv, changed, err := kr.Rewrap(place, *v)
		if err != nil {
			return fmt.Errorf("%s %s: %w", place.Kind, place.Record, err)
		}
		if changed {
			*v = nv
			n++
		}
		return nil
	}
	batch := make([]gateway.Pupil, 0, 1000)
	err := a.st.Pupils(ctx, id, func(p gateway.Pupil) error {
		if err := rewrap(vault.PupilEckID(id, p.ID), &p.SealedEckID); err != nil {
			return err
		}
		if batch = append(batch, p); len(batch) == cap(batch) {
			err := stage.PutPupils(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = stage.PutPupils(ctx, batch)
	}
	if err != nil {
		return n, err
	}
	teachers, err := a.st.Teachers(ctx, id)
	if err != nil {
		return n, err
	}
	for i := range teachers {
		if err := rewrap(vault.TeacherEckID(id, teachers[i].Key), &teachers[i].SealedEckID); err != nil {
			return n, err
		}
	}
	if err := stage.PutTeachers(ctx, teachers); err != nil {
		return n, err
	}
	gs, cs, err := a.st.Groups(ctx, id)
	if err != nil {
		return n, err
	}
	return n, stage.PutGroups(ctx, gs, cs)
}
