package config_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// TestVendorCapsFollowTheProfiles holds the schedule.cap_<name> keys to the
// vendor table: one key per profile, none for a vendor the table does not
// know, and each default equal to the profile's default cap. A vendor added
// to the table needs its cap_<name> field here (and in the example file
// and README).
func TestVendorCapsFollowTheProfiles(t *testing.T) {
	caps := config.Default().Schedule.VendorCaps()
	if got, want := slices.Sorted(maps.Keys(caps)), soap.ProfileNames(); !slices.Equal(got, want) {
		t.Errorf("schedule.cap_<name> keys for %v, want one per vendor profile %v", got, want)
	}
	for _, p := range soap.Profiles() {
		if caps[p.Name] != p.DefaultCap {
			t.Errorf("default schedule.cap_%s = %d, profile %s's default cap is %d", p.Name, caps[p.Name], p.Name, p.DefaultCap)
		}
	}
}

func TestVendorCapsReadTheKeys(t *testing.T) {
	clearEnv(t)
	c, err := load(t, "schedule:\n  cap_esis: 5\n  cap_standard: 11\n  default_cap: 3\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"esis": 5, "iddink": 2, "magister": 4, "somtoday": 4, "standard": 11}
	if got := c.Schedule.VendorCaps(); !maps.Equal(got, want) {
		t.Errorf("VendorCaps = %v, want %v", got, want)
	}
	if c.Schedule.DefaultCap != 3 {
		t.Errorf("default_cap = %d", c.Schedule.DefaultCap)
	}
	c.Schedule.CapMagister = 9
	if got := c.Schedule.VendorCaps()["magister"]; got != 9 {
		t.Errorf("VendorCaps()[magister] = %d after setting CapMagister, want 9", got)
	}
}

func TestVendorCapsAreValidated(t *testing.T) {
	clearEnv(t)
	for vendor := range config.Default().Schedule.VendorCaps() {
		_, err := load(t, "schedule:\n  cap_"+vendor+": 0\n")
		if err == nil || !strings.Contains(err.Error(), "schedule.cap_"+vendor+": must be >= 1, got 0") {
			t.Errorf("cap_%s 0: error %v, want it named", vendor, err)
		}
	}
	c := config.Default()
	c.Schedule.DefaultCap = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "schedule.default_cap: must be >= 1, got 0") {
		t.Errorf("default_cap 0: error %v", err)
	}
}
