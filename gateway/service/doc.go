// Package service composes the gateway's parts over one store and one
// keyring: LAS clients (credentials opened per client), the audited sync
// (under a per-school lock with a fencing token), the delivery worker (the
// one holder of the ECK iD opener), the evidence key, results intake, and
// the acts the admin API offers (httpapi.Services). cmd/uwlr-gateway wires
// it from the configuration; tests use it to run the real thing.
//
// It holds no state of its own beyond the evidence key it loaded and the
// syncs it started in the background (Close waits for them).
package service
