package research_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceNeverReadsPersonalFields is the review of what the package
// reads: no non-test file selects a pupil's or result's personal or
// identifying fields (names, LAS key, ECK iD and its index, group keys,
// result keys, processor, digest), so none can reach an export. LeftOn is
// not read either: pupils who left are exported like current ones.
func TestSourceNeverReadsPersonalFields(t *testing.T) {
	forbidden := map[string]bool{
		"SealedEckID": true, "EckIndex": true, "LASKey": true, "LastName": true, "Prefix": true,
		"FirstName": true, "GivenNames": true, "Initials": true, "GroupKey": true, "CompositeGroupKeys": true,
		"Key": true, "Processor": true, "Digest": true, "Batch": true, "LeftOn": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && forbidden[sel.Sel.Name] {
				t.Errorf("%s: reads .%s", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			if kv, ok := n.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && forbidden[id.Name] {
					t.Errorf("%s: sets %s", fset.Position(kv.Pos()), id.Name)
				}
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("checked %d files, want the package's sources", checked)
	}
}
