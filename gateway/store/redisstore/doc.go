// Package redisstore keeps gateway.Store in Redis. It is the only importer of
// go-redis (STYLE.md R2); its behaviour is specified by
// gateway/store/storetest, which its tests run against a real Redis.
//
// # Key layout
//
// Every key starts with the prefix given to Open (for example "uwlr:"), so
// several gateways or test runs can share one database. Every key of one
// school carries the hash tag {<school id>}, so a school's keys share one
// cluster slot and each per-school operation is a single-slot Lua script or
// MULTI/EXEC. With p the prefix and s the school id:
//
//	p schools                 sorted set (score 0) of school ids: Schools, ordered by id
//	p {s}:school              string, JSON School
//	p {s}:consent             hash Processing → "1"/"0"
//	p {s}:consent:log         list of JSON ConsentChange, oldest first
//	p {s}:runs                list of JSON SyncRun, newest first, trimmed to 1000
//	p {s}:gen                 string, generation number of the current snapshot
//	p {s}:gennext             counter allocating generation numbers
//	p {s}:stage               hash token, gen, run, kept: the one staging area
//	p {s}:g<n>:pupils         hash PupilID → JSON Pupil of generation n
//	p {s}:g<n>:teachers       hash key → JSON Teacher
//	p {s}:g<n>:groups         hash key → JSON Group
//	p {s}:g<n>:composites     hash key → JSON CompositeGroup
//	p {s}:g<n>:leases         sorted set reader token → deadline (ms), see below
//	p {s}:retired             set of old generations still held by a reader
//	p {s}:lock                hash owner, token, until: the school's sync lock; absent when free
//	p {s}:lockseq             counter issuing fencing tokens; never lowered, also not by a release
//	p {s}:conncheck           string, JSON ConnectionCheck: the last connection test
//	p {s}:schedule            string, JSON ScheduleState
//
// Keys that belong to no school, or outlive one, start with a word instead
// of "{", so DeleteSchool's SCAN for "p {s}:*" can never match them, whatever
// the school id; an offboarded school's audit chain stays. With c a chain
// name ("gateway", "school/<id>"):
//
//	p audit:chains            sorted set (score 0) of chain names: AuditChains, ordered by name
//	p audit:{c}:log           list of JSON AuditEntry, in append order (only ever RPUSHed)
//	p audit:{c}:head          hash seq, hash, entry (JSON): the head record, a copy of the last entry
//	p audit:{c}:personal      hash seq → JSON AuditPersonalPart: the personal part of an
//	                          entry (the log and head hold the entry without it);
//	                          written by the append script, deleted (HDEL) by
//	                          DeleteAuditPersonal
//	p logins                  hash login id → JSON Login
//	p logins:at               sorted set (score 0) of "<UTC time, fixed width> <id>": WalkLogins order
//	p logins:key              hash login id → its member of logins:at
//	p secrets                 hash name → gateway secret (the caller seals it)
//	p tokens                  hash token id → JSON Token (Tokens sorts by id)
//	p tokens:byhash           hash Token.Hash → token id; PutToken is one script that
//	                          refuses a hash another id has and keeps both hashes in step
//
// AppendAudit is one script: it compares the head record's seq and hash
// with the entry's Seq-1 and Prev (as strings, so no precision is lost) and
// only then RPUSHes the entry, rewrites the head record, lists the chain and
// stores the entry's personal part. WalkAudit and AuditHead join the kept
// personal parts back with HMGET.
// WalkAudit reads the list with LRANGE, 500 entries at a time; WalkLogins
// pages through logins:at with ZRANGEBYLEX and HMGET. AddLogin and
// DeleteLogins are scripts that keep the three login keys in step.
// PutGatewaySecret with ifAbsent is HSETNX and HGET in one MULTI, so racing
// processes all get the value that won.
//
// MarkPupilsLeft and ExpireTexts (retention) decode and change records in
// Go and write them back with small compare-and-set scripts: a record is
// written only while it still holds the bytes read (for MarkPupilsLeft,
// only while the current and the kept generation are the ones read, else
// it reads again), so a writer that came between keeps its change. No
// script decodes JSON.
//
// # Snapshots
//
// Stage allocates a fresh generation (INCR gennext) and records it, with a
// random token, in the stage hash; any earlier staging area is dropped in the
// same script. Writes are pipelined batches of a small Lua script that checks
// the token and HSETs up to 500 records, so a stage that was replaced, or whose
// school was deleted, can write nothing. Commit is one script: it checks the
// token, points gen at the staged generation, removes the stage hash and drops
// the old generation.
//
// Readers see either all of the old snapshot or all of the new one. Teachers
// and Groups read gen and the hashes in one script. Pupils streams (only the
// sorted ids, about 50,000 short strings for a large school, are held in
// memory; records are fetched with HMGET 500 at a time), so it takes a lease
// on the generation it reads: a Commit that finds a live lease on the old
// generation leaves it in the retired set instead of deleting it, and the last
// reader (or a later Stage/Commit, once the lease has expired) deletes it.
// With no reader active, no key of the old generation survives Commit. A
// lease lasts leaseTTL and is renewed with every batch; a walk whose fn stalls
// longer than that may find its generation gone and then fails with
// gateway.ErrTransient rather than yield a mix.
//
// # Locks and fencing
//
// AcquireLock, RenewLock and ReleaseLock are one script each on the lock
// hash (and, for AcquireLock, INCR on lockseq). Time is the caller's now,
// never Redis TIME, and the lock hash has no Redis expiry: a lapsed lock
// (until <= now) stays until it is taken over or released, and until then
// still counts as held by its token. until is kept as "<Unix seconds>.<nine
// digits of nanoseconds>" and compared in Lua as the pair, which a Lua
// number holds exactly. A stage made with StageOption.Fence passes the
// fencing token to the Stage script and to the Commit script, which compare
// it with the lock hash's token before they change anything (OpenStage
// reads it once; its Commit checks again in the script). A refused Commit
// leaves the staging area and the handle as they were.
//
// # Sentinel and durable writes
//
// OpenWith with Options.SentinelAddrs asks those Sentinels for the primary
// of Options.SentinelMaster (redis.NewFailoverClient) and follows a
// failover; the URL then gives only the data nodes' credentials, database
// and TLS. With Options.MinReplicas n > 0 every write that must not be lost
// (Enqueue, EnqueueExport, Settle, Split, AppendAudit, SetConsent, a
// stage's Commit) goes through one helper, durable (wait.go): it runs the
// write's script on one connection and then WAIT n on that connection, and
// fails with gateway.ErrTransient when fewer than n replicas acknowledge
// within Options.WaitTimeout (2 s by default). The replication stream is
// ordered, so the WAIT also covers what was written before on any
// connection: a stage's records before its Commit, a delivery's evidence
// before the batch is settled. Other writes (claims and leases, logins,
// tokens, retention, locks) send no WAIT: losing one in a failover means a
// batch sent again with the same keys, a lock taken over, a login record
// missing, never an acknowledged result or audit entry lost. Replies that a
// failover produces (READONLY, NOREPLICAS, LOADING, MASTERDOWN, UNBLOCKED,
// no Sentinel reachable) are gateway.ErrTransient.
//
// # Limits
//
// Open connects to one Redis server (redis://, rediss:// or unix:// URLs),
// OpenWith also to a primary under Sentinel;
// the hash tags keep per-school work single-slot, but the school index,
// DeleteSchool's SCAN, AppendAudit's script (which also updates
// audit:chains) and PutToken's script (tokens and tokens:byhash) assume one
// server. DeleteSchool walks the database with
// SCAN to catch every key of the school, so its cost grows with the size of
// the whole database; it is an administrative act, not a hot path.
// Records are stored as JSON of the gateway types: renaming a field of
// those types needs a migration.
package redisstore
