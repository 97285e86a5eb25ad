package retention_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

// countingCompacter counts Compact calls and fails when told to.
type countingCompacter struct {
	calls int
	err   error
}

func (c *countingCompacter) Compact(context.Context) error { c.calls++; return c.err }

// The store is compacted after a real run that deleted something, and only
// then; a failed compaction makes the run fail (and say so), and the next
// run compacts even if it deletes nothing.
func TestRunCompacts(t *testing.T) {
	st := openBolt(t)
	ctx := t.Context()
	putSchool(t, st, schoolA)
	commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p02", LeftOn: "2020-01-01"}, {ID: "p03", LeftOn: "2021-01-01"}})
	c := &countingCompacter{}
	if rc, err := retention.Run(ctx, st, retention.Options{Now: runAt, DryRun: true, Compact: c}); err != nil || rc.Compacted || c.calls != 0 {
		t.Errorf("dry run: compacted %v, %d calls, %v", rc.Compacted, c.calls, err)
	}
	c.err = errors.New("disk full")
	rc, err := retention.Run(ctx, st, retention.Options{Now: runAt, Compact: c})
	if err == nil || rc.Compacted || c.calls != 1 || rc.Pupils != 2 {
		t.Errorf("run with a failing compaction: %+v, %d calls, %v", rc, c.calls, err)
	}
	if e := entries(t, st, gateway.AuditChainGateway); len(e) != 1 || e[0].Details["compacted"] != "false" || e[0].Details["outcome"] != "incomplete" {
		t.Errorf("gateway receipt: %+v", e)
	}
	c.err = nil
	if rc, err := retention.Run(ctx, st, retention.Options{Now: runAt, Compact: c}); err != nil || !rc.Compacted || c.calls != 2 || rc.Pupils != 0 {
		t.Errorf("run after the failed compaction: compacted %v, %d calls, %v; want it compacted now", rc.Compacted, c.calls, err)
	}
	if rc, err := retention.Run(ctx, st, retention.Options{Now: runAt, Compact: c}); err != nil || rc.Compacted || c.calls != 2 {
		t.Errorf("run that deleted nothing: compacted %v, %d calls, %v", rc.Compacted, c.calls, err)
	}
	commitPupils(t, st, schoolA, []gateway.Pupil{{ID: "p01"}, {ID: "p04", LeftOn: "2020-01-01"}})
	rc, err = retention.Run(ctx, st, retention.Options{Now: runAt, Compact: c})
	if err != nil || !rc.Compacted || c.calls != 3 {
		t.Errorf("run that deleted a pupil: compacted %v, %d calls, %v", rc.Compacted, c.calls, err)
	}
	if e := entries(t, st, gateway.AuditChainGateway); e[len(e)-1].Details["compacted"] != "true" {
		t.Errorf("gateway receipt: %+v", e[len(e)-1])
	}
}
