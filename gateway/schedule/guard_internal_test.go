package schedule

import (
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// TestGuardSkipsSchoolHours: Validate refuses a window in school hours, so
// the planner's own check cannot be reached through the API. Built around
// Validate, a 09:00-10:00 window must yield only weekend starts.
func TestGuardSkipsSchoolHours(t *testing.T) {
	p := parsed{start: 9 * 60, end: 10 * 60, base: 15 * time.Minute, max: 2 * time.Hour, attempts: 3}
	monday := time.Date(2025, 10, 6, 0, 0, 0, 0, amsterdam)
	for i := range 50 {
		id := gateway.SchoolID(string(rune('A'+i%26)) + string(rune('a'+i/26)))
		got, _ := newPlanner(p, monday).next(id, gateway.ScheduleState{}, maxNights)
		if InSchoolHours(got) {
			t.Fatalf("%s: start %s in school hours", id, got)
		}
		if l := got.In(amsterdam); l.Weekday() != time.Saturday || l.Day() != 11 {
			t.Fatalf("%s: start %s, want Saturday 11 October", id, l)
		}
	}
}
