package schedule_test

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *schedule.Config)
		want   string // "" = valid; else a part of the error
	}{
		{"defaults", func(c *schedule.Config) {}, ""},
		{"crossing midnight", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "22:00", "05:00" }, ""},
		{"all of the evening and night", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "16:00", "08:00" }, ""},
		{"ending at midnight", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "20:00", "00:00" }, ""},
		{"summer pause", func(c *schedule.Config) { c.SummerPauseFrom, c.SummerPauseTo = "07-20", "08-15" }, ""},
		{"pause over the new year", func(c *schedule.Config) { c.SummerPauseFrom, c.SummerPauseTo = "12-24", "01-02" }, ""},

		{"window into school hours", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "05:00", "08:01" }, "overlaps school hours"},
		{"window out of school hours", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "15:59", "20:00" }, "overlaps school hours"},
		{"window in school hours", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "12:00", "13:00" }, "overlaps school hours"},
		{"crossing window into school hours", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "22:00", "09:00" }, "overlaps school hours"},
		{"crossing window over the day", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "07:00", "06:00" }, "overlaps school hours"},
		{"empty window", func(c *schedule.Config) { c.WindowStart, c.WindowEnd = "02:00", "02:00" }, "WindowEnd"},
		{"bad start", func(c *schedule.Config) { c.WindowStart = "1:00" }, "WindowStart"},
		{"hour 24", func(c *schedule.Config) { c.WindowEnd = "24:00" }, "WindowEnd"},
		{"minute 60", func(c *schedule.Config) { c.WindowStart = "01:60" }, "WindowStart"},
		{"pause without end", func(c *schedule.Config) { c.SummerPauseFrom = "07-20" }, "SummerPauseTo"},
		{"pause without start", func(c *schedule.Config) { c.SummerPauseTo = "08-15" }, "SummerPauseFrom"},
		{"no such day", func(c *schedule.Config) { c.SummerPauseFrom, c.SummerPauseTo = "02-30", "03-01" }, "SummerPauseFrom"},
		{"no such month", func(c *schedule.Config) { c.SummerPauseFrom, c.SummerPauseTo = "07-20", "13-01" }, "SummerPauseTo"},
		{"pause all year", func(c *schedule.Config) { c.SummerPauseFrom, c.SummerPauseTo = "01-01", "12-31" }, "whole year"},
		{"default cap", func(c *schedule.Config) { c.DefaultCap = 0 }, "DefaultCap"},
		{"vendor cap", func(c *schedule.Config) { c.VendorCaps["esis"] = 0 }, "VendorCaps[esis]"},
		{"empty vendor", func(c *schedule.Config) { c.VendorCaps[""] = 3 }, "VendorCaps"},
		{"backoff base", func(c *schedule.Config) { c.BackoffBase = 0 }, "BackoffBase"},
		{"backoff max", func(c *schedule.Config) { c.BackoffMax = time.Minute }, "BackoffMax"},
		{"attempts", func(c *schedule.Config) { c.MaxAttemptsPerNight = 0 }, "MaxAttemptsPerNight"},
		{"jitter", func(c *schedule.Config) { c.Jitter = -time.Second }, "Jitter"},
		{"sync timeout", func(c *schedule.Config) { c.SyncTimeout = 0 }, "SyncTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := schedule.DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate accepted %+v", c)
			case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || !errors.Is(err, gateway.ErrInvalid)):
				t.Fatalf("Validate = %v, want ErrInvalid naming %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	err := schedule.Config{}.Validate()
	for _, field := range []string{"WindowStart", "WindowEnd", "DefaultCap", "BackoffBase", "MaxAttemptsPerNight", "SyncTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("zero Config: error %v does not name %s", err, field)
		}
	}
}

func TestDefaultConfigIsFresh(t *testing.T) {
	a := schedule.DefaultConfig()
	a.VendorCaps["magister"] = 99
	if b := schedule.DefaultConfig(); b.VendorCaps["magister"] != 4 {
		t.Fatalf("DefaultConfig shares its VendorCaps map")
	}
}

func TestCapFor(t *testing.T) {
	c := schedule.DefaultConfig()
	for vendor, want := range map[string]int{"magister": 4, "esis": 2, "": 8, "standard": 8, "unknown": c.DefaultCap} {
		if got := c.CapFor(vendor); got != want {
			t.Errorf("CapFor(%q) = %d, want %d", vendor, got, want)
		}
	}
}

// TestDefaultCapsAreTheProfiles: the default caps are the vendor table's,
// one per profile; the written-out figures are today's table.
func TestDefaultCapsAreTheProfiles(t *testing.T) {
	c := schedule.DefaultConfig()
	if len(c.VendorCaps) != len(soap.ProfileNames()) {
		t.Errorf("VendorCaps %v, want one per profile %v", c.VendorCaps, soap.ProfileNames())
	}
	for _, p := range soap.Profiles() {
		if c.CapFor(p.Name) != p.DefaultCap {
			t.Errorf("CapFor(%s) = %d, profile's default cap %d", p.Name, c.CapFor(p.Name), p.DefaultCap)
		}
	}
	want := map[string]int{"standard": 8, "magister": 4, "somtoday": 4, "esis": 2, "iddink": 2}
	if !maps.Equal(c.VendorCaps, want) || c.DefaultCap != 2 || schedule.StandardVendor != "standard" {
		t.Errorf("VendorCaps %v, DefaultCap %d, StandardVendor %q; want %v, 2, standard", c.VendorCaps, c.DefaultCap, schedule.StandardVendor, want)
	}
}
