package intake

// Results before "tests". A result's test may be defined anywhere in the
// file, also after the results, and a definition in the file replaces a
// stored one; so until "tests" has been read, the checks that need the
// definition (is the test defined, is the part one of its parts) wait, and
// so do the trial flag and digest of a good result. What waits is not the
// record but its test and part, with the positions of the first uses:
// enough to report the first problems in document order and count the
// rest. A waiting result counts as good meanwhile: its key takes part in
// the uniqueness check, so a record whose test turns out undefined may
// also be told that it repeats another's key.

import (
	"fmt"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// maxWaiting caps the different test and part pairs that may wait for
// "tests": a file that refers to more before defining them is refused (put
// "tests" first). It bounds the memory of the waiting checks.
const maxWaiting = 10000

// waitingRef is a test and part that results refer to.
type waitingRef struct {
	test, part string
	hasPart    bool
}

// waitingUses are the results that refer to one waitingRef: the first
// ones, by position, and how many more.
type waitingUses struct {
	uses []waitingUse
	more int
}

type waitingUse struct {
	key   problemKey
	index int // in results
}

// wait notes that the result at index refers to test and part, to be
// checked when "tests" is known.
func (rd *reader) wait(pos, test string, part *string, index int) {
	ref := waitingRef{test: test}
	if part != nil {
		ref.part, ref.hasPart = *part, true
	}
	rd.waited = true
	u, ok := rd.waiting[ref]
	if !ok {
		if len(rd.waiting) >= maxWaiting {
			rd.add(field(pos, "test"), "refers to more than %d different tests and parts before the file's \"tests\": give \"tests\" before \"results\"", maxWaiting)
			return
		}
		u = &waitingUses{}
		rd.waiting[ref] = u
	}
	// The problem, if any, belongs where the check would have been made:
	// before the problems the record has after it.
	k := problemKey{rd.seq, 2*rd.inItem - 1}
	if rd.full(k) || (rd.max > 0 && len(u.uses) >= rd.max) {
		u.more++
		return
	}
	u.uses = append(u.uses, waitingUse{key: k, index: index})
}

// testFault says what is wrong with a result's test and part, as the
// field it is at and the reason; "" when nothing is.
func (rd *reader) testFault(test string, part *string) (at, reason string) {
	if def, ok := rd.definition(test); ok {
		if part != nil && !hasPart(def, *part) {
			return "part", fmt.Sprintf("%s is not a part of test %s", *part, test)
		}
		return "", ""
	}
	if _, inFile := rd.defined[test]; !inFile && test != "" && !rd.testsUnreadable {
		return "test", fmt.Sprintf("test %s is not defined in this file nor stored for school %s", test, rd.o.School)
	}
	return "", ""
}

// resolve makes the checks that waited, now that the whole file is read,
// and completes the good results that waited.
func (rd *reader) resolve() {
	for ref, u := range rd.waiting {
		var part *string
		if ref.hasPart {
			part = &ref.part
		}
		at, reason := rd.testFault(ref.test, part)
		if at == "" {
			continue
		}
		for _, use := range u.uses {
			rd.put(use.key, field(index("results", use.index), at), "%s", reason)
		}
		rd.count(u.more)
	}
	if !rd.waited || rd.total > 0 {
		return
	}
	for i := range rd.results {
		r := &rd.results[i]
		def, _ := rd.definition(r.Test)
		r.Trial = def.Trial
		r.Digest = Digest(*r)
	}
}

// keepTest and keepResult keep what a good file holds, until the first
// problem: from then on nothing will be stored, so nothing is kept.
func (rd *reader) keepTest(def gateway.TestDefinition) {
	if rd.total == 0 {
		rd.tests = append(rd.tests, def)
	}
}

func (rd *reader) keepResult(r gateway.Result) {
	if rd.total > 0 {
		rd.tests, rd.results = nil, nil
		return
	}
	rd.results = append(rd.results, r)
}
