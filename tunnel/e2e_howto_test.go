package tunnel

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/vishvananda/netlink"
)

// The topology of the VPN PPP-SSH mini-HOWTO, one namespace per machine:
//
//	WA (198.51.100.2) ─ LAN A ─ VA ══ PPP over TCP ══ VB ─ LAN B ─ WB (203.0.113.2)
//	                 198.51.100.0/24                 203.0.113.0/24
//
// VA and VB are the VPN gateways, WA and WB a workstation on each LAN.

// setForwarding turns IPv4 forwarding on in ns, and only there: opened
// from a thread in ns, the sysctl is that of ns.
func setForwarding(t *testing.T, ns *nstest.NS) {
	t.Helper()
	guardHostForwarding(t)
	ns.MustDo(func() error { return os.WriteFile(ipForwardPath, []byte("1\n"), 0o644) })
}

// TestE2EHowtoRoutes is the HOWTO's network-to-network VPN: each gateway
// routes the other LAN through the link (the HOWTO's "route add -net" on one
// end and its sshroute script on the other), the workstations use their
// gateway as the default route, and the gateways forward. Workstation A and
// workstation B then reach each other. Ending the link leaves both gateways
// as they were.
func TestE2EHowtoRoutes(t *testing.T) {
	t.Parallel()
	requirePing(t)
	wa, va, vb, wb := nstest.New(t), nstest.New(t), nstest.New(t), nstest.New(t)
	nstest.Veth(t, wa, va, netip.MustParsePrefix("198.51.100.2/24"), netip.MustParsePrefix("198.51.100.1/24"))
	nstest.Veth(t, vb, wb, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
	wa.Run("ip", "route", "add", "default", "via", "198.51.100.1")
	wb.Run("ip", "route", "add", "default", "via", "203.0.113.1")
	transportVeth(t, va, vb)
	setForwarding(t, va)
	setForwarding(t, vb)
	beforeA, beforeB := snapshot(t, va), snapshot(t, vb)

	ea, eb, _, _ := startEngines(t, va, vb,
		[]string{"-local", "192.0.2.1", "-remote", "192.0.2.2", "-route", "203.0.113.0/24"},
		[]string{"-route", "198.51.100.0/24"})
	if _, ok := routesVia(t, va, "ppp0")[netip.MustParsePrefix("203.0.113.0/24")]; !ok {
		t.Errorf("VPN A has no route to LAN B through ppp0:\n%s", va.Run("ip", "-4", "route"))
	}
	if _, ok := routesVia(t, vb, "ppp0")[netip.MustParsePrefix("198.51.100.0/24")]; !ok {
		t.Errorf("VPN B has no route to LAN A through ppp0:\n%s", vb.Run("ip", "-4", "route"))
	}

	mustPing(t, wa, "203.0.113.2")
	mustPing(t, wb, "198.51.100.2")
	transfer(t, wa, wb, "203.0.113.2:5001", 8<<20, 3, e2eTimeout)
	transfer(t, wb, wa, "198.51.100.2:5002", 8<<20, 4, e2eTimeout)

	// VPN A's engine ends the link; each gateway takes its routes back.
	if err := ea.Stop(e2eTimeout); err != nil {
		t.Errorf("VPN A's engine: %v, want exit status 0", err)
	}
	if class, ended := eb.waitEnd(t, e2eTimeout); class != "peer-terminated" {
		t.Errorf("VPN B's engine ended with %s (%s), want A's Terminate-Request", class, ended)
	}
	assertSnapshot(t, va, beforeA, "after VPN A's engine exited")
	assertSnapshot(t, vb, beforeB, "after VPN B's link ended (its engine still running)")
	if out, ok := ping(wa, "-c", "1", "-W", "1", "-n", "203.0.113.2"); ok {
		t.Errorf("workstation A still reaches workstation B after the link ended:\n%s", out)
	}
}

// TestE2EHowtoProxyARP gives VPN A a link address inside LAN B
// (203.0.113.99, the HOWTO's 193.6.37.99) and VPN B none there, so that
// workstation B, which knows only its LAN and has no route to VPN A, must
// reach 203.0.113.99 by ARP on its LAN. With proxyarp on VPN B, VPN B
// answers that ARP request and forwards into the link, and workstation B
// answers VPN A's ping. Without proxyarp the echo requests still reach
// workstation B, but its replies die unresolved: the ping fails.
func TestE2EHowtoProxyARP(t *testing.T) {
	t.Parallel()
	requirePing(t)
	for _, proxy := range []bool{false, true} {
		name := "without proxyarp"
		if proxy {
			name = "with proxyarp"
		}
		t.Run(name, func(t *testing.T) {
			va, vb, wb := nstest.New(t), nstest.New(t), nstest.New(t)
			lanVB, lanWB := nstest.Veth(t, vb, wb, netip.MustParsePrefix("203.0.113.1/24"), netip.MustParsePrefix("203.0.113.2/24"))
			transportVeth(t, vb, va)
			// Forwarding on in both cases, so that proxy ARP is the only
			// difference (with proxyarp the engine turns it on itself).
			setForwarding(t, vb)
			beforeVB := snapshot(t, vb)

			argsVB := []string{"-local", "192.0.2.2", "-remote", "203.0.113.99"}
			if proxy {
				argsVB = append(argsVB, "-proxyarp")
			}
			eb, ea, _, upA := startEngines(t, vb, va, argsVB, []string{"-route", "203.0.113.0/24"})
			if upA.Local != netip.MustParseAddr("203.0.113.99") {
				t.Fatalf("VPN A's link address is %v, want 203.0.113.99 from VPN B", upA.Local)
			}
			proxied := vb.Run("ip", "-4", "neigh", "show", "proxy")
			if got := strings.Contains(proxied, "203.0.113.99 dev "+lanVB); got != proxy {
				t.Errorf("VPN B publishes 203.0.113.99 on %s: %v, want %v; proxy entries:\n%s", lanVB, got, proxy, proxied)
			}

			echoesBefore := icmpInEchos(t, wb)
			out, ok := ping(va, "-c", "3", "-i", "0.2", "-W", "3", "-n", "203.0.113.2")
			if echoes := icmpInEchos(t, wb) - echoesBefore; echoes < 3 {
				t.Errorf("workstation B received %d echo requests from VPN A, want 3 (the way there must work either way)", echoes)
			}
			neigh := wb.Run("ip", "-4", "neigh", "show", "203.0.113.99", "dev", lanWB)
			if proxy {
				if !ok || !strings.Contains(out, " 0% packet loss") {
					t.Errorf("ping from VPN A to workstation B failed with proxyarp on VPN B:\n%s\nworkstation B's neighbours: %s", out, neigh)
				}
				if mac := linkMAC(t, vb, lanVB); !strings.Contains(neigh, "lladdr "+mac) {
					t.Errorf("workstation B resolved 203.0.113.99 to %q, want VPN B's MAC %s", neigh, mac)
				}
			} else {
				if ok || !strings.Contains(out, " 100% packet loss") {
					t.Errorf("ping from VPN A to workstation B got replies without proxyarp (the test would not show proxyarp is needed):\n%s", out)
				}
				if strings.Contains(neigh, "lladdr") {
					t.Errorf("workstation B resolved 203.0.113.99 without proxyarp: %s", neigh)
				}
			}

			if err := eb.Stop(e2eTimeout); err != nil {
				t.Errorf("VPN B's engine: %v, want exit status 0", err)
			}
			if class, ended := ea.waitEnd(t, e2eTimeout); class != "peer-terminated" {
				t.Errorf("VPN A's engine ended with %s (%s), want B's Terminate-Request", class, ended)
			}
			assertSnapshot(t, vb, beforeVB, "after VPN B's engine exited")
		})
	}
}

// icmpInEchos returns the count of ICMP echo requests ns has received.
func icmpInEchos(t *testing.T, ns *nstest.NS) int {
	t.Helper()
	var names []string
	for _, line := range strings.Split(ns.Run("cat", "/proc/net/snmp"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Icmp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "InEchos" && i < len(f) {
				v, err := strconv.Atoi(f[i])
				if err != nil {
					t.Fatalf("InEchos in /proc/net/snmp: %v", err)
				}
				return v
			}
		}
	}
	t.Fatalf("no Icmp InEchos in /proc/net/snmp of %s", ns.Name())
	return 0
}

// linkMAC returns the MAC address of the interface name in ns.
func linkMAC(t *testing.T, ns *nstest.NS, name string) string {
	t.Helper()
	var mac net.HardwareAddr
	ns.MustDo(func() error {
		l, err := netlink.LinkByName(name)
		if err == nil {
			mac = l.Attrs().HardwareAddr
		}
		return err
	})
	return mac.String()
}
