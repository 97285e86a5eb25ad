package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

func (a *app) schoolReceiverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "receiver", Short: "Send a school's results to another receiver than its LAS endpoint (a results-only receiver)"}
	cmd.AddCommand(a.receiverSetCommand(), a.receiverClearCommand())
	return cmd
}

func (a *app) receiverSetCommand() *cobra.Command {
	var id, endpoint, keyFile, klantcode, klantnaam, xsd, scoreType string
	var quote, asJSON bool
	cmd := &cobra.Command{Use: "set", Short: "Set the results receiver: endpoint, own credentials and score typing", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if endpoint == "" {
				return usageErr("--endpoint URL is required")
			}
			if scoreType != gateway.ScoreInteger && scoreType != gateway.ScoreDecimal {
				return usageErr("--score-type %q: integer (UWLR standard) or decimal", scoreType)
			}
			if xsd != "" && xsd != "2.1" && xsd != "2.2" && xsd != "2.3" {
				return usageErr("--xsdversie %q: 2.1, 2.2 or 2.3", xsd)
			}
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			r := &gateway.ResultsReceiver{Endpoint: endpoint, Klantcode: klantcode, Klantnaam: klantnaam, Xsdversie: xsd,
				ScoreType: scoreType, QuoteSOAPAction: quote}
			secret := "placeholder-for-validation"
			if keyFile != "" {
				if secret, err = a.readKey(keyFile); err != nil {
					return err
				}
			}
			conn := soap.Connection{Endpoint: endpoint, Autorisatiesleutel: secret, Klantcode: or(klantcode, s.Klantcode),
				Klantnaam: or(klantnaam, s.Klantnaam), Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey}
			if err := conn.Validate(); err != nil {
				return usageErr("%w", err)
			}
			if keyFile != "" {
				kr, err := a.loadKeys()
				if err != nil {
					return err
				}
				if r.SealedKey, err = kr.Sealer().Seal(vault.SchoolSecret(s.ID, service.FieldResultsKey), []byte(secret)); err != nil {
					return err
				}
			}
			s.Results = r
			if err := st.PutSchool(ctx, s); err != nil {
				return err
			}
			if _, err := a.auditLog(st).School(ctx, s.ID, gateway.AuditSchoolReceiver, "cli", map[string]string{"action": "set",
				"endpoint": endpoint, "score_type": scoreType, "own_key": fmt.Sprint(keyFile != "")}); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, toSchoolJSON(s))
			}
			fmt.Fprintf(a.stdout, "school %s: results now go to %s (%s scores)\n", s.ID, endpoint, scoreType)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&id, "school", "", "school id")
	f.StringVar(&endpoint, "endpoint", "", "the receiver's BrengLeerresultaten endpoint URL")
	f.StringVar(&keyFile, "key-file", "", "file with the receiver's own autorisatiesleutel ('-' = stdin; default: the school's key)")
	f.StringVar(&klantcode, "klantcode", "", "klantcode for this receiver (default: the school's)")
	f.StringVar(&klantnaam, "klantnaam", "", "klantnaam for this receiver (default: the school's)")
	f.StringVar(&xsd, "xsdversie", "", "UWLR version sent to this receiver (default: the school's)")
	f.StringVar(&scoreType, "score-type", gateway.ScoreInteger, "integer (UWLR standard) or decimal (receivers such as RTTI)")
	f.BoolVar(&quote, "quote-soapaction", false, "send SOAPAction with quotes")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) receiverClearCommand() *cobra.Command {
	var id string
	cmd := &cobra.Command{Use: "clear", Short: "Send the school's results to its LAS endpoint again", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, s, err := a.openSchool(ctx, id)
			if err != nil {
				return err
			}
			defer st.Close()
			s.Results = nil
			if err := st.PutSchool(ctx, s); err != nil {
				return err
			}
			if _, err := a.auditLog(st).School(ctx, s.ID, gateway.AuditSchoolReceiver, "cli", map[string]string{"action": "cleared"}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "school %s: results go to its LAS endpoint %s\n", s.ID, s.Endpoint)
			return nil
		}}
	cmd.Flags().StringVar(&id, "school", "", "school id")
	return cmd
}
