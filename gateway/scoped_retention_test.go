package gateway_test

import (
	"context"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// The rows of the methods retention uses to expire data; they run after
// the others.
func init() {
	scopeRows = append(scopeRows,
		scopeRow{method: "MarkPupilsLeft", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
			return nothing(st.MarkPupilsLeft(ctx, s, []gateway.PupilID{"nopupil"}, "2026-03-01"))
		}},
		scopeRow{method: "ExpireTexts", call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
			return nothing(st.ExpireTexts(ctx, s, at.AddDate(-1, 0, 0)))
		}},
		scopeRow{method: "DeleteAuditPersonal", kind: chainAll, call: func(ctx context.Context, e *scopeEnv, st gateway.Store, s gateway.SchoolID) error {
			return nothing(st.DeleteAuditPersonal(ctx, gateway.AuditChainOf(s), []uint64{1}))
		}},
	)
}
