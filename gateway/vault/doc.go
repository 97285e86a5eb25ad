// Package vault seals and opens ECK iDs and school secrets (the
// autorisatiesleutel, key-file passphrases) with AES-256-GCM, and computes
// the blind index that finds a pupil by ECK iD without decrypting anything.
//
// # Room and limits
//
// The vault never logs, never persists plaintext and is the only importer of
// crypto/cipher in the module. An ECK iD is sealed the moment it is received
// and opened only on the results path:
//
//   - the CLI and gateway/pull get a [Sealer] (Seal and Index, no way back);
//   - only gateway/delivery gets an [Opener] for ECK iDs (gateway/app, the
//     application layer, creates it for the delivery worker and keeps no
//     other), so `grep -rn 'Opener()' --include=*.go .` is the review of
//     who can decrypt;
//   - key rotation jobs get a [Rewrapper], which re-seals under the active
//     term without ever handing plaintext to its caller.
//
// Errors carry the operation, the [Place] (internal ids only) and key term
// numbers; never plaintext, key bytes or ciphertext. [Keyring], [Sealer],
// [Opener] and [Rewrapper] print (String, GoString, LogValue) as
// "vault[terms=[1 2], active=2]" and nothing more.
//
// # Sealed format (version 1)
//
//	term (4 bytes, big endian) | version (1 byte, =1) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
//
// The additional data binds the value to its place: a fixed label, the
// 5-byte header, then kind, school, record and field, each prefixed with its
// length so that no two different places produce the same bytes. A value
// copied onto another pupil, school, field or kind fails to open with
// [ErrUnsealFailed]. A new format gets a new version byte; Open keeps
// accepting the old ones.
//
// # Keys
//
// A [Keyring] holds numbered encryption terms (one active, the rest kept so
// old values still open) and one index key. It is read from a JSON key file
// ([Load], mode 0600, never from the YAML config) or from UWLR_VAULT_KEYS
// ([FromEnv]). A Keyring is never modified: [Keyring.Rotate] returns a new
// one. Each term may perform at most [NonceLimit] seals (NIST SP 800-38D);
// rotate at [RotateAt], and do not re-seal an unchanged ECK iD on every
// nightly pull: compare the blind index first.
package vault
