package retention

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// purgeLogins deletes (unless dry) the login records that LoginExpired
// names and returns how many were (or would be) deleted. purged holds, per
// school, the pupils this run purged; a pupil a record names is also gone
// when its school no longer knows it, or the school itself is gone. A
// record that names a pupil but no school expires by its age only.
func purgeLogins(ctx context.Context, st Store, purged map[gateway.SchoolID]map[gateway.PupilID]bool, today Date, dry bool) (int, error) {
	// First pass: the pupils the records name, to look up.
	lookup := map[gateway.SchoolID]map[gateway.PupilID]bool{}
	err := st.WalkLogins(ctx, func(l gateway.Login) error {
		if l.Pupil != "" && l.School != "" && !purged[l.School][l.Pupil] {
			if lookup[l.School] == nil {
				lookup[l.School] = map[gateway.PupilID]bool{}
			}
			lookup[l.School][l.Pupil] = true
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retention: walk logins: %w", err)
	}
	unknown, err := unknownPupils(ctx, st, lookup)
	if err != nil {
		return 0, err
	}
	pupilGone := func(l gateway.Login) bool {
		return l.Pupil != "" && (purged[l.School][l.Pupil] || unknown[l.School][l.Pupil])
	}

	// Second pass: the expired records.
	var ids []string
	err = st.WalkLogins(ctx, func(l gateway.Login) error {
		if LoginExpired(l, pupilGone(l), today) {
			ids = append(ids, l.ID)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retention: walk logins: %w", err)
	}
	if dry {
		return len(ids), nil
	}
	n, err := deleteChunks(ctx, ids, func(part []string) (int, error) { return st.DeleteLogins(ctx, part) })
	if err != nil {
		return n, fmt.Errorf("retention: delete logins: %w", err)
	}
	return n, nil
}

// unknownPupils returns, of the pupils asked about per school, those the
// school's current snapshot does not hold; all of them when the school
// itself is gone.
func unknownPupils(ctx context.Context, st Store, ask map[gateway.SchoolID]map[gateway.PupilID]bool) (map[gateway.SchoolID]map[gateway.PupilID]bool, error) {
	out := make(map[gateway.SchoolID]map[gateway.PupilID]bool, len(ask))
	for _, school := range slices.Sorted(maps.Keys(ask)) {
		ids := slices.Sorted(maps.Keys(ask[school]))
		known := map[gateway.PupilID]bool{}
		for part := range slices.Chunk(ids, chunk) {
			found, err := st.PupilsByID(ctx, school, part)
			if errors.Is(err, gateway.ErrNotFound) {
				break // offboarded: none of its pupils is known
			}
			if err != nil {
				return nil, fmt.Errorf("retention: school %s: look up pupils of login records: %w", school, err)
			}
			for id := range found {
				known[id] = true
			}
		}
		out[school] = map[gateway.PupilID]bool{}
		for _, id := range ids {
			if !known[id] {
				out[school][id] = true
			}
		}
	}
	return out, nil
}

// purgeAuditPersonal deletes (unless dry) the personal parts of audit
// entries of every chain two years after the entry, and returns how many
// were (or would be) deleted. Entries whose part expired already, and
// entries without one, are left alone. On the way it reads the last
// retention receipt of the gateway chain: pending reports whether that run
// deleted something but could not compact the store.
func purgeAuditPersonal(ctx context.Context, st Store, today Date, dry bool) (n int, pending bool, err error) {
	chains, err := st.AuditChains(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("retention: list audit chains: %w", err)
	}
	for _, chain := range chains {
		var seqs []uint64
		err := st.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
			if e.Personal != nil && !e.PersonalExpired() && InstantExpired(e.At, today) {
				seqs = append(seqs, e.Seq)
			}
			if chain == gateway.AuditChainGateway && e.Kind == gateway.AuditRetentionPurge {
				pending = e.Details[detailCompactPending] == "true"
			}
			return nil
		})
		if err != nil {
			return n, pending, fmt.Errorf("retention: walk audit chain %s: %w", chain, err)
		}
		if dry {
			n += len(seqs)
			continue
		}
		k, err := deleteChunks(ctx, seqs, func(part []uint64) (int, error) { return st.DeleteAuditPersonal(ctx, chain, part) })
		n += k
		if err != nil {
			return n, pending, fmt.Errorf("retention: audit chain %s: delete personal parts: %w", chain, err)
		}
	}
	return n, pending, nil
}
