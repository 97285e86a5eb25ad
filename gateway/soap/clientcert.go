package soap

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// loadClientCert loads a PEM certificate and key, opening the key with
// passphrase when it is encrypted. Traditional OpenSSL PEM encryption
// ("Proc-Type: 4,ENCRYPTED") is supported; encrypted PKCS#8 is not in the
// standard library, so it gets an error that says how to convert it.
func loadClientCert(certFile, keyFile string, passphrase []byte) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	block, _ := pem.Decode(keyPEM)
	switch {
	case block == nil:
		return tls.Certificate{}, fmt.Errorf("%s holds no PEM key", keyFile)
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return tls.Certificate{}, fmt.Errorf("%s is an encrypted PKCS#8 key, which is not supported: convert it with `openssl pkey -in KEY -aes256 -traditional` (keeps a passphrase) or store it unencrypted with mode 0600", keyFile)
	case x509.IsEncryptedPEMBlock(block): //nolint:staticcheck // the only stdlib way to read OpenSSL-encrypted keys
		if len(passphrase) == 0 {
			return tls.Certificate{}, fmt.Errorf("%s is encrypted: a passphrase is needed", keyFile)
		}
		der, err := x509.DecryptPEMBlock(block, passphrase) //nolint:staticcheck
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return tls.Certificate{}, fmt.Errorf("%s: wrong passphrase", keyFile)
			}
			return tls.Certificate{}, fmt.Errorf("%s: %w", keyFile, err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der})
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
