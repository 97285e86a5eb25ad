package soap

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The caps on what one request may cost the server. A request for data is
// under 2 KB and a results message a few MB, so they leave room for large
// results batches and still bound the work of a hostile or broken client.
const (
	// MaxRequestBytes caps a request envelope, on the wire and inflated
	// (Server.MaxRequestBytes overrides it).
	MaxRequestBytes = 64 << 20
	// MaxInflateRatio caps how much a compressed request may expand: UWLR
	// XML compresses 5 to 40 times (a results batch of 50,000 near-identical
	// records 36 times at gzip -9); a gzip bomb of blanks about 1,000 times.
	// The first inflateSlack bytes are free, so a short request never trips it.
	MaxInflateRatio = 100
	inflateSlack    = 1 << 20
)

// The limits NewHTTPServer sets.
const (
	// DefaultReadHeaderTimeout bounds a client sending its headers slowly.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included.
	DefaultReadTimeout = 2 * time.Minute
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of the answer: long, as a big school's answer streams for a while.
	DefaultWriteTimeout = 10 * time.Minute
	// DefaultIdleTimeout is longer than the 90 s after which NewHTTPClient
	// drops an idle connection, so a client never sends a POST on a
	// connection the server is closing.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes: UWLR puts its credentials in the envelope;
	// HTTP headers carry at most a subscription key (net/http allows 1 MiB).
	DefaultMaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an *http.Server for h with the limits a SOAP
// endpoint facing the internet needs (the Default* constants above). Set
// Addr, TLSConfig or any limit on it before serving.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

var (
	errRequestTooLarge = errors.New("request too large")
	errInflateRatio    = fmt.Errorf("request inflates more than %d times", MaxInflateRatio)
)

// requestBody is a request's body as the parser reads it: capped on the
// wire, inflated when compressed (capped again, and in its ratio), with the
// first read error kept so the server can tell a cap from bad XML.
type requestBody struct {
	r     io.Reader
	wire  *wireReader
	zr    io.Closer // the inflater, if any
	limit int64
	err   error
}

// openBody opens r's body per its Content-Encoding; the fault says why it
// cannot be read. The body is usable for Close and done either way.
func openBody(w http.ResponseWriter, r *http.Request, limit int64) (*requestBody, *Fault) {
	wire := &wireReader{r: http.MaxBytesReader(w, r.Body, limit)}
	b := &requestBody{r: wire, wire: wire, limit: limit}
	// Clients may compress the request (PHP's SoapClient does with its
	// compression option).
	var err error
	var zr io.ReadCloser
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		return b, nil
	case "gzip", "x-gzip":
		zr, err = gzip.NewReader(wire)
	case "deflate":
		zr, err = zlib.NewReader(wire)
	default:
		return b, NewFault(CodeOngeldigBericht, "unsupported request Content-Encoding "+enc)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.err = err
		return b, b.fault()
	} else if err != nil {
		return b, NewFault(CodeOngeldigBericht, "request body is not valid "+enc)
	}
	b.zr = zr
	b.r = &inflateLimit{r: zr, wire: wire, max: limit}
	return b, nil
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// Close releases the inflater; it does not read on.
func (b *requestBody) Close() error {
	if b.zr != nil {
		return b.zr.Close()
	}
	return nil
}

// done reports whether the body was read to its end.
func (b *requestBody) done() bool { return b.wire.eof }

// fault is the Client.OngeldigBericht fault for the read error that stopped
// the parse, if one did: a cap, or a transfer that broke or stalled.
func (b *requestBody) fault() *Fault {
	var tooBig *http.MaxBytesError
	switch {
	case b.err == nil:
		return nil
	case errors.As(b.err, &tooBig), errors.Is(b.err, errRequestTooLarge):
		return NewFault(CodeOngeldigBericht, fmt.Sprintf("request too large (over %d bytes)", b.limit))
	case errors.Is(b.err, errInflateRatio):
		return NewFault(CodeOngeldigBericht, errInflateRatio.Error())
	}
	return NewFault(CodeOngeldigBericht, "request body could not be read: "+trimErr(b.err))
}

// wireReader counts the bytes read from the wire and notes their end.
type wireReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (w *wireReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err == io.EOF {
		w.eof = true
	}
	return n, err
}

// inflateLimit stops an inflating reader at max bytes, and as soon as it
// has produced more than MaxInflateRatio times the compressed bytes read
// (plus inflateSlack): a bomb is refused after about a megabyte, not at max.
type inflateLimit struct {
	r      io.Reader
	wire   *wireReader
	n, max int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	switch {
	case l.n > l.max:
		return 0, errRequestTooLarge
	case l.n > l.wire.n*MaxInflateRatio+inflateSlack:
		return 0, errInflateRatio
	}
	return n, err
}
