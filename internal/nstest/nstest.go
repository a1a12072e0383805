// Package nstest gives tests their own Linux network namespaces, so that they
// can create TUN devices, addresses, routes and neighbour entries against the
// real kernel without touching the host's network.
//
// A test calls New to get a fresh namespace (with lo up), Veth to join two
// of them, (*NS).Run or (*NS).Command to run a program inside one, (*NS).Do
// to run Go code on a thread switched into one, and (*NS).Helper with
// (*NS).Start to run a function of its own test binary as a separate process
// inside one (see Register and Main). Everything a test makes is removed in
// t.Cleanup, also when the test fails or panics: processes are killed first,
// then the namespace is deleted, which destroys its virtual devices.
//
// A typical test of a program that runs on both ends of a link starts one
// helper per namespace, joined by a veth pair (or by pipes set as the
// commands' Stdin and Stdout before Start), waits for each to say it is
// ready, exercises them, and stops them with SIGTERM:
//
//	a, b := nstest.New(t), nstest.New(t)
//	nstest.Veth(t, a, b, netip.MustParsePrefix("198.51.100.1/24"), netip.MustParsePrefix("198.51.100.2/24"))
//	p := a.Start(a.Helper("engine", "-listen", "198.51.100.1:22"))
//	if err := p.WaitOutput("ready", 10*time.Second); err != nil {
//		t.Fatal(err)
//	}
//	…
//	if err := p.Stop(5 * time.Second); err != nil {
//		t.Error(err)
//	}
//
// Tests that use this package must run as root with iproute2 installed; they
// fail, not skip, when either is missing, with what to install.
package nstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/pppssh/pppssh/internal/watchbuf"
)

// Prefix starts the name of every namespace this package creates, followed by
// the creating process's ID and a random suffix.
const Prefix = "pppssh-test-"

// RequireRoot fails the test unless it runs as root, which network namespaces
// need.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("nstest: this test creates network namespaces and needs root (run it as root, e.g. sudo go test ./...)")
	}
}

// RequireTool returns the path of the program tool, or fails the test with
// the Debian package that provides it.
func RequireTool(t testing.TB, tool, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("nstest: %s not found in PATH (install it: apt-get install -y %s)", tool, debianPackage)
	}
	return p
}

// NS is a network namespace made for one test. Its methods may be called from
// any goroutine of the test.
type NS struct {
	t      testing.TB
	name   string
	id     string // random part of name, for device names
	handle netns.NsHandle

	mu    sync.Mutex
	procs []*Proc
}

var sweepOnce sync.Once

// New creates a uniquely named network namespace with lo up and registers its
// removal with t.Cleanup. It fails the test unless it runs as root with the
// ip program.
func New(t testing.TB) *NS {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "ip", "iproute2")
	sweepOnce.Do(sweepStale)

	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("nstest: random name: %v", err)
	}
	id := hex.EncodeToString(b[:])
	ns := &NS{t: t, name: fmt.Sprintf("%s%d-%s", Prefix, os.Getpid(), id), id: id, handle: netns.None()}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Fatalf("nstest: ip netns add %s: %v: %s", ns.name, err, bytes.TrimSpace(out))
	}
	t.Cleanup(ns.remove)
	h, err := netns.GetFromName(ns.name)
	if err != nil {
		t.Fatalf("nstest: open namespace %s: %v", ns.name, err)
	}
	ns.handle = h
	ns.Run("ip", "link", "set", "lo", "up")
	return ns
}

// Name returns the namespace's name, as ip netns knows it.
func (ns *NS) Name() string { return ns.name }

// Handle returns an open handle on the namespace, valid until the test ends.
func (ns *NS) Handle() netns.NsHandle { return ns.handle }

// Command returns a command that runs name with args inside the namespace
// (through ip netns exec). Start it with (*NS).Start to have it killed at
// cleanup, or run it to completion yourself.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// Run runs args[0] with args[1:] inside the namespace, fails the test if it
// does not succeed, and returns its combined output.
func (ns *NS) Run(args ...string) string {
	ns.t.Helper()
	out, err := ns.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		ns.t.Fatalf("nstest: in %s: %s: %v: %s", ns.name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out)
}

// Do runs f on the calling goroutine with its OS thread switched into the
// namespace, and switches back before returning f's error.
//
// Only that thread is in the namespace: goroutines that f starts run
// elsewhere, in the test's own namespace. What f creates keeps the namespace
// it was created in, though: a socket (netlink or IP) or a TUN file opened
// inside f may be used from any goroutine afterwards and still acts in this
// namespace, and processes that f starts with os/exec are forked from this
// thread and so run inside it. Files under /proc/sys/net opened inside f are
// those of this namespace. If the thread cannot be switched back, it stays
// locked and the runtime discards it when the goroutine ends.
func (ns *NS) Do(f func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("nstest: get current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns.handle); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("nstest: enter namespace %s: %w", ns.name, err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			return
		}
		runtime.UnlockOSThread()
	}()
	return f()
}

// MustDo is Do that fails the test when f returns an error.
func (ns *NS) MustDo(f func() error) {
	ns.t.Helper()
	if err := ns.Do(f); err != nil {
		ns.t.Fatalf("in namespace %s: %v", ns.name, err)
	}
}

// Veth joins namespaces a and b with a veth pair, gives each end its address
// (an invalid Prefix gives none), brings both ends up and returns their names
// in a and in b. The pair disappears with the namespaces.
func Veth(t testing.TB, a, b *NS, addrA, addrB netip.Prefix) (ifA, ifB string) {
	t.Helper()
	ifA, ifB = "v"+b.id, "v"+a.id
	out, err := exec.Command("ip", "-n", a.name, "link", "add", ifA, "type", "veth",
		"peer", "name", ifB, "netns", b.name).CombinedOutput()
	if err != nil {
		t.Fatalf("nstest: veth %s/%s between %s and %s: %v: %s", ifA, ifB, a.name, b.name, err, bytes.TrimSpace(out))
	}
	for _, end := range []struct {
		ns   *NS
		dev  string
		addr netip.Prefix
	}{{a, ifA, addrA}, {b, ifB, addrB}} {
		if end.addr.IsValid() {
			end.ns.Run("ip", "addr", "add", end.addr.String(), "dev", end.dev)
		}
		end.ns.Run("ip", "link", "set", end.dev, "up")
	}
	return ifA, ifB
}

// remove kills what runs in the namespace and deletes it.
func (ns *NS) remove() {
	ns.mu.Lock()
	procs := ns.procs
	ns.procs = nil
	ns.mu.Unlock()
	for _, p := range procs {
		p.kill()
		if ns.t.Failed() {
			ns.t.Logf("nstest: output of %s in %s (exit: %v):\n%s", p.name, ns.name, p.err, p.Output())
		}
	}
	killAll(ns.name)
	if ns.handle.IsOpen() {
		ns.handle.Close()
	}
	if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
		ns.t.Errorf("nstest: ip netns del %s: %v: %s", ns.name, err, bytes.TrimSpace(out))
	}
}

// killAll sends SIGKILL to every process left in the named namespace.
func killAll(name string) {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// sweepStale deletes namespaces that an earlier test process of this package
// left behind when it was killed before its cleanups ran (a go test timeout).
func sweepStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), Prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			continue
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			continue // its creator still runs
		}
		killAll(e.Name())
		exec.Command("ip", "netns", "del", e.Name()).Run()
	}
}

// Proc is a process started in a namespace with (*NS).Start. Its combined
// output is collected; it is killed at the test's cleanup if still running.
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  watchbuf.Buffer
	done chan struct{}
	err  error // valid after done is closed
}

// Start starts cmd (made by Command or Helper), collecting its standard
// output and standard error unless the caller set them, and fails the test
// if it cannot start. The process is killed when the test ends, and its
// output is logged if the test failed.
func (ns *NS) Start(cmd *exec.Cmd) *Proc {
	ns.t.Helper()
	p := &Proc{name: filepath.Base(cmd.Path), cmd: cmd, done: make(chan struct{})}
	if len(cmd.Args) > 4 && cmd.Args[0] == "ip" {
		p.name = filepath.Base(cmd.Args[4]) // ip netns exec NAME prog …
	}
	if h := helperName(cmd); h != "" {
		p.name = "helper " + h
	}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &p.out
	}
	if err := cmd.Start(); err != nil {
		ns.t.Fatalf("nstest: start %s in %s: %v", p.name, ns.name, err)
	}
	ns.mu.Lock()
	ns.procs = append(ns.procs, p)
	ns.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// Pid returns the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns what exec.Cmd.Wait returned.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM, waits up to timeout for the process to exit, then
// kills it. It returns the exit error, or an error saying it had to be killed.
func (p *Proc) Stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("nstest: %s did not exit within %v of SIGTERM; killed it", p.name, timeout)
	}
}

func (p *Proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// Output returns what the process has written so far to standard output and
// standard error (when Start collected them).
func (p *Proc) Output() string { return p.out.String() }

// WaitOutput waits until the process's output contains s. It fails when the
// process exits first or timeout passes, with the output in the error.
func (p *Proc) WaitOutput(s string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch err := p.out.Wait(ctx, s, p.done); {
	case err == nil:
		return nil
	case errors.Is(err, watchbuf.ErrDone):
		return fmt.Errorf("nstest: %s exited (%v) without printing %q; output:\n%s", p.name, p.err, s, p.out.String())
	default:
		return fmt.Errorf("nstest: %s did not print %q within %v; output:\n%s", p.name, s, timeout, p.out.String())
	}
}
