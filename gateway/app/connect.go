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

// MaxConcurrentLASReads bounds the calls to schools' LAS (pulls, checks,
// result sends) that run at once in this process, whatever the scheduler's
// per-vendor caps and the delivery workers add up to: each reads an answer
// of up to las.max_response_bytes, so memory and sockets stay bounded.
const MaxConcurrentLASReads = 8

// lasReads is the one limiter of this process: every connection built here
// shares it (a call waits for a slot, or for its context).
var lasReads = soap.NewReadLimiter(MaxConcurrentLASReads)

// baseConnection is what every connection of a school shares. The https
// rule for the endpoint (soap.Connection.Validate) was applied when it was
// enrolled (EnrolSchool, SetReceiver): a stored endpoint is called as it was
// accepted, plain http included when the operator chose --insecure-http.
func (a *App) baseConnection(s gateway.School) soap.Connection {
	return soap.Connection{Endpoint: s.Endpoint, Klantcode: s.Klantcode, Klantnaam: s.Klantnaam,
		Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey, Xsdversie: s.Xsdversie,
		Gegevenssetid: s.Gegevenssetid, QuoteSOAPAction: a.o.LAS.SOAPActionQuoted, MaxResponseBytes: a.o.LAS.MaxResponseBytes,
		DisableGzip: !a.o.LAS.AcceptGzip, UserAgent: a.o.LAS.UserAgent, Header: http.Header{},
		InsecureHTTP: true, Reads: lasReads}
}

// lasClient builds the SOAP client of a school's LAS, with the headers and
// SOAPAction quoting its vendor profile requires. The client scrubs every
// secret of the school from the LAS text of its errors.
func (a *App) lasClient(s gateway.School) (*soap.Client, error) {
	conn := a.baseConnection(s)
	sec, err := a.openSecrets(s)
	if err != nil {
		return nil, err
	}
	conn.Autorisatiesleutel, conn.Secrets = sec.key, sec.all()
	if err := a.vendorHeaders(s, sec, &conn); err != nil {
		return nil, err
	}
	hc, err := a.httpClient(s, true)
	if err != nil {
		return nil, err
	}
	return soap.NewClient(hc, conn), nil
}

// secrets are a school's secrets, opened for the one client being built.
type secrets struct {
	key        string            // the autorisatiesleutel
	resultsKey string            // the results receiver's own key, if it has one
	headers    map[string]string // vendor header values, by field
	secret     []string          // the header values that are credentials
	recipients []string          // the recipients' keys and webhook secrets
}

// all lists every secret, for the client's scrubber.
func (s secrets) all() []string {
	return append(append([]string{s.key, s.resultsKey}, s.secret...), s.recipients...)
}

// openSecrets opens every secret of a school: its autorisatiesleutel, its
// results receiver's own key and its vendor header values. Each client
// gets them all to scrub, whichever it sends: a LAS may echo any of them.
func (a *App) openSecrets(s gateway.School) (secrets, error) {
	var out secrets
	key, err := a.open(schoolKeyPlace(s.ID), s.SealedKey)
	if err != nil {
		return out, fmt.Errorf("school %s: open autorisatiesleutel: %w", s.ID, err)
	}
	out.key = string(key)
	if s.Results != nil && len(s.Results.SealedKey) > 0 {
		rk, err := a.open(vault.SchoolSecret(s.ID, fieldResultsKey), s.Results.SealedKey)
		if err != nil {
			return out, fmt.Errorf("school %s: open results receiver key: %w", s.ID, err)
		}
		out.resultsKey = string(rk)
	}
	prof, err := soap.LookupProfile(s.Vendor)
	if err != nil {
		return out, fmt.Errorf("school %s: %w", s.ID, err)
	}
	if out.recipients, err = a.recipientSecrets(s); err != nil {
		return out, err
	}
	out.headers = map[string]string{}
	for _, h := range prof.Headers {
		v, err := a.open(vault.SchoolSecret(s.ID, h.Field), s.SealedSecrets[h.Field])
		if err != nil {
			return out, fmt.Errorf("school %s: open %s: %w", s.ID, h.Field, err)
		}
		out.headers[h.Field] = string(v)
		if h.Secret {
			out.secret = append(out.secret, string(v))
		}
	}
	return out, nil
}

// recipientSecrets opens the credentials of the school's recipients, so
// that every client of the school scrubs them too: any system may echo
// any of them.
func (a *App) recipientSecrets(s gateway.School) ([]string, error) {
	var out []string
	for _, r := range s.Recipients {
		for field, sealed := range map[string][]byte{"key": r.SealedKey, "secret": r.SealedSecret} {
			if len(sealed) == 0 {
				continue
			}
			v, err := a.open(recipientPlace(s.ID, r.Name, field), sealed)
			if err != nil {
				return nil, fmt.Errorf("school %s: open the %s of recipient %s: %w", s.ID, field, r.Name, err)
			}
			out = append(out, string(v))
		}
	}
	return out, nil
}

// vendorHeaders applies the school's vendor profile: its required headers
// (values opened in sec) and its SOAPAction quoting.
func (a *App) vendorHeaders(s gateway.School, sec secrets, conn *soap.Connection) error {
	prof, err := soap.LookupProfile(s.Vendor)
	if err != nil {
		return fmt.Errorf("school %s: %w", s.ID, err)
	}
	conn.QuoteSOAPAction = conn.QuoteSOAPAction || prof.QuoteSOAPAction
	if len(prof.Headers) == 0 {
		return nil
	}
	if err := prof.ApplyHeaders(conn.Header, sec.headers); err != nil {
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
	sec, err := a.openSecrets(s)
	if err != nil {
		return nil, "", err
	}
	conn := a.baseConnection(s)
	conn.Endpoint, conn.Autorisatiesleutel, conn.QuoteSOAPAction = r.Endpoint, or(sec.resultsKey, sec.key), r.QuoteSOAPAction
	conn.Klantcode, conn.Klantnaam, conn.Xsdversie = or(r.Klantcode, s.Klantcode), or(r.Klantnaam, s.Klantnaam), or(r.Xsdversie, s.Xsdversie)
	conn.Gegevenssetid, conn.Secrets = "", sec.all()
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
