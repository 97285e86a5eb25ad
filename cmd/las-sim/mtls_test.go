package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// testCA is a throw-away certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of the CA certificate
}

var serial int64

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key := newKey(t)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key signed by ca and returns their paths.
func (ca *testCA) issue(t *testing.T, dir, name string, usage x509.ExtKeyUsage, ips ...net.IP) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

// TestMTLS runs las-sim with the ESIS profile over HTTPS with a required
// client certificate, and calls it with and without one.
func TestMTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "las")
	srvCert, srvKey := ca.issue(t, dir, "server", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	cliCert, cliKey := ca.issue(t, dir, "client", x509.ExtKeyUsageClientAuth)
	stranger := newCA(t, dir, "stranger")
	strCert, strKey := stranger.issue(t, dir, "stranger-client", x509.ExtKeyUsageClientAuth)

	credsFile := filepath.Join(dir, "creds.json")
	p := startSim(t, "--profile", "esis", "--schools", "1", "--pupils", "30", "--tls-cert", srvCert, "--tls-key", srvKey,
		"--client-ca", ca.file, "--credentials-out", credsFile)
	if !regexp.MustCompile(`^https://127\.0\.0\.1:[0-9]+/UWLR/UwlrStandaard2\.2\.svc$`).MatchString(p.url) {
		t.Fatalf("listening on %q", p.url)
	}
	c := readCreds(t, credsFile, 1)[0]
	if !c.ClientCertRequired || c.Endpoint != p.url {
		t.Errorf("credentials %+v: want client_cert_required and the https endpoint", c)
	}
	jaar := gateway.SchoolYearAt(time.Now())

	for _, tt := range []struct {
		name     string
		opts     soap.TransportOptions
		wantHint string // "" means the call succeeds
	}{
		{"without client certificate", soap.TransportOptions{CAFile: ca.file}, "client certificate"},
		{"with client certificate", soap.TransportOptions{CAFile: ca.file, ClientCertFile: cliCert, ClientKeyFile: cliKey}, ""},
		{"client certificate of another CA", soap.TransportOptions{CAFile: ca.file, ClientCertFile: strCert, ClientKeyFile: strKey}, "client certificate"},
		{"server CA not trusted", soap.TransportOptions{ClientCertFile: cliCert, ClientKeyFile: cliKey}, "not trusted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Timeout = 20 * time.Second
			hc, err := soap.NewHTTPClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := soap.NewClient(hc, connFor(c, p.url)).HaalLeerlinggegevens(ctxT(t), soap.Request{Schooljaar: jaar}, soap.Handler{})
			if tt.wantHint == "" {
				if err != nil || sum.Leerlingen != 30 || sum.Vestigingen != 2 {
					t.Fatalf("got %+v, %v; want 30 pupils at 2 vestigingen", sum, err)
				}
				return
			}
			var se *soap.Error
			if !errors.As(err, &se) {
				t.Fatalf("got %+v, %v; want a *soap.Error", sum, err)
			}
			if se.Class != soap.ClassCredential || !strings.Contains(se.Hint, tt.wantHint) || se.Retryable() {
				t.Errorf("error %v, class %s, hint %q; want class credential and a hint about %q", se, se.Class, se.Hint, tt.wantHint)
			}
		})
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr.String())
	}
}
