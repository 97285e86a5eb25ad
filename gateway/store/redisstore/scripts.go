package redisstore

import "github.com/redis/go-redis/v9"

// Script results below zero are refusals, translated in Go.
const (
	refusedNoSchool = -1 // the school does not exist
	refusedStale    = -2 // the stage token no longer matches (replaced, ended or school deleted)
	refusedFence    = -3 // the school's lock is not held with the given fencing token
	refusedLockHeld = -4 // the school's lock is held by someone and has not lapsed
	refusedHashUsed = -5 // another token has this hash
	refusedChanged  = -6 // the record is no longer the one read (compare-and-set lost)
)

// luaLib is prepended to every script. base is "<prefix>{<school>}:".
const luaLib = `
local function genkey(base, g, what) return base .. 'g' .. g .. ':' .. what end
local function dropgen(base, g)
  redis.call('UNLINK', genkey(base, g, 'pupils'), genkey(base, g, 'teachers'),
    genkey(base, g, 'groups'), genkey(base, g, 'composites'))
end
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- retire drops old generation g unless a live reader lease holds it; then g
-- waits in the retired set for its last reader or a later sweep.
local function retire(base, g, now)
  local lk = genkey(base, g, 'leases')
  redis.call('ZREMRANGEBYSCORE', lk, '-inf', now)
  if redis.call('ZCARD', lk) == 0 then
    dropgen(base, g)
    redis.call('DEL', lk)
    redis.call('SREM', base .. 'retired', g)
  else
    redis.call('SADD', base .. 'retired', g)
  end
end
local function sweep(base, now)
  for _, g in ipairs(redis.call('SMEMBERS', base .. 'retired')) do retire(base, g, now) end
end
-- fenced is true when a fencing token is given (not '') and the lock hash
-- does not carry it: the holder lost the lock.
local function fenced(lockkey, fence)
  return fence ~= '' and redis.call('HGET', lockkey, 'token') ~= fence
end
`

func script(body string) *redis.Script { return redis.NewScript(luaLib + body) }

var (
	// KEYS school, consent, consent:log; ARGV processing, "1"/"0", JSON change.
	setConsentScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[3])
return 0`)

	// KEYS school, runs; ARGV JSON run, how many to keep.
	addRunScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
return 0`)

	// KEYS tokens; ARGV id, the record as read, the record to write. Writes
	// only when the stored bytes are still the ones read (compare-and-set).
	updateTokenScript = script(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
if cur ~= ARGV[2] then return -6 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 0`)

	// KEYS school; ARGV the record as read, the record to write. Writes only
	// when the stored bytes are still the ones read (compare-and-set).
	updateSchoolScript = script(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return -6 end
redis.call('SET', KEYS[1], ARGV[2])
return 0`)

	// KEYS school, stage, gen. Removes the keys that writers and readers
	// check, so that after it nothing can write into the school; the rest is
	// swept by SCAN.
	deleteSchoolScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 0`)

	// KEYS school, stage, gennext, lock; ARGV base, token, run id, fencing
	// token ('' for none). Returns the new generation.
	stageScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if fenced(KEYS[4], ARGV[4]) then return -3 end
local old = redis.call('HGET', KEYS[2], 'gen')
if old then dropgen(ARGV[1], old) end
local g = redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'token', ARGV[2], 'gen', g, 'run', ARGV[3], 'kept', '0')
sweep(ARGV[1], nowms())
return g`)

	// KEYS stage, target hash; ARGV token, field, value, field, value...
	putScript = script(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return -2 end
if #ARGV > 1 then redis.call('HSET', KEYS[2], unpack(ARGV, 2)) end
return 0`)

	// KEYS stage; ARGV token.
	checkStageScript = script(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return -2 end
return 0`)

	// KEYS school, stage, gen, lock; ARGV base, token, fencing token ('' for none).
	commitScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local st = redis.call('HMGET', KEYS[2], 'token', 'gen')
if st[1] ~= ARGV[2] then return -2 end
if fenced(KEYS[4], ARGV[3]) then return -3 end
local old = redis.call('GET', KEYS[3])
redis.call('SET', KEYS[3], st[2])
redis.call('DEL', KEYS[2])
local now = nowms()
if old then retire(ARGV[1], old, now) end
sweep(ARGV[1], now)
return 0`)

	// KEYS stage; ARGV token.
	keepScript = script(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return -2 end
redis.call('HSET', KEYS[1], 'kept', '1')
return 0`)

	// KEYS stage; ARGV base, token.
	discardScript = script(`
local st = redis.call('HMGET', KEYS[1], 'token', 'gen')
if st[1] ~= ARGV[2] then return -2 end
dropgen(ARGV[1], st[2])
redis.call('DEL', KEYS[1])
return 0`)

	// KEYS school, gen; ARGV base, token, ttl ms. Returns the current
	// generation with a lease on it, or 0 when there is no snapshot yet.
	acquireScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local g = redis.call('GET', KEYS[2])
if not g then return 0 end
redis.call('ZADD', genkey(ARGV[1], g, 'leases'), nowms() + tonumber(ARGV[3]), ARGV[2])
return tonumber(g)`)

	// KEYS lease set; ARGV token, ttl ms. XX: a lease that was swept stays gone.
	renewScript = script(`
redis.call('ZADD', KEYS[1], 'XX', nowms() + tonumber(ARGV[2]), ARGV[1])
return 0`)

	// KEYS lease set; ARGV base, generation, token.
	releaseScript = script(`
redis.call('ZREM', KEYS[1], ARGV[3])
if redis.call('SISMEMBER', ARGV[1] .. 'retired', ARGV[2]) == 1 then retire(ARGV[1], ARGV[2], nowms()) end
return 0`)

	// KEYS school, gen; ARGV base, what... Returns one list of values per
	// what, read from the current generation in one step.
	readCurrentScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local g = redis.call('GET', KEYS[2])
local out = {}
for i = 2, #ARGV do
  if g then out[i - 1] = redis.call('HVALS', genkey(ARGV[1], g, ARGV[i])) else out[i - 1] = {} end
end
return out`)
)
