package evidence

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

const (
	// keyBits is the size of a new signing key. 3072-bit RSA gives about
	// 128-bit security (NIST SP 800-57 part 1, table 2), enough for evidence
	// that must stay convincing for years after it was made.
	keyBits = 3072
	// minParseBits is the smallest key ParseKey accepts: the size we generate.
	minParseBits = keyBits
	// certValidity is how long a new certificate is valid. The certificate is
	// self-signed and pinned by whoever verifies, so its lifetime only has to
	// outlast the retention of the evidence it signs (two years).
	certValidity = 10 // years
	// backdate lets a certificate be valid a little before it was made, so a
	// verifier whose clock runs slightly behind still accepts it.
	backdate = time.Hour
)

// Key is the gateway's evidence signing key: an RSA private key and its
// self-signed certificate. It never prints key material: every fmt verb and
// slog print only the certificate's subject, expiry and fingerprint.
type Key struct {
	priv *rsa.PrivateKey
	cert *x509.Certificate
}

// GenerateKey makes a new 3072-bit RSA key with a self-signed certificate
// for commonName, valid from an hour before now for ten years, usable for
// digital signatures only. The certificate's serial number is read from
// random. (Since Go 1.26 the RSA key itself always comes from the system's
// secure random source; random only feeds the serial number.)
func GenerateKey(random io.Reader, now time.Time, commonName string) (*Key, error) {
	if random == nil || commonName == "" {
		return nil, fmt.Errorf("evidence: generate key: %w: no random source or empty common name", gateway.ErrInvalid)
	}
	priv, err := rsa.GenerateKey(random, keyBits)
	if err != nil {
		return nil, fmt.Errorf("evidence: generate key: %w", err)
	}
	// A positive 127-bit serial: RFC 5280 asks for at most 20 octets and
	// positive; the set bit keeps it non-zero.
	var sb [16]byte
	if _, err := io.ReadFull(random, sb[:]); err != nil {
		return nil, fmt.Errorf("evidence: generate key: serial: %w", err)
	}
	sb[0] = sb[0]&0x7f | 0x40
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(sb[:]),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate).UTC().Truncate(time.Second),
		NotAfter:              now.AddDate(certValidity, 0, 0).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("evidence: generate key: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("evidence: generate key: parse certificate: %w", err)
	}
	return &Key{priv: priv, cert: cert}, nil
}

// ParseKey rebuilds a Key from a PKCS#8 DER private key (as MarshalPrivate
// returns it) and a DER certificate. It fails when the key is not RSA, is
// smaller than 3072 bits, or does not belong to the certificate.
func ParseKey(pkcs8DER, certDER []byte) (*Key, error) {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8DER)
	if err != nil {
		return nil, fmt.Errorf("evidence: parse key: private key: %w", err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("evidence: parse key: %w: private key is %T, want RSA", gateway.ErrInvalid, k)
	}
	if priv.N.BitLen() < minParseBits {
		return nil, fmt.Errorf("evidence: parse key: %w: RSA key has %d bits, want at least %d", gateway.ErrInvalid, priv.N.BitLen(), minParseBits)
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("evidence: parse key: %w: private key fails validation", gateway.ErrInvalid)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("evidence: parse key: certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(priv.Public()) {
		return nil, fmt.Errorf("evidence: parse key: %w: private key does not match certificate %s", gateway.ErrInvalid, fingerprint(cert))
	}
	return &Key{priv: priv, cert: cert}, nil
}

// MarshalPrivate returns the private key as PKCS#8 DER, for the caller to
// seal before storing it.
func (k *Key) MarshalPrivate() ([]byte, error) {
	if k == nil || k.priv == nil {
		return nil, errors.New("evidence: marshal key: no key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("evidence: marshal key: %w", err)
	}
	return der, nil
}

// Certificate returns the key's self-signed certificate: what a verifier
// pins.
func (k *Key) Certificate() *x509.Certificate { return k.cert }

// CertPEM returns the certificate in PEM form, as xmlsec1 --pubkey-cert-pem
// reads it.
func (k *Key) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
}

// String describes the key by its certificate, never by key material.
func (k Key) String() string {
	if k.cert == nil {
		return "evidence.Key[empty]"
	}
	return fmt.Sprintf("evidence.Key[subject=%s, not_after=%s, cert_sha256=%s]",
		k.cert.Subject.String(), k.cert.NotAfter.UTC().Format(time.RFC3339), fingerprint(k.cert))
}

// GoString is String, so %#v prints no key material either.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, %d...),
// so no verb reaches the fields.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue logs the key by its certificate only.
func (k Key) LogValue() slog.Value {
	if k.cert == nil {
		return slog.StringValue("evidence.Key[empty]")
	}
	return slog.GroupValue(
		slog.String("subject", k.cert.Subject.String()),
		slog.Time("not_after", k.cert.NotAfter.UTC()),
		slog.String("cert_sha256", fingerprint(k.cert)),
	)
}

// fingerprint is the first 16 hex digits of the certificate's SHA-256: a
// public name for the key.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:8])
}
