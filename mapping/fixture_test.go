package mapping_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/mapping"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const (
	fixturePath = "../testdata/samples/TestCorrect_MagisterHelper_getResult1_leerlinggegevens_antwoord.xml"
	fixtureGold = "testdata/fixture.golden.json"
)

// mapped is the whole fixture after mapping and checking, the way a sync
// sees it. ECK iDs are not part of it.
type mapped struct {
	School          gateway.SchoolID         `json:"school"`
	Groups          []gateway.Group          `json:"groups"`
	CompositeGroups []gateway.CompositeGroup `json:"composite_groups"`
	Pupils          []gateway.Pupil          `json:"pupils"`
	Teachers        []gateway.Teacher        `json:"teachers"`
	Warnings        []string                 `json:"warnings"`
}

func mapFixture(t *testing.T) (m mapped, pupilEckids, teacherEckids []string, pupilWarnings [][]mapping.Warning) {
	t.Helper()
	f, err := os.Open(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := mapping.NewChecker("99DE00")
	// since returns the warnings the checker added since n were known.
	since := func(n int) []mapping.Warning { return slices.Clone(c.Warnings()[n:]) }
	_, err = soap.ReadLeerlinggegevens(f, soap.Handler{
		Answer: func(k soap.AnswerKind) error { c.Begin(k); return nil },
		School: func(s *uwlr.School) error {
			m.School, _ = c.School(s)
			return nil
		},
		Groep: func(g *uwlr.Groep) error {
			if gr, ok := c.Group(g); ok {
				m.Groups = append(m.Groups, gr)
			}
			return nil
		},
		SamengesteldeGroep: func(g *uwlr.SamengesteldeGroep) error {
			if cg, ok := c.CompositeGroup(g); ok {
				m.CompositeGroups = append(m.CompositeGroups, cg)
			}
			return nil
		},
		Leerling: func(l *uwlr.Leerling) error {
			n := len(c.Warnings())
			p, eckid, ok := c.Pupil(l)
			pupilWarnings = append(pupilWarnings, since(n))
			if ok {
				pupilEckids = append(pupilEckids, eckid)
				m.Pupils = append(m.Pupils, p)
			}
			return nil
		},
		Leerkracht: func(l *uwlr.Leerkracht) error {
			if te, eckid, ok := c.Teacher(l); ok {
				teacherEckids = append(teacherEckids, eckid)
				m.Teachers = append(m.Teachers, te)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Finish(); d.Count() != 0 {
		t.Errorf("%d dangling links in the fixture", d.Count())
	}
	m.Warnings = mapping.Strings(c.Warnings())
	return m, pupilEckids, teacherEckids, pupilWarnings
}

func TestFixture(t *testing.T) {
	m, pupilEckids, teacherEckids, pupilWarnings := mapFixture(t)
	if m.School != "99DE00" {
		t.Errorf("school = %q", m.School)
	}
	if len(m.Pupils) != 22 || len(m.Teachers) != 6 || len(m.Groups) != 6 || len(m.CompositeGroups) != 4 {
		t.Fatalf("got %d pupils, %d teachers, %d groups, %d composite groups",
			len(m.Pupils), len(m.Teachers), len(m.Groups), len(m.CompositeGroups))
	}
	eckWarnings := 0
	for i, p := range m.Pupils {
		url := strings.HasPrefix(pupilEckids[i], "https://ketenid.nl/")
		var warned bool
		for _, w := range pupilWarnings[i] {
			if w.Field == "@eckid" {
				warned = true
			} else {
				t.Errorf("pupil %s: unexpected warning %s", p.LASKey, w)
			}
		}
		if warned == url {
			t.Errorf("pupil %s: eckid warning = %v for a %s ECK iD", p.LASKey, warned, map[bool]string{true: "ketenid", false: "placeholder"}[url])
		}
		if warned {
			eckWarnings++
		}
		if p.LASKey == "" || p.LastName == "" || p.BirthDate != "2002-01-04" || p.YearGroup != "1" || p.GroupKey == "" || len(p.CompositeGroupKeys) == 0 {
			t.Errorf("pupil %s not fully mapped: %+v", p.LASKey, p)
		}
	}
	if eckWarnings != 20 {
		t.Errorf("%d pupils with an ECK iD warning, want 20", eckWarnings)
	}
	if p := m.Pupils[1]; p.LASKey != "L2" || p.Prefix != "" {
		t.Errorf("L2 (empty voorvoegsel): %+v", p)
	}
	if p := m.Pupils[0]; p.LASKey != "L1" || p.Prefix != "a" {
		t.Errorf("L1: %+v", p)
	}
	if p := m.Pupils[9]; p.LASKey != "L10" || strings.Join(p.CompositeGroupKeys, ",") != "H1Muziek,H1Sport" {
		t.Errorf("L10 composite groups not sorted: %q", p.CompositeGroupKeys)
	}
	if got := teacherEckids[5]; !mapping.ValidEckID(got) {
		t.Error("T6 ECK iD not returned")
	}

	// The golden file holds no ECK iD, placeholder or real.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	for _, e := range append(pupilEckids, teacherEckids...) {
		if bytes.Contains(got, []byte(e)) {
			t.Fatalf("ECK iD %.12s… in the mapped output", e)
		}
	}
	if bytes.Contains(got, []byte("ketenid.nl/2")) || bytes.Contains(got, []byte("ketenid.nl/p")) || bytes.Contains(got, []byte("eckid_")) {
		t.Fatal("ECK iD in the mapped output")
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(fixtureGold), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixtureGold, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(fixtureGold)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping/ -run TestFixture -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("mapped fixture differs from %s (run with -update if intended):\n%s", fixtureGold, got)
	}
}
