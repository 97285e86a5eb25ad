package retention_test

import (
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/internal/teststores"
)

// stores are the real stores every store test runs on.
var stores = teststores.All

var openBolt = teststores.Bolt

// putSchool enrols a school that is kept up to date: las_exchange granted,
// synced in January 2026 (so not stale in any test of 2026).
func putSchool(t *testing.T, st gateway.Store, id gateway.SchoolID) {
	t.Helper()
	err := st.PutSchool(t.Context(), gateway.School{ID: id, Brin: string(id[:4]), Dependancecode: string(id[4:]),
		Endpoint: "https://las.example/" + string(id), SealedKey: []byte{1, 2, 3}, CreatedAt: at(2020, 1, 1, 0, 0),
		LastPulledAt: at(2026, 1, 10, 2, 0)})
	if err != nil {
		t.Fatalf("PutSchool %s: %v", id, err)
	}
	grant(t, st, id, true, at(2020, 1, 1, 0, 0))
}

// grant sets las_exchange of a school.
func grant(t *testing.T, st gateway.Store, id gateway.SchoolID, on bool, when time.Time) {
	t.Helper()
	if err := st.SetConsent(t.Context(), gateway.ConsentChange{School: id, Processing: gateway.ProcessingLASExchange, Old: !on, New: on, By: "cli", At: when}); err != nil {
		t.Fatal(err)
	}
}
