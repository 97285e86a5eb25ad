package app

import (
	"context"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// errGrant says who may grant a processing.
var errGrant = fmt.Errorf("%w: only the school itself grants a processing: a school-admin token for this school "+
	"(the school's web page or the API), or, at the CLI, an operator who names themself and the school's written "+
	"instruction (consent set --grant --by NAME --instruction REF); an operator may revoke", gateway.ErrForbidden)

// SetConsent grants or revokes one processing for one school through the
// audited gate; revoking las_exchange holds queued results and waits for
// deliveries under way, granting it releases them. The school itself opts
// in (the processing agreement): a grant needs a school-admin token for the
// school, or a named CLI operator acting on the school's written
// instruction; anything else is ErrForbidden (ErrInvalid for a CLI grant
// without name or instruction). Any writer may revoke; every change records
// the person or token that made it.
func (a *App) SetConsent(ctx context.Context, id gateway.SchoolID, p gateway.Processing, grant bool, by gateway.Actor) (gateway.ConsentApplied, error) {
	if _, err := a.school(ctx, id); err != nil {
		return gateway.ConsentApplied{}, err
	}
	if err := mayChangeConsent(by, id, grant); err != nil {
		return gateway.ConsentApplied{}, err
	}
	return a.gate.Apply(ctx, id, p, grant, by.String())
}

// mayChangeConsent is the consent policy.
func mayChangeConsent(by gateway.Actor, id gateway.SchoolID, grant bool) error {
	switch {
	case by.Via == "cli" && by.Name == "":
		return invalidf("a consent change at the CLI needs --by NAME: who makes it is recorded")
	case by.Via == "cli" && grant && by.Instruction == "":
		return invalidf("a grant at the CLI needs --instruction REF: the reference of the school's written instruction (the school itself opts in)")
	case by.Via == "cli":
		return nil
	case by.TokenID == "":
		return fmt.Errorf("%w: a consent change needs a token or a named CLI operator", gateway.ErrForbidden)
	case grant && !by.SchoolAdminOf(id):
		return errGrant
	}
	return nil
}

// Consent returns a school's current opt-ins and every change, oldest first.
func (a *App) Consent(ctx context.Context, id gateway.SchoolID) (gateway.Consent, []gateway.ConsentChange, error) {
	if _, err := a.school(ctx, id); err != nil {
		return nil, nil, err
	}
	cur, err := a.st.Consent(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	hist, err := a.st.ConsentHistory(ctx, id)
	return cur, hist, err
}
