package archtest_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/uwlr-gateway/uwlr-gateway"

// rule says which of our packages and which outside modules a package may import
// directly. The standard library is always allowed.
type rule struct {
	ours    []string // package paths relative to the module ("gateway", "wsdl/uwlr")
	outside []string // module path prefixes
}

// rooms mirrors the table in docs/ARCHITECTURE.md. A package that is not
// listed fails the test, so a new room must be added here on purpose.
var rooms = map[string]rule{
	"mapping":           {ours: []string{"wsdl/uwlr", "gateway", "gateway/soap"}},
	"gateway/vault":     {ours: []string{"gateway"}},
	"gateway/consent":   {ours: []string{"gateway", "gateway/audit"}},
	"gateway/audit":     {ours: []string{"gateway"}},
	"gateway/evidence":  {ours: []string{"gateway"}, outside: []string{"github.com/russellhaering/goxmldsig", "github.com/beevik/etree"}},
	"gateway/intake":    {ours: []string{"gateway"}},
	"gateway/delivery":  {ours: []string{"gateway", "mapping", "gateway/soap", "gateway/vault", "wsdl/uwlr"}},
	"gateway/retention": {ours: []string{"gateway", "gateway/audit"}},
	"gateway/report":    {ours: []string{"gateway"}},
	"gateway/webhook":   {ours: []string{"gateway"}},
	"gateway/research":  {ours: []string{"gateway"}},
	"gateway/schedule":  {ours: []string{"gateway", "gateway/soap"}},
	"gateway/httpapi":   {ours: []string{"gateway"}, outside: []string{"github.com/prometheus/client_golang"}},
	"gateway/capture":   {ours: []string{"gateway/soap", "mapping", "wsdl/uwlr"}},
	"gateway/app": {ours: []string{"gateway", "gateway/audit", "gateway/capture", "gateway/consent", "gateway/delivery", "gateway/evidence",
		"gateway/intake", "gateway/pull", "gateway/report", "gateway/research", "gateway/retention", "gateway/schedule", "gateway/soap", "gateway/vault", "gateway/webhook",
		"gateway/store/boltstore", "gateway/store/redisstore", "gateway/conformance", "mapping", "wsdl/uwlr"}},
	"gateway/pull":             {ours: []string{"gateway", "mapping", "gateway/soap", "gateway/vault", "gateway/consent", "gateway/retention", "wsdl/uwlr"}},
	"gateway/store/storetest":  {ours: []string{"gateway", "internal/observe"}},
	"gateway/store/boltstore":  {ours: []string{"gateway"}, outside: []string{"go.etcd.io/bbolt"}},
	"gateway/store/redisstore": {ours: []string{"gateway"}, outside: []string{"github.com/redis/go-redis/v9"}},
	"gateway":                  {},
	"wsdl":                     {},
	"wsdl/uwlr":                {outside: []string{"github.com/hooklift/gowsdl/soap"}},
	"gateway/soap":             {ours: []string{"gateway", "wsdl/uwlr"}},
	"gateway/config":           {outside: []string{"github.com/spf13/viper", "github.com/go-viper/mapstructure/v2"}},
	"gateway/lassim":           {ours: []string{"gateway", "gateway/soap", "wsdl", "wsdl/uwlr"}},
	"gateway/conformance":      {ours: []string{"gateway/soap", "wsdl/uwlr"}},
	"cmd/las-sim":              {ours: []string{"gateway", "gateway/lassim"}},
	// The CLI edge: flags, printing and exit codes over the application
	// layer. It opens no store itself and never links the simulator.
	"cmd/uwlr-gateway": {ours: []string{"gateway", "gateway/app", "gateway/config", "gateway/httpapi", "gateway/soap", "gateway/conformance",
		"gateway/vault", "gateway/delivery", "gateway/intake", "gateway/pull", "gateway/retention", "gateway/schedule", "wsdl/uwlr"},
		outside: []string{"github.com/spf13/cobra"}},
	"interop":                {},
	"e2e":                    {},
	"internal/cmd/readbench": {ours: []string{"gateway/soap", "gateway/lassim", "wsdl/uwlr"}},
	"internal/cmd/syncbench": {ours: []string{"*"}},
	"internal/archtest":      {},
	"internal/teststores":    {ours: []string{"gateway", "gateway/store/boltstore", "gateway/store/redisstore"}},
	"internal/observe":       {},
}

// outsideOwners: each outside library has exactly one room that may import it.
var outsideOwners = map[string]string{
	"github.com/spf13/viper":              "gateway/config",
	"github.com/spf13/cobra":              "cmd/uwlr-gateway",
	"github.com/redis/go-redis":           "gateway/store/redisstore",
	"go.etcd.io/bbolt":                    "gateway/store/boltstore",
	"github.com/russellhaering/goxmldsig": "gateway/evidence",
	"github.com/beevik/etree":             "gateway/evidence",
	"github.com/prometheus/client_golang": "gateway/httpapi",
	"github.com/hooklift/gowsdl/soap":     "wsdl/uwlr",
}

// importers lists, for our packages that only some rooms may import, who
// may (tests aside): the HTTP edge is imported by the CLI's wiring alone
// (nothing below httpapi imports it), the stores are opened by the
// application layer alone (the CLI imports no store package), and the
// simulator is linked only by its own binary and the benchmark helpers.
var importers = map[string][]string{
	"gateway/httpapi":          {"cmd/uwlr-gateway"},
	"gateway/app":              {"cmd/uwlr-gateway"},
	"gateway/store/boltstore":  {"gateway/app", "internal/teststores", "internal/cmd/syncbench"},
	"gateway/store/redisstore": {"gateway/app", "internal/teststores", "internal/cmd/syncbench"},
	"gateway/lassim":           {"cmd/las-sim", "internal/cmd/readbench", "internal/cmd/syncbench"},
	"internal/observe":         {"gateway/store/storetest"}, // tests and the store contract tests only
}

// notLinked lists, per binary, packages it must not contain even
// indirectly (ours relative to the module, the standard library's by their
// path): the simulator and the test HTTP server stay out of the production
// binary.
var notLinked = map[string][]string{
	"cmd/uwlr-gateway": {"gateway/lassim", "net/http/httptest"},
}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func TestImportsFollowTheRooms(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", mod+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		r, ok := rooms[rel]
		if !ok {
			t.Errorf("package %s has no room in archtest (add it, and to docs/ARCHITECTURE.md)", rel)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library
			}
			if strings.HasPrefix(imp, mod+"/") {
				dep := strings.TrimPrefix(imp, mod+"/")
				if !allowed(r.ours, dep) {
					t.Errorf("%s imports %s: not allowed for this room", rel, dep)
				}
				if who, ok := importers[dep]; ok && !slices.Contains(who, rel) {
					t.Errorf("%s imports %s, which only %v may import", rel, dep, who)
				}
				continue
			}
			if !hasPrefixIn(r.outside, imp) {
				t.Errorf("%s imports outside package %s: not allowed for this room", rel, imp)
			}
			for lib, owner := range outsideOwners {
				if strings.HasPrefix(imp, lib) && owner != rel {
					t.Errorf("%s imports %s, which only %s may import", rel, imp, owner)
				}
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list found only %d packages", seen)
	}
}

func allowed(list []string, dep string) bool {
	for _, a := range list {
		if a == "*" || a == dep {
			return true
		}
	}
	return false
}

func hasPrefixIn(list []string, imp string) bool {
	for _, p := range list {
		if imp == p || strings.HasPrefix(imp, p+"/") {
			return true
		}
	}
	return false
}

func TestBinariesLeaveOut(t *testing.T) {
	for bin, banned := range notLinked {
		out, err := exec.Command("go", "list", "-deps", mod+"/"+bin).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", bin, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, mod+"/gateway") {
			t.Fatalf("go list -deps %s found only %d packages", bin, len(deps))
		}
		for _, b := range banned {
			if slices.Contains(deps, mod+"/"+b) || slices.Contains(deps, b) {
				t.Errorf("%s links %s (directly or through another package)", bin, b)
			}
		}
	}
}

// openerHolders are the only files that may obtain the vault's Opener for
// ECK iDs: the delivery use case, which hands it to the delivery worker.
// (Rewrap re-seals with Keyring.Rewrap and never sees plaintext.)
var openerHolders = []string{"gateway/app/deliver.go"}

// TestOpenerStaysInDelivery fails when any other production file asks the
// keyring for an Opener.
func TestOpenerStaysInDelivery(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files", "*.go").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	call := regexp.MustCompile(`\.Opener\(\)`)
	found := 0
	for _, f := range strings.Fields(string(out)) {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "gateway/vault/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("../..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !call.Match(b) {
			continue
		}
		found++
		if !slices.Contains(openerHolders, f) {
			t.Errorf("%s obtains the vault's ECK iD Opener; only %v may", f, openerHolders)
		}
	}
	if found == 0 {
		t.Errorf("no file obtains an Opener: the check is looking at the wrong files")
	}
}
