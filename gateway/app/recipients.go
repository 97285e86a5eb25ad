package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// RecipientInput registers a recipient (gateway.RecipientInput).
type RecipientInput = gateway.RecipientInput

// recipientPlace is where one of a recipient's secrets is sealed.
func recipientPlace(id gateway.SchoolID, name, field string) vault.Place {
	return vault.SchoolSecret(id, "recipient/"+name+"/"+field)
}

// RegisterRecipient registers a recipient of the school's data under one of its
// optional processings (dashboards, legal, research). Bad input is
// ErrInvalid and stores nothing; a name already used is ErrConflict. The
// registration is on the school's audit chain (never the credentials).
func (a *App) RegisterRecipient(ctx context.Context, id gateway.SchoolID, in RecipientInput, by string) (gateway.RecipientView, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.RecipientView{}, err
	}
	if in.Processing == gateway.ProcessingLASExchange {
		return gateway.RecipientView{}, invalidf("recipient %q: las_exchange has one recipient, the school's LAS (school receiver set for its results profile)", in.Name)
	}
	r, err := a.newRecipient(s, in, by)
	if err != nil {
		return gateway.RecipientView{}, err
	}
	_, err = a.st.UpdateSchool(ctx, id, func(x *gateway.School) error {
		if _, dup := x.Recipient(r.Name); dup {
			return fmt.Errorf("school %s already has a recipient %q (recipient remove first): %w", id, r.Name, gateway.ErrConflict)
		}
		x.Recipients = append(x.Recipients, r)
		return nil
	})
	if err != nil {
		return gateway.RecipientView{}, err
	}
	_, err = a.log.School(ctx, id, gateway.AuditRecipient, r.CreatedBy, map[string]string{"action": "add", "recipient": r.Name,
		"processing": string(r.Processing), "kind": string(r.Kind), "endpoint": r.Endpoint(), "country": r.Country})
	return r.View(), err
}

// newRecipient checks a registration and seals its credentials.
func (a *App) newRecipient(s gateway.School, in RecipientInput, by string) (gateway.Recipient, error) {
	r := gateway.Recipient{Name: strings.TrimSpace(in.Name), Processing: in.Processing, Kind: in.Kind, URL: strings.TrimSpace(in.URL),
		Country: strings.ToUpper(or(strings.TrimSpace(in.Country), "NL")), Basis: strings.TrimSpace(in.Basis),
		Klantcode: in.Klantcode, Klantnaam: in.Klantnaam, ScoreType: in.ScoreType, Xsdversie: in.Xsdversie, QuoteSOAPAction: in.QuoteSOAP,
		CreatedAt: a.now().UTC(), CreatedBy: or(by, "cli")}
	if err := r.Validate(); err != nil {
		return r, invalid(err)
	}
	return r, a.sealRecipient(s, &r, in)
}

// sealRecipient checks and seals the credentials r's kind needs.
func (a *App) sealRecipient(s gateway.School, r *gateway.Recipient, in RecipientInput) error {
	switch {
	case r.Kind == gateway.RecipientWebhook && in.Secret == "":
		return invalidf("recipient %q: a webhook needs its signing secret (--secret-file, whsec_...)", r.Name)
	case r.Kind != gateway.RecipientWebhook && in.Secret != "":
		return invalidf("recipient %q: only a webhook takes a signing secret", r.Name)
	case r.Kind == gateway.RecipientUWLR && in.Key == "":
		return invalidf("recipient %q: a uwlr recipient needs its autorisatiesleutel (--key-file)", r.Name)
	case r.Kind != gateway.RecipientUWLR && in.Key != "":
		return invalidf("recipient %q: only a uwlr recipient takes a key", r.Name)
	case r.ScoreType != "" && r.ScoreType != gateway.ScoreInteger && r.ScoreType != gateway.ScoreDecimal:
		return invalidf("recipient %q: score type %q: integer or decimal", r.Name, r.ScoreType)
	}
	kr, err := a.keyring()
	if err != nil {
		return err
	}
	if in.Secret != "" {
		if _, err := webhook.ParseSecret(in.Secret); err != nil {
			return invalid(fmt.Errorf("recipient %q: %w", r.Name, err))
		}
		if r.SealedSecret, err = kr.Sealer().Seal(recipientPlace(s.ID, r.Name, "secret"), []byte(strings.TrimSpace(in.Secret))); err != nil {
			return err
		}
	}
	if in.Key != "" {
		conn := soap.Connection{Endpoint: r.URL, Autorisatiesleutel: in.Key, Klantcode: or(r.Klantcode, s.Klantcode),
			Klantnaam: or(r.Klantnaam, s.Klantnaam), Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey}
		if err := conn.Validate(); err != nil {
			return invalid(fmt.Errorf("recipient %q: %w", r.Name, err))
		}
		if r.SealedKey, err = kr.Sealer().Seal(recipientPlace(s.ID, r.Name, "key"), []byte(in.Key)); err != nil {
			return err
		}
	}
	return nil
}

// Recipients lists the school's recipients (the LAS's results profile
// among them when it has one).
func (a *App) Recipients(ctx context.Context, id gateway.SchoolID) ([]gateway.RecipientView, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return nil, err
	}
	last, err := a.lastExports(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []gateway.RecipientView{}
	if rr := s.Results; rr != nil {
		out = append(out, gateway.RecipientView{Name: "las", Processing: gateway.ProcessingLASExchange, Kind: gateway.RecipientUWLR,
			URL: rr.Endpoint, Country: "NL", Basis: "the school's own LAS (results receiver profile)", ScoreType: rr.ScoreType,
			HasKey: len(rr.SealedKey) > 0, LAS: true})
	}
	for _, r := range s.Recipients {
		v := r.View()
		if e, ok := last[r.Name]; ok {
			v.LastSentAt = e.At
			v.LastRecords, _ = strconv.Atoi(e.Details["records"])
		}
		out = append(out, v)
	}
	return out, nil
}

// lastExports finds, per recipient, the newest export entry on the school's
// audit chain.
func (a *App) lastExports(ctx context.Context, id gateway.SchoolID) (map[string]gateway.AuditEntry, error) {
	last := map[string]gateway.AuditEntry{}
	err := a.st.WalkAudit(ctx, gateway.AuditChainOf(id), func(e gateway.AuditEntry) error {
		if e.Kind == gateway.AuditExport && e.Details["recipient"] != "" {
			last[e.Details["recipient"]] = e
		}
		return nil
	})
	return last, err
}

// RecipientInfo returns one recipient of the school; ErrNotFound when it
// has none by that name.
func (a *App) RecipientInfo(ctx context.Context, id gateway.SchoolID, name string) (gateway.RecipientView, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.RecipientView{}, err
	}
	if _, ok := s.Recipient(name); !ok {
		return gateway.RecipientView{}, fmt.Errorf("school %s has no recipient %q: %w", id, name, gateway.ErrNotFound)
	}
	all, err := a.Recipients(ctx, id)
	if err != nil {
		return gateway.RecipientView{}, err
	}
	for _, v := range all {
		if v.Name == name {
			return v, nil
		}
	}
	return gateway.RecipientView{}, fmt.Errorf("school %s has no recipient %q: %w", id, name, gateway.ErrNotFound)
}

// RemoveRecipient removes a recipient: nothing more is sent to it (its
// queued batches are refused when a worker takes them) and its credentials
// go with it. Recorded on the school's audit chain.
func (a *App) RemoveRecipient(ctx context.Context, id gateway.SchoolID, name, by string) error {
	if _, err := a.school(ctx, id); err != nil {
		return err
	}
	var gone gateway.Recipient
	_, err := a.st.UpdateSchool(ctx, id, func(x *gateway.School) error {
		for i, r := range x.Recipients {
			if r.Name == name {
				gone = r
				x.Recipients = append(x.Recipients[:i:i], x.Recipients[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("school %s has no recipient %q: %w", id, name, gateway.ErrNotFound)
	})
	if err != nil {
		return err
	}
	_, err = a.log.School(ctx, id, gateway.AuditRecipient, or(by, "cli"), map[string]string{"action": "remove", "recipient": gone.Name,
		"processing": string(gone.Processing), "kind": string(gone.Kind)})
	return err
}
