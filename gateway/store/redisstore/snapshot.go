package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// leaseTTL is how long a Pupils walk holds its generation without renewing;
// it renews with every batch of 500 pupils.
const leaseTTL = 5 * time.Minute

func genKey(base string, gen int64, what string) string {
	return base + "g" + strconv.FormatInt(gen, 10) + ":" + what
}

// Stage starts a new staging area, dropping any earlier one of the school.
// With a fence, the same script first checks that the school's lock is held
// with the fence's token (ErrConflict otherwise), so a holder that lost the
// lock cannot drop the new holder's staging area.
func (s *Store) Stage(ctx context.Context, id gateway.SchoolID, runID string, opts ...gateway.StageOption) (gateway.Stage, error) {
	fence, err := fenceOf(id, opts)
	if err != nil {
		return nil, wrap("stage run "+runID, id, err)
	}
	tok := token()
	gen, err := stageScript.Run(ctx, s.rdb,
		[]string{s.key(id, "school"), s.key(id, "stage"), s.key(id, "gennext"), s.key(id, "lock")},
		s.base(id), tok, runID, fence).Int64()
	if err == nil {
		err = refusal(gen, id)
	}
	if err != nil {
		return nil, wrap("stage run "+runID, id, err)
	}
	return &stage{s: s, school: id, run: runID, token: tok, gen: gen, fence: fence}, nil
}

// StagedRun returns the run id of the kept staging area, or ErrNotFound.
func (s *Store) StagedRun(ctx context.Context, id gateway.SchoolID) (string, error) {
	_, run, _, err := s.kept(ctx, id)
	if err != nil {
		return "", wrap("staged run", id, err)
	}
	return run, nil
}

// OpenStage reopens the kept staging area of runID. With a fence, the
// school's lock must be held with its token (ErrConflict otherwise), now and
// again, atomically, at Commit.
func (s *Store) OpenStage(ctx context.Context, id gateway.SchoolID, runID string, opts ...gateway.StageOption) (gateway.Stage, error) {
	fence, err := fenceOf(id, opts)
	if err != nil {
		return nil, wrap("open stage run "+runID, id, err)
	}
	tok, run, gen, err := s.kept(ctx, id)
	if err == nil && run != runID {
		err = fmt.Errorf("kept stage of run %s: %w", runID, gateway.ErrNotFound)
	}
	if err == nil && fence != "" {
		err = s.checkFence(ctx, id, fence)
	}
	if err != nil {
		return nil, wrap("open stage run "+runID, id, err)
	}
	return &stage{s: s, school: id, run: runID, token: tok, gen: gen, fence: fence}, nil
}

// kept reads the kept stage of a school: token, run id and generation.
func (s *Store) kept(ctx context.Context, id gateway.SchoolID) (string, string, int64, error) {
	var ex *redis.IntCmd
	var st *redis.SliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ex = p.Exists(ctx, s.key(id, "school"))
		st = p.HMGet(ctx, s.key(id, "stage"), "token", "run", "gen", "kept")
		return nil
	})
	if err != nil {
		return "", "", 0, err
	}
	if ex.Val() == 0 {
		return "", "", 0, fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	}
	v := st.Val()
	tok, _ := v[0].(string)
	run, _ := v[1].(string)
	g, _ := v[2].(string)
	kept, _ := v[3].(string)
	gen, perr := strconv.ParseInt(g, 10, 64)
	if tok == "" || kept != "1" || perr != nil {
		return "", "", 0, fmt.Errorf("kept stage: %w", gateway.ErrNotFound)
	}
	return tok, run, gen, nil
}

// Pupils calls fn for every pupil of the current snapshot, ordered by
// PupilID, under a lease on its generation (see the package doc).
func (s *Store) Pupils(ctx context.Context, id gateway.SchoolID, fn func(gateway.Pupil) error) error {
	if err := ctx.Err(); err != nil {
		return wrap("pupils", id, err)
	}
	base, tok := s.base(id), token()
	gen, err := acquireScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "gen")},
		base, tok, leaseTTL.Milliseconds()).Int64()
	if err == nil {
		err = refused(gen, id)
	}
	if err != nil {
		return wrap("pupils", id, err)
	}
	if gen == 0 {
		return nil // no snapshot yet
	}
	leases := genKey(base, gen, "leases")
	defer func() {
		// Release even when ctx is cancelled; an unreleased lease only
		// delays the old generation's removal until it expires.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = releaseScript.Run(rctx, s.rdb, []string{leases}, base, gen, tok).Err()
	}()
	renew := func(p redis.Pipeliner) {
		renewScript.Eval(ctx, p, []string{leases}, tok, leaseTTL.Milliseconds())
	}
	err = s.walk(ctx, genKey(base, gen, "pupils"), renew, fn, func() error {
		if err := s.mustExist(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("snapshot generation %d vanished during the walk (lease expired): %w", gen, gateway.ErrTransient)
	})
	return wrap("pupils", id, err)
}

// walk reads the pupils hash key in PupilID order, batch by batch. before,
// when set, is queued in each batch's pipeline; gone explains a record that
// vanished between HKEYS and HMGET.
func (s *Store) walk(ctx context.Context, key string, before func(redis.Pipeliner), fn func(gateway.Pupil) error, gone func() error) error {
	ids, err := s.rdb.HKeys(ctx, key).Result()
	if err != nil {
		return err
	}
	slices.Sort(ids)
	for chunk := range slices.Chunk(ids, batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var get *redis.SliceCmd
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			if before != nil {
				before(p)
			}
			get = p.HMGet(ctx, key, chunk...)
			return nil
		})
		if err != nil {
			return err
		}
		for _, v := range get.Val() {
			data, ok := v.(string)
			if !ok {
				return gone()
			}
			var p gateway.Pupil
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				return fmt.Errorf("decode pupil: %w", err)
			}
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Teachers returns the current teachers, ordered by key.
func (s *Store) Teachers(ctx context.Context, id gateway.SchoolID) ([]gateway.Teacher, error) {
	lists, err := s.readCurrent(ctx, id, "teachers")
	if err != nil {
		return nil, wrap("teachers", id, err)
	}
	ts, err := decodeAll[gateway.Teacher](lists[0], id, "teachers")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b gateway.Teacher) int { return cmp.Compare(a.Key, b.Key) })
	return ts, nil
}

// Groups returns the current home and composite groups, ordered by key.
func (s *Store) Groups(ctx context.Context, id gateway.SchoolID) ([]gateway.Group, []gateway.CompositeGroup, error) {
	lists, err := s.readCurrent(ctx, id, "groups", "composites")
	if err != nil {
		return nil, nil, wrap("groups", id, err)
	}
	gs, err := decodeAll[gateway.Group](lists[0], id, "groups")
	if err != nil {
		return nil, nil, err
	}
	cs, err := decodeAll[gateway.CompositeGroup](lists[1], id, "composite groups")
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(gs, func(a, b gateway.Group) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(cs, func(a, b gateway.CompositeGroup) int { return cmp.Compare(a.Key, b.Key) })
	return gs, cs, nil
}

// readCurrent returns the values of the named hashes of the current
// generation, read in one script so they belong to one snapshot.
func (s *Store) readCurrent(ctx context.Context, id gateway.SchoolID, what ...string) ([][]string, error) {
	args := []any{s.base(id)}
	for _, w := range what {
		args = append(args, w)
	}
	res, err := readCurrentScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "gen")}, args...).Result()
	if err != nil {
		return nil, err
	}
	if code, ok := res.(int64); ok {
		return nil, refused(code, id)
	}
	outer, ok := res.([]any)
	if !ok || len(outer) != len(what) {
		return nil, fmt.Errorf("unexpected script reply %T", res)
	}
	lists := make([][]string, len(outer))
	for i, o := range outer {
		inner, _ := o.([]any)
		for _, v := range inner {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("unexpected script reply element %T", v)
			}
			lists[i] = append(lists[i], str)
		}
	}
	return lists, nil
}

// stage is one handle on a school's staging area. Several handles may share
// one area (Stage, then OpenStage); the token in the stage hash decides
// which area is live, so a replaced handle can neither write nor commit.
type stage struct {
	s      *Store
	school gateway.SchoolID
	run    string
	token  string
	gen    int64
	fence  string // fencing token Commit checks; "" for none

	mu    sync.Mutex
	ended bool
}

var _ gateway.Stage = (*stage)(nil)

func (st *stage) RunID() string { return st.run }

func (st *stage) op(name string) string { return "stage run " + st.run + ": " + name }

// live fails once Commit or Discard returned through this handle.
func (st *stage) live() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return fmt.Errorf("stage already committed or discarded: %w", gateway.ErrConflict)
	}
	return nil
}

func (st *stage) end() {
	st.mu.Lock()
	st.ended = true
	st.mu.Unlock()
}

func (st *stage) stageKey() string { return st.s.key(st.school, "stage") }

func (st *stage) genKey(what string) string { return genKey(st.s.base(st.school), st.gen, what) }

// put writes records into one hash of the staged generation: batches of
// token-checked HSETs, pipelined.
func (st *stage) put(ctx context.Context, what string, fields []string, values [][]byte) error {
	if err := st.live(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(fields) == 0 {
		return nil
	}
	keys := []string{st.stageKey(), st.genKey(what)}
	var cmds []*redis.Cmd
	_, err := st.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for lo := 0; lo < len(fields); lo += batch {
			hi := min(lo+batch, len(fields))
			args := make([]any, 0, 1+2*(hi-lo))
			args = append(args, st.token)
			for i := lo; i < hi; i++ {
				args = append(args, fields[i], values[i])
			}
			cmds = append(cmds, putScript.Eval(ctx, p, keys, args...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range cmds {
		if code, _ := c.Int64(); code < 0 {
			return refused(code, st.school)
		}
	}
	return nil
}

// own checks that a record belongs to the stage's school; an empty school
// is taken as this one.
func (st *stage) own(what, key string, school gateway.SchoolID) error {
	if key == "" {
		return fmt.Errorf("%w: %s with empty key", gateway.ErrInvalid, what)
	}
	if school != "" && school != st.school {
		return fmt.Errorf("%w: %s %s belongs to school %s", gateway.ErrInvalid, what, key, school)
	}
	return nil
}

func (st *stage) PutPupils(ctx context.Context, ps []gateway.Pupil) error {
	fields, values := make([]string, len(ps)), make([][]byte, len(ps))
	for i, p := range ps {
		if err := st.own("pupil", string(p.ID), p.School); err != nil {
			return wrap(st.op("put pupils"), st.school, err)
		}
		p.School = st.school
		data, err := json.Marshal(p)
		if err != nil {
			return wrap(st.op("put pupils"), st.school, err)
		}
		fields[i], values[i] = string(p.ID), data
	}
	return wrap(st.op("put pupils"), st.school, st.put(ctx, "pupils", fields, values))
}

func (st *stage) PutTeachers(ctx context.Context, ts []gateway.Teacher) error {
	fields, values := make([]string, len(ts)), make([][]byte, len(ts))
	for i, t := range ts {
		if err := st.own("teacher", t.Key, t.School); err != nil {
			return wrap(st.op("put teachers"), st.school, err)
		}
		t.School = st.school
		data, err := json.Marshal(t)
		if err != nil {
			return wrap(st.op("put teachers"), st.school, err)
		}
		fields[i], values[i] = t.Key, data
	}
	return wrap(st.op("put teachers"), st.school, st.put(ctx, "teachers", fields, values))
}

func (st *stage) PutGroups(ctx context.Context, gs []gateway.Group, cs []gateway.CompositeGroup) error {
	gf, gv := make([]string, len(gs)), make([][]byte, len(gs))
	for i, g := range gs {
		if err := st.own("group", g.Key, g.School); err != nil {
			return wrap(st.op("put groups"), st.school, err)
		}
		g.School = st.school
		data, err := json.Marshal(g)
		if err != nil {
			return wrap(st.op("put groups"), st.school, err)
		}
		gf[i], gv[i] = g.Key, data
	}
	cf, cv := make([]string, len(cs)), make([][]byte, len(cs))
	for i, c := range cs {
		if err := st.own("composite group", c.Key, c.School); err != nil {
			return wrap(st.op("put groups"), st.school, err)
		}
		c.School = st.school
		data, err := json.Marshal(c)
		if err != nil {
			return wrap(st.op("put groups"), st.school, err)
		}
		cf[i], cv[i] = c.Key, data
	}
	if err := st.put(ctx, "groups", gf, gv); err != nil {
		return wrap(st.op("put groups"), st.school, err)
	}
	if err := st.put(ctx, "composites", cf, cv); err != nil {
		return wrap(st.op("put groups"), st.school, err)
	}
	return nil
}

// Pupils calls fn for every staged pupil, ordered by PupilID.
func (st *stage) Pupils(ctx context.Context, fn func(gateway.Pupil) error) error {
	if err := st.live(); err != nil {
		return wrap(st.op("pupils"), st.school, err)
	}
	if err := ctx.Err(); err != nil {
		return wrap(st.op("pupils"), st.school, err)
	}
	if err := st.check(ctx); err != nil {
		return wrap(st.op("pupils"), st.school, err)
	}
	err := st.s.walk(ctx, st.genKey("pupils"), nil, fn, func() error {
		return refused(refusedStale, st.school)
	})
	return wrap(st.op("pupils"), st.school, err)
}

// check fails with ErrConflict when this handle's staging area is no longer live.
func (st *stage) check(ctx context.Context) error {
	code, err := checkStageScript.Run(ctx, st.s.rdb, []string{st.stageKey()}, st.token).Int64()
	if err != nil {
		return err
	}
	return refused(code, st.school)
}

// Commit swaps the staged generation in, in one script; the old generation
// is dropped at once unless a Pupils walk still holds it. A fenced stage
// whose lock is no longer held with its token is refused by the same script
// (ErrConflict): nothing is written and the handle stays usable, so the
// caller can still Discard it.
func (st *stage) Commit(ctx context.Context) error {
	if err := st.live(); err != nil {
		return wrap(st.op("commit"), st.school, err)
	}
	var code int64
	committed := false
	err := st.s.durable(ctx, func(rc redis.Scripter) error {
		var err error
		code, err = commitScript.Run(ctx, rc,
			[]string{st.s.key(st.school, "school"), st.stageKey(), st.s.key(st.school, "gen"), st.s.key(st.school, "lock")},
			st.s.base(st.school), st.token, st.fence).Int64()
		if err == nil {
			err = refusal(code, st.school)
		}
		committed = err == nil
		return err
	})
	// A fence refusal leaves the staging area as it was (the handle may
	// still Discard it); the other refusals leave nothing to commit, and
	// so does a commit whose replicas did not acknowledge it in time (it
	// stands on the primary: the ErrTransient says it may not survive a
	// failover).
	if committed || (code != refusedFence && (errors.Is(err, gateway.ErrConflict) || errors.Is(err, gateway.ErrNotFound))) {
		st.end() // committed, or nothing left to commit
	}
	return wrap(st.op("commit"), st.school, err)
}

// Keep leaves the staging area for a later OpenStage.
func (st *stage) Keep(ctx context.Context) error {
	if err := st.live(); err != nil {
		return wrap(st.op("keep"), st.school, err)
	}
	code, err := keepScript.Run(ctx, st.s.rdb, []string{st.stageKey()}, st.token).Int64()
	if err == nil {
		err = refused(code, st.school)
	}
	return wrap(st.op("keep"), st.school, err)
}

// Discard drops the staging area and its records.
func (st *stage) Discard(ctx context.Context) error {
	if err := st.live(); err != nil {
		return wrap(st.op("discard"), st.school, err)
	}
	code, err := discardScript.Run(ctx, st.s.rdb, []string{st.stageKey()}, st.s.base(st.school), st.token).Int64()
	if err == nil {
		err = refused(code, st.school)
	}
	if err == nil || errors.Is(err, gateway.ErrConflict) {
		st.end()
	}
	return wrap(st.op("discard"), st.school, err)
}
