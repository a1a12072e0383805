package tunnel

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ipForwardPath is the IPv4 forwarding switch. Opened from a thread, it is
// that of the thread's network namespace.
const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// proxyARP publishes peer on the Ethernet interface whose subnet holds it
// (ip neigh add proxy PEER dev ETH) and turns on IPv4 forwarding, which the
// kernel needs before it answers ARP for a proxied address. As pppd does,
// forwarding is left on at Down: another link may need it by then.
func (h *NetHost) proxyARP(tunIdx int, peer netip.Addr) error {
	eth, err := proxyARPInterface(tunIdx, peer)
	if err != nil {
		return err
	}
	name, idx := eth.Attrs().Name, eth.Attrs().Index
	if hasProxyEntry(idx, peer) {
		h.log.Info("proxy ARP entry exists already; leaving it", "peer", peer, "device", name)
	} else {
		n := &netlink.Neigh{LinkIndex: idx, Family: unix.AF_INET, Flags: netlink.NTF_PROXY, State: netlink.NUD_PERMANENT, IP: peer.AsSlice()}
		if err := netlink.NeighAdd(n); err != nil {
			return fmt.Errorf("tunnel: proxyarp: publish %s on %s (ip neigh add proxy %s dev %s): %w", peer, name, peer, name, err)
		}
		entry := fmt.Sprintf("proxy ARP entry for %s on %s", peer, name)
		h.did("added "+entry, "remove "+entry, func() error { return netlink.NeighDel(n) })
	}

	on, err := ipForwarding()
	if err != nil {
		return fmt.Errorf("tunnel: proxyarp: read %s: %w", ipForwardPath, err)
	}
	if !on {
		if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("tunnel: proxyarp: turn on IPv4 forwarding (sysctl -w net.ipv4.ip_forward=1): %w", err)
		}
		h.log.Info("turned on IPv4 forwarding for proxy ARP; it stays on after the link ends, as with pppd")
	}
	return nil
}

// proxyARPInterface finds the interface to publish peer on, as pppd's
// get_ether_addr: up, broadcast-capable Ethernet (not loopback, not
// point-to-point, ARP on, not the TUN itself), with an IPv4 subnet that
// contains peer. The most specific subnet wins.
func proxyARPInterface(tunIdx int, peer netip.Addr) (netlink.Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("tunnel: proxyarp: list interfaces: %w", err)
	}
	var best netlink.Link
	bestBits := -1
	for _, l := range links {
		a := l.Attrs()
		if a.Index == tunIdx || a.EncapType != "ether" || a.Flags&net.FlagUp == 0 ||
			a.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 || a.RawFlags&unix.IFF_NOARP != 0 {
			continue
		}
		addrs, err := netlink.AddrList(l, unix.AF_INET)
		if err != nil {
			return nil, fmt.Errorf("tunnel: proxyarp: list addresses of %s: %w", a.Name, err)
		}
		for _, ad := range addrs {
			if ad.Peer != nil || ad.IPNet == nil {
				continue
			}
			ip, _ := netip.AddrFromSlice(ad.IP)
			ones, _ := ad.Mask.Size()
			if p := netip.PrefixFrom(ip.Unmap(), ones); p.Contains(peer) && ones > bestBits {
				best, bestBits = l, ones
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("tunnel: proxyarp: no Ethernet interface here has a subnet containing the peer's address %s "+
			"(give the peer an address from a LAN this host is on, or drop proxyarp)", peer)
	}
	return best, nil
}

// hasProxyEntry reports whether peer is published on the interface idx.
func hasProxyEntry(idx int, peer netip.Addr) bool {
	ns, err := netlink.NeighProxyList(idx, unix.AF_INET)
	if err != nil {
		return false
	}
	for _, n := range ns {
		if a, ok := netip.AddrFromSlice(n.IP); ok && a.Unmap() == peer && n.LinkIndex == idx {
			return true
		}
	}
	return false
}

// ipForwarding reports whether IPv4 forwarding is on.
func ipForwarding() (bool, error) {
	b, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return false, err
	}
	return string(bytes.TrimSpace(b)) == "1", nil
}
