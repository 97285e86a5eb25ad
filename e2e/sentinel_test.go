package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// sentinelMaster is the name our Sentinels monitor the primary under.
const sentinelMaster = "uwlr"

// TestDeliverySentinelFailover: one primary, two replicas and three
// Sentinels on loopback; `deliver --follow` reaches Redis through the
// Sentinels only (UWLR_STORE_REDIS_SENTINEL_*, min replicas 1 by default).
// After las-sim has taken in a third of 3,000 results the primary is
// killed with SIGKILL; the Sentinels promote a replica (observed through
// SENTINEL get-master-addr-by-name), delivery goes on against it, and
// every result arrives exactly once; the audit chains and the evidence
// still verify. What every durable write waited for (WAIT 1) is on the
// promoted replica, so nothing the gateway counted as done is lost.
func TestDeliverySentinelFailover(t *testing.T) {
	dir := t.TempDir()
	// Every data node may become the primary: the same settings on all.
	// min-replicas-to-write is the production setting (README): a primary
	// that lost its replicas refuses writes (NOREPLICAS, a temporary
	// failure for the gateway).
	node := []string{"--repl-diskless-sync-delay", "0", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"}
	primary := startRedisNode(t, dir, "primary", node...)
	replicas := []*redisNode{
		startRedisNode(t, dir, "replica1", append(node, "--replicaof", "127.0.0.1", fmt.Sprint(primary.port))...),
		startRedisNode(t, dir, "replica2", append(node, "--replicaof", "127.0.0.1", fmt.Sprint(primary.port))...),
	}
	waitReplicasAck(t, primary, 2)
	var sentinels []*redisNode
	var addrs []string
	for i := range 3 {
		s := startSentinel(t, dir, fmt.Sprintf("sentinel%d", i+1), primary.port)
		sentinels = append(sentinels, s)
		addrs = append(addrs, s.addr())
	}
	for _, s := range sentinels {
		waitSentinelSees(t, s, 2, 2)
	}
	t.Logf("primary %s, replicas %s and %s, Sentinels %s", primary.addr(), replicas[0].addr(), replicas[1].addr(), strings.Join(addrs, ","))

	// Every gateway command, from the first one, goes through the
	// Sentinels; store.redis_url names the primary we kill, so the
	// gateway can only go on after the kill by following them.
	t.Setenv("UWLR_STORE_REDIS_SENTINEL_ADDRS", strings.Join(addrs, ","))
	t.Setenv("UWLR_STORE_REDIS_SENTINEL_MASTER", sentinelMaster)
	sim := startSim(t, dir, "--pupils", "300", "--latency", "10ms")
	g := newGateway(t, "redis", sim, "redis://"+primary.addr()+"/0")
	g.quickRetries()
	const total = 3000
	g.submit(total) // 150 batches of 20 (UWLR_DELIVERY_BATCH_SIZE)

	started := time.Now()
	deliver := g.start("deliver", "--follow", "--concurrency", "2")
	g.waitTaken(t, deliver, total/3)
	for _, s := range sentinels {
		waitNoTilt(t, s)
	}
	if err := primary.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL the primary: %v", err)
	}
	<-primary.done
	killed := time.Now()
	before := killed.Sub(started)
	atKill := sim.progress(t).taken
	if atKill >= total {
		t.Fatalf("the primary died after everything was delivered (%d): the test proves nothing", atKill)
	}

	var promoted string
	observe.WaitFor(t, "the Sentinels to promote a replica", func() (bool, string) {
		a, err := sentinels[0].sentinel.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
		if err != nil || len(a) != 2 {
			return false, fmt.Sprintf("get-master-addr-by-name: %v %v", a, err)
		}
		promoted = a[0] + ":" + a[1]
		return promoted != primary.addr(), "the master is still " + promoted
	})
	promotion := time.Since(killed)
	atPromotion := sim.progress(t).taken
	if promoted != replicas[0].addr() && promoted != replicas[1].addr() {
		t.Fatalf("the Sentinels name %s, none of our replicas", promoted)
	}

	g.waitTaken(t, deliver, total)
	g.waitAccepted(t, total)
	done := time.Since(killed)
	if err := deliver.stop(t); err != nil {
		t.Errorf("deliver --follow after SIGTERM: %v\n%s", err, deliver.out.String())
	}
	in := sim.intake(t)
	g.wantExactlyOnce(in)
	if c := g.status(); c["accepted"] != total {
		t.Errorf("receipts %v, want all %d accepted", c, total)
	}
	g.must("audit", "verify")
	if out := g.must("evidence", "verify"); !strings.Contains(out, " 0 failed") {
		t.Errorf("evidence verify: %s", out)
	}
	out := deliver.out.String()
	var warnings []string
	transient := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			warnings = append(warnings, l)
			if strings.Contains(l, "temporary failure") {
				transient++
			}
		}
	}
	t.Logf("primary killed %v after the start, after %d of %d results; %s promoted %v later (%d results by then); all %d accepted %v after the kill; "+
		"las-sim saw %d resends, took none in twice; the deliverer logged %d warnings and errors, %d of them temporary store failures",
		before.Round(time.Millisecond), atKill, total, promoted, promotion.Round(time.Millisecond), atPromotion, total, done.Round(time.Millisecond),
		in.resent, len(warnings), transient)
	for _, w := range warnings {
		t.Log(w)
	}
}

// redisNode is a redis-server (data node or Sentinel) this test started.
type redisNode struct {
	port     int
	cmd      *exec.Cmd
	done     chan struct{}
	c        *redis.Client         // data node
	sentinel *redis.SentinelClient // Sentinel
}

func (n *redisNode) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// startRedisNode starts a data node on a free loopback port, its files in
// dir/name (no persistence: the killed primary never comes back), and
// waits for PING.
func startRedisNode(t *testing.T, dir, name string, args ...string) *redisNode {
	t.Helper()
	ndir := filepath.Join(dir, name)
	if err := os.Mkdir(ndir, 0o700); err != nil {
		t.Fatal(err)
	}
	n := &redisNode{port: freePort(t)}
	n.start(t, exec.Command("redis-server", append([]string{"--port", fmt.Sprint(n.port), "--bind", "127.0.0.1", "--dir", ndir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(ndir, "redis.log")}, args...)...))
	n.c = redis.NewClient(&redis.Options{Addr: n.addr()})
	t.Cleanup(func() { _ = n.c.Close() })
	observe.WaitFor(t, name+" to answer PING", func() (bool, string) {
		err := n.c.Ping(context.Background()).Err()
		return err == nil, fmt.Sprintf("PING: %v", err)
	})
	return n
}

// startSentinel starts a Sentinel (redis-server --sentinel, the binary the
// Debian package redis-sentinel links to) that monitors the primary at
// primaryPort with quorum 2 and calls it down after 5 s without an answer.
//
// Why 5 s, not 1: a Sentinel whose timer stalls for 2 s (a busy machine)
// enters TILT mode and acts on nothing for 30 s; and it never promotes a
// replica whose link to the primary has been down longer than ten times
// down-after-milliseconds plus the time since the primary was declared
// down. With 1 s, a TILT right after the kill leaves both replicas 30 s
// without their primary against a bound of 10 s, and no failover ever
// happens; with 5 s the bound is 50 s.
func startSentinel(t *testing.T, dir, name string, primaryPort int) *redisNode {
	t.Helper()
	ndir := filepath.Join(dir, name)
	if err := os.Mkdir(ndir, 0o700); err != nil {
		t.Fatal(err)
	}
	n := &redisNode{port: freePort(t)}
	conf := filepath.Join(ndir, "sentinel.conf") // the Sentinel rewrites it
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
		"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %[4]s 5000\n"+
		"sentinel failover-timeout %[4]s 10000\nsentinel parallel-syncs %[4]s 1\n",
		n.port, ndir, filepath.Join(ndir, "sentinel.log"), sentinelMaster, primaryPort)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	n.start(t, exec.Command("redis-server", conf, "--sentinel"))
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(ndir, "sentinel.log"))
			t.Logf("%s log:\n%s", name, b)
		}
	})
	n.sentinel = redis.NewSentinelClient(&redis.Options{Addr: n.addr()})
	t.Cleanup(func() { _ = n.sentinel.Close() })
	observe.WaitFor(t, name+" to answer PING", func() (bool, string) {
		err := n.sentinel.Ping(context.Background()).Err()
		return err == nil, fmt.Sprintf("PING: %v", err)
	})
	return n
}

// start starts cmd; the test's cleanup kills it.
func (n *redisNode) start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	n.cmd, n.done = cmd, make(chan struct{})
	if err := cmd.Start(); err != nil {
		t.Fatalf("this test starts its own redis-server processes (scripts/deps.sh installs redis-server): %v", err)
	}
	go func() { _ = cmd.Wait(); close(n.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-n.done })
}

// waitReplicasAck waits until n replicas acknowledge a write on primary
// (WAIT on the connection that wrote it): they are streaming, not only
// connected.
func waitReplicasAck(t *testing.T, primary *redisNode, n int) {
	t.Helper()
	conn := primary.c.Conn()
	defer conn.Close()
	observe.WaitFor(t, fmt.Sprintf("%d replicas to acknowledge a write", n), func() (bool, string) {
		ctx := context.Background()
		// With min-replicas-to-write, a write before the replicas are in
		// is refused (NOREPLICAS): try again.
		if err := conn.Incr(ctx, "e2e:probe").Err(); err != nil {
			return false, fmt.Sprintf("INCR: %v", err)
		}
		got, err := conn.Wait(ctx, n, 100*time.Millisecond).Result()
		return err == nil && got >= int64(n), fmt.Sprintf("WAIT: %d (%v)", got, err)
	})
}

// waitSentinelSees waits until the Sentinel knows the primary's replicas
// and the other Sentinels (else a failover could lack its quorum).
func waitSentinelSees(t *testing.T, s *redisNode, replicas, others int) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("Sentinel %s to see %d replicas and %d other Sentinels", s.addr(), replicas, others), func() (bool, string) {
		m, err := s.sentinel.Master(context.Background(), sentinelMaster).Result()
		if err != nil {
			return false, fmt.Sprintf("SENTINEL MASTER: %v", err)
		}
		return m["num-slaves"] == fmt.Sprint(replicas) && m["num-other-sentinels"] == fmt.Sprint(others) && m["flags"] == "master",
			fmt.Sprintf("it sees %v", m)
	})
}

// waitNoTilt waits until the Sentinel is out of TILT mode (entered when its
// timer stalled, say on a busy machine; it then acts on nothing for 30 s),
// so a failover can start as soon as the primary is down.
func waitNoTilt(t *testing.T, s *redisNode) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("Sentinel %s to be out of TILT mode", s.addr()), func() (bool, string) {
		cmd := redis.NewStringCmd(context.Background(), "info", "sentinel")
		_ = s.sentinel.Process(context.Background(), cmd)
		info, err := cmd.Result()
		return err == nil && strings.Contains(info, "sentinel_tilt:0"), fmt.Sprintf("INFO sentinel: %q (%v)", info, err)
	})
}
