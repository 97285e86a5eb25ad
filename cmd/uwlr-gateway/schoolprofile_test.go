package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSchoolAddProfile: --profile is checked against the vendor table, a
// profile gives its xsdversie, and without --profile las.xsdversie applies.
func TestSchoolAddProfile(t *testing.T) {
	t.Setenv("UWLR_LAS_XSDVERSIE", "2.1")
	e := newE2EEnv(t, "bolt")
	l := startLAS(t, "standard", 10, nil)
	keyFile := writeFile(t, "autorisatiesleutel", l.creds.Autorisatiesleutel)
	e.must(0, "keys", "generate", "--out", e.keys)
	add := func(want int, extra ...string) (string, string) {
		return e.must(want, append([]string{"school", "add", "--brin", l.creds.Brin, "--endpoint", l.endpoint,
			"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam, "--key-file", keyFile, "--json"}, extra...)...)
	}

	_, stderr := add(2, "--profile", "nope")
	if !strings.Contains(stderr, `unknown profile "nope"`) || !strings.Contains(stderr, "esis, iddink, magister, somtoday, standard") {
		t.Errorf("--profile nope: stderr %q, want the unknown name and the known ones", stderr)
	}
	// A profile that needs a header refuses the school without it, naming the flag.
	if _, stderr := add(2, "--profile", "iddink"); !strings.Contains(stderr, "--subscription-key-file") {
		t.Errorf("--profile iddink without a subscription key: stderr %q, want it to name --subscription-key-file", stderr)
	}
	subFile := writeFile(t, "subscription", "0123456789abcdef0123456789abcdef")
	for _, tt := range []struct {
		args        []string
		wantProfile string
		wantXsd     string
	}{
		{nil, "standard", "2.1"},
		{[]string{"--profile", "magister"}, "magister", "2.3"},
		{[]string{"--profile", "somtoday"}, "somtoday", "2.2"},
		{[]string{"--profile", "iddink", "--xsdversie", "2.2", "--subscription-key-file", subFile}, "iddink", "2.2"},
	} {
		out, _ := add(0, tt.args...)
		var got struct{ Profile, Xsdversie string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v in %q", tt.args, err, out)
		}
		if got.Profile != tt.wantProfile || got.Xsdversie != tt.wantXsd {
			t.Errorf("school add %v: profile %s xsdversie %s, want %s %s", tt.args, got.Profile, got.Xsdversie, tt.wantProfile, tt.wantXsd)
		}
	}
}
