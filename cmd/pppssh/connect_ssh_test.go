package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/internal/sshdtest"
)

// The SSH tests run pppssh connect against a real OpenSSH sshd (here) and
// against pppssh server (server_test.go), each end in a network namespace
// of its own. The SSH path between them uses IPv6 documentation addresses
// (2001:db8::/32), which leaves the IPv4 documentation ranges to the
// tunnel: 192.0.2.0/24 on the links, 203.0.113.0/24 behind the server and
// 198.51.100.0/24 behind a client.

// sshTimeout bounds each wait of the SSH tests.
const sshTimeout = 30 * time.Second

// transferSize is what the SSH tests send through the tunnel.
const transferSize = 100 << 20

// sshLink joins gw and client with a veth pair carrying 2001:db8:n::1 (gw)
// and 2001:db8:n::2 (client), and returns gw's address and the pair's
// ends in gw and in client.
func sshLink(t *testing.T, gw, client *nstest.NS, n int) (gwAddr, gwIf, clientIf string) {
	t.Helper()
	gwIf, clientIf = nstest.Veth(t, gw, client, netip.Prefix{}, netip.Prefix{})
	gwAddr = fmt.Sprintf("2001:db8:%x::1", n)
	gw.Run("ip", "addr", "add", gwAddr+"/64", "dev", gwIf, "nodad")
	client.Run("ip", "addr", "add", fmt.Sprintf("2001:db8:%x::2/64", n), "dev", clientIf, "nodad")
	return gwAddr, gwIf, clientIf
}

// lanBehind gives gw the LAN 203.0.113.0/24 with a workstation namespace
// on it (203.0.113.2, its default route through gw at 203.0.113.1) and
// turns on forwarding in gw; it returns the workstation.
func lanBehind(t *testing.T, gw *nstest.NS) *nstest.NS {
	t.Helper()
	ws := nstest.New(t)
	nstest.Veth(t, gw, ws, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
	ws.Run("ip", "route", "add", "default", "via", "203.0.113.1")
	gw.MustDo(func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644) })
	return ws
}

// lanAddress gives ns the address addr on its loopback interface, as a
// host of the LAN behind a client (not every kernel has dummy interfaces).
func lanAddress(ns *nstest.NS, addr string) {
	ns.Run("ip", "addr", "add", addr+"/32", "dev", "lo")
}

// clientHome makes a home directory for pppssh connect with the given
// known_hosts lines in .ssh/known_hosts.
func clientHome(t *testing.T, knownHosts ...string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), []byte(strings.Join(knownHosts, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// startConnect starts pppssh connect with args in ns, with home as its
// home directory and no ssh-agent.
func startConnect(t *testing.T, ns *nstest.NS, home string, args ...string) *nstest.Proc {
	t.Helper()
	cmd := ns.Command(pppsshBin(t), append([]string{"connect"}, args...)...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SSH_AUTH_SOCK=") && !strings.HasPrefix(e, "HOME=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home)
	return ns.Start(cmd)
}

// waitFor waits until p has printed s, failing the test otherwise.
func waitFor(t *testing.T, p *nstest.Proc, s string) {
	t.Helper()
	if err := p.WaitOutput(s, sshTimeout); err != nil {
		t.Fatal(err)
	}
}

// stopClean sends SIGTERM to p and fails the test unless it exits 0.
func stopClean(t *testing.T, p *nstest.Proc, what string) {
	t.Helper()
	if err := p.Stop(sshTimeout); err != nil {
		t.Errorf("%s after SIGTERM: %v, want exit status 0; output:\n%s", what, err, p.Output())
	}
}

// mustPingFrom pings dst from ns (extra options before it), failing the
// test unless every echo is answered.
func mustPingFrom(t *testing.T, ns *nstest.NS, dst string, extra ...string) {
	t.Helper()
	nstest.RequireTool(t, "ping", "iputils-ping")
	args := append(append([]string{"-c", "3", "-i", "0.2", "-W", "5", "-n"}, extra...), dst)
	out, err := ns.Command("ping", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), " 0% packet loss") {
		t.Errorf("ping %s from %s failed (%v):\n%s", strings.Join(args, " "), ns.Name(), err, out)
	}
}

// routeVia reports whether ns has a route to dst through dev.
func routeVia(t *testing.T, ns *nstest.NS, dst, dev string) bool {
	t.Helper()
	return strings.Contains(ns.Run("ip", "-4", "route", "show", dst), "dev "+dev)
}

// routes returns the IPv4 routes of ns, without the linkdown flag: the
// kernel sets it on the routes of a persistent TUN that nothing has
// attached to yet, but does not set it again once the last process has let
// go of the device.
func routes(ns *nstest.NS) string {
	return strings.ReplaceAll(ns.Run("ip", "-4", "route"), " linkdown", "")
}

// transferTCP sends size random octets over TCP from a socket in from to a
// listener in to at listen (host:port), and fails the test unless the
// receiver got exactly them (count and SHA-256). It returns how long it
// took.
func transferTCP(t *testing.T, from, to *nstest.NS, listen string, size int64) time.Duration {
	t.Helper()
	var ln net.Listener
	to.MustDo(func() (err error) {
		ln, err = net.Listen("tcp4", listen)
		return err
	})
	defer ln.Close()
	type result struct {
		n   int64
		sum []byte
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
		c.SetDeadline(time.Now().Add(2 * sshTimeout))
		h := sha256.New()
		n, err := io.Copy(h, c)
		got <- result{n, h.Sum(nil), err}
	}()
	var c net.Conn
	from.MustDo(func() (err error) {
		c, err = net.DialTimeout("tcp4", listen, sshTimeout)
		return err
	})
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * sshTimeout))
	begin := time.Now()
	h := sha256.New()
	sent, err := io.Copy(c, io.TeeReader(io.LimitReader(rand.Reader, size), h))
	if err != nil {
		t.Fatalf("send %d octets to %s: %v (sent %d)", size, listen, err, sent)
	}
	c.(*net.TCPConn).CloseWrite()
	r := <-got
	elapsed := time.Since(begin)
	if r.err != nil || r.n != size || !bytes.Equal(r.sum, h.Sum(nil)) {
		t.Fatalf("transfer to %s: received %d octets (%v), SHA-256 %x; sent %d, SHA-256 %x", listen, r.n, r.err, r.sum, size, h.Sum(nil))
	}
	t.Logf("%d MB to %s in %v: %.0f Mbit/s", size>>20, listen, elapsed.Round(time.Millisecond), float64(size)*8/elapsed.Seconds()/1e6)
	return elapsed
}

// TestConnectOpenSSH is the HOWTO's setup with OpenSSH's sshd: an
// unprivileged account (pppssh-slave) whose authorized_keys line forces
// "pppssh serve" with the addresses and an allowed route, and a persistent
// TUN made for that account in advance, instead of sudo. pppssh connect
// brings the link up, the route it asks the far end for (--remote-route,
// the HOWTO's sshroute) appears there, ping and 100 MB cross, and SIGTERM
// leaves both ends as they were.
func TestConnectOpenSSH(t *testing.T) {
	t.Parallel()
	gw, cl := nstest.New(t), nstest.New(t)
	gwAddr, _, _ := sshLink(t, gw, cl, 1)
	ws := lanBehind(t, gw)
	lanAddress(cl, "198.51.100.1")

	srv := sshdtest.Start(t, gw, "["+gwAddr+"]:22")
	sshdtest.PersistentTUN(t, gw, "ppp0", srv.Account, "192.0.2.1", "192.0.2.2")
	// The account's pppssh has CAP_NET_ADMIN as a file capability, so that
	// serve may add the routes a client is allowed to ask for.
	bin, remove, err := sshdtest.InstallCopy(pppsshBin(t), "pppssh", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	key := sshdtest.NewKey(t, t.TempDir(), "client")
	srv.Authorize(fmt.Sprintf(`command="%s serve 192.0.2.1:192.0.2.2 ifname ppp0 --allow-remote-route 198.51.100.0/24",restrict`, bin), key.AuthorizedLine)
	gwBefore := routes(gw)

	home := clientHome(t, srv.KnownHostsLine())
	c := startConnect(t, cl, home, "-i", key.File, srv.Account.Name+"@"+gwAddr,
		"--route", "203.0.113.0/24", "--remote-route", "198.51.100.0/24")
	waitFor(t, c, "added route 203.0.113.0/24 dev ppp0")
	// serve's log reaches us on its standard error.
	waitFor(t, c, "remote: added route 198.51.100.0/24 dev ppp0")
	if !routeVia(t, gw, "198.51.100.0/24", "ppp0") {
		t.Errorf("the gateway has no route to the client's LAN through ppp0:\n%s", gw.Run("ip", "-4", "route"))
	}

	mustPingFrom(t, cl, "203.0.113.2")  // the workstation behind the gateway
	mustPingFrom(t, gw, "198.51.100.1") // the client's LAN, by the remote route
	mustPingFrom(t, ws, "198.51.100.1") // and from the workstation, forwarded
	transferTCP(t, cl, ws, "203.0.113.2:5001", transferSize)

	stopClean(t, c, "pppssh connect")
	if err := srv.WaitLog("Close session: user "+srv.Account.Name, sshTimeout); err != nil {
		t.Fatalf("serve did not end after the link: %v", err)
	}
	linkGone(t, cl, "ppp0")
	if out := cl.Run("ip", "-4", "route", "show", "203.0.113.0/24"); out != "" {
		t.Errorf("the client still routes the gateway's LAN after the link ended: %s", out)
	}
	if after := routes(gw); after != gwBefore {
		t.Errorf("the gateway's routes changed after the link ended:\nbefore:\n%s\nafter:\n%s", gwBefore, after)
	}
	// The administrator's TUN stays, as the administrator set it up.
	if out := gw.Run("ip", "-4", "addr", "show", "dev", "ppp0"); !strings.Contains(out, "192.0.2.1 peer 192.0.2.2") {
		t.Errorf("the persistent TUN lost its address:\n%s", out)
	}
}

// TestConnectRemoteSaysNoPPP: when the far end prints text instead of
// speaking PPP, connect fails within the negotiation timeout (here 3
// Configure-Requests 1 s apart) and shows what it printed, on its standard
// error (sudo's complaint) or its standard output (a login banner), or
// how it failed (a command not found).
func TestConnectRemoteSaysNoPPP(t *testing.T) {
	t.Parallel()
	gw, cl := nstest.New(t), nstest.New(t)
	gwAddr, _, _ := sshLink(t, gw, cl, 1)
	srv := sshdtest.Start(t, gw, "["+gwAddr+"]:22")
	dir := t.TempDir()
	shell := sshdtest.NewKey(t, dir, "shell")
	srv.Authorize("restrict", shell.AuthorizedLine)
	banner := sshdtest.NewKey(t, dir, "banner")
	srv.Authorize(`command="echo Welcome to gw, authorized users only; sleep 60",restrict`, banner.AuthorizedLine)
	home := clientHome(t, srv.KnownHostsLine())
	target := srv.Account.Name + "@" + gwAddr
	fast := []string{"lcp-restart", "1", "lcp-max-configure", "3"}

	for _, tc := range []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"sudo", []string{"-i", shell.File, "command", "echo sudo: a password is required >&2; sleep 60"}, exitNegotiationFailed,
			"did not speak PPP; on its standard error: sudo: a password is required"},
		{"banner", []string{"-i", banner.File}, exitNegotiationFailed,
			`did not speak PPP; it printed: "Welcome to gw, authorized users only"`},
		{"not found", []string{"-i", shell.File, "command", "pppssh-not-installed serve"}, exitConnectFailed,
			"exited with status 127; it printed: sh: 1: pppssh-not-installed: not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			begin := time.Now()
			c := startConnect(t, cl, home, append(append([]string{target}, tc.args...), fast...)...)
			code := exitStatus(t, c, sshTimeout)
			took := time.Since(begin)
			out := c.Output()
			t.Logf("gave up after %v with exit status %d:\n%s", took.Round(time.Millisecond), code, out)
			if code != tc.status || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want %d, and output containing %q; output:\n%s", code, tc.status, tc.want, out)
			}
			if took > 15*time.Second {
				t.Errorf("took %v to give up; the negotiation timeout is about 3 s", took)
			}
			if tc.name == "sudo" && !strings.Contains(out, "remote: sudo: a password is required") {
				t.Errorf("the far end's standard error was not shown as it came:\n%s", out)
			}
			linkGone(t, cl, "ppp0")
		})
	}
}
