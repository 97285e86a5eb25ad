package webhook_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

var testKey = bytes.Repeat([]byte("k"), 32)

const testID = "ex_r-20251105-0001"

var testBody = []byte(`{"school":"12AB00","records":3}`)

// clock is a settable clock for Client.Now.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) now() time.Time   { return *c.t.Load() }

// counter is a server that counts the requests it gets and answers 204.
func counter(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func asError(t *testing.T, err error) *webhook.Error {
	t.Helper()
	var e *webhook.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *webhook.Error", err, err)
	}
	return e
}

func TestSendSignsAndResendsWithTheSameID(t *testing.T) {
	at := time.Date(2025, 11, 5, 8, 0, 0, 500_000_000, time.UTC)
	clk := newClock(at)
	type received struct {
		h    http.Header
		body []byte
	}
	got := make(chan received, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/hooks" {
			t.Errorf("%s %s, want POST /hooks", r.Method, r.URL.Path)
		}
		got <- received{r.Header.Clone(), body}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "accepted")
	}))
	defer srv.Close()
	c := &webhook.Client{HTTP: srv.Client(), Now: clk.now, UserAgent: "uwlr-gateway-test/1"}

	resp, err := c.Send(context.Background(), srv.URL+"/hooks", testKey, testID, testBody)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(testBody)
	if resp.Status != http.StatusAccepted || string(resp.Body) != "accepted" || !resp.SentAt.Equal(at) || resp.RequestSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Response = %+v", resp)
	}
	first := <-got
	if err := webhook.Verify(testKey, first.h, first.body, at, 0); err != nil {
		t.Errorf("the receiver's check: %v", err)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "User-Agent": "uwlr-gateway-test/1",
		webhook.HeaderID: testID, webhook.HeaderTimestamp: strconv.FormatInt(at.Unix(), 10)} {
		if v := first.h.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if !bytes.Equal(first.body, testBody) {
		t.Errorf("body = %q", first.body)
	}

	// A resend: the same id, a new timestamp and signature.
	clk.set(at.Add(90 * time.Second))
	if _, err := c.Send(context.Background(), srv.URL+"/hooks", testKey, testID, testBody); err != nil {
		t.Fatal(err)
	}
	second := <-got
	if second.h.Get(webhook.HeaderID) != testID ||
		second.h.Get(webhook.HeaderTimestamp) == first.h.Get(webhook.HeaderTimestamp) ||
		second.h.Get(webhook.HeaderSignature) == first.h.Get(webhook.HeaderSignature) {
		t.Errorf("resend headers %v, first %v", second.h, first.h)
	}
	if err := webhook.Verify(testKey, second.h, second.body, at.Add(90*time.Second), 0); err != nil {
		t.Errorf("the receiver's check of the resend: %v", err)
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		class      gateway.ErrorClass
		wait       time.Duration
		kind       error
	}{
		{200, "", gateway.ClassNone, 0, nil},
		{201, "", gateway.ClassNone, 0, nil},
		{204, "", gateway.ClassNone, 0, nil},
		{500, "", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{502, "", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{503, "120", gateway.ClassTemporary, 2 * time.Minute, gateway.ErrTransient},
		{429, "30", gateway.ClassTemporary, 30 * time.Second, gateway.ErrTransient},
		{429, "Wed, 05 Nov 2025 08:05:00 GMT", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{429, "99999999999999999999", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{503, "9999999999", gateway.ClassTemporary, 7 * 24 * time.Hour, gateway.ErrTransient},
		{408, "", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{425, "", gateway.ClassTemporary, 0, gateway.ErrTransient},
		{400, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
		{404, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
		{409, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
		{413, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
		{422, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
		{401, "", gateway.ClassCredential, 0, gateway.ErrForbidden},
		{403, "", gateway.ClassCredential, 0, gateway.ErrForbidden},
		{304, "", gateway.ClassRequest, 0, gateway.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" "+tt.retryAfter, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, "answer")
			}))
			defer srv.Close()
			c := &webhook.Client{HTTP: srv.Client()}
			resp, err := c.Send(context.Background(), srv.URL, testKey, testID, testBody)
			if resp.Status != tt.status {
				t.Errorf("Response.Status = %d, want %d", resp.Status, tt.status)
			}
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Send = %v, want nil", err)
				}
				return
			}
			e := asError(t, err)
			if e.Class != tt.class || e.Status != tt.status || e.RetryAfter != tt.wait || !errors.Is(err, tt.kind) {
				t.Errorf("Error = %+v (%v), want class %s, status %d, retry after %s, kind %v", e, err, tt.class, tt.status, tt.wait, tt.kind)
			}
			if e.Retryable() != (tt.class == gateway.ClassTemporary) {
				t.Errorf("Retryable = %v", e.Retryable())
			}
		})
	}
}

func TestSendErrorTextIsAShortScrubbedLine(t *testing.T) {
	answer := "bad\r\nrequest:\x1b[31m \u202eevil\x00 " + strings.Repeat("é", 150) + " SECRET-TAIL"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	_, err := (&webhook.Client{HTTP: srv.Client()}).Send(context.Background(), srv.URL+"/hooks/path-secret?token=t0k3n", testKey, testID, testBody)
	e := asError(t, err)
	msg := err.Error()
	for _, bad := range []string{"\r", "\n", "\x1b", "\u202e", "\x00", "SECRET-TAIL", "path-secret", "t0k3n", string(testBody)} {
		if strings.Contains(msg, bad) {
			t.Errorf("error text holds %q: %q", bad, msg)
		}
	}
	_, snippet, _ := strings.Cut(e.Msg, "HTTP 400: ")
	if !strings.HasPrefix(snippet, "bad request:[31m evil é") || len(snippet) > 200 {
		t.Errorf("snippet of %d bytes: %q", len(snippet), snippet)
	}
	if !strings.Contains(msg, "post to "+strings.TrimPrefix(srv.URL, "http://")+": HTTP 400") {
		t.Errorf("error text does not name the host and status: %q", msg)
	}
}

func TestSendRefusesRedirects(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			second, count := counter(t)
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, second.URL+"/moved/secret-path?token=t0k3n", status)
			}))
			defer first.Close()
			// The caller's client follows every redirect; Send must not.
			follows := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
			c := &webhook.Client{HTTP: follows}
			resp, err := c.Send(context.Background(), first.URL+"/hooks", testKey, testID, testBody)
			if n := count.Load(); n != 0 {
				t.Errorf("the redirect target got %d requests", n)
			}
			e := asError(t, err)
			secondHost := strings.TrimPrefix(second.URL, "http://")
			if e.Class != gateway.ClassRequest || e.Status != status || resp.Status != status || !errors.Is(err, gateway.ErrInvalid) {
				t.Errorf("Error = %+v, want class request, status %d", e, status)
			}
			msg := err.Error()
			if !strings.Contains(msg, "redirect refused") || !strings.Contains(msg, secondHost) {
				t.Errorf("error text %q does not say redirect refused and name %s", msg, secondHost)
			}
			if strings.Contains(msg, "secret-path") || strings.Contains(msg, "t0k3n") || strings.Contains(msg, "/moved") {
				t.Errorf("error text names the Location's path or query: %q", msg)
			}
			if follows.CheckRedirect == nil {
				t.Error("Send changed the caller's client")
			}
		})
	}
	t.Run("relative Location", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/hooks" {
				t.Errorf("followed the redirect to %s", r.URL.Path)
			}
			w.Header().Set("Location", "/elsewhere?token=t0k3n")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}))
		defer srv.Close()
		_, err := (&webhook.Client{HTTP: srv.Client()}).Send(context.Background(), srv.URL+"/hooks", testKey, testID, testBody)
		if msg := err.Error(); !strings.Contains(msg, "redirect refused") || !strings.Contains(msg, strings.TrimPrefix(srv.URL, "http://")) || strings.Contains(msg, "t0k3n") {
			t.Errorf("error text %q", msg)
		}
	})
}

func TestSendReadsAtMostMaxResponseBytes(t *testing.T) {
	const answer = 4 << 20
	for _, tt := range []struct {
		name   string
		max    int64
		status int
		want   int
	}{
		{"set", 1000, http.StatusOK, 1000},
		{"default", 0, http.StatusOK, webhook.DefaultMaxResponseBytes},
		{"error answer", 1000, http.StatusInternalServerError, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var written atomic.Int64
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				w.Header().Set("Content-Length", strconv.Itoa(answer))
				w.WriteHeader(tt.status)
				chunk := bytes.Repeat([]byte("a"), 32<<10)
				for sent := 0; sent < answer; sent += len(chunk) {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			c := &webhook.Client{HTTP: srv.Client(), MaxResponseBytes: tt.max}
			resp, err := c.Send(context.Background(), srv.URL, testKey, testID, testBody)
			if (err != nil) != (tt.status != http.StatusOK) {
				t.Fatalf("Send = %v", err)
			}
			if len(resp.Body) != tt.want {
				t.Errorf("Response.Body holds %d bytes, want %d", len(resp.Body), tt.want)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the server's handler did not finish")
			}
			if n := written.Load(); n <= int64(tt.want) {
				t.Errorf("the server wrote only %d bytes: the cap was not exercised", n)
			}
		})
	}
}

func TestSendTransportFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL + "/hooks/path-secret?token=t0k3n"
	srv.Close()
	_, err := (&webhook.Client{}).Send(context.Background(), dead, testKey, testID, testBody)
	e := asError(t, err)
	if e.Class != gateway.ClassTemporary || e.Status != 0 || !errors.Is(err, gateway.ErrTransient) {
		t.Errorf("Error = %+v", e)
	}
	if msg := err.Error(); strings.Contains(msg, "path-secret") || strings.Contains(msg, "t0k3n") || strings.Contains(msg, "\n") {
		t.Errorf("error text %q", msg)
	}

	live, count := counter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = (&webhook.Client{HTTP: live.Client()}).Send(ctx, live.URL, testKey, testID, testBody)
	if e := asError(t, err); e.Class != gateway.ClassTemporary || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %+v (%v)", e, err)
	}
	if n := count.Load(); n != 0 {
		t.Errorf("a cancelled send reached the server %d times", n)
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	srv, count := counter(t)
	tests := []struct {
		name string
		url  string
		key  []byte
		id   string
		body string
	}{
		{"http to a remote host", "http://192.0.2.10/hooks", testKey, testID, string(testBody)},
		{"user info", strings.Replace(srv.URL, "http://", "http://u:p@", 1), testKey, testID, string(testBody)},
		{"no key", srv.URL, nil, testID, string(testBody)},
		{"empty id", srv.URL, testKey, "", string(testBody)},
		{"id with a space", srv.URL, testKey, "ex 1", string(testBody)},
		{"id with a line break", srv.URL, testKey, "ex_1\r\nX-Evil: 1", string(testBody)},
		{"id not ASCII", srv.URL, testKey, "ex_ë", string(testBody)},
		{"id too long", srv.URL, testKey, strings.Repeat("x", 257), string(testBody)},
		{"body not JSON", srv.URL, testKey, testID, "school=12AB00"},
		{"empty body", srv.URL, testKey, testID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&webhook.Client{HTTP: srv.Client()}).Send(context.Background(), tt.url, tt.key, tt.id, []byte(tt.body))
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("Send = %v, want gateway.ErrInvalid", err)
			}
			if u, _ := url.Parse(tt.url); u != nil && u.User != nil && strings.Contains(err.Error(), "u:p") {
				t.Errorf("error repeats the user info: %v", err)
			}
		})
	}
	if n := count.Load(); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
	if _, err := (&webhook.Client{HTTP: srv.Client()}).Send(context.Background(), srv.URL, testKey, strings.Repeat("x", 256), testBody); err != nil {
		t.Errorf("an id of 256 bytes: %v", err)
	}
}
