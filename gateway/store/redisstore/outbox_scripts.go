package redisstore

// Outbox scripts. A batch lives in the hash {s}:batch:<id> with the fields
//
//	data   JSON gateway.Batch (written by Go; scripts never re-encode it)
//	state  the batch state, mirrored from data for the scripts
//	token  the current claim, absent when not leased
//	lease  lease deadline (unix ms) of the claim
//
// The queue is the global stream outbox:stream (consumer group "delivery"),
// one entry {s: school, b: batch} per batch waiting to be sent, plus the
// global sorted set outbox:delayed (member "<school>\n<batch>", score = due
// unix ms) for batches waiting for a retry. Per school, {s}:leased (batch ->
// lease deadline) counts the batches in flight and {s}:depth (state -> n)
// counts batches by state.
//
// Time is the caller's (ARGV), so tests can drive a fake clock; leases and
// due times are compared with it.
var (
	// KEYS school, hash; ARGV field, value, ... Sets fields of a school's hash.
	hsetIfSchoolScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1 + 1], unpack(ARGV))
return 0`)

	// KEYS school, evidence, evidence:meta; ARGV id, doc, meta JSON.
	putEvidenceScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 0`)

	// KEYS digests, results, batches, depth, stream, held, then one batch
	// hash per batch; ARGV n, then n × (key, expected digest or "", new
	// digest, result JSON), school, m, then m × (batch id, state, data, due
	// ms). Stores the results whose stored digest still equals the expected
	// one and creates the m batches (a recipient's copies share the keys);
	// returns -3 when a digest changed meanwhile (the caller reads again).
	enqueueScript = script(`
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local k, exp = ARGV[2 + i*4], ARGV[3 + i*4]
  local cur = redis.call('HGET', KEYS[1], k)
  if (cur or '') ~= exp then return -3 end
end
for i = 0, n - 1 do
  redis.call('HSET', KEYS[1], ARGV[2 + i*4], ARGV[4 + i*4])
  redis.call('HSET', KEYS[2], ARGV[2 + i*4], ARGV[5 + i*4])
end
local school = ARGV[2 + n*4]
local m = tonumber(ARGV[3 + n*4])
for j = 0, m - 1 do
  local a = 4 + n*4 + j*4
  local id, state = ARGV[a], ARGV[a + 1]
  redis.call('HSET', KEYS[7 + j], 'data', ARGV[a + 2], 'state', state, 'due', ARGV[a + 3])
  redis.call('ZADD', KEYS[3], 0, id)
  redis.call('HINCRBY', KEYS[4], state, 1)
  if state == 'queued' then
    redis.call('XADD', KEYS[5], '*', 's', school, 'b', id)
  elseif state == 'held' then
    redis.call('SADD', KEYS[6], id)
  end
end
return 0`)

	// KEYS delayed, stream; ARGV now ms, max. Moves due retries into the stream.
	promoteScript = script(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  local nl = string.find(m, '\n', 1, true)
  redis.call('XADD', KEYS[2], '*', 's', string.sub(m, 1, nl - 1), 'b', string.sub(m, nl + 1))
end
return #due`)

	// KEYS batch, leased, stream, delayed; ARGV group, entry, token, now ms,
	// lease ms, batch id, delayed member. Returns the batch data when the
	// claim succeeds, 0 when the entry was dropped (batch gone, held, ended),
	// 1 when another worker holds a live lease (the entry is left alone), 2
	// when the batch is not due yet (moved to the delayed set).
	claimScript = script(`
local b = redis.call('HMGET', KEYS[1], 'state', 'token', 'lease', 'due', 'data')
local state = b[1]
local drop = function()
  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[3], ARGV[2])
end
if not state or (state ~= 'queued' and state ~= 'sent') then drop() return 0 end
local now = tonumber(ARGV[4])
if b[2] and tonumber(b[3] or '0') > now then return 1 end
if tonumber(b[4] or '0') > now then
  drop()
  redis.call('ZADD', KEYS[4], b[4], ARGV[7])
  return 2
end
local deadline = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'token', ARGV[3], 'lease', deadline)
redis.call('ZADD', KEYS[2], deadline, ARGV[6])
return b[5]`)

	// KEYS batch, leased, depth, held, stream, delayed; ARGV token, state,
	// data, lease deadline ms, group, entry, batch id, due ms, delayed member.
	// -2: the claim is not current.
	settleScript = script(`
local b = redis.call('HMGET', KEYS[1], 'token', 'state')
if not b[1] or b[1] ~= ARGV[1] then return -2 end
if b[2] ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[3], b[2], -1)
  redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
end
redis.call('HSET', KEYS[1], 'data', ARGV[3], 'state', ARGV[2])
if ARGV[2] == 'sent' then
  redis.call('HSET', KEYS[1], 'lease', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[7])
  return 0
end
redis.call('HDEL', KEYS[1], 'token', 'lease')
redis.call('ZREM', KEYS[2], ARGV[7])
redis.call('XACK', KEYS[5], ARGV[5], ARGV[6])
redis.call('XDEL', KEYS[5], ARGV[6])
if ARGV[2] == 'queued' then
  redis.call('HSET', KEYS[1], 'due', ARGV[8])
  redis.call('ZADD', KEYS[6], ARGV[8], ARGV[9])
elseif ARGV[2] == 'held' then
  redis.call('SADD', KEYS[4], ARGV[7])
end
return 0`)

	// KEYS batch, depth, held, stream, leased; ARGV from-state, to-state, data,
	// due ms, school, batch id, now ms. Moves an unleased batch between
	// states outside a claim (hold, release, requeue). Returns 1 when moved,
	// 0 when the batch is not in from-state or is leased.
	moveScript = script(`
local b = redis.call('HMGET', KEYS[1], 'state', 'token', 'lease')
if b[1] ~= ARGV[1] then return 0 end
if b[2] and tonumber(b[3] or '0') > tonumber(ARGV[7]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HSET', KEYS[1], 'data', ARGV[3], 'state', ARGV[2], 'due', ARGV[4])
redis.call('HDEL', KEYS[1], 'token', 'lease')
redis.call('ZREM', KEYS[5], ARGV[6])
if ARGV[2] == 'held' then redis.call('SADD', KEYS[3], ARGV[6]) else redis.call('SREM', KEYS[3], ARGV[6]) end
if ARGV[2] == 'queued' then redis.call('XADD', KEYS[4], '*', 's', ARGV[5], 'b', ARGV[6]) end
return 1`)

	// KEYS batch (parent), leased, depth, stream, results, batches; ARGV
	// token, parent data, group, entry, parent id, school, created ms, n
	// parts, then n × (id, data, due ms), m, then m × (key, result JSON).
	splitScript = script(`
local b = redis.call('HMGET', KEYS[1], 'token', 'state')
if not b[1] or b[1] ~= ARGV[1] then return -2 end
redis.call('HINCRBY', KEYS[3], b[2], -1)
redis.call('HINCRBY', KEYS[3], 'split', 1)
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'state', 'split')
redis.call('HDEL', KEYS[1], 'token', 'lease')
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('XACK', KEYS[4], ARGV[3], ARGV[4])
redis.call('XDEL', KEYS[4], ARGV[4])
local n = tonumber(ARGV[8])
local base = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[5])
for i = 0, n - 1 do
  local id, data, due = ARGV[9 + i*3], ARGV[10 + i*3], ARGV[11 + i*3]
  redis.call('HSET', base .. id, 'data', data, 'state', 'queued', 'due', due)
  redis.call('ZADD', KEYS[6], 0, id)
  redis.call('HINCRBY', KEYS[3], 'queued', 1)
  redis.call('XADD', KEYS[4], '*', 's', ARGV[6], 'b', id)
end
local m = tonumber(ARGV[9 + n*3])
for i = 0, m - 1 do
  redis.call('HSET', KEYS[5], ARGV[10 + n*3 + i*2], ARGV[11 + n*3 + i*2])
end
return 0`)

	// KEYS batch, batches, depth, held; ARGV batch id. Deletes an ended or
	// held batch.
	deleteBatchScript = script(`
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'accepted' and st ~= 'rejected' and st ~= 'split' and st ~= 'held' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[3], st, -1)
return 1`)

	// KEYS school, gen, stage; ARGV base, ids... Deletes pupils from the
	// current generation and a kept stage; returns how many left the current one.
	purgeScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local n = 0
local g = redis.call('GET', KEYS[2])
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return 0 end
if g then n = redis.call('HDEL', genkey(ARGV[1], g, 'pupils'), unpack(ids)) end
local st = redis.call('HMGET', KEYS[3], 'gen', 'kept')
if st[1] and st[2] == '1' then redis.call('HDEL', genkey(ARGV[1], st[1], 'pupils'), unpack(ids)) end
return n`)

	// KEYS school, gen; ARGV base, ids... Returns the JSON of the current
	// pupils with these ids (false for unknown ids).
	pupilsByIDScript = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local g = redis.call('GET', KEYS[2])
if not g or #ARGV < 2 then return {} end
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
return redis.call('HMGET', genkey(ARGV[1], g, 'pupils'), unpack(ids))`)
)
