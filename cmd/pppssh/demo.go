package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/pppssh/pppssh/internal/netns"
	"github.com/pppssh/pppssh/internal/watchbuf"
	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// The demo's topology: three network namespaces on this machine, joined by
// veth pairs, none with a route out. Addresses are from the documentation
// ranges (RFC 5737).
const (
	demoPrefix   = "pppssh-demo-"
	demoClientNS = demoPrefix + "client" // the road warrior, the HOWTO's local machine
	demoGwNS     = demoPrefix + "gw"     // the gateway, the HOWTO's REMOTE
	demoWsNS     = demoPrefix + "ws"     // a workstation on the gateway's LAN

	demoClientIP = "198.51.100.2" // client's end of the SSH path
	demoGwIP     = "198.51.100.1" // gateway's end of the SSH path
	demoGwLanIP  = "203.0.113.1"  // gateway on its LAN
	demoWsIP     = "203.0.113.2"  // the workstation
	demoLAN      = "203.0.113.0/24"
	demoSSHPort  = "2222"
	demoLinkGw   = "192.0.2.1" // the gateway's end of the PPP link
	demoLinkCl   = "192.0.2.2" // the client's end, from its key

	demoDataPort = "5001"
	demoLockFile = "/run/pppssh-demo.lock"
)

// Bounds of the demo's waits.
const (
	demoStartTimeout = 30 * time.Second // a process to say it is ready
	demoLinkTimeout  = 60 * time.Second // the link to come up
	demoStopTimeout  = 10 * time.Second // a process to end after SIGTERM
)

const demoUsage = `Usage: pppssh demo [--size MB]

Build a throwaway two-site VPN on this machine and show it working: three
network namespaces with no route out of them, a gateway running pppssh
server with a LAN and a workstation behind it, and a client that runs
pppssh connect to the gateway over SSH. The demo shows the PPP negotiation
as pppd's debug log shows it, pings the workstation through the tunnel,
sends MB megabytes (default 100) over TCP to it and checks them, prints a
summary (addresses, MTU, round-trip time, throughput), and removes
everything again (namespaces, keys, processes), also when interrupted with
Ctrl-C or when a step fails. Nothing outside the namespaces is touched.

  client ns ` + demoClientNS + `                 gateway ns ` + demoGwNS + `              workstation ns ` + demoWsNS + `
  eth0 ` + demoClientIP + ` ── SSH (veth) ── eth0 ` + demoGwIP + `
                                   eth1 ` + demoGwLanIP + ` ── LAN ` + demoLAN + ` ── eth0 ` + demoWsIP + `
  ppp0 ` + demoLinkCl + ` ═══ PPP over SSH ═══ ppp0 ` + demoLinkGw + `

It runs as root (network namespaces need it) and uses the ip program of
iproute2 and ping of iputils-ping:

  apt-get install -y iproute2 iputils-ping

Run it from a checkout: go run ./cmd/pppssh demo

Exit codes: 0 the demo ran (or was interrupted and cleaned up), 1 a step
failed (the message says which; everything was removed), 2 bad command
line, 3 not root.
`

// runDemo implements "pppssh demo".
func runDemo(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		fmt.Fprint(stdout, demoUsage)
		return exitOK
	}
	sizeMB := 100
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if name != "size" || !strings.HasPrefix(args[i], "-") {
			return optionError(stderr, badOption("pppssh: demo: unknown option %q (it takes only --size MB; run pppssh demo --help)", args[i]))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return optionError(stderr, badOption("pppssh: demo: option size needs an argument MB"))
			}
			i++
			value = args[i]
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 100000 {
			return optionError(stderr, badOption("pppssh: demo: option size: want a number of megabytes from 1 to 100000, not %q", value))
		}
		sizeMB = n
	}
	if err := netns.RequireRoot(); err != nil {
		fmt.Fprintln(stderr, "pppssh demo builds network namespaces, TUN devices and routes, which needs root: run it as root (sudo pppssh demo)")
		return exitNotPermitted
	}
	var missing []string
	for _, tool := range [][2]string{{"ip", "iproute2"}, {"ping", "iputils-ping"}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			missing = append(missing, tool[1])
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "pppssh demo needs %s; install: apt-get install -y %s\n", strings.Join(missing, " and "), strings.Join(missing, " "))
		return exitFatal
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "pppssh demo: cannot find its own program to run in the namespaces: %v\n", err)
		return exitFatal
	}
	lock, err := lockDemo()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	defer lock.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d := &demo{out: &syncWriter{w: stdout}, exe: exe, size: int64(sizeMB) << 20}
	err = d.run(ctx)
	d.cleanup()
	switch {
	case ctx.Err() != nil:
		d.say("\nInterrupted; everything the demo made is removed.\n")
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "pppssh demo: %v\n", err)
		d.say("\nThe demo failed; everything it made is removed.\n")
		return exitFatal
	}
	d.say("\nDone: namespaces, processes and keys removed; this machine is as it was.\n")
	return exitOK
}

// lockDemo takes the demo's lock file, so that two demos do not share
// their namespaces' names.
func lockDemo() (*os.File, error) {
	f, err := os.OpenFile(demoLockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pppssh demo: lock %s: %v", demoLockFile, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("pppssh demo: another pppssh demo is running (it holds %s); wait for it to end", demoLockFile)
	}
	return f, nil
}

// demo is one run of the demo.
type demo struct {
	out   *syncWriter
	exe   string
	size  int64
	dir   string
	procs []*demoProc // started, in order
	made  []string    // namespaces made
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// run builds the topology, runs the tunnel, shows it working and prints
// the summary. cleanup undoes it all.
func (d *demo) run(ctx context.Context) error {
	d.say("pppssh demo: a two-site VPN in network namespaces on this machine (nothing outside them is touched)\n\n")
	d.say("  %-32s %-34s %s\n", "client ("+demoClientNS+")", "gateway ("+demoGwNS+")", "workstation ("+demoWsNS+")")
	d.say("  %-32s %-34s %s\n", "eth0 "+demoClientIP+"  ── SSH ──", "eth0 "+demoGwIP, "")
	d.say("  %-32s %-34s %s\n", "", "eth1 "+demoGwLanIP+"  ── LAN ──", "eth0 "+demoWsIP)
	d.say("  %-32s %-34s\n\n", "ppp0 "+demoLinkCl+"  ═══ PPP ═══", "ppp0 "+demoLinkGw)

	d.say("1. Network namespaces and veth pairs\n")
	if err := d.topology(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	d.say("\n2. Keys, in a temporary directory\n")
	clientKey, keysFile, hostKey, err := d.keys()
	if err != nil {
		return err
	}

	d.say("\n3. pppssh server on the gateway\n")
	serverArgs := []string{"server", "--listen", demoGwIP + ":" + demoSSHPort, "--host-key", hostKey,
		"--authorized-keys", keysFile, "--local", demoLinkGw}
	d.say("   %s\n", "pppssh "+strings.Join(serverArgs, " "))
	server, err := d.start(demoGwNS, "server", nil, serverArgs...)
	if err != nil {
		return err
	}
	if err := server.waitFor(ctx, "ssh server listening", demoStartTimeout); err != nil {
		return err
	}

	d.say("\n4. pppssh connect from the client, with pppd's debug log of the negotiation\n")
	routes, stopRoutes, err := watchRoutes(demoClientNS)
	if err != nil {
		return err
	}
	defer stopRoutes()
	connectArgs := []string{"connect", "-i", clientKey, "demo@" + demoGwIP + ":" + demoSSHPort, "--route", demoLAN, "debug"}
	d.say("   %s\n", "pppssh "+strings.Join(connectArgs, " "))
	client, err := d.start(demoClientNS, "client", []string{"HOME=" + filepath.Join(d.dir, "client")}, connectArgs...)
	if err != nil {
		return err
	}
	if err := waitRoute(ctx, routes, netip.MustParsePrefix(demoLAN), client, demoLinkTimeout); err != nil {
		return err
	}
	link, err := clientLink()
	if err != nil {
		return err
	}
	d.say("   link up: %s %s ↔ %s, MTU %d; route %s through it\n", link.name, link.local, link.peer, link.mtu, demoLAN)

	d.say("\n5. ping the workstation through the tunnel\n")
	rtt, err := d.ping(ctx)
	if err != nil {
		return err
	}

	d.say("\n6. %d MB over TCP from the client to the workstation\n", d.size>>20)
	elapsed, err := d.transfer(ctx)
	if err != nil {
		return err
	}
	rate := float64(d.size) / elapsed.Seconds()
	d.say("   %d bytes in %v (%.1f MB/s, %.0f Mbit/s), SHA-256 verified at the far end\n",
		d.size, elapsed.Round(time.Millisecond), rate/1e6, rate*8/1e6)

	d.say("\n7. Ending the link: SIGTERM to pppssh connect (LCP Terminate-Request, routes removed), then to the server\n")
	if err := client.stop(demoStopTimeout); err != nil {
		return fmt.Errorf("pppssh connect did not end cleanly: %w", err)
	}
	if err := server.waitFor(ctx, "session ended", demoStopTimeout); err != nil {
		return err
	}
	if err := server.stop(demoStopTimeout); err != nil {
		return fmt.Errorf("pppssh server did not end cleanly: %w", err)
	}

	d.say("\nSummary\n")
	d.say("  link addresses   %s (client) ↔ %s (gateway), over SSH %s → %s:%s\n", link.local, link.peer, demoClientIP, demoGwIP, demoSSHPort)
	d.say("  MTU              %d\n", link.mtu)
	d.say("  round-trip time  %s (ping through the tunnel)\n", rtt)
	d.say("  throughput       %.1f MB/s (%.0f Mbit/s), %d MB client → workstation\n", rate/1e6, rate*8/1e6, d.size>>20)
	return nil
}

// topology makes the namespaces, the veth pairs and their addresses.
func (d *demo) topology() error {
	if stale := netns.List(demoPrefix); len(stale) > 0 {
		d.say("   removing namespaces a previous demo left: %s\n", strings.Join(stale, " "))
		for _, n := range stale {
			if err := netns.Delete(n); err != nil {
				return err
			}
		}
	}
	for _, n := range []string{demoClientNS, demoGwNS, demoWsNS} {
		if err := netns.Create(n); err != nil {
			return err
		}
		d.made = append(d.made, n)
	}
	steps := [][]string{
		{"-n", demoClientNS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", demoGwNS},
		{"-n", demoGwNS, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", demoWsNS},
		{"-n", demoClientNS, "addr", "add", demoClientIP + "/24", "dev", "eth0"},
		{"-n", demoGwNS, "addr", "add", demoGwIP + "/24", "dev", "eth0"},
		{"-n", demoGwNS, "addr", "add", demoGwLanIP + "/24", "dev", "eth1"},
		{"-n", demoWsNS, "addr", "add", demoWsIP + "/24", "dev", "eth0"},
		{"-n", demoClientNS, "link", "set", "eth0", "up"},
		{"-n", demoGwNS, "link", "set", "eth0", "up"},
		{"-n", demoGwNS, "link", "set", "eth1", "up"},
		{"-n", demoWsNS, "link", "set", "eth0", "up"},
		{"-n", demoWsNS, "route", "add", "default", "via", demoGwLanIP},
	}
	for _, s := range steps {
		if err := netns.Run(s...); err != nil {
			return err
		}
	}
	// The gateway forwards between its links and its LAN.
	if err := netns.Do(demoGwNS, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	}); err != nil {
		return fmt.Errorf("turn on forwarding in %s: %w", demoGwNS, err)
	}
	d.say("   %s, %s, %s; the gateway forwards; no namespace has a route out\n", demoClientNS, demoGwNS, demoWsNS)
	return nil
}

// keys writes the gateway's host key (generated as pppssh server would on
// its first start), the client's key, the gateway's authorized_keys giving
// the client its address, and the client's known_hosts with the gateway's
// key.
func (d *demo) keys() (clientKey, keysFile, hostKey string, err error) {
	if d.dir, err = os.MkdirTemp("", "pppssh-demo-"); err != nil {
		return
	}
	gw, home := filepath.Join(d.dir, "gw"), filepath.Join(d.dir, "client", ".ssh")
	for _, dir := range []string{gw, home} {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return
		}
	}
	hostKey = filepath.Join(gw, "ssh_host_ed25519_key")
	signer, _, err := sshtransport.LoadOrCreateHostKey(hostKey)
	if err != nil {
		return
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return
	}
	block, err := ssh.MarshalPrivateKey(priv, "pppssh demo client")
	if err != nil {
		return
	}
	clientKey = filepath.Join(home, "id_ed25519")
	if err = os.WriteFile(clientKey, pem.EncodeToMemory(block), 0o600); err != nil {
		return
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return
	}
	pubLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	keysFile = filepath.Join(gw, "authorized_keys")
	line := fmt.Sprintf("pppssh-address=%q %s demo-client\n", demoLinkCl, pubLine)
	if err = os.WriteFile(keysFile, []byte(line), 0o600); err != nil {
		return
	}
	known := filepath.Join(home, "known_hosts")
	hostLine := fmt.Sprintf("[%s]:%s %s", demoGwIP, demoSSHPort, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))))
	if err = os.WriteFile(known, []byte(hostLine+"\n"), 0o600); err != nil {
		return
	}
	d.say("   %s\n", d.dir)
	d.say("   gateway host key   %s\n", sshtransport.Fingerprint(signer.PublicKey()))
	d.say("   client key         %s\n", sshtransport.Fingerprint(pub))
	d.say("   authorized_keys    %s\n", strings.Replace(strings.TrimSpace(line), pubLine, pubLine[:24]+"…", 1))
	d.say("   known_hosts        the gateway's key, so the client checks it\n")
	return
}

// clientLinkInfo describes the client's end of the link.
type clientLinkInfo struct {
	name        string
	local, peer netip.Addr
	mtu         int
}

// clientLink reads the client's link interface: the one its route to the
// workstation goes through.
func clientLink() (clientLinkInfo, error) {
	var info clientLinkInfo
	err := netns.Do(demoClientNS, func() error {
		routes, err := netlink.RouteGet(net.ParseIP(demoWsIP))
		if err != nil || len(routes) == 0 {
			return fmt.Errorf("no route to %s in %s: %v", demoWsIP, demoClientNS, err)
		}
		l, err := netlink.LinkByIndex(routes[0].LinkIndex)
		if err != nil {
			return err
		}
		info.name, info.mtu = l.Attrs().Name, l.Attrs().MTU
		addrs, err := netlink.AddrList(l, unix.AF_INET)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			info.local, _ = netip.AddrFromSlice(a.IP.To4())
			if a.Peer != nil {
				info.peer, _ = netip.AddrFromSlice(a.Peer.IP.To4())
			}
		}
		return nil
	})
	return info, err
}

// watchRoutes subscribes to the route changes of a namespace.
func watchRoutes(ns string) (<-chan netlink.RouteUpdate, func(), error) {
	h, err := netns.Handle(ns)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan netlink.RouteUpdate, 64)
	done := make(chan struct{})
	err = netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: &h})
	if err != nil {
		h.Close()
		return nil, nil, fmt.Errorf("watch the routes of %s: %w", ns, err)
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			close(done)
			h.Close()
		})
	}, nil
}

// waitRoute waits until a route to dst appears, the sign that the link is
// up and the client's host configured, or until the client exits.
func waitRoute(ctx context.Context, routes <-chan netlink.RouteUpdate, dst netip.Prefix, client *demoProc, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-client.done:
			return fmt.Errorf("pppssh connect ended before the link came up (%v); its log is above", client.err)
		case <-t.C:
			return fmt.Errorf("the link did not come up within %v; the log is above", timeout)
		case u, ok := <-routes:
			if !ok {
				return errors.New("lost the route watch of the client namespace")
			}
			if u.Type != unix.RTM_NEWROUTE || u.Dst == nil {
				continue
			}
			a, _ := netip.AddrFromSlice(u.Dst.IP.To4())
			ones, _ := u.Dst.Mask.Size()
			if netip.PrefixFrom(a, ones) == dst {
				return nil
			}
		}
	}
}

// rttLine is ping's summary line.
var rttLine = regexp.MustCompile(`rtt min/avg/max/mdev = ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms`)

// ping pings the workstation from the client and returns the mean
// round-trip time.
func (d *demo) ping(ctx context.Context) (string, error) {
	args := []string{"-c", "4", "-i", "0.2", "-W", "5", "-n", demoWsIP}
	d.say("   ping %s\n", strings.Join(args, " "))
	cmd := netns.Command(demoClientNS, "ping", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stop := context.AfterFunc(ctx, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer stop()
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		d.say("   | %s\n", l)
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err != nil {
		return "", fmt.Errorf("ping %s from the client through the tunnel failed: %v", demoWsIP, err)
	}
	m := rttLine.FindStringSubmatch(string(out))
	if m == nil {
		return "?", nil
	}
	return m[2] + " ms (mean of 4)", nil
}

// transfer sends d.size octets of pseudo-random data over TCP from the
// client to the workstation, both in Go with sockets opened inside their
// namespaces, and checks that the workstation got exactly them (count and
// SHA-256). It returns the time from connecting to the last octet read.
func (d *demo) transfer(ctx context.Context) (time.Duration, error) {
	var ln net.Listener
	if err := netns.Do(demoWsNS, func() (err error) {
		ln, err = net.Listen("tcp4", net.JoinHostPort(demoWsIP, demoDataPort))
		return err
	}); err != nil {
		return 0, fmt.Errorf("listen on the workstation: %w", err)
	}
	defer ln.Close()
	type result struct {
		n   int64
		sum []byte
		at  time.Time
		err error
	}
	got := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- result{err: err}
			return
		}
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
		h := sha256.New()
		n, err := io.Copy(h, c)
		got <- result{n: n, sum: h.Sum(nil), at: time.Now(), err: err}
	}()

	var c net.Conn
	if err := netns.Do(demoClientNS, func() (err error) {
		var dl net.Dialer
		c, err = dl.DialContext(ctx, "tcp4", net.JoinHostPort(demoWsIP, demoDataPort))
		return err
	}); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("connect to the workstation through the tunnel: %w", err)
	}
	begin := time.Now()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(newPRNG(), d.size), h)
	sent, err := io.Copy(c, src)
	c.(*net.TCPConn).CloseWrite()
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("send to the workstation: %w", err)
	}
	r := <-got
	c.Close()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	switch {
	case r.err != nil:
		return 0, fmt.Errorf("receive on the workstation: %w", r.err)
	case r.n != sent || !bytes.Equal(r.sum, h.Sum(nil)):
		return 0, fmt.Errorf("the workstation received %d bytes (SHA-256 %x), the client sent %d (SHA-256 %x)", r.n, r.sum, sent, h.Sum(nil))
	}
	return r.at.Sub(begin), nil
}

// newPRNG returns an endless stream of pseudo-random octets: AES-128-CTR
// over zeros, fast enough not to limit the transfer.
func newPRNG() io.Reader {
	var key [16]byte
	rand.Read(key[:])
	b, _ := aes.NewCipher(key[:])
	return &cipher.StreamReader{S: cipher.NewCTR(b, make([]byte, aes.BlockSize)), R: zeroReader{}}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// start runs pppssh with args inside the namespace ns, in a process group
// of its own (the terminal's Ctrl-C reaches the demo, which stops the
// processes in order), showing its output prefixed with label.
func (d *demo) start(ns, label string, env []string, args ...string) (*demoProc, error) {
	cmd := netns.Command(ns, d.exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = withoutEnv(cmd.Env, "SSH_AUTH_SOCK=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &demoProc{label: label, cmd: cmd, done: make(chan struct{}), out: &prefixLog{w: d.out, prefix: fmt.Sprintf("   %-6s | ", label)}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pppssh %s in %s: %w", args[0], ns, err)
	}
	d.procs = append(d.procs, p)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// withoutEnv returns env without the entries that start with prefix.
func withoutEnv(env []string, prefix string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// cleanup stops the processes, newest first (the client ends its link
// before the server goes), deletes the namespaces and the temporary
// directory. It runs after success, failure and interruption alike.
func (d *demo) cleanup() {
	for i := len(d.procs) - 1; i >= 0; i-- {
		if err := d.procs[i].stop(demoStopTimeout); err != nil {
			d.say("   %s: %v\n", d.procs[i].label, err)
		}
	}
	for _, n := range d.made {
		if err := netns.Delete(n); err != nil {
			d.say("   removing namespace %s: %v\n", n, err)
		}
	}
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

// demoProc is a pppssh process the demo started.
type demoProc struct {
	label string
	cmd   *exec.Cmd
	out   *prefixLog
	done  chan struct{}
	err   error // valid once done is closed
}

// waitFor waits until the process has printed s.
func (p *demoProc) waitFor(ctx context.Context, s string, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch err := p.out.all.Wait(wctx, s, p.done); {
	case err == nil:
		return nil
	case errors.Is(err, watchbuf.ErrDone):
		return fmt.Errorf("pppssh %s ended (%v) before it was ready; its log is above", p.label, p.err)
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return fmt.Errorf("pppssh %s did not get ready within %v; its log is above", p.label, timeout)
	}
}

// stop sends SIGTERM, waits up to timeout, then kills the process group.
// It returns an error if the process did not exit 0 by itself.
func (p *demoProc) stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("did not end within %v of SIGTERM; killed", timeout)
}

// prefixLog writes what a process prints to the demo's output, line by
// line behind a prefix, and keeps it for waitFor.
type prefixLog struct {
	w      io.Writer
	prefix string
	all    watchbuf.Buffer
	mu     sync.Mutex // guards part
	part   []byte
}

func (l *prefixLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(l.w, "%s%s\n", l.prefix, l.part[:i])
		l.part = l.part[i+1:]
	}
	return l.all.Write(p) // after the lines are shown, so a waiter finds them printed
}

func (l *prefixLog) String() string { return l.all.String() }

// syncWriter serialises writes from the demo and its processes' output.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
