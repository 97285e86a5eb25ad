package soap

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// TransportOptions configure the HTTP client for one LAS connection.
type TransportOptions struct {
	ClientCertFile string // PEM client certificate for mTLS (ESIS)
	ClientKeyFile  string // PEM private key for ClientCertFile
	// ClientKeyPassphrase opens a passphrase-protected ClientKeyFile
	// (traditional OpenSSL PEM encryption, e.g. `openssl rsa -aes256`).
	ClientKeyPassphrase []byte
	CAFile              string // extra PEM CA bundle to trust (private vendor CA)
	Timeout             time.Duration
	ConnectTimeout      time.Duration
}

// NewHTTPClient builds an *http.Client for a LAS: keep-alive connections
// (one TLS handshake, many calls), optional client certificate and CA.
func NewHTTPClient(o TransportOptions) (*http.Client, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.ClientCertFile != "" || o.ClientKeyFile != "" {
		cert, err := loadClientCert(o.ClientCertFile, o.ClientKeyFile, o.ClientKeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	connect := o.ConnectTimeout
	if connect == 0 {
		connect = 15 * time.Second
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: connect,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		// We ask for gzip ourselves and decode it, so the byte cap applies to
		// what we parse and Connection.DisableGzip works per connection.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
	return &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: noRedirect}, nil
}

// noRedirect is the CheckRedirect of every client that calls a LAS: a
// redirect is never followed, so the request (with the school's key in
// it) is sent to the configured endpoint only. The 3xx answer comes back
// to the caller, who reports it (redirectError).
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectError reports a 3xx answer: a request-class failure whose hint
// names only the host of the Location (its path or query may carry a
// session token), resolved against the endpoint.
func redirectError(op string, endpoint *url.URL, resp *http.Response) *Error {
	host := "an address it does not say"
	if loc, err := endpoint.Parse(resp.Header.Get("Location")); err == nil && resp.Header.Get("Location") != "" {
		host = loc.Host
	}
	return &Error{Op: op, HTTPStatus: resp.StatusCode, Class: ClassRequest,
		Message: fmt.Sprintf("%s: the LAS redirects the call; the gateway never follows a redirect", http.StatusText(resp.StatusCode)),
		Hint:    fmt.Sprintf("The LAS endpoint redirects to %s: if the vendor moved it there, enter the new endpoint (https) for this school; the request was not sent on.", host)}
}
