package vault

import (
	"encoding/binary"
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// SecretOpener opens the school secrets the gateway itself needs to act
// (the autorisatiesleutel, a client key's passphrase) and the gateway's own
// secrets (the evidence signing key), and nothing else: it refuses every
// pupil and teacher place, so handing it to the sync or the CLI does not
// give them the ECK iDs.
type SecretOpener struct{ r *ring }

// SecretOpener returns the capability that opens school secrets only.
func (k *Keyring) SecretOpener() *SecretOpener { return &SecretOpener{r: k.r} }

// Open opens a value sealed at a school or gateway place.
func (o *SecretOpener) Open(place Place, sealed []byte) ([]byte, error) {
	if place.Kind != KindSchool && place.Kind != KindGateway {
		return nil, fmt.Errorf("%w: a secret opener opens school and gateway secrets only, not %s values", gateway.ErrForbidden, place.Kind)
	}
	return o.r.open(place, sealed)
}

// String never shows key material.
func (o SecretOpener) String() string { return o.r.describe("vault.SecretOpener") }

// TermOf returns the key term a sealed value names, or 0 when it is too short
// to be sealed data. It does not check integrity.
func TermOf(sealed []byte) uint32 {
	if len(sealed) < headerSize {
		return 0
	}
	return binary.BigEndian.Uint32(sealed[:4])
}
