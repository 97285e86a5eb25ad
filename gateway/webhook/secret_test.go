package webhook_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		keyLen int // 0: refused
	}{
		{"specification example, 24 bytes", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
		{"line break and spaces around", "  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\r\n", 24},
		{"32 bytes", "whsec_" + strings.Repeat("A", 43) + "=", 32},
		{"no prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0},
		{"other prefix", "whsek_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0},
		{"prefix in upper case", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0},
		{"not base64", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La!aSw", 0},
		{"URL-safe alphabet", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La_-Sw", 0},
		{"space inside", "whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw", 0},
		{"16 bytes: too short", "whsec_c2hvcnQtc2hvcnQtc2hvcg==", 0},
		{"empty key", "whsec_", 0},
		{"empty", "", 0},
		{"huge", "whsec_" + strings.Repeat("A", 4000), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := webhook.ParseSecret(tt.secret)
			if tt.keyLen > 0 {
				if err != nil || len(key) != tt.keyLen {
					t.Fatalf("ParseSecret = %d bytes, %v; want %d bytes", len(key), err, tt.keyLen)
				}
				return
			}
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("ParseSecret = %v, want gateway.ErrInvalid", err)
			}
			if b64 := strings.TrimPrefix(strings.TrimSpace(tt.secret), "whsec_"); len(b64) >= 8 && strings.Contains(err.Error(), b64[:8]) {
				t.Errorf("error repeats the secret: %v", err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	s, err := webhook.NewSecret(bytes.NewReader(bytes.Repeat([]byte{0xfb}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	// The reader is the only source of key bytes.
	if want := "whsec_" + strings.Repeat("+/v7", 10) + "+/s="; s != want {
		t.Errorf("NewSecret = %q, want %q", s, want)
	}
	key, err := webhook.ParseSecret(s)
	if err != nil || !bytes.Equal(key, bytes.Repeat([]byte{0xfb}, 32)) {
		t.Errorf("ParseSecret(NewSecret) = %x, %v", key, err)
	}

	a, errA := webhook.NewSecret(rand.Reader)
	b, errB := webhook.NewSecret(rand.Reader)
	if errA != nil || errB != nil || a == b {
		t.Errorf("two random secrets: %q, %q, %v, %v", a, b, errA, errB)
	}
	if _, err := webhook.NewSecret(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Error("NewSecret from a reader of 31 bytes succeeded")
	}
	if _, err := webhook.NewSecret(nil); !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("NewSecret(nil) = %v, want gateway.ErrInvalid", err)
	}
}
