package soap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/uwlr-gateway/uwlr-gateway/wsdl/uwlr"
)

// Save writes a fetched answer body to dst; fault says the body is a SOAP
// fault (its text is the LAS's and must be scrubbed before it is kept).
type Save func(dst io.Writer, body io.Reader, fault bool) error

// Copy is the Save that copies every body as it came, a fault too.
func Copy(dst io.Writer, body io.Reader, _ bool) error {
	_, err := io.Copy(dst, body)
	return err
}

// Fetch sends a leerlinggegevens request and hands the response body to
// save (nil: Copy), which writes what it keeps to w; Fetch returns the bytes
// written to w. A SOAP fault, answered with HTTP 200 or 500, is handed over
// with fault set and still returned as *Error. A failure to write to w is
// the caller's (not classified as a LAS failure).
func (c *Client) Fetch(ctx context.Context, op uwlr.Operation, r Request, groups *uwlr.GroepenSelectie, w io.Writer, save Save) (int64, error) {
	body, err := c.RequestBody(op, r, groups)
	if err != nil {
		return 0, err
	}
	if save == nil {
		save = Copy
	}
	cw := &countWriter{w: w}
	keep := func(rd io.Reader, fault bool) error {
		if err := save(cw, rd, fault); err != nil {
			if cw.err != nil {
				return &CallerError{Err: fmt.Errorf("write: %w", cw.err)}
			}
			return err
		}
		return nil
	}
	err = c.do(ctx, op, body, func(rd io.Reader) error { return keep(rd, true) }, func(rd io.Reader) error {
		br := bufio.NewReaderSize(rd, 64<<10)
		peek, _ := br.Peek(64 << 10)
		fe := peekFault(peek)
		err := keep(br, fe != nil)
		var ce *CallerError
		if fe != nil && !errors.As(err, &ce) {
			return fe
		}
		return err
	})
	return cw.n, err
}

// countWriter counts the bytes written and keeps the first write error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
