package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

// The example of the Standard Webhooks specification (and of the Svix
// documentation it grew from), as published: secret, message and signature.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func specKey(t *testing.T) []byte {
	t.Helper()
	key, err := webhook.ParseSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestSignSpecificationVector(t *testing.T) {
	key := specKey(t)
	if got := webhook.Sign(key, specID, time.Unix(specTimestamp, 0), []byte(specBody)); got != specSignature {
		t.Errorf("Sign = %q, want the published %q", got, specSignature)
	}
	// Sub-second parts of the time are not signed: the header has seconds.
	if got := webhook.Sign(key, specID, time.Unix(specTimestamp, 999_999_999), []byte(specBody)); got != specSignature {
		t.Errorf("Sign with nanoseconds = %q", got)
	}
	now := time.Unix(specTimestamp, 0)
	if err := webhook.Verify(key, headers(specID, specTimestamp, specSignature), []byte(specBody), now, 0); err != nil {
		t.Errorf("Verify(published vector) = %v", err)
	}
}

func TestVerify(t *testing.T) {
	key := specKey(t)
	other := make([]byte, 32)
	body := []byte(`{"school":"12AB00","results":3}`)
	const id = "ex_r-20251105-0001"
	at := time.Date(2025, 11, 5, 8, 0, 0, 0, time.UTC)
	ts := at.Unix()
	good := webhook.Sign(key, id, at, body)
	tests := []struct {
		name  string
		key   []byte
		h     http.Header
		body  string
		now   time.Time
		tol   time.Duration
		valid bool
	}{
		{"round trip", key, headers(id, ts, good), string(body), at, 0, true},
		{"among other signatures", key, headers(id, ts, "v1,bm90IGl0 v2,"+good[3:]+" "+good), string(body), at, 0, true},
		{"five minutes late", key, headers(id, ts, good), string(body), at.Add(5 * time.Minute), 0, true},
		{"five minutes and a second late", key, headers(id, ts, good), string(body), at.Add(5*time.Minute + time.Second), 0, false},
		{"five minutes and a second early", key, headers(id, ts, good), string(body), at.Add(-5*time.Minute - time.Second), 0, false},
		{"within a longer tolerance", key, headers(id, ts, good), string(body), at.Add(time.Hour), 2 * time.Hour, true},
		{"a byte of the body changed", key, headers(id, ts, good), `{"school":"12AB00","results":4}`, at, 0, false},
		{"another key", other, headers(id, ts, good), string(body), at, 0, false},
		{"no key", nil, headers(id, ts, good), string(body), at, 0, false},
		{"another id", key, headers(id+"x", ts, good), string(body), at, 0, false},
		{"another timestamp", key, headers(id, ts+1, good), string(body), at, 0, false},
		{"signature of another version only", key, headers(id, ts, "v2,"+good[3:]), string(body), at, 0, false},
		{"signature without version", key, headers(id, ts, good[3:]), string(body), at, 0, false},
		{"signature not base64", key, headers(id, ts, "v1,!!!"), string(body), at, 0, false},
		{"signature truncated", key, headers(id, ts, good[:len(good)-4]), string(body), at, 0, false},
		{"timestamp not a number", key, http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {"2025-11-05T08:00:00Z"}, "Webhook-Signature": {good}}, string(body), at, 0, false},
		{"timestamp far away", key, headers(id, -1<<62, good), string(body), at, 0, false},
		{"no signature header", key, http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts, 10)}}, string(body), at, 0, false},
		{"no id header", key, http.Header{"Webhook-Timestamp": {strconv.FormatInt(ts, 10)}, "Webhook-Signature": {good}}, string(body), at, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.key, tt.h, []byte(tt.body), tt.now, tt.tol)
			if tt.valid {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, webhook.ErrUnverified) || !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrUnverified and gateway.ErrInvalid", err)
			}
		})
	}
}
