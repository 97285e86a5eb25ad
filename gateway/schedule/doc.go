// Package schedule decides which school syncs when: the nightly window, the
// summer pause, the spread over the window, backoff for schools that keep
// failing, and per-vendor caps on how many syncs run at once. Planning is
// pure (every function takes its `now`); Runner executes what is due.
//
// # Nights and windows
//
// All times are Europe/Amsterdam wall-clock times. A night is named by the
// date its window opens: with the default window 01:00-06:00 the night of
// 3 March runs from 3 March 01:00 to 06:00; with 22:00-05:00 it runs from 3
// March 22:00 to 4 March 05:00. The window bounds start times: a sync starts
// at or after its opening and before its closing. Nights divide time into
// back-to-back periods, each from one opening to the next; an instant
// belongs to the last night that opened at or before it.
//
// School hours are 08:00-16:00 on Monday to Friday. Config.Validate refuses
// any window that shares a minute with 08:00-16:00 (on any day, so that a
// window never depends on the weekday), and the planner checks every time
// it computes: one that falls in school hours is dropped for the next
// night's. The runner checks the clock again before it starts a sync and
// ends a sync's context when school hours begin. Weekend nights are normal
// nights: schools are synced every night.
//
// # Start times
//
// Each school's start time in night D is
//
//	open(D) + (h mod spread) minutes
//	h = SplitMix64(FNV-1a-64(school id || 0x00 || "YYYY-MM-DD" of D))
//
// where spread is the night's real window length in whole minutes (or
// Config.Jitter, when that is shorter and not 0). The last possible start is
// a minute before the window closes, so a runner that looks at least once a
// minute sees every start. The hash needs nothing but the school id and the
// date, so every gateway process computes the same time for a school (they
// share one Redis, and each school's lock makes the first one win); the date
// in it changes the order from night to night, so the same school does not
// always go first.
//
// # Due and done
//
// A school is due at now when its start time in the night whose window is
// open has come and the night is not done for it. A night is done for a
// school when its LastSuccessAt lies in the night's window; its next run is
// then the following night. NextRun and Due never look back at a window that
// has closed: a school missed in a night (the gateway was down) waits for
// the next night; `sync` by hand does not wait.
//
// # Summer pause
//
// Nights whose date lies in SummerPauseFrom..SummerPauseTo (inclusive) have
// no nightly syncs; the next run is the first night after the pause. Manual
// syncs (`sync`, the API) still work during the pause: the pause only
// concerns the scheduler.
//
// # Backoff
//
// ScheduleState.Failures is the number of consecutive failed nights (Record
// counts a night once, however many attempts fail in it). A school is
// failing when its LastAttemptAt is later than its LastSuccessAt; an attempt
// without a recorded outcome counts as one failure for the waits. With n
// failed nights, the last attempt in night L:
//
//   - in night L, the next attempt is at LastAttemptAt + min(BackoffBase ·
//     2^(n-1), BackoffMax) (not before the school's start time), if that is
//     before the window closes and the night has attempts left. Attempts
//     left: LastAttemptAt < start + (MaxAttemptsPerNight-1) · wait; as each
//     attempt starts at least one wait after the one before, no night sees
//     more than MaxAttemptsPerNight attempts. (The state keeps no count of a
//     night's attempts, so they are counted from the start time: a first
//     attempt that ran late leaves fewer retries, or none.)
//   - after night L, with n < 3 the school runs again the next night at its
//     start time; with n >= 3 only from night L + 2^(n-2), capped at L + 7:
//     n = 3 every 2nd night, n = 4 every 4th, n >= 5 weekly.
//
// With the defaults (15m, 2h, 3 attempts) the waits in a night are 15m, 30m,
// 1h, 2h, 2h, 2h for n = 1..6. A success resets Failures to 0.
//
// # Daylight saving time
//
// Windows are wall-clock times; their instants come from wallClock: the
// first instant at which Amsterdam clocks read that time, or, in the spring
// gap, the instant the clocks jump past it. So on the spring night a
// 01:00-06:00 window is 4 real hours long and a window inside 02:00-03:00 is
// empty (that night has no slots); on the autumn night 01:00-06:00 is 6 real
// hours long and 02:00-03:00 is 2 real hours. Start times are spread over
// the real length, and a start time is one instant, so a school whose time
// falls in the repeated hour runs once, and nothing starts outside the
// window.
//
// # Runner
//
// Runner.Run plans every Tick (30s by default; more than a minute can miss
// the last starts of a window) and starts what is due and fits under the
// vendor caps; the rest waits for a later pass, earliest start first.
// Runner.RunOnce plans once and starts every due school as its vendor gets
// room, then waits. Within one Runner a school never runs twice at once, and
// a pass whose state list was read before a school's sync ended leaves that
// school to the next pass (its state may be stale). Caps are per Runner,
// that is per gateway process: with P processes a vendor sees up to P times
// its cap. Across processes the school's lock, and IsDue asked again under
// it, keep a school to one sync a night. The runner never writes
// ScheduleState; see Runner for the contract with Sync.
//
// # Limits
//
// Public holidays and school holidays are not modelled: school hours apply
// on every Monday to Friday, which only makes the rule stricter. The package
// imports only gateway, gateway/soap (for the vendor profiles' default caps,
// nothing of the wire) and the standard library. It decides by the time
// only from its `now` arguments and Runner.Now; real time only paces
// Runner.Tick and runs out sync timeouts. It logs school ids, vendor names and
// errors (which carry ids only), never names or other personal data. It
// does no I/O of its own: List and Sync are the caller's.
package schedule
