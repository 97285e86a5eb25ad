package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// How many people a school's data concerned at a moment in the past, from
// what the store holds now: the current records, their change dates, the
// school's audit chain and the admin tokens (which are never deleted).

// Range is a number the store cannot always tell exactly: the true number
// lies from AtLeast to AtMost, both included. AtMost is nil when the store
// gives no upper bound. AtLeast == *AtMost is an exact count.
type Range struct {
	AtLeast int  `json:"at_least"`
	AtMost  *int `json:"at_most"`
}

func exactly(n int) Range { return Range{AtLeast: n, AtMost: &n} }

// plus adds two ranges; without an upper bound on either, the sum has none.
func (r Range) plus(o Range) Range {
	out := Range{AtLeast: r.AtLeast + o.AtLeast}
	if r.AtMost != nil && o.AtMost != nil {
		n := *r.AtMost + *o.AtMost
		out.AtMost = &n
	}
	return out
}

// HeldAt is what a school held at one moment (the window's start or end),
// derived as CountDerivation says.
type HeldAt struct {
	At     time.Time `json:"at"`
	Pupils Range     `json:"pupils"`
	// PupilsLeft counts, of the pupils known to have been held then
	// (Pupils.AtLeast), those already marked as left.
	PupilsLeft int   `json:"pupils_left"`
	Teachers   Range `json:"teachers"`
	// Accounts counts the admin tokens scoped to the school (school-admin
	// and viewer tokens naming it) that were active then; in the totals,
	// every such token once.
	Accounts int `json:"accounts"`
}

// Derivation says, per kind of data subject, how the counts at a moment
// in the past are derived.
type Derivation struct {
	Pupils   string `json:"pupils"`
	Teachers string `json:"teachers"`
	Accounts string `json:"accounts"`
}

var derivation = Derivation{
	Pupils: "From the pupils the store holds now. A pupil whose record was last changed (by a sync: added, changed or marked as " +
		"left) at or before the moment was held then, as it is now: at_least counts those, pupils_left those of them marked as " +
		"left. A pupil changed after the moment (or without a change date) may or may not have been held then, as the store " +
		"keeps no earlier version: at_most adds those, and the pupils the school's retention runs purged after the moment (from " +
		"their purge receipts in the audit chain); when the school was offboarded since (and enrolled again), there is no upper " +
		"bound. Before the school was enrolled (and not offboarded since) it held none. Not counted: pupils a sync left out " +
		"because they were past retention, and schools offboarded since and not enrolled again.",
	Teachers: "From the school's audit chain: the teachers of the last sync applied or found unchanged at or before the moment; " +
		"none before the school was enrolled, between enrolment and its first sync, or after it was offboarded. Teacher records " +
		"carry no dates, so when the audit chain does not tell, the count is at least 0 with no upper bound.",
	Accounts: "From the admin tokens, which are never deleted: the tokens scoped to the school (school-admin and viewer tokens " +
		"naming it) created at or before the moment and neither revoked nor expired then. Exact. Operator tokens and viewer " +
		"tokens for every school reach every school: they are counted once, as gateway_accounts.",
}

// AccountCounts counts accounts at the window's start and end and now.
type AccountCounts struct {
	AtStart int `json:"at_start"`
	AtEnd   int `json:"at_end"`
	Now     int `json:"now"`
}

// pupilsAt counts, while the current pupils stream by, what they tell of
// one moment.
type pupilsAt struct {
	at                         time.Time
	known, knownLeft, unknowns int
}

func (c *pupilsAt) pupil(p gateway.Pupil) {
	if p.UpdatedAt.IsZero() || p.UpdatedAt.After(c.at) {
		c.unknowns++
		return
	}
	c.known++
	if p.LeftOn != "" {
		c.knownLeft++
	}
}

// mark is what one audit entry tells of the past: from At on, the school
// held N teachers (or pupils were purged); Known is false when the entry
// does not say how many.
type mark struct {
	At    time.Time
	N     int
	Known bool
}

// chainFacts is what a school's audit chain tells: its entries in the
// window per kind, the teachers after each applied sync (and none after
// enrolment or offboarding), the pupils each retention run purged, and
// when the school was offboarded.
type chainFacts struct {
	inWindow map[gateway.AuditKind]int
	teachers []mark
	purges   []mark
	removed  []time.Time
}

// readChain reads a school's audit chain once. An unknown chain has no entries.
func readChain(ctx context.Context, st Store, id gateway.SchoolID, win Window) (chainFacts, error) {
	c := chainFacts{inWindow: map[gateway.AuditKind]int{}}
	count := func(d map[string]string, key string) (int, bool) {
		n, err := strconv.Atoi(d[key])
		return n, err == nil && n >= 0
	}
	err := st.WalkAudit(ctx, gateway.AuditChainOf(id), func(e gateway.AuditEntry) error {
		if win.Contains(e.At) {
			c.inWindow[e.Kind]++
		}
		d := e.Details
		switch e.Kind {
		case gateway.AuditSync, gateway.AuditSyncApprove:
			status, said := d["status"]
			if d["dry_run"] == "true" || (said && status != string(gateway.SyncApplied) && status != string(gateway.SyncUnchanged)) {
				return nil // changed nothing
			}
			n, ok := count(d, "teachers")
			c.teachers = append(c.teachers, mark{e.At, n, ok && said})
		case gateway.AuditSchoolAdd:
			if d["action"] == "enrolled" {
				c.teachers = append(c.teachers, mark{e.At, 0, true})
			}
		case gateway.AuditSchoolRemove:
			c.teachers = append(c.teachers, mark{e.At, 0, true})
			c.removed = append(c.removed, e.At)
		case gateway.AuditRetentionPurge:
			n, ok := count(d, "pupils")
			c.purges = append(c.purges, mark{e.At, n, ok})
		}
		return nil
	})
	if err != nil && !errors.Is(err, gateway.ErrNotFound) {
		return chainFacts{}, fmt.Errorf("breach report: audit chain of school %s: %w", id, err)
	}
	return c, nil
}

// heldNothing reports whether the school held nothing at t: it was
// enrolled after t, and no earlier enrolment was offboarded after t.
func (c chainFacts) heldNothing(t, enrolled time.Time) bool {
	return t.Before(enrolled) && !slices.ContainsFunc(c.removed, func(r time.Time) bool { return r.After(t) })
}

func (c chainFacts) teachersAt(t, enrolled time.Time) Range {
	if c.heldNothing(t, enrolled) {
		return exactly(0)
	}
	var last *mark
	for i := range c.teachers {
		if !c.teachers[i].At.After(t) {
			last = &c.teachers[i]
		}
	}
	if last != nil && last.Known {
		return exactly(last.N)
	}
	return Range{}
}

func (c chainFacts) pupilsAt(p pupilsAt, enrolled time.Time) (Range, int) {
	if c.heldNothing(p.at, enrolled) {
		return exactly(0), 0
	}
	if slices.ContainsFunc(c.removed, func(r time.Time) bool { return r.After(p.at) }) {
		return Range{AtLeast: p.known}, p.knownLeft // an offboarding since deleted pupils nobody counted
	}
	most := p.known + p.unknowns
	for _, m := range c.purges {
		if !m.At.After(p.at) {
			continue
		}
		if !m.Known { // a purge receipt that does not say how many: no upper bound
			return Range{AtLeast: p.known}, p.knownLeft
		}
		most += m.N
	}
	return Range{AtLeast: p.known, AtMost: &most}, p.knownLeft
}

// activeAt reports whether an admin token could be used at t.
func activeAt(tk gateway.Token, t time.Time) bool {
	return !tk.CreatedAt.After(t) && (tk.RevokedAt.IsZero() || tk.RevokedAt.After(t)) && (tk.ExpiresAt.IsZero() || tk.ExpiresAt.After(t))
}

// scopedTo reports whether a token is limited to schools that include id.
func scopedTo(tk gateway.Token, id gateway.SchoolID) bool {
	sc := tk.ScopeOf()
	return !sc.All && slices.Contains(sc.Schools, id)
}

// accounts counts the tokens scoped to any of the schools that were
// active at t, each once.
func accounts(tokens []gateway.Token, t time.Time, schools ...gateway.SchoolID) int {
	n := 0
	for _, tk := range tokens {
		if activeAt(tk, t) && slices.ContainsFunc(schools, func(id gateway.SchoolID) bool { return scopedTo(tk, id) }) {
			n++
		}
	}
	return n
}

// gatewayAccounts counts the tokens that reach every school, active at t.
func gatewayAccounts(tokens []gateway.Token, t time.Time) int {
	n := 0
	for _, tk := range tokens {
		if activeAt(tk, t) && tk.ScopeOf().All {
			n++
		}
	}
	return n
}
