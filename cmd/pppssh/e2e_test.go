package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"golang.org/x/sys/unix"
)

// The end-to-end tests run the pppssh binary, built once, in network
// namespaces of their own (internal/nstest), joined by socket pairs or by
// pty commands, with addresses from the documentation ranges: 192.0.2.0/24
// on the link, 203.0.113.0/24 and 198.51.100.0/24 behind it.

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string // 0755, so that tests running pppssh as nobody reach it
	buildErr  error
)

// pppsshBin returns the path of a pppssh binary built from this package, and
// next to it a symbolic link named pppd.
func pppsshBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = "/usr/local/go/bin/go"
		}
		if binDir, buildErr = os.MkdirTemp("", "pppssh-e2e-"); buildErr != nil {
			return
		}
		if buildErr = os.Chmod(binDir, 0o755); buildErr != nil {
			return
		}
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "pppssh"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		buildErr = os.Symlink("pppssh", filepath.Join(binDir, "pppd"))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "pppssh")
}

// pppdBinary returns the path of the symbolic link named pppd.
func pppdBinary(t *testing.T) string {
	return filepath.Join(filepath.Dir(pppsshBin(t)), "pppd")
}

// socketPair returns the two ends of a Unix stream socket pair.
func socketPair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "socket-a"), os.NewFile(uintptr(fds[1]), "socket-b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// startOn starts pppssh with args in ns, speaking PPP on the socket s
// (standard input and output); its standard error is collected.
func startOn(t *testing.T, ns *nstest.NS, s *os.File, env []string, args ...string) *nstest.Proc {
	t.Helper()
	cmd := ns.Command(pppsshBin(t), args...)
	cmd.Stdin, cmd.Stdout = s, s
	cmd.Env = append(os.Environ(), env...)
	p := ns.Start(cmd)
	return p
}

// exitStatus waits for p and returns its exit code, failing the test if
// it does not exit within timeout.
func exitStatus(t *testing.T, p *nstest.Proc, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(timeout):
		t.Fatalf("process did not exit within %v; output:\n%s", timeout, p.Output())
	}
	return statusOf(p.Wait())
}

func statusOf(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// waitUp waits until p logs that the link is up and its ppp0 configured
// (IPCP's "remote IP address" line comes before the host is configured).
// A far end's lines, behind "pty: ", do not count.
func waitUp(t *testing.T, p *nstest.Proc) {
	t.Helper()
	if err := p.WaitOutput("\nbrought ppp0 up\n", 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

// ping pings addr from ns until an answer comes, failing the test if none
// comes within 10 seconds. (The far end configures its interface a moment
// after ours: the first echo may find it without its address yet.)
func ping(t *testing.T, ns *nstest.NS, addr string) {
	t.Helper()
	nstest.RequireTool(t, "ping", "iputils-ping")
	if out, err := ns.Command("ping", "-c", "1", "-i", "0.2", "-w", "10", addr).CombinedOutput(); err != nil {
		t.Fatalf("ping %s from %s: %v\n%s", addr, ns.Name(), err, out)
	}
}

// logBuffer collects a process's output and signals every write, so that
// a test can wait for the n-th occurrence of a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitCount waits until s occurs n times in the output.
func (b *logBuffer) waitCount(t *testing.T, s string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		count, changed := strings.Count(b.buf.String(), s), b.changed
		b.mu.Unlock()
		if count >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%q did not occur %d times within %v; output:\n%s", s, n, timeout, b.String())
		}
	}
}

// linkGone fails the test if ns still has the interface dev.
func linkGone(t *testing.T, ns *nstest.NS, dev string) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", ns.Name(), "link", "show", "dev", dev).CombinedOutput(); err == nil {
		t.Errorf("%s still exists in %s after the link ended:\n%s", dev, ns.Name(), out)
	}
}

// TestStdioLink runs "pppssh stdio" in two namespaces joined by a socket
// pair: the link comes up with FCS-32 between the two pppssh ends, ping
// crosses it, SIGTERM ends one end cleanly (exit 0, its TUN gone) and the
// other reports the peer's termination (exit 0, as pppd after a link that
// was up) and cleans up too.
func TestStdioLink(t *testing.T) {
	t.Parallel()
	a, b := nstest.New(t), nstest.New(t)
	sa, sb := socketPair(t)
	pa := startOn(t, a, sa, nil, "stdio", "192.0.2.1:192.0.2.2", "debug", "route", "203.0.113.0/24")
	pb := startOn(t, b, sb, nil, "stdio", "ipparam", "test")
	sa.Close()
	sb.Close()
	waitUp(t, pa)
	waitUp(t, pb)
	ping(t, a, "192.0.2.2")
	if err := pa.WaitOutput("added route 203.0.113.0/24 dev ppp0", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if out := a.Run("ip", "route", "show", "203.0.113.0/24"); !strings.Contains(out, "dev ppp0") {
		t.Errorf("route 203.0.113.0/24 not through ppp0 in A: %q", out)
	}
	if !regexp.MustCompile(`rcvd \[LCP ConfAck id=0x[0-9a-f]+ .*<fcs crc32>\]`).MatchString(pa.Output()) {
		t.Errorf("the two pppssh ends did not agree on FCS-32; A's log:\n%s", pa.Output())
	}

	pa.Signal(syscall.SIGTERM)
	if code := exitStatus(t, pa, 15*time.Second); code != exitOK {
		t.Errorf("A exited %d after SIGTERM, want 0; output:\n%s", code, pa.Output())
	}
	linkGone(t, a, "ppp0")
	if code := exitStatus(t, pb, 15*time.Second); code != exitOK {
		t.Errorf("B exited %d after the peer terminated the link, want 0; output:\n%s", code, pb.Output())
	}
	linkGone(t, b, "ppp0")
	for name, p := range map[string]*nstest.Proc{"A": pa, "B": pb} {
		for _, want := range []string{"Using interface ppp0", "Connection terminated.", "Connect time 0.", "Sent "} {
			if !strings.Contains(p.Output(), want) {
				t.Errorf("%s's log lacks %q:\n%s", name, want, p.Output())
			}
		}
	}
	if !strings.Contains(pa.Output(), "Terminating on signal 15") {
		t.Errorf("A's log lacks pppd's signal line:\n%s", pa.Output())
	}
	if !strings.Contains(pb.Output(), `peer sent Terminate-Request: "User request"`) {
		t.Errorf("B's log does not report the peer's termination:\n%s", pb.Output())
	}
}

// pidfdWait waits up to timeout for the process pid, which is not our
// child, to exit.
func pidfdWait(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return
		}
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(timeout/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("poll pidfd: %v", err)
		}
		if n == 0 {
			t.Fatalf("process %d still runs %v after SIGTERM", pid, timeout)
		}
		return
	}
}

// TestHowtoOneLiner runs the HOWTO's command line, with pppssh installed
// as pppd on both ends and "ip netns exec" standing in for ssh: updetach
// returns once the link is up, ping crosses it, and SIGTERM to the
// background process ends both ends and removes both interfaces.
func TestHowtoOneLiner(t *testing.T) {
	t.Parallel()
	a, b := nstest.New(t), nstest.New(t)
	pppd := pppdBinary(t)
	logfile := filepath.Join(t.TempDir(), "vpn.log")
	remote := "ip netns exec " + b.Name() + " " + pppd + " nodetach notty noauth"
	cmd := a.Command(pppd, "updetach", "noauth", "silent", "nodeflate", "pty", remote,
		"ipparam", "vpn", "192.0.2.1:192.0.2.2", "logfile", logfile)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("pppd updetach: %v (after %v); output:\n%s", err, time.Since(start), out.String())
	}
	t.Logf("updetach returned after %v", time.Since(start).Round(time.Millisecond))
	m := regexp.MustCompile(`in the background as process (\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no background process ID in the output:\n%s", out.String())
	}
	pid, _ := strconv.Atoi(m[1])
	for _, want := range []string{"local  IP address 192.0.2.1", "remote IP address 192.0.2.2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output before updetach lacks %q:\n%s", want, out.String())
		}
	}
	ping(t, a, "192.0.2.2")
	if got := b.Run("ip", "-4", "-o", "addr", "show", "dev", "ppp0"); !strings.Contains(got, "192.0.2.2 peer 192.0.2.1") {
		t.Errorf("B's ppp0: %q", got)
	}

	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	pidfdWait(t, pid, 20*time.Second)
	linkGone(t, a, "ppp0")
	linkGone(t, b, "ppp0")
	log, err := os.ReadFile(logfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Terminating on signal 15", "Connection terminated.", "Connect time"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("logfile lacks %q:\n%s", want, log)
		}
	}
}

// TestServeForcedCommand runs "pppssh serve" as a forced command would run
// it, the client's request in SSH_ORIGINAL_COMMAND: a route within
// --allow-remote-route is added in the serving namespace while the link is
// up; a route outside it refuses the session with a message naming it,
// before any PPP (the client sees its stream end).
func TestServeForcedCommand(t *testing.T) {
	t.Parallel()
	admin := []string{"serve", "192.0.2.2:192.0.2.1", "--allow-remote-route", "203.0.113.0/24"}

	t.Run("allowed", func(t *testing.T) {
		a, b := nstest.New(t), nstest.New(t)
		sa, sb := socketPair(t)
		pb := startOn(t, b, sb, []string{"SSH_ORIGINAL_COMMAND=/usr/local/bin/pppssh serve --route 203.0.113.0/25"}, admin...)
		pa := startOn(t, a, sa, nil, "stdio", "192.0.2.1:192.0.2.2")
		sa.Close()
		sb.Close()
		if err := pb.WaitOutput("added route 203.0.113.0/25 dev ppp0", 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if out := b.Run("ip", "route", "show", "203.0.113.0/25"); !strings.Contains(out, "dev ppp0") {
			t.Errorf("route 203.0.113.0/25 not through ppp0 in the serving namespace: %q", out)
		}
		if !strings.Contains(pb.Output(), "client's request granted: --route 203.0.113.0/25") {
			t.Errorf("serve does not log the granted request:\n%s", pb.Output())
		}
		waitUp(t, pa)
		ping(t, a, "192.0.2.2")
		pa.Signal(syscall.SIGTERM)
		if code := exitStatus(t, pa, 15*time.Second); code != exitOK {
			t.Errorf("client exited %d, want 0:\n%s", code, pa.Output())
		}
		if code := exitStatus(t, pb, 15*time.Second); code != exitOK {
			t.Errorf("serve exited %d, want 0:\n%s", code, pb.Output())
		}
		if out := b.Run("ip", "route", "show", "203.0.113.0/25"); out != "" {
			t.Errorf("route left behind: %q", out)
		}
	})

	t.Run("refused", func(t *testing.T) {
		a, b := nstest.New(t), nstest.New(t)
		sa, sb := socketPair(t)
		pb := startOn(t, b, sb, []string{"SSH_ORIGINAL_COMMAND=pppssh serve --route 198.51.100.0/24"}, admin...)
		pa := startOn(t, a, sa, nil, "stdio", "192.0.2.1:192.0.2.2")
		sa.Close()
		sb.Close()
		if code := exitStatus(t, pb, 10*time.Second); code != exitOptionErr {
			t.Errorf("serve exited %d on a refused request, want %d:\n%s", code, exitOptionErr, pb.Output())
		}
		want := `route 198.51.100.0/24: not within the networks the forced command allows (--allow-remote-route 203.0.113.0/24)`
		if !strings.Contains(pb.Output(), want) || strings.Count(strings.TrimSpace(pb.Output()), "\n") != 0 {
			t.Errorf("serve's message is not the one line naming the refused route; got:\n%s", pb.Output())
		}
		if code := exitStatus(t, pa, 10*time.Second); code != exitHangup {
			t.Errorf("client exited %d, want %d (hangup):\n%s", code, exitHangup, pa.Output())
		}
		linkGone(t, a, "ppp0")
		linkGone(t, b, "ppp0")
	})
}

// tunNode makes a TUN clone device node (character device 10:200) of the
// given mode in a directory nobody can reach, to stand in for
// /dev/net/tun: asNobody mounts it there in a mount namespace of its own,
// so the tests do not depend on, nor change, the mode of the host's.
func tunNode(t *testing.T, mode uint32) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(dir, "tun")
	if err := unix.Mknod(node, unix.S_IFCHR|mode, int(unix.Mkdev(10, 200))); err != nil {
		t.Fatalf("mknod %s: %v", node, err)
	}
	if err := os.Chmod(node, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
	return node
}

// asNobody returns a command that runs pppssh with args in ns as the user
// nobody, without capabilities, with tunDevice mounted over /dev/net/tun
// (ip netns exec runs it in a private mount namespace, so the mount goes
// nowhere else).
func asNobody(t *testing.T, ns *nstest.NS, tunDevice string, args ...string) *exec.Cmd {
	t.Helper()
	nstest.RequireTool(t, "setpriv", "util-linux")
	script := `mount --bind "$0" /dev/net/tun && exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"`
	return ns.Command("sh", append([]string{"-c", script, tunDevice, pppsshBin(t)}, args...)...)
}

// TestServePersistentTUN runs serve as nobody, without CAP_NET_ADMIN, on a
// persistent TUN made for nobody: when the administrator has addressed it,
// the check passes and the link carries traffic; when not, serve says
// exactly what is missing and the command that adds it.
func TestServePersistentTUN(t *testing.T) {
	t.Parallel()
	a, b := nstest.New(t), nstest.New(t)
	dev := tunNode(t, 0o666)
	b.Run("ip", "tuntap", "add", "dev", "pppnobody", "mode", "tun", "user", "65534")
	b.Run("ip", "addr", "add", "192.0.2.2", "peer", "192.0.2.1", "dev", "pppnobody")
	b.Run("ip", "link", "set", "pppnobody", "up")

	run := func() (pa, pb *nstest.Proc) {
		sa, sb := socketPair(t)
		cmd := asNobody(t, b, dev, "serve", "192.0.2.2:192.0.2.1", "ifname", "pppnobody")
		cmd.Stdin, cmd.Stdout = sb, sb
		pb = b.Start(cmd)
		pa = startOn(t, a, sa, nil, "stdio", "192.0.2.1:192.0.2.2")
		sa.Close()
		sb.Close()
		return pa, pb
	}

	pa, pb := run()
	if err := pb.WaitOutput("interface configured by the administrator has what the link needs", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pb.Output(), "no CAP_NET_ADMIN: checking that pppnobody already has what the link needs") {
		t.Errorf("serve does not say it only checks:\n%s", pb.Output())
	}
	waitUp(t, pa)
	ping(t, a, "192.0.2.2")
	pa.Signal(syscall.SIGTERM)
	exitStatus(t, pa, 15*time.Second)
	if code := exitStatus(t, pb, 15*time.Second); code != exitOK {
		t.Errorf("serve as nobody exited %d, want 0:\n%s", code, pb.Output())
	}
	if out := b.Run("ip", "-4", "-o", "addr", "show", "dev", "pppnobody"); !strings.Contains(out, "192.0.2.2 peer 192.0.2.1") {
		t.Errorf("the persistent TUN lost its address: %q", out)
	}

	b.Run("ip", "addr", "flush", "dev", "pppnobody")
	pa, pb = run()
	want := "pppnobody has no address 192.0.2.2 peer 192.0.2.1; ask the administrator to run: ip addr add 192.0.2.2 peer 192.0.2.1 dev pppnobody"
	if code := exitStatus(t, pb, 20*time.Second); code != exitFatal || !strings.Contains(pb.Output(), want) {
		t.Errorf("serve on an unaddressed TUN exited %d, want %d with %q; output:\n%s", code, exitFatal, want, pb.Output())
	}
	exitStatus(t, pa, 15*time.Second)
	if !strings.Contains(pa.Output(), "has no address 192.0.2.2 peer 192.0.2.1") {
		t.Errorf("the client was not told why (serve's Terminate-Request reason):\n%s", pa.Output())
	}
}

// TestServeTUNPermission runs serve as nobody without a persistent TUN,
// with /dev/net/tun of mode 0600 (as on this machine; Debian ships 0666):
// the message names the device, the missing permission and the ways out.
func TestServeTUNPermission(t *testing.T) {
	t.Parallel()
	b := nstest.New(t)
	cmd := asNobody(t, b, tunNode(t, 0o600), "serve", "192.0.2.2:192.0.2.1")
	cmd.Stdin = nil
	p := b.Start(cmd)
	if code := exitStatus(t, p, 10*time.Second); code != exitNotPermitted {
		t.Errorf("exit %d, want %d", code, exitNotPermitted)
	}
	for _, want := range []string{
		"error: tunnel: open /dev/net/tun: permission denied",
		"run as root or with CAP_NET_ADMIN",
		"ip tuntap add dev ppp0 mode tun user USER",
	} {
		if !strings.Contains(p.Output(), want) {
			t.Errorf("message lacks %q:\n%s", want, p.Output())
		}
	}
}

// TestBadOptions checks that a bad option is one line on standard error
// and exit code 2, under every command name, before anything is touched.
func TestBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prog string
		args []string
		want string
	}{
		{pppsshBin(t), []string{"stdio", "--frobnicate"}, `pppssh: unknown option "--frobnicate" (command line); run with --help for the list`},
		{pppsshBin(t), []string{"stdio", "mtu", "12"}, `pppssh: option mtu: want a number from 128 to 65535, not "12" (command line)`},
		{pppsshBin(t), []string{"serve", "192.0.2.2:192.0.2.1", "persist"}, "pppssh: serve runs one link per SSH session; persist belongs on the connecting side"},
		{pppsshBin(t), []string{"stdio", "persist"}, "pppssh: persist needs a device or pty COMMAND"},
		{pppdBinary(t), []string{"noauth", "frobnicate"}, `pppssh: unknown option "frobnicate" (command line)`},
		{pppdBinary(t), []string{"auth"}, "pppssh: option auth is not supported: pppssh does no PAP or CHAP; SSH authenticates the far end (use noauth) (command line)"},
		{pppdBinary(t), []string{"pty", "true", "/dev/ttyS0"}, "pppssh: give either a device (/dev/ttyS0) or pty COMMAND, not both"},
	} {
		cmd := exec.Command(tc.prog, tc.args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		msg := stderr.String()
		if code := statusOf(err); code != exitOptionErr || !strings.Contains(msg, tc.want) ||
			strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("%s %q: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q",
				filepath.Base(tc.prog), tc.args, code, msg, stdout.String(), tc.want)
		}
	}
}

// TestPtyCommandFails runs a pty command that fails the way sudo does
// without a password: the link ends as soon as the command exits, long
// before the negotiation would time out, with its words in the log and
// exit code 16 (hangup). A command that cannot be run gives 9.
func TestPtyCommandFails(t *testing.T) {
	t.Parallel()
	a := nstest.New(t)
	for _, tc := range []struct {
		name, command string
		code          int
		want          []string
	}{
		{"sudo", `echo "sudo: a password is required" >&2; exit 1`, exitHangup,
			[]string{"pty: sudo: a password is required", "pty command exited with status 1", "error: link: stream closed: EOF"}},
		{"not found", `/nonexistent/pppd nodetach notty`, exitPtyCommandFailed,
			[]string{"pty: /bin/sh: 1: /nonexistent/pppd: not found", `pty command "/nonexistent/pppd nodetach notty" could not be run (sh exited with status 127)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			cmd := a.Command(pppsshBin(t), "stdio", "pty", tc.command, "192.0.2.1:192.0.2.2")
			p := a.Start(cmd)
			code := exitStatus(t, p, 10*time.Second)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v: the end of the command should end the link at once", took)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, p.Output())
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Output(), w) {
					t.Errorf("log lacks %q:\n%s", w, p.Output())
				}
			}
			linkGone(t, a, "ppp0")
		})
	}
}

// TestSupervision covers persist, maxfail and holdoff, a signal while
// waiting to reconnect, and updetach when the link never comes up.
func TestSupervision(t *testing.T) {
	t.Parallel()
	a := nstest.New(t)

	t.Run("maxfail", func(t *testing.T) {
		p := a.Start(a.Command(pppsshBin(t), "stdio", "persist", "holdoff", "0", "maxfail", "3", "pty", "exit 1", "192.0.2.1:192.0.2.2"))
		if code := exitStatus(t, p, 20*time.Second); code != exitHangup {
			t.Errorf("exit %d, want %d (the last attempt's)", code, exitHangup)
		}
		if n := strings.Count(p.Output(), "Connect: ppp0 <--> "); n != 3 {
			t.Errorf("%d attempts, want 3:\n%s", n, p.Output())
		}
		if !strings.Contains(p.Output(), "error: giving up: 3 attempts in a row failed to bring the link up (maxfail 3)") {
			t.Errorf("no maxfail message:\n%s", p.Output())
		}
	})

	t.Run("signal during holdoff", func(t *testing.T) {
		p := a.Start(a.Command(pppsshBin(t), "stdio", "persist", "holdoff", "600", "pty", "exit 1", "192.0.2.1:192.0.2.2"))
		if err := p.WaitOutput("reconnecting in 10m0s (persist)", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		p.Signal(syscall.SIGTERM)
		if code := exitStatus(t, p, 5*time.Second); code != exitOK {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, p.Output())
		}
	})

	t.Run("SIGHUP reconnects", func(t *testing.T) {
		a, b := nstest.New(t), nstest.New(t)
		remote := "ip netns exec " + b.Name() + " " + pppsshBin(t) + " stdio notty"
		cmd := a.Command(pppsshBin(t), "stdio", "persist", "holdoff", "0", "pty", remote, "192.0.2.1:192.0.2.2")
		out := newLogBuffer()
		cmd.Stdout, cmd.Stderr = out, out
		p := a.Start(cmd)
		out.waitCount(t, "\nbrought ppp0 up\n", 1, 20*time.Second)
		ping(t, a, "192.0.2.2")
		p.Signal(syscall.SIGHUP)
		out.waitCount(t, "reconnecting in 0s (persist)", 1, 15*time.Second)
		out.waitCount(t, "\nbrought ppp0 up\n", 2, 20*time.Second) // ours, not the far end's "pty: brought …"
		ping(t, a, "192.0.2.2")
		p.Signal(syscall.SIGTERM)
		if code := exitStatus(t, p, 15*time.Second); code != exitOK {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, out.String())
		}
		if n := strings.Count(out.String(), "\nConnection terminated.\n"); n != 2 {
			t.Errorf("%d links ended, want 2:\n%s", n, out.String())
		}
		linkGone(t, a, "ppp0")
		linkGone(t, b, "ppp0")
	})

	t.Run("updetach failure", func(t *testing.T) {
		cmd := a.Command(pppdBinary(t), "updetach", "noauth", "pty", `echo "ssh: connect to host gw port 22: Connection refused" >&2; exit 255`, "192.0.2.1:192.0.2.2")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = 5 * time.Second
		err := cmd.Run()
		if code := statusOf(err); code != exitHangup {
			t.Errorf("updetach exited %d, want %d (the background process's); output:\n%s", code, exitHangup, out.String())
		}
		if !strings.Contains(out.String(), "pty: ssh: connect to host gw port 22: Connection refused") {
			t.Errorf("the failure did not reach the terminal:\n%s", out.String())
		}
	})
}

// TestServeOnTerminal runs serve the way "ssh -t" does, with a terminal
// as standard input, output and error: serve puts it in raw mode while the
// link runs and restores it at the end, and writes no log line into it
// (the log goes to the logfile, as pppd's goes to syslog).
func TestServeOnTerminal(t *testing.T) {
	t.Parallel()
	a, b := nstest.New(t), nstest.New(t)
	master, slave, name, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	tty := os.NewFile(uintptr(slave), name)
	t.Cleanup(func() { master.Close(); tty.Close() })
	cooked, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if cooked.Lflag&(unix.ICANON|unix.ECHO) != unix.ICANON|unix.ECHO {
		t.Fatalf("a new pty is not in cooked mode: lflag %#x", cooked.Lflag)
	}
	// The test is the terminal's far end: it copies between the pty's
	// master and a socket that the client speaks PPP on.
	sa, sb := socketPair(t)
	go func() { io.Copy(master, sb) }()
	go func() { io.Copy(sb, master) }()

	logfile := filepath.Join(t.TempDir(), "serve.log")
	// lcp-restart 1: the test keeps the terminal open after the client has
	// gone (sshd would close it), so serve ends on its restart timer.
	cmd := b.Command(pppsshBin(t), "serve", "192.0.2.2:192.0.2.1", "logfile", logfile, "lcp-restart", "1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	pb := b.Start(cmd)
	pa := startOn(t, a, sa, nil, "stdio", "192.0.2.1:192.0.2.2", "silent")
	waitUp(t, pa)
	ping(t, a, "192.0.2.2")
	raw, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || raw.Oflag&unix.OPOST != 0 || raw.Iflag&(unix.ICRNL|unix.IXON) != 0 {
		t.Errorf("the terminal is not raw while the link runs: iflag %#x oflag %#x lflag %#x", raw.Iflag, raw.Oflag, raw.Lflag)
	}

	pa.Signal(syscall.SIGTERM)
	exitStatus(t, pa, 15*time.Second)
	if code := exitStatus(t, pb, 15*time.Second); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
	after, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *cooked {
		t.Errorf("terminal settings not restored:\n got %+v\nwant %+v", *after, *cooked)
	}
	log, _ := os.ReadFile(logfile)
	for _, want := range []string{"Connect: ppp0 <--> " + name, "Connection terminated."} {
		if !strings.Contains(string(log), want) {
			t.Errorf("logfile lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(pa.Output(), "far end wrote") {
		t.Errorf("text reached the PPP stream:\n%s", pa.Output())
	}
}
