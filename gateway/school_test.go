package gateway_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// TestSchoolKeyRule: a school id and a LAS schoolkey are 1 to 64 of
// A-Z, a-z, 0-9, '.', '_' and '-', and neither "." nor ".." (they name
// directories and audit chains, and are printed). The error quotes the
// bad value so that it cannot move the cursor or forge a line.
func TestSchoolKeyRule(t *testing.T) {
	school := func(id gateway.SchoolID, key string) gateway.School {
		return gateway.School{ID: id, Schoolkey: key, Endpoint: "https://las.example/uwlr", SealedKey: []byte{1}}
	}
	for _, good := range []gateway.School{
		school("12AB00", ""),
		school("sk-1", "sk-1"),
		school("7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13", "7f3c2a90-5b1e-4d6a-9c0e-2b8f1d4e6a13"),
		school("a.b_c-D", "a.b_c-D"),
		school(gateway.SchoolID(strings.Repeat("k", 64)), strings.Repeat("k", 64)),
		{ID: "12AB01", Brin: "12AB", Dependancecode: "01", Schoolkey: "school-12AB-01", Endpoint: "https://x", SealedKey: []byte{1}},
	} {
		if err := good.Validate(); err != nil {
			t.Errorf("Validate(id %q, schoolkey %q): %v", good.ID, good.Schoolkey, err)
		}
	}
	for _, tt := range []struct {
		name string
		s    gateway.School
	}{
		{"slash in the id", school("a/b", "a/b")},
		{"dot dot", school("..", "..")},
		{"dot", school(".", ".")},
		{"dot dot in a path", school("../etc", "../etc")},
		{"ESC", school("sk\x1b[2J", "sk\x1b[2J")},
		{"newline", school("sk\nOK", "sk\nOK")},
		{"bidi override", school("sk\u202e1", "sk\u202e1")},
		{"space", school("sk 1", "sk 1")},
		{"too long", school(gateway.SchoolID(strings.Repeat("k", 65)), strings.Repeat("k", 65))},
		{"bad schoolkey beside a BRIN", gateway.School{ID: "12AB00", Brin: "12AB", Dependancecode: "00", Schoolkey: "x/../y", Endpoint: "https://x", SealedKey: []byte{1}}},
		{"bad BRIN", gateway.School{ID: "1/AB00", Brin: "1/AB", Dependancecode: "00", Endpoint: "https://x", SealedKey: []byte{1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("Validate(id %q, schoolkey %q) = %v, want ErrInvalid", tt.s.ID, tt.s.Schoolkey, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "A-Z, a-z, 0-9") {
				t.Errorf("error %q does not say what a school key may hold", msg)
			}
			if strings.ContainsAny(msg, "\x1b\n\u202e") {
				t.Errorf("error %q carries a raw control or bidi character", msg)
			}
		})
	}
	for _, tt := range []struct {
		id   gateway.SchoolID
		want bool
	}{{"12AB00", true}, {"sk-1", true}, {"..", false}, {".", false}, {"a/b", false}, {"", false}, {"a\x1b", false}} {
		if got := tt.id.Valid() == nil; got != tt.want {
			t.Errorf("SchoolID(%q).Valid() ok = %v, want %v", tt.id, got, tt.want)
		}
	}
}
