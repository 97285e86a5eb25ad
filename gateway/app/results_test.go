package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/intake"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
)

// writeBadResults writes a results file of n results on a pupil the school
// does not have, as a stream.
func writeBadResults(w io.Writer, id gateway.SchoolID, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [`, id)
	for i := range n {
		if i > 0 {
			bw.WriteString(",\n")
		}
		fmt.Fprintf(bw, `{"las_key":"nobody","test":"REK","date":"2026-11-02","score":%d}`, i%100)
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// resultsHeapPeak runs f while sampling the heap in use and returns how far
// it rose above what was in use before, at its highest.
func resultsHeapPeak(f func()) uint64 {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	inUse := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	runtime.GC()
	base, peak := inUse(), uint64(0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, inUse())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	if peak = max(peak, inUse()); peak < base {
		return 0
	}
	return peak - base
}

// TestSubmitResultsStream: a file of 10^6 bad records, streamed through a
// pipe and never held in memory, is refused with a flat heap: the first
// app.DefaultMaxResultProblems problems and a count of the rest; nothing is
// stored.
func TestSubmitResultsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("10^6 records (-short)")
	}
	f := newFixture(t, teststores.Bolt)
	const n = 1_000_000
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBadResults(pw, f.A, n)) }()
	var problems []gateway.Problem
	var err error
	start := time.Now()
	growth := resultsHeapPeak(func() { _, problems, err = f.app.SubmitResultsFrom(ctx(t), f.A, pr, "admin", nil) })
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(problems)
	t.Logf("%d bad records through the application layer: heap growth %.1f MiB, %d problems listed (%d in all), problem document %d bytes, %v",
		n, float64(growth)/(1<<20), len(problems), intake.Count(problems), len(doc), took.Round(time.Millisecond))
	if growth >= 128<<20 {
		t.Errorf("heap grew by %d MiB", growth>>20)
	}
	if len(problems) != app.DefaultMaxResultProblems+1 || intake.Count(problems) != n {
		t.Errorf("%d problems listed, Count %d; want %d and %d", len(problems), intake.Count(problems), app.DefaultMaxResultProblems+1, n)
	}
	if !strings.Contains(problems[len(problems)-1].Reason, fmt.Sprintf("and %d more", n-app.DefaultMaxResultProblems)) {
		t.Errorf("last problem %q does not count the rest", problems[len(problems)-1])
	}
	if len(doc) >= 1<<20 {
		t.Errorf("problem document of %d bytes", len(doc))
	}
	if rc, err := f.app.Receipts(ctx(t), f.A); err != nil || len(rc) != 0 {
		t.Errorf("after a refused file: receipts %v, %v", rc, err)
	}
}

// TestSubmitResultsFromStops: a canceled submission stops reading its
// stream, and a reader that fails is an error, not a problem of the file.
func TestSubmitResultsFromStops(t *testing.T) {
	f := newFixture(t, teststores.Bolt)
	c, cancel := context.WithCancel(ctx(t))
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		fmt.Fprintf(bw, `{"results": [`)
		for i := 0; ; i++ {
			if i == 1000 {
				cancel()
			}
			if _, err := fmt.Fprintf(bw, `{"las_key":"nobody","test":"REK","date":"2026-11-02","score":1},`); err != nil {
				return
			}
		}
	}()
	_, problems, err := f.app.SubmitResultsFrom(c, f.A, pr, "admin", nil)
	pr.CloseWithError(io.ErrClosedPipe)
	if !errors.Is(err, context.Canceled) || problems != nil {
		t.Errorf("canceled: problems %d, error %v", len(problems), err)
	}
}
