package tunnel

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pppssh/pppssh/internal/nstest"
)

// e2eTransferSize is what TestE2ELink moves through the tunnel each way:
// 200 MiB.
const e2eTransferSize = 200 << 20

// TestE2ELink runs two engine processes in two namespaces, joined by TCP
// over a veth pair, with real TUN devices: A assigns the addresses
// 192.0.2.1:192.0.2.2 and B asks for an MRU of 1200. It checks each TUN's
// MTU against the negotiated MRU, pings both ways (at the largest size each
// direction allows, too), moves 200 MiB each way over TCP through the tunnel
// and compares what arrived with what was sent, and ends the link.
func TestE2ELink(t *testing.T) {
	t.Parallel()
	requirePing(t)
	a, b := nstest.New(t), nstest.New(t)
	transportVeth(t, a, b)
	ea, eb, upA, upB := startEngines(t, a, b,
		[]string{"-local", "192.0.2.1", "-remote", "192.0.2.2"},
		[]string{"-mru", "1200"})

	// A may send B packets of at most B's MRU; B sends A up to pppd's
	// default 1500.
	wantA := upInfo{"ppp0", netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 1200}
	wantB := upInfo{"ppp0", netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1"), 1500}
	if upA != wantA || upB != wantB {
		t.Errorf("IPCP up: A %+v, B %+v; want A %+v, B %+v", upA, upB, wantA, wantB)
	}
	if mtu := linkMTU(t, a, upA.Iface); mtu != 1200 {
		t.Errorf("A's %s has MTU %d, want B's MRU 1200", upA.Iface, mtu)
	}
	if mtu := linkMTU(t, b, upB.Iface); mtu != 1500 {
		t.Errorf("B's %s has MTU %d, want A's MRU 1500", upB.Iface, mtu)
	}

	t.Run("ping", func(t *testing.T) {
		mustPing(t, a, "192.0.2.2")
		mustPing(t, b, "192.0.2.1")
		// The largest unfragmented packets: 1200 octets from A, 1500
		// from B (A's reply to that is fragmented to fit its MTU).
		mustPing(t, a, "192.0.2.2", "-M", "do", "-s", "1172")
		mustPing(t, b, "192.0.2.1", "-M", "do", "-s", "1472")
	})

	// Both directions at once, each engine carrying one flow's data and
	// the other's acknowledgements.
	t.Run("transfer", func(t *testing.T) {
		for _, dir := range []struct {
			name     string
			from, to *nstest.NS
			dst      string
			seed     uint64
		}{
			{"A to B", a, b, "192.0.2.2:5001", 1},
			{"B to A", b, a, "192.0.2.1:5002", 2},
		} {
			t.Run(dir.name, func(t *testing.T) {
				t.Parallel()
				r := transfer(t, dir.from, dir.to, dir.dst, e2eTransferSize, dir.seed, 5*time.Minute)
				t.Logf("%d MiB in %v: %.0f Mbit/s", r.Received>>20, r.Elapsed.Round(time.Millisecond), mbps(r.Received, r.Elapsed))
			})
		}
	})

	// B ends the link: it says so to A, and both TUNs go.
	if err := eb.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if class, ended := eb.waitEnd(t, e2eTimeout); class != "canceled" {
		t.Errorf("B ended with %s (%s), want the context's cancellation", class, ended)
	}
	if class, ended := ea.waitEnd(t, e2eTimeout); class != "peer-terminated" {
		t.Errorf("A ended with %s (%s), want B's Terminate-Request", class, ended)
	}
	if err := eb.Wait(); err != nil {
		t.Errorf("B: %v, want exit status 0", err)
	}
	if !ea.tunGone() || !eb.tunGone() {
		t.Errorf("a TUN outlived its engine's Run:\nA: %s\nB: %s", outputLine(ea.Output(), "tun "), outputLine(eb.Output(), "tun "))
	}
}
