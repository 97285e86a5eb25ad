// Package storetest is the contract suite for gateway.Store: the one place
// where store behaviour is specified (STYLE.md R4). boltstore and redisstore
// run it from their tests with a constructor:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) gateway.Store { return openEmpty(t) })
//	}
//
// open must return a new, empty store and register its Close with t.Cleanup;
// Run never closes a store. Subtests run one after another (never in
// parallel), so an opener may reuse one database after emptying it.
//
// Besides the method docs in gateway/store.go, the suite pins down:
//
//   - Round trips: every field of School, Pupil, Teacher, Group,
//     CompositeGroup, ConsentChange and SyncRun comes back as stored. A nil
//     and an empty slice are the same value (bytes.Equal semantics: a store may
//     return nil for an empty EckIndex, Roles, CompositeGroupKeys, ...).
//     time.Time values come back equal to the nanosecond (time.Time.Equal);
//     the location and monotonic reading are not kept. A zero time stays zero.
//   - Unknown school: every method taking a SchoolID (and Stage, SetConsent,
//     AddSyncRun) returns an error satisfying errors.Is(err, gateway.ErrNotFound).
//     A known school with no snapshot yet has no pupils, teachers or groups.
//   - PutSchool does not validate (that is the caller's job: School.Validate)
//     and, replacing a school, keeps its snapshot, consent and runs.
//   - UpdateSchool is a read-modify-write that loses no concurrent change:
//     50 updaters at once, each changing its own part of the record, all
//     survive. fn's error comes back as the very same value, with nothing
//     written; an unknown school is ErrNotFound without calling fn; an fn
//     that changes the ID gets ErrInvalid, with nothing written.
//   - Stage: the committed snapshot is exactly what was staged (pupils,
//     teachers and groups not put are gone); a stage replaced by a newer Stage
//     of the same school, or whose school was deleted, fails to Commit and
//     changes nothing. After Commit or Discard every Stage method except RunID
//     returns an error. Only a kept stage is reported by StagedRun.
//   - SyncRuns: newest first by insertion (the suite adds runs in StartedAt
//     order, so "newest" by either measure agrees); limit caps the count.
//   - Pupils: an error returned by fn stops the walk and is returned (wrapped
//     or not; errors.Is holds). A cancelled ctx — before the call or during the
//     walk — makes the method return an error satisfying
//     errors.Is(err, context.Canceled); a walk checks ctx at least once every
//     1000 pupils.
package storetest
