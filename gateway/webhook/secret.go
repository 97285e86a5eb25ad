package webhook

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

const (
	// SecretPrefix starts every secret, as the specification writes it.
	SecretPrefix = "whsec_"
	// MinKeyBytes is the shortest key ParseSecret accepts. The
	// specification recommends 24 to 64 bytes: 24 bytes (192 bits) is well
	// above what HMAC-SHA256 needs to resist guessing.
	MinKeyBytes = 24
	// maxKeyBytes bounds a key we parse: HMAC hashes a longer key down to
	// 32 bytes anyway, and the bound keeps an absurd input from being read.
	maxKeyBytes = 1024
	// newKeyBytes is the size of a key NewSecret makes (256 bits).
	newKeyBytes = 32
)

// ParseSecret reads a "whsec_<base64>" secret (surrounding whitespace and
// line breaks trimmed; standard base64 with padding) and returns the key
// bytes, at least MinKeyBytes of them. Anything else is an error wrapping
// gateway.ErrInvalid that never repeats the secret.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("webhook: secret: %w: does not start with %q", gateway.ErrInvalid, SecretPrefix)
	}
	if len(b64) > base64.StdEncoding.EncodedLen(maxKeyBytes) {
		return nil, fmt.Errorf("webhook: secret: %w: longer than %d bytes", gateway.ErrInvalid, maxKeyBytes)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// The decoder's error names an offset only; still, say less.
		return nil, fmt.Errorf("webhook: secret: %w: the part after %q is not standard base64", gateway.ErrInvalid, SecretPrefix)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("webhook: secret: %w: %d bytes, want at least %d", gateway.ErrInvalid, len(key), MinKeyBytes)
	}
	return key, nil
}

// NewSecret returns a fresh secret of 32 key bytes read from random (in
// production crypto/rand.Reader), as "whsec_" + their standard base64.
func NewSecret(random io.Reader) (string, error) {
	if random == nil {
		return "", fmt.Errorf("webhook: new secret: %w: no random source", gateway.ErrInvalid)
	}
	key := make([]byte, newKeyBytes)
	if _, err := io.ReadFull(random, key); err != nil {
		return "", fmt.Errorf("webhook: new secret: read random: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
