package httpapi_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// TestConsentBodyStrict: a consent change is exactly {"granted": bool}:
// the field name is case-sensitive, given once, and the body is declared
// application/json (415 otherwise). A refused body changes nothing.
func TestConsentBodyStrict(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		path := "/api/v1/schools/" + string(f.A.ID) + "/consent/dashboards"
		// contentType "" sends an empty Content-Type header.
		put := func(body, contentType string) response {
			return f.do(t, req{Method: http.MethodPut, Path: path, Secret: f.tok.AdminA.Secret, Body: []byte(body),
				Header: http.Header{"Content-Type": {contentType}}})
		}
		for _, c := range []struct {
			name, body, contentType string
			status                  int
			field                   string
		}{
			{"capitalised", `{"Granted": true}`, "application/json", 422, "/Granted"},
			{"upper case", `{"GRANTED": true}`, "application/json", 422, "/GRANTED"},
			{"twice", `{"granted": true, "granted": true}`, "application/json", 422, "/granted"},
			{"twice in two cases", `{"granted": false, "Granted": true}`, "application/json", 422, "/Granted"},
			{"text/plain", `{"granted": true}`, "text/plain", 415, ""},
			{"form", `{"granted": true}`, "application/x-www-form-urlencoded", 415, ""},
			{"no content type", `{"granted": true}`, "", 415, ""},
			{"json look-alike", `{"granted": true}`, "application/jsonx", 415, ""},
		} {
			p := put(c.body, c.contentType).problem(t, c.status)
			if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
				t.Errorf("%s: problem names %v, want %s", c.name, fieldsOf(p), c.field)
			}
			if f.consent(t)[gateway.ProcessingDashboards] {
				t.Fatalf("%s: a refused body granted dashboards", c.name)
			}
		}
		put(`{"granted": true}`, "application/json; charset=utf-8").json(t, http.StatusOK, nil)
		if !f.consent(t)[gateway.ProcessingDashboards] {
			t.Error("the exact body did not grant dashboards")
		}
	})
}

// TestConnectionTestCooldown: a connection test runs once per school per
// cooldown, however many ask. A second call while the first is on the wire
// and a third after it both get 429 with Retry-After and the last result;
// the LAS is asked once. Another school is not held back; after the
// cooldown (the server's clock moves) the school is tested again.
func TestConnectionTestCooldown(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, f *fixture) {
		path := "/api/v1/schools/" + string(f.A.ID) + "/connection-test"
		before, _, _ := f.las.Counts()
		f.las.Close()
		first := make(chan response, 1)
		go func() { first <- f.post(t, path, f.tok.AdminA, nil) }()
		observe.WaitFor(t, "the first connection test at the LAS", func() (bool, string) {
			_, _, waiting := f.las.Counts()
			return waiting == 1, fmt.Sprintf("%d waiting", waiting)
		})
		second := make(chan response, 1)
		go func() { second <- f.post(t, path, f.tok.Operator, nil) }()
		f.las.Open()
		var chk gateway.ConnectionCheck
		(<-first).json(t, http.StatusOK, &chk)
		if !chk.OK {
			t.Fatalf("first connection test: %+v", chk)
		}
		for i, r := range []response{<-second, f.post(t, path, f.tok.AdminA, nil)} {
			p := r.problem(t, http.StatusTooManyRequests)
			wait := retryAfter(t, r)
			if wait > app.DefaultConnectionCooldown || p.Connection == nil || *p.Connection != chk {
				t.Errorf("call %d: Retry-After %v, last result %+v; want at most %v and the first call's result %+v", i+2, wait, p.Connection, app.DefaultConnectionCooldown, chk)
			}
		}
		if n, _, _ := f.las.Counts(); n-before != 1 {
			t.Errorf("the LAS was asked %d times for three connection tests within the cooldown, want 1", n-before)
		}
		f.post(t, "/api/v1/schools/"+string(f.B.ID)+"/connection-test", f.tok.Operator, nil).json(t, http.StatusOK, nil)
		f.clock.Advance(app.DefaultConnectionCooldown)
		f.post(t, path, f.tok.AdminA, nil).json(t, http.StatusOK, nil)
		if n, _, _ := f.las.Counts(); n-before != 3 {
			t.Errorf("the LAS was asked %d times, want 3 (A, B, A after the cooldown)", n-before)
		}
	})
}

// serveWith serves srv over a real listener with its own http.Server and
// connection cap (what serve wires), returning the address.
func serveWith(t *testing.T, srv *httpapi.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(log.New(io.Discard, "", 0))
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// closedByServer reads c until the server closes it (it may answer first).
func closedByServer(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, c)
		done <- err
	}()
	return done
}

// TestReadDeadlines: a request body is read under a short deadline on
// every route but the results upload, which keeps a long one; headers are
// read under ReadHeaderTimeout. A client trickling a consent body loses its
// connection, while an upload started at the same moment still completes.
func TestReadDeadlines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	srv := httpapi.New(httpapi.Options{App: f.gw, Now: f.clock.Now,
		Limits: httpapi.Limits{HeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond, UploadTimeout: time.Hour}})
	addr := serveWith(t, srv)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	results := f.resultsFile(t, f.A.ID, 3)
	upload, trickle, slowHeader := dial(), dial(), dial()
	fmt.Fprintf(upload, "POST /api/v1/schools/%s/results HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		f.A.ID, f.tok.AdminA.Secret, len(results), results[:10])
	fmt.Fprintf(trickle, "PUT /api/v1/schools/%s/consent/dashboards HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"gran",
		f.A.ID, f.tok.AdminA.Secret)
	fmt.Fprintf(slowHeader, "GET /healthz HTTP/1.1\r\nHost: gw\r\n")
	for name, c := range map[string]net.Conn{"trickled consent body": trickle, "unfinished header": slowHeader} {
		select {
		case <-closedByServer(c):
		case <-time.After(observe.Patience):
			t.Fatalf("the server kept a connection with a %s open for %v", name, observe.Patience)
		}
	}
	if _, err := upload.Write(results[10:]); err != nil {
		t.Fatalf("the upload's connection was closed with the short deadline: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(upload), nil)
	if err != nil {
		t.Fatalf("the upload got no answer after the short deadline passed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("upload: %s, want 202", resp.Status)
	}
	if f.consent(t)[gateway.ProcessingDashboards] {
		t.Error("the trickled consent body was applied")
	}
}

// TestMaxHeaderBytes: a request whose headers pass the cap is refused (431).
func TestMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, stores[0].Open)
	addr := serveWith(t, httpapi.New(httpapi.Options{App: f.gw, Now: f.clock.Now, Limits: httpapi.Limits{MaxHeaderBytes: 4 << 10}}))
	rq, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	rq.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
	resp, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers: %s, want 431", resp.Status)
	}
}

// countingListener counts the Accept calls that reach the real listener.
type countingListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (l *countingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.n++
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *countingListener) calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// TestLimitListener: with the cap reached no further connection is taken
// from the listener until one of the open ones closes; then it is.
func TestLimitListener(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: inner}
	ln := httpapi.LimitListener(cl, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	a, b := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted with the cap of 2 reached")
	default:
	}
	if cl.calls() != 2 {
		t.Fatalf("%d accepts reached the listener with the cap of 2 reached", cl.calls())
	}
	_ = a.Close()
	_ = a.Close() // a second Close frees nothing more
	third := <-accepted
	defer third.Close()
	if n := cl.calls(); n != 3 {
		t.Errorf("%d accepts after one slot was freed twice over, want 3", n)
	}
	_ = b.Close()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	for c := range accepted {
		t.Errorf("accepted %v after Close", c.RemoteAddr())
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}
