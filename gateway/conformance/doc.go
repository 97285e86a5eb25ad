// Package conformance runs the official UWLR conformance cases for a LAS
// (the Edustandaard/Kennisnet SoapUI suite "LAS-LG-F01", written for UWLR 1.0,
// mapped here to UWLR 2.2 messages) against any HaalLeerlinggegevens
// endpoint, and reports the fault code each bad request got.
//
// Requests are built as raw text on purpose: several cases must send what our
// own client never would (garbage XML, a missing header, malformed fields).
package conformance
