package gateway_test

import (
	"encoding/json"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The JSON of a held diff is what `sync diff --json` prints: its names are
// a published format.
func TestHeldDiffJSON(t *testing.T) {
	d := gateway.HeldDiff{School: "12AB00", Run: "run_1", Added: 1, Changed: 1, Left: 1, Changes: []gateway.HeldChange{
		{Pupil: "p_1", LASKey: "L1", Kind: "added"},
		{Pupil: "p_2", LASKey: "L2", Kind: "changed", Fields: []string{"last_name", "group"}},
		{Pupil: "p_3", Kind: "left"},
	}}
	got, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"school":"12AB00","run":"run_1","added":1,"changed":1,"left":1,"changes":[` +
		`{"pupil":"p_1","las_key":"L1","kind":"added"},` +
		`{"pupil":"p_2","las_key":"L2","kind":"changed","fields":["last_name","group"]},` +
		`{"pupil":"p_3","kind":"left"}]}`
	if string(got) != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
}
