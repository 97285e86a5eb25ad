package gateway_test

import (
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The rows of the methods retention uses to expire data; they run after
// the others.
func init() {
	scopeRows = append(scopeRows,
		scopeRow{method: "DeleteAuditPersonal", kind: chainAll, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
			return nothing(st.DeleteAuditPersonal(ctx, gateway.AuditChainOf(s), []uint64{1}))
		}},
	)
}
