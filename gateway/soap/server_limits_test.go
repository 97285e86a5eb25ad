package soap_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// patience bounds every wait of these tests against a hang; nothing is
// asserted about how long a step took.
const patience = time.Minute

// keyBackend is a LAS that knows one key. It refuses any other from the
// autorisatie header alone (soap.Authorizer), and again in Handle (as a
// backend must), counting what reaches Handle.
type keyBackend struct {
	authorized, handled atomic.Int32
	ops                 sync.Map // operation names seen by Authorize
}

func (b *keyBackend) Authorize(_ context.Context, op uwlr.Operation, a *uwlr.Autorisatie) error {
	b.ops.Store(op.Name, true)
	if a == nil || a.Autorisatiesleutel != testAuth.Autorisatiesleutel {
		return soap.NewFault(soap.CodeAutorisatieOngeldig, "unknown key")
	}
	b.authorized.Add(1)
	return nil
}

func (b *keyBackend) Handle(_ context.Context, c *soap.Call) (any, error) {
	b.handled.Add(1)
	if c.Auth == nil || c.Auth.Autorisatiesleutel != testAuth.Autorisatiesleutel {
		return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "unknown key")
	}
	return &uwlr.LeerresultatenBevestiging{}, nil
}

// resultsEnvelope is a BrengLeerresultaten request with key, split where
// padding can go: inside the request element, before its end tag.
func resultsEnvelope(t *testing.T, key string) (head, tail string) {
	t.Helper()
	auth := *testAuth
	auth.Autorisatiesleutel = key
	env := mustEnvelope(t, &auth, testResults())
	i := strings.LastIndex(env, "</leerresultaten_verzoek>")
	if i < 0 {
		t.Fatalf("no request end tag in %s", env)
	}
	return env[:i], env[i:]
}

// gzipBomb is that envelope gzipped, inflating to exactly size bytes: blanks
// inside the request element, which compress about a thousand times.
func gzipBomb(t *testing.T, key string, size int) []byte {
	t.Helper()
	head, tail := resultsEnvelope(t, key)
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(zw, head)
	blanks := bytes.Repeat([]byte{' '}, 1<<20)
	for left := size - len(head) - len(tail); left > 0; left -= len(blanks) {
		zw.Write(blanks[:min(left, len(blanks))])
	}
	io.WriteString(zw, tail)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// postGzip posts a gzipped request and returns the status and the body;
// safe to call from any goroutine.
func postGzip(url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := rawClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// wantFault checks a SOAP fault answer's code and a fragment of its text.
func wantFault(t *testing.T, status int, body []byte, code, detail string) {
	t.Helper()
	if status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500 (%s)", status, body)
	}
	f := wireFault(t, body)
	if f.Code != "soap:"+code || !strings.Contains(f.String, detail) {
		t.Errorf("fault = %q / %q, want soap:%s with %q", f.Code, f.String, code, detail)
	}
}

// TestServerRefusesWrongKeyBeforeInflating: eight gzip bombs at once, each
// 64 MiB inflated and carrying a key the LAS does not know, are refused from
// their header; all allocation while they are served stays under 32 MiB
// (today's server inflated each in full before asking the backend).
func TestServerRefusesWrongKeyBeforeInflating(t *testing.T) {
	const bombs, inflated, budget = 8, 64 << 20, 32 << 20
	b := &keyBackend{}
	las := newLAS(t, &soap.Server{Backend: b})
	bomb := gzipBomb(t, "sleutel-FOUT", inflated)

	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make([]answer, bombs)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			a := &answers[i]
			a.status, a.body, a.err = postGzip(las.URL, bomb)
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)

	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bombs of %d bytes gzip (%d MiB inflated each): %.1f MiB allocated, heap %+.1f MiB",
		bombs, len(bomb), inflated>>20, float64(allocated)/(1<<20), (float64(after.HeapAlloc)-float64(before.HeapAlloc))/(1<<20))
	if allocated >= budget {
		t.Errorf("serving the bombs allocated %d MiB, want < %d MiB", allocated>>20, budget>>20)
	}
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("bomb %d: %v", i, a.err)
		}
		wantFault(t, a.status, a.body, soap.CodeAutorisatieOngeldig, "unknown key")
	}
	if n := b.handled.Load(); n != 0 {
		t.Errorf("Handle called %d times for refused keys", n)
	}
	if _, ok := b.ops.Load(uwlr.OpBrengLeerresultaten.Name); !ok {
		t.Error("Authorize was not told the operation")
	}
}

// TestServerAuthorizesBeforeTheBody: a request with a wrong key is answered
// while its body is still on its way; the rest is never waited for.
func TestServerAuthorizesBeforeTheBody(t *testing.T) {
	b := &keyBackend{}
	las := newLAS(t, &soap.Server{Backend: b})
	head, _ := resultsEnvelope(t, "sleutel-FOUT")
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { io.WriteString(pw, head) }() // then nothing: the body never ends
	req, err := http.NewRequest(http.MethodPost, las.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := rawClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, body, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			t.Fatal(a.err)
		}
		wantFault(t, a.status, a.body, soap.CodeAutorisatieOngeldig, "unknown key")
	case <-time.After(patience):
		t.Fatalf("no answer in %v to a wrong key whose body is unfinished", patience)
	}
	if n := b.handled.Load(); n != 0 {
		t.Errorf("Handle called %d times", n)
	}
}

// TestServerBodyCaps: with a known key, a gzip bomb is refused by the
// expansion-ratio cap, and bodies over the size cap (plain, or gzip that
// compresses no better than real XML) by the size cap. A body under the caps
// passes, with Call.Raw only when the server keeps it.
func TestServerBodyCaps(t *testing.T) {
	const limit = 1 << 20
	b := &keyBackend{}
	las := newLAS(t, &soap.Server{Backend: b, MaxRequestBytes: limit})
	head, tail := resultsEnvelope(t, testAuth.Autorisatiesleutel)
	noise := make([]byte, limit)
	rand.Read(noise)
	big := head + "<!--" + hex.EncodeToString(noise) + "-->" + tail // 2 MiB, compresses about 2 times

	t.Run("gzip bomb with the right key", func(t *testing.T) {
		// Under the default size cap: only the ratio refuses it.
		status, body, err := postGzip(newLAS(t, &soap.Server{Backend: b}).URL, gzipBomb(t, testAuth.Autorisatiesleutel, soap.MaxRequestBytes))
		if err != nil {
			t.Fatal(err)
		}
		wantFault(t, status, body, soap.CodeOngeldigBericht, "inflates more than")
	})
	t.Run("plain over the cap", func(t *testing.T) {
		r := post(t, las.URL, "", big, nil)
		wantFault(t, r.status, r.body, soap.CodeOngeldigBericht, "request too large")
	})
	t.Run("gzip over the cap", func(t *testing.T) {
		status, body, err := postGzip(las.URL, gzipped(t, []byte(big)))
		if err != nil {
			t.Fatal(err)
		}
		wantFault(t, status, body, soap.CodeOngeldigBericht, "request too large")
	})
	if n := b.handled.Load(); n != 0 {
		t.Errorf("Handle called %d times for refused bodies", n)
	}

	var raw atomic.Value
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("under the caps, KeepRaw=%v", keep), func(t *testing.T) {
			srv := &soap.Server{KeepRaw: keep, MaxRequestBytes: limit, Backend: backendFunc(func(_ context.Context, c *soap.Call) (any, error) {
				raw.Store(string(c.Raw))
				return &uwlr.LeerresultatenBevestiging{}, nil
			})}
			env := head + "<!--" + hex.EncodeToString(noise[:limit/4]) + "-->" + tail
			status, body, err := postGzip(newLAS(t, srv).URL, gzipped(t, []byte(env)))
			if err != nil || status != http.StatusOK {
				t.Fatalf("status %d, %v: %s", status, err, body)
			}
			want := ""
			if keep {
				want = env
			}
			if got := raw.Load().(string); got != want {
				t.Errorf("Call.Raw has %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// TestServerOneRootElement: after the envelope's end only blanks and
// comments may follow; anything else is a Client.OngeldigBericht fault.
func TestServerOneRootElement(t *testing.T) {
	valid := mustEnvelope(t, testAuth, validVerzoek())
	var handled atomic.Int32
	las := newLAS(t, &soap.Server{Backend: backendFunc(func(context.Context, *soap.Call) (any, error) {
		handled.Add(1)
		return &uwlr.LeerlinggegevensAntwoord{Geengegevens: &uwlr.Leeg{}}, nil
	})})
	for _, tt := range []struct {
		name, after string
		ok          bool
	}{
		{"nothing", "", true},
		{"blanks and comments", "\n  <!-- sent by PHP -->\r\n\t", true},
		{"second envelope", valid[strings.Index(valid, "<soap:Envelope"):], false},
		{"second root element", "<extra/>", false},
		{"element after a comment", "<!-- x --><x/>", false},
		{"text", "trailing text", false},
		{"processing instruction", "<?php echo 1; ?>", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := handled.Load()
			r := post(t, las.URL, "", valid+tt.after, nil)
			if tt.ok {
				if r.status != http.StatusOK || handled.Load() != before+1 {
					t.Errorf("status %d, handled %v: %s", r.status, handled.Load() != before, r.body)
				}
				return
			}
			wantFault(t, r.status, r.body, soap.CodeOngeldigBericht, "after the SOAP envelope")
			if handled.Load() != before {
				t.Error("the backend was called")
			}
		})
	}
}

// serveLimited serves h over loopback with soap.NewHTTPServer's limits,
// tuned by tune.
func serveLimited(t *testing.T, h http.Handler, tune func(*http.Server)) (*http.Server, string) {
	t.Helper()
	srv := soap.NewHTTPServer(h)
	if tune != nil {
		tune(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

// TestNewHTTPServerDefaults: every limit is set, and sanely ordered.
func TestNewHTTPServerDefaults(t *testing.T) {
	h := &soap.Server{Backend: &keyBackend{}}
	srv := soap.NewHTTPServer(h)
	if srv.Handler != h {
		t.Error("handler not used")
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout < srv.ReadHeaderTimeout || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("timeouts: header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	// A keep-alive client must drop an idle connection before the server
	// does, or its next POST can race the close (NewHTTPClient: 90 s).
	if srv.IdleTimeout <= 90*time.Second {
		t.Errorf("IdleTimeout %v, want more than the client's 90 s", srv.IdleTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes = %d, want below net/http's %d", srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)
	}
}

// TestServerCutsOffSlowClients: a client that sends part of its headers, or
// all headers and then no body, loses its connection to the read timeouts.
// The test waits (bounded) for the server to close the connection.
func TestServerCutsOffSlowClients(t *testing.T) {
	_, addr := serveLimited(t, &soap.Server{Backend: &keyBackend{}}, func(s *http.Server) {
		s.ReadHeaderTimeout, s.ReadTimeout = 100*time.Millisecond, 200*time.Millisecond
	})
	for _, tt := range []struct{ name, sent string }{
		{"half the headers", "POST / HTTP/1.1\r\nHost: las\r\nContent-Type: text/xml\r\n"},
		{"headers then nothing", "POST / HTTP/1.1\r\nHost: las\r\nContent-Type: text/xml\r\nContent-Length: 4000\r\n\r\n<?xml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.sent); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(patience))
			got, err := io.ReadAll(conn) // returns at the server's close
			if err != nil {
				t.Fatalf("connection still open after %v (%v); read %q", patience, err, got)
			}
			if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 ")) {
				t.Errorf("server sent %q", got)
			}
		})
	}
}

// TestServerMaxHeaderBytes: a request whose headers exceed MaxHeaderBytes is
// refused with 431 before the handler runs; a normal one is served.
func TestServerMaxHeaderBytes(t *testing.T) {
	var handled atomic.Int32
	srv, addr := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handled.Add(1) }), nil)
	for _, tt := range []struct {
		name string
		pad  int
		want int
	}{
		{"normal headers", 4 << 10, http.StatusOK},
		// net/http grants 4 KiB of slack above MaxHeaderBytes.
		{"oversized headers", srv.MaxHeaderBytes + 16<<10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader("<x/>"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Pad", strings.Repeat("a", tt.pad))
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}
