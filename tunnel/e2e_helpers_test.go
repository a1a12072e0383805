package tunnel

// Helpers of the end-to-end tests: engine processes in network namespaces,
// joined by TCP over a veth pair, and processes that move data through the
// tunnel and hash it.
//
// The transport between the two engines runs over IPv6 (2001:db8::/64, the
// documentation prefix) on its own veth pair, so that it shares no address,
// route or neighbour entry with the IPv4 the tunnel carries and configures.

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/vishvananda/netlink"
)

// Transport addresses: the listening engine's and the dialling engine's ends
// of the veth pair that carries the PPP byte stream.
const (
	transportA    = "2001:db8::1"
	transportB    = "2001:db8::2"
	transportPort = "7000"
)

// e2eTimeout bounds each wait on a helper's output that involves no bulk
// data: a link coming up, a ping, a link ending.
const e2eTimeout = 30 * time.Second

// engineHelper runs one tunnel end (see runEngine).
var engineHelper = nstest.Register("e2e-engine", runEngine)

// runEngine is the engine process of the end-to-end tests. It opens a TUN
// (the first free ppp%d), makes a NetHost from its flags, and runs an Engine
// on a TCP connection it accepts (-listen) or makes (-dial). It prints one
// line for each step, on standard output:
//
//	listening ADDR                  (with -listen)
//	connected LOCAL REMOTE          the stream is open
//	up IFACE LOCAL PEER MTU         IPCP is Opened and the host configured
//	down IFACE                      IPCP left Opened
//	tun gone|tun left IFACE         after Run: whether the TUN still exists
//	reason CLASS                    why Run returned, as endClass names it
//	ended: ERROR                    Run's error; the last line
//
// SIGTERM (or SIGINT) cancels Run's context: the engine terminates the link
// and the process exits 0 if Run then returned the context's error. If the
// link ends otherwise, the process stays (so that a test can look at the
// namespace while the engine that cleaned it still runs) until SIGTERM, and
// then exits 1. Its log, at debug level, goes to standard error.
func runEngine(args []string) int {
	fs := flag.NewFlagSet("e2e-engine", flag.ContinueOnError)
	listen := fs.String("listen", "", "accept the stream on this TCP address")
	dial := fs.String("dial", "", "connect the stream to this TCP address")
	var ic ipcp.Config
	fs.Func("local", "our IPCP address (IPCP Local)", func(s string) (err error) {
		ic.Local, err = netip.ParseAddr(s)
		return err
	})
	fs.Func("remote", "the peer's IPCP address (IPCP Remote)", func(s string) (err error) {
		ic.Remote, err = netip.ParseAddr(s)
		return err
	})
	mru := fs.Int("mru", 0, "the MRU to request (lcp Want.MRU); 0 leaves pppd's default")
	echo := fs.Duration("echo", 0, "LCP echo interval (lcp-echo-interval)")
	echoFail := fs.Int("echo-failure", 0, "unanswered echoes that end the link (lcp-echo-failure)")
	restart := fs.Duration("restart", 0, "restart interval of the automata (lcp-restart)")
	maxTerm := fs.Int("max-terminate", 0, "Terminate-Requests sent before giving up (lcp-max-terminate)")
	proxyARP := fs.Bool("proxyarp", false, "publish the peer's address by proxy ARP")
	var routes []netip.Prefix
	fs.Func("route", "route this prefix through the link (repeatable)", func(s string) error {
		p, err := netip.ParsePrefix(s)
		routes = append(routes, p)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var conn net.Conn
	switch {
	case *listen != "":
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Printf("error: %v\n", err)
			return 2
		}
		fmt.Printf("listening %s\n", l.Addr())
		conn, err = l.Accept()
		l.Close()
		if err != nil {
			fmt.Printf("error: %v\n", err)
			return 2
		}
	case *dial != "":
		var err error
		conn, err = (&net.Dialer{Timeout: e2eTimeout}).DialContext(ctx, "tcp", *dial)
		if err != nil {
			fmt.Printf("error: %v\n", err)
			return 2
		}
	default:
		fmt.Println("error: give -listen or -dial")
		return 2
	}
	fmt.Printf("connected %s %s\n", conn.LocalAddr(), conn.RemoteAddr())

	tun, err := OpenTUN(TUNConfig{Logger: log})
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	host, err := NewNetHost(NetConfig{Routes: routes, ProxyARP: *proxyARP, Logger: log})
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	lc := lcp.DefaultConfig()
	if *mru > 0 {
		lc.Want.MRU = uint16(*mru)
	}
	lc.EchoInterval, lc.EchoFailure = *echo, *echoFail

	var eng *Engine
	eng = New(conn, tun, Config{
		Link: link.Config{LCP: &lc, IPCP: ic, RestartInterval: *restart, MaxTerminate: *maxTerm},
		Host: host,
		Info: LinkInfo{Interface: tun.Name(), TTY: "tcp:" + conn.RemoteAddr().String()},
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
	if errors.Is(runErr, context.Canceled) {
		return 0
	}
	<-ctx.Done()
	return 1
}

// endClass names the kind of error an Engine's Run returned.
func endClass(err error) string {
	var (
		negErr  *ppp.NegotiationError
		echoErr *lcp.EchoTimeoutError
		strErr  *link.StreamError
	)
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, link.ErrClosed):
		return "closed"
	case errors.As(err, &echoErr):
		return "echo-timeout"
	case errors.As(err, &strErr):
		return "stream"
	case errors.As(err, &negErr) && strings.HasPrefix(negErr.Reason, "peer sent Terminate-Request"):
		return "peer-terminated"
	case errors.As(err, &negErr):
		return "negotiation"
	}
	return "other"
}

// sinkHelper accepts one TCP connection on -listen, hashes all it receives
// and prints "received N SHA256". It prints "listening ADDR" once it listens
// and "mark" once -mark octets have arrived.
var sinkHelper = nstest.Register("e2e-sink", func(args []string) int {
	fs := flag.NewFlagSet("e2e-sink", flag.ContinueOnError)
	listen := fs.String("listen", "", "TCP address to accept one connection on")
	mark := fs.Int64("mark", 0, `print "mark" once this many octets arrived`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	fmt.Printf("listening %s\n", l.Addr())
	c, err := l.Accept()
	l.Close()
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var n int64
	marked := *mark <= 0
	for {
		k, err := c.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if !marked && n >= *mark {
			marked = true
			fmt.Println("mark")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Printf("error after %d octets: %v\n", n, err)
			return 1
		}
	}
	c.Close()
	fmt.Printf("received %d %x\n", n, h.Sum(nil))
	return 0
})

// sourceHelper connects to -dial and sends -bytes octets of the stream
// prandom(-seed) (without end if -bytes is 0), then closes its side and
// prints "sent N SHA256".
var sourceHelper = nstest.Register("e2e-source", func(args []string) int {
	fs := flag.NewFlagSet("e2e-source", flag.ContinueOnError)
	dial := fs.String("dial", "", "TCP address to send to")
	size := fs.Int64("bytes", 0, "octets to send; 0 sends until the connection fails")
	seed := fs.Uint64("seed", 1, "seed of the pseudo-random data")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := net.DialTimeout("tcp", *dial, e2eTimeout)
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 2
	}
	fmt.Printf("connected %s %s\n", c.LocalAddr(), c.RemoteAddr())
	h := sha256.New()
	src := prandom(*seed)
	buf := make([]byte, 256<<10)
	var n int64
	for *size == 0 || n < *size {
		chunk := buf
		if *size > 0 {
			chunk = buf[:min(int64(len(buf)), *size-n)]
		}
		src.XORKeyStream(chunk, zeros[:len(chunk)])
		k, err := c.Write(chunk)
		h.Write(chunk[:k])
		n += int64(k)
		if err != nil {
			fmt.Printf("error after %d octets: %v\n", n, err)
			return 1
		}
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		fmt.Printf("error: close: %v\n", err)
		return 1
	}
	// The sink closes once it has read everything.
	io.Copy(io.Discard, c)
	c.Close()
	fmt.Printf("sent %d %x\n", n, h.Sum(nil))
	return 0
})

var zeros [256 << 10]byte

// prandom returns the deterministic pseudo-random stream the source sends:
// AES-128-CTR keyed by seed, which the assembly of crypto/aes makes fast
// even in a binary built with -race.
func prandom(seed uint64) cipher.Stream {
	var key [16]byte
	binary.BigEndian.PutUint64(key[:], seed)
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	return cipher.NewCTR(b, make([]byte, aes.BlockSize))
}

// transportVeth joins a and b with a veth pair carrying transportA (in a)
// and transportB (in b), usable at once (no duplicate address detection),
// and returns the pair's names in a and in b.
func transportVeth(t *testing.T, a, b *nstest.NS) (ifA, ifB string) {
	t.Helper()
	ifA, ifB = nstest.Veth(t, a, b, netip.Prefix{}, netip.Prefix{})
	a.Run("ip", "addr", "add", transportA+"/64", "dev", ifA, "nodad")
	b.Run("ip", "addr", "add", transportB+"/64", "dev", ifB, "nodad")
	return ifA, ifB
}

// guardHostForwarding fails the test if this machine's own IPv4 forwarding
// setting is not the same when the test ends: turning it on for proxy ARP or
// for routing between LANs must happen in the test's namespaces only.
func guardHostForwarding(t *testing.T) {
	t.Helper()
	before, err := os.ReadFile(ipForwardPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if now, _ := os.ReadFile(ipForwardPath); string(now) != string(before) {
			t.Errorf("the test changed this machine's own %s from %q to %q", ipForwardPath, before, now)
		}
	})
}

// engine is a running engine helper process.
type engine struct {
	*nstest.Proc
	ns *nstest.NS
}

// upInfo is what an engine's "up" line says.
type upInfo struct {
	Iface       string
	Local, Peer netip.Addr
	MTU         int
}

// startEngines starts the listening engine in a with argsA, then the
// dialling engine in b with argsB, joined by TCP over the transport veth
// (see transportVeth), and waits until IPCP is up at both ends.
func startEngines(t *testing.T, a, b *nstest.NS, argsA, argsB []string) (ea, eb *engine, upA, upB upInfo) {
	t.Helper()
	ea = &engine{ns: a, Proc: a.Start(a.Helper(engineHelper, append([]string{"-listen", "[" + transportA + "]:" + transportPort}, argsA...)...))}
	if err := ea.WaitOutput("listening ", e2eTimeout); err != nil {
		t.Fatal(err)
	}
	eb = &engine{ns: b, Proc: b.Start(b.Helper(engineHelper, append([]string{"-dial", "[" + transportA + "]:" + transportPort}, argsB...)...))}
	return ea, eb, ea.waitUp(t), eb.waitUp(t)
}

// waitUp waits for the engine's "up" line and parses it.
func (e *engine) waitUp(t *testing.T) upInfo {
	t.Helper()
	if err := e.WaitOutput("\nup ", e2eTimeout); err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(outputLine(e.Output(), "up "))
	var u upInfo
	var err error
	if len(f) == 5 {
		u.Iface = f[1]
		u.Local, err = netip.ParseAddr(f[2])
		if err == nil {
			u.Peer, err = netip.ParseAddr(f[3])
		}
		if err == nil {
			u.MTU, err = strconv.Atoi(f[4])
		}
	}
	if len(f) != 5 || err != nil {
		t.Fatalf("engine in %s: bad up line %q (%v)", e.ns.Name(), strings.Join(f, " "), err)
	}
	return u
}

// waitEnd waits, at most timeout, for the engine's link to end and returns
// its reason class and its "ended:" text.
func (e *engine) waitEnd(t *testing.T, timeout time.Duration) (class, ended string) {
	t.Helper()
	if err := e.WaitOutput("\nended: ", timeout); err != nil {
		t.Fatal(err)
	}
	out := e.Output()
	return strings.TrimPrefix(outputLine(out, "reason "), "reason "), strings.TrimPrefix(outputLine(out, "ended: "), "ended: ")
}

// tunGone reports whether the engine said its TUN was gone when Run returned.
func (e *engine) tunGone() bool {
	return strings.HasPrefix(outputLine(e.Output(), "tun "), "tun gone ")
}

// outputLine returns the first line of out that starts with prefix, or "".
func outputLine(out, prefix string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return sc.Text()
		}
	}
	return ""
}

// linkMTU returns the MTU of the interface name in ns.
func linkMTU(t *testing.T, ns *nstest.NS, name string) int {
	t.Helper()
	var mtu int
	ns.MustDo(func() error {
		l, err := netlink.LinkByName(name)
		if err == nil {
			mtu = l.Attrs().MTU
		}
		return err
	})
	return mtu
}

// requirePing fails the test, with the package to install, if ping is
// missing.
func requirePing(t *testing.T) {
	t.Helper()
	nstest.RequireTool(t, "ping", "iputils-ping")
}

// ping runs ping in ns with args (addresses and options) and returns its
// output and whether it succeeded.
func ping(ns *nstest.NS, args ...string) (string, bool) {
	out, err := ns.Command("ping", args...).CombinedOutput()
	return string(out), err == nil
}

// mustPing pings dst from ns count times and fails the test unless every
// reply came back.
func mustPing(t *testing.T, ns *nstest.NS, dst string, extra ...string) {
	t.Helper()
	args := append([]string{"-c", "3", "-i", "0.2", "-W", "5", "-n"}, extra...)
	out, ok := ping(ns, append(args, dst)...)
	if !ok || !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping %s from %s failed:\n%s", strings.Join(append(extra, dst), " "), ns.Name(), out)
	}
}

// transferResult is what a transfer moved.
type transferResult struct {
	Sent, Received int64
	Elapsed        time.Duration
}

// transfer sends size octets of pseudo-random data over TCP from a process
// in from to a process in to that listens on dst (host:port), and fails the
// test unless the receiver got exactly what the sender sent (count and
// SHA-256).
func transfer(t *testing.T, from, to *nstest.NS, dst string, size int64, seed uint64, timeout time.Duration) transferResult {
	t.Helper()
	sink := to.Start(to.Helper(sinkHelper, "-listen", dst))
	if err := sink.WaitOutput("listening ", e2eTimeout); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	src := from.Start(from.Helper(sourceHelper, "-dial", dst, "-bytes", strconv.FormatInt(size, 10), "-seed", strconv.FormatUint(seed, 10)))
	// The source ends once the sink has read everything and closed, or
	// when it fails.
	select {
	case <-src.Done():
	case <-time.After(timeout):
		t.Fatalf("transfer to %s not done after %v\nsource:\n%s\nsink:\n%s", dst, timeout, src.Output(), sink.Output())
	}
	elapsed := time.Since(begin)
	if err := sink.WaitOutput("\nreceived ", e2eTimeout); err != nil {
		t.Fatalf("%v\nsource:\n%s", err, src.Output())
	}
	if err := sink.Wait(); err != nil {
		t.Errorf("sink: %v", err)
	}
	if err := src.Wait(); err != nil {
		t.Errorf("source: %v", err)
	}
	sent := strings.Fields(outputLine(src.Output(), "sent "))
	got := strings.Fields(outputLine(sink.Output(), "received "))
	if len(sent) != 3 || len(got) != 3 {
		t.Fatalf("cannot read the transfer's results: sent %q, received %q", sent, got)
	}
	var r transferResult
	r.Sent, _ = strconv.ParseInt(sent[1], 10, 64)
	r.Received, _ = strconv.ParseInt(got[1], 10, 64)
	r.Elapsed = elapsed
	if r.Sent != size || r.Received != size || sent[2] != got[2] {
		t.Errorf("transfer to %s: sent %d octets (sha256 %s), received %d (sha256 %s); want %d octets each, equal hashes",
			dst, r.Sent, sent[2], r.Received, got[2], size)
	}
	return r
}

// mbps is a rate in Mbit/s, for logs.
func mbps(n int64, d time.Duration) float64 {
	return float64(n) * 8 / d.Seconds() / 1e6
}
