// Package report builds the documents a data protection officer needs from
// what the store holds. Breach drafts the facts of a data-breach
// notification as the processing agreement lists them: per school the data
// categories held and whether the gateway encrypts them at rest, how many
// pupils and teachers are concerned, what was delivered and recorded in the
// time window, the school's consent and last sync; and what the gateway
// cannot know.
//
// # Room and limits
//
// A report holds counts, dates, kinds and internal ids (school ids) only:
// never a name, birth date, ECK iD, LAS key or e-mail address, in the struct,
// its JSON or its Markdown. It reads the store through the small Store
// interface declared here, streaming pupils, results, batches, evidence,
// login records and audit entries (memory does not grow with school size),
// and changes nothing: recording that a report was made is the caller's act.
// Time is an input (BreachOptions.Now). It imports only gateway and the
// standard library.
//
// The encryption statements say what the gateway itself does: the vault
// seals ECK iDs and school credentials with AES-256-GCM; everything else is
// stored as is. Disk, backup or Redis encryption is the operator's and is
// not known to the gateway, so the report does not claim it.
package report
