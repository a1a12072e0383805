package tunnel_test

import (
	"bytes"
	"testing"
	"testing/synctest"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/ipv6cp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/tunnel"
)

// udp6Packet builds an IPv6/UDP packet of n octets (n >= 48) between the
// link-local addresses of src and dst, with gopacket.
func udp6Packet(src, dst ipv6cp.InterfaceID, n int, seed byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: src.LinkLocal().AsSlice(), DstIP: dst.LinkLocal().AsSlice()}
	udp := &layers.UDP{SrcPort: 4000, DstPort: 5000}
	_ = udp.SetNetworkLayerForChecksum(ip)
	payload := make([]byte, n-48)
	for i := range payload {
		payload[i] = seed + byte(i)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// TestIPv6ThroughEngines runs IPV6CP beside IPCP between two engines: IPv6
// and IPv4 packets read from one device in one batch, mixed, come out of
// the other device intact and in order, both ways.
func TestIPv6ThroughEngines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		iidA, iidB := ipv6cp.InterfaceID{7: 1}, ipv6cp.InterfaceID{7: 2}
		a, b := startPair(t.Context(),
			tunnel.Config{Link: link.Config{IPV6CP: &ipv6cp.Config{Local: iidA}}},
			tunnel.Config{Link: link.Config{IPV6CP: &ipv6cp.Config{Local: iidB}}})
		a.waitUp(t)
		b.waitUp(t)
		synctest.Wait()
		if s := a.eng.Status(); s.IPV6CP.Peer != iidB {
			t.Fatalf("A's IPV6CP: state %v, peer %v; want Opened with %v", s.IPV6CPState, s.IPV6CP.Peer, iidB)
		}
		for _, dir := range []struct {
			name     string
			from, to *peer
			src, dst ipv6cp.InterfaceID
		}{{"A to B", a, b, iidA, iidB}, {"B to A", b, a, iidB, iidA}} {
			pkts := [][]byte{
				udp6Packet(dir.src, dir.dst, 1500, 1),
				udpPacket(addrA, addrB, 300, 2),
				udp6Packet(dir.src, dir.dst, 48, 3),
				udp6Packet(dir.src, dir.dst, 700, 4),
				udpPacket(addrA, addrB, 28, 5),
			}
			for _, p := range pkts {
				dir.from.dev.Outbound <- p
			}
			got := receive(t, dir.to.dev, len(pkts))
			for i := range pkts {
				if !bytes.Equal(got[i], pkts[i]) {
					t.Errorf("%s: packet %d: got %d octets (version %d), want %d (version %d)",
						dir.name, i, len(got[i]), got[i][0]>>4, len(pkts[i]), pkts[i][0]>>4)
				}
			}
		}
		stopPair(t, a, b)
	})
}
