package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// sinkBuffer is the receive buffer the sink asks for (SO_RCVBUFFORCE, as
// root), so that a burst from many links is not dropped while the sink's
// goroutine waits for a core.
const sinkBuffer = 16 << 20

// listenUDPIn opens a UDP socket on port of every IPv4 address inside the
// network namespace netns (a name under /run/netns, or a path). The
// socket stays in that namespace, whichever thread uses it.
func listenUDPIn(netns string, port int) (*net.UDPConn, error) {
	path := netns
	if !strings.Contains(path, "/") {
		path = "/run/netns/" + netns
	}
	ns, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-sink-netns: %w (give the server's namespace, as ip netns list shows it)", err)
	}
	defer ns.Close()
	type result struct {
		conn *net.UDPConn
		err  error
	}
	ch := make(chan result, 1)
	// On a goroutine of its own, whose thread is discarded if it cannot
	// be switched back.
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("-sink-netns: enter %s: %w (run as root)", path, err)}
			return
		}
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		if err != nil {
			err = fmt.Errorf("UDP sink in %s: %w", path, err)
		}
		ch <- result{conn, err}
	}()
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	if raw, err := r.conn.SyscallConn(); err == nil {
		var serr error
		raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sinkBuffer)
		})
		if serr != nil {
			r.conn.SetReadBuffer(sinkBuffer) // as far as net.core.rmem_max allows
		}
	}
	return r.conn, nil
}

// udpSink counts the payload octets of the load generator's datagrams of
// one phase at a time; others are ignored.
type udpSink struct {
	conn  *net.UDPConn
	phase atomic.Uint32
	bytes atomic.Int64 // payload octets of the phase expected
	last  atomic.Int64 // when the last datagram of any phase came, ns since start
	start time.Time
	done  chan struct{}
}

func newUDPSink(conn *net.UDPConn) *udpSink {
	return &udpSink{conn: conn, start: time.Now(), done: make(chan struct{})}
}

// run reads datagrams until the sink is closed.
func (s *udpSink) run() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.last.Store(int64(time.Since(s.start)))
		if n >= phaseHeader && [4]byte(buf[:4]) == phaseMagic && uint32(buf[4]) == s.phase.Load() {
			s.bytes.Add(int64(n))
		}
	}
}

// expect resets the count for the datagrams of phase.
func (s *udpSink) expect(phase byte) {
	s.phase.Store(uint32(phase))
	s.bytes.Store(0)
}

// drained waits until no datagram has come for 300 ms, and reports
// whether that happened within timeout.
func (s *udpSink) drained(timeout time.Duration) bool {
	const quiet = 300 * time.Millisecond
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if time.Since(s.start)-time.Duration(s.last.Load()) >= quiet {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// close closes the socket and waits for run to return.
func (s *udpSink) close() {
	s.conn.Close()
	<-s.done
}
