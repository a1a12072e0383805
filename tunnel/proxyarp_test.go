package tunnel

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestProxyARP publishes a peer on a LAN and shows a neighbour on that LAN
// reaching it through the tunnel host.
func TestProxyARP(t *testing.T) {
	hostForward, err := os.ReadFile(ipForwardPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if now, _ := os.ReadFile(ipForwardPath); string(now) != string(hostForward) {
			t.Errorf("the test changed this machine's own %s from %q to %q", ipForwardPath, hostForward, now)
		}
	})

	gw, lan := nstest.New(t), nstest.New(t)
	vGw, vLan := nstest.Veth(t, gw, lan, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
	tun := mustOpenTUN(t, gw, TUNConfig{Name: "ppp0"})
	before := snapshot(t, gw)

	info := LinkInfo{Interface: "ppp0", Local: local, Peer: netip.MustParseAddr("203.0.113.50"), MTU: 1500}
	h := newHost(t, NetConfig{ProxyARP: true})
	if err := up(gw, h, info); err != nil {
		t.Fatalf("Up: %v", err)
	}

	var gwMAC net.HardwareAddr
	gw.MustDo(func() error {
		l, err := netlink.LinkByName(vGw)
		if err != nil {
			return err
		}
		gwMAC = l.Attrs().HardwareAddr
		if !hasProxyEntry(l.Attrs().Index, info.Peer) {
			t.Errorf("no proxy entry for %s on %s", info.Peer, vGw)
		}
		on, err := ipForwarding()
		if !on {
			t.Errorf("IPv4 forwarding is off in the namespace (err %v)", err)
		}
		return nil
	})

	// A host on the LAN sends to the peer: its ARP request is answered with
	// the tunnel host's MAC, and the datagram comes out of the TUN.
	got := make(chan error, 1)
	go func() {
		bufs, sizes := tunBufs(tun.BatchSize())
		for {
			n, err := tun.Read(bufs, sizes, Headroom)
			if err != nil {
				got <- err
				return
			}
			for i := range n {
				p := bufs[i][Headroom : Headroom+sizes[i]]
				if len(p) >= 20 && p[0]>>4 == 4 && p[9] == unix.IPPROTO_UDP &&
					net.IP(p[12:16]).Equal(net.ParseIP("203.0.113.2")) && net.IP(p[16:20]).Equal(net.ParseIP("203.0.113.50")) {
					got <- nil
					return
				}
			}
		}
	}()
	lan.MustDo(func() error {
		c, err := net.Dial("udp4", "203.0.113.50:9")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("to the peer"))
		return err
	})
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("reading the TUN: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a datagram from the LAN to the peer never came out of the TUN; LAN neighbours:\n%s", lan.Run("ip", "neigh"))
	}
	lan.MustDo(func() error {
		l, err := netlink.LinkByName(vLan)
		if err != nil {
			return err
		}
		ns, err := netlink.NeighList(l.Attrs().Index, unix.AF_INET)
		for _, n := range ns {
			if n.IP.Equal(net.ParseIP("203.0.113.50")) {
				if n.HardwareAddr.String() != gwMAC.String() {
					t.Errorf("the LAN resolved 203.0.113.50 to %v, want the tunnel host's %v", n.HardwareAddr, gwMAC)
				}
				return err
			}
		}
		t.Errorf("the LAN has no neighbour entry for 203.0.113.50: %v", ns)
		return err
	})

	if err := down(gw, h, info); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if out := gw.Run("ip", "neigh", "show", "proxy"); strings.Contains(out, "203.0.113.50") {
		t.Errorf("proxy entry left after Down: %s", out)
	}
	assertSnapshot(t, gw, before, "after Down")
}

func TestProxyARPNoSubnet(t *testing.T) {
	gw, lan := nstest.New(t), nstest.New(t)
	nstest.Veth(t, gw, lan, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
	mustOpenTUN(t, gw, TUNConfig{Name: "ppp0"})
	before := snapshot(t, gw)
	h := newHost(t, NetConfig{ProxyARP: true})
	err := up(gw, h, linkInfo) // peer 192.0.2.2: on no LAN here
	want := "tunnel: proxyarp: no Ethernet interface here has a subnet containing the peer's address 192.0.2.2 " +
		"(give the peer an address from a LAN this host is on, or drop proxyarp)"
	if err == nil || err.Error() != want {
		t.Errorf("Up = %v\nwant %s", err, want)
	}
	assertSnapshot(t, gw, before, "after the refused Up")
	var on bool
	gw.MustDo(func() (err error) { on, err = ipForwarding(); return err })
	if on {
		t.Errorf("the refused Up turned on IPv4 forwarding")
	}
}
