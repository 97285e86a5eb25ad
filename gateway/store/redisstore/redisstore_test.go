package redisstore_test

import (
	"testing"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gateway.Store { s, _ := openStore(t); return s })
}
