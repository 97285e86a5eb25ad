package httpapi_test

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/httpapi"
)

// TestDuplicateKey: a key given twice in one object is found at any depth
// and named by its JSON pointer; the same key in different objects is not
// a duplicate.
func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		want string // "" : none
	}{
		{`{"a": 1, "b": 2}`, ""},
		{`{"a": 1, "a": 2}`, "/a"},
		{`{"a": {}, "a": 1}`, "/a"},
		{`{"a": {"b": 1, "b": 2}}`, "/a/b"},
		{`{"a": [{"k": 1}, {"k": 1, "k": 2}]}`, "/a/1/k"},
		{`[{"x": 1}, {"x": 1}]`, ""},
		{`{"a": [1, {"k": 1}], "b": {"k": 1}, "c": [[], {}]}`, ""},
		{`{"a/b~": 1, "a/b~": 2}`, "/a~1b~0"},
		{`{"a": {"b": [1, 2]}, "c": {"b": 3}, "a": 0}`, "/a"},
		{`"a"`, ""},
	} {
		got, dup := httpapi.DuplicateKey([]byte(c.body))
		if dup != (c.want != "") || got != c.want {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q", c.body, got, dup, c.want)
		}
	}
}
