package storetest

import (
	"context"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Run runs the contract suite. open returns a new, empty store and registers
// its Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) gateway.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s gateway.Store)
	}{
		{"SchoolRoundTrip", testSchoolRoundTrip},
		{"SchoolNotValidated", testSchoolNotValidated},
		{"SchoolReplaceKeepsData", testSchoolReplaceKeepsData},
		{"SchoolsOrdered", testSchoolsOrdered},
		{"UpdateSchool", testUpdateSchool},
		{"UpdateSchoolNotFound", testUpdateSchoolNotFound},
		{"UpdateSchoolFnError", testUpdateSchoolFnError},
		{"UpdateSchoolIDChange", testUpdateSchoolIDChange},
		{"UpdateSchoolConcurrent", testUpdateSchoolConcurrent},
		{"UnknownSchool", testUnknownSchool},
		{"DeleteSchool", testDeleteSchool},
		{"DeleteSchoolDuringStage", testDeleteSchoolDuringStage},
		{"ConsentEmpty", testConsentEmpty},
		{"ConsentHistory", testConsentHistory},
		{"ConsentIsolation", testConsentIsolation},
		{"SnapshotEmpty", testSnapshotEmpty},
		{"StageCommit", testStageCommit},
		{"StageCommitReplacesAll", testStageCommitReplacesAll},
		{"StageDiscard", testStageDiscard},
		{"StageKeepOpenCommit", testStageKeepOpenCommit},
		{"StageKeepOpenDiscard", testStageKeepOpenDiscard},
		{"StagedRunOnlyWhenKept", testStagedRunOnlyWhenKept},
		{"OpenStageWrongRun", testOpenStageWrongRun},
		{"StageReplacesKept", testStageReplacesKept},
		{"StageReplacedHandleCannotCommit", testStageReplacedHandle},
		{"StageUseAfterEnd", testStageUseAfterEnd},
		{"StageRewriteDuringWalk", testStageRewriteDuringWalk},
		{"PupilsCallbackError", testPupilsCallbackError},
		{"CommitAtomicForReaders", testCommitAtomicForReaders},
		{"SyncRuns", testSyncRuns},
		{"SchoolIsolation", testSchoolIsolation},
		{"ContextCanceled", testContextCanceled},
		{"ContextCanceledDuringPupils", testContextCanceledDuringPupils},
	}
	tests = append(tests, outboxTests...)
	tests = append(tests, copyTests...)
	tests = append(tests, auditTests...)
	tests = append(tests, auditPersonalTests...)
	tests = append(tests, retentionTests...)
	tests = append(tests, accessTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func ctxFor(t *testing.T) context.Context { return t.Context() }
