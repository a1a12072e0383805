package tunnel

import (
	"errors"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
)

// Keep-alive and termination settings of the fault tests' engines: an echo
// every second, the peer dead after 3 unanswered; Terminate-Requests every
// half second, 2 of them.
const (
	faultEcho         = time.Second
	faultEchoFailures = 3
	faultRestart      = 500 * time.Millisecond
	faultMaxTerminate = 2
)

var faultArgs = []string{
	"-echo", faultEcho.String(), "-echo-failure", strconv.Itoa(faultEchoFailures),
	"-restart", faultRestart.String(), "-max-terminate", strconv.Itoa(faultMaxTerminate),
}

// echoDeadline is how long after the peer goes quiet an engine may take to
// report it: up to failures+1 echo intervals to give up (the last answer
// may have come just before), the Terminate-Requests nobody answers, and
// slack for a busy machine running race-built processes.
const echoDeadline = faultEcho*(faultEchoFailures+1) + faultRestart*faultMaxTerminate + 4*time.Second

// faultPair is two engines in namespaces a and b. A assigns the addresses
// 192.0.2.1 and 203.0.113.99, routes 198.51.100.0/24 through the link and
// publishes B's address by proxy ARP on its LAN (a veth to a third
// namespace, 203.0.113.1/24), so that an engine that ends badly has a TUN,
// an address, a route and a proxy entry to leave behind in a. beforeA is a's
// snapshot from before A's engine started.
type faultPair struct {
	a, b    *nstest.NS
	ifB     string // the transport veth's end in b
	ea, eb  *engine
	upA     upInfo
	beforeA string
}

func startFaultPair(t *testing.T) *faultPair {
	t.Helper()
	guardHostForwarding(t)
	p := &faultPair{a: nstest.New(t), b: nstest.New(t)}
	lan := nstest.New(t)
	nstest.Veth(t, p.a, lan, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
	_, p.ifB = transportVeth(t, p.a, p.b)
	p.beforeA = snapshot(t, p.a)
	argsA := append([]string{"-local", "192.0.2.1", "-remote", "203.0.113.99", "-route", "198.51.100.0/24", "-proxyarp"}, faultArgs...)
	p.ea, p.eb, p.upA, _ = startEngines(t, p.a, p.b, argsA, faultArgs)
	if _, ok := routesVia(t, p.a, p.upA.Iface)[netip.MustParsePrefix("198.51.100.0/24")]; !ok {
		t.Fatalf("A has no route through %s while the link is up:\n%s", p.upA.Iface, p.a.Run("ip", "-4", "route"))
	}
	if out := p.a.Run("ip", "-4", "neigh", "show", "proxy"); !strings.Contains(out, "203.0.113.99") {
		t.Fatalf("A publishes no proxy ARP entry for B while the link is up:\n%s", out)
	}
	return p
}

// startFlow starts an endless TCP transfer from a process in from to one
// in to listening on dst, and waits until 4 MiB have arrived.
func startFlow(t *testing.T, from, to *nstest.NS, dst string) {
	t.Helper()
	sink := to.Start(to.Helper(sinkHelper, "-listen", dst, "-mark", "4194304"))
	if err := sink.WaitOutput("listening ", e2eTimeout); err != nil {
		t.Fatal(err)
	}
	from.Start(from.Helper(sourceHelper, "-dial", dst, "-bytes", "0"))
	if err := sink.WaitOutput("\nmark", e2eTimeout); err != nil {
		t.Fatal(err)
	}
}

// checkEnded checks that e's link ended, within limit of since, for the
// reason class with an "ended:" text containing want, that its TUN was gone
// when Run returned, and, if before is not empty, that its namespace is as
// it was before the engine started.
func checkEnded(t *testing.T, who string, e *engine, since time.Time, limit time.Duration, class, want, before string) {
	t.Helper()
	gotClass, ended := e.waitEnd(t, limit+e2eTimeout)
	took := time.Since(since)
	t.Logf("%s: ended after %v: %s", who, took.Round(time.Millisecond), ended)
	if gotClass != class || !strings.Contains(ended, want) {
		t.Errorf("%s ended with %s (%s), want %s containing %q", who, gotClass, ended, class, want)
	}
	if took > limit {
		t.Errorf("%s took %v to end, want at most %v", who, took.Round(time.Millisecond), limit)
	}
	if !e.tunGone() {
		t.Errorf("%s's TUN outlived Run: %s", who, outputLine(e.Output(), "tun "))
	}
	if before != "" {
		assertSnapshot(t, e.ns, before, who+"'s link ended")
	}
}

// exitStatus waits for e to exit and returns its exit status, -1 if a
// signal ended it. It fails the test if e does not exit within e2eTimeout.
func exitStatus(t *testing.T, e *engine) int {
	t.Helper()
	select {
	case <-e.Done():
	case <-time.After(e2eTimeout):
		t.Fatalf("engine in %s still running %v later; output:\n%s", e.ns.Name(), e2eTimeout, e.Output())
	}
	var ee *exec.ExitError
	switch err := e.Wait(); {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		t.Fatalf("engine in %s: %v", e.ns.Name(), err)
		return -1
	}
}

// TestE2EFaultPeerKilled kills B's engine (SIGKILL) in the middle of a
// transfer: the kernel closes its TCP connection, and A reports the stream's
// failure at once and cleans up.
func TestE2EFaultPeerKilled(t *testing.T) {
	t.Parallel()
	p := startFaultPair(t)
	startFlow(t, p.a, p.b, "203.0.113.99:5001")
	cut := time.Now()
	if err := p.eb.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	checkEnded(t, "A", p.ea, cut, 5*time.Second, "stream", "link: stream ", p.beforeA)
}

// TestE2EFaultSilentCut takes the transport veth down in B's namespace in
// the middle of a transfer. Neither end hears anything more, not even a
// TCP reset: each must find the peer dead by its LCP echoes, although its
// stream is full of data the other end no longer reads.
func TestE2EFaultSilentCut(t *testing.T) {
	t.Parallel()
	p := startFaultPair(t)
	startFlow(t, p.a, p.b, "203.0.113.99:5001")
	startFlow(t, p.b, p.a, "192.0.2.1:5002")
	cut := time.Now()
	p.b.Run("ip", "link", "set", p.ifB, "down")
	checkEnded(t, "A", p.ea, cut, echoDeadline, "echo-timeout", "lcp: peer not responding to 3 echo-requests", p.beforeA)
	checkEnded(t, "B", p.eb, cut, echoDeadline, "echo-timeout", "lcp: peer not responding to 3 echo-requests", "")
}

// TestE2EFaultPeerStopped stops B's engine (SIGSTOP) on an idle link: it
// answers no echo, and A gives up within the echo deadline and cleans up.
// Once B runs again, it finds in its stream A's Terminate-Requests followed
// by the stream's end, and ends too.
func TestE2EFaultPeerStopped(t *testing.T) {
	t.Parallel()
	p := startFaultPair(t)
	stop := time.Now()
	if err := p.eb.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	checkEnded(t, "A", p.ea, stop, echoDeadline, "echo-timeout", "lcp: peer not responding to 3 echo-requests", p.beforeA)
	resume := time.Now()
	if err := p.eb.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// B handles the Terminate-Requests queued ahead of the stream's end
	// first, so A's reason is B's reason.
	class, ended := p.eb.waitEnd(t, e2eTimeout)
	t.Logf("B: ended %v after SIGCONT: %s", time.Since(resume).Round(time.Millisecond), ended)
	want := `peer sent Terminate-Request: "peer not responding to 3 echo-requests"`
	if class != "peer-terminated" || !strings.Contains(ended, want) {
		t.Errorf("B ended with %s (%s), want A's Terminate-Request (%s)", class, ended, want)
	}
	if !p.eb.tunGone() {
		t.Errorf("B's TUN outlived Run: %s", outputLine(p.eb.Output(), "tun "))
	}
}

// TestE2EFaultPeerTerminates ends B's engine with SIGTERM: B sends a
// Terminate-Request and exits 0; A reports B's reason ("User request", as
// pppd says) and cleans up.
func TestE2EFaultPeerTerminates(t *testing.T) {
	t.Parallel()
	p := startFaultPair(t)
	term := time.Now()
	if err := p.eb.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	checkEnded(t, "A", p.ea, term, 5*time.Second, "peer-terminated", `peer sent Terminate-Request: "User request"`, p.beforeA)
	if st := exitStatus(t, p.eb); st != 0 {
		t.Errorf("B exited with status %d after SIGTERM, want 0; output:\n%s", st, p.eb.Output())
	}
}

// TestE2EFaultSIGTERM sends SIGTERM to A's engine while data flows both
// ways: A terminates the link through the busy stream, takes back its
// address, route and proxy entry, deletes its TUN and exits 0; B reports
// A's termination.
func TestE2EFaultSIGTERM(t *testing.T) {
	t.Parallel()
	p := startFaultPair(t)
	startFlow(t, p.a, p.b, "203.0.113.99:5001")
	startFlow(t, p.b, p.a, "192.0.2.1:5002")
	term := time.Now()
	if err := p.ea.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := exitStatus(t, p.ea); st != 0 {
		t.Errorf("A exited with status %d after SIGTERM, want 0; output:\n%s", st, p.ea.Output())
	}
	checkEnded(t, "A", p.ea, term, 5*time.Second, "canceled", "context canceled", p.beforeA)
	checkEnded(t, "B", p.eb, term, 5*time.Second, "peer-terminated", `peer sent Terminate-Request: "User request"`, "")
}
