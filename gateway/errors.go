package gateway

import (
	"errors"
	"strings"
)

// Error kinds. Adapters wrap their errors so that errors.Is(err, kind) holds;
// each edge (CLI, HTTP API) translates kinds once, in one table.
var (
	// ErrNotFound: the thing asked for does not exist (or is outside the caller's scope).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input is malformed or violates a rule; retrying the same input fails again.
	ErrInvalid = errors.New("invalid input")
	// ErrConsentRequired: the school has not opted in to the processing this act needs.
	ErrConsentRequired = errors.New("consent required")
	// ErrForbidden: the credentials are missing, wrong, or do not grant this act.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the act collides with the current state (a lock, a held sync).
	ErrConflict = errors.New("conflict")
	// ErrTransient: a temporary failure; the same act may succeed later.
	ErrTransient = errors.New("temporary failure")
)

// InvalidFields is bad input that names each bad field (a JSON key, a
// field of a form or an input file): errors.Is(err, ErrInvalid) holds and
// errors.As finds the fields, so each edge can name them its own way (a
// JSON pointer, a flag). A Problem's Position is the field's name
// ("email", "nature[1]"); its Reason never repeats the bad value, which
// may be personal data.
type InvalidFields []Problem

func (e InvalidFields) Error() string {
	parts := make([]string, len(e))
	for i, p := range e {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Is makes InvalidFields an ErrInvalid.
func (e InvalidFields) Is(target error) bool { return target == ErrInvalid }
