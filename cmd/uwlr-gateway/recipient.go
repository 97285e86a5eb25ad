package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

func (c *edge) recipientCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "recipient", Short: "Who receives a school's data under dashboards, legal or research (each only while granted)"}
	cmd.AddCommand(c.recipientAddCommand(), c.recipientListCommand(), c.recipientShowCommand(), c.recipientRemoveCommand())
	return cmd
}

func (c *edge) recipientAddCommand() *cobra.Command {
	var id, by, processing, kind, secretFile, keyFile string
	var in app.RecipientInput
	var asJSON bool
	cmd := &cobra.Command{Use: "add", Short: "Register a recipient of one optional processing", Args: cobra.NoArgs,
		Long: "Registers who receives the school's data under one optional processing, where it goes and on\n" +
			"what basis. Kinds: webhook (results pushed as signed JSON, Standard Webhooks; --url, --secret-file\n" +
			"with a whsec_ secret), feed (a dashboard pulls results with a dashboard token), uwlr\n" +
			"(BrengLeerresultaten to a dashboard that speaks UWLR; --url, --key-file), file (research and\n" +
			"legal exports written to a directory). https is required outside loopback. Nothing is sent\n" +
			"until the school grants the processing.",
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			in.Processing, in.Kind = gateway.Processing(processing), gateway.RecipientKind(kind)
			var err error
			if secretFile != "" {
				if in.Secret, err = c.readKey(secretFile); err != nil {
					return err
				}
			}
			if keyFile != "" {
				if in.Key, err = c.readKey(keyFile); err != nil {
					return err
				}
			}
			r, err := a.RegisterRecipient(ctx, gateway.SchoolID(id), in, operator(by).String())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, r)
			}
			fmt.Fprintf(c.stdout, "school %s: recipient %s registered (%s, %s)\n", safe(id), safe(r.Name), safe(r.Processing), safe(r.Kind))
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&in.Name, "name", "", "the recipient's name (1-64 of A-Z a-z 0-9 . _ -)")
	f.StringVar(&processing, "processing", "", "dashboards, legal or research")
	f.StringVar(&kind, "kind", "", "webhook, feed, uwlr or file")
	f.StringVar(&in.URL, "url", "", "where a webhook or uwlr recipient is reached (https outside loopback)")
	f.StringVar(&secretFile, "secret-file", "", "file with the webhook's signing secret (whsec_..., '-' = stdin)")
	f.StringVar(&keyFile, "key-file", "", "file with a uwlr recipient's autorisatiesleutel ('-' = stdin)")
	f.StringVar(&in.Klantcode, "klantcode", "", "klantcode for a uwlr recipient (default: the school's)")
	f.StringVar(&in.Klantnaam, "klantnaam", "", "klantnaam for a uwlr recipient (default: the school's)")
	f.StringVar(&in.ScoreType, "score-type", "", "a uwlr recipient's score type: integer (default) or decimal")
	f.StringVar(&in.Country, "country", "NL", "the country the data goes to (ISO 3166 two-letter code)")
	f.StringVar(&in.Basis, "basis", "", "the contract or legal basis the recipient rests on (required)")
	byFlag(cmd, &by)
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) recipientListCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List the school's recipients", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			rs, err := a.Recipients(ctx, gateway.SchoolID(id))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, rs)
			}
			if len(rs) == 0 {
				fmt.Fprintf(c.stdout, "school %s: no recipients (recipient add)\n", safe(id))
				return nil
			}
			fmt.Fprintf(c.stdout, "%-24s %-12s %-8s %-3s %s\n", "NAME", "PROCESSING", "KIND", "CC", "ENDPOINT")
			for _, r := range rs {
				fmt.Fprintf(c.stdout, "%-24s %-12s %-8s %-3s %s\n", safe(r.Name), safe(r.Processing), safe(r.Kind), safe(r.Country), safe(endpointOf(r)))
			}
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) recipientShowCommand() *cobra.Command {
	var id, name string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show one recipient (never its credentials)", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			r, err := a.RecipientInfo(ctx, gateway.SchoolID(id), name)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, r)
			}
			printRecipient(c.stdout, r)
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().StringVar(&name, "name", "", "the recipient's name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) recipientRemoveCommand() *cobra.Command {
	var id, name, by string
	cmd := &cobra.Command{Use: "remove", Short: "Remove a recipient: nothing more is sent to it", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			if err := a.RemoveRecipient(ctx, gateway.SchoolID(id), name, operator(by).String()); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "school %s: recipient %s removed\n", safe(id), safe(name))
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().StringVar(&name, "name", "", "the recipient's name")
	byFlag(cmd, &by)
	return cmd
}

func endpointOf(r gateway.RecipientView) string {
	if r.URL != "" {
		return r.URL
	}
	return "(" + string(r.Kind) + ")"
}

func printRecipient(w io.Writer, r gateway.RecipientView) {
	fmt.Fprintf(w, "recipient %s\n  processing  %s\n  kind        %s\n  endpoint    %s\n  country     %s\n  basis       %s\n",
		safe(r.Name), safe(r.Processing), safe(r.Kind), safe(endpointOf(r)), safe(r.Country), safe(r.Basis))
	fmt.Fprintf(w, "  secret      %s\n  key         %s\n", setOrNot(r.HasSecret), setOrNot(r.HasKey))
	fmt.Fprintf(w, "  added       %s by %s\n", r.CreatedAt.In(gateway.Amsterdam).Format(time.RFC3339), safe(r.CreatedBy))
}

func setOrNot(b bool) string {
	if b {
		return "set (sealed)"
	}
	return "-"
}
