// Package retention deletes what the processing agreement no longer lets the
// gateway keep, and writes a purge receipt (what, how many, when) to the
// audit log. The README's retention section lists the same rules for
// operators; Receipt.Rules lists them with their counts.
//
// # Rules
//
// The agreement keeps data for [Period] (two calendar years) after its clock
// starts:
//
//   - a pupil: from the day the pupil left (gateway.Pupil.LeftOn, the first
//     day a sync found the pupil missing from the LAS). A current pupil (no
//     LeftOn) is never purged, but see "Schools no longer refreshed";
//   - a result: it goes with its pupil (every result of a purged pupil, trial
//     or not, and of a pupil the school no longer knows); a result of a trial
//     or norming test (gateway.Result.Trial) also goes two years after its
//     test date (Result.Date), even while the pupil is still at school;
//   - a login record: two years after the login (Login.At), however often
//     its account was used since, and at once with its pupil (a record
//     naming a pupil that was purged, or that its school no longer knows);
//   - the personal part of an audit entry (gateway.AuditEntry.Personal: an
//     actor that names a person, a login's account and remote address, and
//     the other keys of audit.PersonalKeys): two years after the entry. The
//     entry stays, with a commitment to the deleted part, so the chain still
//     verifies; it shows "(expired)" in its place;
//   - a delivery batch held because las_exchange is not granted: two years
//     after it was held (Batch.UpdatedAt), with the results it delivers (a
//     result submitted again since belongs to its newer batch and stays).
//     Ended and held batches none of whose results is left go too: they
//     list result keys, which may be the publisher's own ids.
//
// # Free texts
//
// The warnings and error text of a sync run, the LAS's fault message of a
// connection check and the reason of a delivery batch are kept for
// [TextPeriod] (one calendar year) after they were written
// (gateway.SyncRun.TextsAt and the like), then cleared by
// gateway.Store.ExpireTexts; status, error class, fault code, counts and
// times stay for good. One year, not two: the texts serve an operator
// looking into a school's sync or delivery problems, and comparing with the
// same time last school year (the 1 August rollover) is the longest look
// back that needs them; they repeat what a LAS wrote, which may name a
// pupil's LAS key (a scrubber removes ECK iDs and keys where it can, but
// free text cannot be proven clean), so they must not outlive the pupil
// records they come from, which go two years after the pupil left.
//
// # Schools no longer refreshed
//
// A pupil is only marked left by a sync. A school whose data is no longer
// refreshed, because las_exchange is not granted or because it had no
// successful sync (applied or unchanged, an approval included) for
// Options.StaleAfter (a school year by default), is stale ([Stale]): its
// current pupils are marked left as of the last successful sync (or, if
// there never was one, the revocation or the enrolment), in the snapshot
// and in a held sync, so the two-year rule still ends, two years after
// that sync. A later sync that finds them again makes them current (a sync
// has nothing to lose when no pupil is current, so no threshold holds it).
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
// record that date. Free texts use the same arithmetic with one year
// ([TextCutoff], [TextsBefore]).
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
// changing), then marks the pupils of a stale school left, then deletes in
// this order: evidence records, results, batches, pupils; then it clears the
// expired texts. Each later step's record is what the earlier steps are
// found from, so a run that stops half-way (a crash, a store error) leaves
// nothing behind that a second run would not find again: the expired pupils
// are still there, and with them their results and evidence; a held batch
// whose results went is one without results. Login records and the
// personal parts of audit entries come after the schools, then the
// compaction of the store (Options.Compact: the bbolt file is rewritten
// without its free pages, where deleted records would stay readable), then
// the gateway receipt. A compaction that failed is marked in that receipt
// (compact_pending), and the next run compacts even if it deletes nothing.
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
// same Now would delete, clear or mark, changes nothing, does not compact
// and writes no audit entry.
//
// # Limits
//
// Run holds in memory the ids of one school's pupils at a time, the ids and
// keys of expired records, the pupils that login records name, a school's
// sync runs, and the sequence numbers of one chain's expired personal
// parts; never all results or evidence of a school at once. It logs
// nothing; its errors and receipts carry school ids and counts only, never
// a pupil's name, birth date, ECK iD or key. It imports only gateway,
// gateway/audit and the standard library, and reads the time only from
// Options.Now. Teachers are not its business: a sync replaces them, and
// offboarding deletes them.
package retention
