package gateway

// ErrorClass says what kind of action a failure needs. It is a closed set:
// the SOAP client classifies LAS faults into it, the stores keep it on
// batches and sync runs, delivery decides retries by it, and the metrics use
// it as a label (so an unknown value never becomes a label: see Label).
type ErrorClass string

const (
	// ClassNone: no failure.
	ClassNone ErrorClass = ""
	// ClassCredential: key, klant identification, certificate or trust is
	// wrong; a person must fix it.
	ClassCredential ErrorClass = "credential"
	// ClassRequest: the request, endpoint, data or configuration is wrong;
	// retrying the same call fails again.
	ClassRequest ErrorClass = "request"
	// ClassVersion: the LAS does not speak the UWLR version we sent.
	ClassVersion ErrorClass = "version"
	// ClassTemporary: the LAS or the network failed for now; retry with backoff.
	ClassTemporary ErrorClass = "temporary"
	// ClassConsent: the school has not granted the processing the act needs.
	ClassConsent ErrorClass = "consent"
	// ClassConflict: the act collided with another writer (above all a
	// sync whose lock was taken over); nothing of it was applied.
	ClassConflict ErrorClass = "conflict"
)

// ErrorClasses lists every failure class, in a fixed order.
var ErrorClasses = []ErrorClass{ClassCredential, ClassRequest, ClassVersion, ClassTemporary, ClassConsent, ClassConflict}

// Valid reports whether c is ClassNone or one of ErrorClasses.
func (c ErrorClass) Valid() bool {
	if c == ClassNone {
		return true
	}
	for _, k := range ErrorClasses {
		if c == k {
			return true
		}
	}
	return false
}

// Label is c as a metric label: "none" for no failure, "other" for a value
// outside the set (a record written by an older version), else c itself.
func (c ErrorClass) Label() string {
	switch {
	case c == ClassNone:
		return "none"
	case !c.Valid():
		return "other"
	}
	return string(c)
}

// Retryable reports whether a failure of this class may succeed later.
func (c ErrorClass) Retryable() bool { return c == ClassTemporary }
