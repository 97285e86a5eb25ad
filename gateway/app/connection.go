package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// DefaultConnectionCooldown is how long after a connection test of a
// school the next may start (server.connection_test_cooldown): a button
// pressed many times, or many callers at once, ask the LAS once.
//
// The cooldown is kept through the store: it is measured from the stored
// last check, so every instance on one store honours it. The single flight
// (callers at the same moment wait for the one test under way) is in this
// process only: the store has no primitive for it (its per-school lock is
// the sync lock, and holding that for a test would refuse the school's
// sync, or the test during a sync), so two instances asked at the very
// same moment may both ask the LAS once.
const DefaultConnectionCooldown = 30 * time.Second

// ConnectionCoolingDown is TestConnection's answer within the cooldown: it
// comes with the last check, and RetryAfter says when the next test may
// start. It is a gateway.ErrConflict.
type ConnectionCoolingDown struct {
	School gateway.SchoolID
	Wait   time.Duration
}

func (e *ConnectionCoolingDown) Error() string {
	return fmt.Sprintf("school %s: its connection was tested less than %s ago: the last result stands; test again in %s",
		e.School, DefaultConnectionCooldown, e.Wait.Round(time.Second))
}

// RetryAfter is how long until the next test may start.
func (e *ConnectionCoolingDown) RetryAfter() time.Duration { return e.Wait }

// Is makes a ConnectionCoolingDown a gateway.ErrConflict.
func (e *ConnectionCoolingDown) Is(target error) bool { return target == gateway.ErrConflict }

// connFlights are the connection tests under way in this process.
type connFlights struct {
	mu sync.Mutex
	m  map[gateway.SchoolID]*connFlight
}

// connFlight is one test under way; done closes when it has its result.
type connFlight struct {
	done chan struct{}
	chk  gateway.ConnectionCheck
	err  error
}

// join returns the school's flight and whether the caller leads it (runs
// the test) rather than waits for it.
func (c *connFlights) join(id gateway.SchoolID) (*connFlight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.m[id]; ok {
		return f, false
	}
	if c.m == nil {
		c.m = map[gateway.SchoolID]*connFlight{}
	}
	f := &connFlight{done: make(chan struct{})}
	c.m[id] = f
	return f, true
}

// land ends the school's flight with its result.
func (c *connFlights) land(id gateway.SchoolID, f *connFlight) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
	close(f.done)
}

// cooldownLeft is how long the cooldown of a check made at lastAt lasts
// after now (0: over); a check dated ahead of now (another instance's
// clock) holds for at most one cooldown.
func cooldownLeft(lastAt, now time.Time) time.Duration {
	age := now.Sub(lastAt)
	if age >= DefaultConnectionCooldown || age <= -DefaultConnectionCooldown {
		return 0
	}
	return min(DefaultConnectionCooldown-age, DefaultConnectionCooldown)
}

// TestConnection asks the school's LAS for its structure (school and
// groups, no pupil data, so no consent is needed) and keeps the outcome as
// the school's connection check, with the fault's class and fix hint. The
// message is scrubbed (the client's scrubber: ECK iDs, the school's keys,
// control characters) before it is kept. At most one test per school runs
// per DefaultConnectionCooldown: a caller within it, or while a test is
// under way, gets the last check with a *ConnectionCoolingDown.
func (a *App) TestConnection(ctx context.Context, id gateway.SchoolID) (gateway.ConnectionCheck, error) {
	s, err := a.school(ctx, id)
	if err != nil {
		return gateway.ConnectionCheck{}, err
	}
	conns := &a.edge().conns
	f, lead := conns.join(s.ID)
	if !lead {
		select {
		case <-f.done:
		case <-ctx.Done():
			return gateway.ConnectionCheck{}, ctx.Err()
		}
		if f.err != nil && f.chk.At.IsZero() {
			return f.chk, f.err
		}
		return f.chk, &ConnectionCoolingDown{School: s.ID, Wait: max(cooldownLeft(f.chk.At, a.now()), time.Second)}
	}
	defer conns.land(s.ID, f)
	last, err := a.st.ConnectionCheck(ctx, s.ID)
	switch {
	case err == nil && cooldownLeft(last.At, a.now()) > 0:
		f.chk = last
		return last, &ConnectionCoolingDown{School: s.ID, Wait: cooldownLeft(last.At, a.now())}
	case err != nil && !errors.Is(err, gateway.ErrNotFound):
		f.err = fmt.Errorf("school %s: last connection check: %w", s.ID, err)
		return gateway.ConnectionCheck{}, f.err
	}
	f.chk, f.err = a.testConnection(ctx, s)
	return f.chk, f.err
}

// errNotStructuur: the LAS answered HaalStructuur with another answer.
var errNotStructuur = errors.New("the LAS did not answer with a structure")

// testConnection runs one connection test and keeps its check.
func (a *App) testConnection(ctx context.Context, s gateway.School) (gateway.ConnectionCheck, error) {
	start := a.now()
	chk := gateway.ConnectionCheck{At: start.UTC()}
	cl, err := a.lasClient(s)
	if err != nil {
		chk.ErrorClass, chk.Message, chk.Hint = gateway.ClassRequest, err.Error(), "The school's stored credentials could not be opened: enter the key again (school add)."
	} else {
		// The answer must be HaalStructuur's own: any other (above all the
		// whole school, with its pupils) is refused before its first record.
		h := soap.Handler{Answer: func(k soap.AnswerKind) error {
			if k != soap.AnswerStructuur {
				return fmt.Errorf("%w: a %s answer instead of %s", errNotStructuur, k, soap.AnswerStructuur)
			}
			return nil
		}}
		sum, err := cl.HaalStructuur(ctx, soap.Request{Schooljaar: gateway.SchoolYearAt(start)}, h)
		var se *soap.Error
		switch {
		case err == nil:
			chk.OK, chk.Groups = true, sum.Groepen+sum.SamengesteldeGroepen
		case errors.Is(err, errNotStructuur):
			chk.ErrorClass, chk.Message = gateway.ClassRequest, err.Error()
			chk.Hint = "The endpoint answered the structure request (HaalStructuur) with another answer: check the school's endpoint and vendor profile."
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
