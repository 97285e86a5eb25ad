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

// SetReceiver sets the school's results receiver; bad input is ErrInvalid.
// Only the receiver changes: a sync or rewrap running meanwhile keeps what
// it writes.
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
	s, err = a.st.UpdateSchool(ctx, s.ID, func(x *gateway.School) error { x.Results = rr; return nil })
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
	s, err := a.st.UpdateSchool(ctx, id, func(x *gateway.School) error { x.Results = nil; return nil })
	if err != nil {
		return s, err
	}
	_, err = a.log.School(ctx, id, gateway.AuditSchoolReceiver, or(by, "cli"), map[string]string{"action": "cleared"})
	return s, err
}
