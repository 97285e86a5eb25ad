package gateway_test

import (
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func TestSchoolYearAt(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"31 July 23:59 Amsterdam is the old year", time.Date(2026, 7, 31, 23, 59, 0, 0, ams), "2025-2026"},
		{"1 August 00:00 Amsterdam is the new year", time.Date(2026, 8, 1, 0, 0, 0, 0, ams), "2026-2027"},
		// 31 July 22:30 UTC is already 1 August 00:30 in Amsterdam (CEST, UTC+2).
		{"UTC evening of 31 July counts in Amsterdam time", time.Date(2026, 7, 31, 22, 30, 0, 0, time.UTC), "2026-2027"},
		{"January belongs to the year that started in August", time.Date(2027, 1, 15, 12, 0, 0, 0, ams), "2026-2027"},
		{"31 December", time.Date(2025, 12, 31, 23, 59, 59, 0, ams), "2025-2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gateway.SchoolYearAt(tt.at); got != tt.want {
				t.Errorf("SchoolYearAt(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}
