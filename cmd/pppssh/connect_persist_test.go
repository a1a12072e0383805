package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/internal/sshdtest"
)

// fixedKey writes dir/authorized_keys with one key of the fixed address
// 192.0.2.5 and returns that key.
func fixedKey(t *testing.T, dir string) sshdtest.Key {
	t.Helper()
	key := sshdtest.NewKey(t, dir, "roaming")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(`pppssh-address="192.0.2.5" `+key.AuthorizedLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key
}

// TestConnectPersist: the client roams. The path to the server dies
// silently; LCP Echo-Requests find the peer dead; the client gets a new
// address, so that nothing of its old connection reaches the server any
// more; persist connects again after the holdoff once the path is back;
// and the server lets the new session of the key replace the old one it
// still held, with the same link address.
func TestConnectPersist(t *testing.T) {
	t.Parallel()
	gw, cl := nstest.New(t), nstest.New(t)
	gwAddr, gwIf, clIf := sshLink(t, gw, cl, 1)
	dir := t.TempDir()
	key := fixedKey(t, dir)
	srv, hostLine := startServer(t, gw, dir, "[::]:2222")
	c := startConnect(t, cl, clientHome(t, "["+gwAddr+"]:2222 "+hostLine+"\n"), "vpn@["+gwAddr+"]:2222", "-i", key.File,
		"persist", "holdoff", "1", "lcp-echo-interval", "1", "lcp-echo-failure", "2", "lcp-restart", "1")
	waitFor(t, srv, "session 1 up: client 192.0.2.5")
	ping(t, cl, "192.0.2.1")

	// The gateway's end of the path goes down (keeping its IPv6 address,
	// which the kernel would remove): the client's packets are dropped
	// without a word.
	gw.MustDo(func() error {
		return os.WriteFile("/proc/sys/net/ipv6/conf/"+gwIf+"/keep_addr_on_down", []byte("1\n"), 0o644)
	})
	gw.Run("ip", "link", "set", gwIf, "down")
	waitFor(t, c, "peer not responding to 2 echo-requests")
	waitFor(t, c, "reconnecting in 1s (persist)")
	cl.Run("ip", "addr", "del", "2001:db8:1::2/64", "dev", clIf)
	cl.Run("ip", "addr", "add", "2001:db8:1::3/64", "dev", clIf, "nodad")
	gw.Run("ip", "link", "set", gwIf, "up")
	waitFor(t, srv, "address 192.0.2.5 is held by session 1")
	waitFor(t, srv, `reason="replaced by a new session of the same key`)
	waitFor(t, srv, "session 2 up: client 192.0.2.5")
	ping(t, cl, "192.0.2.1")

	stopClean(t, c, "pppssh connect")
	linkGone(t, cl, "ppp0")
	stopClean(t, srv, "pppssh server")
}

// backgroundPID finds the process ID updetach reported.
var backgroundPID = regexp.MustCompile(`going on in the background as process (\d+)`)

// TestConnectDefaultRouteUpdetach: with defaultroute, everything of the
// client goes through the link, except the SSH connection that carries it:
// the server, reached through the client's default gateway, keeps a host
// route the old way. updetach returns once the link is up; SIGTERM to the
// process in the background ends it and puts the routes back.
func TestConnectDefaultRouteUpdetach(t *testing.T) {
	t.Parallel()
	gw, cl := nstest.New(t), nstest.New(t)
	_, clIf := nstest.Veth(t, gw, cl, netip.MustParsePrefix("198.51.100.1/24"), netip.MustParsePrefix("198.51.100.2/24"))
	cl.Run("ip", "route", "add", "default", "via", "198.51.100.1")
	lanBehind(t, gw) // the server listens on its LAN address, 203.0.113.1
	clBefore := routes(cl)
	dir := t.TempDir()
	key := fixedKey(t, dir)
	srv, hostLine := startServer(t, gw, dir, "0.0.0.0:2222")

	fg := startConnect(t, cl, clientHome(t, "[203.0.113.1]:2222 "+hostLine+"\n"), "vpn@203.0.113.1:2222", "-i", key.File,
		"defaultroute", "updetach")
	if code := exitStatus(t, fg, sshTimeout); code != exitOK {
		t.Fatalf("updetach: exit %d, want 0 once the link is up; output:\n%s", code, fg.Output())
	}
	m := backgroundPID.FindStringSubmatch(fg.Output())
	if m == nil {
		t.Fatalf("updetach did not name the background process:\n%s", fg.Output())
	}
	pid, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	if out := cl.Run("ip", "-4", "route", "show", "default"); !strings.Contains(out, "dev ppp0") || strings.Contains(out, "198.51.100.1") {
		t.Errorf("the default route is not the link's alone:\n%s", out)
	}
	if out := cl.Run("ip", "-4", "route", "show", "203.0.113.1"); !strings.Contains(out, "203.0.113.1 via 198.51.100.1 dev "+clIf) {
		t.Errorf("the SSH server's address is not pinned to the old way:\n%s", cl.Run("ip", "-4", "route"))
	}
	if out := cl.Run("ip", "-4", "route", "get", "203.0.113.2"); !strings.Contains(out, "dev ppp0") {
		t.Errorf("the workstation is not reached through the link: %s", out)
	}
	ping(t, cl, "203.0.113.2") // through the link, the SSH connection under it alive

	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	pidfdWait(t, pid, sshTimeout)
	if after := routes(cl); after != clBefore {
		t.Errorf("the client's routes were not put back:\nbefore:\n%s\nafter:\n%s", clBefore, after)
	}
	linkGone(t, cl, "ppp0")
	waitFor(t, srv, "session ended")
	stopClean(t, srv, "pppssh server")
}
