package app

import (
	"fmt"
	"net/http"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// The one place that builds a soap.Connection for a school or its results
// receiver. Secrets are opened here, for the one client being built, and
// never kept.

// fieldResultsKey is the vault field of a results receiver's own key.
const fieldResultsKey = "results_autorisatiesleutel"

// schoolKeyPlace is where a school's autorisatiesleutel is sealed.
func schoolKeyPlace(id gateway.SchoolID) vault.Place {
	return vault.SchoolSecret(id, vault.FieldAutorisatiesleutel)
}

// open opens one school secret.
func (a *App) open(place vault.Place, sealed []byte) ([]byte, error) {
	kr, err := a.keyring()
	if err != nil {
		return nil, err
	}
	return kr.SecretOpener().Open(place, sealed)
}

// baseConnection is what every connection of a school shares.
func (a *App) baseConnection(s gateway.School) soap.Connection {
	return soap.Connection{Endpoint: s.Endpoint, Klantcode: s.Klantcode, Klantnaam: s.Klantnaam,
		Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey, Xsdversie: s.Xsdversie,
		Gegevenssetid: s.Gegevenssetid, QuoteSOAPAction: a.o.LAS.SOAPActionQuoted, MaxResponseBytes: a.o.LAS.MaxResponseBytes,
		DisableGzip: !a.o.LAS.AcceptGzip, UserAgent: a.o.LAS.UserAgent, Header: http.Header{}}
}

// lasClient builds the SOAP client of a school's LAS, with the headers and
// SOAPAction quoting its vendor profile requires.
func (a *App) lasClient(s gateway.School) (*soap.Client, error) {
	conn := a.baseConnection(s)
	secret, err := a.open(schoolKeyPlace(s.ID), s.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("school %s: open autorisatiesleutel: %w", s.ID, err)
	}
	conn.Autorisatiesleutel = string(secret)
	if err := a.vendorHeaders(s, &conn); err != nil {
		return nil, err
	}
	hc, err := a.httpClient(s, true)
	if err != nil {
		return nil, err
	}
	return soap.NewClient(hc, conn), nil
}

// vendorHeaders applies the school's vendor profile: its required headers
// (values opened here) and its SOAPAction quoting.
func (a *App) vendorHeaders(s gateway.School, conn *soap.Connection) error {
	prof, err := soap.LookupProfile(s.Vendor)
	if err != nil {
		return fmt.Errorf("school %s: %w", s.ID, err)
	}
	conn.QuoteSOAPAction = conn.QuoteSOAPAction || prof.QuoteSOAPAction
	if len(prof.Headers) == 0 {
		return nil
	}
	values := map[string]string{}
	for _, h := range prof.Headers {
		v, err := a.open(vault.SchoolSecret(s.ID, h.Field), s.SealedSecrets[h.Field])
		if err != nil {
			return fmt.Errorf("school %s: open %s: %w", s.ID, h.Field, err)
		}
		values[h.Field] = string(v)
	}
	if err := prof.ApplyHeaders(conn.Header, values); err != nil {
		return fmt.Errorf("school %s: %w", s.ID, err)
	}
	return nil
}

// httpClient is the transport of a school's calls: its mTLS credentials
// when withCert (the LAS itself), none for another receiver.
func (a *App) httpClient(s gateway.School, withCert bool) (*http.Client, error) {
	if a.o.Client != nil {
		return a.o.Client, nil
	}
	t := soap.TransportOptions{Timeout: a.o.LAS.Timeout, ConnectTimeout: a.o.LAS.ConnectTimeout}
	if withCert {
		t.ClientCertFile, t.ClientKeyFile = s.ClientCertFile, s.ClientKeyFile
		if len(s.SealedKeyPassphrase) > 0 {
			pass, err := a.open(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), s.SealedKeyPassphrase)
			if err != nil {
				return nil, fmt.Errorf("school %s: open client key passphrase: %w", s.ID, err)
			}
			t.ClientKeyPassphrase = pass
		}
	}
	hc, err := soap.NewHTTPClient(t)
	if err != nil {
		return nil, fmt.Errorf("school %s: %w", s.ID, err)
	}
	return hc, nil
}

// resultsClient builds the SOAP client of a school's results receiver: its
// own profile when one is set, else the school's LAS connection. It returns
// the receiver's endpoint too (for the evidence).
func (a *App) resultsClient(s gateway.School) (*soap.Client, string, error) {
	if s.Results == nil {
		cl, err := a.lasClient(s)
		return cl, s.Endpoint, err
	}
	r := s.Results
	place, sealed := schoolKeyPlace(s.ID), s.SealedKey
	if len(r.SealedKey) > 0 {
		place, sealed = vault.SchoolSecret(s.ID, fieldResultsKey), r.SealedKey
	}
	secret, err := a.open(place, sealed)
	if err != nil {
		return nil, "", fmt.Errorf("school %s: open results receiver key: %w", s.ID, err)
	}
	conn := a.baseConnection(s)
	conn.Endpoint, conn.Autorisatiesleutel, conn.QuoteSOAPAction = r.Endpoint, string(secret), r.QuoteSOAPAction
	conn.Klantcode, conn.Klantnaam, conn.Xsdversie = or(r.Klantcode, s.Klantcode), or(r.Klantnaam, s.Klantnaam), or(r.Xsdversie, s.Xsdversie)
	conn.Gegevenssetid = ""
	hc, err := a.httpClient(s, false)
	if err != nil {
		return nil, "", err
	}
	return soap.NewClient(hc, conn), r.Endpoint, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
