// Package app is the gateway's application layer: every act a user can
// take is one exported method of App, in a file named after it (enrol a
// school, consent, sync, approve, submit results, deliver, receipts and
// retry, rewrap, evidence, audit, retention, breach report, tokens,
// connection test, schedule). The CLI (cmd/uwlr-gateway) and the HTTP edge
// (gateway/httpapi) both call it; neither holds business rules, builds LAS
// clients, clocks or gates of its own.
//
// # Room and limits
//
// App is the one composition root: it opens the store (OpenStore), holds the
// keyring, one clock (Options.Now, the configured offset clock everywhere),
// one logger, the audit log and the consent gate, and it is the one place
// that builds a soap.Connection for a school or its results receiver.
//
// Every use case reads and writes through gateway.ScopedStore, so the
// caller's scope in ctx (gateway.WithScope) is enforced inside every store
// call, whichever edge called: a use case asked for school B on a token for
// school A fails with gateway.ErrNotFound, a gateway-wide act on a limited
// scope with gateway.ErrForbidden. Without a scope (the CLI, the scheduler,
// the delivery worker) everything is in scope.
//
// Only the delivery worker built here is handed the vault's Opener for ECK
// iDs. App holds no state of its own beyond the evidence key it loaded and
// the syncs it started in the background (Close waits for them).
package app
