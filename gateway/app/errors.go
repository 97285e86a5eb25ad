package app

import (
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// invalidError is a gateway.ErrInvalid whose message is the cause's alone
// (no "invalid input:" prefix), so an edge can print it as it is.
type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Unwrap() error        { return e.err }
func (e invalidError) Is(target error) bool { return target == gateway.ErrInvalid }

// invalid marks err as bad input.
func invalid(err error) error { return invalidError{err} }

// invalidf is a new bad-input error.
func invalidf(format string, args ...any) error { return invalidError{fmt.Errorf(format, args...)} }
