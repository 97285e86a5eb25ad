// Package soap speaks UWLR over SOAP 1.1: the client the gateway uses to pull
// pupil data and push results (over a caller-supplied *http.Client, so mTLS,
// vendor headers and fault injection are transports, not flags), the streaming
// reader that hands pupils and teachers over one at a time, the fault
// classification that turns every failure into a typed error with a fix hint,
// the server side as an http.Handler (used by las-sim), and the one table of
// LAS vendor profiles (profile.go): each vendor's xsdversie, SOAPAction form,
// required HTTP headers, whether it honours laatstontvangengegevens and its
// default nightly concurrency cap, read by the CLI, the config, the scheduler
// and las-sim alike.
//
// It never logs, and no error it returns contains an autorisatiesleutel,
// an ECK iD, a name or a birth date: errors carry codes, HTTP statuses,
// LAS keys of records and the LAS's own fault text scrubbed. The one
// scrubber of LAS text is here (scrub.go, [Scrubber]): it replaces ECK iDs
// (by shape, and known values), the school's keys and LAS keys of pupils by
// markers, in every echo form, and [OneLine] neutralises control
// characters. A [Client] scrubs every *Error it returns with the secrets of
// its Connection; callers scrub any other LAS text they keep or show with
// [Client.Scrubber].
package soap
