package soap_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// A hostile LAS: redirects, compression bombs, giant values and answers
// that never end. Every case must fail (or drop the record) with a clear
// message, without following the LAS elsewhere and without the heap
// growing with what the LAS sends.

// maxHeapGrowth bounds what one hostile read may allocate: far below what
// the LAS sends, far above what reading an answer needs.
const maxHeapGrowth = 64 << 20

// heapGrowth runs f and returns the bytes the process allocated meanwhile
// (runtime.MemStats.TotalAlloc: an upper bound of any peak of the heap,
// so a value buffered whole cannot hide between two measurements) and the
// growth of the live heap after it.
func heapGrowth(f func()) (allocated uint64, live int64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// answerHead opens a whole-school answer up to its pupil list.
const answerHead = `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="` + uwlr.NSSOAPEnvelope + `"><s:Body>` +
	`<lg:leerlinggegevens_antwoord xmlns:lg="` + uwlr.NSLeerlinggegevens + `"><lg:leerlinggegevens>` +
	`<lg:school><lg:schooljaar>2025-2026</lg:schooljaar><lg:brincode>12AB</lg:brincode><lg:dependancecode>00</lg:dependancecode></lg:school>` +
	`<lg:leerlingen>`

// answerTail closes what answerHead opened.
const answerTail = `</lg:leerlingen></lg:leerlinggegevens></lg:leerlinggegevens_antwoord></s:Body></s:Envelope>`

// served is what a hostile handler saw of one call.
type served struct {
	written int64 // bytes it wrote (before compression)
	gone    bool  // the client went away before the handler was done
}

// flushWriter counts what a hostile handler writes.
type flushWriter struct {
	w http.ResponseWriter
	n int64
}

func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.n += int64(n)
	return n, err
}

// hostileLAS serves body to every call (gzip-compressed when gz) and
// reports on the returned channel what the handler saw.
func hostileLAS(t *testing.T, gz bool, body func(ctx context.Context, w io.Writer, flush func()) error) (*httptest.Server, <-chan served) {
	t.Helper()
	seen := make(chan served, 1)
	las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fw := &flushWriter{w: w}
		var out io.Writer = fw
		flush := func() { w.(http.Flusher).Flush() }
		var zw *gzip.Writer
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			zw, _ = gzip.NewWriterLevel(fw, gzip.BestCompression)
			out = zw
		}
		err := body(r.Context(), out, flush)
		if zw != nil && err == nil {
			err = zw.Close()
		}
		seen <- served{written: fw.n, gone: err != nil || r.Context().Err() != nil}
	})
	return las, seen
}

// repeat writes chunk to w until n bytes are written or w fails.
func repeat(w io.Writer, chunk []byte, n int64) error {
	for n > 0 {
		c := chunk
		if int64(len(c)) > n {
			c = c[:n]
		}
		k, err := w.Write(c)
		if err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

func TestHostileLAS(t *testing.T) {
	pupilXML := []byte(`<lg:leerling key="L1"><lg:achternaam>Jansen</lg:achternaam><lg:roepnaam>Kim</lg:roepnaam></lg:leerling>`)
	tests := []struct {
		name    string
		gzip    bool
		timeout time.Duration
		body    func(ctx context.Context, w io.Writer, flush func()) error
		// total is what the LAS would send if the client read it all; a
		// LAS that would send more than socket buffers hold (or never
		// ends: -1) must see the client hang up.
		total     int64
		wantClass soap.Class
		wantMsg   string
	}{
		{
			name: "gzip bomb: 8 GiB of pupils from a few MiB", gzip: true, total: 8 << 30,
			body: func(_ context.Context, w io.Writer, _ func()) error {
				if _, err := io.WriteString(w, answerHead); err != nil {
					return err
				}
				return repeat(w, bytes.Repeat(pupilXML, 1000), 8<<30)
			},
			wantClass: soap.ClassRequest, wantMsg: "expands more than 100 times",
		},
		{
			name: "a surname of 100 MB", total: 100 << 20,
			body: func(_ context.Context, w io.Writer, _ func()) error {
				if _, err := io.WriteString(w, answerHead+`<lg:leerling key="L1"><lg:achternaam>`); err != nil {
					return err
				}
				if err := repeat(w, bytes.Repeat([]byte("a"), 64<<10), 100<<20); err != nil {
					return err
				}
				_, err := io.WriteString(w, `</lg:achternaam></lg:leerling>`+answerTail)
				return err
			},
			wantClass: soap.ClassRequest, wantMsg: "more than 65536 bytes",
		},
		{
			name: "an ECK iD of 1 MB", total: 1 << 20,
			body: func(_ context.Context, w io.Writer, _ func()) error {
				if _, err := io.WriteString(w, answerHead+`<lg:leerling key="L1" eckid="https://ketenid.nl/201703/`); err != nil {
					return err
				}
				if err := repeat(w, bytes.Repeat([]byte("0123456789abcdef"), 4<<10), 1<<20); err != nil {
					return err
				}
				_, err := io.WriteString(w, `"><lg:achternaam>Jansen</lg:achternaam></lg:leerling>`+answerTail)
				return err
			},
			wantClass: soap.ClassRequest, wantMsg: "element tag of more than 65536 bytes",
		},
		{
			name: "an endless drip, one byte per write", timeout: 500 * time.Millisecond, total: -1,
			body: func(ctx context.Context, w io.Writer, flush func()) error {
				if _, err := io.WriteString(w, answerHead+`<lg:leerling key="L1"><lg:achternaam>`); err != nil {
					return err
				}
				tick := time.NewTicker(5 * time.Millisecond) // the LAS's pace, not a wait of the test
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-tick.C:
					}
					if _, err := io.WriteString(w, "a"); err != nil {
						return err
					}
					flush()
				}
			},
			wantClass: soap.ClassTemporary, wantMsg: "in time",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			las, seen := hostileLAS(t, tt.gzip, tt.body)
			hc, err := soap.NewHTTPClient(soap.TransportOptions{Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			var pupils int
			var callErr error
			allocated, live := heapGrowth(func() {
				_, callErr = soap.NewClient(hc, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest,
					soap.Handler{Leerling: func(*uwlr.Leerling) error { pupils++; return nil }})
			})
			t.Logf("allocated %d KiB during the read, live heap %+d KiB; %d pupils handed over", allocated>>10, live>>10, pupils)
			se := asSOAPError(t, callErr)
			if se.Class != tt.wantClass || !strings.Contains(se.Error()+se.Hint, tt.wantMsg) {
				t.Errorf("error = %v (hint %q), want class %s mentioning %q", se, se.Hint, tt.wantClass, tt.wantMsg)
			}
			if allocated > maxHeapGrowth {
				t.Errorf("the read allocated %d MiB, want at most %d MiB", allocated>>20, maxHeapGrowth>>20)
			}
			// The LAS sees the client hang up: nothing keeps reading in the background.
			got := <-seen
			if tt.total >= 0 && tt.total < 64<<20 {
				return // the loopback's socket buffers may take it all
			}
			if !got.gone {
				t.Errorf("the LAS wrote all %d bytes: the client read on", got.written)
			}
			if tt.total > 0 && got.written >= tt.total {
				t.Errorf("the LAS wrote %d of %d bytes before the client hung up", got.written, tt.total)
			}
		})
	}
}

func TestClientNeverFollowsRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	target := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, answerFor(r.Header.Get("SOAPAction")))
	})
	targetHost := strings.TrimPrefix(target.URL, "http://")
	const secretPath = "/uwlr/s3cr3t-session-token"
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusFound} {
		las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Location", target.URL+secretPath+"?key=abc")
			w.WriteHeader(status)
		})
		plain, err := soap.NewHTTPClient(soap.TransportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// las.Client() follows redirects like any http.Client: the soap
		// client must not, whoever built the *http.Client.
		clients := map[string]*http.Client{"NewHTTPClient": plain, "caller's http.Client": las.Client(), "nil": nil}
		for name, hc := range clients {
			calls := map[string]func(*soap.Client) error{
				"HaalLeerlinggegevens": func(c *soap.Client) error {
					_, err := c.HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
					return err
				},
				"SendResults": func(c *soap.Client) error { _, err := c.SendResults(context.Background(), testResults()); return err },
				"Fetch": func(c *soap.Client) error {
					_, err := c.Fetch(context.Background(), uwlr.OpHaalStructuur, testRequest, nil, io.Discard, nil)
					return err
				},
			}
			for op, call := range calls {
				t.Run(strconv.Itoa(status)+"/"+name+"/"+op, func(t *testing.T) {
					se := asSOAPError(t, call(soap.NewClient(hc, testConn(las.URL))))
					if se.Class != gateway.ClassRequest || se.HTTPStatus != status || !errors.Is(se, gateway.ErrInvalid) {
						t.Errorf("error = %+v, want a request-class failure with HTTP %d", se, status)
					}
					if !strings.Contains(se.Hint, targetHost) {
						t.Errorf("hint %q does not name the host %s the LAS redirects to", se.Hint, targetHost)
					}
					if all := se.Error() + se.Hint; strings.Contains(all, "s3cr3t") || strings.Contains(all, "key=abc") {
						t.Errorf("error or hint names more of the Location than its host: %v / %q", se, se.Hint)
					}
				})
			}
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the server redirected to got %d requests, want 0", n)
	}

	t.Run("relative Location names the LAS's own host", func(t *testing.T) {
		las := rawLAS(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusMovedPermanently)
		})
		u, _ := url.Parse(las.URL)
		_, err := soap.NewClient(nil, testConn(las.URL)).HaalLeerlinggegevens(context.Background(), testRequest, soap.Handler{})
		if se := asSOAPError(t, err); se.Class != gateway.ClassRequest || !strings.Contains(se.Hint, u.Host) {
			t.Errorf("error = %+v", se)
		}
	})
}
