package lassim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Sim is the simulated LAS behind the SOAP server.
type Sim struct {
	World   *World
	Profile Profile
	// Latency is added to every call; FaultRate (0..1) is the share of calls
	// answered with Server.TijdelijkNietBeschikbaar.
	Latency   time.Duration
	FaultRate float64
	// ChurnPerCall changes that many pupils after every data answer, so a
	// later laatstontvangengegevens request gets new data.
	ChurnPerCall int
	// Replay, when set, answers data requests from recorded envelopes.
	Replay *Replay
	// Results receives every accepted results message as one JSON line.
	Results io.Writer
	// EchoInFaults makes the results faults repeat what they refuse, as a
	// careless vendor's do: the pupil's leerlingid and eckid (as sent,
	// upper- and lower-cased and base64-encoded) and the autorisatiesleutel.
	EchoInFaults bool
	Now          func() time.Time

	mu     sync.Mutex
	rng    *rand.Rand
	logMu  sync.Mutex
	counts map[string]int
	// accepted holds, per school, the keys of accepted results and a digest
	// of their content; resends counts keys acknowledged again.
	accepted map[string]map[string]string
	resends  int
}

// NewSim returns a simulator for w.
func NewSim(w *World, p Profile, seed uint64) *Sim {
	return &Sim{World: w, Profile: p, Now: time.Now, rng: rand.New(rand.NewPCG(seed, 0xfa17)), counts: map[string]int{}}
}

// Calls returns how many calls of an operation were answered (any outcome).
func (s *Sim) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

var supportedVersions = map[string]bool{"2.1": true, "2.2": true, "2.3": true}

// Handle implements soap.Backend. Checks run in the order of the Topicus LAS
// library: header completeness, field formats (xsdversie gets its own code),
// klant identification, key valid for the school, then data.
func (s *Sim) Handle(ctx context.Context, call *soap.Call) (any, error) {
	s.mu.Lock()
	s.counts[call.Op.Name]++
	inject := s.FaultRate > 0 && s.rng.Float64() < s.FaultRate
	s.mu.Unlock()
	if s.Latency > 0 {
		t := time.NewTimer(s.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if inject {
		return nil, soap.NewFault(soap.CodeTijdelijkNietBeschikbaar, "injected fault")
	}
	a := call.Auth
	if a == nil || strings.TrimSpace(a.Autorisatiesleutel) == "" || strings.TrimSpace(a.Klantcode) == "" || strings.TrimSpace(a.Klantnaam) == "" {
		return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "autorisatie header missing or incomplete")
	}
	var id schoolID
	switch r := call.Request.(type) {
	case *uwlr.LeerlinggegevensVerzoek:
		id = basisID(r.VerzoekBasis)
	case *uwlr.StructuurVerzoek:
		id = basisID(r.VerzoekBasis)
	case *uwlr.LeerlingenVerzoek:
		id = basisID(r.VerzoekBasis)
	case *uwlr.LeerkrachtenVerzoek:
		id = basisID(r.VerzoekBasis)
	case *uwlr.LeerresultatenVerzoek:
		id = schoolID{jaar: r.School.Schooljaar, brin: r.School.Brincode, dep: r.School.Dependancecode,
			key: r.School.Schoolkey, xsd: r.School.Xsdversie, created: r.School.Aanmaakdatum, results: true}
	default:
		return nil, soap.NewFault(soap.CodeOngeldigBericht, "unsupported request")
	}
	if f := id.check(); f != nil {
		return nil, f
	}
	if a.Klantcode != Klantcode || a.Klantnaam != Klantnaam {
		return nil, soap.NewFault(soap.CodeOngeldigeKlantIdentificatie, "")
	}
	sch, ok := s.World.School(a.Autorisatiesleutel)
	if !ok && s.Replay == nil {
		return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "unknown key")
	}
	if ok && !id.matches(sch.Creds) {
		return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "key does not grant this school")
	}
	if call.Op == uwlr.OpBrengLeerresultaten {
		return s.results(sch, call.Request.(*uwlr.LeerresultatenVerzoek), a.Autorisatiesleutel)
	}
	if s.Replay != nil {
		return s.Replay.Answer(call.Op, id.brin+id.dep)
	}
	return s.answer(sch, call.Op, call.Request, id)
}

type schoolID struct {
	jaar, brin, dep, key, xsd, since, created string
	results                                   bool
}

func basisID(b uwlr.VerzoekBasis) schoolID {
	return schoolID{jaar: b.Schooljaar, brin: b.Brincode, dep: b.Dependancecode, key: b.Schoolkey, xsd: b.Xsdversie, since: b.Laatstontvangengegevens}
}

func (id schoolID) check() *soap.Fault {
	switch {
	case !soap.ValidSchooljaar(id.jaar):
		return soap.NewFault(soap.CodeOngeldigBericht, "schooljaar must look like 2025-2026")
	case id.brin != "" && id.key != "":
		return soap.NewFault(soap.CodeOngeldigBericht, "brincode and schoolkey exclude each other")
	case id.brin == "" && id.key == "":
		return soap.NewFault(soap.CodeOngeldigBericht, "brincode or schoolkey is required")
	case id.brin != "" && !soap.ValidBrincode(id.brin):
		return soap.NewFault(soap.CodeOngeldigBericht, "brincode must be 2 digits and 2 capitals")
	case id.dep != "" && !soap.ValidDependancecode(id.dep):
		return soap.NewFault(soap.CodeOngeldigBericht, "dependancecode must be 2 digits")
	case id.since != "" && !validDateTime(id.since):
		return soap.NewFault(soap.CodeOngeldigBericht, "laatstontvangengegevens is not an xs:dateTime")
	case id.results && !validDateTime(id.created):
		return soap.NewFault(soap.CodeOngeldigBericht, "aanmaakdatum is not an xs:dateTime")
	case !supportedVersions[id.xsd]:
		return soap.NewFault(soap.CodeXsdVersieOngeldig, "supported: 2.1, 2.2, 2.3")
	}
	return nil
}

func (id schoolID) matches(c Credentials) bool {
	if id.key != "" {
		return c.Schoolkey != "" && id.key == c.Schoolkey
	}
	dep := id.dep
	if dep == "" {
		dep = "00"
	}
	return id.brin == c.Brin && dep == c.Dependancecode
}

// dateTimeLayouts are the xs:dateTime forms accepted (with and without zone).
var dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"}

func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func validDateTime(s string) bool { _, ok := parseDateTime(s); return ok }

func (s *Sim) answer(sch *School, op uwlr.Operation, req any, id schoolID) (any, error) {
	sch.mu.RLock()
	jaar := sch.info.Schooljaar
	changed := sch.changedAt
	sch.mu.RUnlock()
	if id.jaar != jaar {
		return emptyAnswer{op: op, kind: "geengegevens", prefix: s.Profile.Prefix}, nil
	}
	if id.since != "" {
		since, _ := parseDateTime(id.since)
		if !changed.After(since) {
			return emptyAnswer{op: op, kind: "geenwijzigingen", prefix: s.Profile.Prefix}, nil
		}
	}
	ans := &dataAnswer{school: sch, op: op, profile: s.Profile, xsdversie: id.xsd}
	switch r := req.(type) {
	case *uwlr.LeerlingenVerzoek:
		ans.selection = &r.Groepen
	case *uwlr.LeerkrachtenVerzoek:
		ans.selection = &r.Groepen
	}
	if op == uwlr.OpHaalLeerlinggegevens && s.ChurnPerCall > 0 {
		ans.churn = func() { sch.Churn(s.ChurnPerCall, s.Now()) }
	}
	return ans, nil
}

// resultLine is one line of the results log.
type resultLine struct {
	ReceivedAt     time.Time          `json:"received_at"`
	Brin           string             `json:"brin,omitempty"`
	Dependancecode string             `json:"dependancecode,omitempty"`
	Schoolkey      string             `json:"schoolkey,omitempty"`
	Results        []resultLineResult `json:"results"`
	// Resent lists the keys of results this receiver had already accepted
	// with the same content: acknowledged again, not taken in twice.
	Resent []string `json:"resent,omitempty"`
}

type resultLineResult struct {
	Key            string  `json:"key"`
	Leerlingid     string  `json:"leerlingid"`
	Eckid          string  `json:"eckid,omitempty"`
	Toetscode      string  `json:"toetscode"`
	Toetsonderdeel string  `json:"toetsonderdeelcode,omitempty"`
	Afnamedatum    string  `json:"afnamedatum"`
	Score          *uint64 `json:"score,omitempty"`
	OSO            bool    `json:"oso,omitempty"`
	// Updated: the key was accepted before with other content; this
	// version replaces it (the key is the update handle).
	Updated bool `json:"updated,omitempty"`
	// Digest is a SHA-256 of the result's content, to tell a resend from an update.
	Digest string `json:"digest"`
}

// integerScore parses a wire score the way a standard UWLR receiver does: the
// XSD types it xs:nonNegativeInteger, so a decimal (the RTTI profile's "6.5"),
// a sign or anything else is refused. las-sim is such a standard receiver; it
// keeps scores up to 2^64-1. An empty score (an OSO result) is nil.
func integerScore(s string) (*uint64, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return nil, errors.New("score is not a non-negative integer")
	}
	return &n, nil
}

// echo is what a careless vendor's fault repeats about a toetsafname.
func (s *Sim) echo(ta uwlr.Toetsafname, key string) string {
	if !s.EchoInFaults {
		return ""
	}
	return fmt.Sprintf(" (leerlingid %s, eckid %s, %s, %s, %s; sleutel %s)", ta.Leerlingid, ta.Eckid, strings.ToUpper(ta.Eckid),
		strings.ToLower(ta.Eckid), base64.StdEncoding.EncodeToString([]byte(ta.Eckid)), strings.ToUpper(key))
}

func (s *Sim) results(sch *School, r *uwlr.LeerresultatenVerzoek, key string) (any, error) {
	toetsen := map[string]bool{}
	for _, t := range r.Toetsen.Toets {
		toetsen[strings.TrimSpace(t.Toetscode.Value)] = true
	}
	var pupilKeys, pupilEckids map[string]bool
	if sch != nil {
		pupilKeys, pupilEckids = map[string]bool{}, map[string]bool{}
		for _, l := range sch.Pupils() {
			if l.Key != "" {
				pupilKeys[l.Key] = true
			}
			if l.Eckid != "" {
				pupilEckids[l.Eckid] = true
			}
		}
	}
	line := resultLine{ReceivedAt: s.Now().UTC(), Brin: r.School.Brincode, Dependancecode: r.School.Dependancecode, Schoolkey: r.School.Schoolkey}
	keys := map[string]bool{}
	if len(r.Toetsafnames.Toetsafname) == 0 {
		return nil, soap.NewFault(soap.CodeOngeldigBericht, "no toetsafname")
	}
	for i, ta := range r.Toetsafnames.Toetsafname {
		if pupilKeys != nil && !pupilKeys[ta.Leerlingid] && !(ta.Eckid != "" && pupilEckids[ta.Eckid]) {
			return nil, soap.NewFault(soap.CodeLeerlingOngeldig, fmt.Sprintf("toetsafname %d: unknown pupil", i+1)+s.echo(ta, key))
		}
		if len(ta.Resultaten) == 0 {
			return nil, soap.NewFault(soap.CodeOngeldigBericht, fmt.Sprintf("toetsafname %d has no resultaat", i+1))
		}
		for _, res := range ta.Resultaten {
			switch {
			case res.Key == "":
				return nil, soap.NewFault(soap.CodeOngeldigBericht, "resultaat without key")
			case keys[res.Key]:
				return nil, soap.NewFault(soap.CodeOngeldigBericht, fmt.Sprintf("resultaat key %q used twice", res.Key))
			case !toetsen[res.Toetscode]:
				return nil, soap.NewFault(soap.CodeOngeldigBericht, fmt.Sprintf("toetscode %q not defined in toetsen", res.Toetscode))
			case res.Score == "" && res.Osoresultaat == nil:
				return nil, soap.NewFault(soap.CodeScoreOngeldig, fmt.Sprintf("resultaat %q has no score", res.Key))
			case res.Score != "" && res.Osoresultaat != nil:
				return nil, soap.NewFault(soap.CodeScoreOngeldig, fmt.Sprintf("resultaat %q has both a score and an osoresultaat", res.Key))
			}
			score, err := integerScore(res.Score)
			if err != nil {
				return nil, soap.NewFault(soap.CodeScoreOngeldig, fmt.Sprintf("resultaat %q: %v", res.Key, err))
			}
			keys[res.Key] = true
			oso, _ := json.Marshal(res.Osoresultaat)
			line.Results = append(line.Results, resultLineResult{Key: res.Key, Leerlingid: ta.Leerlingid, Eckid: ta.Eckid,
				Toetscode: res.Toetscode, Toetsonderdeel: res.Toetsonderdeelcode, Afnamedatum: res.Afnamedatum,
				Score: score, OSO: res.Osoresultaat != nil,
				Digest: contentDigest(ta.Leerlingid, ta.Eckid, res.Toetscode, res.Toetsonderdeelcode, res.Afnamedatum, res.Score, string(oso))})
		}
	}
	if err := s.accept(&line); err != nil {
		return nil, err
	}
	return &uwlr.LeerresultatenBevestiging{}, nil
}

func contentDigest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// school names the school of a results line.
func (l *resultLine) school() string { return l.Brin + l.Dependancecode + l.Schoolkey }

// accept takes a validated results message in the way a receiver that
// treats resultaat/@key as the update handle does: a key seen before with
// the same content is acknowledged and listed as resent, not taken in
// again; with other content it is an update. The line is written (and
// synced) before the keys count as accepted, so a crash of las-sim never
// acknowledges what it did not log.
func (s *Sim) accept(line *resultLine) error {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.accepted == nil {
		s.accepted = map[string]map[string]string{}
	}
	seen := s.accepted[line.school()]
	fresh := line.Results[:0]
	for _, r := range line.Results {
		old, ok := seen[r.Key]
		switch {
		case ok && old == r.Digest:
			line.Resent = append(line.Resent, r.Key)
			continue
		case ok:
			r.Updated = true
		}
		fresh = append(fresh, r)
	}
	line.Results = fresh
	if s.Results != nil {
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		_, err = s.Results.Write(append(b, '\n'))
		if f, ok := s.Results.(*os.File); ok && err == nil {
			err = f.Sync()
		}
		if err != nil {
			return fmt.Errorf("results log: %w", err)
		}
	}
	if seen == nil {
		seen = map[string]string{}
		s.accepted[line.school()] = seen
	}
	for _, r := range line.Results {
		seen[r.Key] = r.Digest
	}
	s.resends += len(line.Resent)
	return nil
}

// Resends counts results acknowledged again without being taken in twice.
func (s *Sim) Resends() int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.resends
}

// LoadResults reads an earlier results log (JSONL, as written by a Sim), so
// a restarted las-sim still knows which keys it accepted. Results logged
// before las-sim kept digests count as accepted with unknown content: a
// resend of such a key is logged as an update.
func (s *Sim) LoadResults(r io.Reader) (int, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.accepted == nil {
		s.accepted = map[string]map[string]string{}
	}
	dec := json.NewDecoder(r)
	n := 0
	for {
		var line resultLine
		if err := dec.Decode(&line); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, fmt.Errorf("results log line %d: %w", n+1, err)
		}
		seen := s.accepted[line.school()]
		if seen == nil {
			seen = map[string]string{}
			s.accepted[line.school()] = seen
		}
		for _, res := range line.Results {
			seen[res.Key] = res.Digest
		}
		n++
	}
}
