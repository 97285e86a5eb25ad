package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// Enrolment is what enrolling a school (or changing its connection) takes.
// Secrets arrive in plain text and are sealed at once; they are never
// stored, logged or returned unsealed.
type Enrolment struct {
	Brin, Dependancecode, Schoolkey string
	// InsecureHTTP allows a plain http:// endpoint outside loopback (recorded
	// on the school's audit chain); https is required otherwise.
	InsecureHTTP bool
	// Profile is the vendor profile (default "standard").
	Profile  string
	Endpoint string
	// Klantcode and Klantnaam default to las.klantcode / las.klantnaam;
	// Xsdversie to the profile's.
	Klantcode, Klantnaam, Xsdversie string
	Gegevenssetid                   string
	// Key is the autorisatiesleutel.
	Key string
	// ClientCertFile and ClientKeyFile are PEM files for mTLS, both or
	// neither; KeyPassphrase opens an encrypted key file.
	ClientCertFile, ClientKeyFile string
	KeyPassphrase                 string
	// Secrets are the values of the headers the profile requires, by the
	// profile's field name (soap.VendorHeader.Field, e.g. subscription_key).
	Secrets map[string]string
}

// EnrolSchool enrols a school, or changes the connection of an enrolled
// one (its consent, history, data, results receiver and contact person
// stay). It returns
// the school as stored and whether it was new. Bad input is ErrInvalid.
// All optional processing stays off until the school grants it.
func (a *App) EnrolSchool(ctx context.Context, e Enrolment, by string) (gateway.School, bool, error) {
	kr, err := a.keyring()
	if err != nil {
		return gateway.School{}, false, err
	}
	s, err := a.schoolOf(e)
	if err != nil {
		return s, false, err
	}
	if s.SealedKey, err = kr.Sealer().Seal(schoolKeyPlace(s.ID), []byte(e.Key)); err != nil {
		return s, false, err
	}
	if err := a.sealSecrets(kr, &s, e.Secrets); err != nil {
		return s, false, err
	}
	if err := s.Validate(); err != nil {
		return s, false, invalid(err)
	}
	if e.KeyPassphrase != "" {
		// Prove now that it opens the key, not at the first nightly sync.
		if _, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: e.ClientCertFile, ClientKeyFile: e.ClientKeyFile,
			ClientKeyPassphrase: []byte(e.KeyPassphrase)}); err != nil {
			return s, false, invalid(err)
		}
		if s.SealedKeyPassphrase, err = kr.Sealer().Seal(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), []byte(e.KeyPassphrase)); err != nil {
			return s, false, err
		}
	}
	created := false
	stored, err := a.st.UpdateSchool(ctx, s.ID, func(old *gateway.School) error {
		s.CreatedAt, s.LastPulledAt, s.Results, s.Contact = old.CreatedAt, old.LastPulledAt, old.Results, old.Contact
		*old = s
		return nil
	})
	if errors.Is(err, gateway.ErrNotFound) {
		created, stored = true, s
		err = a.st.PutSchool(ctx, s)
	}
	if err != nil {
		return s, false, err
	}
	action := map[bool]string{true: "enrolled", false: "updated"}[created]
	if _, err := a.log.School(ctx, s.ID, gateway.AuditSchoolAdd, or(by, "cli"), map[string]string{"action": action,
		"profile": s.Vendor, "endpoint": s.Endpoint, "xsdversie": s.Xsdversie, "client_cert": fmt.Sprint(s.ClientCertFile != ""),
		"insecure_http": fmt.Sprint(e.InsecureHTTP)}); err != nil {
		return stored, created, err
	}
	return stored, created, nil
}

// schoolOf checks an enrolment and returns the school it describes, without
// secrets.
func (a *App) schoolOf(e Enrolment) (gateway.School, error) {
	prof, err := soap.LookupProfile(e.Profile)
	if err != nil {
		return gateway.School{}, invalid(err)
	}
	xsd := prof.Xsdversie
	if e.Profile == "" {
		xsd = or(a.o.LAS.Xsdversie, xsd)
	}
	xsd = or(e.Xsdversie, xsd)
	for _, h := range prof.Headers {
		if e.Secrets[h.Field] == "" {
			return gateway.School{}, invalidf("profile %s needs the %s header: give --%s", prof.Name, h.Name, h.Flag)
		}
	}
	id := gateway.SchoolIDFor(e.Brin, e.Dependancecode, e.Schoolkey)
	dep := e.Dependancecode
	if dep == "" && e.Brin != "" {
		dep = "00"
	}
	conn := soap.Connection{Endpoint: e.Endpoint, Autorisatiesleutel: e.Key, Klantcode: or(e.Klantcode, a.o.LAS.Klantcode),
		Klantnaam: or(e.Klantnaam, a.o.LAS.Klantnaam), Brincode: e.Brin, Dependancecode: dep, Schoolkey: e.Schoolkey,
		InsecureHTTP: e.InsecureHTTP}
	if err := conn.Validate(); err != nil {
		return gateway.School{}, invalid(err)
	}
	if (e.ClientCertFile == "") != (e.ClientKeyFile == "") {
		return gateway.School{}, invalidf("a client certificate and its key go together")
	}
	if e.KeyPassphrase != "" && e.ClientKeyFile == "" {
		return gateway.School{}, invalidf("a client key passphrase needs a client key")
	}
	for _, f := range []string{e.ClientCertFile, e.ClientKeyFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				return gateway.School{}, invalid(err)
			}
		}
	}
	s := gateway.School{ID: id, Brin: e.Brin, Dependancecode: dep, Schoolkey: e.Schoolkey, Vendor: prof.Name,
		Endpoint: e.Endpoint, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam, Xsdversie: xsd, Gegevenssetid: e.Gegevenssetid,
		ClientCertFile: e.ClientCertFile, ClientKeyFile: e.ClientKeyFile, CreatedAt: a.now().UTC()}
	return s, nil
}

// sealSecrets seals the header values the school's profile requires.
func (a *App) sealSecrets(kr *vault.Keyring, s *gateway.School, values map[string]string) error {
	prof, err := soap.LookupProfile(s.Vendor)
	if err != nil {
		return invalid(err)
	}
	for _, h := range prof.Headers {
		sealed, err := kr.Sealer().Seal(vault.SchoolSecret(s.ID, h.Field), []byte(values[h.Field]))
		if err != nil {
			return err
		}
		if s.SealedSecrets == nil {
			s.SealedSecrets = map[string][]byte{}
		}
		s.SealedSecrets[h.Field] = sealed
	}
	return nil
}

// RemoveSchool offboards a school: every record of it is deleted; its
// audit chain stays, with the offboarding as its last entry.
func (a *App) RemoveSchool(ctx context.Context, id gateway.SchoolID, by string) error {
	if _, err := a.school(ctx, id); err != nil {
		return err
	}
	if err := a.st.DeleteSchool(ctx, id); err != nil {
		return err
	}
	_, err := a.log.School(ctx, id, gateway.AuditSchoolRemove, or(by, "cli"), map[string]string{"action": "offboarded: every record deleted"})
	return err
}

// Schools lists the schools in scope, ordered by id.
func (a *App) Schools(ctx context.Context) ([]gateway.School, error) { return a.st.Schools(ctx) }

// School returns one school in scope (ErrNotFound: not enrolled).
func (a *App) School(ctx context.Context, id gateway.SchoolID) (gateway.School, error) {
	return a.school(ctx, id)
}
