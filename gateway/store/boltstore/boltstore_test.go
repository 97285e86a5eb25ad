package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gateway.Store { return open(t, filepath.Join(t.TempDir(), "store.db")) })
}

// open opens the store at path and closes it when the test ends.
func open(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
