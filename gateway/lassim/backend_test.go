package lassim_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestStepwise: HaalStructuur, then HaalLeerlingen and HaalLeerkrachten per
// group, add up to exactly what HaalLeerlinggegevens sends in one go.
func TestStepwise(t *testing.T) {
	for _, profile := range []string{"standard", "magister", "esis"} {
		t.Run(profile, func(t *testing.T) {
			e := startSim(t, lassim.Options{Seed: 5, Pupils: 230, Profile: lassim.Profiles[profile]}, nil)
			whole := e.pull(t, 0, soap.Request{})
			cl := e.client(0)
			req := soap.Request{Schooljaar: jaar}

			st := &collected{}
			sum, err := cl.HaalStructuur(ctxT(t), req, st.handler())
			if err != nil {
				t.Fatalf("HaalStructuur: %v", err)
			}
			if sum.Outcome != soap.OutcomeData || sum.Leerlingen != 0 || sum.Leerkrachten != 0 ||
				len(st.groups) != len(whole.groups) || len(st.comps) != len(whole.comps) || len(st.vestigingen) != len(whole.vestigingen) {
				t.Fatalf("structuur: %+v; %d groups, %d comps, %d vestigingen; want %d, %d, %d and no pupils or teachers",
					sum, len(st.groups), len(st.comps), len(st.vestigingen), len(whole.groups), len(whole.comps), len(whole.vestigingen))
			}

			pupilKey := func(l uwlr.Leerling) string { return l.Key + "|" + l.Eckid }
			pupilSeen := map[string]int{}
			teacherSeen := map[string]int{}
			nonEmpty := 0
			// Every home group, and the empty key for those bound to no group.
			sels := []uwlr.GroepSelectie{{Key: ""}}
			for _, g := range st.groups {
				sels = append(sels, uwlr.GroepSelectie{Key: g.Key})
			}
			for _, sel := range sels {
				groups := uwlr.GroepenSelectie{Groep: []uwlr.GroepSelectie{sel}}
				lc := &collected{}
				s, err := cl.HaalLeerlingen(ctxT(t), req, groups, lc.handler())
				if err != nil {
					t.Fatalf("HaalLeerlingen %q: %v", sel.Key, err)
				}
				if s.Outcome == soap.OutcomeData {
					nonEmpty++
				}
				for _, l := range lc.pupils {
					if sel.Key != "" && (l.Groep == nil || l.Groep.Key != sel.Key) {
						t.Errorf("HaalLeerlingen %q returned pupil %s of group %+v", sel.Key, l.Key, l.Groep)
					}
					pupilSeen[pupilKey(l)]++
				}
				tc := &collected{}
				if _, err := cl.HaalLeerkrachten(ctxT(t), req, groups, tc.handler()); err != nil {
					t.Fatalf("HaalLeerkrachten %q: %v", sel.Key, err)
				}
				for _, l := range tc.teachers {
					teacherSeen[l.Key]++
				}
			}
			if nonEmpty != len(st.groups) {
				t.Errorf("%d of %d group requests returned pupils", nonEmpty, len(st.groups))
			}
			var want []string
			for _, l := range whole.pupils {
				want = append(want, pupilKey(l))
			}
			if len(pupilSeen) != len(want) {
				t.Errorf("stepwise pupils: %d distinct, want %d", len(pupilSeen), len(want))
			}
			for _, k := range want {
				if pupilSeen[k] != 1 {
					t.Errorf("pupil %s seen %d times stepwise, want once", k, pupilSeen[k])
				}
			}
			if len(teacherSeen) != len(whole.teachers) {
				t.Errorf("stepwise teachers: %d distinct, want %d", len(teacherSeen), len(whole.teachers))
			}
			for _, l := range whole.teachers {
				if teacherSeen[l.Key] != 1 {
					t.Errorf("teacher %s seen %d times stepwise, want once", l.Key, teacherSeen[l.Key])
				}
			}

			// Composite groups select their members too.
			for _, g := range st.comps {
				lc := &collected{}
				if _, err := cl.HaalLeerlingen(ctxT(t), req, uwlr.GroepenSelectie{SamengesteldeGroep: []uwlr.GroepSelectie{{Key: g.Key}}}, lc.handler()); err != nil {
					t.Fatalf("HaalLeerlingen samengestelde_groep %q: %v", g.Key, err)
				}
				wantN := 0
				for _, l := range whole.pupils {
					if l.SamengesteldeGroepen != nil && slices.ContainsFunc(l.SamengesteldeGroepen.SamengesteldeGroep, func(r uwlr.Ref) bool { return r.Key == g.Key }) {
						wantN++
					}
				}
				if len(lc.pupils) != wantN {
					t.Errorf("composite group %s: %d pupils stepwise, %d in the whole answer", g.Key, len(lc.pupils), wantN)
				}
			}
		})
	}
}

// TestLaatstOntvangenGegevens: a request with laatstontvangengegevens after the
// last change gets geenwijzigingen; after a change it gets data again.
func TestLaatstOntvangenGegevens(t *testing.T) {
	later := t0.Add(2 * time.Minute)
	for _, tt := range []struct {
		name    string
		churn   int                    // Sim.ChurnPerCall
		between func(s *lassim.School) // change made between the two requests
		want    soap.Outcome           // outcome of the second request
		check   func(t *testing.T, c *collected, first *collected)
	}{
		{name: "no churn", churn: 0, want: soap.OutcomeGeenWijzigingen},
		{name: "churn per call", churn: 3, want: soap.OutcomeData},
		{name: "School.Churn", churn: 0, between: func(s *lassim.School) { s.Churn(4, later) }, want: soap.OutcomeData},
		{name: "School.Churn(0) changes nothing", churn: 0, between: func(s *lassim.School) { s.Churn(0, later) }, want: soap.OutcomeGeenWijzigingen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startSim(t, lassim.Options{Seed: 9, Pupils: 80}, func(s *lassim.Sim) {
				s.ChurnPerCall = tt.churn
				s.Now = func() time.Time { return later }
			})
			sch := e.world.Schools[0]
			first := e.pull(t, 0, soap.Request{})
			if first.sum.Outcome != soap.OutcomeData || len(first.pupils) != 80 {
				t.Fatalf("first request: %s with %d pupils", first.sum.Outcome, len(first.pupils))
			}
			if tt.between != nil {
				tt.between(sch)
			}
			since := t0.Add(time.Minute) // after the data was created, before `later`
			second := e.pull(t, 0, soap.Request{Since: since})
			if second.sum.Outcome != tt.want {
				t.Fatalf("second request: outcome %s, want %s", second.sum.Outcome, tt.want)
			}
			if tt.want == soap.OutcomeData {
				if !sch.ChangedAt().Equal(later) {
					t.Errorf("ChangedAt = %v, want %v", sch.ChangedAt(), later)
				}
				if len(second.pupils) != len(sch.Pupils()) && tt.churn == 0 {
					t.Errorf("second answer has %d pupils, school has %d", len(second.pupils), len(sch.Pupils()))
				}
			} else if !sch.ChangedAt().Equal(t0) {
				t.Errorf("ChangedAt = %v, want the creation time %v", sch.ChangedAt(), t0)
			}
			// A since before the creation always gets data.
			if c := e.pull(t, 0, soap.Request{Since: t0.Add(-time.Hour)}); c.sum.Outcome != soap.OutcomeData {
				t.Errorf("since before creation: outcome %s", c.sum.Outcome)
			}
		})
	}
}

// TestOtherSchooljaar: the LAS holds one year; another gets geengegevens.
func TestOtherSchooljaar(t *testing.T) {
	e := startSim(t, lassim.Options{Seed: 2, Pupils: 20, Profile: lassim.Profiles["magister"]}, nil)
	for _, op := range []string{"HaalLeerlinggegevens", "HaalStructuur"} {
		t.Run(op, func(t *testing.T) {
			cl := e.client(0)
			req := soap.Request{Schooljaar: "2019-2020"}
			var sum *soap.Summary
			var err error
			if op == "HaalStructuur" {
				sum, err = cl.HaalStructuur(ctxT(t), req, soap.Handler{})
			} else {
				sum, err = cl.HaalLeerlinggegevens(ctxT(t), req, soap.Handler{})
			}
			if err != nil || sum.Outcome != soap.OutcomeGeenGegevens || sum.Leerlingen != 0 {
				t.Fatalf("%s for 2019-2020 = %+v, %v; want geengegevens", op, sum, err)
			}
		})
	}
}

// TestFaultRate: FaultRate 1 answers every call with Server.TijdelijkNietBeschikbaar.
func TestFaultRate(t *testing.T) {
	e := startSim(t, lassim.Options{Seed: 4, Pupils: 20}, func(s *lassim.Sim) { s.FaultRate = 1 })
	cl := e.client(0)
	req := soap.Request{Schooljaar: jaar}
	calls := []struct {
		op   string
		call func() error
	}{
		{"HaalLeerlinggegevens", func() error { _, err := cl.HaalLeerlinggegevens(ctxT(t), req, soap.Handler{}); return err }},
		{"HaalStructuur", func() error { _, err := cl.HaalStructuur(ctxT(t), req, soap.Handler{}); return err }},
		{"HaalLeerlingen", func() error {
			_, err := cl.HaalLeerlingen(ctxT(t), req, uwlr.GroepenSelectie{Groep: []uwlr.GroepSelectie{{Key: "G1A"}}}, soap.Handler{})
			return err
		}},
		{"BrengLeerresultaten", func() error { return cl.BrengLeerresultaten(ctxT(t), validResults(t, e, 1)) }},
	}
	for _, c := range calls {
		t.Run(c.op, func(t *testing.T) {
			for i := 0; i < 5; i++ {
				se := soapError(t, c.call())
				if se.Code != soap.CodeTijdelijkNietBeschikbaar || se.Class != soap.ClassTemporary || !se.Retryable() || se.HTTPStatus != 500 {
					t.Fatalf("call %d: %+v, want Server.TijdelijkNietBeschikbaar, temporary, HTTP 500", i, se)
				}
			}
			if n := e.sim.Calls(c.op); n != 5 {
				t.Errorf("Calls(%s) = %d, want 5", c.op, n)
			}
		})
	}
}

// TestLatencyStopsOnContext: a client deadline shorter than the latency gets
// a temporary timeout error, and the simulator stops working on the call.
// The latency is far longer than any generous bound below, so a slow
// machine cannot turn a pass into a failure.
func TestLatencyStopsOnContext(t *testing.T) {
	const latency, bound = 30 * time.Minute, 2 * time.Minute
	e := startSim(t, lassim.Options{Seed: 4, Pupils: 20}, func(s *lassim.Sim) { s.Latency = latency })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.client(0).HaalLeerlinggegevens(ctx, soap.Request{Schooljaar: jaar}, soap.Handler{})
	elapsed := time.Since(start)
	se := soapError(t, err)
	if se.Class != soap.ClassTemporary || se.Code != "" || !strings.Contains(se.Hint, "in time") {
		t.Errorf("error %+v: want a temporary timeout", se)
	}
	if elapsed > bound {
		t.Errorf("call took %v", elapsed)
	}
	// The handler must return long before the latency is over.
	select {
	case p := <-e.finished:
		if p != e.profile.Path {
			t.Errorf("finished request %q", p)
		}
	case <-time.After(bound):
		t.Fatalf("the simulator still works on the cancelled call after %v (latency %v)", bound, latency)
	}
	if e.sim.Calls("HaalLeerlinggegevens") != 1 {
		t.Errorf("Calls = %d", e.sim.Calls("HaalLeerlinggegevens"))
	}
}

// TestLatencyDelays: a latency shorter than the deadline delays the answer.
func TestLatencyDelays(t *testing.T) {
	const latency = 150 * time.Millisecond
	e := startSim(t, lassim.Options{Seed: 4, Pupils: 20}, func(s *lassim.Sim) { s.Latency = latency })
	start := time.Now()
	if _, err := e.client(0).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < latency {
		t.Errorf("answer after %v, want at least %v", d, latency)
	}
}

// TestConformanceChecks walks the checks of Sim.Handle in their order with
// the soap client (the raw-request cases are in gateway/conformance).
func TestConformanceChecks(t *testing.T) {
	e := startSim(t, lassim.Options{Seed: 8, Schools: 2, Pupils: 20}, nil)
	other := e.world.Schools[1].Creds
	for _, tt := range []struct {
		name   string
		mutate func(c *soap.Connection)
		want   string
	}{
		{"valid", func(c *soap.Connection) {}, ""},
		{"dependancecode 00 explicit or empty", func(c *soap.Connection) { c.Dependancecode = "" }, ""},
		{"unknown key", func(c *soap.Connection) { c.Autorisatiesleutel = "nope" }, soap.CodeAutorisatieOngeldig},
		{"other school's BRIN", func(c *soap.Connection) { c.Brincode = other.Brin }, soap.CodeAutorisatieOngeldig},
		{"other dependancecode", func(c *soap.Connection) { c.Dependancecode = "01" }, soap.CodeAutorisatieOngeldig},
		{"schoolkey the school does not have", func(c *soap.Connection) { c.Brincode, c.Dependancecode, c.Schoolkey = "", "", "SK1" }, soap.CodeAutorisatieOngeldig},
		{"klantcode", func(c *soap.Connection) { c.Klantcode = "OTHER" }, soap.CodeOngeldigeKlantIdentificatie},
		{"klantnaam", func(c *soap.Connection) { c.Klantnaam = "other" }, soap.CodeOngeldigeKlantIdentificatie},
		{"xsdversie 3.0", func(c *soap.Connection) { c.Xsdversie = "3.0" }, soap.CodeXsdVersieOngeldig},
		// Format checks come before identification checks.
		{"xsdversie before klantcode", func(c *soap.Connection) { c.Xsdversie = "3.0"; c.Klantcode = "OTHER" }, soap.CodeXsdVersieOngeldig},
		{"klantcode before key", func(c *soap.Connection) { c.Klantcode = "OTHER"; c.Autorisatiesleutel = "nope" }, soap.CodeOngeldigeKlantIdentificatie},
		{"xsdversie 2.1 accepted", func(c *soap.Connection) { c.Xsdversie = "2.1" }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := e.conn(0)
			tt.mutate(&conn)
			c := &collected{}
			sum, err := soap.NewClient(e.srv.Client(), conn).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, c.handler())
			if tt.want == "" {
				if err != nil || sum.Leerlingen != 20 {
					t.Fatalf("got %+v, %v; want 20 pupils", sum, err)
				}
				if conn.Xsdversie == "2.1" {
					for _, l := range c.pupils {
						if l.Eckid != "" {
							t.Fatalf("xsdversie 2.1 answer carries eckid %q", l.Eckid)
						}
					}
				}
				return
			}
			if se := soapError(t, err); se.Code != tt.want {
				t.Fatalf("fault %q (%v), want %q", se.Code, se, tt.want)
			}
		})
	}
}
