package retention_test

import (
	"errors"
	"testing"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/retention"
)

var amsterdam = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a wall-clock time in Amsterdam.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, amsterdam)
}

func date(t *testing.T, s string) retention.Date {
	t.Helper()
	d, err := retention.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want retention.Date
		ok   bool
	}{
		{"2024-03-15", retention.Date{Year: 2024, Month: time.March, Day: 15}, true},
		{"2024-02-29", retention.Date{Year: 2024, Month: time.February, Day: 29}, true},
		{"2023-02-29", retention.Date{}, false},
		{"2024-3-15", retention.Date{}, false},
		{"15-03-2024", retention.Date{}, false},
		{"2024-03-15T00:00:00Z", retention.Date{}, false},
		{"", retention.Date{}, false},
	}
	for _, tc := range tests {
		got, err := retention.ParseDate(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, gateway.ErrInvalid) {
			t.Errorf("ParseDate(%q): %v, want ErrInvalid", tc.in, err)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("ParseDate(%q).String() = %q", tc.in, got.String())
		}
	}
}

func TestToday(t *testing.T) {
	tests := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 3, 14, 22, 59, 0, 0, time.UTC), "2026-03-14"}, // 23:59 CET
		{time.Date(2026, 3, 14, 23, 0, 0, 0, time.UTC), "2026-03-15"},  // 00:00 CET
		{time.Date(2026, 7, 31, 21, 59, 0, 0, time.UTC), "2026-07-31"}, // 23:59 CEST
		{time.Date(2026, 7, 31, 22, 0, 0, 0, time.UTC), "2026-08-01"},  // 00:00 CEST
		{at(2026, 3, 1, 0, 0), "2026-03-01"},
	}
	for _, tc := range tests {
		if got := retention.Today(tc.now).String(); got != tc.want {
			t.Errorf("Today(%v) = %s, want %s", tc.now, got, tc.want)
		}
	}
}

func TestExpiresOn(t *testing.T) {
	tests := []struct{ start, want string }{
		{"2024-03-15", "2026-03-15"},
		{"2024-02-29", "2026-03-01"}, // no 29 February in 2026: the day after the 28th
		{"2024-02-28", "2026-02-28"},
		{"2026-02-28", "2028-02-28"},
		{"2026-03-01", "2028-03-01"},
		{"2022-02-28", "2024-02-28"},
		{"2023-12-31", "2025-12-31"},
		{"2096-02-29", "2098-03-01"},
	}
	for _, tc := range tests {
		if got := retention.ExpiresOn(date(t, tc.start)).String(); got != tc.want {
			t.Errorf("ExpiresOn(%s) = %s, want %s", tc.start, got, tc.want)
		}
	}
}

func TestPupilExpired(t *testing.T) {
	tests := []struct {
		leftOn, today string
		want          bool
	}{
		{"", "2030-01-01", false},           // current pupil
		{"2024-03-16", "2026-03-15", false}, // 2 years minus a day
		{"2024-03-15", "2026-03-15", true},  // 2 years to the day
		{"2024-03-15", "2026-03-14", false}, // the day before
		{"2020-01-01", "2026-03-15", true},  // long gone
		{"2024-02-29", "2026-02-28", false}, // leap day: still kept on the 28th
		{"2024-02-29", "2026-03-01", true},  // and purged from 1 March
		{"2024-02-28", "2026-02-28", true},  // the 28th is an ordinary day
		{"2024-03-01", "2026-03-01", true},  // so is 1 March
		{"2026-02-28", "2028-02-28", true},  // into a leap year
		{"2026-02-28", "2028-02-27", false}, //
		{"2026-03-01", "2028-02-29", false}, // today 29 February
		{"left a while ago", "2030-01-01", false},
		{"2024-13-01", "2030-01-01", false},
	}
	for _, tc := range tests {
		if got := retention.PupilExpired(tc.leftOn, date(t, tc.today)); got != tc.want {
			t.Errorf("PupilExpired(%q, %s) = %v, want %v", tc.leftOn, tc.today, got, tc.want)
		}
	}
}

// Cutoff and Expired agree: a start expires by today exactly when it is on
// or before Cutoff(today), for every pair of days over a span with three
// leap days.
func TestCutoffAgreesWithExpired(t *testing.T) {
	first := time.Date(2023, 1, 1, 12, 0, 0, 0, time.UTC)
	days := func(t0 time.Time, n int) retention.Date {
		y, m, d := t0.AddDate(0, 0, n).Date()
		return retention.Date{Year: y, Month: m, Day: d}
	}
	for i := 0; i < 365*6; i++ {
		today := days(first.AddDate(2, 0, 0), i)
		cut := retention.Cutoff(today)
		for j := -5; j <= 5; j++ {
			start := days(time.Date(cut.Year, cut.Month, cut.Day, 12, 0, 0, 0, time.UTC), j)
			want := !cut.Before(start)
			if got := retention.Expired(start, today); got != want {
				t.Fatalf("today %s cutoff %s start %s: Expired = %v, want %v", today, cut, start, got, want)
			}
		}
	}
	for _, tc := range []struct{ today, want string }{
		{"2026-03-15", "2024-03-15"},
		{"2026-03-01", "2024-03-01"},
		{"2026-02-28", "2024-02-28"},
		{"2028-02-29", "2026-02-28"},
	} {
		if got := retention.Cutoff(date(t, tc.today)).String(); got != tc.want {
			t.Errorf("Cutoff(%s) = %s, want %s", tc.today, got, tc.want)
		}
	}
}

func TestResultExpired(t *testing.T) {
	tests := []struct {
		name      string
		r         gateway.Result
		pupilGone bool
		today     string
		want      bool
	}{
		{"ordinary result of a current pupil", gateway.Result{Date: "2010-01-01"}, false, "2026-03-15", false},
		{"ordinary result of a purged pupil", gateway.Result{Date: "2026-03-01"}, true, "2026-03-15", true},
		{"trial result of a purged pupil", gateway.Result{Date: "2026-03-01", Trial: true}, true, "2026-03-15", true},
		{"trial result, 2 years to the day", gateway.Result{Date: "2024-03-15", Trial: true}, false, "2026-03-15", true},
		{"trial result, 2 years minus a day", gateway.Result{Date: "2024-03-16", Trial: true}, false, "2026-03-15", false},
		{"trial result on a leap day, 28 Feb", gateway.Result{Date: "2024-02-29", Trial: true}, false, "2026-02-28", false},
		{"trial result on a leap day, 1 Mar", gateway.Result{Date: "2024-02-29", Trial: true}, false, "2026-03-01", true},
		{"trial result without a readable date", gateway.Result{Date: "soon", Trial: true}, false, "2030-01-01", false},
	}
	for _, tc := range tests {
		if got := retention.ResultExpired(tc.r, tc.pupilGone, date(t, tc.today)); got != tc.want {
			t.Errorf("%s: ResultExpired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLoginExpired(t *testing.T) {
	today := retention.Today(at(2026, 3, 15, 10, 0))
	tests := []struct {
		name      string
		l         gateway.Login
		lastUse   time.Time
		pupilGone bool
		want      bool
	}{
		{"account used recently", gateway.Login{At: at(2024, 1, 1, 9, 0)}, at(2026, 1, 1, 9, 0), false, false},
		{"account last used 2 years ago to the day", gateway.Login{At: at(2024, 3, 15, 23, 59)}, at(2024, 3, 15, 23, 59), false, true},
		{"account last used 2 years minus a day", gateway.Login{At: at(2024, 3, 16, 0, 1)}, at(2024, 3, 16, 0, 1), false, false},
		// 2024-03-15 23:30 UTC is already 16 March in Amsterdam.
		{"last use counted in Amsterdam", gateway.Login{At: time.Date(2024, 3, 15, 23, 30, 0, 0, time.UTC)}, time.Time{}, false, false},
		{"pupil gone", gateway.Login{Pupil: "p1", At: at(2026, 3, 1, 9, 0)}, at(2026, 3, 1, 9, 0), true, true},
		{"pupil gone, record without pupil", gateway.Login{At: at(2026, 3, 1, 9, 0)}, at(2026, 3, 1, 9, 0), true, false},
		{"pupil present, account idle", gateway.Login{Pupil: "p1", At: at(2023, 3, 1, 9, 0)}, at(2023, 3, 1, 9, 0), false, true},
		{"lastUse older than the record itself", gateway.Login{At: at(2025, 3, 1, 9, 0)}, at(2020, 1, 1, 0, 0), false, false},
	}
	for _, tc := range tests {
		if got := retention.LoginExpired(tc.l, tc.lastUse, tc.pupilGone, today); got != tc.want {
			t.Errorf("%s: LoginExpired = %v, want %v", tc.name, got, tc.want)
		}
	}
}
