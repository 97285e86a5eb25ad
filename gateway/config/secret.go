package config

import "log/slog"

// redacted is what a Secret shows instead of its value, everywhere.
const redacted = "[redacted]"

// Secret holds a configuration value that may contain a credential, such as
// a Redis URL with a password in it. Its value is unexported so it cannot be
// read by accident: String, GoString, MarshalJSON, MarshalText and LogValue
// all produce "[redacted]", so printing, JSON/YAML-encoding or logging a
// Config (or a Secret) never shows it. Call Reveal at the one place that
// needs the real value, and do not log what it returns.
//
// The zero Secret is empty. Secrets are comparable with ==.
type Secret struct {
	value string
}

// NewSecret wraps s as a Secret.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret value. Use it only where the value is handed to
// the thing that needs it (for example a Redis client), never for output.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String implements fmt.Stringer; it covers %v, %+v, %s, %q and fmt.Sprint.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `config.Secret("` + redacted + `")` }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (used by YAML encoders and
// slog's text handler, among others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
