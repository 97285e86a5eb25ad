package app

import "time"

// The login throttle's internals, for the package's external tests.

// Throttle is the per-address token bucket of failed logins.
type Throttle = loginThrottle

// NewThrottle returns a throttle with limits l (zero fields: defaults).
func NewThrottle(l LoginLimits) *Throttle { return newLoginThrottle(l) }

// Reserve takes a token of key's bucket at now (see reserve).
func (t *Throttle) Reserve(key string, now time.Time) (time.Duration, bool) {
	return t.reserve(key, now)
}

// Refund gives a reserved token back.
func (t *Throttle) Refund(key string, now time.Time) { t.refund(key, now) }

// Len is the number of addresses the throttle remembers.
func (t *Throttle) Len() int { return t.len() }

// ClientKey is the throttle's key of a client address.
var ClientKey = clientKey

// FailedLogins is the in-memory windows of failed logins.
type FailedLogins = failedLogins

// NewFailedLogins returns windows with limits l (zero fields: defaults).
func NewFailedLogins(l LoginLimits) *FailedLogins { return newFailedLogins(l) }

// Fail counts a failed login of key at now; true when it opens a window
// (it is written at once).
func (w *FailedLogins) Fail(key, reason string, now time.Time) bool {
	first, _ := w.fail(key, failure{reason: reason, account: "unknown", via: "api"}, now)
	return first
}

// Len is the number of open windows.
func (w *FailedLogins) Len() int { return w.len() }
