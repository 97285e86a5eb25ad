package app_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/app"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

const (
	echoKey        = "Ek9-echoed-school-key-0001"
	echoResultsKey = "Rk9-echoed-results-key-0002"
	echoEckID      = "https://ketenid.nl/201703/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// echoBackend answers every call with a fault that repeats the school's
// keys (lower-cased, base64), an ECK iD and text that would move a
// terminal's cursor or reverse its line.
type echoBackend struct{}

func (echoBackend) Handle(_ context.Context, c *soap.Call) (any, error) {
	key := ""
	if c.Auth != nil {
		key = c.Auth.Autorisatiesleutel
	}
	return nil, soap.NewFault(soap.CodeAutorisatieOngeldig, "sleutel "+strings.ToLower(key)+" / "+
		base64.StdEncoding.EncodeToString([]byte(echoResultsKey))+" voor "+echoEckID+"\nOK: alles goed \u202eliam\u009b2J")
}

// TestLASTextIsScrubbed: what a LAS says in its faults reaches the
// connection check and the sync run only scrubbed: no key of the school in
// any form, no ECK iD, no line break or control character.
func TestLASTextIsScrubbed(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		echo := httptest.NewServer(&soap.Server{Backend: echoBackend{}})
		t.Cleanup(echo.Close)
		sc, _, err := f.app.EnrolSchool(ctx(t), app.Enrolment{Brin: "12AB", Endpoint: echo.URL + "/uwlr", Klantcode: "K", Klantnaam: "N",
			Key: echoKey}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SetReceiver(ctx(t), sc.ID, app.Receiver{Endpoint: echo.URL + "/results", Key: echoResultsKey}, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SetConsent(ctx(t), sc.ID, gateway.ProcessingLASExchange, true, gateway.Actor{Via: "cli", Name: "test", Instruction: "test"}); err != nil {
			t.Fatal(err)
		}
		check := func(where, text string) {
			t.Helper()
			for _, leak := range []string{strings.ToLower(echoKey), echoKey, base64.StdEncoding.EncodeToString([]byte(echoResultsKey))[:24],
				"ketenid", "0123456789abcdef0123", "\n", "\u202e", "\u009b"} {
				if strings.Contains(text, leak) {
					t.Errorf("%s holds %q: %q", where, leak, text)
				}
			}
			for _, m := range []string{soap.Marker(soap.ScrubSecret), soap.Marker(soap.ScrubEckID)} {
				if !strings.Contains(text, m) {
					t.Errorf("%s %q: want %s where the LAS echoed it", where, text, m)
				}
			}
		}
		chk, err := f.app.TestConnection(ctx(t), sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("connection check", chk.Message)
		stored, err := f.store.ConnectionCheck(ctx(t), sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("stored connection check", stored.Message)

		res, err := f.app.Sync(ctx(t), sc.ID, app.SyncOptions{Schooljaar: schooljaar})
		if err == nil || res.Run.Status != gateway.SyncFailed {
			t.Fatalf("sync against an echoing LAS: %s, %v; want failed", res.Run.Status, err)
		}
		check("sync error", err.Error())
		runs, err := f.app.SyncRuns(ctx(t), sc.ID, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("sync runs: %d, %v", len(runs), err)
		}
		check("recorded sync run", runs[0].Error)
	})
}
