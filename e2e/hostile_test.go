package e2e_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// hostileProxy forwards to las-sim in mode "" and records the answers that
// hold pupils; in any other mode it answers the LAS calls itself, badly.
type hostileProxy struct {
	target   *url.URL
	hc       *http.Client
	redirect string // where the 307 points

	mu       sync.Mutex
	mode     string
	recorded map[string][]byte // SOAPAction -> plain answer with <leerling
	actions  []string          // every SOAPAction seen
}

func (p *hostileProxy) setMode(m string) { p.mu.Lock(); p.mode = m; p.mu.Unlock() }

func (p *hostileProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	action := r.Header.Get("SOAPAction")
	p.mu.Lock()
	mode, rec := p.mode, p.recorded[action]
	p.actions = append(p.actions, action)
	p.mu.Unlock()
	switch mode {
	case "gzip":
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		// Streamed, never built: the envelope's start, then empty elements
		// without end (about 1000:1), until the client hangs up or 20 GB.
		gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		// The real answer's start up to its first pupil, so that the reader
		// gets past the envelope and into the bomb.
		if i := bytes.Index(rec, []byte("<leerling ")); i >= 0 {
			_, _ = gz.Write(rec[:i])
		}
		_, _ = io.Copy(gz, io.LimitReader(patternReader{}, 20<<30))
		_ = gz.Close()
		return
	case "redirect":
		http.Redirect(w, r, p.redirect, http.StatusTemporaryRedirect)
		return
	case "drip":
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		fl.Flush()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				fl.Flush()
			}
		}
	case "surname", "eckid":
		if rec != nil {
			p.serveInflated(w, rec, mode)
			return
		}
	}
	p.forward(w, r, body, action)
}

// serveInflated streams rec with one surname's text (or one eckid
// attribute's value) replaced by a huge run of 'a', written in chunks.
func (p *hostileProxy) serveInflated(w http.ResponseWriter, rec []byte, mode string) {
	re, size := regexp.MustCompile(`<achternaam>([^<]*)</achternaam>`), 100<<20
	if mode == "eckid" {
		re, size = regexp.MustCompile(`eckid="([^"]*)"`), 1<<20
	}
	loc := re.FindSubmatchIndex(rec)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if loc == nil {
		_, _ = w.Write(rec)
		return
	}
	if _, err := w.Write(rec[:loc[2]]); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for n := 0; n < size; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = w.Write(rec[loc[3]:])
}

func (p *hostileProxy) forward(w http.ResponseWriter, r *http.Request, body []byte, action string) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Del("Accept-Encoding") // keep the recorded answers plain
	resp, err := p.hc.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if resp.StatusCode == http.StatusOK && bytes.Contains(answer, []byte("<leerling ")) {
		p.mu.Lock()
		p.recorded[action] = answer
		p.mu.Unlock()
	}
	for k, vs := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// patternReader yields empty elements (an unknown one) forever.
type patternReader struct{}

func (patternReader) Read(b []byte) (int, error) {
	const pat = "<x/>"
	for i := range b {
		b[i] = pat[i%len(pat)]
	}
	return len(b) - len(b)%len(pat), nil
}

func TestHostileLAS(t *testing.T) {
	s := startSim(t, t.TempDir())
	target, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var redirected atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		redirected.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(elsewhere.Close)
	p := &hostileProxy{target: &url.URL{Scheme: target.Scheme, Host: target.Host},
		hc:       &http.Client{Transport: &http.Transport{DisableCompression: true}},
		redirect: elsewhere.URL + "/elsewhere", recorded: map[string][]byte{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	s.endpoint = srv.URL + target.Path

	g := newGateway(t, "bolt", s, "") // enrols and runs the first sync through the proxy
	before := pupilIDs(t, g)
	if len(before) == 0 {
		t.Fatal("the first sync gave no pupils")
	}
	p.mu.Lock()
	if len(p.recorded) == 0 {
		t.Fatalf("no answer with pupils recorded; actions seen: %v", p.actions)
	}
	p.mu.Unlock()
	t.Logf("first sync: %d pupils", len(before))

	cases := []struct {
		mode string
		env  []string
		want []string // any of these in the output (lower case): the limit named
	}{
		{mode: "gzip", want: []string{"gzip answer expands more than 100 times"}},
		{mode: "surname", want: []string{"achternaam: text, comment or cdata of more than 65536 bytes"}},
		{mode: "eckid", want: []string{"an element tag of more than 65536 bytes"}},
		{mode: "redirect", want: []string{"the gateway never follows a redirect"}},
		{mode: "drip", env: []string{"UWLR_LAS_TIMEOUT=5s"}, want: []string{"context deadline exceeded"}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			p.setMode(c.mode)
			defer p.setMode("")
			code, out, rss := hostileSync(t, g, c.env)
			t.Logf("%s: exit %d, peak RSS %d MiB\n%s", c.mode, code, rss>>10, out)
			low := strings.ToLower(out)
			named := false
			for _, w := range c.want {
				named = named || strings.Contains(low, w)
			}
			if !named {
				t.Errorf("%s: output names none of %q", c.mode, c.want)
			}
			if code == 0 && !strings.Contains(low, "warn") {
				t.Errorf("%s: sync exited 0 without a warning", c.mode)
			}
			if rss >= 256<<10 {
				t.Errorf("%s: peak RSS %d KiB, want under 256 MiB", c.mode, rss)
			}
			p.setMode("")
			after := pupilIDs(t, g)
			if strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("%s: pupils changed: %d before, %d after", c.mode, len(before), len(after))
			}
			if n := redirected.Load(); n != 0 {
				t.Errorf("%s: the redirect target received %d requests", c.mode, n)
			}
		})
	}
}

// hostileSync runs one sync process to its end: exit code, output, peak
// RSS in KiB.
func hostileSync(t *testing.T, g *gw, env []string) (int, string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), observe.Patience)
	defer cancel()
	cmd := g.command(ctx, "sync", "--school", g.school, "--json")
	cmd.Env = append(append([]string{}, g.env...), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	observe.WaitFor(t, "the sync process to exit", func() (bool, string) {
		select {
		case werr = <-done:
			return true, ""
		default:
			return false, "output so far: " + out.String()
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("sync killed after %v: %s", observe.Patience, out.String())
	}
	code := 0
	if werr != nil {
		code = cmd.ProcessState.ExitCode()
		if code < 0 {
			t.Fatalf("sync: %v", werr)
		}
	}
	return code, out.String(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

func pupilIDs(t *testing.T, g *gw) []string {
	t.Helper()
	var pupils []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", g.school, "--json")), &pupils); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(pupils))
	for _, p := range pupils {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}
