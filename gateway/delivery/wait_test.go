package delivery_test

import "github.com/uwlr-gateway/uwlr-gateway/internal/observe"

// patience bounds every wait on an observed event (a count of receipts, a
// request at las-sim): generous, so a slow or busy machine makes a test
// slower, never red.
const patience = observe.Patience

// waitFor is observe.WaitFor.
var waitFor = observe.WaitFor
