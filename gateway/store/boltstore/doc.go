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
//
// Records are encoded with encoding/json: readable with the bbolt CLI and
// tolerant of added fields. Byte slices become base64 (nil stays nil), times
// RFC 3339 with nanoseconds.
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
package boltstore
