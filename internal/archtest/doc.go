// Package archtest turns the package layout of ARCHITECTURE.md into a check:
// its test lists every package's imports with `go list` and fails when a
// package imports what its room does not allow.
package archtest
