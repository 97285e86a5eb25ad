package schedule

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/soap"
)

// StandardVendor is the vendor name a school without a vendor profile
// (School.Vendor empty) is counted under.
const StandardVendor = soap.StandardProfile

// School hours of the processing agreement, in minutes after midnight
// (Europe/Amsterdam wall clock): no nightly sync may run from 08:00 to 16:00
// on a school day.
const (
	schoolHoursStart = 8 * 60
	schoolHoursEnd   = 16 * 60
)

// Config says when nightly syncs run and how many at once. The zero Config
// is invalid; start from DefaultConfig. A Config must not change while a
// Runner uses it.
type Config struct {
	// WindowStart and WindowEnd ("HH:MM", Europe/Amsterdam wall clock)
	// bound the start times of nightly syncs: a sync starts at or after
	// WindowStart and before WindowEnd. When WindowEnd is not after
	// WindowStart the window crosses midnight ("22:00"-"05:00"). A window
	// that touches school hours (08:00-16:00) is refused.
	WindowStart string
	WindowEnd   string
	// VendorCaps is the most syncs one runner runs at once per vendor
	// profile name (School.Vendor; empty counts as "standard").
	VendorCaps map[string]int
	// DefaultCap is the cap of vendors not in VendorCaps.
	DefaultCap int
	// SummerPauseFrom and SummerPauseTo ("MM-DD", both inclusive) name the
	// nights without nightly syncs; both empty means no pause. A night is
	// named by the date its window opens. From after To wraps over the new
	// year. Manual syncs are not affected.
	SummerPauseFrom string
	SummerPauseTo   string
	// BackoffBase and BackoffMax set the wait before a retry in the same
	// night: min(BackoffBase * 2^(n-1), BackoffMax) after n failed nights.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxAttemptsPerNight caps the attempts of one school in one night,
	// the first one included.
	MaxAttemptsPerNight int
	// Jitter is how far after WindowStart a school's start time may fall;
	// 0 (the default) means the whole window. It never reaches past the
	// end of the night's window.
	Jitter time.Duration
	// SyncTimeout bounds one sync. The runner also ends a sync when school
	// hours begin, whichever comes first.
	SyncTimeout time.Duration
}

// DefaultConfig returns the defaults: a 01:00-06:00 window over which the
// schools are spread, no summer pause, each vendor profile's default cap
// (soap.Profiles) and 2 for any other vendor, 15 minutes to 2 hours of
// backoff with at most 3 attempts a night, and a 30-minute sync timeout.
func DefaultConfig() Config {
	caps := map[string]int{}
	for _, p := range soap.Profiles() {
		caps[p.Name] = p.DefaultCap
	}
	return Config{
		WindowStart:         "01:00",
		WindowEnd:           "06:00",
		VendorCaps:          caps,
		DefaultCap:          2,
		BackoffBase:         15 * time.Minute,
		BackoffMax:          2 * time.Hour,
		MaxAttemptsPerNight: 3,
		SyncTimeout:         30 * time.Minute,
	}
}

// Validate reports every problem with c, each naming its field; the error
// is gateway.ErrInvalid. A window that overlaps 08:00-16:00 is always
// refused: the scheduler never starts a nightly sync in school hours.
func (c Config) Validate() error {
	_, err := c.parse()
	return err
}

// CapFor returns the concurrency cap of a vendor profile ("" is "standard").
func (c Config) CapFor(vendor string) int {
	if vendor == "" {
		vendor = StandardVendor
	}
	if n, ok := c.VendorCaps[vendor]; ok {
		return n
	}
	return c.DefaultCap
}

// parsed is a validated Config in the form the planner uses.
type parsed struct {
	start, end int // minutes after midnight
	crosses    bool
	pause      bool
	pauseFrom  int // month*100+day
	pauseTo    int
	jitter     time.Duration
	base, max  time.Duration
	attempts   int
}

func invalid(field, value, why string) error {
	return fmt.Errorf("%w: schedule: %s %q: %s", gateway.ErrInvalid, field, value, why)
}

func (c Config) parse() (parsed, error) {
	var p parsed
	var errs []error
	var okStart, okEnd bool
	var err error
	if p.start, err = parseClock("WindowStart", c.WindowStart); err != nil {
		errs = append(errs, err)
	} else {
		okStart = true
	}
	if p.end, err = parseClock("WindowEnd", c.WindowEnd); err != nil {
		errs = append(errs, err)
	} else {
		okEnd = true
	}
	if okStart && okEnd {
		p.crosses = p.end <= p.start
		switch {
		case p.start == p.end:
			errs = append(errs, invalid("WindowEnd", c.WindowEnd, "equals WindowStart; the window would be a whole day"))
		case overlapsSchoolHours(p.start, p.end):
			errs = append(errs, fmt.Errorf("%w: schedule: window %s-%s (WindowStart-WindowEnd) overlaps school hours 08:00-16:00; nightly syncs must start outside them",
				gateway.ErrInvalid, c.WindowStart, c.WindowEnd))
		}
	}

	switch {
	case c.SummerPauseFrom == "" && c.SummerPauseTo == "":
	case c.SummerPauseFrom == "":
		errs = append(errs, invalid("SummerPauseFrom", c.SummerPauseFrom, "is empty while SummerPauseTo is set"))
	case c.SummerPauseTo == "":
		errs = append(errs, invalid("SummerPauseTo", c.SummerPauseTo, "is empty while SummerPauseFrom is set"))
	default:
		from, err1 := parseMonthDay("SummerPauseFrom", c.SummerPauseFrom)
		to, err2 := parseMonthDay("SummerPauseTo", c.SummerPauseTo)
		errs = append(errs, err1, err2)
		if err1 == nil && err2 == nil {
			if pauseDays(from, to) > 364 {
				errs = append(errs, invalid("SummerPauseTo", c.SummerPauseTo, "the pause from "+c.SummerPauseFrom+" covers the whole year"))
			}
			p.pause, p.pauseFrom, p.pauseTo = true, from, to
		}
	}

	if c.DefaultCap < 1 {
		errs = append(errs, invalid("DefaultCap", strconv.Itoa(c.DefaultCap), "must be at least 1"))
	}
	vendors := make([]string, 0, len(c.VendorCaps))
	for v := range c.VendorCaps {
		vendors = append(vendors, v)
	}
	sort.Strings(vendors) // a stable order of errors
	for _, v := range vendors {
		if v == "" {
			errs = append(errs, invalid("VendorCaps", v, "vendor name is empty (schools without a vendor count as \"standard\")"))
		}
		if n := c.VendorCaps[v]; n < 1 {
			errs = append(errs, invalid("VendorCaps["+v+"]", strconv.Itoa(n), "must be at least 1"))
		}
	}
	if c.BackoffBase <= 0 {
		errs = append(errs, invalid("BackoffBase", c.BackoffBase.String(), "must be positive"))
	}
	if c.BackoffMax < c.BackoffBase {
		errs = append(errs, invalid("BackoffMax", c.BackoffMax.String(), "must be at least BackoffBase"))
	}
	if c.MaxAttemptsPerNight < 1 {
		errs = append(errs, invalid("MaxAttemptsPerNight", strconv.Itoa(c.MaxAttemptsPerNight), "must be at least 1"))
	}
	if c.Jitter < 0 {
		errs = append(errs, invalid("Jitter", c.Jitter.String(), "must not be negative (0 means the whole window)"))
	}
	if c.SyncTimeout <= 0 {
		errs = append(errs, invalid("SyncTimeout", c.SyncTimeout.String(), "must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return parsed{}, err
	}
	p.jitter, p.base, p.max, p.attempts = c.Jitter, c.BackoffBase, c.BackoffMax, c.MaxAttemptsPerNight
	return p, nil
}

// parseClock reads "HH:MM" into minutes after midnight.
func parseClock(field, s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, invalid(field, s, "want HH:MM")
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	if h > 23 || m > 59 {
		return 0, invalid(field, s, "not a time of day (00:00-23:59)")
	}
	return h*60 + m, nil
}

// parseMonthDay reads "MM-DD" into month*100+day; 02-29 is allowed (and
// only matters in leap years).
func parseMonthDay(field, s string) (int, error) {
	if len(s) != 5 || s[2] != '-' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, invalid(field, s, "want MM-DD")
	}
	m, _ := strconv.Atoi(s[:2])
	d, _ := strconv.Atoi(s[3:])
	t := time.Date(2000, time.Month(m), d, 0, 0, 0, 0, time.UTC) // a leap year
	if m < 1 || m > 12 || d < 1 || t.Month() != time.Month(m) || t.Day() != d {
		return 0, invalid(field, s, "not a day of the year")
	}
	return m*100 + d, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// overlapsSchoolHours reports whether the wall-clock window [start, end)
// (crossing midnight when end <= start) shares a minute with 08:00-16:00.
func overlapsSchoolHours(start, end int) bool {
	overlap := func(a, b int) bool { return a < schoolHoursEnd && b > schoolHoursStart }
	if end > start {
		return overlap(start, end)
	}
	return overlap(start, 24*60) || overlap(0, end)
}

// pauseDays is the length in days of the pause from..to (inclusive,
// wrapping over the new year), counted in a leap year.
func pauseDays(from, to int) int {
	ord := func(md int) int {
		return time.Date(2000, time.Month(md/100), md%100, 0, 0, 0, 0, time.UTC).YearDay()
	}
	a, b := ord(from), ord(to)
	if a <= b {
		return b - a + 1
	}
	return 366 - (a - b - 1)
}

// paused reports whether the night dated d has no nightly syncs.
func (p parsed) paused(d day) bool {
	if !p.pause {
		return false
	}
	_, m, dd := d.date()
	md := int(m)*100 + dd
	if p.pauseFrom <= p.pauseTo {
		return p.pauseFrom <= md && md <= p.pauseTo
	}
	return md >= p.pauseFrom || md <= p.pauseTo
}

// delay is the wait before a retry in the same night after n failed
// nights: min(base * 2^(n-1), max).
func (p parsed) delay(n int) time.Duration {
	d := p.base
	for i := 1; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// nightGap is how many nights after the last failed night the next
// attempt may be: 1 (every night) for fewer than 3 failed nights, then
// 2^(n-2) capped at 7 (weekly).
func nightGap(n int) int {
	if n < 3 {
		return 1
	}
	if n-2 >= 3 {
		return 7
	}
	return 1 << (n - 2)
}
