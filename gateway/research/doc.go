// Package research builds the pseudonymised export of one school's pupils
// and results for one registered study, under the school's "research"
// processing (gateway.ProcessingResearch: pseudonymised data for scientific
// research or statistics, under the conditions of the research and
// statistics codes of conduct). Build turns a Study, the study's key and
// what the caller read from the store into pupils.csv, results.csv (only
// when a result field is asked for) and datapackage.json, a Frictionless
// tabular Data Package describing both files; and a Manifest (counts,
// generalisation steps, SHA-256 of every file) for the caller to sign.
//
// # What an export holds
//
// Only the fields a study asks for, from a closed set (AllowedFields), and
// the pupil's pseudonym: HMAC-SHA256 of our pupil id under the study's key
// (Pseudonym), so one study can follow a pupil across its exports and two
// studies cannot link theirs. The school is a pseudonym too
// (SchoolPseudonym) unless the study asks for FieldSchool. A birth date
// leaves only as the year (birth_year) or the age in whole years on the
// export date (age), never both. Never in any file: names, initials, LAS
// keys, ECK iDs or their blind index (never read: a test checks the
// source), group keys, full birth dates, our pupil or result ids, result
// keys, processors or digests. An OSO result has no score; its score stays
// empty. Pupils who left (gateway.Pupil.LeftOn set) are exported like
// current ones, and LeftOn itself is not: a study may follow a pupil who
// moved on, and the date a pupil left would be one more quasi-identifier.
//
// # k-anonymity
//
// The quasi-identifiers are the pupil fields asked for among school, birth
// year or age, gender and jaargroep. Every combination of their values in
// pupils.csv is shared by at least Study.K pupils. Build groups the pupils
// on them; while a group is smaller than K it applies the next step, to
// every row alike: birth year or age into 5-year bands ("2015-2019",
// "5-9"), jaargroep into 2-year bands ("1-2" ... "7-8", "11-12" ...
// "15-16"; 0 and letter codes "other"), gender to "*". Pupils still in a
// group smaller than K are then left out, with their results. An unknown
// value (empty) is a value of its own. The Manifest records the steps
// applied and what was left out, and datapackage.json types each column as
// written (a band is a string, a raw birth year a year). The guarantee is
// about pupils.csv; results.csv adds test dates and scores, which the
// study's own conditions must cover.
//
// # Room and limits
//
// The package is pure: no store, no clock (the export date is an input),
// no randomness (the key is an input), no logging; it returns the files as
// bytes. It checks neither consent nor who asks: that is the application
// layer's act, at the moment of the export. Output is deterministic (rows
// sorted by pseudonym, results by pseudonym, test, part, date and score).
// Errors are gateway.ErrInvalid (ErrStudyEnded after Study.Until, a
// Europe/Amsterdam date) and name fields and record positions, never a
// value of a pupil. It imports only gateway and the standard library.
// scripts/datapackage/validate.js checks an export with an independent
// validator (the npm datapackage library); the tests run it.
package research
