package tunnel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var (
	local    = netip.MustParseAddr("192.0.2.1")
	peer     = netip.MustParseAddr("192.0.2.2")
	netA     = netip.MustParsePrefix("198.51.100.0/24")
	netB     = netip.MustParsePrefix("203.0.113.0/25")
	linkInfo = LinkInfo{Interface: "ppp0", Local: local, Peer: peer, MTU: 1400, TTY: "ssh:gw", IPParam: "test"}
)

var volatile = regexp.MustCompile(` qdisc \S+| state \S+|NO-CARRIER,|,LOWER_UP| linkdown`)

// snapshot describes what a NetHost may touch in ns: links, IPv4 addresses,
// IPv4 routes of every table, and permanent and proxy neighbour entries.
func snapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	var b strings.Builder
	for _, cmd := range [][]string{
		{"ip", "-o", "link", "show"},
		{"ip", "-o", "-4", "addr", "show"},
		{"ip", "-4", "route", "show", "table", "all"},
		{"ip", "-4", "neigh", "show", "nud", "permanent"},
		{"ip", "-4", "neigh", "show", "proxy"},
	} {
		// Standard output only: ip warns on standard error ("Peer netns
		// reference is invalid") about a veth whose peer's namespace
		// another test is deleting at that moment.
		raw, err := ns.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			t.Fatalf("in %s: %s: %v", ns.Name(), strings.Join(cmd, " "), err)
		}
		out := string(raw)
		// The kernel gives a device its default qdisc when it first goes
		// up, and keeps it; a TUN's carrier follows whether a process has
		// it open. Neither is something a Host sets.
		out = volatile.ReplaceAllString(out, "")
		fmt.Fprintf(&b, "$ %s\n%s", strings.Join(cmd, " "), out)
	}
	return b.String()
}

func assertSnapshot(t *testing.T, ns *nstest.NS, want, when string) {
	t.Helper()
	if diff := cmp.Diff(want, snapshot(t, ns)); diff != "" {
		t.Errorf("%s, the namespace differs from before Up (-before +now):\n%s", when, diff)
	}
}

// up and down call the host inside ns.
func up(ns *nstest.NS, h Host, info LinkInfo) error {
	return ns.Do(func() error { return h.Up(info) })
}

func down(ns *nstest.NS, h Host, info LinkInfo) error {
	return ns.Do(func() error { return h.Down(info) })
}

func newHost(t *testing.T, cfg NetConfig) *NetHost {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	h, err := NewNetHost(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// routesVia lists the IPv4 main-table routes through the interface dev.
func routesVia(t *testing.T, ns *nstest.NS, dev string) map[netip.Prefix]netlink.Route {
	t.Helper()
	got := map[netip.Prefix]netlink.Route{}
	ns.MustDo(func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		rs, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN, LinkIndex: l.Attrs().Index}, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_OIF)
		for _, r := range rs {
			p := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if r.Dst != nil {
				a, _ := netip.AddrFromSlice(r.Dst.IP)
				ones, _ := r.Dst.Mask.Size()
				p = netip.PrefixFrom(a.Unmap(), ones)
			}
			got[p] = r
		}
		return err
	})
	return got
}

// routeTo returns the interface and gateway the kernel would use for dst.
func routeTo(t *testing.T, ns *nstest.NS, dst string) (dev, gw string) {
	t.Helper()
	ns.MustDo(func() error {
		rs, err := netlink.RouteGet(net.ParseIP(dst))
		if err != nil {
			return err
		}
		dev = linkName(rs[0].LinkIndex)
		if rs[0].Gw != nil {
			gw = rs[0].Gw.String()
		}
		return nil
	})
	return dev, gw
}

func TestNetHostUpDown(t *testing.T) {
	ns := nstest.New(t)
	mustOpenTUN(t, ns, TUNConfig{Name: "ppp0"})
	dir := t.TempDir()
	ipUp, ipDown := writeScript(t, dir, "ip-up", recordScript), writeScript(t, dir, "ip-down", recordScript)
	before := snapshot(t, ns)

	h := newHost(t, NetConfig{Routes: []netip.Prefix{netA, netB}, Metric: 200, IPUp: ipUp, IPDown: ipDown})
	if err := up(ns, h, linkInfo); err != nil {
		t.Fatalf("Up: %v", err)
	}
	ns.MustDo(func() error {
		l, err := netlink.LinkByName("ppp0")
		if err != nil {
			return err
		}
		if l.Attrs().MTU != 1400 || l.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("ppp0 has MTU %d, flags %v; want MTU 1400 and up", l.Attrs().MTU, l.Attrs().Flags)
		}
		addrs, err := netlink.AddrList(l, unix.AF_INET)
		if err != nil {
			return err
		}
		if len(addrs) != 1 || !hasPeerAddr(addrs, local, peer) {
			t.Errorf("ppp0 addresses = %v, want exactly 192.0.2.1 peer 192.0.2.2/32", addrs)
		}
		return nil
	})
	routes := routesVia(t, ns, "ppp0")
	for _, p := range []netip.Prefix{netA, netB} {
		r, ok := routes[p]
		if !ok {
			t.Errorf("no route to %v via ppp0 (routes: %v)", p, routes)
			continue
		}
		if r.Priority != 200 || r.Scope != netlink.SCOPE_LINK {
			t.Errorf("route to %v: metric %d scope %v, want metric 200 scope link", p, r.Priority, r.Scope)
		}
	}
	if dev, _ := routeTo(t, ns, "198.51.100.77"); dev != "ppp0" {
		t.Errorf("198.51.100.77 is routed via %q, want ppp0", dev)
	}

	if err := h.Up(linkInfo); err == nil {
		t.Errorf("second Up without Down succeeded, want an error")
	}
	if err := down(ns, h, linkInfo); err != nil {
		t.Fatalf("Down: %v", err)
	}
	assertSnapshot(t, ns, before, "after Down")
	for _, s := range []string{ipUp, ipDown} {
		if _, err := os.Stat(s + ".out"); err != nil {
			t.Errorf("%s did not run: %v", filepath.Base(s), err)
		}
	}

	os.Remove(ipDown + ".out")
	if err := down(ns, h, linkInfo); err != nil {
		t.Errorf("second Down: %v", err)
	}
	if _, err := os.Stat(ipDown + ".out"); err == nil {
		t.Errorf("second Down ran ip-down again")
	}
	assertSnapshot(t, ns, before, "after a second Down")
}

// gatewayNS makes a namespace whose default route goes through a gateway in
// a second namespace over a veth pair, with a TUN called ppp0. It returns
// the first namespace and its veth's name.
func gatewayNS(t *testing.T, metric string) (*nstest.NS, string) {
	t.Helper()
	ns, gw := nstest.New(t), nstest.New(t)
	veth, _ := nstest.Veth(t, ns, gw, netip.MustParsePrefix("198.51.100.2/24"), netip.MustParsePrefix("198.51.100.1/24"))
	args := []string{"ip", "route", "add", "default", "via", "198.51.100.1", "dev", veth}
	if metric != "" {
		args = append(args, "metric", metric)
	}
	ns.Run(args...)
	mustOpenTUN(t, ns, TUNConfig{Name: "ppp0"})
	return ns, veth
}

func TestNetHostDefaultRoute(t *testing.T) {
	for _, tc := range []struct {
		name, oldMetric string
		metric          int
		wantDefaults    int // default routes while up
	}{
		{"replaces an equal metric", "", 0, 1},
		{"replaces a lower metric", "", 50, 1},
		{"keeps a higher metric", "100", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, veth := gatewayNS(t, tc.oldMetric)
			before := snapshot(t, ns)
			h := newHost(t, NetConfig{DefaultRoute: true, PinHost: netip.MustParseAddr("203.0.113.7"), Metric: tc.metric})
			if err := up(ns, h, linkInfo); err != nil {
				t.Fatalf("Up: %v", err)
			}
			if dev, gw := routeTo(t, ns, "203.0.113.7"); dev != veth || gw != "198.51.100.1" {
				t.Errorf("the pinned host goes via %s dev %s, want via 198.51.100.1 dev %s", gw, dev, veth)
			}
			if dev, _ := routeTo(t, ns, "203.0.113.200"); dev != "ppp0" {
				t.Errorf("other traffic goes via %s, want the default route via ppp0", dev)
			}
			out := ns.Run("ip", "-4", "route", "show", "default")
			if n := strings.Count(out, "default"); n != tc.wantDefaults || !strings.Contains(out, "default dev ppp0") {
				t.Errorf("default routes while up:\n%s\nwant %d, one of them via ppp0", out, tc.wantDefaults)
			}
			if err := down(ns, h, linkInfo); err != nil {
				t.Fatalf("Down: %v", err)
			}
			assertSnapshot(t, ns, before, "after Down")
		})
	}
}

// TestNetHostRollback makes Up fail after it changed things and checks it
// undid them.
func TestNetHostRollback(t *testing.T) {
	t.Run("route exists", func(t *testing.T) {
		ns := nstest.New(t)
		mustOpenTUN(t, ns, TUNConfig{Name: "ppp0"})
		ns.Run("ip", "route", "add", "203.0.113.0/25", "dev", "lo", "metric", "200")
		before := snapshot(t, ns)
		h := newHost(t, NetConfig{Routes: []netip.Prefix{netA, netB}, Metric: 200})
		err := up(ns, h, linkInfo)
		want := "tunnel: add route 203.0.113.0/25 dev ppp0 metric 200: a route to 203.0.113.0/25 with that metric exists already (remove it, or choose another metric)"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("Up = %v, want %q", err, want)
		}
		assertSnapshot(t, ns, before, "after the failed Up")
		if err := down(ns, h, linkInfo); err != nil {
			t.Errorf("Down after a failed Up: %v", err)
		}
		assertSnapshot(t, ns, before, "after Down")
	})
	t.Run("proxyarp refused after the default route moved", func(t *testing.T) {
		ns, _ := gatewayNS(t, "")
		before := snapshot(t, ns)
		h := newHost(t, NetConfig{DefaultRoute: true, PinHost: netip.MustParseAddr("203.0.113.7"), Routes: []netip.Prefix{netB}, ProxyARP: true})
		err := up(ns, h, linkInfo)
		if err == nil || !strings.Contains(err.Error(), "no Ethernet interface here has a subnet containing the peer's address 192.0.2.2") {
			t.Fatalf("Up = %v, want the proxyarp refusal", err)
		}
		assertSnapshot(t, ns, before, "after the failed Up")
	})
}

// TestNetHostTUNGone closes the TUN before Down, as happens when the process
// is exiting: Down must still restore the rest and report no error.
func TestNetHostTUNGone(t *testing.T) {
	ns, _ := gatewayNS(t, "")
	before := snapshot(t, ns)
	tun := mustOpenTUN(t, ns, TUNConfig{Name: "ppp9"})
	info := linkInfo
	info.Interface = "ppp9"
	h := newHost(t, NetConfig{DefaultRoute: true, PinHost: netip.MustParseAddr("203.0.113.7"), Routes: []netip.Prefix{netB}})
	if err := up(ns, h, info); err != nil {
		t.Fatalf("Up: %v", err)
	}
	tun.Close()
	if err := down(ns, h, info); err != nil {
		t.Fatalf("Down after the TUN was closed: %v", err)
	}
	assertSnapshot(t, ns, before, "after Down with the TUN gone")
	if err := down(ns, h, info); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

// TestNetHostPersistentTUN attaches to a persistent TUN that the
// administrator gave its address already: Down leaves that address and the
// device.
func TestNetHostPersistentTUN(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "tuntap", "add", "dev", "pst0", "mode", "tun")
	ns.Run("ip", "addr", "add", "192.0.2.1", "peer", "192.0.2.2", "dev", "pst0")
	before := snapshot(t, ns)
	tun := mustOpenTUN(t, ns, TUNConfig{Name: "pst0"})
	if tun.Created() {
		t.Fatalf("Created() = true for a persistent TUN")
	}
	info := linkInfo
	info.Interface = "pst0"
	h := newHost(t, NetConfig{Routes: []netip.Prefix{netA}})
	if err := up(ns, h, info); err != nil {
		t.Fatalf("Up: %v", err)
	}
	if _, ok := routesVia(t, ns, "pst0")[netA]; !ok {
		t.Errorf("no route to %v via pst0", netA)
	}
	if err := down(ns, h, info); err != nil {
		t.Fatalf("Down: %v", err)
	}
	tun.Close()
	assertSnapshot(t, ns, before, "after Down and Close")
}

// netCheckHelper attaches, as whatever user it runs as, to the persistent
// TUN args[1] through the clone device args[0], and runs a CheckOnly NetHost
// for 192.0.2.1 peer 192.0.2.2, MTU args[2].
var netCheckHelper = nstest.Register("net-check", func(args []string) int {
	tun, err := OpenTUN(TUNConfig{CloneDevice: args[0], Name: args[1]})
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		return 1
	}
	defer tun.Close()
	var mtu int
	fmt.Sscan(args[2], &mtu)
	h, err := NewNetHost(NetConfig{CheckOnly: true, Routes: []netip.Prefix{netA}})
	if err != nil {
		fmt.Printf("ERR %v\n", err)
		return 1
	}
	info := linkInfo
	info.Interface, info.MTU = args[1], mtu
	fmt.Printf("netadmin=%v\n", HasNetAdmin())
	if err := h.Up(info); err != nil {
		fmt.Printf("CHECK %v\n", err)
		return 0
	}
	h.Down(info)
	fmt.Println("CHECK ok")
	return 0
})

func TestNetHostCheckOnly(t *testing.T) {
	ns := nstest.New(t)
	clone := cloneNode(t, 0o666)
	ns.Run("ip", "tuntap", "add", "dev", "pst0", "mode", "tun", "user", "nobody")
	ns.Run("ip", "link", "set", "dev", "pst0", "mtu", "1400", "up")

	check := func(mtu string) string {
		t.Helper()
		cmd := ns.Helper(netCheckHelper, clone, "pst0", mtu)
		nstest.RunAs(cmd, uidNobody, gidNogrp)
		p := ns.Start(cmd)
		if err := p.Wait(); err != nil {
			t.Fatalf("helper: %v\n%s", err, p.Output())
		}
		return p.Output()
	}

	out := check("1400")
	want := "netadmin=false\nCHECK tunnel: pst0 has no address 192.0.2.1 peer 192.0.2.2; pst0 has no route to 198.51.100.0/24; " +
		"ask the administrator to run: ip addr add 192.0.2.1 peer 192.0.2.2 dev pst0; ip route add 198.51.100.0/24 dev pst0\n"
	if out != want {
		t.Errorf("check of a bare TUN:\n got %q\nwant %q", out, want)
	}

	ns.Run("ip", "route", "add", "198.51.100.0/24", "dev", "pst0")
	out = check("1400")
	want = "netadmin=false\nCHECK tunnel: pst0 has no address 192.0.2.1 peer 192.0.2.2; ask the administrator to run: ip addr add 192.0.2.1 peer 192.0.2.2 dev pst0\n"
	if out != want {
		t.Errorf("check of a TUN without its address:\n got %q\nwant %q", out, want)
	}

	ns.Run("ip", "addr", "add", "192.0.2.1", "peer", "192.0.2.2", "dev", "pst0")
	before := snapshot(t, ns)
	if out := check("1400"); out != "netadmin=false\nCHECK ok\n" {
		t.Errorf("check of a configured TUN: %q, want ok", out)
	}
	if out := check("1300"); !strings.Contains(out, "pst0 has MTU 1400, above the link's 1300; ask the administrator to run: ip link set dev pst0 mtu 1300") {
		t.Errorf("check with a smaller link MTU: %q", out)
	}
	assertSnapshot(t, ns, before, "after the checks")

	// A CheckError carries the parts separately.
	var ce *CheckError
	err := up(ns, newHost(t, NetConfig{CheckOnly: true, DefaultRoute: true}), LinkInfo{Interface: "pst0", Local: local, Peer: peer, MTU: 1400})
	if !errors.As(err, &ce) || len(ce.Commands) != 1 || ce.Commands[0] != "ip route replace default dev pst0" {
		t.Errorf("CheckOnly with DefaultRoute on a TUN that is not the default: %#v", err)
	}
}

func TestNewNetHostRejects(t *testing.T) {
	for _, tc := range []struct {
		cfg  NetConfig
		want string
	}{
		{NetConfig{Routes: []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")}}, "tunnel: route 198.51.100.1/24 has host bits set (did you mean 198.51.100.0/24?)"},
		{NetConfig{Routes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}}, "tunnel: route 2001:db8::/32: only IPv4 prefixes"},
		{NetConfig{Routes: []netip.Prefix{{}}}, "tunnel: invalid route prefix"},
		{NetConfig{Metric: -1}, "tunnel: route metric -1 is negative"},
	} {
		if _, err := NewNetHost(tc.cfg); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("NewNetHost(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	h := newHost(t, NetConfig{})
	for _, info := range []LinkInfo{
		{Local: local, Peer: peer, MTU: 1500},
		{Interface: "ppp0", Peer: peer, MTU: 1500},
		{Interface: "ppp0", Local: local, Peer: peer, MTU: 20},
	} {
		if err := h.Up(info); err == nil {
			t.Errorf("Up(%+v) succeeded, want an error", info)
		}
	}
	if err := h.Down(LinkInfo{}); err != nil {
		t.Errorf("Down without Up: %v", err)
	}
}

// TestHasNetAdmin checks the capability probe as root; TestNetHostCheckOnly
// checks it as nobody.
func TestHasNetAdmin(t *testing.T) {
	nstest.RequireRoot(t)
	if !HasNetAdmin() {
		t.Errorf("HasNetAdmin() = false as root")
	}
}
