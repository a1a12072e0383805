package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/internal/sshdtest"
)

// TestServer runs pppssh server on a gateway with three client
// namespaces. Two clients share a key with a pool and get an address each;
// a third has a key with a fixed address and an allowed route, which it
// asks for. Clients with an unknown key, with a route their key does not
// allow, and facing a changed host key are refused. Packets a client sends
// with a source address it was not given (another client's, a foreign
// one) are dropped and counted, while its own and those of the networks
// its key allows pass. Sessions come and go without disturbing the
// others, and SIGTERM ends them all and leaves the gateway as it was.
func TestServer(t *testing.T) {
	t.Parallel()
	gw := nstest.New(t)
	ca, cb, cc := nstest.New(t), nstest.New(t), nstest.New(t)
	gwA, _, _ := sshLink(t, gw, ca, 1)
	gwB, _, _ := sshLink(t, gw, cb, 2)
	gwC, _, _ := sshLink(t, gw, cc, 3)
	lanAddress(cc, "198.51.100.1") // the LAN behind client C
	gwBefore := routes(gw)

	dir := sshdtest.WorldReadableDir(t, "pppssh-server-")
	pool := sshdtest.NewKey(t, dir, "pool")
	fixed := sshdtest.NewKey(t, dir, "fixed")
	stranger := sshdtest.NewKey(t, dir, "stranger")
	other := sshdtest.NewKey(t, dir, "not-the-host-key")
	keysFile := filepath.Join(dir, "authorized_keys")
	keys := fmt.Sprintf("pppssh-pool=\"192.0.2.16/28\" %s\npppssh-address=\"192.0.2.5\",pppssh-allow-route=\"198.51.100.0/24\" %s\n",
		pool.AuthorizedLine, fixed.AuthorizedLine)
	if err := os.WriteFile(keysFile, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, hostLine := startServer(t, gw, dir, "[::]:2222")
	known := func(addr string) string { return "[" + addr + "]:2222 " + hostLine + "\n" }
	target := func(addr string) string { return "vpn@[" + addr + "]:2222" }
	homeA := clientHome(t, known(gwA))

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			home   string
			args   []string
			status int
			want   string
		}{
			{"route outside pppssh-allow-route", homeA, []string{"-i", pool.File, "--remote-route", "198.51.100.0/24"}, exitOptionErr,
				`route 198.51.100.0/24: this key allows no routes (add pppssh-allow-route="CIDR" to its line, `},
			{"unknown key", homeA, []string{"-i", stranger.File}, exitConnectFailed, "accepted none of our keys"},
			{"changed host key", clientHome(t, "["+gwA+"]:2222 "+strings.TrimSpace(other.AuthorizedLine)+"\n"),
				[]string{"-i", pool.File}, exitConnectFailed, "REMOTE HOST IDENTIFICATION HAS CHANGED"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := startConnect(t, ca, tc.home, append([]string{target(gwA)}, tc.args...)...)
				if code := exitStatus(t, c, sshTimeout); code != tc.status || !strings.Contains(c.Output(), tc.want) {
					t.Errorf("exit %d, want %d, and output containing %q; output:\n%s", code, tc.status, tc.want, c.Output())
				}
				linkGone(t, ca, "ppp0")
			})
		}
		if !strings.Contains(srv.Output(), "refused key: not in authorized_keys") {
			t.Errorf("the server did not log the unknown key:\n%s", srv.Output())
		}
	})

	// Two clients of the pool key, one knowing the host key, one trusting
	// it on first use; a third with its fixed address and allowed route.
	a := startConnect(t, ca, homeA, target(gwA), "-i", pool.File)
	waitFor(t, a, "local  IP address 192.0.2.17")
	b := startConnect(t, cb, clientHome(t), target(gwB), "-i", pool.File, "--accept-new")
	waitFor(t, b, "local  IP address 192.0.2.18")
	c := startConnect(t, cc, clientHome(t, known(gwC)), target(gwC), "-i", fixed.File, "--remote-route", "198.51.100.0/24")
	waitFor(t, c, "local  IP address 192.0.2.5")
	waitFor(t, srv, "added route 198.51.100.0/24 dev ")
	for _, p := range []*nstest.Proc{a, b, c} {
		waitFor(t, p, "brought ppp0 up")
	}
	mustPingFrom(t, ca, "192.0.2.1")
	mustPingFrom(t, cb, "192.0.2.1")
	mustPingFrom(t, cc, "192.0.2.1")
	mustPingFrom(t, gw, "198.51.100.1")                    // the route client C asked for
	mustPingFrom(t, cc, "192.0.2.1", "-I", "198.51.100.1") // from the network its key allows
	transferTCP(t, ca, gw, "192.0.2.1:5002", transferSize) // through the filter

	// Client A forges client B's address, then a foreign one: nothing of
	// it gets through, and the server counts it.
	lanAddress(ca, "192.0.2.18")
	lanAddress(ca, "203.0.113.77")
	for _, src := range []string{"192.0.2.18", "203.0.113.77"} {
		if out, err := ca.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "-n", "-I", src, "192.0.2.1").CombinedOutput(); err == nil {
			t.Errorf("ping with the forged source %s got answers:\n%s", src, out)
		}
	}
	waitFor(t, srv, "dropped packets from the client with a forged source address (last from 192.0.2.18); only 192.0.2.17 may send through this session")
	mustPingFrom(t, cb, "192.0.2.1") // the real 192.0.2.18 is unaffected

	// Client A leaves; the others carry on; A comes back and gets its
	// address again.
	stopClean(t, a, "client A")
	waitFor(t, srv, "dropped 6 packets with a forged source address")
	// It said goodbye: that is the reason the server gives, not a cut
	// connection.
	waitFor(t, srv, `reason="ppp: LCP: peer sent Terminate-Request: \"User request\"`)
	if n := countPPP(gw); n != 2 {
		t.Errorf("the gateway has %d ppp devices after client A left, want 2:\n%s", n, gw.Run("ip", "-o", "link"))
	}
	mustPingFrom(t, cb, "192.0.2.1")
	mustPingFrom(t, gw, "198.51.100.1")
	a = startConnect(t, ca, homeA, target(gwA), "-i", pool.File)
	waitFor(t, a, "local  IP address 192.0.2.17")
	waitFor(t, a, "brought ppp0 up")
	mustPingFrom(t, ca, "192.0.2.1")

	// The server stops: every link ends the orderly way.
	stopClean(t, srv, "pppssh server")
	for name, p := range map[string]*nstest.Proc{"A": a, "B": b, "C": c} {
		if code := exitStatus(t, p, sshTimeout); code != exitOK || !strings.Contains(p.Output(), "LCP: peer sent Terminate-Request") ||
			strings.Contains(p.Output(), "did not speak PPP") {
			t.Errorf("client %s exited %d after the server stopped, want 0 after the server's Terminate-Request:\n%s", name, code, p.Output())
		}
	}
	if n := countPPP(gw); n != 0 {
		t.Errorf("the gateway has %d ppp devices after the server stopped:\n%s", n, gw.Run("ip", "-o", "link"))
	}
	if after := routes(gw); after != gwBefore {
		t.Errorf("the gateway's routes changed:\nbefore:\n%s\nafter:\n%s", gwBefore, after)
	}
	for _, ns := range []*nstest.NS{ca, cb, cc} {
		linkGone(t, ns, "ppp0")
	}
}

// startServer starts pppssh server in gw, listening on listen, with the
// authorized_keys file in dir and a host key it generates there on its
// first start, with 192.0.2.1 as its link address. It returns the process
// and the host key as "type base64", for known_hosts.
func startServer(t *testing.T, gw *nstest.NS, dir, listen string) (*nstest.Proc, string) {
	t.Helper()
	hostKey := filepath.Join(dir, "host_key")
	srv := gw.Start(gw.Command(pppsshBin(t), "server", "--listen", listen, "--host-key", hostKey,
		"--authorized-keys", filepath.Join(dir, "authorized_keys"), "--local", "192.0.2.1"))
	waitFor(t, srv, "ssh server listening")
	if !strings.Contains(srv.Output(), "generated a new host key "+hostKey+"; its fingerprint, for clients to check: ED25519 SHA256:") {
		t.Errorf("the server did not say it generated its host key, with the fingerprint:\n%s", srv.Output())
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return srv, strings.Join(strings.Fields(string(pub))[:2], " ")
}

var pppDevice = regexp.MustCompile(`(?m)^\d+: ppp\d+[:@]`)

// countPPP counts the ppp devices in ns.
func countPPP(ns *nstest.NS) int {
	return len(pppDevice.FindAllString(ns.Run("ip", "-o", "link"), -1))
}
