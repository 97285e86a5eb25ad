package main

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway/config"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// TestScheduleConfigCaps: every schedule.cap_<profile> key reaches the
// scheduler under its profile name, and other vendors get default_cap.
func TestScheduleConfigCaps(t *testing.T) {
	a := &edge{cfg: config.Default()}
	a.cfg.Schedule.CapEsis, a.cfg.Schedule.CapStandard, a.cfg.Schedule.DefaultCap = 7, 13, 3
	sc := a.scheduleConfig()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	want := a.cfg.Schedule.VendorCaps()
	for _, name := range soap.ProfileNames() {
		if got := sc.CapFor(name); got != want[name] || got < 1 {
			t.Errorf("CapFor(%s) = %d, want %d", name, got, want[name])
		}
	}
	if sc.CapFor("esis") != 7 || sc.CapFor("") != 13 || sc.CapFor("parnassys") != 3 {
		t.Errorf("CapFor esis %d, \"\" %d, parnassys %d; want 7, 13, 3", sc.CapFor("esis"), sc.CapFor(""), sc.CapFor("parnassys"))
	}
}
