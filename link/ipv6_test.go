package link

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/ipv6cp"
	"github.com/pppssh/pppssh/ppp"
)

var (
	iidA = ipv6cp.InterfaceID{7: 1}
	iidB = ipv6cp.InterfaceID{7: 2}
)

// v6 returns an IPV6CP configuration with our identifier local.
func v6(local ipv6cp.InterfaceID) *ipv6cp.Config { return &ipv6cp.Config{Local: local} }

// ipv6Packet returns an IPv6 packet of n octets (n >= 40) from the
// link-local address of src.
func ipv6Packet(src ipv6cp.InterfaceID, n int) []byte {
	p := make([]byte, n)
	p[0] = 0x60
	p[4], p[5] = byte((n-40)>>8), byte(n-40)
	p[6] = 59 // No Next Header
	p[7] = 64
	copy(p[8:], src.LinkLocal().AsSlice())
	return p
}

// waitEvent waits for an event of kind k on e, failing if the link ends
// first.
func (e *end) waitEvent(t *testing.T, k EventKind) Event {
	t.Helper()
	for {
		select {
		case ev := <-e.events:
			if ev.Kind == k {
				return ev
			}
		case err := <-e.done:
			t.Fatalf("link ended before event %d: %v", k, err)
		}
	}
}

// TestIPv6AlongsideIPv4 runs IPCP and IPV6CP on one link: both open, each
// side learns the other's interface identifier, and IPv4 and IPv6 packets
// cross both ways, each handed over with its own protocol.
func TestIPv6AlongsideIPv4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca := Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}, IPV6CP: v6(iidA)}
		cb := Config{IPV6CP: v6(iidB)}
		a, b := pipePair(t, t.Context(), ca, cb)
		na := a.waitEvent(t, EventIPV6CPUp).IPV6CP
		nb := b.waitEvent(t, EventIPV6CPUp).IPV6CP
		a.waitIPCP(t)
		b.waitIPCP(t)
		synctest.Wait()
		if na.Local != iidA || na.Peer != iidB || nb.Local != iidB || nb.Peer != iidA {
			t.Fatalf("identifiers: A %v/%v, B %v/%v", na.Local, na.Peer, nb.Local, nb.Peer)
		}
		if s := a.l.Status(); s.IPV6CPState != ppp.StateOpened || s.IPCPState != ppp.StateOpened || s.IPV6CP.Peer != iidB {
			t.Errorf("A's status: IPV6CP %v, IPCP %v, IPV6CP peer %v", s.IPV6CPState, s.IPCPState, s.IPV6CP.Peer)
		}

		p6, p4 := ipv6Packet(iidA, 1280), ipv4Packet(addrA, addrB, 600)
		if err := a.l.WritePacket(ppp.ProtoIPv6, p6); err != nil {
			t.Fatal(err)
		}
		if err := a.l.WritePacket(ppp.ProtoIPv4, p4); err != nil {
			t.Fatal(err)
		}
		back := ipv6Packet(iidB, 100)
		if err := b.l.WritePackets(ppp.ProtoIPv6, [][]byte{append(make([]byte, MaxHeaderLen), back...)}, []int{len(back)}, MaxHeaderLen); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		got, protos := b.pkts.got(), b.pkts.gotProtos()
		if len(got) != 2 || !bytes.Equal(got[0], p6) || protos[0] != ppp.ProtoIPv6 || !bytes.Equal(got[1], p4) || protos[1] != ppp.ProtoIPv4 {
			t.Errorf("B received %d packets with protocols %v, want the IPv6 and the IPv4 packet A sent", len(got), protos)
		}
		if got := a.pkts.got(); len(got) != 1 || !bytes.Equal(got[0], back) || a.pkts.gotProtos()[0] != ppp.ProtoIPv6 {
			t.Errorf("A received %d packets, want B's IPv6 packet", len(got))
		}
		a.l.Close()
		<-a.done
		<-b.done
	})
}

// TestIPv6RejectedByPeer: a peer that does not run IPV6CP (as pppd without
// +ipv6) Protocol-Rejects it; the link carries on with IPv4 alone, and IPv6
// packets are dropped as not open.
func TestIPv6RejectedByPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca := Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}, IPV6CP: v6(iidA)}
		a, b := pipePair(t, t.Context(), ca, Config{})
		a.waitIPCP(t)
		b.waitIPCP(t)
		synctest.Wait()
		if s := a.l.Status(); s.IPV6CPState == ppp.StateOpened || s.IPCPState != ppp.StateOpened || s.Phase != ppp.PhaseNetwork {
			t.Fatalf("A: IPV6CP %v, IPCP %v, phase %v; want IPv4 only", s.IPV6CPState, s.IPCPState, s.Phase)
		}
		if n := b.l.Status().Counters.ProtocolRejects; n == 0 {
			t.Error("B sent no Protocol-Reject of IPV6CP")
		}
		before := a.l.Status().Counters.DropNotOpen
		if err := a.l.WritePacket(ppp.ProtoIPv6, ipv6Packet(iidA, 100)); err != nil {
			t.Fatal(err)
		}
		if got := a.l.Status().Counters.DropNotOpen - before; got != 1 {
			t.Errorf("an IPv6 packet without IPV6CP: %d dropped as not open, want 1", got)
		}
		a.l.Close()
		<-a.done
		<-b.done
	})
}

// TestIPv6Only runs IPV6CP without IPCP on both ends (noip): IPv6 flows,
// IPv4 does not, and the peer's IPCP would be Protocol-Rejected.
func TestIPv6Only(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipePair(t, t.Context(), Config{NoIPCP: true, IPV6CP: v6(iidA)}, Config{NoIPCP: true, IPV6CP: v6(iidB)})
		a.waitEvent(t, EventIPV6CPUp)
		b.waitEvent(t, EventIPV6CPUp)
		synctest.Wait()
		if s := a.l.Status(); s.IPCPState == ppp.StateOpened {
			t.Errorf("A's IPCP is %v with noip", s.IPCPState)
		}
		if err := a.l.WritePacket(ppp.ProtoIPv4, ipv4Packet(addrA, addrB, 100)); err != nil {
			t.Fatal(err)
		}
		if err := a.l.WritePacket(ppp.ProtoIPv6, ipv6Packet(iidA, 100)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := b.pkts.gotProtos(); len(got) != 1 || got[0] != ppp.ProtoIPv6 {
			t.Errorf("B received protocols %v, want one IPv6 packet", got)
		}
		a.l.Close()
		<-a.done
		<-b.done
	})
}

// TestIPv6FailsIPv4Stays: the identifiers cannot be agreed (both ends
// insist on the same one), so IPV6CP closes with the reason; IPCP keeps
// the link up. With IPv6 the only protocol, the same failure ends the link
// with that reason.
func TestIPv6FailsIPv4Stays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		same := &ipv6cp.Config{Local: iidA, Remote: iidB}
		ca := Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}, IPV6CP: same}
		cb := Config{IPV6CP: same}
		a, b := pipePair(t, t.Context(), ca, cb)
		a.waitIPCP(t)
		synctest.Wait()
		if s := a.l.Status(); s.IPV6CPState == ppp.StateOpened || s.IPCPState != ppp.StateOpened || s.LCPState != ppp.StateOpened {
			t.Fatalf("A: LCP %v, IPCP %v, IPV6CP %v; want IPv4 up and IPV6CP down", s.LCPState, s.IPCPState, s.IPV6CPState)
		}
		a.l.Close()
		<-a.done
		<-b.done
	})
	synctest.Test(t, func(t *testing.T) {
		same := &ipv6cp.Config{Local: iidA, Remote: iidB}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		a, b := pipePair(t, ctx, Config{NoIPCP: true, IPV6CP: same}, Config{NoIPCP: true, IPV6CP: same})
		errA := <-a.done
		var ie *ipv6cp.IdentifierError
		if !errors.As(errA, &ie) {
			t.Errorf("A ended with %v, want the *ipv6cp.IdentifierError", errA)
		}
		<-b.done
	})
}

// TestNoNetworkProtocol: with IPv4 and IPv6 both off there is nothing to
// run, and the link ends saying so.
func TestNoNetworkProtocol(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipePair(t, t.Context(), Config{NoIPCP: true}, Config{})
		if err := <-a.done; err == nil || !strings.Contains(err.Error(), "no network protocol") {
			t.Errorf("A ended with %v, want no network protocol", err)
		}
		<-b.done
	})
}
