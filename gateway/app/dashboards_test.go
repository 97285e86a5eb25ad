package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// hook is a dashboard's webhook receiver on loopback: it keeps every
// request it gets.
type hook struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []hookRequest
	// onBody, when set, runs as a request arrives, before it is answered.
	onBody atomic.Pointer[func(body []byte)]
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHook(t *testing.T) *hook {
	t.Helper()
	secret, err := webhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &hook{secret: secret}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if fn := h.onBody.Load(); fn != nil {
			(*fn)(body)
		}
		h.mu.Lock()
		h.got = append(h.got, hookRequest{header: r.Header.Clone(), body: body})
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// resultsFor is a results file with one result per pupil of the school.
func (f *fixture) resultsFor(id gateway.SchoolID, date string) []byte {
	f.t.Helper()
	var recs []string
	err := f.store.Pupils(ctx(f.t), id, func(p gateway.Pupil) error {
		recs = append(recs, fmt.Sprintf(`{"las_key": %q, "test": "REK", "date": %q, "score": %d}`, p.LASKey, date, len(recs)+1))
		return nil
	})
	if err != nil || len(recs) == 0 {
		f.t.Fatalf("pupils of %s: %d, %v", id, len(recs), err)
	}
	return []byte(fmt.Sprintf(`{"school": %q, "tests": [{"code": "REK", "name": "Rekenen"}], "results": [%s]}`, id, strings.Join(recs, ",")))
}

func (f *fixture) grant(id gateway.SchoolID, p gateway.Processing, on bool) {
	f.t.Helper()
	if _, err := f.app.SetConsent(ctx(f.t), id, p, on, gateway.Actor{Via: "cli", Name: "admin", Instruction: "test instruction"}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) drain() delivery.Drained {
	f.t.Helper()
	d, err := f.app.Deliver(ctx(f.t), app.DeliverOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// TestDashboardWebhook: results go to a dashboard's webhook only while the
// school grants dashboards, signed as Standard Webhooks sign, with the
// pupil by LAS key and never an ECK iD or a name; a revocation holds them,
// granting again sends the rest once; las_exchange alone opens nothing for
// the dashboard, and dashboards alone nothing for the LAS.
func TestDashboardWebhook(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		h := newHook(t)
		f.sync(f.app, f.A)
		if _, err := f.app.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "dash", Processing: gateway.ProcessingDashboards,
			Kind: gateway.RecipientWebhook, URL: h.srv.URL + "/hook", Basis: "verwerkersovereenkomst 2026", Secret: h.secret}, "admin"); err != nil {
			t.Fatal(err)
		}
		// Nothing leaves before it is on the school's audit chain: the
		// export entry with the body's digest is there when the body arrives.
		onBody := func(body []byte) {
			sum := sha256.Sum256(body)
			if !f.auditHas(gateway.AuditExport, hex.EncodeToString(sum[:])) {
				t.Errorf("a push arrived before its export entry was on the audit chain")
			}
		}
		h.onBody.Store(&onBody)
		lasBefore := f.sim.Calls(uwlr.OpBrengLeerresultaten.Name)
		sub, _, err := f.app.SubmitResults(ctx(t), f.A, f.resultsFor(f.A, "2026-11-02"), "admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(sub.Recipients) != 1 || !sub.Recipients[0].Held || len(sub.Recipients[0].Batches) == 0 {
			t.Fatalf("submission = %+v, want the dashboard's copies held", sub)
		}
		f.drain()
		if n := len(h.requests()); n != 0 {
			t.Fatalf("las_exchange alone: the dashboard got %d requests", n)
		}
		if f.sim.Calls(uwlr.OpBrengLeerresultaten.Name) == lasBefore {
			t.Fatal("the LAS got nothing under las_exchange")
		}

		f.grant(f.A, gateway.ProcessingLASExchange, false)
		f.grant(f.A, gateway.ProcessingDashboards, true)
		lasAfter := f.sim.Calls(uwlr.OpBrengLeerresultaten.Name)
		if _, _, err := f.app.SubmitResults(ctx(t), f.A, f.resultsFor(f.A, "2026-11-03"), "admin", nil); err != nil {
			t.Fatal(err)
		}
		f.drain()
		if got := f.sim.Calls(uwlr.OpBrengLeerresultaten.Name); got != lasAfter {
			t.Fatalf("dashboards alone: the LAS got %d more results", got-lasAfter)
		}
		reqs := h.requests()
		if len(reqs) != 2*len(sub.Recipients[0].Batches) {
			t.Fatalf("the dashboard got %d requests, want one per batch of both submissions (%d each)", len(reqs), len(sub.Recipients[0].Batches))
		}
		key, err := webhook.ParseSecret(h.secret)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, r := range reqs {
			if err := webhook.Verify(key, r.header, r.body, time.Now(), 10*365*24*time.Hour); err != nil {
				t.Fatalf("signature: %v", err)
			}
			checkPayload(t, f, r.body, ids)
		}
	})
}

// checkPayload: results by LAS key, each with its own id; nothing a pupil
// is known by outside the school's LAS.
func checkPayload(t *testing.T, f *fixture, body []byte, ids map[string]bool) {
	t.Helper()
	var p delivery.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != delivery.EventResults || p.Data.School != f.A || len(p.Data.Results) == 0 {
		t.Fatalf("payload = %+v", p)
	}
	for _, r := range p.Data.Results {
		if r.Pupil == "" || r.ID == "" || ids[r.ID] {
			t.Fatalf("result %+v: no pupil, no id or an id twice", r)
		}
		ids[r.ID] = true
	}
	err := f.store.Pupils(ctx(t), f.A, func(pu gateway.Pupil) error {
		for _, v := range []string{pu.LastName, pu.BirthDate, pu.FirstName} {
			if len(v) > 3 && bytes.Contains(body, []byte(v)) {
				t.Errorf("the payload holds a pupil's name or birth date")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range f.world.Schools[0].Pupils() {
		if l.Eckid != "" && bytes.Contains(body, []byte(l.Eckid)) {
			t.Fatal("the payload holds an ECK iD")
		}
	}
}

// TestDashboardUWLR: a dashboard that speaks UWLR gets BrengLeerresultaten
// with its own key, only under dashboards, and never an ECK iD (only the
// school's LAS gets those).
func TestDashboardUWLR(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		prof := lassim.Profiles["standard"]
		dash := lassim.NewSim(f.world, prof, 7)
		var mu sync.Mutex
		var bodies [][]byte
		var h http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		h = dash.Handler(srv.URL + prof.Path)
		f.sync(f.app, f.A)
		creds := f.world.Schools[0].Creds
		if _, err := f.app.RegisterRecipient(ctx(t), f.A, app.RecipientInput{Name: "uwlr-dash", Processing: gateway.ProcessingDashboards,
			Kind: gateway.RecipientUWLR, URL: srv.URL + prof.Path, Key: creds.Autorisatiesleutel, Basis: "b"}, "admin"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.SubmitResults(ctx(t), f.A, f.resultsFor(f.A, "2026-11-04"), "admin", nil); err != nil {
			t.Fatal(err)
		}
		f.drain()
		if n := dash.Calls(uwlr.OpBrengLeerresultaten.Name); n != 0 {
			t.Fatalf("without dashboards the uwlr dashboard got %d requests", n)
		}
		f.grant(f.A, gateway.ProcessingDashboards, true)
		f.drain()
		if n := dash.Calls(uwlr.OpBrengLeerresultaten.Name); n == 0 {
			t.Fatal("granted, the uwlr dashboard got nothing")
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range f.world.Schools[0].Pupils() {
			for _, b := range bodies {
				if l.Eckid != "" && bytes.Contains(b, []byte(l.Eckid)) {
					t.Fatal("a uwlr dashboard got an ECK iD")
				}
			}
		}
		rs, err := f.app.Receipts(ctx(t), f.A)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.State != gateway.BatchAccepted {
				t.Fatalf("receipt %+v: the LAS's receipts follow the LAS batch", r)
			}
		}
	})
}

// auditHas reports whether school A's chain holds an entry of kind with
// the given sha256 detail.
func (f *fixture) auditHas(kind gateway.AuditKind, digest string) bool {
	found := false
	err := f.store.WalkAudit(context.Background(), gateway.AuditChainOf(f.A), func(e gateway.AuditEntry) error {
		found = found || (e.Kind == kind && e.Details["sha256"] == digest)
		return nil
	})
	if err != nil {
		f.t.Error(err)
	}
	return found
}
