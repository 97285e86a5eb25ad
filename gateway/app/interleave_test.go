package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// duringSync runs fn in las-sim while it holds the first pupil request of
// a sync, i.e. while the sync is under way and holds its lock.
func (f *fixture) duringSync(fn func()) {
	var once sync.Once
	hook := func(r *http.Request) {
		if strings.Contains(r.Header.Get("SOAPAction"), "HaalLeerlinggegevens") {
			once.Do(fn)
		}
	}
	f.onRequest.Store(&hook)
}

// TestSyncAndReceiverSetInterleave: a results receiver set while a sync
// runs is kept, and so is the sync's own pull time (neither writes back
// the school record it read before the other).
func TestSyncAndReceiverSetInterleave(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		endpoint := f.school(f.A).Endpoint // the LAS's own results profile
		f.duringSync(func() {
			if _, err := f.app.SetReceiver(ctx(t), f.A, app.Receiver{Endpoint: endpoint, Key: "own-results-key-0001", ScoreType: gateway.ScoreDecimal}, "admin"); err != nil {
				t.Errorf("receiver set during the sync: %v", err)
			}
		})
		f.sync(f.app, f.A)
		s := f.school(f.A)
		if s.Results == nil || s.Results.Endpoint != endpoint || s.Results.ScoreType != gateway.ScoreDecimal {
			t.Errorf("after the sync the receiver is %+v: the sync wrote back the school it read", s.Results)
		}
		if !s.LastPulledAt.Equal(start.UTC()) {
			t.Errorf("LastPulledAt = %v, want the sync's start %v", s.LastPulledAt, start)
		}
	})
}

// TestRewrapWaitsForARunningSync: keys rewrap (another process, with the
// rotated key file) run while a sync holds the school's lock waits for it,
// then re-seals what that sync stored: nothing of either is lost.
func TestRewrapWaitsForARunningSync(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		f.sync(f.app, f.B)
		rotated, err := f.keys.Rotate(rand.Reader, start)
		if err != nil {
			t.Fatal(err)
		}
		other := f.newApp(rotated)
		waiting := make(chan struct{})
		var rep app.RewrapReport
		var rerr error
		done := make(chan struct{})
		f.duringSync(func() {
			go func() {
				defer close(done)
				var once sync.Once
				rep, rerr = other.Rewrap(ctx(t), func(_, _ int, id gateway.SchoolID, wait bool) {
					if wait && id == f.A {
						once.Do(func() { close(waiting) })
					}
				})
			}()
			// The sync goes on only once the rewrap is seen waiting for its lock.
			select {
			case <-waiting:
			case <-time.After(time.Minute):
				t.Error("the rewrap never reported waiting for the running sync")
			}
		})
		f.sync(f.app, f.A)
		<-done
		if rerr != nil || rep.Schools != 2 || len(rep.Skipped) != 0 {
			t.Fatalf("rewrap = %+v, %v; want both schools", rep, rerr)
		}
		for _, id := range []gateway.SchoolID{f.A, f.B} {
			checkActiveTerm(t, f, id, rotated.ActiveTerm())
		}
		// The sync ended before the rewrap began on A: the chain says so.
		entries, err := f.app.AuditEntries(ctx(t), gateway.AuditChainOf(f.A), 0)
		if err != nil {
			t.Fatal(err)
		}
		if order := kinds(entries); !strings.Contains(order, "sync key.rewrap") {
			t.Errorf("school A's audit chain %q: want the sync, then its rewrap", order)
		}
	})
}

// checkActiveTerm: the school's key and every pupil's ECK iD are sealed
// with the active term, and none was lost.
func checkActiveTerm(t *testing.T, f *fixture, id gateway.SchoolID, term uint32) {
	t.Helper()
	s := f.school(id)
	if vault.TermOf(s.SealedKey) != term {
		t.Errorf("school %s key on term %d, want %d", id, vault.TermOf(s.SealedKey), term)
	}
	n, sealed := 0, 0
	err := f.store.Pupils(context.Background(), id, func(p gateway.Pupil) error {
		n++
		if len(p.SealedEckID) > 0 {
			sealed++
			if vault.TermOf(p.SealedEckID) != term {
				t.Errorf("school %s pupil %s on term %d", id, p.ID, vault.TermOf(p.SealedEckID))
			}
		}
		return nil
	})
	if err != nil || n != 40 || sealed == 0 {
		t.Errorf("school %s has %d pupils (%d sealed ECK iDs), %v; want 40", id, n, sealed, err)
	}
}

func kinds(es []gateway.AuditEntry) string {
	var b bytes.Buffer
	for _, e := range es {
		b.WriteString(string(e.Kind) + " ")
	}
	return b.String()
}
