package evidence_test

import (
	"crypto/x509"
	"errors"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

var exportAt = time.Date(2025, 11, 5, 8, 0, 0, 0, time.UTC)

// testEntries are audit entries of school 12AB00 as a DPO export holds
// them (hashes are placeholders: this package does not check the chain).
func testEntries() []gateway.AuditEntry {
	chain := gateway.AuditChainOf("12AB00")
	return []gateway.AuditEntry{
		{Chain: chain, Seq: 1, At: time.Date(2025, 9, 1, 7, 30, 0, 0, time.UTC), Kind: gateway.AuditSchoolAdd,
			School: "12AB00", Actor: "admin:beheer", Details: map[string]string{"vendor": "magister", "endpoint_changed": "true"},
			Prev: "", Hash: "9f1c0a7e5b3d2c4f6a8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a"},
		{Chain: chain, Seq: 2, At: time.Date(2025, 9, 1, 7, 31, 12, 345678901, time.UTC), Kind: gateway.AuditConsent,
			School: "12AB00", Actor: "school-admin:12AB00/2",
			Details: map[string]string{"processing": "las_exchange", "granted": "true", "note": "regel 1\nregel 2\t<\"Zoë\" & 'co'>\r"},
			Prev:    "9f1c0a7e5b3d2c4f6a8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a", Hash: "2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d"},
		{Chain: chain, Seq: 3, At: time.Date(2025, 11, 4, 9, 15, 2, 0, time.UTC), Kind: gateway.AuditDelivery,
			School: "12AB00", Actor: "", Details: map[string]string{"batch": "b-20251104-0007", "state": "accepted", "results": "3"},
			Prev: "2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d", Hash: "7e9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a"},
		// A gateway-wide event without a school, which the caller chose to include.
		{Chain: gateway.AuditChainGateway, Seq: 41, At: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), Kind: gateway.AuditKeyRotate,
			Actor: "system", Prev: "1111111111111111111111111111111111111111111111111111111111111111", Hash: "2222222222222222222222222222222222222222222222222222222222222222"},
	}
}

func TestAuditExportRoundTrip(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.ExportAudit(k, "12AB00", exportAt, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "audit-export.golden.xml", doc)

	school, got, err := evidence.VerifyAuditExport(certs(k), doc)
	if err != nil {
		t.Fatal(err)
	}
	if school != "12AB00" {
		t.Errorf("school = %q", school)
	}
	if want := testEntries(); !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n got: %+v\nwant: %+v", got, want)
	}

	// The same export twice is the same document: the ID derives from the
	// content and RSA PKCS #1 v1.5 signatures are deterministic.
	again, err := evidence.ExportAudit(k, "12AB00", exportAt, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(doc) {
		t.Error("two exports of the same entries differ")
	}

	// An empty export is still a signed statement: "nothing happened".
	empty, err := evidence.ExportAudit(k, "12AB00", exportAt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := evidence.VerifyAuditExport(certs(k), empty); err != nil || len(got) != 0 {
		t.Errorf("empty export: %d entries, %v", len(got), err)
	}
}

func TestXmlsec1AcceptsAuditExport(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.ExportAudit(k, "12AB00", exportAt, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrExport, doc); !ok {
		t.Fatalf("xmlsec1 rejected our audit export:\n%s", out)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrExport, readFile(t, "testdata/audit-export.golden.xml")); !ok {
		t.Fatalf("xmlsec1 rejected testdata/audit-export.golden.xml:\n%s", out)
	}
}

func TestTamperedAuditExportRejected(t *testing.T) {
	k := testKey(t)
	doc, err := evidence.ExportAudit(k, "12AB00", exportAt, testEntries())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, doc []byte) []byte
	}{
		{"detail value", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `value="las_exchange"`, `value="analytics"`)
		}},
		{"entry removed", func(t *testing.T, doc []byte) []byte {
			el := regexp.MustCompile(`<ev:Entry chain="school/12AB00" seq="2".*?</ev:Entry>\n`).Find(doc)
			return replaceOnce(t, doc, string(el), "")
		}},
		{"sequence number", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `seq="3"`, `seq="4"`)
		}},
		{"export school", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `school="12AB00" created="`, `school="34CD00" created="`)
		}},
		{"attribute added to the root", func(t *testing.T, doc []byte) []byte {
			return replaceOnce(t, doc, `ev:AuditExport xmlns:ev="urn:uwlr-gateway:evidence:1" ID="`, `ev:AuditExport xmlns:ev="urn:uwlr-gateway:evidence:1" xml:lang="nl" ID="`)
		}},
		{"escaped newline in a detail made literal", func(t *testing.T, doc []byte) []byte {
			// A parser turns a literal newline in an attribute into a space.
			return replaceOnce(t, doc, `regel 1&#xA;regel 2`, "regel 1\nregel 2")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.tamper(t, doc)
			if ok, out := xmlsec1Verify(t, k, idAttrExport, bad); ok {
				t.Errorf("xmlsec1 accepted the tampered copy:\n%s", out)
			}
			if _, _, err := evidence.VerifyAuditExport(certs(k), bad); !errors.Is(err, evidence.ErrInvalidSignature) {
				t.Errorf("VerifyAuditExport = %v, want ErrInvalidSignature", err)
			}
		})
	}
	// gateway.DeliveryEvidence evidence is not an audit export, and the other way round.
	ev, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := evidence.VerifyAuditExport(certs(k), ev); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("VerifyAuditExport(delivery evidence) = %v, want ErrInvalidSignature", err)
	}
	if _, _, err := evidence.VerifyAuditExport(nil, doc); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("VerifyAuditExport(no certs) = %v, want gateway.ErrInvalid", err)
	}
	if _, _, err := evidence.VerifyAuditExport([]*x509.Certificate{otherKey(t).Certificate()}, doc); !errors.Is(err, evidence.ErrInvalidSignature) {
		t.Errorf("VerifyAuditExport(another key) = %v, want ErrInvalidSignature", err)
	}
}

func TestExportAuditRefuses(t *testing.T) {
	k := testKey(t)
	tests := []struct {
		name   string
		school gateway.SchoolID
		at     time.Time
		change func(es []gateway.AuditEntry)
	}{
		{"another school's entry", "12AB00", exportAt, func(es []gateway.AuditEntry) { es[1].School = "34CD00" }},
		{"no school", "", exportAt, func([]gateway.AuditEntry) {}},
		{"no time", "12AB00", time.Time{}, func([]gateway.AuditEntry) {}},
		{"entry without time", "12AB00", exportAt, func(es []gateway.AuditEntry) { es[0].At = time.Time{} }},
		{"control character in a detail", "12AB00", exportAt, func(es []gateway.AuditEntry) { es[0].Details["x"] = "\x1b[31m" }},
		{"invalid UTF-8 in an actor", "12AB00", exportAt, func(es []gateway.AuditEntry) { es[0].Actor = "\xff" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := testEntries()
			tt.change(es)
			if _, err := evidence.ExportAudit(k, tt.school, tt.at, es); !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("ExportAudit = %v, want gateway.ErrInvalid", err)
			}
		})
	}
}
