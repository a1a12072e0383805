package interop

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

// wantPeerTerminated checks that Run ended because pppd sent an LCP
// Terminate-Request, whose reason pppd's log gives as wantReason.
func wantPeerTerminated(t *testing.T, err error) {
	t.Helper()
	var ne *ppp.NegotiationError
	if !errors.As(err, &ne) || ne.Protocol != ppp.ProtoLCP || !strings.Contains(ne.Reason, "Terminate-Request") {
		t.Errorf("Run = %v, want LCP's NegotiationError for the peer's Terminate-Request", err)
	}
}

// TestTermination ends links both ways with one pppd that starts over
// after each ("persist"): we close our link; pppd hangs up on SIGHUP and
// starts over; pppd ends on SIGTERM and exits.
func TestTermination(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, pppdAssigns, "persist", "holdoff", "0", "maxfail", "0")
	ctx := testContext(t)

	// We close the link: pppd acknowledges and starts over.
	o := runLink(t, ctx, vm, link.Config{})
	o.waitIPCP(t, ctx)
	o.l.Close()
	if err := o.wait(t, ctx); !errors.Is(err, link.ErrClosed) {
		t.Errorf("after Close: Run = %v, want ErrClosed", err)
	}
	waitLog(t, ctx, vm, "LCP terminated by peer (User request)")
	waitLog(t, ctx, vm, "Connection terminated.")

	// pppd hangs up on SIGHUP and, persisting, starts over.
	if _, err := vm.Redial(); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, ctx, vm, "Connect: ppp0 <--> /dev/hvc0", 2)
	o = runLink(t, ctx, vm, link.Config{})
	o.waitIPCP(t, ctx)
	if err := vm.SignalPPPD(ctx, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	wantPeerTerminated(t, o.wait(t, ctx))
	waitLog(t, ctx, vm, "Hangup (SIGHUP)")

	// pppd ends the link on SIGTERM and exits; the guest powers off.
	if _, err := vm.Redial(); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, ctx, vm, "Connect: ppp0 <--> /dev/hvc0", 3)
	o = runLink(t, ctx, vm, link.Config{})
	o.waitIPCP(t, ctx)
	if err := vm.SignalPPPD(ctx, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wantPeerTerminated(t, o.wait(t, ctx))
	waitLog(t, ctx, vm, "Terminating on signal 15")
	waitLog(t, ctx, vm, "pppdvm: pppd exited with status")
	if err := vm.Wait(); err != nil {
		t.Errorf("qemu: %v", err)
	}
}

// TestMaxConnect lets pppd end the link itself when its connect time
// limit expires (maxconnect).
func TestMaxConnect(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, pppdAssigns, "maxconnect", "3")
	ctx := testContext(t)
	o := runLink(t, ctx, vm, link.Config{})
	o.waitIPCP(t, ctx)
	wantPeerTerminated(t, o.wait(t, ctx))
	waitLog(t, ctx, vm, "Connect time expired")
}

// TestPPPDEchoFailure makes our side go silent (our writes are dropped while
// we go on reading): pppd's Echo-Requests go unanswered, pppd declares the
// link dead and terminates it, and our link ends on its Terminate-Request.
func TestPPPDEchoFailure(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, pppdAssigns, "lcp-echo-interval", "1", "lcp-echo-failure", "2")
	ctx := testContext(t)
	o := runLink(t, ctx, vm, link.Config{})
	o.waitIPCP(t, ctx)
	waitLog(t, ctx, vm, "sent [LCP EchoReq") // pppd's keep-alives are running
	o.tap.mute.Store(true)
	wantPeerTerminated(t, o.wait(t, ctx))
	waitLog(t, ctx, vm, "No response to 2 echo-requests")
	waitLog(t, ctx, vm, "Serial link appears to be disconnected.")
	waitLog(t, ctx, vm, `sent [LCP TermReq id=0x2 "Peer not responding"]`)
}

// TestLineCut cuts the line under an open link: qemu killed (our end reads
// EOF) or frozen (the line goes silent; our keep-alives go unanswered).
func TestLineCut(t *testing.T) {
	t.Parallel()
	t.Run("killed", func(t *testing.T) {
		t.Parallel()
		vm := startPPPD(t, pppdAssigns)
		ctx := testContext(t)
		o := runLink(t, ctx, vm, link.Config{})
		o.waitIPCP(t, ctx)
		vm.Kill()
		err := o.wait(t, ctx)
		var se *link.StreamError
		if !errors.As(err, &se) || !isClosedLine(se.Err) {
			t.Errorf("Run = %v, want a StreamError at the end of the stream", err)
		}
	})
	t.Run("frozen", func(t *testing.T) {
		t.Parallel()
		vm := startPPPD(t, pppdAssigns)
		ctx := testContext(t)
		lc := lcp.DefaultConfig()
		lc.EchoInterval, lc.EchoFailure = 200*time.Millisecond, 3
		o := runLink(t, ctx, vm, link.Config{LCP: &lc, RestartInterval: 200 * time.Millisecond})
		o.waitIPCP(t, ctx)
		if err := vm.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		err := o.wait(t, ctx)
		var ee *lcp.EchoTimeoutError
		if !errors.As(err, &ee) || ee.Unanswered < 3 {
			t.Errorf("Run = %v, want an EchoTimeoutError after 3 unanswered Echo-Requests", err)
		}
	})
}
