package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDeliveryKill9: the delivering process is killed with SIGKILL at
// random moments, 20 times over, then a last run finishes. Nothing is lost,
// no result key is taken in twice, the audit chains and every evidence
// signature still verify.
func TestDeliveryKill9(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			// 50 ms per request, 2 at a time: at most ~800 results/s, so
			// 20 runs of 60-300 ms cannot deliver all 6000 results.
			s := startSim(t, dir, "--pupils", "300", "--latency", "50ms")
			g := newGateway(t, store, s, "")
			g.submit(6000) // 300 batches of 20 (UWLR_DELIVERY_BATCH_SIZE)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
			killedMidRun := 0
			for run := range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				cmd := g.command(ctx, "deliver", "--concurrency", "2")
				out := &syncBuffer{}
				cmd.Stdout, cmd.Stderr = out, out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(60+rng.IntN(240)) * time.Millisecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("run %d: kill: %v", run, err)
				}
				err := cmd.Wait()
				cancel()
				if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
					killedMidRun++
				} else if err != nil {
					t.Fatalf("run %d ended with %v: %s", run, err, out.String())
				}
			}
			if killedMidRun < 15 {
				t.Fatalf("only %d of 20 runs were killed while delivering; the test proves too little", killedMidRun)
			}
			before := s.intake(t)
			if len(before.taken) == len(g.results) || len(before.taken) == 0 {
				t.Fatalf("after the kills las-sim has %d of %d results: the kills did not land mid-delivery", len(before.taken), len(g.results))
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
			t.Logf("%s: %d of 20 runs killed mid-delivery; %d results, %d arrived before the last run; las-sim saw %d resends (answers lost to a kill), took none in twice",
				store, killedMidRun, len(g.results), len(before.taken), in.resent)
		})
	}
}

// TestDeliveryRedisRestart: Redis (with an append-only file) is killed and
// restarted while the gateway delivers; the gateway rides it out and
// nothing is lost or taken in twice.
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
		deadline := time.Now().Add(10 * time.Second)
		for {
			if out, _ := exec.Command("redis-cli", "-p", fmt.Sprint(port), "ping").Output(); strings.TrimSpace(string(out)) == "PONG" {
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("redis-server did not answer")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	redisProc := startRedis()
	t.Cleanup(func() { _ = redisProc.Process.Kill(); _ = redisProc.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)

	s := startSim(t, dir, "--pupils", "200", "--latency", "10ms")
	g := newGateway(t, "redis", s, url)
	g.submit(2000)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deliver := g.command(ctx, "deliver", "--follow", "--concurrency", "2")
	out := &syncBuffer{}
	deliver.Stdout, deliver.Stderr = out, out
	if err := deliver.Start(); err != nil {
		t.Fatal(err)
	}
	for len(s.intake(t).taken) < 300 {
		time.Sleep(20 * time.Millisecond)
	}
	_ = redisProc.Process.Signal(syscall.SIGKILL)
	_ = redisProc.Wait()
	down := len(s.intake(t).taken)
	time.Sleep(500 * time.Millisecond)
	redisProc = startRedis()
	deadline := time.Now().Add(90 * time.Second)
	for len(s.intake(t).taken) < len(g.results) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	// Let the deliverer settle what it sent, then stop it gracefully.
	for g.status()["accepted"] < len(g.results) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = deliver.Process.Signal(syscall.SIGTERM)
	if err := deliver.Wait(); err != nil {
		t.Errorf("deliver --follow after SIGTERM: %v\n%s", err, out.String())
	}
	if down >= len(g.results) {
		t.Fatalf("Redis went down after everything was delivered (%d): the test proves nothing", down)
	}
	in := s.intake(t)
	g.wantExactlyOnce(in)
	if c := g.status(); c["accepted"] != len(g.results) {
		t.Errorf("receipts %v, want all %d accepted", c, len(g.results))
	}
	g.must("audit", "verify")
	t.Logf("Redis killed after %d of %d results; las-sim saw %d resends", down, len(g.results), in.resent)
}

// TestRevokeMidRunProcesses: `consent set --revoke` in one process while
// `deliver --follow` runs in another: once the revocation returns, no
// further request reaches las-sim; a new grant delivers the rest once.
func TestRevokeMidRunProcesses(t *testing.T) {
	dir := t.TempDir()
	s := startSim(t, dir, "--pupils", "100", "--latency", "30ms")
	g := newGateway(t, "redis", s, "")
	g.submit(1500)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deliver := g.command(ctx, "deliver", "--follow", "--concurrency", "2")
	out := &syncBuffer{}
	deliver.Stdout, deliver.Stderr = out, out
	if err := deliver.Start(); err != nil {
		t.Fatal(err)
	}
	for len(s.intake(t).taken) < 200 {
		time.Sleep(10 * time.Millisecond)
	}
	g.must("consent", "set", "--school", g.school, "--processing", "las_exchange", "--revoke", "--by", "e2e")
	after := s.intake(t).lines
	time.Sleep(time.Second)
	if n := s.intake(t).lines - after; n != 0 {
		t.Fatalf("%d requests reached las-sim after the revocation returned", n)
	}
	c := g.status()
	if c["held"] == 0 || c["queued"]+c["sent"] != 0 {
		t.Fatalf("after the revocation: receipts %v", c)
	}
	g.must("consent", "set", "--school", g.school, "--processing", "las_exchange", "--grant", "--by", "e2e")
	deadline := time.Now().Add(time.Minute)
	for g.status()["accepted"] < len(g.results) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = deliver.Process.Signal(syscall.SIGTERM)
	_ = deliver.Wait()
	g.wantExactlyOnce(s.intake(t))
}
