package schedule_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

func TestNextRun(t *testing.T) {
	crossing := exact()
	crossing.WindowStart, crossing.WindowEnd = "22:00", "05:00"
	paused := exact()
	paused.SummerPauseFrom, paused.SummerPauseTo = "07-20", "08-15"
	pausedCrossing := crossing
	pausedCrossing.SummerPauseFrom, pausedCrossing.SummerPauseTo = "07-20", "08-15"
	winter := exact()
	winter.SummerPauseFrom, winter.SummerPauseTo = "12-24", "01-02"
	gap := exact()
	gap.WindowStart, gap.WindowEnd = "02:00", "03:00"
	halfGap := exact()
	halfGap.WindowStart, halfGap.WindowEnd = "02:30", "05:00"

	type st = gateway.ScheduleState
	tests := []struct {
		name   string
		cfg    schedule.Config
		state  st
		now    time.Time
		want   time.Time
		reason string
	}{
		// A normal weekday night (Monday 6 October 2025).
		{"before the window", exact(), st{}, at(t, "2025-10-06 00:30"), at(t, "2025-10-06 01:00"), "nightly"},
		{"at the opening", exact(), st{}, at(t, "2025-10-06 01:00"), at(t, "2025-10-06 01:00"), "nightly"},
		{"in the window, not yet synced: due", exact(), st{}, at(t, "2025-10-06 03:00"), at(t, "2025-10-06 01:00"), "nightly"},
		{"last minute of the window", exact(), st{}, at(t, "2025-10-06 05:59:59"), at(t, "2025-10-06 01:00"), "nightly"},
		{"window closed: missed nights are not made up", exact(), st{}, at(t, "2025-10-06 06:00"), at(t, "2025-10-07 01:00"), "nightly"},
		{"school hours", exact(), st{}, at(t, "2025-10-06 12:00"), at(t, "2025-10-07 01:00"), "nightly"},
		{"synced last night", exact(), st{LastSuccessAt: at(t, "2025-10-05 01:00:05"), LastAttemptAt: at(t, "2025-10-05 01:00:05")},
			at(t, "2025-10-06 02:00"), at(t, "2025-10-06 01:00"), "nightly"},
		{"already synced tonight", exact(), st{LastSuccessAt: at(t, "2025-10-06 01:00:05"), LastAttemptAt: at(t, "2025-10-06 01:00:05")},
			at(t, "2025-10-06 03:00"), at(t, "2025-10-07 01:00"), "nightly"},
		{"manual sync in the afternoon does not skip the night", exact(), st{LastSuccessAt: at(t, "2025-10-06 14:00"), LastAttemptAt: at(t, "2025-10-06 14:00")},
			at(t, "2025-10-06 14:05"), at(t, "2025-10-07 01:00"), "nightly"},

		// Weekends are nights like any other.
		{"saturday night", exact(), st{}, at(t, "2025-10-11 02:00"), at(t, "2025-10-11 01:00"), "nightly"},
		{"sunday afternoon", exact(), st{}, at(t, "2025-10-12 14:00"), at(t, "2025-10-13 01:00"), "nightly"},

		// Summer pause 20 July - 15 August, both inclusive.
		{"last night before the pause", paused, st{}, at(t, "2025-07-19 03:00"), at(t, "2025-07-19 01:00"), "nightly"},
		{"after the last night before the pause", paused, st{}, at(t, "2025-07-19 07:00"), at(t, "2025-08-16 01:00"), "summer pause until 15 Aug"},
		{"first night of the pause", paused, st{}, at(t, "2025-07-20 01:30"), at(t, "2025-08-16 01:00"), "summer pause until 15 Aug"},
		{"last night of the pause", paused, st{}, at(t, "2025-08-15 03:00"), at(t, "2025-08-16 01:00"), "summer pause until 15 Aug"},
		{"first night after the pause", paused, st{}, at(t, "2025-08-16 00:59"), at(t, "2025-08-16 01:00"), "nightly"},
		{"a pause over the new year", winter, st{}, at(t, "2025-12-23 10:00"), at(t, "2026-01-03 01:00"), "summer pause until 2 Jan"},
		{"pause and crossing window: the night is dated by its opening", pausedCrossing, st{}, at(t, "2025-07-20 04:00"), at(t, "2025-07-19 22:00"), "nightly"},
		{"pause and crossing window: first paused night", pausedCrossing, st{}, at(t, "2025-07-20 05:00"), at(t, "2025-08-16 22:00"), "summer pause until 15 Aug"},

		// A window crossing midnight (22:00-05:00).
		{"crossing: evening before", crossing, st{}, at(t, "2025-10-06 21:00"), at(t, "2025-10-06 22:00"), "nightly"},
		{"crossing: after midnight, night still open", crossing, st{}, at(t, "2025-10-07 02:00"), at(t, "2025-10-06 22:00"), "nightly"},
		{"crossing: closed", crossing, st{}, at(t, "2025-10-07 05:00"), at(t, "2025-10-07 22:00"), "nightly"},
		{"crossing: synced before midnight", crossing, st{LastSuccessAt: at(t, "2025-10-06 23:00"), LastAttemptAt: at(t, "2025-10-06 23:00")},
			at(t, "2025-10-07 03:00"), at(t, "2025-10-07 22:00"), "nightly"},
		{"crossing: friday night into saturday", crossing, st{}, at(t, "2025-10-11 01:00"), at(t, "2025-10-10 22:00"), "nightly"},

		// Spring change, Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST.
		{"spring: opening is 01:00 CET", exact(), st{}, utc(t, "2026-03-28T23:30:00Z"), utc(t, "2026-03-29T00:00:00Z"), "nightly"},
		{"spring: after the jump, still open", exact(), st{}, utc(t, "2026-03-29T03:59:00Z"), utc(t, "2026-03-29T00:00:00Z"), "nightly"},
		{"spring: closes at 06:00 CEST, an hour early in real time", exact(), st{}, utc(t, "2026-03-29T04:00:00Z"), utc(t, "2026-03-29T23:00:00Z"), "nightly"},
		{"spring: a window inside the gap has no slot that night", gap, st{}, at(t, "2026-03-28 12:00"), at(t, "2026-03-30 02:00"), "nightly"},
		{"spring: a window opening in the gap opens at the jump", halfGap, st{}, at(t, "2026-03-28 12:00"), utc(t, "2026-03-29T01:00:00Z"), "nightly"},

		// Autumn change, Sunday 26 October 2025: 03:00 CEST goes back to 02:00 CET.
		{"autumn: opening 01:00 CEST", exact(), st{}, utc(t, "2025-10-25T22:30:00Z"), utc(t, "2025-10-25T23:00:00Z"), "nightly"},
		{"autumn: closes at 06:00 CET, six real hours later", exact(), st{}, utc(t, "2025-10-26T04:59:00Z"), utc(t, "2025-10-25T23:00:00Z"), "nightly"},
		{"autumn: 02:00-03:00 opens at the first 02:00", gap, st{}, utc(t, "2025-10-25T23:30:00Z"), utc(t, "2025-10-26T00:00:00Z"), "nightly"},
		{"autumn: synced at 02:30 CEST, not again at 02:30 CET", gap,
			st{LastSuccessAt: utc(t, "2025-10-26T00:30:00Z"), LastAttemptAt: utc(t, "2025-10-26T00:30:00Z")},
			utc(t, "2025-10-26T01:30:00Z"), at(t, "2025-10-27 02:00"), "nightly"},
		{"autumn: the repeated hour is still the window", gap, st{}, utc(t, "2025-10-26T01:59:00Z"), utc(t, "2025-10-26T00:00:00Z"), "nightly"},
		{"autumn: closes at 03:00 CET", gap, st{}, utc(t, "2025-10-26T02:00:00Z"), at(t, "2025-10-27 02:00"), "nightly"},

		// An attempt with no outcome recorded counts as one failure.
		{"attempt without outcome", exact(), st{LastAttemptAt: at(t, "2025-10-06 01:00")},
			at(t, "2025-10-06 01:01"), at(t, "2025-10-06 01:15"), "retry after 1 failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.cfg.NextRun(school("12AB00"), tc.state, tc.now)
			if !got.Equal(tc.want) {
				t.Errorf("NextRun = %s, want %s", got.In(ams), tc.want.In(ams))
			}
			up := tc.cfg.Upcoming([]gateway.School{school("12AB00")}, map[gateway.SchoolID]gateway.ScheduleState{"12AB00": tc.state}, tc.now, 0)
			if len(up) != 1 || !up[0].At.Equal(tc.want) || up[0].Reason != tc.reason {
				t.Errorf("Upcoming = %+v, want At %s reason %q", up, tc.want.In(ams), tc.reason)
			}
			due := tc.cfg.IsDue(school("12AB00"), tc.state, tc.now)
			if want := !tc.want.After(tc.now); due != want {
				t.Errorf("IsDue = %v, want %v", due, want)
			}
		})
	}
}

// TestBackoff pins the retry rules for n = 1..6 failed nights, the last
// failure at the school's start time 01:00 on Monday 6 October 2025.
func TestBackoff(t *testing.T) {
	cfg := exact() // base 15m, max 2h, 3 attempts a night
	failed := func(n int, last string) gateway.ScheduleState {
		return gateway.ScheduleState{
			LastSuccessAt: at(t, "2025-09-20 01:00"),
			LastAttemptAt: at(t, last),
			Failures:      n,
		}
	}
	tests := []struct {
		n      int
		last   string // last failed attempt
		now    string
		want   string
		reason string
	}{
		// In the same night: retry after min(15m * 2^(n-1), 2h).
		{1, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 01:15", "retry after 1 failure"},
		{2, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 01:30", "retry after 2 failures"},
		{3, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 02:00", "retry after 3 failures"},
		{4, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 03:00", "retry after 4 failures"},
		{5, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 03:00", "retry after 5 failures"},
		{6, "2025-10-06 01:00", "2025-10-06 01:01", "2025-10-06 03:00", "retry after 6 failures"},
		// The retry time has come: due.
		{1, "2025-10-06 01:00", "2025-10-06 01:20", "2025-10-06 01:15", "retry after 1 failure"},
		// Third attempt started at 01:30 (start + 2 waits): the night's
		// attempts are used up.
		{1, "2025-10-06 01:29", "2025-10-06 01:31", "2025-10-06 01:44", "retry after 1 failure"},
		{1, "2025-10-06 01:30", "2025-10-06 01:31", "2025-10-07 01:00", "nightly, failed 1 night"},
		// The retry would fall at or after the window's end.
		{4, "2025-10-06 03:59", "2025-10-06 04:00", "2025-10-06 05:59", "retry after 4 failures"},
		{4, "2025-10-06 04:00", "2025-10-06 04:01", "2025-10-10 01:00", "backoff: failed 4 nights, next try in 4 nights"},
		// Attempts are counted from the start time: a first attempt that
		// ran late (the gateway was down) leaves no retries that night.
		{1, "2025-10-06 05:00", "2025-10-06 05:01", "2025-10-07 01:00", "nightly, failed 1 night"},
		// The following nights: every night below 3, then every 2^(n-2)
		// nights, at most weekly.
		{1, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-07 01:00", "nightly, failed 1 night"},
		{2, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-07 01:00", "nightly, failed 2 nights"},
		{3, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-08 01:00", "backoff: failed 3 nights, next try in 2 nights"},
		{4, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-10 01:00", "backoff: failed 4 nights, next try in 4 nights"},
		{5, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-13 01:00", "backoff: failed 5 nights, next try in 7 nights"},
		{6, "2025-10-06 01:00", "2025-10-06 07:00", "2025-10-13 01:00", "backoff: failed 6 nights, next try in 7 nights"},
		{4, "2025-10-06 01:00", "2025-10-08 12:00", "2025-10-10 01:00", "backoff: failed 4 nights, next try in 2 nights"},
		{4, "2025-10-06 01:00", "2025-10-10 02:00", "2025-10-10 01:00", "backoff: failed 4 nights, trying tonight"},
		// A failed manual sync in the afternoon belongs to that day's night.
		{1, "2025-10-06 14:00", "2025-10-06 14:01", "2025-10-07 01:00", "nightly, failed 1 night"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d/last=%s/now=%s", tc.n, tc.last, tc.now), func(t *testing.T) {
			st := failed(tc.n, tc.last)
			now := at(t, tc.now)
			got := cfg.NextRun(school("12AB00"), st, now)
			if want := at(t, tc.want); !got.Equal(want) {
				t.Errorf("NextRun = %s, want %s", got.In(ams), want.In(ams))
			}
			up := cfg.Upcoming([]gateway.School{school("12AB00")}, map[gateway.SchoolID]gateway.ScheduleState{"12AB00": st}, now, 1)
			if len(up) != 1 || up[0].Reason != tc.reason {
				t.Errorf("Upcoming = %+v, want reason %q", up, tc.reason)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	cfg := exact()
	night1 := at(t, "2025-10-06 01:00")
	night1b := at(t, "2025-10-06 01:15")
	night2 := at(t, "2025-10-07 01:00")
	ok := gateway.ScheduleState{LastAttemptAt: at(t, "2025-10-05 01:00"), LastSuccessAt: at(t, "2025-10-05 01:00")}

	s := cfg.Record(ok, night1, false)
	if s.Failures != 1 || !s.LastAttemptAt.Equal(night1) || !s.LastSuccessAt.Equal(ok.LastSuccessAt) {
		t.Fatalf("first failure: %+v", s)
	}
	s = cfg.Record(s, night1b, false)
	if s.Failures != 1 || !s.LastAttemptAt.Equal(night1b) {
		t.Fatalf("second failure in the same night must not count again: %+v", s)
	}
	s = cfg.Record(s, night2, false)
	if s.Failures != 2 {
		t.Fatalf("failure the next night: %+v", s)
	}
	s = cfg.Record(s, at(t, "2025-10-07 01:15"), true)
	if want := (gateway.ScheduleState{LastAttemptAt: at(t, "2025-10-07 01:15"), LastSuccessAt: at(t, "2025-10-07 01:15")}); s != want {
		t.Fatalf("success: %+v, want %+v", s, want)
	}
	// An attempt marked without outcome, then a failure in the same night:
	// the night counts once.
	s = cfg.Record(gateway.ScheduleState{LastAttemptAt: night1}, night1b, false)
	if s.Failures != 1 {
		t.Fatalf("failure after an unrecorded attempt: %+v", s)
	}
}

func TestDue(t *testing.T) {
	cfg := exact()
	schools := []gateway.School{school("A"), school("B"), school("C"), school("D"), {ID: "E"}}
	states := map[gateway.SchoolID]gateway.ScheduleState{
		// B was synced tonight.
		"B": {LastAttemptAt: at(t, "2025-10-06 01:00:10"), LastSuccessAt: at(t, "2025-10-06 01:00:10")},
		// C failed at 01:10: retry at 01:25.
		"C": {LastAttemptAt: at(t, "2025-10-06 01:10"), Failures: 1},
		// D failed at 01:00: retry at 01:15, overdue.
		"D": {LastAttemptAt: at(t, "2025-10-06 01:00"), Failures: 1},
		// E was synced last night.
		"E": {LastAttemptAt: at(t, "2025-10-05 01:00:10"), LastSuccessAt: at(t, "2025-10-05 01:00:10")},
	}
	tests := []struct {
		name string
		cfg  schedule.Config
		now  time.Time
		want []gateway.SchoolID
	}{
		{"in the window, by next run time then id", cfg, at(t, "2025-10-06 01:20"), []gateway.SchoolID{"A", "E", "D"}},
		{"later: C's retry has come", cfg, at(t, "2025-10-06 03:00"), []gateway.SchoolID{"A", "E", "D", "C"}},
		{"before the window", cfg, at(t, "2025-10-06 00:59"), nil},
		{"after the window", cfg, at(t, "2025-10-06 06:00"), nil},
		{"school hours", cfg, at(t, "2025-10-06 10:00"), nil},
		{"invalid config", schedule.Config{}, at(t, "2025-10-06 03:00"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.Due(schools, states, tc.now)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Due = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDueAgreesWithNextRun: Due is exactly the schools whose NextRun has
// come, in NextRun order, for spread start times and mixed states.
func TestDueAgreesWithNextRun(t *testing.T) {
	cfg := schedule.DefaultConfig()
	var schools []gateway.School
	states := map[gateway.SchoolID]gateway.ScheduleState{}
	start := at(t, "2025-10-06 00:00")
	for i := range 200 {
		id := gateway.SchoolID(string(rune('A'+i%26)) + string(rune('a'+i/26)) + "00")
		schools = append(schools, gateway.School{ID: id, Vendor: "somtoday"})
		switch i % 4 {
		case 1:
			states[id] = gateway.ScheduleState{LastSuccessAt: start.Add(time.Duration(i) * 97 * time.Second), LastAttemptAt: start.Add(time.Duration(i) * 97 * time.Second)}
		case 2:
			states[id] = gateway.ScheduleState{LastAttemptAt: start.Add(time.Duration(i) * 83 * time.Second), Failures: 1 + i%6}
		}
	}
	for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(7 * time.Minute) {
		got := cfg.Due(schools, states, now)
		var want []gateway.SchoolID
		for _, s := range schools {
			if cfg.IsDue(s, states[s.ID], now) {
				want = append(want, s.ID)
			}
		}
		slices.SortFunc(want, func(a, b gateway.SchoolID) int {
			ta, tb := cfg.NextRun(gateway.School{ID: a}, states[a], now), cfg.NextRun(gateway.School{ID: b}, states[b], now)
			return cmp.Or(ta.Compare(tb), cmp.Compare(a, b))
		})
		if !slices.Equal(got, want) {
			t.Fatalf("at %s: Due = %v, want %v", now.In(ams), got, want)
		}
	}
}

// TestStartTimesArePinned: the start time is a function of school id and
// date only, the same in every process and every release; changing the
// hash moves every school at once.
func TestStartTimesArePinned(t *testing.T) {
	cfg := schedule.DefaultConfig()
	tests := []struct {
		id    gateway.SchoolID
		night string // a time before the night's window
		want  time.Time
	}{
		{"12AB00", "2025-10-06 00:00", at(t, "2025-10-06 03:30")},
		{"12AB01", "2025-10-06 00:00", at(t, "2025-10-06 03:48")},
		{"99ZZ00", "2025-10-06 00:00", at(t, "2025-10-06 02:00")},
		{"12AB00", "2025-10-07 00:00", at(t, "2025-10-07 01:28")},
		{"12AB00", "2025-10-26 00:00", utc(t, "2025-10-26T03:43:00Z")}, // autumn change: 04:43 CET
		{"12AB00", "2026-03-29 00:00", utc(t, "2026-03-29T01:01:00Z")}, // spring change: 03:01 CEST
	}
	for _, tc := range tests {
		got := cfg.NextRun(gateway.School{ID: tc.id}, gateway.ScheduleState{}, at(t, tc.night))
		if !got.Equal(tc.want) {
			t.Errorf("%s night %s: start %s, want %s", tc.id, tc.night, got.UTC().Format(time.RFC3339), tc.want.UTC().Format(time.RFC3339))
		}
	}
}

func TestJitterNarrowsTheSpread(t *testing.T) {
	cfg := schedule.DefaultConfig()
	cfg.Jitter = 20 * time.Minute
	open := at(t, "2025-10-06 01:00")
	for i := range 300 {
		id := gateway.SchoolID(string(rune('A'+i%26)) + string(rune('A'+i/26%26)) + "01")
		got := cfg.NextRun(gateway.School{ID: id}, gateway.ScheduleState{}, at(t, "2025-10-06 00:00"))
		if got.Before(open) || !got.Before(open.Add(20*time.Minute)) {
			t.Fatalf("%s: start %s outside 01:00-01:20", id, got.In(ams))
		}
	}
}

func TestInvalidConfigNeverRuns(t *testing.T) {
	var cfg schedule.Config
	now := at(t, "2025-10-06 03:00")
	if got := cfg.NextRun(school("12AB00"), gateway.ScheduleState{}, now); !got.IsZero() {
		t.Errorf("NextRun = %s, want zero", got)
	}
	if cfg.IsDue(school("12AB00"), gateway.ScheduleState{}, now) {
		t.Error("IsDue on an invalid config")
	}
	if up := cfg.Upcoming([]gateway.School{school("12AB00")}, nil, now, 0); up != nil {
		t.Errorf("Upcoming = %v", up)
	}
}

func TestSchoolHours(t *testing.T) {
	tests := []struct {
		now  time.Time
		want bool
	}{
		{at(t, "2025-10-06 07:59:59"), false},
		{at(t, "2025-10-06 08:00"), true},
		{at(t, "2025-10-06 15:59:59"), true},
		{at(t, "2025-10-06 16:00"), false},
		{at(t, "2025-10-10 12:00"), true},  // Friday
		{at(t, "2025-10-11 12:00"), false}, // Saturday
		{at(t, "2025-10-12 12:00"), false}, // Sunday
		{utc(t, "2025-10-06T06:30:00Z"), true},
	}
	for _, tc := range tests {
		if got := schedule.InSchoolHours(tc.now); got != tc.want {
			t.Errorf("InSchoolHours(%s) = %v, want %v", tc.now.In(ams), got, tc.want)
		}
	}
	next := []struct{ now, want time.Time }{
		{at(t, "2025-10-06 03:00"), at(t, "2025-10-06 08:00")},
		{at(t, "2025-10-10 17:00"), at(t, "2025-10-13 08:00")}, // Friday evening: Monday
		{at(t, "2025-10-11 03:00"), at(t, "2025-10-13 08:00")},
	}
	for _, tc := range next {
		if got := schedule.NextSchoolHours(tc.now); !got.Equal(tc.want) {
			t.Errorf("next school hours after %s = %s, want %s", tc.now.In(ams), got.In(ams), tc.want.In(ams))
		}
	}
}
