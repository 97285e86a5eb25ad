package soap

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// The limits on reading what a LAS sends. An answer is parsed as it
// streams in, so memory stays flat whatever the size of a school; these
// limits keep it flat whatever a broken or hostile LAS sends too: a gzip
// bomb, a surname of 100 MB, an attribute that never ends, elements nested
// a million deep, a pupil with a million group references. Each is far
// above anything a real answer holds (the longest UWLR field is 256
// characters) and far below what would hurt the process. A value over a
// field's UWLR length but under these limits is read and then refused by
// package mapping (its field limits), which skips the record.
const (
	// MaxTextBytes bounds any run of bytes between two element tags (text,
	// comments, CDATA, processing instructions), one element tag with its
	// attributes, and the text of one element: encoding/xml buffers each
	// whole, so this is checked on the bytes before they reach it.
	MaxTextBytes = 64 << 10
	// MaxDepth bounds the nesting of elements (an answer needs about 10).
	MaxDepth = 256
	// MaxRecordBytes bounds one record (a leerling, a leerkracht, a group,
	// the school) as it stands in the answer.
	MaxRecordBytes = 1 << 20
	// GzipMaxRatio and GzipAllowance bound a gzip-compressed answer: it may
	// expand to at most GzipMaxRatio times the compressed bytes read so far
	// plus GzipAllowance. XML answers compress 5-20 times; a gzip bomb
	// expands about 1000 times. MaxResponseBytes still bounds the total.
	GzipMaxRatio  = 100
	GzipAllowance = 1 << 20
)

// ErrLimit marks a failure to read an answer because it is over one of the
// limits above (errors.Is). The client reports it as a request-class
// *Error: the same call would fail again.
var ErrLimit = errors.New("LAS answer over a reading limit")

// LimitError is an answer over a reading limit; it names the limit and
// the byte offset, never any of the content.
type LimitError struct{ What string }

func (e *LimitError) Error() string { return e.What }
func (e *LimitError) Unwrap() error { return ErrLimit }

func limitf(format string, args ...any) *LimitError {
	return &LimitError{What: fmt.Sprintf(format, args...)}
}

// limitFailure classifies a read that failed on a limit (nil for any other
// failure, and for a handler's own error).
func limitFailure(op string, status int, err error) error {
	var ce *CallerError
	if errors.As(err, &ce) || !errors.Is(err, ErrLimit) {
		return nil
	}
	return &Error{Op: op, HTTPStatus: status, Class: ClassRequest, Err: err, Message: err.Error(),
		Hint: "The LAS sent an answer far outside the UWLR standard (see the message); the gateway refuses it. Report it to the LAS vendor."}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioReader fails once what it decompressed passes GzipMaxRatio times
// the compressed bytes read plus GzipAllowance.
type ratioReader struct {
	compressed *countReader
	r          io.Reader
	out        int64
	err        error
}

func (g *ratioReader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	g.out += int64(n)
	if g.out > GzipMaxRatio*g.compressed.n+GzipAllowance {
		g.err = limitf("gzip answer expands more than %d times its compressed size (%d bytes from %d)",
			GzipMaxRatio, g.out, g.compressed.n)
		return n, g.err
	}
	return n, err
}

// ReadLimiter bounds how many LAS calls run at once: a call holds one of
// its slots from before its request is sent until its answer is read, and
// waits for one (or for its context) when all are taken. The zero value
// is not usable; a nil *ReadLimiter bounds nothing.
type ReadLimiter struct {
	slots   chan struct{}
	waiting atomic.Int64
}

// NewReadLimiter returns a limiter of n slots (at least 1).
func NewReadLimiter(n int) *ReadLimiter {
	return &ReadLimiter{slots: make(chan struct{}, max(n, 1))}
}

// InUse counts the calls holding a slot.
func (l *ReadLimiter) InUse() int { return len(l.slots) }

// Waiting counts the calls waiting for a slot.
func (l *ReadLimiter) Waiting() int { return int(l.waiting.Load()) }

// acquire takes a slot, or returns the context's error.
func (l *ReadLimiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a free LAS call slot: %w", ctx.Err())
	}
}

func (l *ReadLimiter) release() { <-l.slots }

// decompress returns the body of resp, gunzipped when it says gzip, with
// the expansion bounded (GzipMaxRatio). The body is closed by the caller.
func decompress(op string, resp *http.Response) (io.Reader, error) {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp.Body, nil
	}
	compressed := &countReader{r: resp.Body}
	gz, err := gzip.NewReader(compressed)
	if err != nil {
		return nil, &Error{Op: op, HTTPStatus: resp.StatusCode, Class: ClassTemporary, Err: err,
			Message: "response claims gzip but is not", Hint: "The LAS sent a damaged response; the gateway retries automatically."}
	}
	return &ratioReader{compressed: compressed, r: gz}, nil
}

// capReader fails once more than left bytes were read.
type capReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

var errTooLarge = errors.New("response too large")

func (c *capReader) Read(p []byte) (int, error) {
	if c.exceeded {
		// Sticky: the probe consumed a byte, so the source would now say EOF
		// (bufio.Reader.WriteTo in Fetch reads the source again after an error).
		return 0, errTooLarge
	}
	if c.left <= 0 {
		// Probe for one more byte: exactly-at-limit is fine.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.exceeded = true
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
