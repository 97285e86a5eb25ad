package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// maxNights bounds the search for a school's next night: a pause is at
// most 364 days and a backoff at most a week.
const maxNights = 400

// Planned is one school's next nightly sync, for `schedule show`.
type Planned struct {
	School gateway.SchoolID
	Vendor string
	At     time.Time
	// Reason says why this time: "nightly", "retry after 2 failures",
	// "summer pause until 15 Aug", "backoff: failed 4 nights, next try in
	// 4 nights", ...
	Reason string
}

// NextRun returns when the school's next nightly sync should start, seen
// at now. A time at or before now means the sync is due (it can only be so
// while this night's window is open). The zero Time means never: c is
// invalid (see Validate). The package doc gives the rules.
func (c Config) NextRun(school gateway.School, state gateway.ScheduleState, now time.Time) time.Time {
	p, err := c.parse()
	if err != nil {
		return time.Time{}
	}
	t, _ := newPlanner(p, now).next(school.ID, state, maxNights)
	return t
}

// IsDue reports whether the school's nightly sync should start at now: its
// next run time has come and it has not been synced yet this night. A
// caller that takes the school's lock should ask again, with the state
// read under the lock, so that two processes do not sync a school twice
// in one night.
func (c Config) IsDue(school gateway.School, state gateway.ScheduleState, now time.Time) bool {
	t := c.NextRun(school, state, now)
	return !t.IsZero() && !t.After(now)
}

// Due returns the schools whose nightly sync should start at now, ordered
// by their next run time (then id). A school missing from states has the
// zero state. An invalid Config gives nil.
func (c Config) Due(schools []gateway.School, states map[gateway.SchoolID]gateway.ScheduleState, now time.Time) []gateway.SchoolID {
	p, err := c.parse()
	if err != nil {
		return nil
	}
	pl := newPlanner(p, now)
	if !pl.windowOf(pl.first).contains(now) || InSchoolHours(now) {
		return nil // no window open: nothing can be due
	}
	type due struct {
		id gateway.SchoolID
		at time.Time
	}
	var list []due
	for _, s := range schools {
		// Only tonight can give a time at or before now.
		if t, _ := pl.next(s.ID, states[s.ID], 1); !t.IsZero() && !t.After(now) {
			list = append(list, due{s.ID, t})
		}
	}
	slices.SortFunc(list, func(a, b due) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id))
	})
	ids := make([]gateway.SchoolID, len(list))
	for i, d := range list {
		ids[i] = d.id
	}
	return ids
}

// Upcoming returns the next nightly sync of each school, earliest first
// (then by id), at most n of them (n <= 0: all). Schools that will never
// run (an invalid Config) are left out.
func (c Config) Upcoming(schools []gateway.School, states map[gateway.SchoolID]gateway.ScheduleState, now time.Time, n int) []Planned {
	p, err := c.parse()
	if err != nil {
		return nil
	}
	pl := newPlanner(p, now)
	var out []Planned
	for _, s := range schools {
		t, reason := pl.next(s.ID, states[s.ID], maxNights)
		if t.IsZero() {
			continue
		}
		out = append(out, Planned{School: s.ID, Vendor: vendorOf(s), At: t, Reason: reason})
	}
	slices.SortFunc(out, func(a, b Planned) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.School, b.School))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Record returns the state after a nightly (or manual) sync that started at
// startedAt: on success LastSuccessAt and LastAttemptAt are startedAt and
// Failures is 0; on failure LastAttemptAt is startedAt and Failures grows
// by one unless this night already counted as failed. Callers store the
// result under the school's lock; the runner never writes state itself.
func (c Config) Record(state gateway.ScheduleState, startedAt time.Time, ok bool) gateway.ScheduleState {
	if ok {
		return gateway.ScheduleState{LastAttemptAt: startedAt, LastSuccessAt: startedAt}
	}
	counted := false
	if p, err := c.parse(); err == nil && state.Failures > 0 && state.LastAttemptAt.After(state.LastSuccessAt) {
		pl := newPlanner(p, startedAt)
		counted = pl.nightOf(state.LastAttemptAt) == pl.nightOf(startedAt)
	}
	state.LastAttemptAt = startedAt
	if !counted {
		state.Failures++
	}
	return state
}

func vendorOf(s gateway.School) string {
	if s.Vendor == "" {
		return StandardVendor
	}
	return s.Vendor
}

// planner answers for one Config at one now, caching night windows.
type planner struct {
	parsed
	now   time.Time
	first day // the night whose window is open at now, else the next one
	cache map[day]window
}

func newPlanner(p parsed, now time.Time) *planner {
	pl := &planner{parsed: p, now: now, cache: make(map[day]window, 4)}
	pl.first = pl.nightOf(now)
	if !now.Before(pl.windowOf(pl.first).close) {
		pl.first++
	}
	return pl
}

func (pl *planner) windowOf(d day) window {
	if w, ok := pl.cache[d]; ok {
		return w
	}
	w := pl.parsed.windowOf(d)
	pl.cache[d] = w
	return w
}

// nightOf returns the night t belongs to: the last night whose window
// opened at or before t. Nights so divide time into back-to-back periods.
func (pl *planner) nightOf(t time.Time) day {
	d := dayOf(t.In(amsterdam).Date())
	if t.Before(pl.windowOf(d).open) {
		d--
	}
	return d
}

// slot returns the school's start time in night d: the window's opening
// plus (hash mod spread) whole minutes, where spread is the night's real
// window length in minutes, or Jitter when that is shorter and not 0. So the
// last start is a minute before the window closes, which a runner looking
// every minute or more often always sees. false when the night has no window
// (a window inside the spring gap).
func (pl *planner) slot(id gateway.SchoolID, d day) (time.Time, bool) {
	w := pl.windowOf(d)
	length := w.close.Sub(w.open)
	if length < time.Minute {
		return time.Time{}, false
	}
	spread := length
	if pl.jitter > 0 && pl.jitter < spread {
		spread = max(pl.jitter, time.Minute)
	}
	mins := uint64(spread / time.Minute)
	return w.open.Add(time.Duration(slotHash(id, d)%mins) * time.Minute), true
}

// next returns the school's next start time and its reason, looking at
// most `nights` nights ahead from pl.first; the zero Time when none.
func (pl *planner) next(id gateway.SchoolID, st gateway.ScheduleState, nights int) (time.Time, string) {
	// An attempt later than the last success has failed (or its outcome
	// was never recorded: count that as a failure for the retry wait).
	failing := st.LastAttemptAt.After(st.LastSuccessAt)
	fails := st.Failures
	var lastFailed day
	if failing {
		fails = max(fails, 1)
		lastFailed = pl.nightOf(st.LastAttemptAt)
	}
	var pausedUntil day
	pausedSkipped := false
	for d := pl.first; d < pl.first+day(nights); d++ {
		if pl.paused(d) {
			pausedUntil, pausedSkipped = d, true
			continue
		}
		w := pl.windowOf(d)
		if w.contains(st.LastSuccessAt) {
			continue // synced this night
		}
		t, ok := pl.slot(id, d)
		if !ok {
			continue
		}
		reason := "nightly"
		if failing {
			switch {
			case d < lastFailed:
				continue // an attempt stamped ahead of our clock
			case d == lastFailed:
				wait := pl.delay(fails)
				if !st.LastAttemptAt.Before(t.Add(time.Duration(pl.attempts-1) * wait)) {
					continue // this night's attempts are used up
				}
				if r := st.LastAttemptAt.Add(wait); r.After(t) {
					t = r
				}
				if !t.Before(w.close) {
					continue // the window closes before the retry
				}
				reason = fmt.Sprintf("retry after %s", plural(fails, "failure"))
			case int(d-lastFailed) < nightGap(fails):
				continue
			case fails >= 3:
				if k := int(d - pl.nightOf(pl.now)); k > 0 {
					reason = fmt.Sprintf("backoff: failed %d nights, next try in %s", fails, plural(k, "night"))
				} else {
					reason = fmt.Sprintf("backoff: failed %d nights, trying tonight", fails)
				}
			default:
				reason = fmt.Sprintf("nightly, failed %s", plural(fails, "night"))
			}
		}
		if InSchoolHours(t) {
			// Unreachable with a validated window; never start in school
			// hours whatever the arithmetic says: take the next night.
			continue
		}
		if pausedSkipped {
			_, m, dd := pausedUntil.date()
			reason = fmt.Sprintf("summer pause until %d %s", dd, m.String()[:3])
		}
		return t, reason
	}
	return time.Time{}, ""
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// slotHash is the school's stable pseudo-random number for night d:
// FNV-1a (64 bit) over the school id, a NUL byte and the night's date as
// YYYY-MM-DD, finished with the SplitMix64 mixer so that every bit counts.
// Every process computes the same number; the date makes the order change
// from night to night.
func slotHash(id gateway.SchoolID, d day) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= prime
	}
	y, m, dd := d.date()
	var buf [11]byte
	buf[0] = 0
	buf[1], buf[2], buf[3], buf[4] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	buf[5] = '-'
	buf[6], buf[7] = byte('0'+int(m)/10), byte('0'+int(m)%10)
	buf[8] = '-'
	buf[9], buf[10] = byte('0'+dd/10), byte('0'+dd%10)
	for _, b := range buf {
		h ^= uint64(b)
		h *= prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
