package main_test

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestLimits: las-sim serves through soap.NewHTTPServer and refuses a key
// from the header alone (lassim's soap.Authorizer). A gzip bomb of 65 MiB
// with a key it never issued is refused as Autorisatie ongeldig before it is
// inflated (an inflating server would call it too large), and HTTP headers
// over the cap get 431.
func TestLimits(t *testing.T) {
	credsFile := filepath.Join(t.TempDir(), "creds.json")
	p := startSim(t, "--schools", "1", "--pupils", "5", "--credentials-out", credsFile)
	c := readCreds(t, credsFile, 1)[0]

	t.Run("gzip bomb with an unknown key", func(t *testing.T) {
		auth := &uwlr.Autorisatie{Autorisatiesleutel: "nooit-uitgegeven", Klantcode: c.Klantcode, Klantnaam: c.Klantnaam}
		env, err := soap.MarshalEnvelope(auth, &uwlr.LeerresultatenVerzoek{School: uwlr.ResultatenSchool{Brincode: c.Brin}})
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.LastIndex(env, []byte("</leerresultaten_verzoek>"))
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(env[:i])
		blanks := bytes.Repeat([]byte{' '}, 1<<20)
		for range 65 {
			zw.Write(blanks)
		}
		zw.Write(env[i:])
		zw.Close()

		req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, p.url, &z)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("Content-Encoding", "gzip")
		status, body := do(t, req)
		var env2 struct {
			Fault uwlr.Fault `xml:"Body>Fault"`
		}
		if err := xml.Unmarshal(body, &env2); err != nil || status != http.StatusInternalServerError {
			t.Fatalf("status %d, %v: %s", status, err, body)
		}
		if soap.FaultCodeLocal(env2.Fault.Code) != soap.CodeAutorisatieOngeldig {
			t.Errorf("fault %q / %q, want %s", env2.Fault.Code, env2.Fault.String, soap.CodeAutorisatieOngeldig)
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, p.url, strings.NewReader("<x/>"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Pad", strings.Repeat("a", soap.DefaultMaxHeaderBytes+16<<10))
		if status, body := do(t, req); status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431: %s", status, body)
		}
	})
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
