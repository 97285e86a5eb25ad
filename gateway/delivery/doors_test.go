package delivery_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// revokeOnTests is the worker's store that, the first time the worker
// reads the school's tests (after it took the batch and checked consent,
// before it sends), revokes las_exchange behind the gate's back: straight
// in the store, so no batch is held by the revocation itself. Only the
// check at the moment of sending can stop this send.
type revokeOnTests struct {
	delivery.Store
	raw  gateway.Store
	once sync.Once
	err  error
}

func (s *revokeOnTests) Tests(ctx context.Context, id gateway.SchoolID) ([]gateway.TestDefinition, error) {
	s.once.Do(func() {
		s.err = s.raw.SetConsent(ctx, gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, Old: true, New: false,
			By: "test", At: time.Now()})
	})
	return s.Store.Tests(ctx, id)
}

// TestSendTimeConsentCheck: consent withdrawn between taking a batch and
// sending it holds the batch; nothing reaches the LAS. Without the check at
// the moment of sending, this batch would be sent.
func TestSendTimeConsentCheck(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, s.Open, 6, nil)
			f.submit(6, 50)
			w := f.worker(delivery.Options{Concurrency: 1})
			hook := &revokeOnTests{Store: f.store, raw: f.store}
			w.Store = hook
			d, err := w.Drain(ctxT(t))
			if err != nil || hook.err != nil {
				t.Fatal(err, hook.err)
			}
			if got := f.logged(); len(got.keys) != 0 {
				t.Fatalf("las-sim took in %d results after las_exchange was revoked before the send", len(got.keys))
			}
			if d.Outcomes[gateway.BatchHeld] != 1 || d.Outcomes[gateway.BatchAccepted] != 0 {
				t.Errorf("drain = %+v, want the batch held", d.Outcomes)
			}
			if n := countKind(t, f, gateway.AuditDecrypt); n != 0 {
				t.Errorf("%d decrypt entries: nothing may be opened for a send that consent stopped", n)
			}
		})
	}
}

// TestDecryptRecordedBeforeAFailedConnect: the decrypt entry is written
// before any ECK iD is opened, so a send whose connection fails still has
// it (purpose, count, batch).
func TestDecryptRecordedBeforeAFailedConnect(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, s.Open, 10, nil)
			_, sub := f.submit(10, 50)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			dead := "http://" + ln.Addr().String() + "/uwlr"
			ln.Close() // nothing listens there: connecting fails
			w := f.worker(delivery.Options{Concurrency: 1})
			w.Connect = func(ctx context.Context, sc gateway.School) (delivery.Sender, string, error) {
				secret, err := f.keys.SecretOpener().Open(vault.SchoolSecret(sc.ID, vault.FieldAutorisatiesleutel), sc.SealedKey)
				if err != nil {
					return nil, "", err
				}
				conn := f.sch.Creds.Connection()
				conn.Autorisatiesleutel, conn.Endpoint = string(secret), dead
				hc, err := soap.NewHTTPClient(soap.TransportOptions{Timeout: 10 * time.Second, ConnectTimeout: 5 * time.Second})
				return soap.NewClient(hc, conn), dead, err
			}
			op := &recordedFirst{inner: f.keys.Opener(), f: f, t: t}
			w.Opener = op
			d, err := w.Drain(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if op.opened == 0 || op.unrecorded > 0 {
				t.Errorf("%d ECK iDs opened, %d of them before their decryption was on record", op.opened, op.unrecorded)
			}
			if d.Results[gateway.BatchQueued] != 10 {
				t.Fatalf("drain = %+v, want the batch queued for a retry", d)
			}
			entries := entriesOf(t, f, gateway.AuditDecrypt)
			if len(entries) != 1 || entries[0].Details["batch"] != sub.Batches[0] || entries[0].Details["eckids"] == "" {
				t.Fatalf("decrypt entries %+v, want one for batch %s", entries, sub.Batches[0])
			}
			if n, _ := strconv.Atoi(entries[0].Details["eckids"]); n < 1 || n > 10 {
				t.Errorf("decrypt entry counts %d ECK iDs of 10 pupils", n)
			}
		})
	}
}

// recordedFirst is the vault's Opener that counts every ECK iD opened
// while the school's chain has no decrypt entry yet.
type recordedFirst struct {
	inner interface {
		Open(vault.Place, []byte) ([]byte, error)
	}
	f                  *fixture
	t                  *testing.T
	mu                 sync.Mutex
	opened, unrecorded int
}

func (o *recordedFirst) Open(p vault.Place, sealed []byte) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opened++
	if countKind(o.t, o.f, gateway.AuditDecrypt) == 0 {
		o.unrecorded++
	}
	return o.inner.Open(p, sealed)
}

func entriesOf(t *testing.T, f *fixture, kind gateway.AuditKind) []gateway.AuditEntry {
	t.Helper()
	var out []gateway.AuditEntry
	err := f.store.WalkAudit(context.Background(), gateway.AuditChainOf(f.school.ID), func(e gateway.AuditEntry) error {
		if e.Kind == kind {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countKind(t *testing.T, f *fixture, kind gateway.AuditKind) int {
	return len(entriesOf(t, f, kind))
}
