package evidence_test

import (
	"crypto/x509"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

// idAttrExportEvidence is the ID-carrying element of export evidence, for
// xmlsec1 --id-attr.
const idAttrExportEvidence = evidence.Namespace + ":ExportEvidence"

// testExport is a research export of two files with its details.
func testExport() gateway.ExportEvidence {
	return gateway.ExportEvidence{
		ID:         "ex_r-20251105-0001",
		School:     "12AB00",
		Processing: gateway.ProcessingResearch,
		Recipient:  "uva-onderzoek",
		Endpoint:   "file:uva-onderzoek",
		Basis:      "Verwerkersovereenkomst UvA 2025-07, art. 3 \"onderzoek\" & <bijlage>\nregel 2",
		Records:    1234,
		SHA256:     "9f1c0a7e5b3d2c4f6a8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a",
		Files: map[string]string{
			"results.csv":      "2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d",
			"datapackage.json": "7e9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a",
		},
		Details: map[string]string{
			"study":      "leesvaardigheid-2025",
			"k":          "5",
			"suppressed": "17",
			"purpose":    "onderzoek naar leesgroei\tgroep 3-8",
		},
		CreatedAt: time.Date(2025, 11, 5, 8, 0, 0, 123000000, time.UTC),
	}
}

func TestExportEvidenceRoundTrip(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.SignExport(k, testExport())
	if err != nil {
		t.Fatal(err)
	}
	got, err := evidence.VerifyExport(certs(k), doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := testExport(); !reflect.DeepEqual(got, want) {
		t.Errorf("export\n got: %+v\nwant: %+v", got, want)
	}
	// Files before details, each sorted.
	order := regexp.MustCompile(`<ev:(File name|Detail key)="([^"]*)"`).FindAllStringSubmatch(string(doc), -1)
	var names []string
	for _, m := range order {
		names = append(names, m[2])
	}
	if want := []string{"datapackage.json", "results.csv", "k", "purpose", "study", "suppressed"}; !reflect.DeepEqual(names, want) {
		t.Errorf("children in order %q, want %q", names, want)
	}

	again, err := evidence.SignExport(k, testExport())
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(doc) {
		t.Error("two signatures of the same export differ")
	}

	// A single-file export without details and endpoint.
	e := testExport()
	e.Files, e.Details, e.Endpoint, e.Records = nil, nil, "", 0
	doc, err = evidence.SignExport(k, e)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := evidence.VerifyExport(certs(k), doc); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("minimal export: %+v, %v", got, err)
	}
}

func TestXmlsec1AcceptsExportEvidence(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.SignExport(k, testExport())
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrExportEvidence, doc); !ok {
		t.Fatalf("xmlsec1 rejected our export evidence:\n%s", out)
	}
}

// attrValue finds every attribute value of our elements in a document.
var attrValue = regexp.MustCompile(`\s([a-z][a-z0-9-]*|ID)="([^"]*)"`)

func TestTamperedExportEvidenceRejected(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.SignExport(k, testExport())
	if err != nil {
		t.Fatal(err)
	}
	type tamper struct {
		name string
		doc  []byte
	}
	var cases []tamper
	// Every attribute of every element of ours, changed one at a time.
	for _, tag := range regexp.MustCompile(`<ev:[A-Za-z]+(?:\s[^\s=]+="[^"]*")*\s*/?>`).FindAllIndex(doc, -1) {
		for _, a := range attrValue.FindAllSubmatchIndex(doc[tag[0]:tag[1]], -1) {
			start, end := tag[0]+a[4], tag[0]+a[5]
			name := string(doc[tag[0]+a[2] : tag[0]+a[3]])
			bad := append(append(append([]byte{}, doc[:start]...), []byte("X"+string(doc[start:end]))...), doc[end:]...)
			el := strings.TrimPrefix(strings.Fields(string(doc[tag[0]:tag[1]]))[0], "<ev:")
			cases = append(cases, tamper{el + " " + name, bad})
		}
	}
	if len(cases) < 9+2*2+4*2 {
		t.Fatalf("found %d attributes to tamper with", len(cases))
	}
	file := regexp.MustCompile(`<ev:File name="results.csv"[^>]*/>\n`).Find(doc)
	detail := regexp.MustCompile(`<ev:Detail key="k"[^>]*/>\n`).Find(doc)
	cases = append(cases,
		tamper{"file removed", replaceOnce(t, doc, string(file), "")},
		tamper{"detail removed", replaceOnce(t, doc, string(detail), "")},
		tamper{"detail added", replaceOnce(t, doc, string(detail), string(detail)+`<ev:Detail key="l" value="1"/>`+"\n")},
		tamper{"escaped newline in the basis made literal", replaceOnce(t, doc, `&lt;bijlage>&#xA;regel 2`, "&lt;bijlage>\nregel 2")},
	)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := evidence.VerifyExport(certs(k), tt.doc); !errors.Is(err, evidence.ErrInvalidSignature) {
				t.Errorf("VerifyExport = %v, want ErrInvalidSignature", err)
			}
			if ok, out := xmlsec1Verify(t, k, idAttrExportEvidence, tt.doc); ok {
				t.Errorf("xmlsec1 accepted the tampered copy:\n%s", out)
			}
		})
	}

	if _, err := evidence.VerifyExport([]*x509.Certificate{otherKey(t).Certificate()}, doc); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("VerifyExport(another key) = %v, want ErrInvalidSignature", err)
	}
	if _, err := evidence.VerifyExport(nil, doc); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("VerifyExport(no certs) = %v, want gateway.ErrInvalid", err)
	}
	// Export evidence is not an audit export nor delivery evidence, and the other way round.
	if _, _, err := evidence.VerifyAuditExport(certs(k), doc); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("VerifyAuditExport(export evidence) = %v, want ErrInvalidSignature", err)
	}
	if _, err := evidence.Verify(certs(k), doc); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("Verify(export evidence) = %v, want ErrInvalidSignature", err)
	}
	audit, err := evidence.ExportAudit(k, "12AB00", exportAt, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.VerifyExport(certs(k), audit); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("VerifyExport(audit export) = %v, want ErrInvalidSignature", err)
	}
}

func TestSignExportRefuses(t *testing.T) {
	k := testKey(t)
	tests := []struct {
		name   string
		change func(e *gateway.ExportEvidence)
	}{
		{"id not an NCName", func(e *gateway.ExportEvidence) { e.ID = "1ex" }},
		{"empty id", func(e *gateway.ExportEvidence) { e.ID = "" }},
		{"no school", func(e *gateway.ExportEvidence) { e.School = "" }},
		{"unknown processing", func(e *gateway.ExportEvidence) { e.Processing = "marketing" }},
		{"no processing", func(e *gateway.ExportEvidence) { e.Processing = "" }},
		{"no recipient", func(e *gateway.ExportEvidence) { e.Recipient = "" }},
		{"no basis", func(e *gateway.ExportEvidence) { e.Basis = "" }},
		{"negative records", func(e *gateway.ExportEvidence) { e.Records = -1 }},
		{"digest upper case", func(e *gateway.ExportEvidence) { e.SHA256 = strings.ToUpper(e.SHA256) }},
		{"digest short", func(e *gateway.ExportEvidence) { e.SHA256 = "abc" }},
		{"no time", func(e *gateway.ExportEvidence) { e.CreatedAt = time.Time{} }},
		{"file digest bad", func(e *gateway.ExportEvidence) { e.Files["results.csv"] = "x" }},
		{"empty file name", func(e *gateway.ExportEvidence) { e.Files[""] = e.SHA256 }},
		{"empty detail key", func(e *gateway.ExportEvidence) { e.Details[""] = "1" }},
		{"control character in a detail", func(e *gateway.ExportEvidence) { e.Details["k"] = "\x1b[31m" }},
		{"invalid UTF-8 in the recipient", func(e *gateway.ExportEvidence) { e.Recipient = "\xff" }},
		{"control character in the endpoint", func(e *gateway.ExportEvidence) { e.Endpoint = "file:\x00" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testExport()
			tt.change(&e)
			_, err := evidence.SignExport(k, e)
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("SignExport = %v, want gateway.ErrInvalid", err)
			}
			if strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "\xff") {
				t.Errorf("error echoes the bad value: %q", err)
			}
		})
	}
	if _, err := evidence.SignExport(nil, testExport()); err == nil {
		t.Error("SignExport without a key succeeded")
	}
}

// TestIsExport tells an export's evidence from a delivery's by the root.
func TestIsExport(t *testing.T) {
	k := testKey(t)
	ex, err := evidence.SignExport(k, testExport())
	if err != nil {
		t.Fatal(err)
	}
	dv, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	if !evidence.IsExport(ex) || evidence.IsExport(dv) || evidence.IsExport([]byte("not xml")) {
		t.Fatalf("IsExport: export %v, delivery %v", evidence.IsExport(ex), evidence.IsExport(dv))
	}
}
