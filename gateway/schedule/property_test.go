package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/schedule"
)

// TestFortnightMinuteByMinute plays 14 days (20 October - 2 November 2025,
// across the autumn change) minute by minute against 500 random schools,
// one in ten of which always fails, syncing whatever Due returns and
// recording the outcome as a caller would. It checks that every start is
// inside the window and never in school hours, that a healthy school runs
// exactly once per night (never in a paused night), that a failing school
// keeps to the backoff rules, and that starts are spread over the window.
func TestFortnightMinuteByMinute(t *testing.T) {
	crossing := schedule.DefaultConfig()
	crossing.WindowStart, crossing.WindowEnd = "22:00", "05:00"
	crossing.SummerPauseFrom, crossing.SummerPauseTo = "10-25", "10-27" // a pause, to see it kept
	tests := []struct {
		name       string
		cfg        schedule.Config
		start, end int // window, minutes after midnight
	}{
		{"default 01:00-06:00", schedule.DefaultConfig(), 60, 360},
		{"crossing 22:00-05:00 with a pause", crossing, 22 * 60, 5 * 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { fortnight(t, tc.cfg, tc.start, tc.end) })
	}
}

func fortnight(t *testing.T, cfg schedule.Config, winStart, winEnd int) {
	rng := rand.New(rand.NewPCG(20251020, 1))
	vendors := []string{"magister", "somtoday", "esis", "", "iddink"}
	var schools []gateway.School
	failing := map[gateway.SchoolID]bool{}
	for len(schools) < 500 {
		id := gateway.SchoolID(fmt.Sprintf("%02d%c%c%02d", rng.IntN(100), 'A'+rng.IntN(26), 'A'+rng.IntN(26), rng.IntN(100)))
		if slices.ContainsFunc(schools, func(s gateway.School) bool { return s.ID == id }) {
			continue
		}
		schools = append(schools, gateway.School{ID: id, Vendor: vendors[rng.IntN(len(vendors))]})
		failing[id] = rng.IntN(10) == 0
	}
	inWindow := func(m int) bool {
		if winStart < winEnd {
			return m >= winStart && m < winEnd
		}
		return m >= winStart || m < winEnd
	}
	// nightOf names the night of a start inside the window by its opening date.
	nightOf := func(l time.Time) string {
		if l.Hour()*60+l.Minute() < winStart {
			l = l.AddDate(0, 0, -1)
		}
		return l.Format("2006-01-02")
	}

	states := map[gateway.SchoolID]gateway.ScheduleState{}
	attempts := map[gateway.SchoolID]map[string]int{}
	perMinute := map[int]int{}
	starts := 0
	begin, end := at(t, "2025-10-20 00:00"), at(t, "2025-11-03 00:00")
	firstOpen := time.Date(2025, 10, 20, winStart/60, winStart%60, 0, 0, ams)
	for now := begin; now.Before(end); now = now.Add(time.Minute) {
		for _, id := range cfg.Due(schools, states, now) {
			l := now.In(ams)
			m := l.Hour()*60 + l.Minute()
			if !inWindow(m) {
				t.Fatalf("%s due at %s, outside the window", id, l)
			}
			if wd := l.Weekday(); wd != time.Saturday && wd != time.Sunday && m >= 8*60 && m < 16*60 {
				t.Fatalf("%s due at %s, in school hours", id, l)
			}
			if attempts[id] == nil {
				attempts[id] = map[string]int{}
			}
			attempts[id][nightOf(l)]++
			states[id] = cfg.Record(states[id], now, !failing[id])
			// Count the spread in whole nights: the first minute of a
			// fortnight starting inside a window catches up on that night.
			if !failing[id] && !now.Before(firstOpen) {
				perMinute[m]++
				starts++
			}
		}
	}

	// Nights wholly inside the fortnight, and the pause.
	var full []string
	for d := at(t, "2025-10-20 12:00"); ; d = d.AddDate(0, 0, 1) {
		openAt := time.Date(d.Year(), d.Month(), d.Day(), winStart/60, winStart%60, 0, 0, ams)
		closeAt := time.Date(d.Year(), d.Month(), d.Day(), winEnd/60, winEnd%60, 0, 0, ams)
		if winEnd <= winStart {
			closeAt = closeAt.AddDate(0, 0, 1)
		}
		if closeAt.After(end) {
			break
		}
		if openAt.Before(begin) {
			continue
		}
		full = append(full, d.Format("2006-01-02"))
	}
	if len(full) < 13 {
		t.Fatalf("only %d whole nights: %v", len(full), full)
	}
	pausedNight := func(n string) bool {
		return cfg.SummerPauseFrom != "" && n[5:] >= cfg.SummerPauseFrom && n[5:] <= cfg.SummerPauseTo
	}

	for _, s := range schools {
		got := attempts[s.ID]
		if !failing[s.ID] {
			for _, n := range full {
				want := 1
				if pausedNight(n) {
					want = 0
				}
				if got[n] != want {
					t.Errorf("healthy %s: %d starts in night %s, want %d", s.ID, got[n], n, want)
				}
			}
			for n, k := range got {
				if k > 1 {
					t.Errorf("healthy %s: %d starts in night %s", s.ID, k, n)
				}
			}
			continue
		}
		checkBackoff(t, cfg, s.ID, got, full, pausedNight)
	}

	mean := float64(starts) / float64(windowMinutes(winStart, winEnd))
	most, at := 0, 0
	for m, k := range perMinute {
		if k > most {
			most, at = k, m
		}
	}
	if float64(most) > 3*mean {
		t.Errorf("%02d:%02d holds %d starts, more than 3x the mean %.1f", at/60, at%60, most, mean)
	}
	t.Logf("%d healthy starts, %.1f per minute on average, at most %d", starts, mean, most)
}

// checkBackoff checks a school that always fails: at most
// MaxAttemptsPerNight attempts in a night, the first whole night tried, and
// after k failed nights the next try in the first unpaused night at least
// nightGap(k) nights later (1, 1, 2, 4, 7, 7, ...).
func checkBackoff(t *testing.T, cfg schedule.Config, id gateway.SchoolID, got map[string]int, full []string, paused func(string) bool) {
	t.Helper()
	gap := func(k int) int {
		switch {
		case k < 3:
			return 1
		case k >= 5:
			return 7
		}
		return 1 << (k - 2)
	}
	var tried []int // indexes into full
	failedBefore := 0
	for n, k := range got {
		if k > cfg.MaxAttemptsPerNight {
			t.Errorf("failing %s: %d attempts in night %s", id, k, n)
		}
		if i := slices.Index(full, n); i >= 0 {
			tried = append(tried, i)
		} else {
			failedBefore++ // the partial night before the first whole one
		}
	}
	slices.Sort(tried)
	// The model: which whole nights it must try.
	var want []int
	k, last := failedBefore, -1 // a partial night is the one before full[0]
	for i, n := range full {
		if paused(n) {
			continue
		}
		if k == 0 || i-last >= gap(k) {
			want = append(want, i)
			k, last = k+1, i
		}
	}
	if !slices.Equal(tried, want) {
		t.Errorf("failing %s: tried nights %v, want %v (of %v)", id, tried, want, full)
	}
}

func windowMinutes(start, end int) int {
	if end > start {
		return end - start
	}
	return 24*60 - start + end
}
