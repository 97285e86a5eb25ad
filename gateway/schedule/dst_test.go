package schedule_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

// TestDSTNights walks the nights of both clock changes minute by minute
// with 1000 schools that succeed: each starts exactly once, only inside
// the window's real span, and the starts use all of that span.
func TestDSTNights(t *testing.T) {
	short := schedule.DefaultConfig()
	short.WindowStart, short.WindowEnd = "02:00", "03:00"
	tests := []struct {
		name        string
		cfg         schedule.Config
		open, close string // the window's real span (UTC); equal when empty
		bothOffsets bool   // starts on both sides of the autumn change
	}{
		// 01:00 CET to 06:00 CEST: four real hours.
		{"spring 01:00-06:00", schedule.DefaultConfig(), "2026-03-29T00:00:00Z", "2026-03-29T04:00:00Z", false},
		// 02:00-03:00 does not exist that night: no starts at all.
		{"spring 02:00-03:00", short, "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z", false},
		// 01:00 CEST to 06:00 CET: six real hours.
		{"autumn 01:00-06:00", schedule.DefaultConfig(), "2025-10-25T23:00:00Z", "2025-10-26T05:00:00Z", true},
		// 02:00 CEST to 03:00 CET: the hour twice, two real hours.
		{"autumn 02:00-03:00", short, "2025-10-26T00:00:00Z", "2025-10-26T02:00:00Z", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open, closing := utc(t, tc.open), utc(t, tc.close)
			var schools []gateway.School
			for i := range 1000 {
				schools = append(schools, gateway.School{ID: gateway.SchoolID(fmt.Sprintf("%04dXY", i))})
			}
			states := map[gateway.SchoolID]gateway.ScheduleState{}
			starts := map[gateway.SchoolID]int{}
			offsets := map[int]int{}
			var first, last time.Time
			for now := open.Add(-3 * time.Hour); now.Before(closing.Add(3 * time.Hour)); now = now.Add(time.Minute) {
				for _, id := range tc.cfg.Due(schools, states, now) {
					if now.Before(open) || !now.Before(closing) {
						t.Fatalf("%s starts at %s, outside %s-%s", id, now.In(ams), open.In(ams), closing.In(ams))
					}
					starts[id]++
					states[id] = tc.cfg.Record(states[id], now, true)
					_, off := now.In(ams).Zone()
					offsets[off]++
					if first.IsZero() {
						first = now
					}
					last = now
				}
			}
			if open.Equal(closing) {
				if len(starts) != 0 {
					t.Fatalf("%d starts in an empty window", len(starts))
				}
				return
			}
			for _, s := range schools {
				if starts[s.ID] != 1 {
					t.Errorf("%s started %d times, want once", s.ID, starts[s.ID])
				}
			}
			if first.Sub(open) > time.Minute || closing.Sub(last) > 5*time.Minute {
				t.Errorf("starts span %s-%s, want about %s-%s", first.In(ams), last.In(ams), open.In(ams), closing.In(ams))
			}
			if tc.bothOffsets && (offsets[7200] == 0 || offsets[3600] == 0) {
				t.Errorf("starts per UTC offset %v: want some in CEST and in CET", offsets)
			}
		})
	}
}
