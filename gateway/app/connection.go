package app

import (
	"context"
	"errors"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// TestConnection asks the school's LAS for its structure (school and
// groups, no pupil data, so no consent is needed) and keeps the outcome as
// the school's connection check, with the fault's class and fix hint. The
// message is scrubbed (the client's scrubber: ECK iDs, the school's keys,
// control characters) before it is kept.
func (a *App) TestConnection(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.ConnectionCheck{}, err
	}
	start := a.now()
	chk := gateway.ConnectionCheck{At: start.UTC()}
	cl, err := a.lasClient(s)
	if err != nil {
		chk.ErrorClass, chk.Message, chk.Hint = gateway.ClassRequest, err.Error(), "The school's stored credentials could not be opened: enter the key again (school add)."
	} else {
		sum, err := cl.HaalStructuur(ctx, soap.Request{Schooljaar: gateway.SchoolYearAt(start)}, soap.Handler{})
		var se *soap.Error
		switch {
		case err == nil:
			chk.OK, chk.Groups = true, sum.Groepen+sum.SamengesteldeGroepen
		case errors.As(err, &se):
			chk.ErrorClass, chk.FaultCode, chk.Message, chk.Hint = se.Class, se.Code, se.Error(), se.Hint
		default:
			chk.ErrorClass, chk.Message = gateway.ClassTemporary, err.Error()
		}
		chk.FaultCode, chk.Message = cl.Scrubber().Scrub(chk.FaultCode), cl.Scrubber().Scrub(chk.Message)
	}
	chk.ElapsedMS = a.now().Sub(start).Milliseconds()
	if err := a.st.PutConnectionCheck(context.WithoutCancel(ctx), s.ID, chk); err != nil {
		return chk, err
	}
	return chk, nil
}
