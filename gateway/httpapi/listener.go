package httpapi

import (
	"net"
	"sync"
)

// Listener is ln capped at the limits' MaxConnections open connections.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return LimitListener(ln, s.limits.MaxConnections)
}

// LimitListener returns a listener that has at most n connections open at
// once: Accept waits for one to close first, so further clients wait in
// the kernel's listen backlog (golang.org/x/net/netutil.LimitListener,
// written here: x/net is not a dependency).
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return l.Listener.Accept() // closed: its error
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// Close closes the listener and ends a wait for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn frees its slot on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
