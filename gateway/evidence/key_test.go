package evidence_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/evidence"
)

func TestGenerateKey(t *testing.T) {
	now := time.Date(2025, 8, 1, 12, 0, 0, 0, time.UTC)
	k, err := evidence.GenerateKey(rand.Reader, now, "uwlr-gateway evidence")
	if err != nil {
		t.Fatal(err)
	}
	c := k.Certificate()
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 3072 {
		t.Fatalf("public key %T of %d bits, want 3072-bit RSA", c.PublicKey, pub.N.BitLen())
	}
	if !c.NotBefore.Equal(now.Add(-time.Hour)) || !c.NotAfter.Equal(now.AddDate(10, 0, 0)) {
		t.Errorf("valid %v to %v, want from an hour before now for ten years", c.NotBefore, c.NotAfter)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA || len(c.ExtKeyUsage) != 0 {
		t.Errorf("key usage %v, CA %v, ext %v", c.KeyUsage, c.IsCA, c.ExtKeyUsage)
	}
	if c.Subject.CommonName != "uwlr-gateway evidence" || c.Issuer.CommonName != c.Subject.CommonName {
		t.Errorf("subject %v issuer %v", c.Subject, c.Issuer)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 127 {
		t.Errorf("serial %v", c.SerialNumber)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("certificate is not self-signed: %v", err)
	}
	if k2 := otherKey(t); k2.Certificate().SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two keys share a serial number")
	}

	// The key signs evidence that xmlsec1 and Verify accept.
	doc, err := evidence.Sign(k, testDelivery(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.Verify(certs(k), doc); err != nil {
		t.Fatal(err)
	}
	if ok, out := xmlsec1Verify(t, k, idAttrEvidence, doc); !ok {
		t.Fatalf("xmlsec1 rejected evidence signed with a new key:\n%s", out)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestGenerateKeyRefuses(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		random io.Reader
		cn     string
	}{
		{"no random source", nil, "x"},
		{"no common name", rand.Reader, ""},
		{"failing random source", failingReader{}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := evidence.GenerateKey(tt.random, now, tt.cn); err == nil {
				t.Fatalf("GenerateKey = %v, want an error", k)
			}
		})
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	k := testKey(t)
	der, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := evidence.ParseKey(der, k.Certificate().Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Certificate().Equal(k.Certificate()) || !bytes.Equal(k2.CertPEM(), k.CertPEM()) {
		t.Error("certificate changed")
	}
	// Same key, same (deterministic) signature.
	d := testDelivery(t)
	a, err := evidence.Sign(k, d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := evidence.Sign(k2, d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("a parsed key signs differently")
	}
	if !bytes.Equal(k.CertPEM(), readFile(t, testCertFile)) {
		t.Error("CertPEM differs from the PEM file it was read from")
	}
}

func TestParseKeyRefuses(t *testing.T) {
	k, other := testKey(t), otherKey(t)
	der, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKCS8PrivateKey(small)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		key, cert []byte
		kind      error // nil: any error
	}{
		{"certificate of another key", der, other.Certificate().Raw, gateway.ErrInvalid},
		{"ECDSA key", ecDER, k.Certificate().Raw, gateway.ErrInvalid},
		{"2048-bit key", smallDER, k.Certificate().Raw, gateway.ErrInvalid},
		{"key not DER", []byte("not a key"), k.Certificate().Raw, nil},
		{"certificate not DER", der, []byte("not a certificate"), nil},
		{"certificate PEM instead of DER", der, k.CertPEM(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evidence.ParseKey(tt.key, tt.cert)
			if err == nil || (tt.kind != nil && !errors.Is(err, tt.kind)) {
				t.Fatalf("ParseKey = %v, want an error of kind %v", err, tt.kind)
			}
			assertNoKeyMaterial(t, "error", err.Error())
		})
	}
}

// keySecrets are strings that would show the test key's private parts.
func keySecrets(t *testing.T) []string {
	t.Helper()
	priv := testRSAKey(t)
	der := pemBlock(t, testKeyFile, "PRIVATE KEY")
	secrets := []string{
		priv.D.String()[:40],
		hex.EncodeToString(priv.D.Bytes())[:40],
		strings.ToUpper(hex.EncodeToString(priv.D.Bytes())[:40]),
		base64.StdEncoding.EncodeToString(der)[200:260],
		hex.EncodeToString(der)[400:460],
	}
	for _, p := range priv.Primes {
		secrets = append(secrets, p.String()[:40], hex.EncodeToString(p.Bytes())[:40])
	}
	return secrets
}

func assertNoKeyMaterial(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range keySecrets(t) {
		if strings.Contains(out, s) {
			t.Fatalf("%s shows private key material: %.200s", what, out)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := testKey(t)
	const want = "evidence.Key[subject=CN=uwlr-gateway evidence (test key), not_after=2035-08-01T00:00:00Z, cert_sha256="
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		for name, v := range map[string]any{"*Key": k, "Key": *k, "exported field": struct{ K *evidence.Key }{k}} {
			out := fmt.Sprintf(verb, v)
			assertNoKeyMaterial(t, verb+" of "+name, out)
			if !strings.Contains(out, want) {
				t.Errorf("%s of %s = %q, want it to contain %q", verb, name, out, want)
			}
		}
		// fmt cannot call methods through an unexported field: it prints
		// the fields' pointers, not what they point at.
		assertNoKeyMaterial(t, verb+" of an unexported field", fmt.Sprintf(verb, struct{ k evidence.Key }{*k}))
	}
	if s := k.String(); !strings.HasPrefix(s, want) || k.GoString() != s {
		t.Errorf("String = %q, GoString = %q", s, k.GoString())
	}

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("key loaded", "key", k)
		l.Info("key loaded", "key", *k)
		l.Info("key loaded", slog.Any("key", k))
		l.Info("key loaded", "holder", struct{ K *evidence.Key }{k})
	}
	out := buf.String()
	assertNoKeyMaterial(t, "slog output", out)
	if n := strings.Count(out, "cert_sha256"); n < 6 {
		t.Errorf("slog printed the key by certificate %d times, want at least 6:\n%s", n, out)
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("slog output mentions PEM private key:\n%s", out)
	}
}
