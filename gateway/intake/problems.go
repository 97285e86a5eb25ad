package intake

// The problems of one file, in document order and bounded: past
// Options.MaxProblems a problem is counted, not kept, so that a file of a
// million bad records costs a thousand problems of memory and a problem
// document of some 100 KB, and the caller still learns how many there are.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// problemKey orders problems in the document: seq numbers the items of the
// document as they stream in (a member of the top level, a record of tests
// or results); sub is 2k for the k-th problem found in the item while it
// was read, and 2k-1 for a problem found later (a check that waited for
// "tests") that belongs before it.
type problemKey struct{ seq, sub int }

func (k problemKey) less(o problemKey) bool {
	return k.seq < o.seq || (k.seq == o.seq && k.sub < o.sub)
}

type keyedProblem struct {
	key problemKey
	p   gateway.Problem
}

// checker collects problems.
type checker struct {
	max    int            // problems kept; 0: all
	kept   []keyedProblem // the first max problems in document order
	total  int            // every problem found, kept or not
	seq    int            // the item being read
	inItem int            // problems found in it so far
}

// begin starts the next item of the document.
func (c *checker) begin() { c.seq, c.inItem = c.seq+1, 0 }

// add records a problem of the item being read.
func (c *checker) add(pos, format string, args ...any) {
	c.put(problemKey{c.seq, 2 * c.inItem}, pos, format, args...)
	c.inItem++
}

// full reports whether a problem at k would be counted only: max problems
// before it are kept. The bar only falls as problems come in, so what is
// past it now stays past it.
func (c *checker) full(k problemKey) bool {
	return c.max > 0 && len(c.kept) >= c.max && !k.less(c.kept[len(c.kept)-1].key)
}

// put records a problem at k (formatted only when it is kept).
func (c *checker) put(k problemKey, pos, format string, args ...any) {
	c.total++
	if c.full(k) {
		return
	}
	if pos == "" {
		pos = filePosition
	}
	kp := keyedProblem{key: k, p: gateway.Problem{Position: pos, Reason: fmt.Sprintf(format, args...)}}
	i := len(c.kept)
	for i > 0 && k.less(c.kept[i-1].key) { // nearly always appended at the end
		i--
	}
	c.kept = slices.Insert(c.kept, i, kp)
	if c.max > 0 && len(c.kept) > c.max {
		c.kept = c.kept[:c.max]
	}
}

// count adds n problems that are past the kept ones (full said so).
func (c *checker) count(n int) { c.total += n }

// moreFormat is the reason of the last problem when some were not kept.
const moreFormat = "and %d more problem(s) not listed (the first %d are): fix these and submit again"

// list returns the kept problems and, when there were more, one at
// "(file)" that counts the rest.
func (c *checker) list() []gateway.Problem {
	out := make([]gateway.Problem, 0, len(c.kept)+1)
	for _, kp := range c.kept {
		out = append(out, kp.p)
	}
	if rest := c.total - len(c.kept); rest > 0 {
		out = append(out, gateway.Problem{Position: filePosition, Reason: fmt.Sprintf(moreFormat, rest, len(c.kept))})
	}
	return out
}

// Count returns how many problems a file has, given what Read returned:
// the problems listed plus those counted by the last one ("and N more").
func Count(problems []gateway.Problem) int {
	n := len(problems)
	if n == 0 {
		return 0
	}
	last := problems[n-1]
	var rest, listed int
	if last.Position == filePosition && strings.HasPrefix(last.Reason, "and ") {
		if _, err := fmt.Sscanf(last.Reason, moreFormat, &rest, &listed); err == nil && listed == n-1 {
			return n - 1 + rest
		}
	}
	return n
}
