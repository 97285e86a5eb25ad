// Package lassim is a simulated LAS: a real UWLR 2.2/2.3 SOAP server for
// demos, tests and benchmarks. It generates deterministic synthetic schools
// from a seed (Dutch-looking names, jaargroep 1-8 groups, composite groups,
// teachers with roles, fake production-format ECK iDs), enforces the
// autorisatie header and the checks of the official conformance suite,
// reproduces vendor quirks through profiles (the gateway's own vendor table,
// soap.Profiles, plus simulator-only quirks; every header a vendor requires
// is enforced and issued in the credentials), churns data between calls for
// laatstontvangengegevens, injects latency and faults, replays recorded
// responses, and records every results message it receives.
//
// All data is fake. The package never touches real pupil data.
package lassim
