package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// TestDeliveryKill9: the delivering process is killed with SIGKILL 20
// times over, each time after las-sim has taken in a random number of new
// results in that run (never at a time since the start, which a slow
// machine would turn into kills before anything happened), then a last
// run finishes. Every kill lands mid-delivery by construction; nothing is
// lost, no result key is taken in twice, the audit chains and every
// evidence signature still verify.
func TestDeliveryKill9(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			s := startSim(t, dir, "--pupils", "300", "--latency", "50ms")
			g := newGateway(t, store, s, "")
			g.quickRetries()
			g.submit(6000) // 300 batches of 20 (UWLR_DELIVERY_BATCH_SIZE)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
			const kills = 20
			for run := range kills {
				g.killAfterProgress(t, run, 1+rng.IntN(8))
			}
			before := s.progress(t)
			if before.taken == 0 || before.taken >= len(g.results) {
				t.Fatalf("after the kills las-sim has %d of %d results: the kills did not land mid-delivery", before.taken, len(g.results))
			}
			g.must("deliver")
			in := s.intake(t)
			g.wantExactlyOnce(in)
			if c := g.status(); c["accepted"] != len(g.results) {
				t.Errorf("receipts %v, want %d accepted", c, len(g.results))
			}
			g.must("audit", "verify")
			if out := g.must("evidence", "verify"); !strings.Contains(out, " 0 failed") {
				t.Errorf("evidence verify: %s", out)
			}
			t.Logf("%s: all %d runs killed mid-delivery; %d results, %d arrived before the last run; las-sim saw %d resends (answers lost to a kill), took none in twice",
				store, kills, len(g.results), before.taken, in.resent)
		})
	}
}

// killAfterProgress runs `deliver` and kills it with SIGKILL once las-sim
// has taken in at least batches batches' worth of results that this run
// sent. A killed run may still have had two requests (--concurrency 2) of
// 20 results inside las-sim, logged after the kill; they count towards the
// next run's target, so the target adds them on top. The kill must find
// the process running, with results left to deliver: the test fails
// otherwise.
func (g *gw) killAfterProgress(t *testing.T, run, batches int) {
	t.Helper()
	const batch, inFlight = 20, 2 * 20
	start := g.sim.progress(t).taken
	target := start + inFlight + batches*batch
	if target >= len(g.results) {
		t.Fatalf("run %d: a target of %d of %d results leaves nothing to kill mid-delivery", run, target, len(g.results))
	}
	p := g.start("deliver", "--concurrency", "2")
	observe.WaitFor(t, fmt.Sprintf("run %d to bring las-sim from %d to %d results", run, start, target), func() (bool, string) {
		if p.exited() {
			t.Fatalf("run %d ended (%v) before las-sim had %d results:\n%s", run, p.err, target, p.out.String())
		}
		n := g.sim.progress(t).taken
		return n >= target, fmt.Sprintf("it has %d", n)
	})
	if !p.kill(t) {
		t.Fatalf("run %d had ended (%v) when SIGKILL came: not killed mid-delivery\n%s", run, p.err, p.out.String())
	}
}

// TestDeliveryRedisRestart: Redis (with an append-only file) is killed
// while the gateway delivers, after las-sim has taken in 300 results, and
// started again once the deliverer has run into the outage; the gateway
// rides it out and nothing is lost or taken in twice.
func TestDeliveryRedisRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	rdir := filepath.Join(dir, "redis")
	if err := os.Mkdir(rdir, 0o700); err != nil {
		t.Fatal(err)
	}
	startRedis := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", rdir,
			"--appendonly", "yes", "--appendfsync", "always", "--save", "")
		if err := cmd.Start(); err != nil {
			t.Fatalf("this test starts its own redis-server: %v", err)
		}
		observe.WaitFor(t, "our redis-server to answer PING", func() (bool, string) {
			out, err := exec.Command("redis-cli", "-p", fmt.Sprint(port), "ping").CombinedOutput()
			return strings.TrimSpace(string(out)) == "PONG", fmt.Sprintf("redis-cli ping: %q (%v)", out, err)
		})
		return cmd
	}
	redisProc := startRedis()
	t.Cleanup(func() { _ = redisProc.Process.Kill(); _ = redisProc.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)

	s := startSim(t, dir, "--pupils", "200", "--latency", "10ms")
	g := newGateway(t, "redis", s, url)
	g.quickRetries()
	g.submit(2000)

	deliver := g.start("deliver", "--follow", "--concurrency", "2")
	g.waitTaken(t, deliver, 300)
	_ = redisProc.Process.Signal(syscall.SIGKILL)
	_ = redisProc.Wait()
	down := s.progress(t).taken
	if down >= len(g.results) {
		t.Fatalf("Redis went down after everything was delivered (%d): the test proves nothing", down)
	}
	// Redis stays down until the deliverer has met the outage (a claim
	// failed), not for some time.
	observe.WaitFor(t, "the deliverer to report a failed claim while Redis is down", func() (bool, string) {
		return strings.Contains(deliver.out.String(), "outbox claim failed"), "its output:\n" + deliver.out.String()
	})
	redisProc = startRedis()
	g.waitTaken(t, deliver, len(g.results))
	// Let the deliverer settle what it sent, then stop it gracefully.
	g.waitAccepted(t, len(g.results))
	if err := deliver.stop(t); err != nil {
		t.Errorf("deliver --follow after SIGTERM: %v\n%s", err, deliver.out.String())
	}
	in := s.intake(t)
	g.wantExactlyOnce(in)
	if c := g.status(); c["accepted"] != len(g.results) {
		t.Errorf("receipts %v, want all %d accepted", c, len(g.results))
	}
	g.must("audit", "verify")
	t.Logf("Redis killed after %d of %d results; las-sim saw %d resends", down, len(g.results), in.resent)
}

// waitTaken waits until las-sim has taken in n distinct results, while the
// delivering process p keeps running.
func (g *gw) waitTaken(t *testing.T, p *proc, n int) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("las-sim to take in %d results", n), func() (bool, string) {
		if p.exited() {
			t.Fatalf("the deliverer ended (%v):\n%s", p.err, p.out.String())
		}
		got := g.sim.progress(t).taken
		return got >= n, fmt.Sprintf("it has %d", got)
	})
}

// waitAccepted waits until n results have an accepted receipt.
func (g *gw) waitAccepted(t *testing.T, n int) {
	t.Helper()
	observe.WaitFor(t, fmt.Sprintf("%d accepted receipts", n), func() (bool, string) {
		c := g.status()
		return c["accepted"] >= n, fmt.Sprintf("receipts %v", c)
	})
}

// TestRevokeMidRunProcesses: `consent set --revoke` in one process while
// `deliver --follow` runs in another: once the revocation returns, no
// further request reaches las-sim; a new grant delivers the rest once.
// The revocation lands mid-run by construction: from 200 results on, a
// gate in front of las-sim holds both workers' requests until the
// revocation has held the queued batches.
func TestRevokeMidRunProcesses(t *testing.T) {
	dir := t.TempDir()
	s := startSim(t, dir, "--pupils", "100", "--latency", "30ms")
	lg := s.gate(t)
	g := newGateway(t, "redis", s, "")
	g.submit(1500)
	// A request may wait at the gate for as long as it takes to start the
	// revoking process: the generous LAS timeout and lease stay.
	deliver := g.start("deliver", "--follow", "--concurrency", "2")
	g.waitTaken(t, deliver, 200)
	lg.Close()
	observe.WaitFor(t, "both workers to wait at the gate", func() (bool, string) {
		_, _, waiting := lg.Counts()
		return waiting == 2, lg.String()
	})
	revoke := g.start("consent", "set", "--school", g.school, "--processing", "las_exchange", "--revoke", "--by", "e2e")
	observe.WaitFor(t, "the revocation to hold the queued results", func() (bool, string) {
		if revoke.exited() {
			t.Fatalf("the revocation returned while two deliveries were still under way (%v):\n%s", revoke.err, revoke.out.String())
		}
		c := g.status()
		return c["held"] > 0, fmt.Sprintf("receipts %v", c)
	})
	lg.Open()
	select {
	case <-revoke.done:
		if revoke.err != nil {
			t.Fatalf("consent set --revoke: %v\n%s", revoke.err, revoke.out.String())
		}
	case <-time.After(observe.Patience):
		t.Fatalf("the revocation did not return within %v of the deliveries under way ending:\n%s", observe.Patience, revoke.out.String())
	}
	after, gateAfter := s.progress(t).lines, lg.arrivedCount()
	// Deliberately a time: nothing may happen during it. A slow machine
	// only makes this check weaker, never red.
	time.Sleep(time.Second)
	if n := s.progress(t).lines - after; n != 0 {
		t.Fatalf("%d requests reached las-sim after the revocation returned", n)
	}
	if n := lg.arrivedCount() - gateAfter; n != 0 {
		t.Fatalf("%d requests left for las-sim after the revocation returned", n)
	}
	c := g.status()
	if c["held"] == 0 || c["queued"]+c["sent"] != 0 || c["accepted"] >= len(g.results) {
		t.Fatalf("after the revocation: receipts %v", c)
	}
	g.must("consent", "set", "--school", g.school, "--processing", "las_exchange", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-1")
	g.waitAccepted(t, len(g.results))
	if err := deliver.stop(t); err != nil {
		t.Errorf("deliver --follow after SIGTERM: %v\n%s", err, deliver.out.String())
	}
	g.wantExactlyOnce(s.intake(t))
}
