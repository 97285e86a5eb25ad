// Package retention deletes what the processing agreement no longer lets the
// gateway keep, and writes a purge receipt (what, how many, when) to the
// audit log.
//
// # Rules
//
// The agreement keeps data for [Period] (two calendar years) after its clock
// starts:
//
//   - a pupil: from the day the pupil left (gateway.Pupil.LeftOn, the first
//     day a sync found the pupil missing from the LAS). A current pupil (no
//     LeftOn) is never purged;
//   - a result: it goes with its pupil (every result of a purged pupil, trial
//     or not, and of a pupil the school no longer knows); a result of a trial or norming test (gateway.Result.Trial) also
//     goes two years after its test date (Result.Date), even while the pupil
//     is still at school;
//   - a login record: it goes with its pupil (a record naming a pupil that
//     was purged, or that its school no longer knows), and every record of an
//     account goes when the account's last use is two years ago: the latest
//     At over its records, leaving out those that go with their pupil (so a
//     second run does not find an older last use and delete more).
//
// # Dates
//
// The rules count calendar days in Europe/Amsterdam, the school's clock: the
// run's Now is turned into today's Amsterdam date ([Today]), an instant (a
// login's At) into its Amsterdam date. Something whose clock started on day
// D is kept through the day before D plus two years and is purged from that
// day on ([ExpiresOn]): a pupil who left on 2024-03-15 is purged from
// 2026-03-15. A start on 29 February has no same day two years later; it
// expires on 1 March (2024-02-29 -> 2026-03-01), so nothing is ever kept
// less than two full years. Seen from today, everything that started on or
// before [Cutoff] (today's month and day two years back, 28 February when
// that would be 29 February of a common year) has expired; the audit entries
// record that date.
//
// # Evidence
//
// A delivery's evidence record (gateway.Evidence) is one signed document for
// a whole batch: the request as sent and the receiver's answer. It cannot be
// partially redacted without breaking its signature, and a record that no
// longer verifies proves nothing. Privacy wins: a record that names a purged
// pupil, or the key of a purged result, is deleted as a whole, including what
// it says about other pupils of the same batch.
//
// # Order and crash safety
//
// Per school, Run first finds everything that has expired (reading, never
// changing), then deletes in this order: evidence records, results, pupils.
// Each later step's record is what the earlier steps are found from, so a
// run that stops half-way (a crash, a store error) leaves nothing behind that
// a second run would not find again: the expired pupils are still there, and
// with them their results and evidence. Login records come last.
//
// A result, evidence record or login record that names a pupil its school no
// longer knows (not in the current snapshot) counts as one of a purged
// pupil: a sync keeps pupils who leave (marked left), results are taken in
// only for pupils of the current snapshot, and only retention or offboarding
// removes a pupil. So a record that escaped a run (a login written after it,
// evidence of a delivery that was under way while it ran) goes in the next
// one. A second run after a complete one purges nothing.
//
// # Dry runs
//
// With Options.DryRun, Run finds and counts exactly what a real run at the
// same Now would delete, changes nothing and writes no audit entry.
//
// # Limits
//
// Run holds in memory the ids of one school's pupils at a time, the ids and
// keys of expired records, the last use of each login account and the
// pupils that login records name; never all results or evidence of a school
// at once. It logs nothing; its errors and
// receipts carry school ids and counts only, never a pupil's name, birth date,
// ECK iD or key. It imports only gateway, gateway/audit and the standard
// library, and reads the time only from Options.Now.
package retention
