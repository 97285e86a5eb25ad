package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
)

// badUpload writes a results file of n results on a pupil the school does
// not have (59 bytes a record: 10^6 of them stay under the body cap).
func badUpload(w io.Writer, id gateway.SchoolID, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `{"school": %q, "tests": [{"code": "R"}], "results": [`, id)
	for i := range n {
		if i > 0 {
			bw.WriteString(",\n")
		}
		fmt.Fprintf(bw, `{"las_key":"x","test":"R","date":"2026-11-02","score":%d}`, i%10)
	}
	bw.WriteString("]}")
	return bw.Flush()
}

// streamPost posts the body that write writes, as a stream.
func (f *fixture) streamPost(t testing.TB, tok token, write func(w io.Writer) error) (*http.Response, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	hr, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, f.http.URL+"/api/v1/schools/"+string(f.A.ID)+"/results", pr)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Authorization", "Bearer "+tok.Secret)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// uploadHeapPeak runs f while sampling the heap in use and returns how far
// it rose above what was in use before, at its highest.
func uploadHeapPeak(f func()) uint64 {
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

// TestResultsUploadStreams: 10^6 bad records, posted as a stream, are
// refused with a 422 whose problem document stays under 1 MB (the first
// problems and a count of the rest), and the server's heap stays flat.
func TestResultsUploadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("10^6 records (-short)")
	}
	f := newFixture(t, teststores.Bolt)
	const n = 1_000_000
	var resp *http.Response
	var body []byte
	start := time.Now()
	growth := uploadHeapPeak(func() {
		resp, body = f.streamPost(t, f.tok.AdminA, func(w io.Writer) error { return badUpload(w, f.A.ID, n) })
	})
	took := time.Since(start)
	var p httpapi.Problem
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, %v: %.300s", resp.StatusCode, err, body)
	}
	t.Logf("%d bad records through the API: heap growth %.1f MiB, problem document %d bytes, %d problems listed, %v; detail %q",
		n, float64(growth)/(1<<20), len(body), len(p.Errors), took.Round(time.Millisecond), p.Detail)
	if growth >= 128<<20 {
		t.Errorf("heap grew by %d MiB", growth>>20)
	}
	if len(body) >= 1<<20 {
		t.Errorf("problem document of %d bytes", len(body))
	}
	if !strings.Contains(p.Detail, fmt.Sprint(n)) || len(p.Errors) != 1001 || !strings.Contains(p.Errors[1000].Reason, "more") {
		t.Errorf("detail %q, %d errors (last %+v): want the count and the first 1000 with the rest counted", p.Detail, len(p.Errors), p.Errors[len(p.Errors)-1])
	}
}

// TestResultsUploadPerToken: a token has at most two results submissions
// under way; a third is 429 with Retry-After, while another token still
// submits; once one ends, the token submits again.
func TestResultsUploadPerToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, teststores.Bolt)
	// Two uploads that hang mid-body.
	var release sync.WaitGroup
	release.Add(1)
	var uploads sync.WaitGroup
	statuses := make(chan int, 2)
	for range 2 {
		uploads.Go(func() {
			for { // a probe below may hold a slot for a moment: try again
				resp, _ := f.streamPost(t, f.tok.AdminA, func(w io.Writer) error {
					if _, err := io.WriteString(w, `{"results": [`); err != nil {
						return err
					}
					release.Wait()
					_, err := io.WriteString(w, `{"las_key": "x", "test": "R", "date": "2026-11-02", "score": 1}]}`)
					return err
				})
				if resp.StatusCode != http.StatusTooManyRequests {
					statuses <- resp.StatusCode
					return
				}
			}
		})
	}
	small := []byte(`{"results": [{"las_key": "x", "test": "R", "date": "2026-11-02", "score": 1}]}`)
	path := "/api/v1/schools/" + string(f.A.ID) + "/results"
	var third response
	observe.WaitFor(t, "a third upload of the token refused", func() (bool, string) {
		third = f.post(t, path, f.tok.AdminA, small)
		return third.Status == http.StatusTooManyRequests, fmt.Sprintf("status %d", third.Status)
	})
	p := third.problem(t, http.StatusTooManyRequests)
	if third.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "2 results submissions") {
		t.Errorf("429 without Retry-After or a detail that says why: %v", third)
	}
	if other := f.post(t, path, f.tok.Operator, small); other.Status != http.StatusUnprocessableEntity {
		t.Errorf("another token's upload: %v; want it read (422: no such pupil)", other)
	}
	release.Done()
	uploads.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusUnprocessableEntity {
			t.Errorf("a held upload ended with %d, want 422", s)
		}
	}
	if again := f.post(t, path, f.tok.AdminA, small); again.Status != http.StatusUnprocessableEntity {
		t.Errorf("after the uploads ended: %v; want the token to submit again", again)
	}
}
