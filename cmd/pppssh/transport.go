package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pppssh/pppssh/link"
	"golang.org/x/sys/unix"
)

// A transport gives the link its byte stream, one per attempt: pppssh's
// standard input and output, a serial device, a pty command, or (for the
// SSH commands) an SSH channel. runLink opens it once per attempt, so that
// persist can reconnect.
type transport struct {
	// desc names the transport in messages ("pty command", "/dev/ttyS0").
	desc string
	// stdio says the stream is the program's standard input and output:
	// it cannot be opened again (persist is refused), and when it is the
	// terminal standard error writes to (ssh -t), runLink keeps the log
	// off standard error, as pppd does, so that no log line lands in the
	// middle of the PPP stream.
	stdio bool
	// dial opens the stream of one attempt. Its errors should carry an
	// exit code (withExitCode) when their type does not imply one.
	dial func(ctx context.Context, log *slog.Logger) (*conn, error)
}

// conn is the byte stream of one attempt, as a transport opened it.
type conn struct {
	// rw carries the PPP frames. The engine closes it when the link ends.
	rw io.ReadWriteCloser
	// tty names the stream for the log ("Connect: ppp0 <--> /dev/pts/3")
	// and for the ip-up and ip-down scripts (their tty-device argument
	// and DEVICE): the device, the pty, "stdio", "ssh:host".
	tty string
	// speed is the line speed given to the scripts (0 on a byte stream).
	speed int
	// peer is the address of the transport's far end (the SSH server or
	// client), if known: it is kept out of the tunnel when a route of
	// the link would capture it.
	peer netip.Addr
	// finish, if not nil, is called once the link has ended and rw is
	// closed, with the link's error: it waits for whatever carried the
	// stream (the pty command) and returns the error to report, the
	// link's or a better one.
	finish func(linkErr error) error
}

// pickTransport returns the transport o asks for: "pty COMMAND", a tty
// device by path, or standard input and output (notty, or nothing).
func pickTransport(o *options) (transport, error) {
	switch {
	case o.pty != "" && o.device != "":
		return transport{}, badOption("pppssh: give either a device (%s) or pty COMMAND, not both", o.device)
	case o.pty != "" && o.notty:
		return transport{}, badOption("pppssh: give either pty COMMAND or notty, not both")
	case o.device != "" && o.notty:
		return transport{}, badOption("pppssh: give either a device (%s) or notty, not both", o.device)
	}
	var tr transport
	switch {
	case o.pty != "":
		tr = ptyTransport(o.pty, modeOf(o))
	case o.device != "":
		tr = deviceTransport(o.device, modeOf(o))
	default:
		tr = stdioTransport(modeOf(o))
	}
	if tr.stdio && o.persist {
		return transport{}, badOption("pppssh: persist needs a device or pty COMMAND: standard input and output cannot be opened again after the link ends")
	}
	return tr, nil
}

// fileStream is a byte stream on file descriptors: a terminal (read and
// written through one file) or standard input and output. A terminal
// reports a hangup with EIO, which Read turns into io.EOF. Close restores
// what was changed (terminal mode, non-blocking flags) and closes.
type fileStream struct {
	r, w    *os.File
	restore []func()
	once    sync.Once
}

func (s *fileStream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, syscall.EIO) {
		err = io.EOF
	}
	return n, err
}

func (s *fileStream) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *fileStream) Close() error {
	var err error
	s.once.Do(func() {
		for i := len(s.restore) - 1; i >= 0; i-- {
			s.restore[i]()
		}
		err = s.r.Close()
		if s.w != s.r {
			if werr := s.w.Close(); err == nil {
				err = werr
			}
		}
	})
	return err
}

// pollable returns fd as an *os.File that the runtime's poller drives, so
// that Close interrupts a blocked Read: fd is put in non-blocking mode, and
// a function that puts it back is appended to restore. (O_NONBLOCK belongs
// to the open file description, which a duplicate shares with the original
// descriptor and with other processes: it is put back before closing.)
func pollable(fd int, name string, restore *[]func()) *os.File {
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil && flags&unix.O_NONBLOCK == 0 {
		if unix.SetNonblock(fd, true) == nil {
			*restore = append(*restore, func() { unix.SetNonblock(fd, false) })
		}
	}
	return os.NewFile(uintptr(fd), name)
}

// stdioTransport speaks PPP on standard input and output, what an SSH
// server or a pppd pty gives a remote command. It duplicates the two
// descriptors (fds 0 and 1 stay as they are for the rest of the program)
// and, if standard input is a terminal (ssh -t), puts it in raw mode until
// the link ends.
func stdioTransport(m lineMode) transport {
	return transport{desc: "standard input and output", stdio: true, dial: func(context.Context, *slog.Logger) (*conn, error) {
		in, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		out, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			unix.Close(in)
			return nil, fmt.Errorf("standard output: %w", err)
		}
		s := &fileStream{}
		c := &conn{rw: s, tty: "stdio", peer: sshPeer()}
		if isTerminal(in) {
			restore, err := makeRaw(in, m)
			if err != nil {
				unix.Close(in)
				unix.Close(out)
				return nil, fmt.Errorf("standard input: set the terminal to raw mode: %w", err)
			}
			s.restore = append(s.restore, restore)
			if name, err := os.Readlink("/proc/self/fd/0"); err == nil {
				c.tty = name
			}
		}
		growPipe(in)
		growPipe(out)
		s.r = pollable(in, "/dev/stdin", &s.restore)
		s.w = pollable(out, "/dev/stdout", &s.restore)
		return c, nil
	}}
}

// pipeSize is the capacity growPipe gives a pipe: the default
// /proc/sys/fs/pipe-max-size, which any user may ask for.
const pipeSize = 1 << 20

// growPipe raises the capacity of fd to pipeSize if it is a pipe, as sshd
// gives a command that runs without a pty. At the default 64 KiB, sshd
// stops and waits for room every few SSH packets and the link runs at a
// fraction of the channel's speed. A failure (the user's pipe quota,
// fs.pipe-user-pages-soft, is spent) leaves the pipe as it was.
func growPipe(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	if size, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && size < pipeSize {
		unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
	}
}

// sshPeer returns the SSH client's address when running under sshd
// (SSH_CONNECTION="client-ip client-port server-ip server-port").
func sshPeer() netip.Addr {
	f := strings.Fields(os.Getenv("SSH_CONNECTION"))
	if len(f) != 4 {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// deviceTransport speaks PPP on the tty device at path: a serial line, set
// to raw mode with m's speed and line options until the link ends.
func deviceTransport(path string, m lineMode) transport {
	return transport{desc: path, dial: func(context.Context, *slog.Logger) (*conn, error) {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			hint := ""
			if errors.Is(err, unix.EACCES) {
				hint = " (run as root, or as a member of the device's group, usually dialout)"
			}
			return nil, withExitCode(exitOpenFailed, fmt.Errorf("open %s: %w%s", path, err, hint))
		}
		s := &fileStream{}
		if isTerminal(fd) {
			restore, err := makeRaw(fd, m)
			if err != nil {
				unix.Close(fd)
				return nil, withExitCode(exitOpenFailed, fmt.Errorf("%s: set the line to raw mode: %w", path, err))
			}
			s.restore = append(s.restore, restore)
		}
		f := os.NewFile(uintptr(fd), path)
		s.r, s.w = f, f
		return &conn{rw: s, tty: path, speed: m.speed}, nil
	}}
}

// ptyExitWait is how long the end of a link waits for the pty command to
// exit by itself (it sees its standard input end) before it is sent
// SIGTERM, and then SIGKILL as long again later; pppd's child-timeout.
const ptyExitWait = 5 * time.Second

// ptyTransport runs command with /bin/sh -c and speaks PPP on its standard
// input and output, the way pppd's pty option does: the command gets the
// master side of a new pseudo-terminal as standard input and output, in a
// session of its own (so that the terminal's ^C reaches pppssh, which ends
// the link cleanly, and not the command), and pppssh uses the slave side,
// in raw mode. A command such as "ssh -t" thus sees a terminal. What the
// command writes to standard error is logged line by line, prefixed with
// "pty: ".
func ptyTransport(command string, m lineMode) transport {
	return transport{desc: "pty command", dial: func(ctx context.Context, log *slog.Logger) (*conn, error) {
		master, slave, slaveName, err := openPTY()
		if err != nil {
			return nil, withExitCode(exitPtyCommandFailed, fmt.Errorf("pty: %w", err))
		}
		s := &fileStream{}
		restore, err := makeRaw(slave, m)
		if err != nil {
			master.Close()
			unix.Close(slave)
			return nil, withExitCode(exitPtyCommandFailed, fmt.Errorf("pty %s: set raw mode: %w", slaveName, err))
		}
		s.restore = append(s.restore, restore)
		s.r = pollable(slave, slaveName, &s.restore)
		s.w = s.r

		errR, errW, err := os.Pipe()
		if err != nil {
			master.Close()
			s.Close()
			return nil, withExitCode(exitPtyCommandFailed, fmt.Errorf("pty command: %w", err))
		}
		cmd := exec.Command("/bin/sh", "-c", command)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = master, master, errW
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		err = cmd.Start()
		master.Close()
		errW.Close()
		if err != nil {
			errR.Close()
			s.Close()
			return nil, withExitCode(exitPtyCommandFailed, fmt.Errorf("pty command %q: %w", command, err))
		}
		log.Debug("pty command started", "pid", cmd.Process.Pid, "command", command)

		stderrDone := make(chan struct{})
		go func() {
			defer close(stderrDone)
			sc := bufio.NewScanner(errR)
			sc.Buffer(make([]byte, 4096), 64<<10)
			for sc.Scan() {
				log.Info("pty: " + sc.Text())
			}
		}()
		exited := make(chan struct{})
		var status int
		go func() {
			defer close(exited)
			err := cmd.Wait()
			status = cmd.ProcessState.ExitCode()
			switch {
			case err == nil:
				log.Debug("pty command exited", "status", 0)
			case status >= 0:
				log.Info("pty command exited with status " + strconv.Itoa(status))
			default:
				log.Info("pty command ended: " + err.Error())
			}
		}()
		finish := func(linkErr error) error {
			ended := waitOrSignal(exited, cmd.Process.Pid, log)
			select {
			case <-stderrDone:
			case <-time.After(time.Second):
				// Something the command started keeps its
				// standard error open; stop reading it.
			}
			errR.Close()
			<-stderrDone
			if !ended {
				return linkErr
			}
			// 126: found but not executable, 127: not found (sh).
			if (status == 126 || status == 127) && errors.As(linkErr, new(*link.StreamError)) {
				return withExitCode(exitPtyCommandFailed, fmt.Errorf("pty command %q could not be run (sh exited with status %d): %w", command, status, linkErr))
			}
			return linkErr
		}
		return &conn{rw: s, tty: slaveName, finish: finish}, nil
	}}
}

// waitOrSignal waits for exited to close, up to ptyExitWait; then sends
// SIGTERM to the process group pid leads, waits as long again, then
// SIGKILL. It reports whether the process was seen to exit.
func waitOrSignal(exited <-chan struct{}, pid int, log *slog.Logger) bool {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-exited:
			return true
		case <-time.After(ptyExitWait):
		}
		log.Info("pty command still running; sending it " + sig.String())
		syscall.Kill(-pid, sig)
	}
	select {
	case <-exited:
		return true
	case <-time.After(ptyExitWait):
		return false
	}
}

// openPTY opens a new pseudo-terminal: the master as a blocking file (for
// the command), the slave as a descriptor with its name.
func openPTY() (master *os.File, slave int, name string, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, -1, "", fmt.Errorf("open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, -1, "", fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		return nil, -1, "", fmt.Errorf("pty number: %w", err)
	}
	name = "/dev/pts/" + strconv.Itoa(n)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(m)
		return nil, -1, "", fmt.Errorf("open %s: %w", name, err)
	}
	return os.NewFile(uintptr(m), "/dev/ptmx"), s, name, nil
}
