package e2e_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// xmlsec1 verifies a signed document with the gateway's certificate.
func xmlsec1(t *testing.T, cert, idAttr, file string) (bool, string) {
	t.Helper()
	out, err := exec.Command("xmlsec1", "--verify", "--pubkey-cert-pem", cert, "--enabled-key-data", "rsa",
		"--id-attr:ID", idAttr, file).CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("xmlsec1 (Debian package xmlsec1) is needed: %v", err)
	}
	return err == nil, string(out)
}

// TestEvidenceWithXmlsec1: the evidence of a real delivery, and a school's
// audit export, verify with xmlsec1 (an independent XML-DSig
// implementation); tampered and signature-wrapped copies fail both xmlsec1
// (where it can tell) and `evidence verify`.
func TestEvidenceWithXmlsec1(t *testing.T) {
	dir := t.TempDir()
	s := startSim(t, dir, "--pupils", "30")
	g := newGateway(t, "bolt", s, "")
	g.submit(60)
	g.must("deliver")
	var st struct {
		Receipts []struct {
			Batch    string `json:"batch"`
			Evidence string `json:"evidence"`
		} `json:"receipts"`
	}
	if err := json.Unmarshal([]byte(g.must("results", "status", "--school", g.school, "--json")), &st); err != nil || len(st.Receipts) == 0 {
		t.Fatalf("results status: %v", err)
	}
	batch := st.Receipts[0].Batch
	ev, cert := filepath.Join(dir, "evidence.xml"), filepath.Join(dir, "cert.pem")
	g.must("evidence", "show", "--delivery", batch, "--out", ev)
	g.must("evidence", "cert", "--out", cert)
	const evidenceID = "urn:uwlr-gateway:evidence:1:Evidence"
	if ok, out := xmlsec1(t, cert, evidenceID, ev); !ok {
		t.Fatalf("xmlsec1 rejects our evidence:\n%s", out)
	}
	if out := g.must("evidence", "verify", "--file", ev); !strings.Contains(out, "OK ") {
		t.Fatalf("evidence verify --file: %s", out)
	}
	doc, err := os.ReadFile(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("sealed:")) || bytes.Contains(doc, []byte("https://ketenid.nl/")) ||
		bytes.Contains(doc, []byte(s.creds.Autorisatiesleutel)) {
		t.Fatal("the evidence holds a plain ECK iD or the autorisatiesleutel, or no sealed ECK iD")
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A score changed after signing.
	score := regexp.MustCompile(`<score>(\d+)</score>`)
	m := score.FindSubmatchIndex(doc)
	if m == nil {
		t.Fatal("no score in the evidence")
	}
	tampered := append(append(append([]byte{}, doc[:m[2]]...), []byte("99")...), doc[m[3]:]...)
	if bytes.Equal(tampered, doc) {
		tampered = bytes.Replace(doc, []byte("<score>"), []byte("<score>1"), 1)
	}
	tf := write("tampered.xml", tampered)
	if ok, _ := xmlsec1(t, cert, evidenceID, tf); ok {
		t.Error("xmlsec1 accepts evidence with a changed score")
	}
	if code, out, _ := g.run("evidence", "verify", "--file", tf); code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("evidence verify of a changed score: exit %d, %s", code, out)
	}
	// Signature wrapping: a second, unsigned Evidence element with the same
	// ID, carrying forged content, next to the signed one.
	idm := regexp.MustCompile(`<ev:Evidence [^>]*ID="([^"]+)"`).FindSubmatch(doc)
	if idm == nil {
		t.Fatalf("no Evidence ID in:\n%.400s", doc)
	}
	forged := `<ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ev:Evidence xmlns:ev="urn:uwlr-gateway:evidence:1" ID="` +
		string(idm[1]) + `"><ev:Request>forged</ev:Request></ev:Evidence></ds:Object>`
	i := bytes.LastIndex(doc, []byte("</ev:Evidence>"))
	wrapped := append(append(append([]byte{}, doc[:i]...), []byte(forged)...), doc[i:]...)
	wf := write("wrapped.xml", wrapped)
	if ok, out := xmlsec1(t, cert, evidenceID, wf); ok {
		t.Errorf("xmlsec1 accepts the wrapped document:\n%s", out)
	}
	if code, out, _ := g.run("evidence", "verify", "--file", wf); code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("evidence verify of a wrapped document: exit %d, %s", code, out)
	}

	// The DPO's audit export: signed, verifiable with xmlsec1, tamper-evident.
	ax := filepath.Join(dir, "audit.xml")
	g.must("audit", "export", "--school", g.school, "--out", ax)
	const exportID = "urn:uwlr-gateway:evidence:1:AuditExport"
	if ok, out := xmlsec1(t, cert, exportID, ax); !ok {
		t.Fatalf("xmlsec1 rejects the audit export:\n%s", out)
	}
	adoc, _ := os.ReadFile(ax)
	for _, want := range []string{"results.submit", "decrypt", "delivery", "consent.change", "sync"} {
		if !bytes.Contains(adoc, []byte(`"`+want+`"`)) {
			t.Errorf("audit export lacks a %s entry", want)
		}
	}
	atf := write("audit-tampered.xml", bytes.Replace(adoc, []byte(`"decrypt"`), []byte(`"login"`), 1))
	if ok, _ := xmlsec1(t, cert, exportID, atf); ok {
		t.Error("xmlsec1 accepts an audit export with an edited entry")
	}
}
