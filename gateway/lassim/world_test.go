package lassim_test

import (
	"bytes"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

var eckidRE = regexp.MustCompile(`^https://ketenid\.nl/201703/[0-9a-f]{128}$`)

// TestDeterminism: the same seed and options give identical credentials and
// byte-identical answers from two independently generated worlds; another
// seed gives other credentials and other answers.
func TestDeterminism(t *testing.T) {
	for _, name := range lassim.ProfileNames() {
		t.Run(name, func(t *testing.T) {
			prof := lassim.Profiles[name]
			opts := func(seed uint64) lassim.Options {
				// One fixed endpoint string so that the credentials can be compared.
				return lassim.Options{Seed: seed, Schools: 2, Pupils: 60, Profile: prof, Endpoint: "http://las.test" + prof.Path}
			}
			a := startSim(t, opts(42), nil)
			b := startSim(t, opts(42), nil)
			c := startSim(t, opts(43), nil)

			if !reflect.DeepEqual(a.world.Credentials(), b.world.Credentials()) {
				t.Errorf("same seed, different credentials:\n%+v\n%+v", a.world.Credentials(), b.world.Credentials())
			}
			for i, ca := range a.world.Credentials() {
				cc := c.world.Credentials()[i]
				if ca.Autorisatiesleutel == cc.Autorisatiesleutel {
					t.Errorf("school %d: seeds 42 and 43 gave the same key", i)
				}
			}
			for i := range a.world.Schools {
				for _, op := range []uwlr.Operation{uwlr.OpHaalLeerlinggegevens, uwlr.OpHaalStructuur} {
					ra, rb, rc := a.raw(t, i, op), b.raw(t, i, op), c.raw(t, i, op)
					if !bytes.Equal(ra, rb) {
						t.Errorf("school %d %s: same seed, different answers (%d vs %d bytes)", i, op.Name, len(ra), len(rb))
					}
					if bytes.Equal(ra, rc) {
						t.Errorf("school %d %s: seeds 42 and 43 gave identical answers", i, op.Name)
					}
				}
			}
		})
	}
}

// TestDataShape checks the generated schools against what a real LAS holds.
func TestDataShape(t *testing.T) {
	const schools, pupils = 3, 200
	e := startSim(t, lassim.Options{Seed: 7, Schools: schools, Pupils: pupils}, nil)
	creds := e.world.Credentials()
	if len(creds) != schools || len(e.world.Schools) != schools {
		t.Fatalf("%d credentials, %d schools, want %d", len(creds), len(e.world.Schools), schools)
	}
	brins, keys := map[string]bool{}, map[string]bool{}
	for i, c := range creds {
		if !soap.ValidBrincode(c.Brin) || c.Dependancecode != "00" {
			t.Errorf("school %d: brin %q dependancecode %q", i, c.Brin, c.Dependancecode)
		}
		if brins[c.Brin] || keys[c.Autorisatiesleutel] {
			t.Errorf("school %d: brin %q or key not unique", i, c.Brin)
		}
		brins[c.Brin], keys[c.Autorisatiesleutel] = true, true
		if len(c.Autorisatiesleutel) != 32 || c.Klantcode != lassim.Klantcode || c.Klantnaam != lassim.Klantnaam ||
			c.Pupils != pupils || c.Profile != "standard" || c.Xsdversie != "2.2" || c.Endpoint != e.endpoint {
			t.Errorf("school %d credentials = %+v", i, c)
		}
		if s, ok := e.world.School(c.Autorisatiesleutel); !ok || s != e.world.Schools[i] {
			t.Errorf("school %d: World.School(key) does not find it", i)
		}
	}
	if _, ok := e.world.School("no-such-key"); ok {
		t.Error("World.School found a school for an unknown key")
	}

	for i := range e.world.Schools {
		c := e.pull(t, i, soap.Request{})
		if len(c.sum.Warnings) != 0 {
			t.Errorf("school %d: warnings %q", i, c.sum.Warnings)
		}
		if c.sum.School.Brincode != creds[i].Brin || c.sum.School.Schooljaar != jaar {
			t.Errorf("school %d: school %+v", i, c.sum.School)
		}

		// Groups: jaargroep 1-8, about 25 pupils each, keys unique.
		groupJG := map[string]string{}
		var jgs []string
		for _, g := range c.groups {
			if groupJG[g.Key] != "" || g.Key == "" || g.Naam == "" {
				t.Errorf("school %d: bad or duplicate groep %+v", i, g)
			}
			groupJG[g.Key] = g.Jaargroep
			jgs = append(jgs, g.Jaargroep)
		}
		slices.Sort(jgs)
		if want := []string{"1", "2", "3", "4", "5", "6", "7", "8"}; !slices.Equal(jgs, want) {
			t.Errorf("school %d: jaargroepen %v, want %v", i, jgs, want)
		}
		comps := map[string]bool{}
		for _, g := range c.comps {
			if comps[g.Key] || groupJG[g.Key] != "" || g.Naam == "" {
				t.Errorf("school %d: bad or duplicate samengestelde_groep %+v", i, g)
			}
			comps[g.Key] = true
		}
		if len(comps) == 0 {
			t.Errorf("school %d: no composite groups", i)
		}

		// Pupils: the configured count, unique keys and ECK iDs, valid references.
		if len(c.pupils) != pupils || c.sum.Leerlingen != pupils || len(e.world.Schools[i].Pupils()) != pupils {
			t.Errorf("school %d: %d pupils read (summary %d, world %d), want %d",
				i, len(c.pupils), c.sum.Leerlingen, len(e.world.Schools[i].Pupils()), pupils)
		}
		pkeys, peck := map[string]bool{}, map[string]bool{}
		inComp := 0
		for _, l := range c.pupils {
			if l.Key == "" || pkeys[l.Key] {
				t.Errorf("school %d: pupil key %q empty or duplicate", i, l.Key)
			}
			pkeys[l.Key] = true
			if !eckidRE.MatchString(l.Eckid) || peck[l.Eckid] {
				t.Errorf("school %d: pupil %s eckid %q malformed or duplicate", i, l.Key, l.Eckid)
			}
			peck[l.Eckid] = true
			if l.Groep == nil || groupJG[l.Groep.Key] == "" || groupJG[l.Groep.Key] != l.Jaargroep {
				t.Errorf("school %d: pupil %s groep %+v jaargroep %q does not match a group", i, l.Key, l.Groep, l.Jaargroep)
			}
			if l.Achternaam == "" || l.Roepnaam == "" || l.Geboortedatum == "" {
				t.Errorf("school %d: pupil %s lacks a name or birth date: %+v", i, l.Key, l)
			}
			if l.SamengesteldeGroepen != nil {
				inComp++
				for _, r := range l.SamengesteldeGroepen.SamengesteldeGroep {
					if !comps[r.Key] {
						t.Errorf("school %d: pupil %s in unknown composite group %q", i, l.Key, r.Key)
					}
				}
			}
		}
		if inComp == 0 {
			t.Errorf("school %d: no pupil is in a composite group", i)
		}

		// Teachers: one LRK per group plus DIR, IB (and ICT) staff.
		roles := map[string]int{}
		tkeys := map[string]bool{}
		for _, tc := range c.teachers {
			if tc.Key == "" || tkeys[tc.Key] {
				t.Errorf("school %d: teacher key %q empty or duplicate", i, tc.Key)
			}
			tkeys[tc.Key] = true
			if !eckidRE.MatchString(tc.Eckid) {
				t.Errorf("school %d: teacher %s eckid %q malformed", i, tc.Key, tc.Eckid)
			}
			for _, r := range tc.Rol {
				roles[r]++
			}
			if slices.Contains(tc.Rol, "LRK") && (tc.Groepen == nil || len(tc.Groepen.Groep) != 1 || groupJG[tc.Groepen.Groep[0].Key] == "") {
				t.Errorf("school %d: LRK teacher %s has no valid group: %+v", i, tc.Key, tc.Groepen)
			}
		}
		if roles["LRK"] != len(c.groups) || roles["DIR"] != 1 || roles["IB"] != 1 {
			t.Errorf("school %d: roles %v, want LRK %d, DIR 1, IB 1", i, roles, len(c.groups))
		}
	}
}
