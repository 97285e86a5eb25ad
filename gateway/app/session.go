package app

import (
	"context"
	"errors"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// sessionKeySecret names the web session key among the gateway secrets:
// 32 random bytes, sealed, shared by every instance.
const sessionKeySecret = "session_key"

// SessionKey returns the key that signs web sessions and CSRF tokens,
// creating it (once, across instances) when there is none.
func (a *App) SessionKey(ctx context.Context) ([]byte, error) {
	kr, err := a.keyring()
	if err != nil {
		return nil, err
	}
	place := vault.GatewaySecret(sessionKeySecret)
	sealed, err := a.st.GatewaySecret(ctx, sessionKeySecret)
	if errors.Is(err, gateway.ErrNotFound) {
		k := make([]byte, 32)
		if _, err := io.ReadFull(a.o.Random, k); err != nil {
			return nil, err
		}
		s, err := kr.Sealer().Seal(place, k)
		if err != nil {
			return nil, err
		}
		if sealed, err = a.st.PutGatewaySecret(ctx, sessionKeySecret, s, true); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return kr.SecretOpener().Open(place, sealed)
}
