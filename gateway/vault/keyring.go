package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// KeySize is the size of every key in the keyring: AES-256 terms and the
// HMAC-SHA256 index key.
const KeySize = 32

// NonceLimit is the most seals one term may ever perform. NIST SP 800-38D
// §8.3 caps a GCM key used with random 96-bit nonces at 2^32 encryptions:
// beyond that the chance that two seals share a nonce exceeds 2^-32, and a
// repeated nonce leaks the XOR of two plaintexts and lets an attacker forge
// tags. Seal refuses (ErrTermExhausted) once this process has counted this
// many seals for the active term.
const NonceLimit = 1 << 32

// RotateAt is when to rotate: a quarter of NonceLimit, because the seal
// count is kept per process and starts from zero at every start, so it
// undercounts a term that has been in use across restarts. At 1.5 M pupils
// re-sealed every night a term would reach 2^30 in about two years; sealing
// only new or changed ECK iDs (compare the blind index first) keeps it far
// below. Rotating every school year (1 August) is the simple policy that
// stays under it whatever the count says.
const RotateAt = 1 << 30

// ErrTermExhausted is returned by Seal once the active term has reached
// NonceLimit seals in this process: rotate the keyring.
var ErrTermExhausted = fmt.Errorf("key term exhausted, rotate the keyring: %w", gateway.ErrConflict)

// secret holds key bytes. It prints as a fixed token whatever the verb, so a
// stray %v or %#v on an internal value cannot show a key.
type secret []byte

func (secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted]") }
func (secret) LogValue() slog.Value       { return slog.StringValue("[redacted]") }

// term is one encryption key of the keyring.
type term struct {
	n       uint32
	created time.Time
	key     secret
	aead    cipher.AEAD    // AES-256-GCM with random nonces prepended by Seal
	seals   *atomic.Uint64 // shared by every keyring that holds this term
}

func newTerm(n uint32, created time.Time, key []byte) (*term, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault: key term %d: key is %d bytes, want %d: %w", n, len(key), KeySize, gateway.ErrInvalid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: key term %d: %w", n, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("vault: key term %d: %w", n, err)
	}
	return &term{n: n, created: created, key: secret(key), aead: aead, seals: new(atomic.Uint64)}, nil
}

// ring is the state behind a Keyring, Sealer, Opener and Rewrapper. It is
// never modified after construction (the seal counters are atomics), so it
// is safe for concurrent use.
type ring struct {
	active uint32
	terms  map[uint32]*term
	order  []uint32 // term numbers, ascending
	// indexKey is behind a pointer (as the terms are) so that even a
	// reflective print of a ring shows an address, not key bytes.
	indexKey *secret
}

// Keyring is the set of keys: numbered encryption terms, one of them active
// for new seals, and the index key of the blind index.
//
// The index key is separate from the terms and never rotates: every stored
// EckIndex is an HMAC under it, and the pull finds an existing pupil by
// recomputing the index of the ECK iD the LAS sends. A new index key would
// make every lookup miss (each pupil would look new) until every stored index
// had been recomputed, which needs every ECK iD decrypted. Its compromise
// lets an attacker who also holds the store confirm a guessed ECK iD at a
// school; an ECK iD carries 512 bits of hash, so it cannot be enumerated.
//
// A Keyring is immutable: Rotate returns a new one and leaves the old one
// working. It is safe for concurrent use. Its only state is a pointer, so
// copying a Keyring value is cheap and shares the state.
type Keyring struct{ r *ring }

// Generate creates a keyring with term 1 active and a new index key, both
// read from rand (crypto/rand.Reader in production; a deterministic reader in
// tests). It fails if rand fails or returns the same bytes for both keys.
func Generate(rand io.Reader, now time.Time) (*Keyring, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("vault: generate key term 1: %w", err)
	}
	idx := make(secret, KeySize)
	if _, err := io.ReadFull(rand, idx); err != nil {
		return nil, fmt.Errorf("vault: generate index key: %w", err)
	}
	if subtle.ConstantTimeCompare(key, idx) == 1 {
		return nil, fmt.Errorf("vault: generate: random source returned the same key twice: %w", gateway.ErrInvalid)
	}
	t, err := newTerm(1, created(now), key)
	if err != nil {
		return nil, err
	}
	return &Keyring{r: &ring{active: 1, terms: map[uint32]*term{1: t}, order: []uint32{1}, indexKey: &idx}}, nil
}

// created is the creation time as stored in the key file: UTC, whole seconds.
func created(now time.Time) time.Time { return now.UTC().Truncate(time.Second) }

// Rotate returns a new keyring holding every term of k plus a new one, read
// from rand, which becomes active. k itself is unchanged and keeps sealing
// under its own active term, so hand out new Sealers after a rotation. The
// index key is carried over unchanged. Old terms stay so old values open;
// Rewrap moves values to the new term.
func (k *Keyring) Rotate(rand io.Reader, now time.Time) (*Keyring, error) {
	last := k.r.order[len(k.r.order)-1]
	if last == math.MaxUint32 {
		return nil, fmt.Errorf("vault: rotate: key term %d is the last possible: %w", last, gateway.ErrConflict)
	}
	n := last + 1
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return nil, fmt.Errorf("vault: rotate: generate key term %d: %w", n, err)
	}
	if subtle.ConstantTimeCompare(key, *k.r.indexKey) == 1 {
		return nil, fmt.Errorf("vault: rotate: random source repeated a key: %w", gateway.ErrInvalid)
	}
	for _, t := range k.r.terms {
		if subtle.ConstantTimeCompare(key, t.key) == 1 {
			return nil, fmt.Errorf("vault: rotate: random source repeated a key: %w", gateway.ErrInvalid)
		}
	}
	t, err := newTerm(n, created(now), key)
	if err != nil {
		return nil, err
	}
	terms := make(map[uint32]*term, len(k.r.terms)+1)
	for num, old := range k.r.terms {
		terms[num] = old // shared: same key, same AEAD, same seal counter
	}
	terms[n] = t
	return &Keyring{r: &ring{
		active:   n,
		terms:    terms,
		order:    append(slices.Clone(k.r.order), n),
		indexKey: k.r.indexKey,
	}}, nil
}

// ActiveTerm is the term new seals use.
func (k *Keyring) ActiveTerm() uint32 { return k.r.active }

// Terms lists the term numbers in the keyring, ascending.
func (k *Keyring) Terms() []uint32 { return slices.Clone(k.r.order) }

// Created is when a term was generated (UTC, whole seconds), and false for a
// term not in the keyring. Use it for an age-based rotation policy.
func (k *Keyring) Created(n uint32) (time.Time, bool) {
	t, ok := k.r.terms[n]
	if !ok {
		return time.Time{}, false
	}
	return t.created, true
}

// Seals is how many seals this process has made with term n (0 for a term
// not in the keyring). The count is shared by keyrings rotated from one
// another and is not persisted; see RotateAt.
func (k *Keyring) Seals(n uint32) uint64 {
	t, ok := k.r.terms[n]
	if !ok {
		return 0
	}
	return t.seals.Load()
}

// NeedsRotation reports whether the active term has reached RotateAt seals.
func (k *Keyring) NeedsRotation() bool { return k.Seals(k.r.active) >= RotateAt }

// Sealer returns the capability to seal and index under the active term.
func (k *Keyring) Sealer() *Sealer { return &Sealer{r: k.r} }

// Opener returns the capability to open values sealed under any term of the
// keyring. It is the only way to decrypt; give it only to gateway/delivery.
func (k *Keyring) Opener() *Opener { return &Opener{r: k.r} }

// Rewrapper returns the capability to move sealed values to the active term
// without seeing their plaintext.
func (k *Keyring) Rewrapper() *Rewrapper { return &Rewrapper{r: k.r} }

// Rewrap is k.Rewrapper().Rewrap.
func (k *Keyring) Rewrap(place Place, sealed []byte) (newSealed []byte, changed bool, err error) {
	return k.r.rewrap(place, sealed)
}
