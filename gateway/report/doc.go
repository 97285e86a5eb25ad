// Package report builds the documents a data protection officer needs from
// what the store holds. Breach drafts a data-breach notification with the
// facts the processing agreement lists: when the breach was discovered,
// its duration (the window), its nature, which part of the security failed
// and how, its cause, how it was discovered, the measures taken, the
// possible consequences and the risk (the facts only a person knows, read
// from an incident file by ParseIncident; a fact not given is reported as
// not given, never filled in); and, from the store, per school the data
// categories held and whether the gateway encrypts them at rest, how many
// pupils, teachers and accounts were concerned at the window's start and
// end and are now (with how each count is derived, as a range where the
// store cannot tell), what was submitted, delivered and recorded in the
// window, the school's consent, last sync and contact person, that no
// special categories of personal data are held, and what the gateway
// cannot know.
//
// # Room and limits
//
// A report holds counts, dates, kinds and internal ids (school ids), the
// incident's facts as given, and one personal datum: the name, e-mail
// address and phone number of each school's contact person, for the
// school's own DPO. Never a pupil's or teacher's name, birth date, ECK iD,
// LAS key or e-mail address, nor the name of whoever set the contact, in
// the struct, its JSON or its Markdown. It reads the store through the
// small Store interface declared here, streaming pupils, results, batches,
// evidence, login records and audit entries (memory does not grow with
// school size), and changes nothing: recording that a report was made is
// the caller's act. Time is an input (BreachOptions.Now). It imports only
// gateway and the standard library.
//
// The encryption statements say what the gateway itself does: the vault
// seals ECK iDs and school credentials with AES-256-GCM; everything else is
// stored as is. Disk, backup or Redis encryption is the operator's and is
// not known to the gateway, so the report does not claim it.
package report
