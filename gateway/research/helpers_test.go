package research_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/research"
)

const school = gateway.SchoolID("school-0042")

// today is the export time of most tests: a Tuesday morning in Amsterdam.
var today = time.Date(2026, 3, 10, 9, 0, 0, 0, gateway.Amsterdam)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, research.KeySize) }

func study(k int, fields ...string) research.Study {
	return research.Study{
		School: school, Name: "Reading Growth 2026", Purpose: "how reading scores grow per jaargroep",
		Recipient: "Example University", Until: "2026-12-31", K: k, Fields: fields,
	}
}

// pupil is a pupil with every field set, the personal ones distinctive.
func pupil(n int, birth, gender, yearGroup string) gateway.Pupil {
	return gateway.Pupil{
		ID: gateway.PupilID(fmt.Sprintf("pid-%04d", n)), School: school,
		LASKey: fmt.Sprintf("laskey-%04d", n), EckIndex: []byte(fmt.Sprintf("eckindex-%04d", n)),
		SealedEckID: []byte(fmt.Sprintf("https://ketenid.nl/201703/sealed%04d", n)),
		LastName:    fmt.Sprintf("Achternaam%04d", n), Prefix: "van der", FirstName: fmt.Sprintf("Roepnaam%04d", n),
		GivenNames: fmt.Sprintf("Voornamen%04d", n), Initials: "Q.X.Z.", Gender: gender, BirthDate: birth,
		YearGroup: yearGroup, GroupKey: fmt.Sprintf("groupkey-%04d", n), CompositeGroupKeys: []string{fmt.Sprintf("cgroup-%04d", n)},
	}
}

func result(n int, p gateway.Pupil, test, part, date, score string) gateway.Result {
	return gateway.Result{
		Key: fmt.Sprintf("resultkey-%04d", n), School: school, Pupil: p.ID, Test: test, Part: part, Date: date,
		Score: score, Processor: fmt.Sprintf("teacher-%04d", n), Digest: fmt.Sprintf("digest-%04d", n),
	}
}

// same returns n pupils numbered from first that share birth date, gender and jaargroep.
func same(first, n int, birth, gender, yearGroup string) []gateway.Pupil {
	var ps []gateway.Pupil
	for i := range n {
		ps = append(ps, pupil(first+i, birth, gender, yearGroup))
	}
	return ps
}

func mustBuild(t *testing.T, s research.Study, k []byte, in research.Input) research.Export {
	t.Helper()
	ex, err := research.Build(s, k, in, today)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return ex
}

// table is a parsed CSV file: its header and data rows.
type table struct {
	header []string
	rows   [][]string
}

func parseCSV(t *testing.T, b []byte) table {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	if len(recs) == 0 {
		t.Fatalf("CSV has no header row")
	}
	return table{header: recs[0], rows: recs[1:]}
}

// col returns the values of column name, failing when it is missing.
func (tb table) col(t *testing.T, name string) []string {
	t.Helper()
	i := tb.index(name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, tb.header)
	}
	var out []string
	for _, r := range tb.rows {
		out = append(out, r[i])
	}
	return out
}

func (tb table) index(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	return -1
}

// writeDir writes the export's files into a fresh directory.
func writeDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func wantInvalid(t *testing.T, err error, mention string) {
	t.Helper()
	if !errors.Is(err, gateway.ErrInvalid) {
		t.Fatalf("err = %v, want an ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("err = %q, want it to mention %q", err, mention)
	}
}
