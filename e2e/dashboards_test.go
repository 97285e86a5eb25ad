package e2e_test

import (
	"bytes"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
)

// hookReceiver is a dashboard's webhook endpoint in the test process: it
// verifies every request as a Standard Webhooks receiver does and records
// which results came under which webhook-id. It answers 204, or 503 to
// every failEvery-th request (to make the gateway retry), and, while hold
// is set, keeps requests after the holdAfter-th waiting until release.
type hookReceiver struct {
	t         *testing.T
	key       []byte
	school    string
	failEvery int

	mu        sync.Mutex
	requests  int               // verified requests that reached the handler
	failed    int               // of those, answered 503 on purpose
	resends   int               // of those, with a webhook-id seen before
	accepted  int               // answered 204
	setOf     map[string]string // webhook-id -> its result ids, sorted and joined
	msgOf     map[string]string // result id -> the webhook-id it came under
	idOf      map[string]string // result key -> its result id
	seen      map[string]int    // result id -> requests that carried it
	took      map[string]int    // result id -> 204 answers that carried it
	acceptedM map[string]bool   // webhook-ids answered 204 at least once
	problems  []string          // what a receiver would refuse or de-duplicate wrongly
	holdAfter int               // with hold set, requests after this many wait
	hold      chan struct{}     // closed by release
	waiting   int               // requests waiting on hold
	secret    string            // whsec_...
	answers   map[string][]int  // webhook-id -> the status of every answer, in order (0: none)
}

func newHookReceiver(t *testing.T, school string, failEvery int) (*hookReceiver, string) {
	t.Helper()
	secret, err := webhook.NewSecret(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &hookReceiver{t: t, key: key, school: school, failEvery: failEvery, setOf: map[string]string{}, msgOf: map[string]string{},
		idOf: map[string]string{}, seen: map[string]int{}, took: map[string]int{}, acceptedM: map[string]bool{}, secret: secret,
		answers: map[string][]int{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(func() {
		rc.release()
		srv.Close()
	})
	return rc, srv.URL + "/hooks/uwlr"
}

// secretFile writes the receiver's secret (as whsec_) to a file for
// `recipient add --secret-file`.
func (rc *hookReceiver) secretFile(t *testing.T, dir string) string {
	t.Helper()
	f := filepath.Join(dir, "webhook.secret")
	if err := os.WriteFile(f, []byte(rc.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (rc *hookReceiver) problem(format string, args ...any) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.problems = append(rc.problems, fmt.Sprintf(format, args...))
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return // the sender went away mid-body (killed): nothing arrived
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		rc.problem("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := webhook.Verify(rc.key, r.Header, body, time.Now(), 0); err != nil {
		rc.problem("a request does not verify: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var msg struct {
		Type string `json:"type"`
		Data struct {
			School  string                    `json:"school"`
			Results []gateway.DashboardResult `json:"results"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		rc.problem("a body is not the results message: %v", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get(webhook.HeaderID)
	switch {
	case msg.Type != "results.submitted":
		rc.problem("message %s has type %q", id, msg.Type)
	case msg.Data.School != rc.school:
		rc.problem("message %s is for school %q", id, msg.Data.School)
	case len(msg.Data.Results) == 0:
		rc.problem("message %s holds no results", id)
	case bytes.Contains(body, []byte("ketenid")):
		rc.problem("message %s carries an ECK iD", id)
	}
	ids := make([]string, 0, len(msg.Data.Results))
	for _, res := range msg.Data.Results {
		ids = append(ids, res.ID)
	}
	slices.Sort(ids)
	set := strings.Join(ids, ",")

	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	if prev, ok := rc.setOf[id]; ok {
		rc.resends++
		if prev != set {
			rc.problems = append(rc.problems, fmt.Sprintf("message %s came again with other results (%d ids, was %d)", id, len(ids), strings.Count(prev, ",")+1))
		}
	} else {
		rc.setOf[id] = set
	}
	for _, res := range msg.Data.Results {
		if m, ok := rc.msgOf[res.ID]; ok && m != id {
			rc.problems = append(rc.problems, fmt.Sprintf("result %s (key %s) came under %s and under %s", res.ID, res.Key, m, id))
		}
		rc.msgOf[res.ID] = id
		if old, ok := rc.idOf[res.Key]; ok && old != res.ID {
			rc.problems = append(rc.problems, fmt.Sprintf("result key %s came as %s and as %s (one version, one id)", res.Key, old, res.ID))
		}
		rc.idOf[res.Key] = res.ID
		rc.seen[res.ID]++
		if res.Pupil == "" || strings.Contains(res.Pupil, "ketenid") {
			rc.problems = append(rc.problems, fmt.Sprintf("result %s names its pupil as %q, not by LAS key", res.ID, res.Pupil))
		}
	}
	fail := rc.failEvery > 0 && n%rc.failEvery == 0
	if fail {
		rc.failed++
	}
	var hold chan struct{}
	if rc.hold != nil && n > rc.holdAfter {
		hold = rc.hold
		rc.waiting++
	}
	rc.mu.Unlock()

	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
		rc.mu.Lock()
		rc.waiting--
		rc.mu.Unlock()
		if r.Context().Err() != nil {
			rc.mu.Lock()
			rc.answers[id] = append(rc.answers[id], 0)
			rc.mu.Unlock()
			return // the sender gave up: it got no answer
		}
	}
	if fail {
		rc.mu.Lock()
		rc.answers[id] = append(rc.answers[id], http.StatusServiceUnavailable)
		rc.mu.Unlock()
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	rc.mu.Lock()
	rc.answers[id] = append(rc.answers[id], http.StatusNoContent)
	rc.accepted++
	rc.acceptedM[id] = true
	for _, res := range msg.Data.Results {
		rc.took[res.ID]++
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// holdFrom makes every request after the first n (counted from the start)
// wait until release.
func (rc *hookReceiver) holdFrom(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.holdAfter, rc.hold = n, make(chan struct{})
}

func (rc *hookReceiver) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.hold != nil {
		close(rc.hold)
		rc.hold = nil
	}
}

// counts returns the requests so far, the webhook-ids answered 204 and
// the requests waiting on hold.
func (rc *hookReceiver) counts() (requests, acceptedMsgs, waiting int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, len(rc.acceptedM), rc.waiting
}

func (rc *hookReceiver) String() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	again := 0 // messages answered 204 more than once: the sender never learnt of the first (killed)
	for _, as := range rc.answers {
		n := 0
		for _, a := range as {
			if a == http.StatusNoContent {
				n++
			}
		}
		if n > 1 {
			again++
		}
	}
	return fmt.Sprintf("receiver: %d requests (%d answered 503, %d resends, %d answered 204, %d waiting), %d messages (%d accepted more than once), %d result ids",
		rc.requests, rc.failed, rc.resends, rc.accepted, rc.waiting, len(rc.setOf), again, len(rc.seen))
}

// check reports what the receiver refused or could not de-duplicate, and
// that every submitted result key was answered 204 under exactly one
// result id; once says each result id must have come in one request only.
func (rc *hookReceiver) check(t *testing.T, keys []string, once bool) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, p := range rc.problems {
		if i == 20 {
			t.Errorf("... and %d more problems", len(rc.problems)-i)
			break
		}
		t.Error(p)
	}
	if len(rc.idOf) != len(keys) || len(rc.seen) != len(keys) {
		t.Errorf("the receiver got %d result keys as %d result ids, want %d", len(rc.idOf), len(rc.seen), len(keys))
	}
	bad := 0
	for _, k := range keys {
		id, ok := rc.idOf[k]
		switch {
		case !ok:
			t.Errorf("result %s never reached the receiver (lost)", k)
		case rc.took[id] == 0:
			t.Errorf("result %s (%s) reached the receiver %d times, never answered 204 (lost): message %s answered %v", k, id, rc.seen[id], rc.msgOf[id], rc.answers[rc.msgOf[id]])
		case once && rc.seen[id] != 1:
			t.Errorf("result %s (%s) came %d times (accepted %d times), want once", k, id, rc.seen[id], rc.took[id])
		default:
			continue
		}
		if bad++; bad == 20 {
			t.Errorf("... stopping at 20 missing or repeated results")
			return
		}
	}
}

// addWebhookRecipient grants dashboards and registers the receiver as the
// school's dashboards webhook recipient through the CLI.
func (g *gw) addWebhookRecipient(t *testing.T, rc *hookReceiver, url string) {
	t.Helper()
	g.must("consent", "set", "--school", g.school, "--processing", "dashboards", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-2")
	g.must("recipient", "add", "--school", g.school, "--processing", "dashboards", "--name", "dash-e2e", "--kind", "webhook",
		"--url", url, "--secret-file", rc.secretFile(t, g.dir), "--basis", "verwerkersovereenkomst e2e 2026", "--by", "e2e")
}

// submitWithCopies submits n results as g.submit does (10 per pupil and
// date, keys e2e-00000...) and checks that every LAS batch got one queued
// copy for the webhook recipient; it returns the number of batches.
func (g *gw) submitWithCopies(t *testing.T, n int) int {
	t.Helper()
	var pupils []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(g.must("pupils", "list", "--school", g.school, "--json")), &pupils); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for i := range n {
		recs = append(recs, map[string]any{"key": fmt.Sprintf("e2e-%05d", i), "pupil_id": pupils[i%len(pupils)].ID, "test": "REK-M4",
			"date": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/len(pupils)).Format(time.DateOnly), "score": i % 50})
		g.results = append(g.results, fmt.Sprintf("e2e-%05d", i))
	}
	doc, _ := json.Marshal(map[string]any{"school": g.school, "tests": []any{map[string]any{"code": "REK-M4", "name": "Rekenen M4"}}, "results": recs})
	file := filepath.Join(g.dir, "results.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out := g.must("results", "submit", "--file", file, "--json")
	var sub gateway.Submission
	if err := json.Unmarshal([]byte(out), &sub); err != nil {
		t.Fatalf("results submit --json: %v\n%s", err, out)
	}
	if sub.New != n || sub.Held || len(sub.Batches) == 0 {
		t.Fatalf("submission: %d new of %d, held %v, %d batches", sub.New, n, sub.Held, len(sub.Batches))
	}
	if len(sub.Recipients) != 1 || sub.Recipients[0].Recipient != "dash-e2e" || sub.Recipients[0].Held ||
		len(sub.Recipients[0].Batches) != len(sub.Batches) {
		t.Fatalf("submission of %d LAS batches made these dashboards copies: %+v", len(sub.Batches), sub.Recipients)
	}
	for i, b := range sub.Recipients[0].Batches {
		if b == sub.Batches[i] || slices.Contains(sub.Batches, b) {
			t.Fatalf("copy %d has the LAS batch's id %s", i, b)
		}
	}
	return len(sub.Batches)
}

// deliverAll runs `deliver` until a run leaves nothing waiting: a batch
// answered 503 waits for its backoff, which deliver leaves for a later run
// (a retry that comes due as a run's workers finish is sent by that run,
// in another round). It returns how many runs it took.
func (g *gw) deliverAll(t *testing.T) int {
	t.Helper()
	runs := 0
	observe.WaitFor(t, "a deliver run to leave nothing waiting", func() (bool, string) {
		runs++
		out := g.must("deliver", "--json")
		var d struct {
			Waiting int `json:"waiting"`
			Errors  int `json:"errors"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("deliver --json: %v\n%s", err, out)
		}
		return d.Waiting == 0 && d.Errors == 0, "the last run: " + out
	})
	return runs
}

// explainLost logs the audit entries of every message the receiver saw
// but never answered 204 (for a failure's report).
func (g *gw) explainLost(t *testing.T, rc *hookReceiver) {
	t.Helper()
	rc.mu.Lock()
	var lost []string
	for id := range rc.setOf {
		if !rc.acceptedM[id] {
			lost = append(lost, id)
		}
	}
	rc.mu.Unlock()
	if len(lost) == 0 {
		return
	}
	audit := g.must("audit", "show", "--school", g.school)
	for _, id := range lost {
		var lines []string
		for _, l := range strings.Split(audit, "\n") {
			if strings.Contains(l, strings.TrimPrefix(id, "msg_")) {
				lines = append(lines, l)
			}
		}
		t.Errorf("message %s never answered 204 (answers %v); its audit entries:\n%s", id, rc.answers[id], strings.Join(lines, "\n"))
	}
}

// checkEvidence runs `evidence verify --json` and wants every record to
// verify: the LAS's delivery evidence (ev_) and the export evidence of the
// pushes (ex_), at least one of each per batch. It also verifies up to
// sample export records itself (`evidence show`, `evidence cert`,
// evidence.VerifyExport) and wants each to name a message the receiver
// answered 204, with a batch's worth of records.
func (g *gw) checkEvidence(t *testing.T, rc *hookReceiver, batches, sample int) {
	t.Helper()
	code, out, errOut := g.run("evidence", "verify", "--json")
	var v struct {
		Checked int                     `json:"checked"`
		Failed  int                     `json:"failed"`
		Records []gateway.EvidenceCheck `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("evidence verify --json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	var ev, ex, evBad, exBad []gateway.EvidenceCheck
	for _, r := range v.Records {
		switch {
		case strings.HasPrefix(r.Evidence, "ex_") && r.OK:
			ex = append(ex, r)
		case strings.HasPrefix(r.Evidence, "ex_"):
			ex, exBad = append(ex, r), append(exBad, r)
		case r.OK:
			ev = append(ev, r)
		default:
			ev, evBad = append(ev, r), append(evBad, r)
		}
	}
	if len(ev) < batches || len(ex) < batches {
		t.Errorf("evidence verify checked %d delivery and %d export records, want at least %d of each", len(ev), len(ex), batches)
	}
	if len(evBad) > 0 {
		t.Errorf("evidence verify (exit %d): %d of %d delivery evidence records fail, the first: %s: %s", code, len(evBad), len(ev), evBad[0].Evidence, evBad[0].Error)
	}
	if len(exBad) > 0 {
		t.Errorf("evidence verify (exit %d): %d of %d export evidence records of the webhook pushes fail, the first: %s: %s", code, len(exBad), len(ex), exBad[0].Evidence, exBad[0].Error)
	}
	if len(ex) == 0 {
		return
	}
	block, _ := pem.Decode([]byte(g.must("evidence", "cert")))
	if block == nil {
		t.Fatal("evidence cert: no PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("evidence cert: %v", err)
	}
	step := max(1, len(ex)/sample)
	for i := 0; i < len(ex); i += step {
		r := ex[i]
		e, err := evidence.VerifyExport([]*x509.Certificate{cert}, []byte(g.must("evidence", "show", "--delivery", r.Evidence)))
		if err != nil {
			t.Errorf("export evidence %s does not verify as export evidence: %v", r.Evidence, err)
			continue
		}
		msg := e.Details["message"]
		rc.mu.Lock()
		acc := rc.acceptedM[msg]
		rc.mu.Unlock()
		if e.ID != r.Evidence || e.Processing != gateway.ProcessingDashboards || e.Recipient != "dash-e2e" || e.Records != 20 ||
			msg != "msg_"+r.Delivery || !acc || len(e.SHA256) != 64 {
			t.Errorf("export evidence %s records %+v; message %s answered 204: %v", r.Evidence, e, msg, acc)
		}
	}
}

// TestDashboardWebhookKill9: results go to the LAS and, as signed webhook
// messages, to a dashboard that answers 503 to every 7th request. The
// delivering process is killed with SIGKILL 10 times over, each time once
// the receiver has seen a random number of new requests in that run, then
// runs to the end. Every request verifies; every result reaches the
// dashboard (answered 204) under one webhook-id, and a webhook-id always
// carries the same results, so the receiver can de-duplicate resends; the
// LAS took each result in exactly once; audit chains and evidence verify.
func TestDashboardWebhookKill9(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			s := startSim(t, dir, "--pupils", "200", "--latency", "20ms")
			g := newGateway(t, store, s, "")
			rc, url := newHookReceiver(t, g.school, 7)
			g.addWebhookRecipient(t, rc, url)
			g.quickRetries()
			batches := g.submitWithCopies(t, 4000) // 200 batches of 20 for the LAS, 200 copies
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
			const kills, inFlight = 10, 2 // --concurrency 2: two requests may land after a kill
			for run := range kills {
				start, acc, _ := rc.counts()
				target := start + inFlight + 1 + rng.IntN(6)
				if acc+(target-start) >= batches {
					t.Fatalf("run %d: %d of %d messages accepted, a target of %d more requests leaves nothing to kill mid-delivery", run, acc, batches, target-start)
				}
				p := g.start("deliver", "--concurrency", "2")
				observe.WaitFor(t, fmt.Sprintf("run %d to bring the receiver from %d to %d requests", run, start, target), func() (bool, string) {
					if p.exited() {
						t.Fatalf("run %d ended (%v) before the receiver had %d requests:\n%s", run, p.err, target, p.out.String())
					}
					n, _, _ := rc.counts()
					return n >= target, rc.String()
				})
				if !p.kill(t) {
					t.Fatalf("run %d had ended (%v) when SIGKILL came: not killed mid-delivery\n%s", run, p.err, p.out.String())
				}
			}
			_, before, _ := rc.counts()
			if before == 0 || before >= batches {
				t.Fatalf("after the kills the receiver accepted %d of %d messages: the kills did not land mid-delivery", before, batches)
			}
			lasBefore := s.progress(t).taken
			runs := g.deliverAll(t)
			rc.check(t, g.results, false)
			g.explainLost(t, rc)
			in := s.intake(t)
			g.wantExactlyOnce(in)
			if c := g.status(); c["accepted"] != len(g.results) {
				t.Errorf("receipts %v, want %d accepted", c, len(g.results))
			}
			g.must("audit", "verify")
			g.checkEvidence(t, rc, batches, 20)
			t.Logf("%s: %d runs killed mid-delivery, then %d run(s) to the end; %d results in %d batches each way; before the last runs the dashboard had accepted %d messages and las-sim %d results; %s; las-sim saw %d resends",
				store, kills, runs, len(g.results), batches, before, lasBefore, rc, in.resent)
		})
	}
}

// TestDashboardWebhookRevokedMidRun: dashboards is revoked in another
// process while webhook pushes wait at the receiver. The revocation does
// not return while they are under way; once it has returned, no request
// reaches the receiver, not from the running deliverer nor from a new
// `deliver`. A new grant delivers the rest: every result once.
func TestDashboardWebhookRevokedMidRun(t *testing.T) {
	dir := t.TempDir()
	s := startSim(t, dir, "--pupils", "50", "--latency", "10ms")
	g := newGateway(t, "redis", s, "")
	rc, url := newHookReceiver(t, g.school, 0)
	g.addWebhookRecipient(t, rc, url)
	batches := g.submitWithCopies(t, 400) // 20 batches each way
	const accepted = 3
	rc.holdFrom(accepted)
	deliver := g.start("deliver", "--concurrency", "2")
	observe.WaitFor(t, "both workers to wait at the receiver", func() (bool, string) {
		if deliver.exited() {
			t.Fatalf("deliver ended (%v) before its pushes waited:\n%s", deliver.err, deliver.out.String())
		}
		_, _, waiting := rc.counts()
		return waiting == 2, rc.String()
	})
	revoke := g.start("consent", "set", "--school", g.school, "--processing", "dashboards", "--revoke", "--by", "e2e", "--json")
	observe.WaitFor(t, "the revocation to be in force while two pushes wait", func() (bool, string) {
		if revoke.exited() {
			t.Fatalf("the revocation returned while two pushes were still under way (%v):\n%s", revoke.err, revoke.out.String())
		}
		var c struct {
			Processing map[string]bool `json:"processing"`
		}
		out := g.must("consent", "show", "--school", g.school, "--json")
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("consent show --json: %v\n%s", err, out)
		}
		return !c.Processing["dashboards"], "consent show: " + out
	})
	if revoke.exited() {
		t.Fatalf("the revocation returned while two pushes were still under way (%v):\n%s", revoke.err, revoke.out.String())
	}
	rc.release()
	select {
	case <-revoke.done:
		if revoke.err != nil {
			t.Fatalf("consent set --revoke: %v\n%s", revoke.err, revoke.out.String())
		}
	case <-time.After(observe.Patience):
		t.Fatalf("the revocation did not return within %v of the pushes under way ending:\n%s", observe.Patience, revoke.out.String())
	}
	var res struct {
		Held     int `json:"held_batches"`
		InFlight int `json:"still_in_flight"`
	}
	if err := json.Unmarshal([]byte(revoke.out.String()), &res); err != nil || res.Held == 0 || res.InFlight != 0 {
		t.Errorf("consent set --revoke --json (%v): %s", err, revoke.out.String())
	}
	afterRevoke, acc, _ := rc.counts()
	if acc != accepted+2 {
		t.Errorf("after the revocation %d messages were accepted, want %d: the %d before the hold and the 2 held; %s", acc, accepted+2, accepted, rc)
	}
	// The running deliverer ends once nothing is due (the LAS batches
	// delivered, the copies held); a new one finds nothing to push.
	select {
	case <-deliver.done:
		if deliver.err != nil {
			t.Fatalf("deliver: %v\n%s", deliver.err, deliver.out.String())
		}
	case <-time.After(observe.Patience):
		t.Fatalf("deliver did not end within %v after the revocation:\n%s", observe.Patience, deliver.out.String())
	}
	g.must("deliver")
	if n, _, _ := rc.counts(); n != afterRevoke {
		t.Fatalf("%d requests reached the receiver after the revocation returned; %s", n-afterRevoke, rc)
	}
	g.must("consent", "set", "--school", g.school, "--processing", "dashboards", "--grant", "--by", "e2e", "--instruction", "signed instruction 2026-3")
	g.deliverAll(t)
	rc.check(t, g.results, true)
	if _, acc, _ := rc.counts(); acc != batches {
		t.Errorf("the receiver accepted %d messages, want %d", acc, batches)
	}
	g.wantExactlyOnce(s.intake(t))
	g.must("audit", "verify")
	g.checkEvidence(t, rc, batches, batches)
	t.Logf("revoked with %d pushes waiting after %d accepted (%d batches held); %d requests by then, none after; after the new grant %s",
		2, accepted, res.Held, afterRevoke, rc)
}
