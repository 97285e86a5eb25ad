// Package intake reads the JSON file in which a publisher hands results to
// the gateway (`uwlr-gateway results submit --file F`) and turns it into
// domain records: test definitions and results with their keys and digests.
//
// The format is documented by the JSON Schema in results.schema.json
// ([Schema]); everything structural is there (types, required fields,
// exactly one of pupil_id/las_key and of score/oso, lengths, patterns, no
// unknown fields). [Read] checks the same structure itself, field by field,
// plus what a schema cannot know: whether the pupil exists at the school,
// whether the test is defined in the file or stored, whether the part belongs
// to the test, dates that lie in the future or are not real dates, key
// uniqueness, score typing of the receiver, duplicate fields, and characters
// XML cannot carry.
//
// Read is all or nothing: it reports the bad records, by position
// ("results[12].score") and reason, and returns no results at all when there
// is any problem, so the caller stores nothing. Past Options.MaxProblems the
// problems are counted, not listed: the last one says how many more there
// are ("and N more", Count adds them up). It never fills in a missing score
// and never normalises a score: the text as given is what is sent.
//
// Read takes the file as a stream (stream.go): a scanner that follows
// encoding/json checks the syntax of every byte and places an error by line
// and column (syntax.go); the decoder reads the top level token by token and
// "tests" and "results" element by element, so memory does not grow with a
// bad file. "school", "tests" and "results" may come in any order: checks
// that need a test's definition wait for "tests" when it comes later
// (pending.go).
//
// Limits: the package imports only the domain (package gateway) and the
// standard library. It does no I/O besides reading the given reader, keeps no
// state, and does not store anything; the clock and the pupils come in from
// the caller. A good file's batch is held in memory (the caller caps the
// file's size). Problems never contain a pupil's name, birth date or ECK iD
// (the format has none of them); they may echo a LAS key or pupil id that the
// file itself gave, and field names, test codes and result keys.
package intake
