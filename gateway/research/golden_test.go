package research_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the bytes of one export (the three files and the
// manifest as JSON) of a small fixed population; go test -update rewrites
// them after a deliberate change.
func TestGolden(t *testing.T) {
	in := population(
		group{3, "2016-05-01", "1", "4", 2},
		group{2, "2017-09-12", "2", "3", 1},
		group{1, "2015-01-30", "2", "4", 1},
		group{1, "2010-06-01", "9", "B", 2},
	)
	in.Pupils[0].LeftOn = "2025-07-18"
	in.Results[1].Score, in.Results[1].OSO = "", &gateway.OSOResult{Score: &gateway.OSOScore{Ability: "301"}}
	in.Results[2].Test, in.Results[2].Part = `Rekenen, "midden"`, "getallen"
	ex := mustBuild(t, study(3), key(5), in)
	manifest, err := json.MarshalIndent(ex.Manifest, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{"manifest.json": append(manifest, '\n')}
	for name, b := range ex.Files {
		got[name] = b
	}
	for name, b := range got {
		path := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write the golden files)", err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s differs from %s (go test -update after a deliberate change):\n%s", name, path, b)
		}
	}
}
