package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
	"github.com/uwlr-gateway/uwlr-gateway/internal/observe"
	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// TestConnectionTestSingleFlight: five callers at once ask the LAS once;
// the others wait for that answer and get it with a cooldown error that
// says when the next test may run. Within the cooldown the stored check
// answers (so another instance sharing the store does not ask either);
// after it the LAS is asked again.
func TestConnectionTestSingleFlight(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		clk := &movingClock{now: start}
		a := f.appWith(func(o *app.Options) { o.Now = clk.Now })
		var calls atomic.Int64
		release := make(chan struct{})
		hook := func(*http.Request) {
			if calls.Add(1) == 1 {
				<-release
			}
		}
		f.onRequest.Store(&hook)
		type answer struct {
			chk gateway.ConnectionCheck
			err error
		}
		answers := make(chan answer, 5)
		for range 5 {
			go func() {
				chk, err := a.TestConnection(ctx(t), f.A)
				answers <- answer{chk, err}
			}()
		}
		observe.WaitFor(t, "the first test at the LAS", func() (bool, string) { return calls.Load() == 1, "" })
		close(release)
		var ok, cooling int
		var first gateway.ConnectionCheck
		var got []answer
		for range 5 {
			got = append(got, <-answers)
		}
		for _, an := range got {
			var cd *app.ConnectionCoolingDown
			switch {
			case an.err == nil && an.chk.OK:
				ok++
				first = an.chk
			case errors.As(an.err, &cd) && errors.Is(an.err, gateway.ErrConflict) && cd.RetryAfter() > 0 && cd.RetryAfter() <= app.DefaultConnectionCooldown:
				cooling++
			default:
				t.Errorf("connection test: %+v, %v", an.chk, an.err)
			}
		}
		for _, an := range got {
			if an.chk != first {
				t.Errorf("a caller got %+v, not the one answer %+v", an.chk, first)
			}
		}
		if ok != 1 || cooling != 4 || calls.Load() != 1 {
			t.Fatalf("%d ran, %d cooling down, the LAS asked %d times; want 1, 4, 1", ok, cooling, calls.Load())
		}
		// Another instance over the same store within the cooldown.
		other := f.appWith(func(o *app.Options) { o.Now = clk.Now })
		clk.Advance(app.DefaultConnectionCooldown - time.Second)
		_, err := other.TestConnection(ctx(t), f.A)
		var cd *app.ConnectionCoolingDown
		if !errors.As(err, &cd) || cd.RetryAfter() != time.Second || calls.Load() != 1 {
			t.Fatalf("another instance within the cooldown: %v (LAS asked %d times), want a cooldown of 1s", err, calls.Load())
		}
		clk.Advance(time.Second)
		if chk, err := other.TestConnection(ctx(t), f.A); err != nil || !chk.OK || calls.Load() != 2 {
			t.Errorf("after the cooldown: %+v, %v (LAS asked %d times), want a new test", chk, err, calls.Load())
		}
	})
}

// wrongAnswer answers HaalStructuur with a teachers answer.
type wrongAnswer struct{}

func (wrongAnswer) Handle(_ context.Context, c *soap.Call) (any, error) {
	return &uwlr.LeerkrachtenAntwoord{Leerkrachten: &uwlr.LeerlinggegevensLeerkrachten{
		School: uwlr.School{Brincode: "12AB", Schooljaar: "2026-2027"}}}, nil
}

// TestConnectionTestWantsAStructureAnswer: a LAS that answers the
// connection test's HaalStructuur with another answer fails the test.
func TestConnectionTestWantsAStructureAnswer(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		srv := httptest.NewServer(&soap.Server{Backend: wrongAnswer{}})
		t.Cleanup(srv.Close)
		sc, _, err := f.app.EnrolSchool(ctx(t), app.Enrolment{Brin: "12AB", Endpoint: srv.URL + "/uwlr", Klantcode: "K", Klantnaam: "N",
			Key: "wrong-answer-key-0001"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		chk, err := f.app.TestConnection(ctx(t), sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if chk.OK || chk.ErrorClass != gateway.ClassRequest || !strings.Contains(chk.Message, "leerlinggegevens-structuur") {
			t.Errorf("connection test against a LAS giving a teachers answer: %+v; want a failed check naming the answer wanted", chk)
		}
	})
}
