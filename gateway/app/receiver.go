package app

import (
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// Receiver is a school's results receiver as it is set: where results go
// when that is not its LAS endpoint, with its own credentials and score
// typing. Key is the receiver's own autorisatiesleutel (sealed at once);
// empty means the school's key.
type Receiver struct {
	Endpoint, Key, Klantcode, Klantnaam, Xsdversie string
	// ScoreType is gateway.ScoreInteger or gateway.ScoreDecimal.
	ScoreType       string
	QuoteSOAPAction bool
}

// ReceiverRecipient is the name of the dashboards recipient a results
// receiver at another endpoint than the school's LAS becomes.
const ReceiverRecipient = "results-receiver"

// SetReceiver sets the school's results receiver; bad input is ErrInvalid.
// At the school's LAS endpoint it is the LAS's results profile (own key,
// score typing) under las_exchange, and the LAS gets ECK iDs as ever.
// Anywhere else it is a third party: it becomes the dashboards recipient
// ReceiverRecipient (kind uwlr), needs its own key, gets results only while
// the school grants dashboards, and never an ECK iD. Only the receiver
// changes: a sync or rewrap running meanwhile keeps what it writes.
func (a *App) SetReceiver(ctx context.Context, id gateway.SchoolID, r Receiver, by string) (gateway.School, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return s, err
	}
	if r.ScoreType == "" {
		r.ScoreType = gateway.ScoreInteger
	}
	switch {
	case r.Endpoint == "":
		return s, invalidf("the receiver's endpoint is required")
	case r.ScoreType != gateway.ScoreInteger && r.ScoreType != gateway.ScoreDecimal:
		return s, invalidf("score type %q: integer (UWLR standard) or decimal", r.ScoreType)
	case r.Xsdversie != "" && r.Xsdversie != "2.1" && r.Xsdversie != "2.2" && r.Xsdversie != "2.3":
		return s, invalidf("xsdversie %q: 2.1, 2.2 or 2.3", r.Xsdversie)
	}
	if r.Endpoint != s.Endpoint {
		return a.receiverAsRecipient(ctx, s, r, by)
	}
	conn := soap.Connection{Endpoint: r.Endpoint, Autorisatiesleutel: or(r.Key, "placeholder-for-validation"), Klantcode: or(r.Klantcode, s.Klantcode),
		Klantnaam: or(r.Klantnaam, s.Klantnaam), Brincode: s.Brin, Dependancecode: s.Dependancecode, Schoolkey: s.Schoolkey}
	if err := conn.Validate(); err != nil {
		return s, invalid(err)
	}
	rr := &gateway.ResultsReceiver{Endpoint: r.Endpoint, Klantcode: r.Klantcode, Klantnaam: r.Klantnaam, Xsdversie: r.Xsdversie,
		ScoreType: r.ScoreType, QuoteSOAPAction: r.QuoteSOAPAction}
	if r.Key != "" {
		kr, err := a.keyring()
		if err != nil {
			return s, err
		}
		if rr.SealedKey, err = kr.Sealer().Seal(vault.SchoolSecret(s.ID, fieldResultsKey), []byte(r.Key)); err != nil {
			return s, err
		}
	}
	s, err = a.st.UpdateSchool(ctx, s.ID, func(x *gateway.School) error {
		x.Results, x.Recipients = rr, withoutRecipient(x.Recipients, ReceiverRecipient)
		return nil
	})
	if err != nil {
		return s, err
	}
	_, err = a.log.School(ctx, s.ID, gateway.AuditSchoolReceiver, or(by, "cli"), map[string]string{"action": "set",
		"endpoint": r.Endpoint, "score_type": r.ScoreType, "own_key": fmt.Sprint(r.Key != "")})
	return s, err
}

// ClearReceiver sends the school's results to its LAS endpoint again.
func (a *App) ClearReceiver(ctx context.Context, id gateway.SchoolID, by string) (gateway.School, error) {
	if _, err := a.school(ctx, id); err != nil {
		return gateway.School{}, err
	}
	s, err := a.st.UpdateSchool(ctx, id, func(x *gateway.School) error {
		x.Results, x.Recipients = nil, withoutRecipient(x.Recipients, ReceiverRecipient)
		return nil
	})
	if err != nil {
		return s, err
	}
	_, err = a.log.School(ctx, id, gateway.AuditSchoolReceiver, or(by, "cli"), map[string]string{"action": "cleared"})
	return s, err
}

// receiverAsRecipient registers a receiver at another endpoint than the
// LAS as the school's dashboards recipient ReceiverRecipient, replacing
// the one there was.
func (a *App) receiverAsRecipient(ctx context.Context, s gateway.School, r Receiver, by string) (gateway.School, error) {
	if r.Key == "" {
		return s, invalidf("a results receiver at another endpoint than the school's LAS is a third party: it needs its own autorisatiesleutel (--key-file); the school's key is never sent elsewhere")
	}
	in := RecipientInput{Name: ReceiverRecipient, Processing: gateway.ProcessingDashboards, Kind: gateway.RecipientUWLR, URL: r.Endpoint,
		Basis: "results receiver profile (school receiver set)", Key: r.Key, Klantcode: r.Klantcode, Klantnaam: r.Klantnaam,
		ScoreType: r.ScoreType, Xsdversie: r.Xsdversie, QuoteSOAP: r.QuoteSOAPAction}
	rec, err := a.newRecipient(s, in, by)
	if err != nil {
		return s, err
	}
	s, err = a.st.UpdateSchool(ctx, s.ID, func(x *gateway.School) error {
		x.Results, x.Recipients = nil, append(withoutRecipient(x.Recipients, ReceiverRecipient), rec)
		return nil
	})
	if err != nil {
		return s, err
	}
	_, err = a.log.School(ctx, s.ID, gateway.AuditSchoolReceiver, or(by, "cli"), map[string]string{"action": "set",
		"endpoint": r.Endpoint, "score_type": r.ScoreType, "own_key": "true", "recipient": ReceiverRecipient, "processing": string(gateway.ProcessingDashboards)})
	return s, err
}

// withoutRecipient returns rs without the recipient named name (a new slice).
func withoutRecipient(rs []gateway.Recipient, name string) []gateway.Recipient {
	out := make([]gateway.Recipient, 0, len(rs))
	for _, r := range rs {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}
