package interop

// The engine against pppd: our tunnel.Engine with a kernel TUN device in a
// network namespace on the host end of the VM's line. The engine runs as a
// helper process inside the namespace, so that its TUN and every netlink
// change it makes belong there whichever thread makes them; it gets the
// line as an inherited file descriptor.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/internal/pppdvm"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/vishvananda/netlink"
)

// engineWait bounds each wait on the engine's output that moves no bulk
// data: the link coming up, a ping, the link ending.
const engineWait = 45 * time.Second

// bulkSize is what the TCP test sends to the guest's echo service, and so
// also what comes back.
const bulkSize = 5 << 20

// engineHelper runs our engine (see runEngine).
var engineHelper = nstest.Register("interop-engine", runEngine)

// runEngine is the engine process. It takes the line as file descriptor 3,
// opens a TUN (the first free ppp%d), and runs a tunnel.Engine with a
// NetHost on them. It prints one line for each step on standard output:
//
//	up IFACE LOCAL PEER MTU       IPCP is Opened and the host configured
//	down IFACE                    IPCP left Opened
//	tun gone|tun left IFACE       after Run: whether the TUN still exists
//	reason CLASS                  why Run returned (see endClass)
//	ended: ERROR                  Run's error; the last line
//
// SIGTERM cancels Run's context; the engine then terminates the link. The
// process exits once Run has returned. Its debug log goes to standard error.
func runEngine(args []string) int {
	fs := flag.NewFlagSet("interop-engine", flag.ContinueOnError)
	var ic ipcp.Config
	fs.Func("local", "our IPCP address", func(s string) (err error) {
		ic.Local, err = netip.ParseAddr(s)
		return err
	})
	fs.Func("remote", "pppd's IPCP address", func(s string) (err error) {
		ic.Remote, err = netip.ParseAddr(s)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f := os.NewFile(3, "line")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		fmt.Printf("error: line: %v\n", err)
		return 2
	}
	tun, err := tunnel.OpenTUN(tunnel.TUNConfig{Logger: log})
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	host, err := tunnel.NewNetHost(tunnel.NetConfig{Logger: log})
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	lc := lcp.DefaultConfig()
	var eng *tunnel.Engine
	eng = tunnel.New(conn, tun, tunnel.Config{
		Link: link.Config{LCP: &lc, IPCP: ic},
		Host: host,
		Info: tunnel.LinkInfo{Interface: tun.Name(), TTY: pppdvm.Device},
		Events: func(ev link.Event) {
			switch ev.Kind {
			case link.EventIPCPUp:
				fmt.Printf("up %s %s %s %d\n", tun.Name(), ev.IPCP.Local, ev.IPCP.Peer, eng.Status().MTU)
			case link.EventIPCPDown:
				fmt.Printf("down %s\n", tun.Name())
			}
		},
		Logger: log,
	})
	runErr := eng.Run(ctx)
	if _, err := netlink.LinkByName(tun.Name()); errors.As(err, new(netlink.LinkNotFoundError)) {
		fmt.Printf("tun gone %s\n", tun.Name())
	} else {
		fmt.Printf("tun left %s (%v)\n", tun.Name(), err)
	}
	fmt.Printf("reason %s\n", endClass(runErr))
	fmt.Printf("ended: %v\n", runErr)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return 1
	}
	return 0
}

// endClass names the kind of error an engine's Run returned.
func endClass(err error) string {
	var ne *ppp.NegotiationError
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Protocol == ppp.ProtoLCP && strings.Contains(ne.Reason, "Terminate-Request"):
		return "peer-terminated"
	}
	return "other"
}

// engine is our engine's process in a namespace.
type engine struct {
	ns   *nstest.NS
	proc *nstest.Proc
}

// upInfo is what the engine printed when IPCP came up.
type upInfo struct {
	iface       string
	local, peer netip.Addr
	mtu         int
}

// startEngine makes a namespace and starts our engine in it on vm's line,
// with the helper's flags args.
func startEngine(t *testing.T, vm *pppdvm.VM, args ...string) *engine {
	t.Helper()
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	uc, ok := vm.Line().(*net.UnixConn)
	if !ok {
		t.Fatalf("the VM's line is a %T, want a *net.UnixConn", vm.Line())
	}
	f, err := uc.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := ns.Helper(engineHelper, args...)
	cmd.ExtraFiles = []*os.File{f}
	e := &engine{ns: ns, proc: ns.Start(cmd)}
	t.Cleanup(func() {
		e.proc.Stop(10 * time.Second)
		// nstest logs the output of a failed test's processes.
		if testing.Verbose() && !t.Failed() {
			t.Logf("our engine's output:\n%s", e.proc.Output())
		}
	})
	return e
}

// waitUp waits for the engine's "up" line and parses it.
func (e *engine) waitUp(t *testing.T) upInfo {
	t.Helper()
	if err := e.proc.WaitOutput("\nup ", engineWait); err != nil && !strings.HasPrefix(e.proc.Output(), "up ") {
		t.Fatal(err)
	}
	for _, l := range strings.Split(e.proc.Output(), "\n") {
		f := strings.Fields(l)
		if len(f) != 5 || f[0] != "up" {
			continue
		}
		var u upInfo
		var err1, err2, err3 error
		u.iface = f[1]
		u.local, err1 = netip.ParseAddr(f[2])
		u.peer, err2 = netip.ParseAddr(f[3])
		u.mtu, err3 = strconv.Atoi(f[4])
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		return u
	}
	t.Fatalf("no up line in:\n%s", e.proc.Output())
	return upInfo{}
}

// waitEnd waits until the engine's Run has returned and gives the class of
// its error.
func (e *engine) waitEnd(t *testing.T) string {
	t.Helper()
	if err := e.proc.WaitOutput("ended: ", engineWait); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(e.proc.Output(), "\n") {
		if c, ok := strings.CutPrefix(l, "reason "); ok {
			return c
		}
	}
	return ""
}

// ping pings addr from the namespace and fails the test unless every reply
// comes.
func (e *engine) ping(t *testing.T, addr netip.Addr) {
	t.Helper()
	nstest.RequireTool(t, "ping", "iputils-ping")
	out, err := e.ns.Command("ping", "-n", "-c", "3", "-i", "0.3", "-W", "10", addr.String()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0% packet loss") {
		t.Fatalf("ping %s: %v\n%s", addr, err, out)
	}
}

// dial connects to the guest's service at addr:port from the namespace.
func (e *engine) dial(t *testing.T, network string, addr netip.Addr, port int) net.Conn {
	t.Helper()
	var c net.Conn
	e.ns.MustDo(func() (err error) {
		c, err = net.DialTimeout(network, netip.AddrPortFrom(addr, uint16(port)).String(), engineWait)
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// tcpEcho sends bulkSize octets to the guest's TCP echo service and checks
// that the same octets come back.
func (e *engine) tcpEcho(t *testing.T, peer netip.Addr) {
	t.Helper()
	c := e.dial(t, "tcp", peer, pppdvm.EchoPort)
	want := pattern(bulkSize, 1)
	start := time.Now()
	c.SetDeadline(start.Add(3 * time.Minute))
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		sent <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("TCP echo: read %d of %d octets: %v", len(got), bulkSize, err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("TCP echo: send: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("TCP echo: got %d octets back, want the %d sent", len(got), len(want))
	}
	d := time.Since(start)
	t.Logf("TCP echo: %d octets each way in %.1fs (%.0f kB/s each way)", bulkSize, d.Seconds(), float64(bulkSize)/1e3/d.Seconds())
}

// udpEcho sends datagrams of several sizes to the guest's UDP echo
// service and checks that each comes back whole.
func (e *engine) udpEcho(t *testing.T, peer netip.Addr) {
	t.Helper()
	c := e.dial(t, "udp", peer, pppdvm.EchoPort)
	for _, size := range []int{1, 100, 1000, 1400} {
		want := pattern(size, uint64(size))
		if err := udpRoundTrip(c, want); err != nil {
			t.Fatalf("UDP echo of %d octets: %v", size, err)
		}
	}
}

// udpRoundTrip sends want on c until it comes back, five times at most.
// Datagrams of another length (late echoes of earlier sizes) are ignored.
func udpRoundTrip(c net.Conn, want []byte) error {
	buf := make([]byte, 2048)
	for range 5 {
		if _, err := c.Write(want); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break // send again
			}
			if n != len(want) {
				continue
			}
			if !bytes.Equal(buf[:n], want) {
				return errors.New("the echo differs from what was sent")
			}
			return nil
		}
	}
	return errors.New("no echo of five datagrams")
}

// pattern returns n pseudo-random octets, the same for the same seed.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestEngineWeAssign runs our engine against pppd with Debian's defaults and
// noipdefault: we assign pppd its address. Ping, a TCP transfer each way
// and UDP datagrams go through the TUN; then our engine is SIGTERMed and
// pppd logs the link's end.
func TestEngineWeAssign(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, "noipdefault")
	// Here our end is 192.0.2.1 and pppd's 192.0.2.2.
	ours, theirs := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	e := startEngine(t, vm, "-local", ours.String(), "-remote", theirs.String())
	u := e.waitUp(t)
	if u.local != ours || u.peer != theirs || u.mtu != 1500 {
		t.Errorf("up %s %s %s %d, want local %s peer %s MTU 1500", u.iface, u.local, u.peer, u.mtu, ours, theirs)
	}
	// pppd logs the addresses once its interface passes IP.
	ctx := testContext(t)
	waitLog(t, ctx, vm, "local  IP address "+theirs.String())
	waitLog(t, ctx, vm, "remote IP address "+ours.String())
	e.ping(t, theirs)
	// And the other way: busybox ping inside the VM, across pppd's ppp0
	// to our TUN.
	if out, err := vm.Exec(ctx, "ping", "-c", "3", "-W", "10", ours.String()); err != nil || !strings.Contains(out, "3 packets received") {
		t.Errorf("ping from the VM to %s: %v\n%s", ours, err, out)
	}
	e.udpEcho(t, theirs)
	e.tcpEcho(t, theirs)

	if err := e.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := e.waitEnd(t); c != "canceled" {
		t.Errorf("our engine ended with %q, want canceled", c)
	}
	waitLog(t, ctx, vm, "LCP terminated by peer")
	waitLog(t, ctx, vm, "Connection terminated")
	if out := e.proc.Output(); !strings.Contains(out, "tun gone ") {
		t.Errorf("our TUN is left after the engine ended")
	}
}

// TestEnginePPPDAssigns runs our engine, with no addresses of its own,
// against pppd that assigns both and asks for an MRU of 576: our TUN takes
// pppd's address for ours and the MTU pppd can receive. Ping goes through;
// then pppd is SIGTERMed, our engine reports its Terminate-Request and
// removes the TUN.
func TestEnginePPPDAssigns(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, pppdAssigns, "mru", "576")
	e := startEngine(t, vm)
	u := e.waitUp(t)
	if u.local != ourAddr || u.peer != pppdAddr {
		t.Errorf("up %s %s %s, want local %s peer %s", u.iface, u.local, u.peer, ourAddr, pppdAddr)
	}
	if u.mtu != 576 {
		t.Errorf("the engine's MTU is %d, want pppd's MRU 576", u.mtu)
	}
	out := e.ns.Run("ip", "-o", "link", "show", "dev", u.iface)
	if !strings.Contains(out, " mtu 576 ") {
		t.Errorf("ip link show dev %s: %s; want mtu 576", u.iface, out)
	}
	// pppd logs the addresses once its interface passes IP.
	ctx := testContext(t)
	waitLog(t, ctx, vm, "remote IP address "+ourAddr.String())
	e.ping(t, pppdAddr)

	if err := vm.SignalPPPD(ctx, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := e.waitEnd(t); c != "peer-terminated" {
		t.Errorf("our engine ended with %q, want peer-terminated", c)
	}
	waitLog(t, ctx, vm, "Terminating on signal 15")
	if out := e.proc.Output(); !strings.Contains(out, "tun gone ") {
		t.Errorf("our TUN is left after the engine ended")
	}
	if out, err := e.ns.Command("ip", "-o", "link", "show", "dev", u.iface).CombinedOutput(); err == nil {
		t.Errorf("ip link show dev %s after the end: %s", u.iface, out)
	}
}
