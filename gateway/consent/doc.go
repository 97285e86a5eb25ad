// Package consent is the one consent gate: Require is asked at the moment of
// each act (sync start, each send, each export) and never cached across acts;
// Set changes one processing for one school and records who, when, old and new.
// Every refusal is gateway.ErrConsentRequired, which the CLI and API turn into
// a clear message and a distinct exit code or status.
package consent
