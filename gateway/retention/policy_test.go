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
		cut, tcut := retention.Cutoff(today), retention.TextCutoff(today)
		for j := -5; j <= 5; j++ {
			start := days(time.Date(cut.Year, cut.Month, cut.Day, 12, 0, 0, 0, time.UTC), j)
			want := !cut.Before(start)
			if got := retention.Expired(start, today); got != want {
				t.Fatalf("today %s cutoff %s start %s: Expired = %v, want %v", today, cut, start, got, want)
			}
			start = days(time.Date(tcut.Year, tcut.Month, tcut.Day, 12, 0, 0, 0, time.UTC), j)
			want = !tcut.Before(start)
			if got := retention.ExpiredYears(start, today, retention.TextPeriod); got != want {
				t.Fatalf("today %s text cutoff %s start %s: ExpiredYears = %v, want %v", today, tcut, start, got, want)
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

// Login records go two years after the login, however often the account
// was used since; a record of a pupil who is gone goes at once.
func TestLoginExpired(t *testing.T) {
	today := retention.Today(at(2026, 3, 15, 10, 0))
	tests := []struct {
		name      string
		l         gateway.Login
		pupilGone bool
		want      bool
	}{
		{"login 2 years ago to the day", gateway.Login{At: at(2024, 3, 15, 23, 59)}, false, true},
		{"login 2 years minus a day ago", gateway.Login{At: at(2024, 3, 16, 0, 1)}, false, false},
		// 2024-03-15 23:30 UTC is already 16 March in Amsterdam.
		{"counted in Amsterdam", gateway.Login{At: time.Date(2024, 3, 15, 23, 30, 0, 0, time.UTC)}, false, false},
		{"old login of an account in use every day", gateway.Login{Account: "daily", At: at(2023, 1, 1, 9, 0)}, false, true},
		{"pupil gone", gateway.Login{Pupil: "p1", At: at(2026, 3, 1, 9, 0)}, true, true},
		{"pupil gone, record without pupil", gateway.Login{At: at(2026, 3, 1, 9, 0)}, true, false},
		{"pupil present, old login", gateway.Login{Pupil: "p1", At: at(2023, 3, 1, 9, 0)}, false, true},
	}
	for _, tc := range tests {
		if got := retention.LoginExpired(tc.l, tc.pupilGone, today); got != tc.want {
			t.Errorf("%s: LoginExpired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Texts expire one year after they were written, counted in Amsterdam
// dates like everything else: TextsBefore is the first instant that is
// kept.
func TestTextsBefore(t *testing.T) {
	tests := []struct {
		today, cutoff string
		before        time.Time
	}{
		{"2026-03-15", "2025-03-15", at(2025, 3, 16, 0, 0)},
		{"2025-03-01", "2024-03-01", at(2024, 3, 2, 0, 0)}, // 2024-02-29 expired on 2025-03-01
		{"2028-02-29", "2027-02-28", at(2027, 3, 1, 0, 0)},
		{"2026-01-01", "2025-01-01", at(2025, 1, 2, 0, 0)},
	}
	for _, tc := range tests {
		today := date(t, tc.today)
		if got := retention.TextCutoff(today).String(); got != tc.cutoff {
			t.Errorf("TextCutoff(%s) = %s, want %s", tc.today, got, tc.cutoff)
		}
		got := retention.TextsBefore(today)
		if !got.Equal(tc.before) {
			t.Errorf("TextsBefore(%s) = %v, want %v", tc.today, got, tc.before)
		}
		// The last instant before it has expired, the instant itself not.
		last := retention.Today(got.Add(-time.Nanosecond))
		if !retention.ExpiredYears(last, today, retention.TextPeriod) || retention.ExpiredYears(retention.Today(got), today, retention.TextPeriod) {
			t.Errorf("TextsBefore(%s) = %v does not split expired from kept", tc.today, got)
		}
	}
}

func TestStale(t *testing.T) {
	now := at(2026, 3, 15, 10, 0)
	year := retention.DefaultStaleAfter
	synced, revoked, enrolled := at(2025, 6, 1, 2, 0), at(2025, 7, 1, 9, 0), at(2020, 1, 1, 0, 0)
	tests := []struct {
		name   string
		r      retention.Refresh
		after  time.Duration
		asOf   time.Time
		reason string
	}{
		{"synced recently", retention.Refresh{Granted: true, LastSuccess: at(2026, 3, 14, 2, 0), Enrolled: enrolled}, year, time.Time{}, ""},
		{"last sync a school year ago to the minute", retention.Refresh{Granted: true, LastSuccess: now.Add(-year)}, year, now.Add(-year), retention.StaleNoSync},
		{"last sync a minute short of it", retention.Refresh{Granted: true, LastSuccess: now.Add(-year + time.Minute)}, year, time.Time{}, ""},
		{"never synced, enrolled long ago", retention.Refresh{Granted: true, Enrolled: enrolled}, year, enrolled, retention.StaleNoSync},
		{"never synced, enrolment unknown", retention.Refresh{Granted: true}, year, time.Time{}, ""},
		{"rule off", retention.Refresh{Granted: true, LastSuccess: enrolled}, -1, time.Time{}, ""},
		{"revoked: as of the last sync", retention.Refresh{LastSuccess: synced, RevokedAt: revoked, Enrolled: enrolled}, year, synced, retention.StaleRevoked},
		{"revoked, never synced: as of the revocation", retention.Refresh{RevokedAt: revoked, Enrolled: enrolled}, year, revoked, retention.StaleRevoked},
		{"never granted", retention.Refresh{Enrolled: enrolled}, year, enrolled, retention.StaleRevoked},
		{"revoked, also with the time rule off", retention.Refresh{LastSuccess: synced}, -1, synced, retention.StaleRevoked},
	}
	for _, tc := range tests {
		asOf, reason, stale := retention.Stale(tc.r, now, tc.after)
		if stale != (tc.reason != "") || reason != tc.reason || !asOf.Equal(tc.asOf) {
			t.Errorf("%s: Stale = %v, %q, %v; want %v, %q", tc.name, asOf, reason, stale, tc.asOf, tc.reason)
		}
	}
}
