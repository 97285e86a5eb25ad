package webhook_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/webhook"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://dashboard.example.nl/hooks/uwlr", true},
		{"https://dashboard.example.nl:8443/hooks?tenant=12AB00", true},
		{"HTTPS://dashboard.example.nl/", true},
		{"https://192.0.2.10/hooks", true},
		{"https://[2001:db8::1]/hooks", true},
		{"http://127.0.0.1:8080/hooks", true},
		{"http://127.9.8.7/hooks", true},
		{"http://[::1]:8080/hooks", true},
		{"http://localhost:8080/hooks", true},
		{"http://LocalHost/hooks", true},
		{"http://dashboard.example.nl/hooks", false},
		{"http://192.0.2.10/hooks", false},
		{"http://128.0.0.1/hooks", false},
		{"http://[::2]/hooks", false},
		{"http://localhost.example.nl/hooks", false},
		{"http://sub.localhost/hooks", false},
		{"http://0.0.0.0/hooks", false},
		{"https://user:secret-password@dashboard.example.nl/hooks", false},
		{"https://user@dashboard.example.nl/hooks", false},
		{"http://user:pw@127.0.0.1/hooks", false},
		{"ftp://dashboard.example.nl/hooks", false},
		{"file:///etc/passwd", false},
		{"https:dashboard.example.nl/hooks", false},
		{"//dashboard.example.nl/hooks", false},
		{"/hooks", false},
		{"https://", false},
		{"https://:443/hooks", false},
		{"", false},
		{"https://dashboard.example.nl/hooks\n", false},
		{"https://dashboard example.nl/", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := webhook.CheckURL(tt.url)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckURL = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, gateway.ErrInvalid) {
				t.Fatalf("CheckURL = %v, want gateway.ErrInvalid", err)
			}
			if strings.Contains(err.Error(), "secret-password") || (tt.url != "" && strings.Contains(err.Error(), tt.url)) {
				t.Errorf("error repeats the URL: %v", err)
			}
		})
	}
}
