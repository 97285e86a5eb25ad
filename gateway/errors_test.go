package gateway_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

func TestInvalidFields(t *testing.T) {
	err := fmt.Errorf("set contact of school 12AB00: %w", gateway.InvalidFields{
		{Position: "name", Reason: "is required"}, {Position: "email", Reason: "is not an e-mail address"}})
	if !errors.Is(err, gateway.ErrInvalid) {
		t.Errorf("%v is not ErrInvalid", err)
	}
	if errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("%v is ErrNotFound", err)
	}
	var fields gateway.InvalidFields
	if !errors.As(err, &fields) || len(fields) != 2 || fields[1].Position != "email" {
		t.Fatalf("errors.As(%v) = %v", err, fields)
	}
	if want := "set contact of school 12AB00: name: is required; email: is not an e-mail address"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}
