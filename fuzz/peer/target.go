// Package peer tests a foreign PPP implementation over a byte stream: a
// conformance suite of RFC 1661, 1662, 1332 and 1877 behaviours (Suite, the
// engine of "pppssh test-peer") and a fuzzer that sends mutated and malformed
// frames and checks the peer survives them (Fuzzer, the engine of "pppssh
// fuzz-peer").
//
// The peer is reached through a Target, which opens a fresh line for every
// case: a command whose standard input and output are the line (Exec, e.g.
// "pppd notty noauth"), a unix or TCP socket (Dial), or a tty (TTY). A Conn
// speaks asynchronous HDLC-like framing on that line and hands the harness
// the peer's frames as they arrive, each with its time of arrival.
package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A Target opens lines to the peer under test. Open is called once for
// every case, and the line it returns is closed at the end of the case; the
// peer on a new line must start from its initial state (a fresh process, a
// fresh connection, or a peer that restarts after each link).
type Target interface {
	// Open returns a new line to the peer. ctx bounds the opening only.
	Open(ctx context.Context) (io.ReadWriteCloser, error)
	// String names the target in reports ("exec: pppd notty noauth").
	String() string
}

// Exec returns a Target that starts argv[0] with the arguments argv[1:]
// for every line; the program's standard input and output are the line.
// Its standard error is kept and reported by the line's Close when the
// program failed (see ExecLine). Closing the line closes the program's
// standard input and output, waits up to two seconds for it to exit, then
// kills it.
func Exec(argv ...string) Target {
	return execTarget{argv: argv}
}

// Shell returns a Target like Exec that runs cmdline with "/bin/sh -c", as
// pppd runs its pty and connect scripts.
func Shell(cmdline string) Target {
	return execTarget{argv: []string{"/bin/sh", "-c", cmdline}, name: cmdline}
}

type execTarget struct {
	argv []string
	name string // shown instead of argv when set
}

func (e execTarget) String() string {
	if e.name != "" {
		return "exec: " + e.name
	}
	return "exec: " + strings.Join(e.argv, " ")
}

func (e execTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if len(e.argv) == 0 {
		return nil, errors.New("peer: exec target: no command given")
	}
	// The program is not bound to ctx, which covers only the opening.
	cmd := exec.Command(e.argv[0], e.argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("peer: %v: %w", e, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("peer: %v: %w", e, err)
	}
	l := &ExecLine{cmd: cmd, stdin: stdin, stdout: stdout, exited: make(chan struct{})}
	cmd.Stderr = &l.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("peer: starting %v: %w (is it installed and on PATH?)", e, err)
	}
	go func() {
		l.waitErr = cmd.Wait()
		close(l.exited)
	}()
	return l, nil
}

// An ExecLine is the line to a program started by an Exec or Shell target.
type ExecLine struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  io.ReadCloser
	stderr  lockedBuffer
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

// Read reads what the program wrote to its standard output.
func (l *ExecLine) Read(b []byte) (int, error) { return l.stdout.Read(b) }

// Write writes to the program's standard input.
func (l *ExecLine) Write(b []byte) (int, error) { return l.stdin.Write(b) }

// Stderr returns what the program has written to its standard error so far.
func (l *ExecLine) Stderr() string { return l.stderr.String() }

// Exited is closed when the program has exited.
func (l *ExecLine) Exited() <-chan struct{} { return l.exited }

// ExitErr returns the program's exit error (nil for status 0) once it has
// exited, and nil before.
func (l *ExecLine) ExitErr() error {
	select {
	case <-l.exited:
		return l.waitErr
	default:
		return nil
	}
}

// Close closes the program's standard input, waits up to two seconds for
// it to exit and then kills its process group.
func (l *ExecLine) Close() error {
	l.once.Do(func() {
		l.stdin.Close()
		select {
		case <-l.exited:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
			<-l.exited
		}
	})
	return nil
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers,
// bounded so that a chatty program cannot exhaust memory.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

const maxStderr = 64 << 10

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxStderr - b.b.Len(); room > 0 {
		b.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Dial returns a Target that connects to address on network ("unix" or
// "tcp") for every line.
func Dial(network, address string) Target {
	return dialTarget{network: network, address: address}
}

type dialTarget struct{ network, address string }

func (d dialTarget) String() string { return d.network + ": " + d.address }

func (d dialTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, d.network, d.address)
	if err != nil {
		return nil, fmt.Errorf("peer: connecting to the peer at %s %s: %w (is it listening?)", d.network, d.address, err)
	}
	return c, nil
}

// TTY returns a Target that opens the tty device at path for every line and
// puts it in raw mode (8 data bits, no parity, no echo, no flow control,
// modem control lines ignored) until the line is closed. The speed is left
// as it is set.
func TTY(path string) Target { return ttyTarget{path: path} }

type ttyTarget struct{ path string }

func (t ttyTarget) String() string { return "tty: " + t.path }

func (t ttyTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	f, err := os.OpenFile(t.path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("peer: opening the tty: %w", err)
	}
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("peer: %s is not a tty: %w", t.path, err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB | unix.CRTSCTS
	raw.Cflag |= unix.CS8 | unix.CLOCAL | unix.CREAD
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		f.Close()
		return nil, fmt.Errorf("peer: setting %s to raw mode: %w", t.path, err)
	}
	return &ttyLine{File: f, old: old}, nil
}

type ttyLine struct {
	*os.File
	old *unix.Termios
}

func (l *ttyLine) Close() error {
	_ = unix.IoctlSetTermios(int(l.Fd()), unix.TCSETS, l.old)
	return l.File.Close()
}

// WithReset returns a Target that calls reset before it opens each line of
// t, for a peer that must be put back into its initial state between cases
// (restarting a daemon on the far end of a socket or a tty).
func WithReset(t Target, reset func(ctx context.Context) error) Target {
	return resetTarget{Target: t, reset: reset}
}

type resetTarget struct {
	Target
	reset func(ctx context.Context) error
}

func (r resetTarget) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := r.reset(ctx); err != nil {
		return nil, fmt.Errorf("peer: resetting %v: %w", r.Target, err)
	}
	return r.Target.Open(ctx)
}
