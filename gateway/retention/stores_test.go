package retention_test

import "github.com/uwlr-gateway/uwlr-gateway/internal/teststores"

// stores are the real stores every store test runs on.
var stores = teststores.All

var openBolt = teststores.Bolt
