// Package e2e holds whole-system tests only: they build the uwlr-gateway
// and las-sim binaries and run them as separate processes, to show what
// only processes can show (kill -9 mid-delivery, a Redis restart, a consent
// revocation from another process).
package e2e
