package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

const (
	// maxRuns is how many sync runs are kept per school.
	maxRuns = 1000
	// batch is how many records go into one HSET or HMGET: large enough to
	// amortise round trips, small enough to keep Lua's argument stack and
	// a single reply far from any limit.
	batch = 500
)

// Store is a gateway.Store in Redis.
type Store struct {
	rdb    *redis.Client
	prefix string

	// minReplicas and waitTimeout: the WAIT after a durable write (wait.go).
	minReplicas int
	waitTimeout time.Duration

	cmu    sync.Mutex
	cursor string // where the next XAUTOCLAIM of the outbox stream starts
}

var _ gateway.Store = (*Store)(nil)

// Open connects to the Redis server at url (redis://, rediss:// or unix://,
// as redis.ParseURL reads them) and checks it with PING. Every key the store
// touches starts with prefix, which must not be empty. Errors never contain
// the password of url. Writes wait for no replica; OpenWith opens through
// Sentinel and with WAIT.
func Open(ctx context.Context, url string, prefix string) (*Store, error) {
	return OpenWith(ctx, Options{URL: url, Prefix: prefix})
}

// openErr classifies a failed PING (ErrForbidden for refused credentials,
// ErrTransient for connection trouble) without keeping the cause's text
// unscrubbed.
func openErr(opts *redis.Options, err error, rawURL string) error {
	where := fmt.Sprintf("redisstore: open: ping %s db %d", opts.Addr, opts.DB)
	msg := scrub(err.Error(), rawURL)
	kind := gateway.ErrTransient
	if m := err.Error(); strings.HasPrefix(m, "WRONGPASS") || strings.HasPrefix(m, "NOAUTH") || strings.HasPrefix(m, "NOPERM") {
		kind = gateway.ErrForbidden
	}
	return fmt.Errorf("%s: %w: %s", where, kind, msg)
}

// parseErrText is the message of a URL parse error without the URL itself
// (a *url.Error quotes the whole URL, password included).
func parseErrText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// scrub removes the user info of rawURL from msg, in case a message quotes it.
func scrub(msg, rawURL string) string {
	rest := rawURL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return msg
	}
	userinfo := rest[:at]
	secrets := []string{userinfo}
	if _, pass, ok := strings.Cut(userinfo, ":"); ok && pass != "" {
		secrets = append(secrets, pass)
		if dec, err := url.PathUnescape(pass); err == nil && dec != pass {
			secrets = append(secrets, dec)
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.rdb.Close() }

// base is the common start of every key of a school: "<prefix>{<id>}:".
func (s *Store) base(id gateway.SchoolID) string { return s.prefix + "{" + string(id) + "}:" }

func (s *Store) key(id gateway.SchoolID, what string) string { return s.base(id) + what }

func (s *Store) indexKey() string { return s.prefix + "schools" }

// wrap adds the operation and school to a Redis error, and marks connection
// trouble as gateway.ErrTransient. Context errors pass through (errors.Is
// holds on the result).
func wrap(op string, id gateway.SchoolID, err error) error {
	if err == nil {
		return nil
	}
	where := "redisstore: " + op
	if id != "" {
		where += " school " + string(id)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, gateway.ErrNotFound) || errors.Is(err, gateway.ErrInvalid) ||
		errors.Is(err, gateway.ErrConflict) || errors.Is(err, gateway.ErrTransient) {
		return fmt.Errorf("%s: %w", where, err)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "NOPERM") {
		return fmt.Errorf("%s: %w: %w", where, gateway.ErrForbidden, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || inFailover(err) {
		return fmt.Errorf("%s: %w: %w", where, gateway.ErrTransient, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// refused turns a script's refusal code into an error kind.
func refused(code int64, id gateway.SchoolID) error {
	switch code {
	case refusedNoSchool:
		return fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	case refusedStale:
		return fmt.Errorf("stage was replaced, ended, or its school deleted: %w", gateway.ErrConflict)
	}
	return nil
}

func token() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// PutSchool creates or replaces a school; its snapshot, consent and runs stay.
func (s *Store) PutSchool(ctx context.Context, sc gateway.School) error {
	if sc.ID == "" {
		return fmt.Errorf("redisstore: put school: %w: empty id", gateway.ErrInvalid)
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return wrap("put", sc.ID, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.key(sc.ID, "school"), data, 0)
		p.ZAdd(ctx, s.indexKey(), redis.Z{Member: string(sc.ID)})
		return nil
	})
	return wrap("put", sc.ID, err)
}

// School returns one school, or ErrNotFound.
func (s *Store) School(ctx context.Context, id gateway.SchoolID) (gateway.School, error) {
	data, err := s.rdb.Get(ctx, s.key(id, "school")).Bytes()
	if errors.Is(err, redis.Nil) {
		return gateway.School{}, fmt.Errorf("redisstore: school %s: %w", id, gateway.ErrNotFound)
	}
	if err != nil {
		return gateway.School{}, wrap("get", id, err)
	}
	var sc gateway.School
	if err := json.Unmarshal(data, &sc); err != nil {
		return gateway.School{}, wrap("decode", id, err)
	}
	return sc, nil
}

// updateAttempts bounds the compare-and-set rounds of UpdateSchool. Each
// lost round means another writer's update went in, so n concurrent
// updaters need at most n rounds; past this many something keeps rewriting
// the school, and the caller gets ErrConflict.
const updateAttempts = 100

// UpdateSchool reads the school, lets fn change it, and writes it with a
// compare-and-set on the stored bytes (a Lua script): when another writer
// changed the record in between, it reads again and runs fn on the fresh
// record.
func (s *Store) UpdateSchool(ctx context.Context, id gateway.SchoolID, fn func(*gateway.School) error) (gateway.School, error) {
	key := s.key(id, "school")
	for range updateAttempts {
		old, err := s.rdb.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return gateway.School{}, fmt.Errorf("redisstore: update school %s: %w", id, gateway.ErrNotFound)
		}
		if err != nil {
			return gateway.School{}, wrap("update", id, err)
		}
		var sc gateway.School
		if err := json.Unmarshal(old, &sc); err != nil {
			return gateway.School{}, wrap("decode", id, err)
		}
		if err := fn(&sc); err != nil {
			return gateway.School{}, err
		}
		if sc.ID != id {
			return gateway.School{}, fmt.Errorf("redisstore: update school %s: %w: the id cannot change", id, gateway.ErrInvalid)
		}
		data, err := json.Marshal(sc)
		if err != nil {
			return gateway.School{}, wrap("update", id, err)
		}
		code, err := updateSchoolScript.Run(ctx, s.rdb, []string{key}, old, data).Int64()
		if err != nil {
			return gateway.School{}, wrap("update", id, err)
		}
		switch code {
		case 0:
			return sc, nil
		case refusedNoSchool:
			return gateway.School{}, fmt.Errorf("redisstore: update school %s: %w", id, gateway.ErrNotFound)
		}
		// refusedChanged: another writer came between; read again.
	}
	return gateway.School{}, fmt.Errorf("redisstore: update school %s: %w: the record kept changing (%d attempts)", id, gateway.ErrConflict, updateAttempts)
}

// Schools lists every school, ordered by id.
func (s *Store) Schools(ctx context.Context) ([]gateway.School, error) {
	ids, err := s.rdb.ZRange(ctx, s.indexKey(), 0, -1).Result()
	if err != nil {
		return nil, wrap("list schools", "", err)
	}
	var out []gateway.School
	for chunk := range slices.Chunk(ids, batch) {
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range chunk {
				p.Get(ctx, s.key(gateway.SchoolID(id), "school"))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, wrap("list schools", "", err)
		}
		for i, c := range cmds {
			data, err := c.(*redis.StringCmd).Bytes()
			if errors.Is(err, redis.Nil) {
				continue // deleted since ZRANGE
			}
			if err != nil {
				return nil, wrap("list schools", gateway.SchoolID(chunk[i]), err)
			}
			var sc gateway.School
			if err := json.Unmarshal(data, &sc); err != nil {
				return nil, wrap("decode", gateway.SchoolID(chunk[i]), err)
			}
			out = append(out, sc)
		}
	}
	return out, nil
}

// DeleteSchool removes the school and every key of it. It first removes, in
// one step, the keys that writers check (school, stage, gen), so a stage or a
// consent change in flight can no longer write; then it sweeps the rest with
// SCAN. A PutSchool of the same id racing with the sweep keeps its school
// record (the sweep leaves the school key alone) but not older data.
func (s *Store) DeleteSchool(ctx context.Context, id gateway.SchoolID) error {
	code, err := deleteSchoolScript.Run(ctx, s.rdb,
		[]string{s.key(id, "school"), s.key(id, "stage"), s.key(id, "gen")}).Int64()
	if err != nil {
		return wrap("delete", id, err)
	}
	if err := s.rdb.ZRem(ctx, s.indexKey(), string(id)).Err(); err != nil {
		return wrap("delete", id, err)
	}
	if err := refused(code, id); err != nil {
		return wrap("delete", id, err)
	}
	return wrap("delete", id, s.sweep(ctx, id))
}

// sweep unlinks every key of school id except its school record.
func (s *Store) sweep(ctx context.Context, id gateway.SchoolID) error {
	base := s.base(id)
	keep := s.key(id, "school")
	match := globEscape(base) + "*"
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return err
		}
		// Keys of another school whose id starts with "<id>}:" match too;
		// our own suffixes never contain '}'.
		keys = slices.DeleteFunc(keys, func(k string) bool {
			return k == keep || strings.Contains(k[len(base):], "}")
		})
		if len(keys) > 0 {
			if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// globEscape quotes the glob characters of SCAN MATCH.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mustExist returns ErrNotFound when the school does not exist.
func (s *Store) mustExist(ctx context.Context, id gateway.SchoolID) error {
	n, err := s.rdb.Exists(ctx, s.key(id, "school")).Result()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	}
	return nil
}

// SetConsent applies one change and appends it to the history, in one script.
func (s *Store) SetConsent(ctx context.Context, c gateway.ConsentChange) error {
	if !c.Processing.Valid() {
		return fmt.Errorf("redisstore: set consent school %s: %w: unknown processing %q", c.School, gateway.ErrInvalid, c.Processing)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return wrap("set consent", c.School, err)
	}
	val := "0"
	if c.New {
		val = "1"
	}
	err = s.durable(ctx, func(rc redis.Scripter) error {
		code, err := setConsentScript.Run(ctx, rc,
			[]string{s.key(c.School, "school"), s.key(c.School, "consent"), s.key(c.School, "consent:log")},
			string(c.Processing), val, data).Int64()
		if err == nil {
			err = refused(code, c.School)
		}
		return err
	})
	return wrap("set consent", c.School, err)
}

// Consent returns the current opt-ins: the processings granted.
func (s *Store) Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, error) {
	var ex *redis.IntCmd
	var all *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ex = p.Exists(ctx, s.key(id, "school"))
		all = p.HGetAll(ctx, s.key(id, "consent"))
		return nil
	})
	if err != nil {
		return nil, wrap("consent", id, err)
	}
	if ex.Val() == 0 {
		return nil, wrap("consent", id, fmt.Errorf("school %s: %w", id, gateway.ErrNotFound))
	}
	c := gateway.Consent{}
	for p, v := range all.Val() {
		if v == "1" {
			c[gateway.Processing(p)] = true
		}
	}
	return c, nil
}

// ConsentHistory returns every change, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, id gateway.SchoolID) ([]gateway.ConsentChange, error) {
	vals, err := s.existsAndList(ctx, id, "consent:log", 0, -1)
	if err != nil {
		return nil, wrap("consent history", id, err)
	}
	return decodeAll[gateway.ConsentChange](vals, id, "consent history")
}

// existsAndList reads a list range of a school, with ErrNotFound for an
// unknown school, in one MULTI.
func (s *Store) existsAndList(ctx context.Context, id gateway.SchoolID, what string, start, stop int64) ([]string, error) {
	var ex *redis.IntCmd
	var list *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ex = p.Exists(ctx, s.key(id, "school"))
		list = p.LRange(ctx, s.key(id, what), start, stop)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ex.Val() == 0 {
		return nil, fmt.Errorf("school %s: %w", id, gateway.ErrNotFound)
	}
	return list.Val(), nil
}

// AddSyncRun records a run; only the newest maxRuns runs of a school are kept.
func (s *Store) AddSyncRun(ctx context.Context, r gateway.SyncRun) error {
	data, err := json.Marshal(r)
	if err != nil {
		return wrap("add sync run", r.School, err)
	}
	code, err := addRunScript.Run(ctx, s.rdb,
		[]string{s.key(r.School, "school"), s.key(r.School, "runs")}, data, maxRuns).Int64()
	if err == nil {
		err = refused(code, r.School)
	}
	return wrap("add sync run", r.School, err)
}

// SyncRuns returns the newest runs first, at most limit (all kept runs when
// limit is zero or less).
func (s *Store) SyncRuns(ctx context.Context, id gateway.SchoolID, limit int) ([]gateway.SyncRun, error) {
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	vals, err := s.existsAndList(ctx, id, "runs", 0, stop)
	if err != nil {
		return nil, wrap("sync runs", id, err)
	}
	return decodeAll[gateway.SyncRun](vals, id, "sync runs")
}

func decodeAll[T any](vals []string, id gateway.SchoolID, op string) ([]T, error) {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		var x T
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return nil, wrap(op+": decode", id, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// Drop deletes every key under the store's prefix, and nothing else (no
// FLUSHDB): for tests, and for taking a gateway out of service. The store
// stays open but empty.
func (s *Store) Drop(ctx context.Context) error {
	match := globEscape(s.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return wrap("drop", "", err)
		}
		if len(keys) > 0 {
			if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
				return wrap("drop", "", err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
