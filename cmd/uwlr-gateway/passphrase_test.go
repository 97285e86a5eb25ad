package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An encrypted client key: the passphrase is checked at `school add`, stored
// sealed (never in plain text), and re-sealed by `keys rewrap`.
func TestSchoolAddClientKeyPassphrase(t *testing.T) {
	e := newE2EEnv(t, "bolt")
	l := startLAS(t, "standard", 20, nil)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gw"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert := filepath.Join(dir, "c.crt")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	kd, _ := x509.MarshalECPrivateKey(key)
	const pass = "zeer-geheime-zin-4711"
	blk, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", kd, []byte(pass), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "c.key")
	os.WriteFile(keyFile, pem.EncodeToMemory(blk), 0o600)
	e.must(0, "keys", "generate", "--out", e.keys)
	add := func(passFile string) (int, string, string) {
		return e.run("school", "add", "--brin", l.creds.Brin, "--dependancecode", l.creds.Dependancecode, "--endpoint", l.endpoint,
			"--klantcode", l.creds.Klantcode, "--klantnaam", l.creds.Klantnaam,
			"--key-file", writeFile(t, "k", l.creds.Autorisatiesleutel),
			"--client-cert", cert, "--client-key", keyFile, "--client-key-passphrase-file", passFile)
	}
	if code, out, errOut := add(writeFile(t, "wrong", "fout")); code != 2 || !strings.Contains(out+errOut, "wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d, %q %q", code, out, errOut)
	}
	if out, _ := e.must(0, "school", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a rejected school was stored: %s", out)
	}
	if code, out, errOut := add(writeFile(t, "pass", pass+"\n")); code != 0 {
		t.Fatalf("school add: exit %d, %q %q", code, out, errOut)
	}
	out, _ := e.must(0, "keys", "rotate")
	if !strings.Contains(out, "term 2") {
		t.Fatalf("rotate: %q", out)
	}
	out, _ = e.must(0, "keys", "rewrap")
	if !strings.Contains(out, "re-sealed 2 values") { // the autorisatiesleutel and the passphrase
		t.Errorf("rewrap: %q", out)
	}
	raw, err := os.ReadFile(filepath.Join(e.dataDir, "gateway.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), pass) || strings.Contains(string(raw), l.creds.Autorisatiesleutel) {
		t.Fatal("the store holds the passphrase or the autorisatiesleutel in plain text")
	}
}
