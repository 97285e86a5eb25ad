package lassim

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Klantcode and Klantnaam are the EA identification the simulator issues.
const (
	Klantcode = "UWLRGW"
	Klantnaam = "uwlr-gateway"
)

// Credentials is one school's entry in the credentials file.
type Credentials struct {
	Brin               string `json:"brin"`
	Dependancecode     string `json:"dependancecode"`
	Schoolkey          string `json:"schoolkey,omitempty"`
	Klantcode          string `json:"klantcode"`
	Klantnaam          string `json:"klantnaam"`
	Autorisatiesleutel string `json:"autorisatiesleutel"`
	Endpoint           string `json:"endpoint"`
	Pupils             int    `json:"pupils"`
	Profile            string `json:"profile"`
	Xsdversie          string `json:"xsdversie"`
	SubscriptionKey    string `json:"subscription_key,omitempty"` // soap.FieldSubscriptionKey
	ClientCertRequired bool   `json:"client_cert_required,omitempty"`
}

// headerValue is where the credentials keep the value of a vendor header,
// by soap.VendorHeader.Field (which is also its JSON key); nil when they
// have no such field.
func (c *Credentials) headerValue(field string) *string {
	switch field {
	case soap.FieldSubscriptionKey:
		return &c.SubscriptionKey
	}
	return nil
}

// headerValues are the school's vendor header values, by field, for
// soap.Profile.ApplyHeaders.
func (c Credentials) headerValues(p Profile) map[string]string {
	out := map[string]string{}
	for _, h := range p.Headers {
		if v := c.headerValue(h.Field); v != nil {
			out[h.Field] = *v
		}
	}
	return out
}

// School is one simulated school: its identity, credentials and data.
type School struct {
	Creds Credentials

	mu           sync.RWMutex
	info         uwlr.School
	vestigingen  []uwlr.Vestiging
	groepen      []uwlr.Groep
	comps        []uwlr.SamengesteldeGroep
	leerlingen   []uwlr.Leerling
	leerkrachten []uwlr.Leerkracht
	changedAt    time.Time // last data change
	rng          *rand.Rand
	nextPupil    int
}

// Options shape the generated world.
type Options struct {
	Seed       uint64
	Schools    int
	Pupils     int // per school
	Profile    Profile
	Schooljaar string    // the year the LAS holds data for
	Now        time.Time // creation time of the data
	Endpoint   string    // written into the credentials
}

// World is the set of simulated schools.
type World struct {
	Schools []*School
	byKey   map[string]*School
	opts    Options
}

// NewWorld generates schools deterministically from opts.Seed: the same
// seed, counts and profile give byte-identical data.
func NewWorld(opts Options) *World {
	if opts.Profile.Name == "" {
		opts.Profile = Profiles["standard"]
	}
	w := &World{byKey: map[string]*School{}, opts: opts}
	used := map[string]bool{}
	for i := 0; i < opts.Schools; i++ {
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)+1))
		s := &School{rng: rng, changedAt: opts.Now}
		brin := ""
		for brin == "" || used[brin] {
			brin = fmt.Sprintf("%02d%c%c", rng.IntN(100), brinLetters[rng.IntN(len(brinLetters))], brinLetters[rng.IntN(len(brinLetters))])
		}
		used[brin] = true
		s.Creds = Credentials{
			Brin: brin, Dependancecode: "00", Klantcode: Klantcode, Klantnaam: Klantnaam,
			Autorisatiesleutel: opts.Profile.key(rng), Endpoint: opts.Endpoint, Pupils: opts.Pupils,
			Profile: opts.Profile.Name, Xsdversie: opts.Profile.Xsdversie,
			ClientCertRequired: opts.Profile.ClientCert,
		}
		for _, h := range opts.Profile.Headers {
			v := s.Creds.headerValue(h.Field)
			if v == nil {
				panic(fmt.Sprintf("lassim: profile %s needs header field %s, which Credentials does not carry", opts.Profile.Name, h.Field))
			}
			*v = randHex(rng, 16)
		}
		s.info = uwlr.School{Schooljaar: opts.Schooljaar, Brincode: brin, Dependancecode: "00",
			Aanmaakdatum: opts.Now.UTC().Format("2006-01-02T15:04:05Z"), Auteur: "las-sim " + opts.Profile.Name,
			Xsdversie: opts.Profile.Xsdversie}
		s.generate(opts)
		w.Schools = append(w.Schools, s)
		w.byKey[s.Creds.Autorisatiesleutel] = s
	}
	return w
}

// School returns the school a key grants, if any.
func (w *World) School(key string) (*School, bool) {
	s, ok := w.byKey[key]
	return s, ok
}

// Credentials lists every school's credentials, in generation order.
func (w *World) Credentials() []Credentials {
	out := make([]Credentials, len(w.Schools))
	for i, s := range w.Schools {
		out[i] = s.Creds
	}
	return out
}

func randHex(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return hex.EncodeToString(b)
}

func (s *School) generate(o Options) {
	rng := s.rng
	p := o.Profile
	mut := o.Now.UTC().Format("2006-01-02T15:04:05Z")
	if p.Vestigingen {
		s.vestigingen = []uwlr.Vestiging{{Key: "V1", Naam: "Hoofdlocatie", Mutatiedatum: mut}, {Key: "V2", Naam: "Nevenlocatie", Mutatiedatum: mut}}
	}
	// About 25 pupils a group, jaargroep 1-8 round robin.
	nGroups := max(1, (o.Pupils+24)/25)
	for g := 0; g < nGroups; g++ {
		jg := g%8 + 1
		letter := string(rune('A' + g/8))
		s.groepen = append(s.groepen, uwlr.Groep{Key: fmt.Sprintf("G%d%s", jg, letter),
			Naam: fmt.Sprintf("Groep %d%s", jg, letter), Jaargroep: fmt.Sprint(jg), Mutatiedatum: mut})
	}
	nComps := min(len(compositeNames), max(1, o.Pupils/60))
	for c := 0; c < nComps; c++ {
		s.comps = append(s.comps, uwlr.SamengesteldeGroep{Key: fmt.Sprintf("SG%02d", c+1), Naam: compositeNames[c]})
	}
	s.leerlingen = make([]uwlr.Leerling, 0, o.Pupils)
	for i := 0; i < o.Pupils; i++ {
		s.leerlingen = append(s.leerlingen, s.newPupil(p, mut))
	}
	// One teacher per group, plus staff without groups.
	for g, gr := range s.groepen {
		t := uwlr.Leerkracht{Key: fmt.Sprintf("LK%04d", g+1), Mutatiedatum: mut}
		s.name(&t.Achternaam, &t.Voorvoegsel, &t.Roepnaam, p)
		t.Emailadres = strings.ToLower(strings.ReplaceAll(t.Roepnaam+"."+t.Achternaam, " ", "")) + "@school.example"
		t.Rol = []string{"LRK"}
		t.Groepen = &uwlr.LeerkrachtGroepen{Groep: []uwlr.LeerkrachtGroepRef{{Key: gr.Key, Rol: []string{"LRK"}}}}
		if len(s.comps) > 0 && rng.IntN(3) == 0 {
			t.Groepen.SamengesteldeGroep = []uwlr.LeerkrachtGroepRef{{Key: s.comps[rng.IntN(len(s.comps))].Key}}
		}
		if !p.TeachersWithoutEckid || rng.IntN(2) == 0 {
			t.Eckid = eckid(rng)
		}
		s.leerkrachten = append(s.leerkrachten, t)
	}
	for i, rol := range []string{"DIR", "IB", "ICT"} {
		t := uwlr.Leerkracht{Key: fmt.Sprintf("ST%02d", i+1), Rol: []string{rol}, Mutatiedatum: mut}
		s.name(&t.Achternaam, &t.Voorvoegsel, &t.Roepnaam, p)
		t.Eckid = eckid(rng)
		s.leerkrachten = append(s.leerkrachten, t)
	}
}

func (s *School) name(achternaam, voorvoegsel, roepnaam *string, p Profile) {
	rng := s.rng
	*achternaam = lastNames[rng.IntN(len(lastNames))]
	*voorvoegsel = prefixes[*achternaam]
	*roepnaam = firstNames[rng.IntN(len(firstNames))]
}

func eckid(rng *rand.Rand) string { return "https://ketenid.nl/201703/" + randHex(rng, 64) }

func (s *School) newPupil(p Profile, mut string) uwlr.Leerling {
	rng := s.rng
	s.nextPupil++
	l := uwlr.Leerling{Key: fmt.Sprintf("LL%06d", s.nextPupil), Eckid: eckid(rng), Mutatiedatum: mut}
	s.name(&l.Achternaam, &l.Voorvoegsel, &l.Roepnaam, p)
	if rng.IntN(4) == 0 {
		l.Voorletters = string([]rune(l.Roepnaam)[0]) + "."
	}
	g := s.groepen[rng.IntN(len(s.groepen))]
	l.Jaargroep = g.Jaargroep
	l.Groep = &uwlr.Ref{Key: g.Key}
	jg := int(g.Jaargroep[0] - '0')
	// Age follows the jaargroep: group 1 pupils are about 4 on 1 October.
	year := 2021 - jg
	l.Geboortedatum = fmt.Sprintf("%04d-%02d-%02d", year, rng.IntN(12)+1, rng.IntN(28)+1)
	l.Geslacht = []string{"1", "2", "1", "2", "9"}[rng.IntN(5)]
	if len(s.comps) > 0 && rng.IntN(4) == 0 {
		l.SamengesteldeGroepen = &uwlr.SamengesteldeGroepenRef{SamengesteldeGroep: []uwlr.Ref{{Key: s.comps[rng.IntN(len(s.comps))].Key}}}
	}
	if len(s.vestigingen) > 0 {
		l.Vestiging = &uwlr.Ref{Key: s.vestigingen[rng.IntN(len(s.vestigingen))].Key}
	}
	if p.EckidOnlyShare > 0 && rng.Float64() < p.EckidOnlyShare {
		l.Key = "" // UWLR 2.3: ECK iD is the identifier
	}
	if p.NoEckidShare > 0 && rng.Float64() < p.NoEckidShare {
		l.Eckid = ""
	}
	return l
}

// Churn applies n random changes (a pupil changes group, leaves, or joins)
// stamped with now, so a later laatstontvangengegevens request sees data.
func (s *School) Churn(n int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mut := now.UTC().Format("2006-01-02T15:04:05Z")
	p := Profiles[s.Creds.Profile]
	for i := 0; i < n; i++ {
		switch op := s.rng.IntN(3); {
		case op == 0 && len(s.leerlingen) > 1:
			j := s.rng.IntN(len(s.leerlingen))
			s.leerlingen = append(s.leerlingen[:j], s.leerlingen[j+1:]...)
		case op == 1:
			s.leerlingen = append(s.leerlingen, s.newPupil(p, mut))
		default:
			j := s.rng.IntN(len(s.leerlingen))
			g := s.groepen[s.rng.IntN(len(s.groepen))]
			s.leerlingen[j].Groep = &uwlr.Ref{Key: g.Key}
			s.leerlingen[j].Jaargroep = g.Jaargroep
			s.leerlingen[j].Mutatiedatum = mut
		}
	}
	if n > 0 {
		s.changedAt = now
	}
}

// ChangedAt is when the school's data last changed.
func (s *School) ChangedAt() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changedAt
}

// Pupils returns a copy of the current pupils (for tests).
func (s *School) Pupils() []uwlr.Leerling {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]uwlr.Leerling(nil), s.leerlingen...)
}

// EditPupils replaces the school's pupils with edit's result and marks the
// data changed at now (for tests and demos: a pupil leaves, gains an ECK iD,
// changes key).
func (s *School) EditPupils(now time.Time, edit func([]uwlr.Leerling) []uwlr.Leerling) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leerlingen = edit(append([]uwlr.Leerling(nil), s.leerlingen...))
	s.changedAt = now
}
