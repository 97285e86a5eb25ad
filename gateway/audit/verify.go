package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// Problem kinds: what a verification found wrong with a chain.
const (
	// ProblemEdited: an entry's stored hash does not match its content (the
	// content or the hash was changed after the entry was appended).
	ProblemEdited = "edited"
	// ProblemLink: an entry's Prev is not the hash of the entry before it
	// (one of the two was replaced, or edited and re-hashed).
	ProblemLink = "link"
	// ProblemRemoved: sequence numbers are missing between stored entries.
	ProblemRemoved = "removed"
	// ProblemReordered: an entry is stored after an entry with a higher
	// sequence number.
	ProblemReordered = "reordered"
	// ProblemInserted: an entry that is not part of the chain: a second entry
	// with a sequence number already seen, sequence number 0, or entries
	// beyond the head record.
	ProblemInserted = "inserted"
	// ProblemChain: an entry names another chain than the one it is stored in.
	ProblemChain = "chain"
	// ProblemTruncated: the head record names a later entry than the last one
	// stored: entries were removed from the end.
	ProblemTruncated = "truncated"
	// ProblemHead: the head record does not match the stored entry with its
	// sequence number, or its own hash does not match its content.
	ProblemHead = "head"
	// ProblemMore: more problems were found than are listed.
	ProblemMore = "more"
	// ProblemPersonal: an entry's personal part does not match its
	// commitment (it was changed, or belongs to another entry), or personal
	// values stand in an entry whose personal part was deleted.
	ProblemPersonal = "personal"
)

const (
	// maxProblems caps the problems listed per chain; a chain that is wrong
	// throughout would otherwise produce one problem per entry.
	maxProblems = 1000
	// maxGaps caps the ranges of missing sequence numbers tracked per chain
	// (to recognise an entry that turns up later as reordered rather than
	// inserted). Memory stays bounded however the chain was damaged.
	maxGaps = 1000
)

// walker is what Verify needs of gateway.Store.
type walker interface {
	AuditChains(ctx context.Context) ([]string, error)
	WalkAudit(ctx context.Context, chain string, fn func(gateway.AuditEntry) error) error
	AuditHead(ctx context.Context, chain string) (gateway.AuditEntry, error)
}

// Verify checks every chain of a store, streaming: it holds the entry
// before the current one (plus bounded bookkeeping of gaps and problems),
// never a whole chain. It reads each chain's head record before and after
// walking the chain, so entries appended while it runs are not mistaken for
// tampering. It returns an error only when the store cannot be read;
// tampering is reported in the report's Problems (OK is false then).
func Verify(ctx context.Context, st walker) (gateway.AuditReport, error) {
	chains, err := st.AuditChains(ctx)
	if err != nil {
		return gateway.AuditReport{}, fmt.Errorf("audit: verify: list chains: %w", err)
	}
	r := gateway.AuditReport{Problems: []gateway.AuditProblem{}}
	for _, chain := range chains {
		head, err := st.AuditHead(ctx, chain)
		if err != nil {
			return gateway.AuditReport{}, fmt.Errorf("audit: verify chain %s: read head: %w", chain, err)
		}
		v := newVerifier(chain, head)
		err = st.WalkAudit(ctx, chain, func(e gateway.AuditEntry) error {
			v.add(e)
			r.Entries++
			return nil
		})
		if err != nil {
			return gateway.AuditReport{}, fmt.Errorf("audit: verify chain %s: %w", chain, err)
		}
		later, err := st.AuditHead(ctx, chain)
		if err != nil {
			return gateway.AuditReport{}, fmt.Errorf("audit: verify chain %s: read head: %w", chain, err)
		}
		r.Chains++
		r.Problems = append(r.Problems, v.finish(later)...)
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// VerifyChain checks the entries of one chain, in the order they are
// stored, against each other and against the chain's head record. It
// returns nil when the chain is intact. See the package documentation for
// what it detects and what a hash chain cannot.
func VerifyChain(chain string, entries []gateway.AuditEntry, head gateway.AuditEntry) []gateway.AuditProblem {
	v := newVerifier(chain, head)
	for _, e := range entries {
		v.add(e)
	}
	return v.finish(head)
}

// gap is a range of missing sequence numbers, with what its neighbours
// demand of the entries that would fill it.
type gap struct {
	from, to uint64 // inclusive
	before   string // the Prev entry from must have: the hash of entry from-1
	after    string // the hash entry to must have: the Prev of entry to+1
}

// candidate is an entry taken into the chain, with its recomputed hash and
// the index of its "edited" problem (-1 when none).
type candidate struct {
	e      gateway.AuditEntry
	sum    string
	edited int
	dup    int // for an alternative: the index of its "inserted" problem
}

// verifier checks one chain, one entry at a time.
type verifier struct {
	chain    string
	head     gateway.AuditEntry // head record read before the entries
	top      candidate          // the entry with the highest seq taken into the chain
	alt      *candidate         // a second entry with top's seq, seen right after top
	lastSeq  uint64             // seq of the entry stored before the current one
	headHash string             // stored hash of the chain's entry with seq head.Seq
	sawHead  bool
	gaps     []gap // sorted by from, disjoint
	problems []gateway.AuditProblem
	omitted  int
}

func newVerifier(chain string, head gateway.AuditEntry) *verifier {
	return &verifier{chain: chain, head: head, top: candidate{edited: -1}}
}

// report records a problem and returns its index, or -1 beyond maxProblems.
func (v *verifier) report(seq uint64, kind, detail string) int {
	if len(v.problems) >= maxProblems {
		v.omitted++
		return -1
	}
	v.problems = append(v.problems, gateway.AuditProblem{Chain: v.chain, Seq: seq, Kind: kind, Detail: detail})
	return len(v.problems) - 1
}

func (v *verifier) amend(i int, detail string) {
	if i >= 0 {
		v.problems[i].Detail = detail
	}
}

func (v *verifier) add(e gateway.AuditEntry) {
	c := candidate{e: e, sum: Hash(e), edited: -1, dup: -1}
	if e.Chain != v.chain {
		v.report(e.Seq, ProblemChain, fmt.Sprintf("the entry names chain %q", e.Chain))
	}
	if c.sum != e.Hash {
		c.edited = v.report(e.Seq, ProblemEdited, "the stored hash does not match the entry's content")
	}
	if detail := personalProblem(e); detail != "" {
		v.report(e.Seq, ProblemPersonal, detail)
	}
	defer func() { v.lastSeq = e.Seq }()
	switch {
	case e.Seq == v.top.e.Seq+1:
		v.link(c)
		v.take(c)
	case e.Seq > v.top.e.Seq+1:
		v.openGap(gap{from: v.top.e.Seq + 1, to: e.Seq - 1, before: v.top.e.Hash, after: e.Prev})
		v.alt = nil
		v.take(c)
	case e.Seq == 0:
		v.report(0, ProblemInserted, "sequence number 0 (chains count from 1)")
	case v.fill(c):
		// A missing seq turned up late: reported as reordered.
	default:
		c.dup = v.report(e.Seq, ProblemInserted, fmt.Sprintf("a second entry with seq %d (hash %s)", e.Seq, e.Hash))
		if e.Seq == v.top.e.Seq && v.alt == nil {
			v.alt = &c
		}
	}
}

// personalProblem checks an entry's personal part against its commitment
// (the hash covers the commitment, not the values): while the part is kept
// its values and salt must give Personal.Sum; once it expired, none of its
// values may stand in the entry. It returns "" when the part is fine or
// there is none.
func personalProblem(e gateway.AuditEntry) string {
	p := e.Personal
	switch {
	case p == nil:
		return ""
	case !e.PersonalExpired():
		if PersonalSum(e) != p.Sum {
			return "the personal part does not match the entry's commitment: it was changed, or belongs to another entry"
		}
	case p.Actor && e.Actor != "" || slices.ContainsFunc(p.Keys, func(k string) bool { _, ok := e.Details[k]; return ok }):
		return "personal values stand in an entry whose personal part was deleted"
	}
	return ""
}

// take makes c the top of the chain.
func (v *verifier) take(c candidate) {
	v.top = c
	if c.e.Seq == v.head.Seq {
		v.headHash, v.sawHead = c.e.Hash, true
	}
}

// link checks that c, the entry after top, links to top.
func (v *verifier) link(c candidate) {
	top, alt := v.top, v.alt
	v.alt = nil
	switch {
	case c.e.Prev == top.e.Hash:
		v.amend(top.edited, fmt.Sprintf("the content was changed after hashing (seq %d links to the stored hash)", c.e.Seq))
	case top.edited >= 0 && c.e.Prev == top.sum:
		v.amend(top.edited, fmt.Sprintf("the stored hash was changed (seq %d links to the hash of the content)", c.e.Seq))
	case alt != nil && (c.e.Prev == alt.e.Hash || c.e.Prev == alt.sum):
		// The chain goes on from the entry with top's seq that was stored
		// second: the first one is the extra.
		v.amend(alt.dup, fmt.Sprintf("a second entry with seq %d: seq %d links to this one (hash %s), so the one stored before it (hash %s) was inserted",
			alt.e.Seq, c.e.Seq, alt.e.Hash, top.e.Hash))
		v.take(*alt)
	case top.e.Seq == 0:
		v.report(c.e.Seq, ProblemLink, "the first entry's prev is not empty: entries before it were removed, or it was replaced")
	default:
		v.report(c.e.Seq, ProblemLink, fmt.Sprintf("prev does not match the hash of seq %d: one of the two was replaced, or edited and re-hashed", top.e.Seq))
	}
}

func (v *verifier) openGap(g gap) {
	if len(v.gaps) >= maxGaps {
		// Not tracked: an entry of this range stored later counts as inserted.
		v.report(g.from, ProblemRemoved, fmt.Sprintf("seq %d to %d missing", g.from, g.to))
		return
	}
	v.gaps = append(v.gaps, g) // gaps open in increasing order
}

// fill reports c, an entry with a seq below top's, as reordered when its seq
// is in a gap, checks it against the gap's neighbours and narrows the gap.
// It returns false when the seq was not missing.
func (v *verifier) fill(c candidate) bool {
	s := c.e.Seq
	i, found := slices.BinarySearchFunc(v.gaps, s, func(g gap, s uint64) int {
		switch {
		case g.to < s:
			return -1
		case g.from > s:
			return 1
		}
		return 0
	})
	if !found {
		return false
	}
	g := v.gaps[i]
	v.report(s, ProblemReordered, fmt.Sprintf("stored after seq %d", v.lastSeq))
	if s == g.from && c.e.Prev != g.before {
		v.report(s, ProblemLink, fmt.Sprintf("prev does not match the hash of seq %d", s-1))
	}
	if s == g.to && c.e.Hash != g.after && c.sum != g.after {
		v.report(s+1, ProblemLink, fmt.Sprintf("prev does not match the hash of seq %d", s))
	}
	var parts []gap
	if s > g.from {
		parts = append(parts, gap{from: g.from, to: s - 1, before: g.before, after: c.e.Prev})
	}
	if s < g.to {
		parts = append(parts, gap{from: s + 1, to: g.to, before: c.e.Hash, after: g.after})
	}
	v.gaps = slices.Replace(v.gaps, i, i+1, parts...)
	if s == v.head.Seq {
		v.headHash, v.sawHead = c.e.Hash, true
	}
	return true
}

// finish reports what is left: gaps never filled and a head record that
// does not fit. later is the head record read after the entries (the same
// as the first one when nothing can append meanwhile).
func (v *verifier) finish(later gateway.AuditEntry) []gateway.AuditProblem {
	for _, g := range v.gaps {
		v.report(g.from, ProblemRemoved, fmt.Sprintf("seq %d to %d missing", g.from, g.to))
	}
	h := v.head
	switch {
	case h.Seq > v.top.e.Seq:
		v.report(h.Seq, ProblemTruncated, fmt.Sprintf("the head record names seq %d but the last entry is seq %d: entries were removed from the end", h.Seq, v.top.e.Seq))
	case h.Seq > 0 || h.Hash != "":
		if v.alt != nil && v.alt.e.Seq == h.Seq && v.headHash != h.Hash && v.alt.e.Hash == h.Hash {
			// The last seq appears twice; the head record names the second.
			v.amend(v.alt.dup, fmt.Sprintf("a second entry with seq %d: the head record names this one (hash %s), so the one stored before it (hash %s) was inserted",
				h.Seq, h.Hash, v.headHash))
			v.headHash = h.Hash
		}
		switch {
		case !v.sawHead:
			v.report(h.Seq, ProblemHead, "no stored entry has the head record's seq")
		case v.headHash != h.Hash:
			v.report(h.Seq, ProblemHead, fmt.Sprintf("the head record (hash %s) does not match the stored entry (hash %s): one of them was changed", h.Hash, v.headHash))
		}
		if h.Chain != v.chain {
			v.report(h.Seq, ProblemHead, fmt.Sprintf("the head record names chain %q", h.Chain))
		}
		if Hash(h) != h.Hash {
			v.report(h.Seq, ProblemHead, "the head record's hash does not match its content")
		}
	}
	switch {
	case later.Seq == 0 && later.Hash == "" && v.top.e.Seq > 0:
		v.report(v.top.e.Seq, ProblemHead, "the head record is missing, but entries are stored")
	case later.Seq < v.top.e.Seq:
		v.report(later.Seq+1, ProblemInserted, fmt.Sprintf("entries up to seq %d lie beyond the head record (seq %d): written around the store, or the head record was rolled back",
			v.top.e.Seq, later.Seq))
	}
	out := v.problems
	slices.SortStableFunc(out, func(a, b gateway.AuditProblem) int { return cmp.Compare(a.Seq, b.Seq) })
	if v.omitted > 0 {
		out = append(out, gateway.AuditProblem{Chain: v.chain, Seq: v.top.e.Seq, Kind: ProblemMore, Detail: fmt.Sprintf("%d more problems not listed", v.omitted)})
	}
	return out
}
