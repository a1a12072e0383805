// Package interop tests pppssh's PPP link against a real pppd 2.4.9, the
// one Debian ships, running in a qemu VM (package internal/pppdvm) at the
// far end of a virtio console line. The tests never skip: a missing qemu,
// pppd or busybox fails them with the apt-get command that installs it.
package interop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/linecap"
	"github.com/pppssh/pppssh/internal/pppdvm"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/link"
)

// testTimeout bounds each test once its VM is up: the longest waits are
// pppd's timers, seconds each.
const testTimeout = time.Minute

// bootTimeout bounds a boot, 6 to 10 seconds on an idle machine without
// KVM, more when the two cores are busy with other VMs and tests.
const bootTimeout = 2 * time.Minute

// testContext returns the context a test's waits use.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startPPPD boots a VM whose pppd runs with noauth and args, and waits until
// pppd has sent its first LCP Configure-Request, which then waits on the
// line for our link. The image is built first if the cache lacks it; that
// is not counted against bootTimeout.
func startPPPD(t *testing.T, args ...string) *pppdvm.VM {
	t.Helper()
	vm := pppdvm.Start(t, pppdvm.Options{PPPDArgs: append([]string{"noauth"}, args...)})
	ctx, cancel := context.WithTimeout(t.Context(), bootTimeout)
	defer cancel()
	if _, err := vm.WaitLog(ctx, "sent [LCP ConfReq id=0x1"); err != nil {
		t.Fatal(err)
	}
	return vm
}

// tap sits between our link and the line. It records every octet in both
// directions, can mute our side (writes are dropped, reads go on, as a
// stream whose sending half died), and signals every read.
type tap struct {
	net.Conn
	mute atomic.Bool

	mu      sync.Mutex
	records []linecap.Record
	read    chan struct{} // closed and replaced after every read
}

func newTap(c net.Conn) *tap { return &tap{Conn: c, read: make(chan struct{})} }

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.mu.Lock()
	if n > 0 {
		t.records = append(t.records, linecap.Record{Data: bytes.Clone(p[:n])})
	}
	close(t.read)
	t.read = make(chan struct{})
	t.mu.Unlock()
	return n, err
}

func (t *tap) Write(p []byte) (int, error) {
	if t.mute.Load() {
		return len(p), nil
	}
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.mu.Lock()
		t.records = append(t.records, linecap.Record{TX: true, Data: bytes.Clone(p[:n])})
		t.mu.Unlock()
	}
	return n, err
}

// capture returns what was recorded so far and a channel closed at the
// next read.
func (t *tap) capture() ([]linecap.Record, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]linecap.Record(nil), t.records...), t.read
}

// ours is our end of the line: a link.Link on a tap of the VM's line.
type ours struct {
	l      *link.Link
	tap    *tap
	events chan link.Event
	done   chan error
	err    error // Run's result, once done has delivered it
	ended  bool
}

// runLink starts our link on vm's line with cfg. Its debug log (packets
// printed as pppd prints them) is shown if the test fails or runs with -v;
// t.Cleanup stops the link.
func runLink(t *testing.T, ctx context.Context, vm *pppdvm.VM, cfg link.Config) *ours {
	t.Helper()
	o := &ours{
		tap:    newTap(vm.Line()),
		events: make(chan link.Event, 256),
		done:   make(chan error, 1),
	}
	cfg.Events = func(e link.Event) {
		select {
		case o.events <- e:
		default:
			t.Errorf("event queue full, dropped %v", e.Kind)
		}
	}
	cfg.Logger = testLogger(t)
	o.l = link.New(o.tap, cfg)
	runCtx, cancel := context.WithCancel(ctx)
	go func() { o.done <- o.l.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if !o.ended {
			<-o.done
		}
	})
	return o
}

// waitIPCP waits until IPCP is Opened and returns what it agreed; it fails
// the test if the link ends first.
func (o *ours) waitIPCP(t *testing.T, ctx context.Context) ipcp.Negotiated {
	t.Helper()
	for {
		select {
		case e := <-o.events:
			if e.Kind == link.EventIPCPUp {
				return e.IPCP
			}
		case err := <-o.done:
			o.ended, o.err = true, err
			t.Fatalf("the link ended before IPCP was Opened: %v", err)
		case <-ctx.Done():
			t.Fatalf("waiting for IPCP: %v", ctx.Err())
		}
	}
}

// wait waits until Run returns and returns its error.
func (o *ours) wait(t *testing.T, ctx context.Context) error {
	t.Helper()
	if o.ended {
		return o.err
	}
	select {
	case err := <-o.done:
		o.ended, o.err = true, err
		return err
	case <-ctx.Done():
		t.Fatalf("waiting for the link to end: %v", ctx.Err())
		return nil
	}
}

// waitLog waits for s in pppd's log and returns its line; it fails the
// test if it does not come.
func waitLog(t *testing.T, ctx context.Context, vm *pppdvm.VM, s string) string {
	t.Helper()
	line, err := vm.WaitLog(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return line
}

// testLogger returns a logger for our link whose output the test prints
// when it fails or runs with -v.
func testLogger(t *testing.T) *slog.Logger {
	w := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("our link's log:\n%s", w.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.String("t", a.Value.Time().Format("15:04:05.000"))
			}
			return a
		},
	}))
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// pppdLines returns the lines of the VM's console that pppd wrote about
// packets ("sent [...]", "rcvd [...]"), in order.
func pppdLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "sent [") || strings.HasPrefix(l, "rcvd [") {
			out = append(out, l)
		}
	}
	return out
}

// isClosedLine reports whether err is what reading a line closed under us
// looks like: the end of the stream, or a reset when the far end closed
// with our octets unread.
func isClosedLine(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// eventually waits until cond holds, checking it every few milliseconds,
// and fails the test if ctx ends first. It is for state that another
// goroutine updates after an event the test saw (a counter of our link
// after pppd logged the packet that moves it).
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting until %s: %v", what, ctx.Err())
		}
	}
}
