package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// The receivers' view: independent verifiers check what Client.Send puts on
// the wire, so that Sign is not only checked against Verify, its twin.
const (
	pythonVerifier = "testdata/verify.py"
	nodeDir        = "testdata/node"
	// nodeLibVersion is the standardwebhooks version pinned in
	// testdata/node/package.json.
	nodeLibVersion = "1.3.0"
)

// received is one message as a receiver got it.
type received struct {
	headers map[string]string
	body    []byte
}

// sendAndCapture sends body with a fresh secret to a real server over
// loopback and returns the secret and what the server received.
func sendAndCapture(t *testing.T, body []byte) (string, received) {
	t.Helper()
	secret, err := webhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		h := map[string]string{}
		for name := range r.Header {
			h[name] = r.Header.Get(name)
		}
		got <- received{h, b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	// The system clock: the reference library checks the timestamp against it.
	c := &webhook.Client{HTTP: srv.Client()}
	if _, err := c.Send(context.Background(), srv.URL+"/hooks", key, "ex_r-20251105-0001", body); err != nil {
		t.Fatal(err)
	}
	return secret, <-got
}

// verifierCase writes a secret, headers and body to files as a verifier
// reads them and returns their names.
func verifierFiles(t *testing.T, secret string, msg received) []string {
	t.Helper()
	dir := t.TempDir()
	h, err := json.Marshal(msg.headers)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "secret"), filepath.Join(dir, "headers.json"), filepath.Join(dir, "body")}
	for i, content := range [][]byte{[]byte(secret + "\n"), h, msg.body} {
		if err := os.WriteFile(files[i], content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// runVerifier runs a verifier command and returns its exit status; a
// status other than 0 (valid) and 1 (rejected) fails the test.
func runVerifier(t *testing.T, name string, args ...string) int {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return 1
	default:
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		return -1
	}
}

// checkVerifier runs one verifier on a message as sent, with one byte of
// the body changed, and with another secret.
func checkVerifier(t *testing.T, verify func(files []string) int) {
	t.Helper()
	body := []byte(`{"school":"12AB00","study":"leesvaardigheid","note":"Zoë\nregel 2","records":3}`)
	secret, msg := sendAndCapture(t, body)
	if string(msg.body) != string(body) {
		t.Fatalf("the server received %q", msg.body)
	}
	if got := verify(verifierFiles(t, secret, msg)); got != 0 {
		t.Errorf("the message as sent: exit %d, want 0 (valid)", got)
	}
	tampered := received{msg.headers, append([]byte{}, msg.body...)}
	tampered.body[len(body)-2] = '4' // records 3 -> 4
	if got := verify(verifierFiles(t, secret, tampered)); got != 1 {
		t.Errorf("one byte of the body changed: exit %d, want 1 (rejected)", got)
	}
	other, err := webhook.NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got := verify(verifierFiles(t, other, msg)); got != 1 {
		t.Errorf("another secret: exit %d, want 1 (rejected)", got)
	}
}

// python3 returns Debian's python3, or the first on PATH; a missing one
// fails the test.
func python3(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed by this test (the independent Standard Webhooks verifier %s) and is not installed (Debian: apt-get install python3): %v", pythonVerifier, err)
	}
	return p
}

func TestPythonVerifierAcceptsSend(t *testing.T) {
	py := python3(t)
	// The verifier itself agrees with the specification's published example.
	spec := received{map[string]string{"Webhook-Id": specID, "Webhook-Timestamp": strconv.Itoa(specTimestamp), "Webhook-Signature": specSignature}, []byte(specBody)}
	files := verifierFiles(t, specSecret, spec)
	if got := runVerifier(t, py, append([]string{pythonVerifier}, append(files, strconv.Itoa(specTimestamp))...)...); got != 0 {
		t.Fatalf("%s rejects the specification's example: exit %d", pythonVerifier, got)
	}
	checkVerifier(t, func(files []string) int {
		return runVerifier(t, py, append([]string{pythonVerifier}, files...)...)
	})
}

func TestStandardWebhooksLibraryAcceptsSend(t *testing.T) {
	node := nodeWithLibrary(t)
	checkVerifier(t, func(files []string) int {
		return runVerifier(t, node, append([]string{filepath.Join(nodeDir, "verify.js")}, files...)...)
	})
}

// nodeWithLibrary returns the path of node, installing the pinned
// standardwebhooks package into testdata/node/node_modules (git-ignored)
// with npm ci when it is not there. A missing node or npm, or a failed
// install, fails the test.
func nodeWithLibrary(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed by this test (the Standard Webhooks reference library verifies what Send posts) and is not installed (Debian: apt-get install nodejs npm): %v", err)
	}
	if installedVersion() == nodeLibVersion {
		return node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is needed to install the standardwebhooks package for this test (Debian: apt-get install npm): %v", err)
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (installs standardwebhooks %s from the npm registry): %v\n%s", nodeDir, nodeLibVersion, err, out)
	}
	if v := installedVersion(); v != nodeLibVersion {
		t.Fatalf("npm ci in %s installed standardwebhooks %q, want %s", nodeDir, v, nodeLibVersion)
	}
	return node
}

// installedVersion is the version of standardwebhooks in
// testdata/node/node_modules, or "".
func installedVersion() string {
	b, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "standardwebhooks", "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}
