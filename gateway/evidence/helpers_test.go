package evidence_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ instead of comparing with them")

// The test key in testdata signs nothing but these tests' documents. A
// fixed key makes the signed goldens reproducible: RSA PKCS #1 v1.5
// signatures are deterministic.
const (
	testKeyFile  = "testdata/test-key.pem"
	testCertFile = "testdata/test-cert.pem"
)

// xmlsec1 --id-attr wants the ID-carrying element as "<namespace URI>:<local name>".
const (
	idAttrEvidence = evidence.Namespace + ":Evidence"
	idAttrExport   = evidence.Namespace + ":AuditExport"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pemBlock(t testing.TB, name, typ string) []byte {
	t.Helper()
	b, _ := pem.Decode(readFile(t, name))
	if b == nil || b.Type != typ {
		t.Fatalf("%s: no %s PEM block", name, typ)
	}
	return b.Bytes
}

// testKey is the fixed key from testdata.
func testKey(t testing.TB) *evidence.Key {
	t.Helper()
	k, err := evidence.ParseKey(pemBlock(t, testKeyFile, "PRIVATE KEY"), pemBlock(t, testCertFile, "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	otherKeyOnce sync.Once
	otherKeyVal  *evidence.Key
	otherKeyErr  error
)

// otherKey is a freshly generated key, made once per test binary.
func otherKey(t testing.TB) *evidence.Key {
	t.Helper()
	otherKeyOnce.Do(func() {
		otherKeyVal, otherKeyErr = evidence.GenerateKey(rand.Reader, time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), "someone else")
	})
	if otherKeyErr != nil {
		t.Fatal(otherKeyErr)
	}
	return otherKeyVal
}

// testDelivery is a delivery of the fixtures in testdata.
func testDelivery(t testing.TB) gateway.DeliveryEvidence {
	t.Helper()
	req := readFile(t, "testdata/request.xml")
	// The digest of the bytes on the wire; in this test the stored request
	// stands in for them.
	sum := sha256.Sum256(req)
	return gateway.DeliveryEvidence{
		ID:            "ev_b-20251104-0007_1",
		Batch:         "b-20251104-0007",
		School:        "12AB00",
		Attempt:       1,
		Endpoint:      "https://las.example.nl/uwlr/leerresultaten",
		SentAt:        time.Date(2025, 11, 4, 9, 15, 0, 123456000, time.UTC),
		AnsweredAt:    time.Date(2025, 11, 4, 9, 15, 1, 870000000, time.UTC),
		RequestSHA256: hex.EncodeToString(sum[:]),
		Request:       req,
		Response:      readFile(t, "testdata/response.xml"),
	}
}

func certs(k *evidence.Key) []*x509.Certificate { return []*x509.Certificate{k.Certificate()} }

// needTool returns the path of a command line tool; a missing tool fails
// the test (never skips it).
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed by this test and is not installed (Debian: apt-get install xmlsec1 libxml2-utils): %v", name, err)
	}
	return p
}

// xmlsec1Args is the command line that verifies our documents, as the
// README documents it: the pinned certificate's key, X509Data in KeyInfo
// ignored (--enabled-key-data rsa), and ID declared as the ID attribute of
// our root element.
func xmlsec1Args(certFile, idAttrNode, docFile string) []string {
	return []string{"--verify", "--pubkey-cert-pem", certFile, "--enabled-key-data", "rsa", "--id-attr:ID", idAttrNode, docFile}
}

// xmlsec1Verify runs xmlsec1 --verify on doc and reports whether it
// accepted it, with its output.
func xmlsec1Verify(t testing.TB, k *evidence.Key, idAttrNode string, doc []byte) (bool, string) {
	t.Helper()
	bin := needTool(t, "xmlsec1")
	// Not t.TempDir: xmlsec1 splits key file names at commas, and test
	// names become directory names.
	dir, err := os.MkdirTemp("", "evidence-xmlsec1-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	certFile, docFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(certFile, k.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(docFile, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, xmlsec1Args(certFile, idAttrNode, docFile)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, string(out)
	case errors.As(err, &exit):
		return false, string(out)
	default:
		t.Fatalf("run xmlsec1: %v", err)
		return false, ""
	}
}

// xmllintExcC14N returns xmllint's exclusive canonical form of doc.
func xmllintExcC14N(t testing.TB, doc []byte) []byte {
	t.Helper()
	bin := needTool(t, "xmllint")
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--exc-c14n", f).Output()
	if err != nil {
		t.Fatalf("xmllint --exc-c14n: %v", err)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\n got: %.400s", path, got)
	}
}

// replaceOnce replaces old by new in doc, failing when old does not occur
// exactly once, so a tamper case cannot silently tamper with nothing.
func replaceOnce(t testing.TB, doc []byte, old, new string) []byte {
	t.Helper()
	if n := strings.Count(string(doc), old); n != 1 {
		t.Fatalf("%q occurs %d times in the document, want 1", old, n)
	}
	return []byte(strings.Replace(string(doc), old, new, 1))
}
