package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

func schoolKeyPlace(id gateway.SchoolID) vault.Place {
	return vault.Place{Kind: "school", School: id, Field: "autorisatiesleutel"}
}

// schoolJSON is what school list/show print: never a secret.
type schoolJSON struct {
	ID             gateway.SchoolID `json:"id"`
	Brin           string           `json:"brin,omitempty"`
	Dependancecode string           `json:"dependancecode,omitempty"`
	Schoolkey      string           `json:"schoolkey,omitempty"`
	Profile        string           `json:"profile"`
	Endpoint       string           `json:"endpoint"`
	Klantcode      string           `json:"klantcode"`
	Klantnaam      string           `json:"klantnaam"`
	Xsdversie      string           `json:"xsdversie"`
	ClientCert     bool             `json:"client_cert"`
	Key            string           `json:"autorisatiesleutel"`
	LastPulledAt   *time.Time       `json:"last_pulled_at,omitempty"`
	Consent        gateway.Consent  `json:"consent,omitempty"`
	Results        *receiverJSON    `json:"results_receiver,omitempty"`
}

// receiverJSON shows a results receiver profile: never its key.
type receiverJSON struct {
	Endpoint        string `json:"endpoint"`
	Klantcode       string `json:"klantcode,omitempty"`
	Klantnaam       string `json:"klantnaam,omitempty"`
	Key             string `json:"autorisatiesleutel"`
	Xsdversie       string `json:"xsdversie,omitempty"`
	ScoreType       string `json:"score_type"`
	QuoteSOAPAction bool   `json:"quote_soapaction,omitempty"`
}

func toSchoolJSON(s gateway.School) schoolJSON {
	j := schoolJSON{ID: s.ID, Brin: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey, Profile: s.Vendor,
		Endpoint: s.Endpoint, Klantcode: s.Klantcode, Klantnaam: s.Klantnaam, Xsdversie: s.Xsdversie,
		ClientCert: s.ClientCertFile != "", Key: "sealed"}
	if !s.LastPulledAt.IsZero() {
		t := s.LastPulledAt
		j.LastPulledAt = &t
	}
	if r := s.Results; r != nil {
		key := "the school's own (sealed)"
		if len(r.SealedKey) > 0 {
			key = "sealed"
		}
		j.Results = &receiverJSON{Endpoint: r.Endpoint, Klantcode: r.Klantcode, Klantnaam: r.Klantnaam, Key: key, Xsdversie: r.Xsdversie,
			ScoreType: s.ScoreTypeOf(), QuoteSOAPAction: r.QuoteSOAPAction}
	}
	return j
}

func (a *app) schoolCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "school", Short: "Enrol, list, show and offboard schools"}
	cmd.AddCommand(a.schoolAddCommand(), a.schoolListCommand(), a.schoolShowCommand(), a.schoolRemoveCommand(), a.schoolReceiverCommand())
	return cmd
}

func (a *app) schoolAddCommand() *cobra.Command {
	var brin, dep, skey, endpoint, klantcode, klantnaam, keyFile, profile, xsd, gset, cert, key, passFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Enrol a school: its LAS endpoint and credentials (the key is sealed at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			prof, err := soap.LookupProfile(profile)
			if err != nil {
				return usageErr("--profile: %w", err)
			}
			secret, err := a.readKey(keyFile)
			if err != nil {
				return err
			}
			if xsd == "" {
				xsd = a.cfg.LAS.XSDVersie
				if profile != "" {
					xsd = prof.Xsdversie
				}
			}
			id := gateway.SchoolIDFor(brin, dep, skey)
			if dep == "" && brin != "" {
				dep = "00"
			}
			conn := soap.Connection{Endpoint: endpoint, Autorisatiesleutel: secret, Klantcode: or(klantcode, a.cfg.LAS.Klantcode),
				Klantnaam: or(klantnaam, a.cfg.LAS.Klantnaam), Brincode: brin, Dependancecode: dep, Schoolkey: skey}
			if err := conn.Validate(); err != nil {
				return usageErr("%w", err)
			}
			if (cert == "") != (key == "") {
				return usageErr("--client-cert and --client-key go together")
			}
			for _, f := range []string{cert, key} {
				if f != "" {
					if _, err := os.Stat(f); err != nil {
						return usageErr("%w", err)
					}
				}
			}
			kr, err := a.loadKeys()
			if err != nil {
				return err
			}
			sealed, err := kr.Sealer().Seal(schoolKeyPlace(id), []byte(secret))
			if err != nil {
				return err
			}
			var sealedPass []byte
			if passFile != "" {
				if key == "" {
					return usageErr("--client-key-passphrase-file needs --client-key")
				}
				pass, err := a.readKey(passFile)
				if err != nil {
					return err
				}
				// Prove now that it opens the key, not at the first nightly sync.
				if _, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: cert, ClientKeyFile: key, ClientKeyPassphrase: []byte(pass)}); err != nil {
					return usageErr("%w", err)
				}
				if sealedPass, err = kr.Sealer().Seal(vault.SchoolSecret(id, vault.FieldKeyPassphrase), []byte(pass)); err != nil {
					return err
				}
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			s := gateway.School{ID: id, Brin: brin, Dependancecode: dep, Schoolkey: skey, Vendor: or(profile, "standard"),
				Endpoint: endpoint, Klantcode: conn.Klantcode, Klantnaam: conn.Klantnaam, Xsdversie: xsd, Gegevenssetid: gset,
				SealedKey: sealed, ClientCertFile: cert, ClientKeyFile: key, SealedKeyPassphrase: sealedPass, CreatedAt: time.Now().UTC()}
			action := "enrolled"
			if old, err := st.School(ctx, id); err == nil {
				s.CreatedAt, s.LastPulledAt, s.Results = old.CreatedAt, old.LastPulledAt, old.Results
				action = "updated"
			} else if !errors.Is(err, gateway.ErrNotFound) {
				return err
			}
			if err := s.Validate(); err != nil {
				return usageErr("%w", err)
			}
			if err := st.PutSchool(ctx, s); err != nil {
				return err
			}
			if _, err := a.auditLog(st).School(ctx, s.ID, gateway.AuditSchoolAdd, "cli", map[string]string{"action": action,
				"profile": s.Vendor, "endpoint": s.Endpoint, "xsdversie": s.Xsdversie, "client_cert": fmt.Sprint(s.ClientCertFile != "")}); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, toSchoolJSON(s))
			}
			fmt.Fprintf(a.stdout, "school %s enrolled (profile %s, %s); all optional processing is off until granted with `consent set`\n", id, s.Vendor, endpoint)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&brin, "brin", "", "BRIN code, e.g. 12AB")
	f.StringVar(&dep, "dependancecode", "", "dependancecode (2 digits, default 00)")
	f.StringVar(&skey, "schoolkey", "", "schoolkey, instead of --brin")
	f.StringVar(&endpoint, "endpoint", "", "LAS SOAP endpoint URL")
	f.StringVar(&klantcode, "klantcode", "", "klantcode issued by the LAS vendor (default las.klantcode)")
	f.StringVar(&klantnaam, "klantnaam", "", "klantnaam issued by the LAS vendor (default las.klantnaam)")
	f.StringVar(&keyFile, "key-file", "", "file with the autorisatiesleutel ('-' = stdin)")
	f.StringVar(&profile, "profile", "", "vendor profile: standard|magister|esis|somtoday|iddink")
	f.StringVar(&xsd, "xsdversie", "", "UWLR version (default: the profile's)")
	f.StringVar(&gset, "gegevenssetid", "", "gegevenssetid to ask for")
	f.StringVar(&cert, "client-cert", "", "PEM client certificate for mTLS")
	f.StringVar(&key, "client-key", "", "PEM key for --client-cert")
	f.StringVar(&passFile, "client-key-passphrase-file", "", "file with the passphrase of an encrypted --client-key (sealed in the store)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) schoolListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List enrolled schools", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			schools, err := st.Schools(cmd.Context())
			if err != nil {
				return err
			}
			out := make([]schoolJSON, 0, len(schools))
			for _, s := range schools {
				out = append(out, toSchoolJSON(s))
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			for _, s := range out {
				last := "never synced"
				if s.LastPulledAt != nil {
					last = "last pulled " + s.LastPulledAt.Format(time.RFC3339)
				}
				fmt.Fprintf(a.stdout, "%-10s %-9s %s (%s)\n", s.ID, s.Profile, s.Endpoint, last)
			}
			return nil
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) schoolShowCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show one school, its consent and last sync", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			j := toSchoolJSON(s)
			if j.Consent, err = st.Consent(ctx, s.ID); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, j)
			}
			fmt.Fprintf(a.stdout, "school %s\n  profile %s, xsdversie %s\n  endpoint %s\n  klantcode %s, klantnaam %s\n  autorisatiesleutel: sealed\n",
				j.ID, j.Profile, j.Xsdversie, j.Endpoint, j.Klantcode, j.Klantnaam)
			for _, p := range gateway.Processings {
				fmt.Fprintf(a.stdout, "  consent %-12s %s\n", p, onOff(j.Consent[p]))
			}
			if r := j.Results; r != nil {
				fmt.Fprintf(a.stdout, "  results go to %s (%s scores, key: %s)\n", r.Endpoint, r.ScoreType, r.Key)
			} else {
				fmt.Fprintln(a.stdout, "  results go to the LAS endpoint above (integer scores)")
			}
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id (BRIN+dependancecode, e.g. 12AB00, or the schoolkey)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func onOff(b bool) string {
	if b {
		return "granted"
	}
	return "off"
}

func (a *app) schoolRemoveCommand() *cobra.Command {
	var id string
	var yes bool
	cmd := &cobra.Command{Use: "remove", Short: "Offboard a school: delete every record of it", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return usageErr("school remove deletes every record of %s; add --yes to confirm", id)
			}
			ctx := cmd.Context()
			st, _, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.DeleteSchool(ctx, gateway.SchoolID(id)); err != nil {
				return err
			}
			// The school's audit chain outlives it: the offboarding is its last entry.
			if _, err := a.auditLog(st).School(ctx, gateway.SchoolID(id), gateway.AuditSchoolRemove, "cli",
				map[string]string{"action": "offboarded: every record deleted"}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "school %s removed with all its records (its audit chain stays)\n", id)
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return cmd
}

func (a *app) school(ctx context.Context, st gateway.Store, id string) (gateway.School, error) {
	if id == "" {
		return gateway.School{}, usageErr("--school is required")
	}
	s, err := st.School(ctx, gateway.SchoolID(id))
	if errors.Is(err, gateway.ErrNotFound) {
		return s, &exitError{code: exitFailure, err: fmt.Errorf("school %s is not enrolled (see `school list`)", id)}
	}
	return s, err
}

// openSchool opens the store and checks that id is enrolled. The caller
// closes the store.
func (a *app) openSchool(ctx context.Context, id string) (gateway.Store, gateway.School, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, gateway.School{}, err
	}
	s, err := a.school(ctx, st, id)
	if err != nil {
		st.Close()
		return nil, gateway.School{}, err
	}
	return st, s, nil
}

// lasClient builds the SOAP client of a school; the autorisatiesleutel is
// opened here, for this call only.
func (a *app) lasClient(s gateway.School, kr *vault.Keyring) (*soap.Client, error) {
	secret, err := kr.SecretOpener().Open(schoolKeyPlace(s.ID), s.SealedKey)
	if err != nil {
		return nil, fmt.Errorf("school %s: open autorisatiesleutel: %w", s.ID, err)
	}
	conn := soap.Connection{Endpoint: s.Endpoint, Autorisatiesleutel: string(secret), Klantcode: s.Klantcode, Klantnaam: s.Klantnaam,
		Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey, Xsdversie: s.Xsdversie,
		Gegevenssetid: s.Gegevenssetid, QuoteSOAPAction: a.cfg.LAS.SOAPActionQuoted, MaxResponseBytes: a.cfg.LAS.MaxResponseBytes,
		DisableGzip: !a.cfg.LAS.AcceptGzip, UserAgent: a.cfg.LAS.UserAgent, Header: http.Header{}}
	var pass []byte
	if len(s.SealedKeyPassphrase) > 0 {
		if pass, err = kr.SecretOpener().Open(vault.SchoolSecret(s.ID, vault.FieldKeyPassphrase), s.SealedKeyPassphrase); err != nil {
			return nil, fmt.Errorf("school %s: open client key passphrase: %w", s.ID, err)
		}
	}
	hc, err := soap.NewHTTPClient(soap.TransportOptions{ClientCertFile: s.ClientCertFile, ClientKeyFile: s.ClientKeyFile,
		ClientKeyPassphrase: pass, Timeout: a.cfg.LAS.Timeout, ConnectTimeout: a.cfg.LAS.ConnectTimeout})
	if err != nil {
		return nil, fmt.Errorf("school %s: %w", s.ID, err)
	}
	return soap.NewClient(hc, conn), nil
}
