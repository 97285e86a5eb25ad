package retention

import (
	"fmt"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Period is how long the processing agreement keeps data after its clock
// starts, in calendar years (see the package doc for the day arithmetic).
const Period = 2

// TextPeriod is how long the free texts of sync runs, connection checks and
// delivery batches (warnings, fault texts, reasons) are kept after they were
// written, in calendar years: see "Free texts" in the package doc.
const TextPeriod = 1

// DefaultStaleAfter is how long a school may go without a successful sync
// before its data counts as no longer refreshed (Options.StaleAfter): a
// school year.
const DefaultStaleAfter = 365 * 24 * time.Hour

// amsterdam is the school's clock: retention counts Dutch calendar days.
var amsterdam = gateway.Amsterdam

// Date is a calendar day, without a time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is the form of dates in the domain (Pupil.LeftOn, Result.Date).
const dateLayout = "2006-01-02"

// ParseDate reads a YYYY-MM-DD date; anything else, or a day that does not
// exist, is gateway.ErrInvalid.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) {
		return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", gateway.ErrInvalid, s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Today returns the Europe/Amsterdam date of the instant now.
func Today(now time.Time) Date {
	y, m, d := now.In(amsterdam).Date()
	return Date{y, m, d}
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	a, b := d.ordinal(), e.ordinal()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d Date) ordinal() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// AddYears returns the same month and day n years later. 29 February in a
// year without one becomes 1 March, the day after 28 February.
func (d Date) AddYears(n int) Date {
	out := Date{d.Year + n, d.Month, d.Day}
	if d.Month == time.February && d.Day == 29 && !leap(out.Year) {
		out.Month, out.Day = time.March, 1
	}
	return out
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// ExpiresOn is the first day on which something whose retention clock
// started on start may no longer be kept: start plus Period calendar years.
func ExpiresOn(start Date) Date { return start.AddYears(Period) }

// Expired reports whether something whose clock started on start must be
// gone by today: today is ExpiresOn(start) or later.
func Expired(start, today Date) bool { return ExpiredYears(start, today, Period) }

// ExpiredYears is Expired for a period of years calendar years (TextPeriod
// for free texts).
func ExpiredYears(start, today Date, years int) bool { return !today.Before(start.AddYears(years)) }

// Cutoff is the latest start date that has expired by today: everything
// that started on or before it is purged, everything after it is kept. It is
// today's month and day Period years back, 28 February when that would be
// 29 February of a common year.
func Cutoff(today Date) Date { return cutoffYears(today, Period) }

// TextCutoff is Cutoff for TextPeriod: texts written on or before it have
// expired by today.
func TextCutoff(today Date) Date { return cutoffYears(today, TextPeriod) }

func cutoffYears(today Date, years int) Date {
	out := Date{today.Year - years, today.Month, today.Day}
	if out.Month == time.February && out.Day == 29 && !leap(out.Year) {
		out.Day = 28
	}
	return out
}

// TextsBefore is the instant Store.ExpireTexts is given: the start, in
// Europe/Amsterdam, of the day after TextCutoff(today). A text written
// before it was written on or before the cutoff date, so it has expired.
func TextsBefore(today Date) time.Time {
	c := TextCutoff(today)
	return time.Date(c.Year, c.Month, c.Day+1, 0, 0, 0, 0, amsterdam)
}

// InstantExpired reports whether something whose clock started at the
// instant at (a login, an audit entry, a delivery batch being held) must be
// gone by today: its Europe/Amsterdam date has expired.
func InstantExpired(at time.Time, today Date) bool { return Expired(Today(at), today) }

// PupilExpired reports whether a pupil who left on leftOn (YYYY-MM-DD) must
// be purged today. A current pupil (empty leftOn) never is; neither is a
// pupil whose leftOn cannot be read (Run counts those as skipped).
func PupilExpired(leftOn string, today Date) bool {
	if leftOn == "" {
		return false
	}
	left, err := ParseDate(leftOn)
	return err == nil && Expired(left, today)
}

// ResultExpired reports whether a result must be deleted today: every
// result of a purged pupil (pupilGone), and a trial or norming result
// (r.Trial) from two years after its test date, whatever the pupil's state.
// A trial result whose date cannot be read is kept (Run counts it as
// skipped).
func ResultExpired(r gateway.Result, pupilGone bool, today Date) bool {
	if pupilGone {
		return true
	}
	if !r.Trial {
		return false
	}
	tested, err := ParseDate(r.Date)
	return err == nil && Expired(tested, today)
}

// LoginExpired reports whether a login record must be deleted today: two
// years after the login (its At, as a Europe/Amsterdam date), however
// often the account was used since, and at once when it names a pupil
// (l.Pupil) that is gone (pupilGone: purged, or no longer known at the
// record's school; only retention, at least two years after the pupil left,
// or offboarding removes a pupil). pupilGone is ignored for a record that
// names no pupil.
func LoginExpired(l gateway.Login, pupilGone bool, today Date) bool {
	if l.Pupil != "" && pupilGone {
		return true
	}
	return InstantExpired(l.At, today)
}

// Refresh is what tells whether a school's data is still refreshed.
type Refresh struct {
	// LastSuccess is the start of the school's last successful sync
	// (applied or unchanged, an approval included); zero when none.
	LastSuccess time.Time
	// Granted: las_exchange is granted now. RevokedAt is when it was last
	// revoked (zero when never).
	Granted   bool
	RevokedAt time.Time
	// Enrolled is when the school was enrolled (zero when unknown).
	Enrolled time.Time
}

// Stale reason texts (a closed set, shown in receipts and audit entries).
const (
	StaleRevoked = "las_exchange not granted"
	StaleNoSync  = "no successful sync within stale_after"
)

// Stale reports whether a school's data is no longer refreshed at now, why
// (StaleRevoked or StaleNoSync), and the instant its current pupils count as
// left from. A school whose las_exchange is not granted is stale at once;
// its pupils left as of the last successful sync, or, without one, as of
// the revocation (or the enrolment). A school with las_exchange is stale
// when its last successful sync (the enrolment when there never was one) is
// after or longer ago; its pupils left as of that sync. after <= 0 turns the
// second rule off.
func Stale(r Refresh, now time.Time, after time.Duration) (asOf time.Time, reason string, stale bool) {
	first := func(ts ...time.Time) time.Time {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
		return now
	}
	if !r.Granted {
		return first(r.LastSuccess, r.RevokedAt, r.Enrolled), StaleRevoked, true
	}
	since := r.LastSuccess
	if since.IsZero() {
		since = r.Enrolled
	}
	if after <= 0 || since.IsZero() || now.Before(since.Add(after)) {
		return time.Time{}, "", false
	}
	return since, StaleNoSync, true
}
