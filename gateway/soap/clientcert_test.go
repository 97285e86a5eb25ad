package soap_test

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

	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func TestClientKeyPassphrase(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "client.crt")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 producing the legacy format the loader must read
	enc, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte("geheim"), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	encFile := filepath.Join(dir, "enc.key")
	os.WriteFile(encFile, pem.EncodeToMemory(enc), 0o600)
	pkcs8File := filepath.Join(dir, "pkcs8.key")
	os.WriteFile(pkcs8File, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600)

	tests := []struct {
		name, keyFile, pass, wantErr string
	}{
		{"right passphrase", encFile, "geheim", ""},
		{"wrong passphrase", encFile, "fout", "wrong passphrase"},
		{"no passphrase", encFile, "", "passphrase is needed"},
		{"encrypted PKCS#8 explains how to convert", pkcs8File, "geheim", "openssl pkey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: certFile, ClientKeyFile: tt.keyFile, ClientKeyPassphrase: []byte(tt.pass)})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewHTTPClient: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			case err != nil && tt.pass != "" && strings.Contains(err.Error(), tt.pass):
				t.Fatalf("error leaks the passphrase: %v", err)
			}
		})
	}
}
