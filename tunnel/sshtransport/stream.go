package sshtransport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// DefaultStderrLimit is how many bytes of the remote command's stderr a
// Stream keeps: the last ones, which say why it failed.
const DefaultStderrLimit = 4096

// defaultRemoteArgs is the remote end Exec starts by default.
var defaultRemoteArgs = []string{"pppssh", "serve"}

// ExecOptions says what Client.Exec runs and how.
type ExecOptions struct {
	// Args is the remote command and its arguments. They are quoted with
	// QuoteCommand for the remote user's login shell, so each reaches the
	// command as one argument. Empty means "pppssh serve". To use shell
	// syntax, run a shell: []string{"sh", "-c", "…"}.
	Args []string

	// PTY requests a pseudo-terminal, as ssh -t does, for remote commands
	// that insist on one (sudo with requiretty, the classic
	// "ssh -t … sudo pppd" setup). The pty is put in raw mode (RFC 4254,
	// section 8: no echo, no line editing or signals, no CR/NL mapping, no
	// output processing, no flow control, 8-bit characters), so it carries
	// bytes unchanged. Stdout and stderr then share the pty, and the stream
	// cannot be half-closed: CloseWrite does not end the remote's input.
	PTY bool

	// Term is the TERM value sent with the pty request; empty means "vt100".
	Term string

	// StderrLimit is how many bytes of the remote's stderr to keep (the
	// last ones); zero means DefaultStderrLimit.
	StderrLimit int

	// Stderr, if not nil, receives the remote's stderr as it arrives, in
	// addition to the kept tail, for showing it live. It is written from a
	// goroutine of this package and should not block for long.
	Stderr io.Writer
}

// rawModes are the terminal modes for a pty that passes bytes unchanged,
// what cfmakeraw(3) sets, in RFC 4254 section 8 opcodes. CS7 is not sent:
// sshd applies modes in the order received (x/crypto sends them in map
// order) and clearing CS7 after setting CS8 would leave CS6.
var rawModes = ssh.TerminalModes{
	ssh.IGNPAR: 0, ssh.PARMRK: 0, ssh.INPCK: 0, ssh.ISTRIP: 0,
	ssh.INLCR: 0, ssh.IGNCR: 0, ssh.ICRNL: 0, ssh.IUCLC: 0,
	ssh.IXON: 0, ssh.IXANY: 0, ssh.IXOFF: 0, ssh.IMAXBEL: 0, ssh.IUTF8: 0,
	ssh.ISIG: 0, ssh.ICANON: 0, ssh.XCASE: 0, ssh.IEXTEN: 0,
	ssh.ECHO: 0, ssh.ECHOE: 0, ssh.ECHOK: 0, ssh.ECHONL: 0, ssh.ECHOCTL: 0, ssh.ECHOKE: 0,
	ssh.OPOST: 0, ssh.OLCUC: 0, ssh.ONLCR: 0, ssh.OCRNL: 0, ssh.ONOCR: 0, ssh.ONLRET: 0,
	ssh.CS8: 1, ssh.PARENB: 0,
	ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400,
}

// Stream is a remote command's stdin and stdout as an io.ReadWriteCloser,
// made by Client.Exec. Read returns io.EOF when the remote command has closed
// its stdout (normally: it exited); Wait then says how it ended. One
// goroutine may Read while another Writes; Close may be called from any
// goroutine.
type Stream struct {
	c       *Client
	sess    *ssh.Session
	stdin   io.WriteCloser
	stdout  io.Reader
	stderr  *tailBuffer
	command string

	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{} // closed when the session has ended
	waitErr   error         // written before done is closed
	status    int           // likewise; -1 if none was reported
}

var _ io.ReadWriteCloser = (*Stream)(nil)

// Exec starts a command on the server (by default "pppssh serve") and
// returns its stdin and stdout as a Stream. ctx bounds starting it only.
// If the server refuses, the error says so; if the command starts but
// fails, its output and exit status come from Stream.Stderr and
// Stream.Wait.
func (c *Client) Exec(ctx context.Context, opts ExecOptions) (*Stream, error) {
	args := opts.Args
	if len(args) == 0 {
		args = defaultRemoteArgs
	}
	limit := opts.StderrLimit
	if limit <= 0 {
		limit = DefaultStderrLimit
	}
	s := &Stream{
		c:       c,
		command: QuoteCommand(args),
		stderr:  &tailBuffer{limit: limit, tee: opts.Stderr},
		done:    make(chan struct{}),
		status:  -1,
	}
	type result struct {
		sess *ssh.Session
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		sess, err := s.start(opts)
		ch <- result{sess, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.sess != nil {
				r.sess.Close()
			}
		}()
		return nil, fmt.Errorf("sshtransport: start %q on %s: %w", s.command, c.ep.addr(), ctx.Err())
	}
	if r.err != nil {
		if d := c.deadErr(); d != nil {
			return nil, d
		}
		return nil, r.err
	}
	s.sess = r.sess
	if !c.track() {
		r.sess.Close()
		return nil, fmt.Errorf("sshtransport: start %q on %s: the client is closed", s.command, c.ep.addr())
	}
	go s.waitLoop()
	return s, nil
}

// start opens the session and starts the command.
func (s *Stream) start(opts ExecOptions) (*ssh.Session, error) {
	addr := s.c.ep.addr()
	sess, err := s.c.conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("sshtransport: open a session on %s: %w", addr, err)
	}
	fail := func(err error) (*ssh.Session, error) {
		sess.Close()
		return nil, err
	}
	if opts.PTY {
		term := opts.Term
		if term == "" {
			term = "vt100"
		}
		if err := sess.RequestPty(term, 24, 80, rawModes); err != nil {
			return fail(fmt.Errorf("sshtransport: %s refused a pty for %q (sshd's PermitTTY, or a no-pty option on the key): %w", addr, s.command, err))
		}
	}
	if s.stdin, err = sess.StdinPipe(); err != nil {
		return fail(fmt.Errorf("sshtransport: session stdin: %w", err))
	}
	if s.stdout, err = sess.StdoutPipe(); err != nil {
		return fail(fmt.Errorf("sshtransport: session stdout: %w", err))
	}
	sess.Stderr = s.stderr
	if err := sess.Start(s.command); err != nil {
		return fail(fmt.Errorf("sshtransport: %s refused to run %q: %w", addr, s.command, err))
	}
	return sess, nil
}

// track counts a stream's goroutine in the client's WaitGroup, unless the
// client is closing.
func (c *Client) track() bool {
	c.trackMu.Lock()
	defer c.trackMu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.wg.Add(1)
	return true
}

// waitLoop waits for the session to end and records how.
func (s *Stream) waitLoop() {
	defer s.c.wg.Done()
	err := s.sess.Wait()
	var (
		ee *ssh.ExitError
		em *ssh.ExitMissingError
	)
	switch {
	case err == nil:
		s.status = 0
	case errors.As(err, &ee):
		s.status = ee.ExitStatus()
		err = &ExitError{
			Host:    s.c.ep.addr(),
			Command: s.command,
			Status:  ee.ExitStatus(),
			Signal:  ee.Signal(),
			Stderr:  s.stderr.Bytes(),
		}
	case s.c.deadErr() != nil:
		err = s.c.deadErr()
	case errors.As(err, &em) && s.closed.Load():
		err = nil // we closed it first
	case errors.As(err, &em):
		err = fmt.Errorf("sshtransport: remote command %q on %s ended without an exit status (was the connection lost?)%s",
			s.command, s.c.ep.addr(), stderrSuffix(s.stderr.Bytes()))
	default:
		err = fmt.Errorf("sshtransport: remote command %q on %s: %w", s.command, s.c.ep.addr(), err)
	}
	s.waitErr = err
	close(s.done)
}

// Read reads the remote command's stdout. It returns io.EOF once the
// command has closed it, or an error wrapping ErrKeepaliveTimeout if the
// connection was declared dead.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.stdout.Read(p)
	if err == io.EOF {
		if d := s.c.deadErr(); d != nil {
			return n, d
		}
	}
	return n, err
}

// Write writes to the remote command's stdin.
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.stdin.Write(p)
	if err != nil {
		if d := s.c.deadErr(); d != nil {
			return n, d
		}
	}
	return n, err
}

// CloseWrite closes the remote command's stdin (sends EOF) and leaves its
// stdout open. Without a pty, a command like cat then finishes.
func (s *Stream) CloseWrite() error {
	return s.stdin.Close()
}

// Close closes the session's channel: Read and Write fail from then on and
// the remote command loses its stdin and stdout. It does not close the
// Client. It may be called more than once.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sess.Close()
	})
	return nil
}

// Done returns a channel that is closed when the session has ended: the
// remote command exited, the stream was closed, or the connection ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Wait blocks until the session has ended and returns nil if the remote
// command exited with status 0, an *ExitError if it failed, or another
// error if the connection ended first (wrapping ErrKeepaliveTimeout if
// keepalives declared it dead). After Close, Wait returns nil unless the
// command had already reported a failure.
func (s *Stream) Wait() error {
	<-s.done
	return s.waitErr
}

// ExitStatus returns the remote command's exit status and true once it has
// reported one (128+n if signal n killed it), or -1 and false.
func (s *Stream) ExitStatus() (int, bool) {
	select {
	case <-s.done:
		return s.status, s.status >= 0
	default:
		return -1, false
	}
}

// Stderr returns a copy of the last bytes (ExecOptions.StderrLimit) the
// remote command wrote to stderr so far: what to show when it fails, such
// as "sudo: a password is required".
func (s *Stream) Stderr() []byte { return s.stderr.Bytes() }

// Command returns the command line sent to the server.
func (s *Stream) Command() string { return s.command }

// ExitError reports a remote command that exited with a non-zero status or
// was killed by a signal.
type ExitError struct {
	Host    string // the server's host:port
	Command string // the command line it ran
	Status  int    // exit status; 128+n if signal n killed it
	Signal  string // the signal's name without "SIG" (e.g. "KILL"), or ""
	Stderr  []byte // the last bytes the command wrote to stderr
}

// Error gives the command, how it ended and the last lines of its stderr.
func (e *ExitError) Error() string {
	how := fmt.Sprintf("exited with status %d", e.Status)
	if e.Signal != "" {
		how = "was killed by signal " + e.Signal
	}
	return fmt.Sprintf("sshtransport: remote command %q on %s %s%s", e.Command, e.Host, how, stderrSuffix(e.Stderr))
}

// stderrSuffix quotes the last lines of a remote's stderr for an error
// message.
func stderrSuffix(b []byte) string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return " (it printed nothing on stderr)"
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return "; it printed: " + strings.Join(lines, " / ")
}

// tailBuffer keeps the last limit bytes written to it, and copies them to
// tee if set.
type tailBuffer struct {
	limit int
	tee   io.Writer

	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
	}
	t.mu.Unlock()
	if t.tee != nil {
		t.tee.Write(p) // a failing display must not stop the session
	}
	return len(p), nil
}

// Bytes returns a copy of the kept bytes.
func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}
