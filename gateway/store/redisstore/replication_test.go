package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/storetest"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// redisNode is a redis-server this test started, on a free loopback port
// with its files in a temporary directory (no persistence).
type redisNode struct {
	port int
	cmd  *exec.Cmd
	c    *redis.Client
}

// startNode starts redis-server with args (e.g. --replicaof) and waits for
// PING. A missing redis-server fails the test.
func startNode(t *testing.T, args ...string) *redisNode {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	n := &redisNode{port: port}
	n.cmd = exec.Command("redis-server", append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no"}, args...)...)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("this test starts its own redis-server (scripts/deps.sh installs it): %v", err)
	}
	t.Cleanup(n.stop)
	n.c = redis.NewClient(&redis.Options{Addr: n.addr()})
	t.Cleanup(func() { _ = n.c.Close() })
	observe.WaitFor(t, "redis-server on port "+fmt.Sprint(port)+" to answer PING", func() (bool, string) {
		err := n.c.Ping(t.Context()).Err()
		return err == nil, fmt.Sprintf("PING: %v", err)
	})
	return n
}

func (n *redisNode) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

func (n *redisNode) url() string { return "redis://" + n.addr() + "/0" }

// stop kills the server (SIGKILL) and waits for it; a second stop is a no-op.
func (n *redisNode) stop() {
	if n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
	}
}

// startPair starts a primary and one replica of it, and waits until the
// replica is in sync.
func startPair(t *testing.T) (primary, replica *redisNode) {
	t.Helper()
	// No replication PINGs (they move the primary's offset on their own),
	// and a replica's first sync starts at once.
	primary = startNode(t, "--repl-ping-replica-period", "3600", "--repl-diskless-sync-delay", "0")
	return primary, startReplica(t, primary)
}

// startReplica starts a replica of primary and waits until the primary
// counts it online (so WAIT counts it).
func startReplica(t *testing.T, primary *redisNode) *redisNode {
	t.Helper()
	replica := startNode(t, "--replicaof", "127.0.0.1", fmt.Sprint(primary.port))
	// Online in INFO is not yet streaming (after a diskless sync the
	// primary waits for the replica's first ACK): wait until a write of
	// our own is acknowledged.
	conn := primary.c.Conn()
	defer conn.Close()
	observe.WaitFor(t, "the new replica to acknowledge a write", func() (bool, string) {
		if err := conn.Incr(t.Context(), "probe").Err(); err != nil {
			return false, fmt.Sprintf("INCR: %v", err)
		}
		n, err := conn.Wait(t.Context(), 1, 100*time.Millisecond).Result()
		return err == nil && n == 1, fmt.Sprintf("WAIT 1: %d replicas (%v)", n, err)
	})
	return replica
}

func openReplicated(t *testing.T, url string, minReplicas int, wait time.Duration) *redisstore.Store {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	s, err := redisstore.OpenWith(t.Context(), redisstore.Options{URL: url, Prefix: "uwlrtest:" + hex.EncodeToString(b[:]) + ":",
		MinReplicas: minReplicas, WaitTimeout: wait})
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestContractWithReplica runs the whole contract suite with every
// durable write waiting for one replica: WAIT changes no behaviour.
func TestContractWithReplica(t *testing.T) {
	primary, _ := startPair(t)
	storetest.Run(t, func(t *testing.T) gateway.Store { return openReplicated(t, primary.url(), 1, 0) })
}

// TestWriteWaitsForReplica: with min replicas 1, a consent change, an audit
// append, a snapshot commit, an enqueue and a settle have reached the
// replica by the time they return (the test reads them there at once,
// without waiting); with the replica stopped each fails as
// gateway.ErrTransient after the wait timeout, and once a replica is back
// writes succeed again.
func TestWriteWaitsForReplica(t *testing.T) {
	primary, replica := startPair(t)
	const wait = 500 * time.Millisecond
	s := openReplicated(t, primary.url(), 1, wait)
	ctx := t.Context()
	putSchool(t, s, sid)

	// Each write returns only once the replica acknowledged it, so the
	// replica shows it at once.
	offsets := func() (int64, int64) {
		return replOffset(t, primary.c, "master_repl_offset"), replOffset(t, replica.c, "slave_repl_offset")
	}
	writes := durableWrites(t, s)
	for _, w := range writes {
		if err := w.do(ctx); err != nil {
			t.Fatalf("%s with the replica up: %v", w.name, err)
		}
		if p, r := offsets(); r < p {
			t.Errorf("%s returned with the replica at offset %d, the primary at %d: it did not wait", w.name, r, p)
		}
	}

	// Replica gone: the writes stand on the primary but are not
	// acknowledged, which is a temporary failure.
	replica.stop()
	observe.WaitFor(t, "the primary to notice its replica is gone", func() (bool, string) {
		info, err := primary.c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "connected_slaves:0"), info
	})
	for _, w := range durableWrites(t, s) {
		start := time.Now()
		err := w.do(ctx)
		if !errors.Is(err, gateway.ErrTransient) {
			t.Errorf("%s with the replica stopped: %v, want ErrTransient", w.name, err)
			continue
		}
		if !strings.Contains(err.Error(), "0 of 1 replicas") {
			t.Errorf("%s: error %q does not say how many replicas acknowledged", w.name, err)
		}
		if d := time.Since(start); d < wait {
			t.Errorf("%s failed after %v, before the wait timeout %v", w.name, d, wait)
		}
	}
	// Reads and writes that need no replica go on.
	if _, err := s.School(ctx, sid); err != nil {
		t.Errorf("School with the replica stopped: %v", err)
	}

	// A new replica catches up (full sync) and the writes succeed again.
	replica2 := startReplica(t, primary)
	for _, w := range durableWrites(t, s) {
		if err := w.do(ctx); err != nil {
			t.Errorf("%s with a new replica: %v", w.name, err)
		}
	}

	// With min replicas 0 nothing waits: writes succeed without a replica.
	replica2.stop()
	s0 := openReplicated(t, primary.url(), 0, wait)
	putSchool(t, s0, sid)
	for _, w := range durableWrites(t, s0) {
		if err := w.do(ctx); err != nil {
			t.Errorf("%s with min replicas 0 and no replica: %v", w.name, err)
		}
	}
}

// durableWrite is one write path that must wait for replicas.
type durableWrite struct {
	name string
	do   func(ctx context.Context) error
}

// durableWrites lists one call of each durable write path on school sid
// of s; each call builds on what the earlier ones left, so a list is used
// once, in order.
func durableWrites(t *testing.T, s *redisstore.Store) []durableWrite {
	t.Helper()
	n := time.Now().UnixNano()
	head, err := s.AuditHead(t.Context(), "gateway")
	if err != nil {
		t.Fatalf("AuditHead: %v", err)
	}
	var claim gateway.Claim
	batch := fmt.Sprintf("b%d", n)
	return []durableWrite{
		{"SetConsent", func(ctx context.Context) error {
			return s.SetConsent(ctx, gateway.ConsentChange{School: sid, Processing: gateway.ProcessingLASExchange, New: true, At: time.Now()})
		}},
		{"AppendAudit", func(ctx context.Context) error {
			e := gateway.AuditEntry{Chain: "gateway", Seq: head.Seq + 1, Prev: head.Hash, Hash: fmt.Sprintf("h%d", n), Kind: "test"}
			return s.AppendAudit(ctx, e)
		}},
		{"Commit", func(ctx context.Context) error {
			st, err := s.Stage(ctx, sid, fmt.Sprintf("run%d", n))
			if err != nil {
				return err
			}
			if err := st.PutPupils(ctx, somePupils(sid, "m", 3)); err != nil {
				return err
			}
			return st.Commit(ctx)
		}},
		{"Enqueue", func(ctx context.Context) error {
			now := time.Now()
			rs := []gateway.Result{{Key: fmt.Sprintf("r%d", n), Digest: fmt.Sprintf("d%d", n), Pupil: "p00000"}}
			_, err := s.Enqueue(ctx, sid, rs, gateway.Batch{ID: batch, State: gateway.BatchQueued, CreatedAt: now, NextAttemptAt: now})
			return err
		}},
		{"Claim (no WAIT) and Settle", func(ctx context.Context) error {
			cs, err := s.Claim(ctx, gateway.ClaimRequest{Consumer: "test", Max: 10, Lease: time.Minute, Now: time.Now()})
			if err != nil {
				return err
			}
			for _, c := range cs {
				if c.Batch.ID == batch {
					claim = c
				}
			}
			if claim.Batch.ID != batch {
				return fmt.Errorf("claim: batch %s not among %d claimed", batch, len(cs))
			}
			_, err = s.Settle(ctx, claim, gateway.Settlement{State: gateway.BatchAccepted, At: time.Now()})
			return err
		}},
	}
}

// replOffset reads one offset field of INFO replication.
func replOffset(t *testing.T, c *redis.Client, field string) int64 {
	t.Helper()
	info, err := c.Info(t.Context(), "replication").Result()
	if err != nil {
		t.Fatalf("INFO replication: %v", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("INFO replication has no %s:\n%s", field, info)
	return 0
}

// TestOpenWithInvalid: the Sentinel options and min replicas are checked
// before anything is dialled.
func TestOpenWithInvalid(t *testing.T) {
	for _, o := range []redisstore.Options{
		{Prefix: "p:", SentinelMaster: "m"},
		{Prefix: "p:", SentinelAddrs: []string{"127.0.0.1:1"}},
		{Prefix: "p:", SentinelAddrs: []string{"no-port"}, SentinelMaster: "m"},
		{Prefix: "p:", URL: redisURL(), MinReplicas: -1},
		{URL: redisURL()},
	} {
		if _, err := redisstore.OpenWith(t.Context(), o); !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("OpenWith(%+v) = %v, want ErrInvalid", o, err)
		}
	}
}
