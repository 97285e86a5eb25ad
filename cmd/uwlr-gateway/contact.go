package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
)

// contactJSON is what `school contact show --json` prints, and the
// contact of `school show --json`.
type contactJSON struct {
	School    gateway.SchoolID `json:"school"`
	Name      string           `json:"name"`
	Email     string           `json:"email"`
	Phone     string           `json:"phone,omitempty"`
	UpdatedAt time.Time        `json:"updated_at"`
	UpdatedBy string           `json:"updated_by"`
}

func toContactJSON(id gateway.SchoolID, c gateway.SchoolContact) *contactJSON {
	return &contactJSON{School: id, Name: c.Name, Email: c.Email, Phone: c.Phone, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy}
}

func (c *edge) schoolContactCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "contact", Short: "The school's contact person: its beheerder, also the contact in case of a data breach"}
	cmd.AddCommand(c.contactSetCommand(), c.contactShowCommand())
	return cmd
}

func (c *edge) contactSetCommand() *cobra.Command {
	var id, by string
	var ct gateway.SchoolContact
	var asJSON bool
	cmd := &cobra.Command{Use: "set", Short: "Set the school's contact person (name and e-mail address; phone optional)", Args: cobra.NoArgs,
		Long: "Sets the school's contact person: the beheerder of the processing agreement, whom the processor\n" +
			"contacts in case of a data breach (a breach report names them). The audit log records that the\n" +
			"contact changed, which fields and by whom, never the values.",
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			got, err := a.SetSchoolContact(ctx, gateway.SchoolID(id), ct, operator(by).String())
			if err != nil {
				return asFlags(err)
			}
			if asJSON {
				return writeJSON(c.stdout, toContactJSON(gateway.SchoolID(id), got))
			}
			fmt.Fprintf(c.stdout, "school %s: contact person set\n", safe(id))
			printContact(c.stdout, got)
			return nil
		})}
	f := cmd.Flags()
	schoolFlag(cmd, &id)
	f.StringVar(&ct.Name, "name", "", "the contact person's name (required)")
	f.StringVar(&ct.Email, "email", "", "the contact person's e-mail address (required)")
	f.StringVar(&ct.Phone, "phone", "", "the contact person's phone number (optional)")
	f.StringVar(&by, "by", "", "who sets it (recorded in the audit log; default cli)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *edge) contactShowCommand() *cobra.Command {
	var id string
	var asJSON bool
	cmd := &cobra.Command{Use: "show", Short: "Show the school's contact person (exit 1 when none is set)", Args: cobra.NoArgs,
		RunE: c.act(func(ctx context.Context, a *app.App) error {
			got, err := a.SchoolContact(ctx, gateway.SchoolID(id))
			if errors.Is(err, gateway.ErrNotFound) && strings.Contains(err.Error(), "no contact person") {
				return failed(fmt.Errorf("%w (set one with `school contact set`)", err))
			} else if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(c.stdout, toContactJSON(gateway.SchoolID(id), got))
			}
			fmt.Fprintf(c.stdout, "school %s: contact person\n", safe(id))
			printContact(c.stdout, got)
			return nil
		})}
	schoolFlag(cmd, &id)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printContact(w io.Writer, ct gateway.SchoolContact) {
	fmt.Fprintf(w, "  name   %s\n  email  %s\n", safe(ct.Name), safe(ct.Email))
	if ct.Phone != "" {
		fmt.Fprintf(w, "  phone  %s\n", safe(ct.Phone))
	}
	fmt.Fprintf(w, "  set    %s by %s\n", ct.UpdatedAt.In(gateway.Amsterdam).Format(time.RFC3339), safe(ct.UpdatedBy))
}

// asFlags names the flags of the fields bad input names (exit 2).
func asFlags(err error) error {
	var fields gateway.InvalidFields
	if !errors.As(err, &fields) {
		return err
	}
	parts := make([]string, len(fields))
	for i, p := range fields {
		parts[i] = "--" + p.Position + ": " + p.Reason
	}
	return usageErr("%s", strings.Join(parts, "; "))
}
