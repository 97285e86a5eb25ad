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

var (
	// addLoginScript stores a login and its place in the time order,
	// replacing a record with the same id.
	// KEYS logins, logins:at, logins:key; ARGV id, order member, JSON login.
	addLoginScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then redis.call('ZREM', KEYS[2], old) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 0`)

	// deleteLoginsScript deletes logins by id and returns how many existed.
	// KEYS logins, logins:at, logins:key; ARGV ids.
	deleteLoginsScript = redis.NewScript(`
local n = 0
for i = 1, #ARGV do
  local m = redis.call('HGET', KEYS[3], ARGV[i])
  if m then
    redis.call('ZREM', KEYS[2], m)
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
    n = n + 1
  end
end
return n`)
)

// loginOrderLayout is the fixed-width time at the start of a member of
// logins:at, so that the lexical order of the members is the order by time,
// then id.
const loginOrderLayout = "2006-01-02T15:04:05.000000000Z"

func loginMember(l gateway.Login) string {
	return l.At.UTC().Format(loginOrderLayout) + " " + l.ID
}

func (s *Store) loginKeys() []string {
	return []string{s.prefix + "logins", s.prefix + "logins:at", s.prefix + "logins:key"}
}

// AddLogin stores a login record; a record with the same id is replaced.
func (s *Store) AddLogin(ctx context.Context, l gateway.Login) error {
	if l.ID == "" {
		return fmt.Errorf("redisstore: add login: %w: empty id", gateway.ErrInvalid)
	}
	if y := l.At.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("redisstore: add login %s: %w: time out of range", l.ID, gateway.ErrInvalid)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return wrap("add login "+l.ID, "", err)
	}
	err = addLoginScript.Run(ctx, s.rdb, s.loginKeys(), l.ID, loginMember(l), data).Err()
	return wrap("add login "+l.ID, "", err)
}

// WalkLogins calls fn for every login, oldest first (ties by id), reading
// batch records at a time.
func (s *Store) WalkLogins(ctx context.Context, fn func(gateway.Login) error) error {
	keys := s.loginKeys()
	from := "-"
	for {
		members, err := s.rdb.ZRangeByLex(ctx, keys[1], &redis.ZRangeBy{Min: from, Max: "+", Count: batch}).Result()
		if err != nil {
			return wrap("walk logins", "", err)
		}
		if len(members) == 0 {
			return nil
		}
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m[len(loginOrderLayout)+1:]
		}
		vals, err := s.rdb.HMGet(ctx, keys[0], ids...).Result()
		if err != nil {
			return wrap("walk logins", "", err)
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue // deleted since ZRANGEBYLEX
			}
			var l gateway.Login
			if err := json.Unmarshal([]byte(str), &l); err != nil {
				return wrap("walk logins: decode "+ids[i], "", err)
			}
			if err := fn(l); err != nil {
				return err
			}
		}
		if len(members) < batch {
			return nil
		}
		from = "(" + members[len(members)-1]
	}
}

// DeleteLogins deletes login records by id and returns how many existed.
func (s *Store) DeleteLogins(ctx context.Context, ids []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrap("delete logins", "", err)
	}
	n := 0
	for chunk := range slices.Chunk(ids, batch) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		k, err := deleteLoginsScript.Run(ctx, s.rdb, s.loginKeys(), args...).Int()
		if err != nil {
			return n, wrap("delete logins", "", err)
		}
		n += k
	}
	return n, nil
}

func (s *Store) secretsKey() string { return s.prefix + "secrets" }

// GatewaySecret returns a gateway secret, or ErrNotFound.
func (s *Store) GatewaySecret(ctx context.Context, name string) ([]byte, error) {
	v, err := s.rdb.HGet(ctx, s.secretsKey(), name).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: gateway secret %s: %w", name, gateway.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("gateway secret "+name, "", err)
	}
	return v, nil
}

// PutGatewaySecret stores a gateway secret. With ifAbsent it sets the value
// only if none is stored (HSETNX) and returns the stored one, read in the
// same MULTI, so racing processes all return the one value that won.
func (s *Store) PutGatewaySecret(ctx context.Context, name string, v []byte, ifAbsent bool) ([]byte, error) {
	if name == "" || len(v) == 0 {
		return nil, fmt.Errorf("redisstore: put gateway secret %s: %w: empty name or value", name, gateway.ErrInvalid)
	}
	op := "put gateway secret " + name
	if !ifAbsent {
		if err := s.rdb.HSet(ctx, s.secretsKey(), name, v).Err(); err != nil {
			return nil, wrap(op, "", err)
		}
		return v, nil
	}
	var got *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, s.secretsKey(), name, v)
		got = p.HGet(ctx, s.secretsKey(), name)
		return nil
	})
	if err != nil {
		return nil, wrap(op, "", err)
	}
	out, err := got.Bytes()
	if err != nil {
		return nil, wrap(op, "", err)
	}
	return out, nil
}
