package main

import (
	"context"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// Dead-client detection of pppssh server on the TCP connections it
// accepts: keepalive probes after 15 s of silence, every 5 s, 4 of them
// unanswered ending the connection; and data sent but not acknowledged for
// 60 s ending it too (TCP_USER_TIMEOUT), where the kernel would otherwise
// retransmit for a quarter of an hour.
var serverKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 4}

const serverUserTimeout = 60 * time.Second

// sessionCloseWait is how long a session's channel, once closed, waits for
// the client to acknowledge before the server closes the client's TCP
// connection under it.
const sessionCloseWait = 2 * time.Second

// connListener is the listener of pppssh server: it sets the dead-client
// timeouts on each accepted TCP connection and keeps the connections by
// remote address, so that a session can have its connection closed. (An
// SSH channel's Close does not end a Read in progress until the client
// acknowledges it, which a client that vanished never does.)
type connListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

// listenServer listens on addr for pppssh server.
func listenServer(ctx context.Context, addr string) (*connListener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &connListener{Listener: ln, conns: make(map[string]net.Conn)}, nil
}

// Accept accepts a connection, sets its timeouts and keeps it until it is
// closed.
func (l *connListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetKeepAliveConfig(serverKeepAlive)
		if raw, err := tc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) {
				unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(serverUserTimeout/time.Millisecond))
			})
		}
	}
	tracked := &trackedConn{Conn: c, l: l, key: c.RemoteAddr().String()}
	l.mu.Lock()
	l.conns[tracked.key] = c
	l.mu.Unlock()
	return tracked, nil
}

// closeConn closes the connection from addr, ending every session on it.
func (l *connListener) closeConn(addr net.Addr) {
	l.mu.Lock()
	c := l.conns[addr.String()]
	l.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// trackedConn is an accepted connection that leaves the listener's table
// when closed.
type trackedConn struct {
	net.Conn
	l    *connListener
	key  string
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c.key)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// sessionStream is a session's channel as the engine uses it. Its Close
// closes the channel and, if the client has not let the session end within
// sessionCloseWait, its TCP connection, so that the link's reader returns
// and the session's TUN and address are freed.
type sessionStream struct {
	*sshtransport.Session
	force func() // closes the client's connection

	mu     sync.Mutex
	timer  *time.Timer
	closed bool
	done   bool
}

func (s *sessionStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.Session.Close()
	if !s.done {
		s.timer = time.AfterFunc(sessionCloseWait, s.force)
	}
	return err
}

// finished says the engine is done with the stream: no connection needs
// closing any more.
func (s *sessionStream) finished() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	if s.timer != nil {
		s.timer.Stop()
	}
}
