package gateway

// The scoped store's methods that serve retention (see ScopedStore).

import (
	"context"
	"time"
)

// MarkPupilsLeft: checks the school.
func (s scopedStore) MarkPupilsLeft(ctx context.Context, id SchoolID, ids []PupilID, leftOn string) (int, error) {
	if err := inScope(ctx, id); err != nil {
		return 0, err
	}
	return s.st.MarkPupilsLeft(ctx, id, ids, leftOn)
}

// ExpireTexts: checks the school.
func (s scopedStore) ExpireTexts(ctx context.Context, id SchoolID, before time.Time) (ExpiredTexts, error) {
	if err := inScope(ctx, id); err != nil {
		return ExpiredTexts{}, err
	}
	return s.st.ExpireTexts(ctx, id, before)
}

// DeleteAuditPersonal: checks the chain (out of scope is ErrNotFound), and
// needs Scope.All (ErrForbidden) even for a school's own chain: deleting
// the personal part of entries is retention's, a gateway-wide act.
func (s scopedStore) DeleteAuditPersonal(ctx context.Context, chain string, seqs []uint64) (int, error) {
	if err := chainInScope(ctx, chain); err != nil {
		return 0, err
	}
	if err := needAll(ctx, "delete personal parts of audit chain "+chain); err != nil {
		return 0, err
	}
	return s.st.DeleteAuditPersonal(ctx, chain, seqs)
}
