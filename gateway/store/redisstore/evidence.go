package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// PutEvidence stores one evidence record: its document in {s}:evidence and
// the rest in {s}:evidence:meta.
func (s *Store) PutEvidence(ctx context.Context, e gateway.Evidence) error {
	if e.ID == "" {
		return wrap("put evidence", e.School, fmt.Errorf("%w: evidence without id", gateway.ErrInvalid))
	}
	doc := e.Doc
	e.Doc = nil
	meta, err := json.Marshal(e)
	if err != nil {
		return wrap("put evidence", e.School, err)
	}
	code, err := putEvidenceScript.Run(ctx, s.rdb, []string{s.key(e.School, "school"), s.key(e.School, "evidence"), s.key(e.School, "evidence:meta")},
		e.ID, doc, meta).Int64()
	if err == nil {
		err = refused(code, e.School)
	}
	return wrap("put evidence", e.School, err)
}

// Evidence returns one record with its document.
func (s *Store) Evidence(ctx context.Context, id gateway.SchoolID, evID string) (gateway.Evidence, error) {
	var meta, doc *redis.StringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGet(ctx, s.key(id, "evidence:meta"), evID)
		doc = p.HGet(ctx, s.key(id, "evidence"), evID)
		return nil
	})
	if errors.Is(err, redis.Nil) || (err == nil && errors.Is(meta.Err(), redis.Nil)) {
		if err := s.mustExist(ctx, id); err != nil {
			return gateway.Evidence{}, wrap("evidence", id, err)
		}
		return gateway.Evidence{}, wrap("evidence", id, fmt.Errorf("evidence %s: %w", evID, gateway.ErrNotFound))
	}
	if err != nil {
		return gateway.Evidence{}, wrap("evidence", id, err)
	}
	var e gateway.Evidence
	if err := json.Unmarshal([]byte(meta.Val()), &e); err != nil {
		return gateway.Evidence{}, wrap("evidence: decode", id, err)
	}
	e.Doc = []byte(doc.Val())
	return e, nil
}

// WalkEvidence calls fn for every record of the school, without documents.
func (s *Store) WalkEvidence(ctx context.Context, id gateway.SchoolID, fn func(gateway.Evidence) error) error {
	if err := s.mustExist(ctx, id); err != nil {
		return wrap("walk evidence", id, err)
	}
	return wrap("walk evidence", id, s.scanHash(ctx, s.key(id, "evidence:meta"), func(_, v string) error {
		var e gateway.Evidence
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			return fmt.Errorf("decode evidence: %w", err)
		}
		return fn(e)
	}))
}

// DeleteEvidence deletes records by id.
func (s *Store) DeleteEvidence(ctx context.Context, id gateway.SchoolID, ids []string) (int, error) {
	if err := s.mustExist(ctx, id); err != nil {
		return 0, wrap("delete evidence", id, err)
	}
	n := 0
	for chunk := range slices.Chunk(ids, batch) {
		var del *redis.IntCmd
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			del = p.HDel(ctx, s.key(id, "evidence:meta"), chunk...)
			p.HDel(ctx, s.key(id, "evidence"), chunk...)
			return nil
		})
		if err != nil {
			return n, wrap("delete evidence", id, err)
		}
		n += int(del.Val())
	}
	return n, nil
}

// PupilsByID returns the current pupils with the given ids.
func (s *Store) PupilsByID(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (map[gateway.PupilID]gateway.Pupil, error) {
	out := make(map[gateway.PupilID]gateway.Pupil, len(ids))
	for chunk := range slices.Chunk(ids, batch) {
		args := []any{s.base(id)}
		for _, p := range chunk {
			args = append(args, string(p))
		}
		res, err := pupilsByIDScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "gen")}, args...).Result()
		if err != nil {
			return nil, wrap("pupils by id", id, err)
		}
		if code, ok := res.(int64); ok {
			return nil, wrap("pupils by id", id, refused(code, id))
		}
		vals, _ := res.([]any)
		for _, v := range vals {
			data, ok := v.(string)
			if !ok {
				continue
			}
			var p gateway.Pupil
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				return nil, wrap("pupils by id: decode", id, err)
			}
			out[p.ID] = p
		}
	}
	if len(ids) == 0 {
		if err := s.mustExist(ctx, id); err != nil {
			return nil, wrap("pupils by id", id, err)
		}
	}
	return out, nil
}

// PurgePupils deletes pupils from the current snapshot and a kept stage.
func (s *Store) PurgePupils(ctx context.Context, id gateway.SchoolID, ids []gateway.PupilID) (int, error) {
	if len(ids) == 0 {
		return 0, wrap("purge pupils", id, s.mustExist(ctx, id))
	}
	n := 0
	for chunk := range slices.Chunk(ids, batch) {
		args := []any{s.base(id)}
		for _, p := range chunk {
			args = append(args, string(p))
		}
		k, err := purgeScript.Run(ctx, s.rdb, []string{s.key(id, "school"), s.key(id, "gen"), s.key(id, "stage")}, args...).Int64()
		if err == nil && k < 0 {
			err = refused(k, id)
		}
		if err != nil {
			return n, wrap("purge pupils", id, err)
		}
		n += int(k)
	}
	return n, nil
}
