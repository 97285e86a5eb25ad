package schedule

import (
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// amsterdam is the school's clock: windows, school hours and pauses are
// Europe/Amsterdam wall-clock times.
var amsterdam = gateway.Amsterdam

// day is a calendar date as days since 1970-01-01; nights are named by the
// day their window opens.
type day int

func dayOf(y int, m time.Month, d int) day {
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (d day) date() (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// wallClock returns the first instant at which Amsterdam clocks read
// minute (after midnight) on day d. A time that occurs twice (the autumn
// change) gives its first occurrence; a time that does not occur (the
// spring gap) gives the instant the clocks jump past it.
func wallClock(d day, minute int) time.Time {
	y, m, dd := d.date()
	naive := time.Date(y, m, dd, 0, minute, 0, 0, time.UTC)
	_, off1 := naive.Add(-24 * time.Hour).In(amsterdam).Zone()
	_, off2 := naive.Add(24 * time.Hour).In(amsterdam).Zone()
	var best time.Time
	for _, off := range []int{off1, off2} {
		u := naive.Add(-time.Duration(off) * time.Second)
		l := u.In(amsterdam)
		if l.Year() == y && l.Month() == m && l.Day() == dd && l.Hour()*60+l.Minute() == minute && l.Second() == 0 {
			if best.IsZero() || u.Before(best) {
				best = u
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// A gap: read with the smaller offset the time lies past the jump, and
	// the zone in force there began at the jump.
	u := naive.Add(-time.Duration(min(off1, off2)) * time.Second)
	start, _ := u.In(amsterdam).ZoneBounds()
	return start
}

// window is one night's start window [open, close).
type window struct{ open, close time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.open) && t.Before(w.close) }

// windowOf returns the window of the night dated d. On the spring change
// a window inside the skipped hour is empty (open == close).
func (p parsed) windowOf(d day) window {
	end := d
	if p.crosses {
		end++
	}
	return window{open: wallClock(d, p.start), close: wallClock(end, p.end)}
}

// InSchoolHours reports whether t falls in school hours: 08:00-16:00
// Europe/Amsterdam on Monday to Friday. Public holidays and school
// holidays are not modelled: they count as school days.
func InSchoolHours(t time.Time) bool {
	l := t.In(amsterdam)
	if wd := l.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	m := l.Hour()*60 + l.Minute()
	return m >= schoolHoursStart && m < schoolHoursEnd
}

// nextSchoolHours returns the first start of school hours (08:00 on a
// school day) after now.
func nextSchoolHours(now time.Time) time.Time {
	l := now.In(amsterdam)
	d := dayOf(l.Date())
	for i := day(0); i < 8; i++ {
		y, m, dd := (d + i).date()
		if wd := time.Date(y, m, dd, 12, 0, 0, 0, time.UTC).Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if t := wallClock(d+i, schoolHoursStart); t.After(now) {
			return t
		}
	}
	panic("schedule: no school day in eight days") // a week always has one
}
