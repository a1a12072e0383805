package pppdvm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
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
)

// The guest's services, on every address it has, pppd's end of the link
// included.
const (
	// EchoPort is the guest's echo service (TCP and UDP, RFC 862).
	EchoPort = 7
	// DiscardPort is the guest's discard service (TCP and UDP, RFC 863).
	DiscardPort = 9
	// SourcePort is the guest's TCP service that sends octets without end.
	SourcePort = 19
)

// Device is the guest's end of the PPP line: the virtio console.
const Device = "/dev/hvc0"

// File is an extra file for the guest's initramfs.
type File struct {
	Data []byte
	Mode fs.FileMode // permission bits; 0 means 0644
}

// Options configures a VM.
type Options struct {
	// PPPDArgs are pppd's options, after Debian's /etc/ppp/options (which
	// pppd always reads first) and the harness's own: the line (Device),
	// nodetach, debug twice (so that Echo packets are logged too) and
	// "logfd 2", which sends pppd's log to the console. Debian's options
	// ask for authentication: pass "noauth". Example:
	// {"noauth", "192.0.2.1:192.0.2.2"}.
	PPPDArgs []string
	// Files are added to the guest's file system, by absolute path
	// ("/etc/ppp/ip-up"); they may replace files of the image.
	Files map[string]File
	// KernelArgs are appended to the guest kernel's command line.
	KernelArgs []string
	// Respawn keeps the VM running when pppd exits: /init starts pppd
	// again, with the same options, each time RestartPPPD lets it, so that
	// one VM serves many runs of pppd from its initial state. Without it
	// the VM powers off when pppd exits.
	Respawn bool
}

// VM is a running qemu guest with pppd on the far end of its line. Create
// it with Start. Its methods may be called from any goroutine.
type VM struct {
	t     testing.TB
	dir   string
	cmd   *exec.Cmd
	start time.Time

	lineSock string
	lineMu   sync.Mutex
	line     net.Conn

	respawn   bool
	restartMu sync.Mutex // serializes RestartPPPD
	runs      int        // pppd processes started so far; guarded by restartMu

	done    chan struct{} // closed when qemu has exited and its output is read
	waitErr error         // qemu's exit status; set before done is closed

	mu      sync.Mutex
	log     bytes.Buffer  // the console, as written
	stamped bytes.Buffer  // the console with the time of each line
	midLine bool          // stamped ends inside a line
	changed chan struct{} // closed and replaced whenever log grows

	ctl      net.Conn
	ctlMu    sync.Mutex // serializes writes to ctl and guards pending, nextID, ctlErr
	nextID   int
	pending  map[int]chan ctlResponse
	ctlErr   error
	stopOnce sync.Once
}

type ctlRequest struct {
	ID   int      `json:"id"`
	Argv []string `json:"argv"`
}

type ctlResponse struct {
	ID     int    `json:"id"`
	Exit   int    `json:"exit"`
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

// Start builds the image if the cache does not hold it (see CacheDir), boots
// a VM with pppd started with opts, and connects to its line. It fails the
// test if a program is missing or the VM cannot be started. t.Cleanup kills
// the VM and, if the test failed or runs with -v, logs the VM's console:
// the kernel's messages and pppd's debug log.
//
// pppd starts some seconds after Start returns (3 to 5 on an idle machine
// without KVM, several times that when the cores are busy). Bytes written
// to Line before then may be lost, so a test should start its link once the
// guest is ready: WaitLog(ctx, "sent [LCP ConfReq") returns when pppd has
// sent its first Configure-Request, which is then waiting on the line.
func Start(t testing.TB, opts Options) *VM {
	t.Helper()
	Require(t)
	begin := time.Now()
	im, err := cachedImage()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Logf("pppdvm: waited %.1fs for the image %s (kernel %s)", d.Seconds(), im.dir, im.kernel)
	}
	// A short directory: unix socket paths are limited to 107 octets.
	dir, err := os.MkdirTemp("", "pppdvm-")
	if err != nil {
		t.Fatal(err)
	}
	vm := &VM{
		t:       t,
		dir:     dir,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		pending: map[int]chan ctlResponse{},
		respawn: opts.Respawn,
		runs:    1,
	}
	t.Cleanup(vm.cleanup)
	initrd := filepath.Join(dir, "initrd")
	if err := writeInitrd(initrd, im.initramfs(), opts); err != nil {
		t.Fatal(err)
	}
	lineSock := filepath.Join(dir, "line.sock")
	ctlSock := filepath.Join(dir, "ctl.sock")
	// noirqdebug: under emulation the guest would sometimes take the virtio
	// interrupt for a spurious one, disable it, and stall the line.
	// no_timer_check: a loaded host makes the timer check fail and slow.
	kargs := append([]string{"console=ttyS0", "panic=-1", "noirqdebug", "no_timer_check", "quiet"}, opts.KernelArgs...)
	vm.cmd = exec.Command(qemuProgram,
		"-nodefaults", "-no-user-config", "-display", "none",
		"-machine", "pc", "-accel", "tcg", "-m", "256", "-smp", "1", "-no-reboot",
		"-kernel", im.kernelFile(), "-initrd", initrd, "-append", strings.Join(kargs, " "),
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-device", "virtio-serial-pci",
		"-chardev", "socket,id=ppp,path="+lineSock+",server=on,wait=off",
		"-device", "virtconsole,chardev=ppp,name=pppdvm.ppp",
		"-chardev", "socket,id=ctl,path="+ctlSock+",server=on,wait=off",
		"-device", "virtserialport,chardev=ctl,name=pppdvm.ctl",
	)
	vm.cmd.Stdout = consoleWriter{vm}
	vm.cmd.Stderr = prefixWriter{vm: vm, prefix: "qemu: "}
	// qemu dies with the test process, even one killed by a timeout, so
	// no VM outlives its test. The signal is tied to the thread that
	// started qemu: that thread stays locked to the goroutine that waits
	// for qemu, so the Go runtime cannot end it (as it ends the threads of
	// goroutines that exit locked, which tests switching network
	// namespaces leave behind) while qemu runs.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error)
	vm.start = time.Now()
	go func() {
		runtime.LockOSThread()
		if err := vm.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		vm.waitErr = vm.cmd.Wait()
		close(vm.done)
	}()
	if err := <-started; err != nil {
		close(vm.done)
		t.Fatalf("pppdvm: %v", err)
	}
	vm.lineSock = lineSock
	if vm.line, err = vm.dial(lineSock); err != nil {
		t.Fatal(err)
	}
	if vm.ctl, err = vm.dial(ctlSock); err != nil {
		t.Fatal(err)
	}
	go vm.readControl()
	return vm
}

// writeInitrd writes the image's initramfs followed by a second archive with
// the VM's own files; the kernel unpacks both, the second over the first.
func writeInitrd(dst, base string, opts Options) error {
	b, err := os.ReadFile(base)
	if err != nil {
		return err
	}
	for len(b)%4 != 0 { // an uncompressed archive must start 4-aligned
		b = append(b, 0)
	}
	var buf bytes.Buffer
	buf.Write(b)
	a := newArchive()
	o, err := optionsFile(opts.PPPDArgs)
	if err != nil {
		return err
	}
	a.file("etc/pppdvm/options", o, 0o644)
	if opts.Respawn {
		a.file("etc/pppdvm/respawn", nil, 0o644)
	}
	for p, f := range opts.Files {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("pppdvm: file %q: want an absolute path", p)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		a.file(p, f.Data, mode)
	}
	if err := a.writeTo(&buf); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// optionsFile returns the pppd options file the guest runs pppd with: the
// harness's options, then args, one a line, quoted where pppd's parser
// needs it.
func optionsFile(args []string) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range append([]string{Device, "nodetach", "debug", "debug", "logfd", "2"}, args...) {
		if strings.ContainsAny(a, "\n\r\x00") {
			return nil, fmt.Errorf("pppdvm: pppd option %q: options cannot hold line breaks", a)
		}
		if a == "" || strings.ContainsAny(a, " \t#\"'\\") {
			a = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
		}
		b.WriteString(a)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// dial connects to a unix socket qemu listens on, retrying until qemu has
// created it.
func (vm *VM) dial(path string) (net.Conn, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c, nil
		}
		select {
		case <-vm.done:
			return nil, fmt.Errorf("pppdvm: qemu exited (%v) before %s could be connected", vm.waitErr, filepath.Base(path))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("pppdvm: connect %s: %v", path, err)
		}
	}
}

// Line returns the host's end of the PPP line, a connection to the guest's
// virtio console, on which pppd runs. Start connects it; a stream user such
// as link.Run may close it, and Redial connects a new one. The connection
// is a unix socket on the host's file system, so it can be handed to code
// running in another network namespace (a TUN device there, pppd's address
// reachable through the link).
func (vm *VM) Line() net.Conn {
	vm.lineMu.Lock()
	defer vm.lineMu.Unlock()
	return vm.line
}

// Redial closes the line's connection and connects a new one, which Line
// returns from then on: a new link can follow one whose Run closed the line
// (pppd with "persist" starts over on the same line). What pppd writes
// while no connection is open is lost.
func (vm *VM) Redial() (net.Conn, error) {
	vm.lineMu.Lock()
	defer vm.lineMu.Unlock()
	vm.line.Close()
	c, err := vm.dial(vm.lineSock)
	if err != nil {
		return nil, err
	}
	vm.line = c
	return c, nil
}

// Log returns what the guest wrote to its console so far: kernel messages,
// the guest's own lines (prefixed "pppdvm"), and pppd's debug log.
func (vm *VM) Log() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.log.String()
}

// WaitLog waits until the console log contains s and returns the first line
// that contains it. It returns an error when ctx ends or the VM exits
// first.
func (vm *VM) WaitLog(ctx context.Context, s string) (string, error) {
	return vm.WaitLogCount(ctx, s, 1)
}

// WaitLogCount waits until the console log contains s n times and returns
// the line of the nth. It returns an error when ctx ends or the VM exits
// first.
func (vm *VM) WaitLogCount(ctx context.Context, s string, n int) (string, error) {
	for {
		vm.mu.Lock()
		line, ok := nthLine(vm.log.String(), s, n)
		changed := vm.changed
		vm.mu.Unlock()
		if ok {
			return line, nil
		}
		select {
		case <-changed:
		case <-vm.done:
			vm.mu.Lock()
			line, ok := nthLine(vm.log.String(), s, n)
			vm.mu.Unlock()
			if ok {
				return line, nil
			}
			return "", fmt.Errorf("pppdvm: the VM exited (%v) before its log showed %q", vm.waitErr, s)
		case <-ctx.Done():
			return "", fmt.Errorf("pppdvm: waiting for %q in the VM's log: %w", s, ctx.Err())
		}
	}
}

// nthIndex returns the offset of the nth occurrence of s in log, or -1.
func nthIndex(log, s string, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := strings.Index(log[off:], s)
		if j < 0 {
			return -1
		}
		off += j
		if i < n-1 {
			off += len(s)
		}
	}
	return off
}

// nthLine returns the line of log holding the nth occurrence of s.
func nthLine(log, s string, n int) (string, bool) {
	off := 0
	for i := 0; i < n; i++ {
		j := strings.Index(log[off:], s)
		if j < 0 {
			return "", false
		}
		off += j
		if i < n-1 {
			off += len(s)
		}
	}
	start := strings.LastIndexByte(log[:off], '\n') + 1
	end := strings.IndexByte(log[off:], '\n')
	if end < 0 {
		return "", false // the line is not finished yet
	}
	return strings.TrimRight(log[start:off+end], "\r"), true
}

// Exec runs a program inside the guest, through the guest helper's control
// port, and returns its combined output. The error says how it failed when
// it could not be run or exited non-zero.
func (vm *VM) Exec(ctx context.Context, argv ...string) (string, error) {
	ch := make(chan ctlResponse, 1)
	vm.ctlMu.Lock()
	if vm.ctlErr != nil {
		err := vm.ctlErr
		vm.ctlMu.Unlock()
		return "", err
	}
	vm.nextID++
	id := vm.nextID
	vm.pending[id] = ch
	req, _ := json.Marshal(ctlRequest{ID: id, Argv: argv})
	_, err := vm.ctl.Write(append(req, '\n'))
	vm.ctlMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("pppdvm: exec %q: %w", argv, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return "", fmt.Errorf("pppdvm: exec %q: %w", argv, vm.controlErr())
		}
		if r.Error != "" {
			return r.Output, fmt.Errorf("pppdvm: exec %q in the guest: %s", argv, r.Error)
		}
		if r.Exit != 0 {
			return r.Output, fmt.Errorf("pppdvm: %q in the guest exited with status %d: %s", argv, r.Exit, r.Output)
		}
		return r.Output, nil
	case <-ctx.Done():
		vm.ctlMu.Lock()
		delete(vm.pending, id)
		vm.ctlMu.Unlock()
		return "", fmt.Errorf("pppdvm: exec %q: %w", argv, ctx.Err())
	}
}

func (vm *VM) controlErr() error {
	vm.ctlMu.Lock()
	defer vm.ctlMu.Unlock()
	return vm.ctlErr
}

// readControl reads the guest helper's answers and hands each to its Exec.
func (vm *VM) readControl() {
	sc := bufio.NewScanner(vm.ctl)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r ctlResponse
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		vm.ctlMu.Lock()
		ch := vm.pending[r.ID]
		delete(vm.pending, r.ID)
		vm.ctlMu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	vm.ctlMu.Lock()
	vm.ctlErr = fmt.Errorf("pppdvm: control port closed: %w", err)
	for id, ch := range vm.pending {
		close(ch)
		delete(vm.pending, id)
	}
	vm.ctlMu.Unlock()
}

// SignalPPPD sends sig to pppd inside the guest (SIGTERM: pppd terminates
// the link with "User request" and exits; SIGHUP: it terminates the link).
func (vm *VM) SignalPPPD(ctx context.Context, sig syscall.Signal) error {
	_, err := vm.Exec(ctx, "sh", "-c", "kill -"+strconv.Itoa(int(sig))+" $(cat /run/pppd.pid)")
	return err
}

// Log lines of /init that RestartPPPD counts, one of each per pppd run.
const (
	logRunning = "pppdvm: pppd running as pid"
	logExited  = "pppdvm: pppd exited with status"
	logConnect = "<--> " + Device // pppd's "Connect: ppp0 <--> /dev/hvc0"
)

// staleWait is how long RestartPPPD reads the new line, with no pppd
// running, to discard octets the killed one left on their way.
const staleWait = 100 * time.Millisecond

// RestartPPPD replaces the running pppd by a new one, in its initial state,
// on a new line, and returns that line (which Line returns from then on).
// It is for tests that run pppd many times on one VM, such as the
// conformance suite of package fuzz/peer, which runs each case against a
// fresh pppd; the VM must have been started with Options.Respawn.
//
// It kills pppd with SIGKILL, so that it sends nothing more (a pppd that has
// exited already, having given up or been terminated, is simply started
// again), waits until /init has logged its exit, closes the line and
// connects a new one (as Redial does), discards whatever still arrives on
// it for a moment, and only then lets /init start the next pppd: nothing
// the old pppd wrote reaches the new line. It returns once the new pppd has
// opened its end of the line (its "Connect: ppp0 <--> /dev/hvc0" log
// line), so that nothing written to the line is lost. It fails if the new
// pppd exits at once (a bad option), or when ctx ends.
func (vm *VM) RestartPPPD(ctx context.Context) (net.Conn, error) {
	if !vm.respawn {
		return nil, errors.New("pppdvm: RestartPPPD needs a VM started with Options.Respawn")
	}
	vm.restartMu.Lock()
	defer vm.restartMu.Unlock()
	n := vm.runs
	// The pid file of the nth pppd exists once its "running" line is out.
	if _, err := vm.WaitLogCount(ctx, logRunning, n); err != nil {
		return nil, err
	}
	if _, err := vm.Exec(ctx, "sh", "-c", "[ ! -e /run/pppd.pid ] || kill -9 $(cat /run/pppd.pid) 2>/dev/null; true"); err != nil {
		return nil, fmt.Errorf("pppdvm: killing pppd: %w", err)
	}
	if _, err := vm.WaitLogCount(ctx, logExited, n); err != nil {
		return nil, err
	}
	c, err := vm.Redial()
	if err != nil {
		return nil, err
	}
	if err := discardFor(c, staleWait); err != nil {
		return nil, fmt.Errorf("pppdvm: reading the new line: %w", err)
	}
	if _, err := vm.Exec(ctx, "sh", "-c", "echo go >/run/pppd.gate"); err != nil {
		return nil, fmt.Errorf("pppdvm: starting pppd again: %w", err)
	}
	vm.runs++
	if err := vm.waitStarted(ctx, vm.runs); err != nil {
		return nil, err
	}
	return c, nil
}

// discardFor reads and drops what arrives on c for d.
func discardFor(c net.Conn, d time.Duration) error {
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return c.SetReadDeadline(time.Time{})
			}
			return err
		}
	}
}

// waitStarted waits until the nth pppd has opened the line, or has exited.
// Only what follows its "running" line counts: a pppd killed while it was
// starting never logged its own "Connect:".
func (vm *VM) waitStarted(ctx context.Context, n int) error {
	for {
		vm.mu.Lock()
		log := vm.log.String()
		changed := vm.changed
		vm.mu.Unlock()
		if at := nthIndex(log, logRunning, n); at >= 0 {
			run := log[at:]
			if strings.Contains(run, logConnect) {
				return nil
			}
			if i := strings.Index(run, logExited); i >= 0 {
				line, _, _ := strings.Cut(run[i:], "\n")
				return fmt.Errorf("pppdvm: the restarted pppd exited at once (%s); see the VM's console for its reason", line)
			}
		}
		select {
		case <-changed:
		case <-vm.done:
			return fmt.Errorf("pppdvm: the VM exited (%v) while pppd was restarting", vm.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("pppdvm: waiting for the restarted pppd to open the line: %w", ctx.Err())
		}
	}
}

// Signal sends sig to the qemu process: SIGSTOP freezes the guest, so the
// line goes silent without closing.
func (vm *VM) Signal(sig os.Signal) error {
	return vm.cmd.Process.Signal(sig)
}

// Kill kills qemu with SIGKILL, which cuts the line: the host's end reads
// EOF. It waits until qemu is gone.
func (vm *VM) Kill() {
	_ = vm.cmd.Process.Kill()
	<-vm.done
}

// Stop asks qemu to quit (SIGTERM), kills it if it has not within ten
// seconds, and waits until it is gone. Like Kill, it cuts the line.
func (vm *VM) Stop() {
	_ = vm.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
		vm.Kill()
	}
}

// Wait waits until qemu exits and returns its exit error (nil when the
// guest powered off, as it does after pppd exits).
func (vm *VM) Wait() error {
	<-vm.done
	return vm.waitErr
}

// Done is closed when qemu has exited.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Since returns the time since qemu was started.
func (vm *VM) Since() time.Duration { return time.Since(vm.start) }

func (vm *VM) cleanup() {
	vm.stopOnce.Do(func() {
		if vm.cmd != nil && vm.cmd.Process != nil {
			vm.Kill()
		}
		if l := vm.Line(); l != nil {
			l.Close()
		}
		if vm.ctl != nil {
			vm.ctl.Close()
		}
		if vm.t.Failed() || testing.Verbose() {
			vm.mu.Lock()
			vm.t.Logf("pppd VM console (seconds since qemu started):\n%s", vm.stamped.String())
			vm.mu.Unlock()
		}
		os.RemoveAll(vm.dir)
	})
}

// consoleWriter receives qemu's standard output: the guest's serial console.
type consoleWriter struct{ vm *VM }

func (w consoleWriter) Write(p []byte) (int, error) {
	w.vm.appendLog(p)
	return len(p), nil
}

// prefixWriter receives qemu's own messages and marks them in the log.
type prefixWriter struct {
	vm     *VM
	prefix string
}

func (w prefixWriter) Write(p []byte) (int, error) {
	var b []byte
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line != "" {
			b = append(append(b, w.prefix...), line...)
		}
	}
	w.vm.appendLog(b)
	return len(p), nil
}

func (vm *VM) appendLog(p []byte) {
	p = bytes.ReplaceAll(p, []byte("\r"), nil)
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.log.Write(p)
	stamp := fmt.Sprintf("[%7.3f] ", time.Since(vm.start).Seconds())
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !vm.midLine {
			vm.stamped.WriteString(stamp)
		}
		vm.stamped.Write(line)
		vm.midLine = line[len(line)-1] != '\n'
	}
	close(vm.changed)
	vm.changed = make(chan struct{})
}
