package httpapi

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
)

// resultsApp is what the results upload needs: a results file validated
// and queued as it streams in. Problems (the first ones by position, then
// one at "(file)" that counts the rest: "and N more problem(s) ...") mean
// nothing was stored. A failing body (past its cap: *http.MaxBytesError)
// is an error wrapping the reader's.
type resultsApp interface {
	SubmitResultsFrom(ctx context.Context, id gateway.SchoolID, r io.Reader, by string, progress func(done, total int)) (gateway.Submission, []gateway.Problem, error)
}

// maxResultsBody caps a results submission (about a million results):
// app.DefaultMaxResultsBytes, the default of intake.max_body_bytes.
const maxResultsBody = 64 << 20

// maxSubmitsPerToken caps the results submissions one token may have under
// way at once (each holds a connection, a store read and CPU for as long as
// its body streams in); one more is 429.
const maxSubmitsPerToken = 2

// submitRetry is the Retry-After of a submission refused as one too many.
const submitRetry = 5 * time.Second

// submitSlots counts the results submissions under way per token. The
// zero value is ready.
type submitSlots struct {
	mu    sync.Mutex
	inUse map[string]int // token id -> submissions under way
}

// take takes one of the token's slots; ok is false when all are in use.
func (s *submitSlots) take(token string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse[token] >= maxSubmitsPerToken {
		return nil, false
	}
	if s.inUse == nil {
		s.inUse = map[string]int{}
	}
	s.inUse[token]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.inUse[token]--; s.inUse[token] <= 0 {
			delete(s.inUse, token)
		}
	}, true
}

// tooManySubmits is the refusal of one submission too many (429 with
// Retry-After, by the error table).
type tooManySubmits struct{}

func (tooManySubmits) Error() string {
	return fmt.Sprintf("at most %d results submissions of one token may be under way at once: wait for one to finish", maxSubmitsPerToken)
}

func (tooManySubmits) RetryAfter() time.Duration { return submitRetry }

// problemCount is how many problems a refused file has: those listed, plus
// the rest the last one counts ("and N more problem(s) ...", at "(file)").
func problemCount(problems []gateway.Problem) int {
	n := len(problems)
	if n == 0 {
		return 0
	}
	var rest int
	if last := problems[n-1]; last.Position == "(file)" && strings.HasPrefix(last.Reason, "and ") {
		if _, err := fmt.Sscanf(last.Reason, "and %d more", &rest); err == nil {
			return n - 1 + rest
		}
	}
	return n
}

// uploadBody marks the errors of reading a request body, so that a body
// cut off is told apart from a failing store.
type uploadBody struct{ r io.Reader }

func (b uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = bodyError{err}
	}
	return n, err
}

// bodyError is a failure to read the body (it wraps *http.MaxBytesError
// past the cap).
type bodyError struct{ err error }

func (e bodyError) Error() string { return "read body: " + e.err.Error() }
func (e bodyError) Unwrap() error { return e.err }

// problemsDetail is the detail of a refused file's 422.
func problemsDetail(problems []gateway.Problem) string {
	n := problemCount(problems)
	if n > len(problems) {
		return fmt.Sprintf("%d problem(s) in the results, the first %d listed; nothing was stored", n, len(problems)-1)
	}
	return fmt.Sprintf("%d problem(s) in the results; nothing was stored", n)
}
