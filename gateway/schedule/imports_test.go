package schedule_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyGatewayAndStdlib keeps the room's rule: schedule imports
// package gateway, the vendor table of gateway/soap and the standard
// library, nothing else.
func TestImportsOnlyGatewayAndStdlib(t *testing.T) {
	const gateway = "github.com/uwlr-gateway/uwlr-gateway/gateway"
	const soap = gateway + "/soap"
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path != gateway && path != soap && strings.Contains(strings.Split(path, "/")[0], ".") {
				t.Errorf("%s imports %s: schedule may import only gateway, gateway/soap and the standard library", name, path)
			}
		}
	}
}
