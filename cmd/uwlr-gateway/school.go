package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

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
	// Recipients receive the school's data under its other processings.
	Recipients []gateway.RecipientView `json:"recipients,omitempty"`
	// Contact is shown by `school show` only (it is personal data).
	Contact *contactJSON `json:"contact,omitempty"`
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
		ClientCert: s.ClientCertFile != "", Key: "sealed", LastPulledAt: timePtr(s.LastPulledAt)}
	if r := s.Results; r != nil {
		key := "the school's own (sealed)"
		if len(r.SealedKey) > 0 {
			key = "sealed"
		}
		j.Results = &receiverJSON{Endpoint: r.Endpoint, Klantcode: r.Klantcode, Klantnaam: r.Klantnaam, Key: key, Xsdversie: r.Xsdversie,
			ScoreType: s.ScoreTypeOf(), QuoteSOAPAction: r.QuoteSOAPAction}
	}
	for _, r := range s.Recipients {
		j.Recipients = append(j.Recipients, r.View())
	}
	return j
}

func (c *edge) schoolCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "school", Short: "Enrol, list, show and offboard schools; their results receiver and contact person"}
	cmd.AddCommand(c.schoolAddCommand(), c.schoolListCommand(), c.schoolShowCommand(), c.schoolRemoveCommand(), c.schoolReceiverCommand(),
		c.schoolContactCommand())
	return cmd
}

func (c *edge) schoolAddCommand() *cobra.Command {
	var e app.Enrolment
	var keyFile, passFile, by string
	var asJSON bool
	secretFiles := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Enrol a school: its LAS endpoint and credentials (the key is sealed at once)",
		Args:  cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			var err error
			if e.Key, err = c.readKey(keyFile); err != nil {
				return err
			}
			if passFile != "" {
				if e.KeyPassphrase, err = c.readKey(passFile); err != nil {
					return err
				}
			}
			if e.Secrets, err = c.readSecrets(secretFiles); err != nil {
				return err
			}
			s, _, err := a.EnrolSchool(ctx, e, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, toSchoolJSON(s))
			}
			fmt.Fprintf(c.stdout, "school %s enrolled (profile %s, %s); all optional processing is off until granted with `consent set`\n", safe(s.ID), safe(s.Vendor), safe(s.Endpoint))
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&e.Brin, "brin", "", "BRIN code, e.g. 12AB")
	f.StringVar(&e.Dependancecode, "dependancecode", "", "dependancecode (2 digits, default 00)")
	f.StringVar(&e.Schoolkey, "schoolkey", "", "schoolkey, instead of --brin")
	f.StringVar(&e.Endpoint, "endpoint", "", "LAS SOAP endpoint URL")
	f.StringVar(&e.Klantcode, "klantcode", "", "klantcode issued by the LAS vendor (default las.klantcode)")
	f.StringVar(&e.Klantnaam, "klantnaam", "", "klantnaam issued by the LAS vendor (default las.klantnaam)")
	f.StringVar(&keyFile, "key-file", "", "file with the autorisatiesleutel ('-' = stdin)")
	f.StringVar(&e.Xsdversie, "xsdversie", "", "UWLR version (default: the profile's)")
	f.StringVar(&e.Gegevenssetid, "gegevenssetid", "", "gegevenssetid to ask for")
	f.StringVar(&e.ClientCertFile, "client-cert", "", "PEM client certificate for mTLS")
	f.BoolVar(&e.InsecureHTTP, "insecure-http", false, "allow a plain http:// endpoint outside loopback (recorded on the school's audit chain; https is required otherwise)")
	f.StringVar(&e.ClientKeyFile, "client-key", "", "PEM key for --client-cert")
	f.StringVar(&passFile, "client-key-passphrase-file", "", "file with the passphrase of an encrypted --client-key (sealed in the store)")
	byFlag(cmd, &by)
	f.StringVar(&e.Profile, "profile", "", "vendor profile: "+strings.Join(soap.ProfileNames(), "|"))
	for _, p := range soap.Profiles() {
		for _, h := range p.Headers {
			if _, dup := secretFiles[h.Field]; !dup {
				secretFiles[h.Field] = f.String(h.Flag, "", fmt.Sprintf("file with the %s the %s profile needs ('-' = stdin; sealed in the store)", h.Name, p.Name))
			}
		}
	}
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// readSecrets reads the vendor header secrets from the files the user
// named, by field.
func (c *edge) readSecrets(files map[string]*string) (map[string]string, error) {
	out := map[string]string{}
	for field, file := range files {
		if *file == "" {
			continue
		}
		v, err := c.readKey(*file)
		if err != nil {
			return nil, err
		}
		out[field] = v
	}
	return out, nil
}

func (c *edge) schoolListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List enrolled schools", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			schools, err := a.Schools(ctx)
			if err != nil {
				return err
			}
			out := make([]schoolJSON, 0, len(schools))
			for _, s := range schools {
				out = append(out, toSchoolJSON(s))
			}
			if asJSON {
				return writeJSON(c.stdout, out)
			}
			for _, s := range out {
				last := "never synced"
				if s.LastPulledAt != nil {
					last = "last pulled " + s.LastPulledAt.Format(time.RFC3339)
				}
				fmt.Fprintf(c.stdout, "%-10s %-9s %s (%s)\n", safe(s.ID), safe(s.Profile), safe(s.Endpoint), last)
			}
			return nil
		})}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) schoolShowCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show one school: consent, last sync, results receiver and contact person", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			s, err := a.School(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			j := toSchoolJSON(s)
			if j.Consent, _, err = a.Consent(ctx, s.ID); err != nil {
				return err
			}
			if s.Contact != nil {
				j.Contact = toContactJSON(s.ID, *s.Contact)
			}
			if asJSON {
				return writeJSON(c.stdout, j)
			}
			fmt.Fprintf(c.stdout, "school %s\n  profile %s, xsdversie %s\n  endpoint %s\n  klantcode %s, klantnaam %s\n  autorisatiesleutel: sealed\n",
				safe(j.ID), safe(j.Profile), safe(j.Xsdversie), safe(j.Endpoint), safe(j.Klantcode), safe(j.Klantnaam))
			for _, p := range gateway.Processings {
				fmt.Fprintf(c.stdout, "  consent %-12s %s\n", p, onOff(j.Consent[p]))
			}
			if r := j.Results; r != nil {
				fmt.Fprintf(c.stdout, "  results go to %s (%s scores, key: %s)\n", safe(r.Endpoint), safe(r.ScoreType), r.Key)
			} else {
				fmt.Fprintln(c.stdout, "  results go to the LAS endpoint above (integer scores)")
			}
			for _, r := range j.Recipients {
				fmt.Fprintf(c.stdout, "  recipient %s (%s, %s) %s, while %s is granted\n", soap.OneLine(r.Name), r.Processing, r.Kind,
					soap.OneLine(endpointOf(r)), r.Processing)
			}
			if ct := j.Contact; ct != nil {
				fmt.Fprintf(c.stdout, "  contact person %s <%s>%s\n", safe(ct.Name), safe(ct.Email), map[bool]string{true: ", " + safe(ct.Phone)}[ct.Phone != ""])
			} else {
				fmt.Fprintln(c.stdout, "  contact person: none set (`school contact set`)")
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// byFlag registers --by: who acts, recorded in the audit log.
func byFlag(cmd *cobra.Command, by *string) {
	cmd.Flags().StringVar(by, "by", "", "who acts (recorded in the audit log; default: the operating-system user)")
}

// schoolFlag registers --school.
func schoolFlag(cmd *cobra.Command, id *string) {
	cmd.Flags().StringVar(id, "school", "", "school id (BRIN+dependancecode, e.g. 12AB00, or the schoolkey)")
}

func (c *edge) schoolRemoveCommand() *cobra.Command {
	var id, by string
	var yes bool
	cmd := &cobra.Command{Use: "remove", Short: "Offboard a school: delete every record of it", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if !yes {
				return usageErr("school remove deletes every record of %s; add --yes to confirm", id)
			}
			return nil
		},
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			if err := a.RemoveSchool(ctx, gateway.SchoolID(id), operator(by).String()); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "school %s removed with all its records (its audit chain stays)\n", safe(id))
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	byFlag(cmd, &by)
	return cmd
}

func (c *edge) schoolReceiverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "receiver", Short: "Send a school's results to another receiver than its LAS endpoint (a results-only receiver)"}
	cmd.AddCommand(c.receiverSetCommand(), c.receiverClearCommand())
	return cmd
}

func (c *edge) receiverSetCommand() *cobra.Command {
	var id, keyFile, by string
	var r app.Receiver
	var asJSON bool
	cmd := &cobra.Command{Use: "set", Short: "Set the results receiver: endpoint, own credentials and score typing", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			if r.Endpoint == "" {
				return usageErr("--endpoint URL is required")
			}
			if keyFile != "" {
				var err error
				if r.Key, err = c.readKey(keyFile); err != nil {
					return err
				}
			}
			s, err := a.SetReceiver(ctx, gateway.SchoolID(id), r, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, toSchoolJSON(s))
			}
			fmt.Fprintf(c.stdout, "school %s: results now go to %s (%s scores)\n", safe(s.ID), safe(r.Endpoint), safe(r.ScoreType))
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&r.Endpoint, "endpoint", "", "the receiver's BrengLeerresultaten endpoint URL")
	f.StringVar(&keyFile, "key-file", "", "file with the receiver's own autorisatiesleutel ('-' = stdin; default: the school's key)")
	f.StringVar(&r.Klantcode, "klantcode", "", "klantcode for this receiver (default: the school's)")
	f.StringVar(&r.Klantnaam, "klantnaam", "", "klantnaam for this receiver (default: the school's)")
	f.StringVar(&r.Xsdversie, "xsdversie", "", "UWLR version sent to this receiver (default: the school's)")
	f.StringVar(&r.ScoreType, "score-type", gateway.ScoreInteger, "integer (UWLR standard) or decimal (receivers such as RTTI)")
	f.BoolVar(&r.QuoteSOAPAction, "quote-soapaction", false, "send SOAPAction with quotes")
	byFlag(cmd, &by)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) receiverClearCommand() *cobra.Command {
	var id, by string
	cmd := &cobra.Command{Use: "clear", Short: "Send the school's results to its LAS endpoint again", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			s, err := a.ClearReceiver(ctx, gateway.SchoolID(id), operator(by).String())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "school %s: results go to its LAS endpoint %s\n", safe(s.ID), safe(s.Endpoint))
			return nil
		})}
	schoolFlag(cmd, &id)
	byFlag(cmd, &by)
	return cmd
}
