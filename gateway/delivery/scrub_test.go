package delivery_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/delivery"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestFaultTextIsScrubbed: a receiver whose fault repeats the pupil it
// refuses (its LAS key, its ECK iD as sent, upper- and lower-cased and
// base64-encoded) and our autorisatiesleutel. The batch reasons the store
// keeps, the outcomes and the audit chain hold none of them.
func TestFaultTextIsScrubbed(t *testing.T) {
	forStores(t, func(t *testing.T, open func(testing.TB) gateway.Store) {
		f := newFixture(t, open, 12, func(s *lassim.Sim) { s.EchoInFaults = true })
		rs, _ := f.submit(8, 8)
		victim := rs[1].Pupil
		var lasKey string
		for _, p := range f.pupils() {
			if p.ID == victim {
				lasKey = p.LASKey
			}
		}
		var eckid string
		for _, l := range f.sch.Pupils() {
			if l.Key == lasKey {
				eckid = l.Eckid
			}
		}
		if lasKey == "" || eckid == "" {
			t.Fatalf("pupil %s: LAS key %q, ECK iD present %v; the test needs both", victim, lasKey, eckid != "")
		}
		f.sch.EditPupils(f.clock(), func(ls []uwlr.Leerling) []uwlr.Leerling {
			return slices.DeleteFunc(ls, func(l uwlr.Leerling) bool { return l.Key == lasKey })
		})
		var mu sync.Mutex
		var outcomes []string
		w := f.worker(delivery.Options{Concurrency: 1})
		w.Settled = func(o delivery.Outcome) { mu.Lock(); outcomes = append(outcomes, o.Reason); mu.Unlock() }
		if _, err := w.Drain(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		key := f.sch.Creds.Autorisatiesleutel
		leaks := map[string]string{
			"LAS key": lasKey, "ECK iD": eckid, "ECK iD upper-cased": strings.ToUpper(eckid),
			"ECK iD tail": eckid[strings.LastIndex(eckid, "/")+1:], "ECK iD base64": base64.StdEncoding.EncodeToString([]byte(eckid))[:40],
			"key": key, "key upper-cased": strings.ToUpper(key),
		}
		check := func(where, text string) {
			t.Helper()
			for what, v := range leaks {
				if strings.Contains(text, v) {
					t.Errorf("%s holds the refused pupil's %s: %q", where, what, text)
				}
			}
		}
		rc := receiptOf(t, f, rs[1].Key)
		if rc.State != gateway.BatchRejected || rc.FaultCode != soap.CodeLeerlingOngeldig {
			t.Fatalf("receipt of the refused pupil's result: %+v", rc)
		}
		for _, m := range []string{soap.Marker(soap.ScrubEckID), soap.Marker(soap.ScrubLASKey), soap.Marker(soap.ScrubSecret)} {
			if !strings.Contains(rc.Reason, m) {
				t.Errorf("reason %q: want %s where the receiver echoed it", rc.Reason, m)
			}
		}
		rcs, err := delivery.Receipts(ctxT(t), f.store, f.school.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rcs {
			check("receipt "+r.Key, r.Reason+" "+r.FaultCode)
		}
		for _, o := range outcomes {
			check("outcome", o)
		}
		err = f.store.WalkAudit(ctxT(t), gateway.AuditChainOf(f.school.ID), func(e gateway.AuditEntry) error {
			for k, v := range e.Details {
				check("audit entry "+string(e.Kind)+" "+k, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
