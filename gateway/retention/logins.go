package retention

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// purgeLogins deletes (unless dry) the login records that LoginExpired
// names and returns how many were (or would be) deleted. purged holds, per
// school, the pupils this run purged; a pupil a record names is also gone
// when its school no longer knows it, or the school itself is gone. A record
// that names a pupil but no school can only expire by its account's last use.
// An account's last use is the latest At over its records that the pupil
// rule keeps.
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

	// Second pass: each account's last use, over the records that survive
	// the pupil rule. Counting a record that this run deletes would make the
	// next run see an older last use and delete more: not idempotent.
	lastUse := map[string]time.Time{}
	err = st.WalkLogins(ctx, func(l gateway.Login) error {
		if !pupilGone(l) && l.At.After(lastUse[l.Account]) {
			lastUse[l.Account] = l.At
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retention: walk logins: %w", err)
	}

	// Third pass: the expired records.
	var ids []string
	err = st.WalkLogins(ctx, func(l gateway.Login) error {
		if LoginExpired(l, lastUse[l.Account], pupilGone(l), today) {
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
