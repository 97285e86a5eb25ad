package lassim_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/lassim"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

const schemaFile = "../../wsdl/Schemas/UWLR_Leerlinggegevens_v2p2.xsd"

func get(t *testing.T, e *simEnv, method, u string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestHandlerServesWSDL: ?wsdl gives the official WSDL with this endpoint as
// its address, and the XSDs it imports resolve against the same server.
func TestHandlerServesWSDL(t *testing.T) {
	e := startSim(t, lassim.Options{Seed: 1, Pupils: 10, Profile: lassim.Profiles["esis"]}, nil)
	xsd, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(e.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	importRE := regexp.MustCompile(`schemaLocation="([^"]+)"`)
	for _, tt := range []struct {
		query, service string
	}{
		{"?wsdl", "LeerlinggegevensService"},
		{"?wsdl=leerresultaten", "LeerresultatenService"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			status, h, b := get(t, e, http.MethodGet, e.endpoint+tt.query)
			doc := string(b)
			if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
				t.Fatalf("HTTP %d %s", status, h.Get("Content-Type"))
			}
			if !strings.Contains(doc, `location="`+e.endpoint+`"`) || strings.Contains(doc, "NOTDEFINEDYET") ||
				!strings.Contains(doc, `name="`+tt.service+`"`) {
				t.Fatalf("WSDL does not carry the endpoint %s as address of %s:\n%.3000s", e.endpoint, tt.service, doc)
			}
			imports := importRE.FindAllStringSubmatch(doc, -1)
			if len(imports) == 0 {
				t.Fatal("WSDL imports no schema")
			}
			for _, m := range imports {
				ref, err := url.Parse(m[1])
				if err != nil {
					t.Fatal(err)
				}
				u := base.ResolveReference(ref).String()
				if status, _, b := get(t, e, http.MethodGet, u); status != 200 || !bytes.Contains(b, []byte("<xs:schema")) {
					t.Errorf("import %s (%s): HTTP %d %.100s", m[1], u, status, b)
				}
			}
		})
	}
	for _, tt := range []struct {
		name, method, path string
		status             int
		want               []byte
	}{
		{"leerlinggegevens XSD", http.MethodGet, "/Schemas/UWLR_Leerlinggegevens_v2p2.xsd", 200, xsd},
		{"XSD below the endpoint path", http.MethodGet, "/UWLR/Schemas/UWLR_Leerlinggegevens_v2p2.xsd", 200, xsd},
		{"unknown XSD", http.MethodGet, "/Schemas/nope.xsd", 404, nil},
		{"escape from Schemas", http.MethodGet, "/Schemas/..%2Ffiles.go", 404, nil},
		{"wrong path", http.MethodPost, "/uwlr/v2", 404, nil},
		{"GET without ?wsdl", http.MethodGet, lassim.Profiles["esis"].Path, 405, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, b := get(t, e, tt.method, e.srv.URL+tt.path)
			if status != tt.status {
				t.Fatalf("HTTP %d, want %d: %.200s", status, tt.status, b)
			}
			if tt.want != nil && !bytes.Equal(b, tt.want) {
				t.Errorf("served %d bytes, differ from %s (%d bytes)", len(b), schemaFile, len(tt.want))
			}
		})
	}
}

// xmllintInvalid is xmllint's exit status for a document that does not validate.
const xmllintInvalid = 3

// TestAnswersAgainstXSD validates the body of a 50-pupil answer against the
// official schema with xmllint. The standard and ESIS profiles must be valid;
// Magister must not be: it reproduces the vendor's non-XSD element order.
func TestAnswersAgainstXSD(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint not found (%v): install libxml2-utils; the schema check never skips", err)
	}
	schema, err := filepath.Abs(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		profile string
		op      uwlr.Operation
		valid   bool
		because string // for invalid answers: what xmllint must complain about
	}{
		{"standard", uwlr.OpHaalLeerlinggegevens, true, ""},
		{"standard", uwlr.OpHaalStructuur, true, ""},
		{"esis", uwlr.OpHaalLeerlinggegevens, true, ""},
		{"somtoday", uwlr.OpHaalLeerlinggegevens, true, ""},
		{"iddink", uwlr.OpHaalLeerlinggegevens, true, ""},
		{"magister", uwlr.OpHaalLeerlinggegevens, false, "dependancecode"},
	} {
		t.Run(tt.profile+"/"+tt.op.Name, func(t *testing.T) {
			e := startSim(t, lassim.Options{Seed: 21, Pupils: 50, Profile: lassim.Profiles[tt.profile], Schooljaar: "2024-2025"}, nil)
			doc := body(t, e.raw(t, 0, tt.op))
			file := filepath.Join(t.TempDir(), "answer.xml")
			if err := os.WriteFile(file, doc, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "--noout", "--nonet", "--schema", schema, file).CombinedOutput()
			var ee *exec.ExitError
			switch {
			case err == nil:
				if !tt.valid {
					t.Fatalf("answer validates, but the %s profile must not (the check does not bite):\n%.2000s", tt.profile, doc)
				}
			case errors.As(err, &ee) && ee.ExitCode() == xmllintInvalid:
				if tt.valid {
					t.Fatalf("answer does not validate:\n%s\n%.3000s", out, doc)
				}
				if !strings.Contains(string(out), tt.because) {
					t.Fatalf("answer is invalid, but not because of %q:\n%s", tt.because, out)
				}
			default:
				t.Fatalf("xmllint failed (schema or document broken, not merely invalid): %v\n%s", err, out)
			}
		})
	}
}
