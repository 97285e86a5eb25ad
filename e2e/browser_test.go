package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// browserChromium is Debian's Chromium (package chromium). The test never
// downloads a browser of its own.
const browserChromium = "/usr/bin/chromium"

// browserShutdownTimeout is server.shutdown_timeout for the serve process: a
// SIGTERM must end its work within this time, and it must exit with status 0.
const browserShutdownTimeout = 10 * time.Second

// TestBrowserSchoolAdmin drives the school-admin web page in headless
// Chromium the way a school's administrator would: log in with a token, read
// the consent switches, turn one on, name the school's contact person, test
// the LAS connection, approve a held sync. Along the way it checks that the page shows no ECK iD and no date of
// birth, that a form without its CSRF token is refused, and that serve stops
// cleanly on SIGTERM.
func TestBrowserSchoolAdmin(t *testing.T) {
	if _, err := os.Stat(browserChromium); err != nil {
		t.Fatalf("this test drives Debian's Chromium at %s (apt-get install chromium): %v", browserChromium, err)
	}

	// Set up with the CLI while no serve holds the bolt store: an applied
	// first sync, then a second one that churn makes too big, so it is held.
	s := startSim(t, t.TempDir(), "--pupils", "40", "--churn", "30")
	g := newGateway(t, "bolt", s, "")
	var second struct {
		Status               string
		Added, Changed, Left int
		Pupils               int
		Reasons              []string
	}
	if out := g.must("sync", "--school", g.school, "--json"); json.Unmarshal([]byte(out), &second) != nil || second.Status != "held" {
		t.Fatalf("second sync: want status held, got:\n%s", out)
	}
	births, eckids := browserPersonalData(t, g)
	var tok struct {
		Token string `json:"token"`
	}
	if out := g.must("token", "create", "--role", "school-admin", "--school", g.school, "--name", "e2e-browser", "--json"); json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
		t.Fatalf("token create: no token in:\n%s", out)
	}

	srv := startBrowserServe(t, g)
	schoolURL := srv.base + "/schools/" + url.PathEscape(g.school)
	b := newChromeTab(t)

	// Log in: type the token, submit, land on the (only) school's page.
	b.do("open the login page", chromedp.Navigate(srv.base+"/login"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), tok.Token))
	b.submit("log in", chromedp.Click(chromedp.ID("login")))
	if loc := b.location(); loc != schoolURL {
		t.Fatalf("after login the browser is at %s, want %s", loc, schoolURL)
	}
	b.do("wait for the school page", chromedp.WaitVisible(chromedp.ID("consent")))

	// The four consent switches with their descriptions: only las_exchange on.
	switches := []struct {
		name, title, text string
		on                bool
	}{
		{"las_exchange", "Uitwisseling met het LAS", "persoonsgegevens en resultaten met het leerlingadministratiesysteem", true},
		// Each says what the gateway does under it.
		{"dashboards", "Dashboards", "naar de dashboards hieronder", false},
		{"legal", "Wettelijke eisen", "wettelijke grondslag verstrekken", false},
		{"research", "Onderzoek en statistiek", "gepseudonimiseerde export", false},
	}
	for _, sw := range switches {
		sel := "#consent-" + sw.name
		if h := b.text(sel + " h3"); !strings.Contains(h, sw.title) {
			t.Errorf("switch %s: title %q, want it to contain %q", sw.name, h, sw.title)
		}
		if p := b.text(sel + " p"); !strings.Contains(p, sw.text) {
			t.Errorf("switch %s: description %q, want it to contain %q", sw.name, p, sw.text)
		}
		want := map[bool]string{true: "Aan", false: "Uit"}[sw.on]
		if st := b.text(sel + " .state"); st != want {
			t.Errorf("switch %s shows %q, want %q", sw.name, st, want)
		}
	}

	// The held sync is shown with its diff, and neither it nor the rest of
	// the page shows an ECK iD or a date of birth.
	b.do("wait for the approve button", chromedp.WaitVisible(chromedp.ID("approve")))
	if h := b.text("#held .help"); !strings.Contains(h, "pas doorgevoerd na uw goedkeuring") {
		t.Errorf("held section says %q, want the held sync explained", h)
	}
	sum := fmt.Sprintf("+%d nieuw, %d gewijzigd, %d vertrokken", second.Added, second.Changed, second.Left)
	if h := b.text("#held"); !strings.Contains(h, sum) {
		t.Errorf("held section says %q, want the CLI's counts %q", h, sum)
	}
	if last := b.text("#sync dd"); !strings.Contains(last, "wacht op goedkeuring") {
		t.Errorf("before approval the last sync is %q, want held (wacht op goedkeuring)", last)
	}
	held := b.outerHTML("#held table")
	if rows, want := strings.Count(held, "<tr>")-1, min(second.Added+second.Changed+second.Left, 200); rows != want || rows == 0 {
		t.Errorf("the held sync's diff table has %d rows, want %d:\n%s", rows, want, held)
	}
	if strings.Contains(held, "ketenid") || browserDateRE.MatchString(held) {
		t.Errorf("the held sync's diff table shows an ECK iD or a date:\n%s", held)
	}
	b.wantNoPersonalData("school page (nl)", births, eckids)
	t.Logf("held sync: %s; diff table of %d rows; page checked against %d birth dates and %d ECK iDs from las-sim",
		strings.Join(second.Reasons, "; "), strings.Count(held, "<tr>")-1, len(births), len(eckids))

	// Turn research on: after the redirect the switch shows on, and the API
	// (same token) agrees.
	b.submit("turn research on", chromedp.Click(chromedp.CSS("#consent-research button")))
	if st := b.text("#consent-research .state"); st != "Aan" {
		t.Errorf("after turning research on the switch shows %q", st)
	}
	if msg := b.text(".message"); !strings.Contains(msg, "Toestemming bijgewerkt") {
		t.Errorf("after the consent change the page says %q", msg)
	}
	browserWantConsent(t, srv, g.school, tok.Token, map[string]bool{"las_exchange": true, "dashboards": false, "legal": false, "research": true})

	// Name the school's contact person.
	browserSetContact(t, b, srv, g.school, tok.Token)

	// Test the connection to the LAS.
	b.submit("test the connection", chromedp.Click(chromedp.ID("test-connection")))
	if msg := b.text(".message"); msg != "Verbinding getest." {
		t.Errorf("after the connection test the message is %q", msg)
	}
	if ok := b.text("#connection .ok"); !strings.Contains(ok, "Verbinding werkt") {
		t.Errorf("after the connection test the page says %q, want that the connection works", ok)
	}

	// Approve the held sync: nothing waits any more, the last sync applied.
	b.submit("approve the held sync", chromedp.Click(chromedp.ID("approve")))
	if msg := b.text(".message"); !strings.Contains(msg, "goedgekeurd") {
		t.Errorf("after approving the page says %q", msg)
	}
	if h := b.text("#held"); !strings.Contains(h, "Er wacht geen synchronisatie op goedkeuring") {
		t.Errorf("after approving the held section says %q", h)
	}
	if h := b.outerHTML("#held"); strings.Contains(h, `id="approve"`) {
		t.Errorf("after approving there is still an approve button:\n%s", h)
	}
	if last := b.text("#sync dd"); !strings.Contains(last, "doorgevoerd") || !strings.Contains(last, fmt.Sprintf("%d leerlingen", second.Pupils)) {
		t.Errorf("after approving the last sync is %q, want applied (doorgevoerd) with the held run's %d pupils", last, second.Pupils)
	}
	b.wantNoPersonalData("school page after approval", births, eckids)
	b.screenshot("browser-school-admin.png")

	// The English page renders too.
	b.do("open the English page", chromedp.Navigate(schoolURL+"?lang=en"), chromedp.WaitVisible(chromedp.ID("consent")))
	if h := b.text("#consent h2"); h != "Consent" {
		t.Errorf("English page: consent heading %q", h)
	}
	if h := b.text("#consent-las_exchange h3"); !strings.Contains(h, "Exchange with the LAS") || !strings.Contains(h, "On") {
		t.Errorf("English page: las_exchange switch %q", h)
	}
	if h := b.text("#held"); !strings.Contains(h, "No sync waits for approval") {
		t.Errorf("English page: held section %q", h)
	}
	if html := b.outerHTML("html"); !strings.Contains(html, `lang="en"`) {
		t.Errorf("English page is not marked lang=en")
	}
	b.wantNoPersonalData("school page (en)", births, eckids)
	b.screenshot("browser-school-admin-en.png")

	// CSRF: the browser's own session, but a form without its csrf field, is
	// refused with 403 and changes nothing.
	session := b.cookie(srv.base, "uwlr_session")
	if st := browserSessionRequest(t, http.MethodGet, schoolURL, session, nil); st != http.StatusOK {
		t.Fatalf("the browser's session cookie does not open the school page outside the browser: status %d", st)
	}
	for _, csrf := range []string{"", "forged"} {
		form := url.Values{"processing": {"dashboards"}, "granted": {"true"}}
		if csrf != "" {
			form.Set("csrf", csrf)
		}
		if st := browserSessionRequest(t, http.MethodPost, schoolURL+"/consent", session, form); st != http.StatusForbidden {
			t.Errorf("consent form with csrf=%q: status %d, want 403", csrf, st)
		}
	}
	browserWantConsent(t, srv, g.school, tok.Token, map[string]bool{"las_exchange": true, "dashboards": false, "legal": false, "research": true})

	// Close the browser, then SIGTERM: serve exits 0 within its timeout.
	b.close()
	srv.stop(t)
}

// browserDateRE matches an ISO date (YYYY-MM-DD), the form of a UWLR birth date.
var browserDateRE = regexp.MustCompile(`\b(\d{4})-\d{2}-\d{2}\b`)

var browserHTTP = &http.Client{Timeout: time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// browserSessionRequest sends a request with the session cookie (and a
// form, if any) and returns the status, following no redirect.
func browserSessionRequest(t *testing.T, method, u, session string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: "uwlr_session", Value: session})
	resp, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// browserPersonalData fetches the school's pupil data from las-sim with `las
// fetch --raw` and returns the birth dates and ECK iDs in it: what the page must
// never show. las-sim churns after every such answer, so this one (taken
// after the held sync) misses the pupils that churn removed since; the check
// for old dates in wantNoPersonalData covers those.
func browserPersonalData(t *testing.T, g *gw) (births, eckids []string) {
	t.Helper()
	file := filepath.Join(g.dir, "leerlinggegevens.xml")
	c := g.sim.creds
	// A raw capture: the default one has no ECK iD in it to look for.
	g.must("las", "fetch", "--endpoint", g.sim.endpoint, "--brin", c.Brin, "--dependancecode", c.Dependancecode,
		"--klantcode", c.Klantcode, "--klantnaam", c.Klantnaam, "--key-file", filepath.Join(g.dir, "school.key"),
		"--operation", "HaalLeerlinggegevens", "--out", file, "--raw", "--school", g.school, "--reason", "e2e: what the page must not show")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tk, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("las fetch answer: %v", err)
		}
		se, ok := tk.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local == "eckid" && a.Value != "" {
				eckids = append(eckids, a.Value)
			}
		}
		if se.Name.Local == "geboortedatum" {
			var d string
			if err := dec.DecodeElement(&d, &se); err != nil {
				t.Fatalf("las fetch answer: geboortedatum: %v", err)
			}
			if d = strings.TrimSpace(d); d != "" {
				births = append(births, d)
			}
		}
	}
	if len(births) == 0 || len(eckids) == 0 {
		t.Fatalf("las-sim's answer has %d birth dates and %d ECK iDs; the privacy checks need both", len(births), len(eckids))
	}
	return births, eckids
}

// browserServe is a running `uwlr-gateway serve`.
type browserServe struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // its Wait error, once exited is closed
}

// browserReadyWriter collects serve's stderr and closes ready at the line that says
// it serves.
type browserReadyWriter struct {
	buf   *syncBuffer
	ready chan struct{}
	seen  bool
}

func (w *browserReadyWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if !w.seen && strings.Contains(w.buf.String(), "uwlr-gateway serving on http://") {
		w.seen = true
		close(w.ready)
	}
	return n, err
}

func startBrowserServe(t *testing.T, g *gw) *browserServe {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	p := &browserServe{base: "http://" + addr, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(gatewayBin, "serve")
	// No nightly runs: the scheduler must not sync the school mid-test.
	p.cmd.Env = append(slices.Clone(g.env), "UWLR_SERVER_ADDR="+addr, "UWLR_SCHEDULE_ENABLED=false",
		"UWLR_SERVER_SHUTDOWN_TIMEOUT="+browserShutdownTimeout.String())
	w := &browserReadyWriter{buf: p.stderr, ready: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("serve stderr:\n%s", p.stderr.String())
		}
	})
	select {
	case <-w.ready:
	case <-p.exited:
		t.Fatalf("serve exited before serving: %v\n%s", p.err, p.stderr.String())
	case <-time.After(observe.Patience):
		t.Fatalf("serve did not say it serves within %v:\n%s", observe.Patience, p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and wants exit status 0, with serve's work ended
// within its shutdown timeout by its own account (it logs when it is not);
// the wait for the exit itself is generous, so a slow machine is not a
// failure.
func (p *browserServe) stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("serve after SIGTERM: %v, want exit status 0", p.err)
		}
		t.Logf("serve stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(browserShutdownTimeout + observe.Patience):
		t.Fatalf("serve did not exit within %v after SIGTERM", browserShutdownTimeout+observe.Patience)
	}
	if out := p.stderr.String(); strings.Contains(out, "did not end in time") || strings.Contains(out, "http shutdown") {
		t.Errorf("serve did not finish its work within its shutdown timeout (%v):\n%s", browserShutdownTimeout, out)
	}
}

// browserWantConsent reads the school's consent through the admin API.
func browserWantConsent(t *testing.T, p *browserServe, school, token string, want map[string]bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.base+"/api/v1/schools/"+url.PathEscape(school)+"/consent", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Consent map[string]bool `json:"consent"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET consent: status %d, %v", resp.StatusCode, err)
	}
	for k, v := range want {
		if got.Consent[k] != v {
			t.Errorf("API consent %s = %v, want %v (all: %v)", k, got.Consent[k], v, got.Consent)
		}
	}
}

// chromeTab is one tab of a headless Chromium.
type chromeTab struct {
	t      *testing.T
	ctx    context.Context
	cancel func()
	out    *syncBuffer
}

func newChromeTab(t *testing.T) *chromeTab {
	t.Helper()
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserChromium),
		chromedp.Headless,
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// This machine's network is closed: no background, component or
		// sync traffic, no QUIC.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1024),
		chromedp.CombinedOutput(out),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &chromeTab{t: t, ctx: ctx, out: out, cancel: func() { cancel(); acancel() }}
	t.Cleanup(func() {
		b.close()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	// The first run starts the browser; it must not carry a timeout (that
	// would end the browser), so a watchdog bounds it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v\n%s", browserChromium, err, out.String())
		}
	case <-time.After(observe.Patience):
		b.close()
		t.Fatalf("%s did not start within %v:\n%s", browserChromium, observe.Patience, out.String())
	}
	return b
}

func (b *chromeTab) close() { b.cancel() }

// step is the context of one browser step: nothing waits longer (a
// deadline against a hang, generous for a busy machine).
func (b *chromeTab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, time.Minute)
}

func (b *chromeTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// submit clicks a form's button and waits for the page the form leads to
// (after its redirect), which must load with 200.
func (b *chromeTab) submit(what string, button chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, button)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("browser: %s: the page after it has status %d (%s)", what, resp.Status, resp.URL)
	}
}

// tabRun runs one action that returns a value, bounded by a step's timeout.
func tabRun[T any](b *chromeTab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

func (b *chromeTab) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(tabRun(b, "text of "+css, chromedp.Text(chromedp.CSS(css))))
}

func (b *chromeTab) outerHTML(css string) string {
	b.t.Helper()
	return tabRun(b, "HTML of "+css, chromedp.OuterHTML(chromedp.CSS(css)))
}

func (b *chromeTab) location() string {
	b.t.Helper()
	return tabRun(b, "location", chromedp.Location())
}

// cookie returns the value of the browser's cookie for base.
func (b *chromeTab) cookie(base, name string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		b.t.Fatalf("browser: cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("browser: no %s cookie for %s", name, base)
	return ""
}

// wantNoPersonalData: the page's HTML holds no ECK iD and no date of birth,
// neither one las-sim handed out nor anything dated years back.
func (b *chromeTab) wantNoPersonalData(page string, births, eckids []string) {
	b.t.Helper()
	html := b.outerHTML("html")
	if strings.Contains(html, "ketenid.nl") {
		b.t.Errorf("%s shows an ECK iD (ketenid.nl)", page)
	}
	for _, e := range eckids {
		if strings.Contains(html, e) || strings.Contains(html, strings.TrimPrefix(e, "https://ketenid.nl/")) {
			b.t.Errorf("%s shows pupil ECK iD %s", page, e)
			break
		}
	}
	for _, d := range births {
		if strings.Contains(html, d) {
			b.t.Errorf("%s shows pupil birth date %s", page, d)
			break
		}
	}
	// The page's own dates (syncs, connection test, next run) are recent;
	// anything older than last year can only be a date of birth.
	recent := time.Now().Year() - 1
	for _, m := range browserDateRE.FindAllStringSubmatch(html, -1) {
		if y, _ := strconv.Atoi(m[1]); y < recent {
			b.t.Errorf("%s shows %s, which looks like a date of birth", page, m[0])
		}
	}
}

// screenshot saves a full-page PNG as a test artefact: in
// $UWLR_TEST_ARTIFACTS, else in testdata/artifacts (ignored by git).
func (b *chromeTab) screenshot(name string) {
	b.t.Helper()
	png := tabRun(b, "screenshot", chromedp.FullScreenshot(100))
	dir := os.Getenv("UWLR_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		ignore := filepath.Join(dir, ".gitignore")
		if _, err := os.Stat(ignore); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(ignore, []byte("# screenshots of e2e tests: artefacts, not sources\n*\n!.gitignore\n"), 0o644); err != nil {
				b.t.Fatal(err)
			}
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	b.t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
