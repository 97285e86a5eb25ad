// Package boltstore is the single-node gateway.Store, kept in one bbolt file.
// It is the only package that imports go.etcd.io/bbolt; its behaviour is
// specified by gateway/store/storetest and nothing else.
//
// The file is opened with mode 0600 and an exclusive lock: a second process
// opening the same file fails after Options.LockTimeout with "data dir is in
// use by another uwlr-gateway process" (errors.Is gateway.ErrConflict).
//
// # Layout
//
// One top-level bucket per school, named "school/<id>", holds:
//
//	school      key: the School, JSON
//	current     key: generation of the live snapshot (8-byte big-endian); absent = none yet
//	staging     key: generation of the staging area; absent = none
//	stagerun    key: run id of the staging area
//	kept        key: present when the staging area is kept (a held sync)
//	consent     bucket: processing -> "true"/"false"
//	history     bucket: sequence (8-byte big-endian) -> ConsentChange, JSON
//	runs        bucket: sequence (8-byte big-endian) -> SyncRun, JSON
//	gens        bucket: generation -> bucket of
//	                pupils      PupilID -> Pupil, JSON
//	                teachers    key -> Teacher, JSON
//	                groups      key -> Group, JSON
//	                composites  key -> CompositeGroup, JSON
//	retired     bucket: generations replaced by a commit, deleted once no walk reads them
//	lock        key: the school's sync lock (Lock, JSON); absent when free
//	lockseq     key: the last fencing token issued (8-byte big-endian); never
//	            lowered, also not by a release, so tokens are not reused
//	conncheck   key: the last ConnectionCheck, JSON
//	schedule    key: the ScheduleState, JSON
//
// More top-level buckets hold what belongs to no school or outlives one.
// None starts with "school/", so DeleteSchool, Schools and the cleanup on
// Open never touch them; an offboarded school's audit chain stays.
//
//	audit       bucket: one bucket per chain ("gateway", "school/<id>") of
//	                <seq>    8-byte big-endian sequence -> AuditEntry, JSON,
//	                         without the values of its personal part
//	                head     the head record: a copy of the last appended entry, JSON
//	                personal-parts  bucket: <seq> -> AuditPersonalPart, JSON: the
//	                         personal part of the entry (actor, personal details,
//	                         salt), written with it, deleted by
//	                         DeleteAuditPersonal (then gone from the file at the
//	                         next Compact)
//	logins      bucket of
//	                byat     time key + id -> Login, JSON; the time key is the
//	                         Unix seconds with the sign bit flipped (8 bytes) and
//	                         the nanoseconds (4 bytes), big-endian, so key order
//	                         is WalkLogins order (time, then id)
//	                ids      id -> its byat key
//	secrets     bucket: name -> gateway secret (the caller seals it)
//	tokens      bucket of
//	                ids      token id -> Token, JSON (Tokens order)
//	                byhash   Token.Hash -> token id; PutToken keeps the two in
//	                         step in one transaction
//
// Records are encoded with encoding/json: readable with the bbolt CLI and
// tolerant of added fields. Byte slices become base64 (nil stays nil), times
// RFC 3339 with nanoseconds.
//
// # Compaction
//
// bbolt never overwrites a page in place, so a deleted record stays in a
// free page of the file until the page is reused. Compact (called by
// retention after a purge that deleted something) copies the live data into
// a new file beside the store file ("<path>.compact"), syncs it, renames it
// over the store file and syncs the directory, holding the store's own lock
// for writing meanwhile: other calls wait and then go on on the new file. A
// crash leaves the old or the new file at the path, never neither; Open
// removes an unfinished copy. Open also checks, after taking the file lock,
// that the path still names the file it locked (a process that waited for
// the lock while the holder compacted would otherwise get the old,
// replaced file) and tries again when not.
//
// # Atomicity
//
// Stage creates a new generation and names it in "staging" (dropping an
// earlier staging generation); every PutPupils, PutTeachers and PutGroups
// batch is its own transaction, so memory stays flat however large the
// school. Commit moves "staging" to "current" in one transaction, so readers
// see the old or the new snapshot, never a mix. Pupils walks a generation in
// pages, each page a short read transaction, and calls fn outside any
// transaction (fn may use the store); the generation it walks is pinned in
// memory, and a generation retired by a commit is deleted only when the last
// walk of it ends. On Open, generations that are neither current nor a kept
// staging area (left by a crash or by a stage never committed) are deleted.
//
// # Locks and fencing
//
// AcquireLock, RenewLock and ReleaseLock are each one write transaction on
// the school's lock and lockseq keys; the caller's now decides whether a
// lock has lapsed (Until <= now). A lapsed lock stays until it is taken over
// or released, and until then still counts as held by its token. A stage
// made with StageOption.Fence checks the lock in its Stage (or OpenStage)
// transaction and again inside the Commit transaction, before anything is
// written; a refused Commit leaves the staging area and the handle as they
// were. The file lock makes one process the only user of the file, so
// locks matter here for goroutines of that process and for the contract.
//
// AppendAudit is a compare-and-set in one write transaction: it reads the
// chain's head record, appends only when the entry's Seq and Prev extend it,
// and writes the entry, its personal part and the new head record together.
// WalkAudit and AuditHead join the personal part back in the transaction
// that reads the entry. It never
// overwrites a stored entry: an entry found at the new sequence number (only
// possible if the file was changed behind the store's back) fails the append
// with an error that is not ErrConflict. WalkAudit and WalkLogins read 500
// records per read transaction and call fn outside it, like Pupils.
package boltstore
