package httpapi

import (
	"errors"
	"io"
	"log"
	"net/http"
	"time"
)

// What one client may hold of the server, each bound with its reason. The
// deadlines are wall-clock time (they are the network's), never the
// server's clock.
const (
	// DefaultHeaderTimeout bounds reading a request's headers
	// (server.read_header_timeout): a client that trickles them (slowloris)
	// loses its connection.
	DefaultHeaderTimeout = 5 * time.Second
	// DefaultBodyTimeout bounds reading a request's body on every route but
	// the results upload (server.body_timeout): they are small JSON bodies
	// and forms.
	DefaultBodyTimeout = 10 * time.Second
	// DefaultUploadTimeout bounds reading a results upload's body (up to 64
	// MiB over a slow school line; server.upload_timeout).
	DefaultUploadTimeout = 5 * time.Minute
	// DefaultWriteTimeout bounds writing an answer, the largest being an
	// export (server.write_timeout).
	DefaultWriteTimeout = 5 * time.Minute
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request (server.idle_timeout).
	DefaultIdleTimeout = time.Minute
	// DefaultMaxHeaderBytes caps a request's headers (server.max_header_bytes):
	// a token and a session cookie need far less than 64 KiB.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConnections caps the connections open at once
	// (server.max_connections); more wait in the listen backlog, so a
	// flood of connections cannot take every file descriptor.
	DefaultMaxConnections = 512
)

// uploadRoute is the one route whose body is read under UploadTimeout
// (spelt in two parts: the route literals of the package are its routes).
const uploadRoute = http.MethodPost + " /api/v1/schools/{school}/results"

// Limits bound what one client may hold of the server; a zero field is its
// default (the Default* constants).
type Limits struct {
	HeaderTimeout  time.Duration
	BodyTimeout    time.Duration
	UploadTimeout  time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
	MaxConnections int
}

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.HeaderTimeout, DefaultHeaderTimeout)
	def(&l.BodyTimeout, DefaultBodyTimeout)
	def(&l.UploadTimeout, DefaultUploadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l
}

// HTTPServer is the http.Server for the handler, with the limits'
// timeouts; serve it on Listener(ln). There is no ReadTimeout: a body's
// read deadline is set per route (bodyDeadline), and a whole-request one
// would also cut off handlers that run longer than it once their body is
// read.
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.limits.HeaderTimeout, WriteTimeout: s.limits.WriteTimeout,
		IdleTimeout: s.limits.IdleTimeout, MaxHeaderBytes: s.limits.MaxHeaderBytes, ErrorLog: errorLog}
}

// bodyDeadline sets the read deadline of r's body: UploadTimeout for the
// results upload, BodyTimeout for every other route. It is lifted once the
// body has been read to its end, since net/http reads on in the background
// then, and a deadline passing during a long handler would cancel its
// context. A request without a body gets none (its headers are read).
func (s *Server) bodyDeadline(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	d := s.limits.BodyTimeout
	if _, pattern := s.mux.Handler(r); pattern == uploadRoute {
		d = s.limits.UploadTimeout
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
		return // not a connection with deadlines (HTTP/2 tests, recorders)
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, lift: func() { _ = rc.SetReadDeadline(time.Time{}) }}
}

// deadlineBody lifts the read deadline when the body has been read.
type deadlineBody struct {
	io.ReadCloser
	lift   func()
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.lifted {
		b.lifted = true
		b.lift()
	}
	return n, err
}
