package lassim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const toetscode = "REKENEN-M4"

// validResults is a results message for school 0 with one resultaat for
// each of its first n keyed pupils (keys R1..Rn, toetscode toetscode).
func validResults(t *testing.T, e *simEnv, n int) *uwlr.LeerresultatenVerzoek {
	t.Helper()
	c := e.world.Schools[0].Creds
	msg := &uwlr.LeerresultatenVerzoek{
		School: uwlr.ResultatenSchool{Schooljaar: jaar, Brincode: c.Brin, Dependancecode: c.Dependancecode,
			Aanmaakdatum: t0.Format(time.RFC3339), Xsdversie: "2.2"},
		Toetsen: uwlr.Toetsen{Toets: []uwlr.Toets{{Toetscode: uwlr.Vocabulaire{Value: toetscode}, Toetsnaam: "Rekenen M4"}}},
	}
	for _, l := range e.world.Schools[0].Pupils() {
		if len(msg.Toetsafnames.Toetsafname) == n {
			break
		}
		if l.Key == "" {
			continue
		}
		i := len(msg.Toetsafnames.Toetsafname) + 1
		score := strconv.Itoa(10 * i)
		msg.Toetsafnames.Toetsafname = append(msg.Toetsafnames.Toetsafname, uwlr.Toetsafname{Leerlingid: l.Key,
			Resultaten: []uwlr.Resultaat{{Key: fmt.Sprintf("R%d", i), Afnamedatum: "2025-01-20", Toetscode: toetscode, Score: score}}})
	}
	if len(msg.Toetsafnames.Toetsafname) != n {
		t.Fatalf("school has fewer than %d keyed pupils", n)
	}
	return msg
}

type logLine struct {
	ReceivedAt     time.Time `json:"received_at"`
	Brin           string    `json:"brin"`
	Dependancecode string    `json:"dependancecode"`
	Results        []struct {
		Key        string  `json:"key"`
		Leerlingid string  `json:"leerlingid"`
		Eckid      string  `json:"eckid"`
		Toetscode  string  `json:"toetscode"`
		Score      *uint64 `json:"score"`
		Updated    bool    `json:"updated"`
	} `json:"results"`
	Resent []string `json:"resent"`
}

func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("results log line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// TestBrengLeerresultaten: valid results are confirmed and logged as exactly
// one JSON line; invalid ones get the fault a LAS sends and are not logged.
func TestBrengLeerresultaten(t *testing.T) {
	received := t0.Add(time.Hour)
	for _, tt := range []struct {
		name     string
		mutate   func(m *uwlr.LeerresultatenVerzoek, e *simEnv)
		wantCode string
		wantKeys []string // logged resultaat keys when accepted
	}{
		{name: "valid", mutate: func(*uwlr.LeerresultatenVerzoek, *simEnv) {}, wantKeys: []string{"R1", "R2", "R3"}},
		{name: "by eckid only", mutate: func(m *uwlr.LeerresultatenVerzoek, e *simEnv) {
			m.Toetsafnames.Toetsafname[0].Leerlingid = "NOT-A-KEY"
			m.Toetsafnames.Toetsafname[0].Eckid = e.world.Schools[0].Pupils()[0].Eckid
		}, wantKeys: []string{"R1", "R2", "R3"}},
		{name: "unknown pupil", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Leerlingid = "LL999999"
		}, wantCode: soap.CodeLeerlingOngeldig},
		{name: "pupil of another school", mutate: func(m *uwlr.LeerresultatenVerzoek, e *simEnv) {
			m.Toetsafnames.Toetsafname[1].Leerlingid = "LEERLING-ELDERS"
			m.Toetsafnames.Toetsafname[1].Eckid = e.world.Schools[1].Pupils()[0].Eckid
		}, wantCode: soap.CodeLeerlingOngeldig},
		{name: "duplicate resultaat key", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[2].Resultaten[0].Key = "R1"
		}, wantCode: soap.CodeOngeldigBericht},
		{name: "toetscode not in toetsen", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[0].Resultaten[0].Toetscode = "TAAL-M4"
		}, wantCode: soap.CodeOngeldigBericht},
		{name: "no score", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[0].Resultaten[0].Score = ""
		}, wantCode: soap.CodeScoreOngeldig},
		{name: "score 0", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "0"
		}, wantKeys: []string{"R1", "R2", "R3"}},
		{name: "decimal score", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "6.5"
		}, wantCode: soap.CodeScoreOngeldig},
		{name: "negative score", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "-1"
		}, wantCode: soap.CodeScoreOngeldig},
		{name: "not a number", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "X"
		}, wantCode: soap.CodeScoreOngeldig},
		{name: "score and osoresultaat", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.Toetsafnames.Toetsafname[1].Resultaten[0].Osoresultaat = &uwlr.OsoResultaat{
				Referentiescore: []uwlr.Referentiescore{{Codereferentiescore: "PERC", Codevergelijkingsgroep: "LANDELIJK", Waarde: "62"}}}
		}, wantCode: soap.CodeScoreOngeldig},
		{name: "bad aanmaakdatum", mutate: func(m *uwlr.LeerresultatenVerzoek, _ *simEnv) {
			m.School.Aanmaakdatum = "gisteren"
		}, wantCode: soap.CodeOngeldigBericht},
		{name: "other school's BRIN", mutate: func(m *uwlr.LeerresultatenVerzoek, e *simEnv) {
			m.School.Brincode = e.world.Schools[1].Creds.Brin
		}, wantCode: soap.CodeAutorisatieOngeldig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logPath := filepath.Join(t.TempDir(), "results.jsonl")
			f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			e := startSim(t, lassim.Options{Seed: 12, Schools: 2, Pupils: 40}, func(s *lassim.Sim) {
				s.Results = f
				s.Now = func() time.Time { return received }
			})
			msg := validResults(t, e, 3)
			tt.mutate(msg, e)
			err = e.client(0).BrengLeerresultaten(ctxT(t), msg)
			lines := readLog(t, logPath)
			if tt.wantCode != "" {
				if se := soapError(t, err); se.Code != tt.wantCode {
					t.Fatalf("fault %q (%v), want %q", se.Code, se, tt.wantCode)
				}
				if len(lines) != 0 {
					t.Errorf("rejected message was logged: %+v", lines)
				}
				return
			}
			if err != nil {
				t.Fatalf("BrengLeerresultaten: %v", err)
			}
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1", len(lines))
			}
			l := lines[0]
			var keys []string
			for i, r := range l.Results {
				keys = append(keys, r.Key)
				ta := msg.Toetsafnames.Toetsafname[i]
				if r.Leerlingid != ta.Leerlingid || r.Eckid != ta.Eckid || r.Toetscode != toetscode || r.Score == nil || strconv.FormatUint(*r.Score, 10) != ta.Resultaten[0].Score {
					t.Errorf("logged result %d = %+v, sent %+v", i, r, ta)
				}
			}
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("logged keys %v, want %v", keys, tt.wantKeys)
			}
			if l.Brin != e.world.Schools[0].Creds.Brin || l.Dependancecode != "00" || !l.ReceivedAt.Equal(received) {
				t.Errorf("log line %+v", l)
			}

			// Sending the same message again appends a second line that
			// takes nothing in twice: every key is listed as resent.
			if err := e.client(0).BrengLeerresultaten(ctxT(t), msg); err != nil {
				t.Fatal(err)
			}
			lines = readLog(t, logPath)
			if len(lines) != 2 {
				t.Fatalf("%d log lines after a second message, want 2", len(lines))
			}
			if len(lines[1].Results) != 0 || !slices.Equal(lines[1].Resent, tt.wantKeys) {
				t.Errorf("second line: results %+v, resent %v; want none taken in, %v resent", lines[1].Results, lines[1].Resent, tt.wantKeys)
			}
		})
	}
}

// TestResultKeyIsTheUpdateHandle: a resend is acknowledged without a second
// intake, a changed result under the same key is an update, and a
// restarted las-sim (reading its log) still knows what it accepted.
func TestResultKeyIsTheUpdateHandle(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "results.jsonl")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var sim *lassim.Sim
	e := startSim(t, lassim.Options{Seed: 12, Schools: 1, Pupils: 40}, func(s *lassim.Sim) { s.Results, sim = f, s })
	msg := validResults(t, e, 3)
	for range 2 {
		if err := e.client(0).BrengLeerresultaten(ctxT(t), msg); err != nil {
			t.Fatal(err)
		}
	}
	if sim.Resends() != 3 {
		t.Errorf("Resends = %d, want 3", sim.Resends())
	}
	msg.Toetsafnames.Toetsafname[1].Resultaten[0].Score = "99"
	if err := e.client(0).BrengLeerresultaten(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	lines := readLog(t, logPath)
	if len(lines) != 3 || len(lines[2].Results) != 1 || lines[2].Results[0].Key != "R2" || !lines[2].Results[0].Updated ||
		!slices.Equal(lines[2].Resent, []string{"R1", "R3"}) {
		t.Fatalf("after a correction of R2: %+v", lines)
	}

	// A new simulator that read the log knows every key and its content.
	log, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var buf bytes.Buffer
	e2 := startSim(t, lassim.Options{Seed: 12, Schools: 1, Pupils: 40}, func(s *lassim.Sim) {
		if n, err := s.LoadResults(log); err != nil || n != 3 {
			t.Fatalf("LoadResults = %d, %v; want 3 lines", n, err)
		}
		s.Results = &buf
	})
	if err := e2.client(0).BrengLeerresultaten(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	var l logLine
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Results) != 0 || len(l.Resent) != 3 {
		t.Fatalf("restarted las-sim took in %+v, resent %v; want nothing taken in, 3 resent", l.Results, l.Resent)
	}
}
