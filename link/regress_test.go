package link

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// Regression tests for what the fuzz targets of package fuzz found.

// IPCP reaching Opened with addresses it cannot use (the peer rejected our
// configured address) reports no EventIPCPUp, and closing it then must not
// report an EventIPCPDown either: the events come in pairs. FuzzLinkStream's
// event checker found the unpaired Down.
func TestIPCPDownOnlyAfterUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		var mu sync.Mutex
		var kinds []EventKind
		cfg := Config{
			IPCP: ipcp.Config{Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2")},
			Events: func(ev Event) {
				mu.Lock()
				kinds = append(kinds, ev.Kind)
				mu.Unlock()
			},
		}
		_, done := runLink(t.Context(), ours, cfg)
		p := newRawPeer(theirs)
		p.openLCP(t, nil)
		// Reject our address, acknowledge the request without it, and
		// ask for the address we are to give the peer: IPCP opens with
		// no address for us, reports an *ipcp.AddressError and closes.
		rejected, acked := false, false
		for !acked {
			proto, pkt, err := p.next()
			if err != nil {
				t.Fatalf("raw peer: %v", err)
			}
			if proto != ppp.ProtoIPCP || pkt.Code() != ppp.CodeConfigureRequest {
				continue
			}
			if !rejected {
				p.send(ppp.ProtoIPCP, ppp.CodeConfigureReject, pkt.ID(), pkt.Data())
				rejected = true
				continue
			}
			p.send(ppp.ProtoIPCP, ppp.CodeConfigureAck, pkt.ID(), pkt.Data())
			p.send(ppp.ProtoIPCP, ppp.CodeConfigureRequest, 1, ppp.AppendOptionUint32(nil, ipcp.OptIPAddress, 0xc0000202))
			acked = true
		}
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		err := <-done
		var ae *ipcp.AddressError
		if !errors.As(err, &ae) {
			t.Errorf("Run = %v, want an *ipcp.AddressError", err)
		}
		mu.Lock()
		defer mu.Unlock()
		up := 0
		for _, k := range kinds {
			switch k {
			case EventIPCPUp:
				up++
			case EventIPCPDown:
				if up--; up < 0 {
					t.Fatalf("EventIPCPDown without EventIPCPUp: events %v", kinds)
				}
			}
		}
	})
}

// Once the 32-bit FCS is agreed (RFC 1570), a frame other than LCP that
// carries only a good 16-bit FCS is dropped: damage that FCS-32 would catch
// passes a 16-bit check once in 65536, so a receiver that agreed on FCS-32
// but accepted FCS-16 frames too would detect corruption no better than
// without FCS-32. LCP packets still pass with either, since Configure,
// Terminate and Code-Reject packets are sent with the default FCS.
// FuzzEnginePair's integrity check depends on it.
func TestFCS32Enforced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		lc := lcpConfig(func(c *lcp.Config) { c.Want.NegFCS, c.Allow.NegFCS = true, true })
		sink := &packetSink{}
		l, done := runLink(t.Context(), ours, Config{LCP: lc, IPCP: ipcp.Config{Local: addrA, Remote: addrB}, Packets: sink})
		p := newRawPeer(theirs)
		p.dec.SetFCS(hdlc.FCSEither)
		p.openLCP(t, ppp.AppendOption(nil, lcp.OptFCSAlternatives, byte(lcp.FCS32)))
		var enc32 hdlc.Encoder
		enc32.SetFCS(hdlc.FCS32)
		send32 := func(proto ppp.Protocol, info []byte) {
			_, _ = theirs.Write(enc32.AppendFrame(nil, append(ppp.AppendHeader(nil, proto, false, false), info...)))
		}
		for opened := false; !opened; {
			proto, pkt, err := p.next()
			if err != nil {
				t.Fatalf("raw peer: %v", err)
			}
			if proto == ppp.ProtoIPCP && pkt.Code() == ppp.CodeConfigureRequest {
				send32(ppp.ProtoIPCP, ppp.AppendPacket(nil, ppp.CodeConfigureAck, pkt.ID(), pkt.Data()))
				send32(ppp.ProtoIPCP, ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, ppp.AppendOptionUint32(nil, ipcp.OptIPAddress, 0xc0000202)))
				opened = true
			}
		}
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		synctest.Wait()
		if s := l.Status(); s.IPCPState != ppp.StateOpened || s.LCP.RecvFCS != lcp.FCS32 {
			t.Fatalf("IPCP %v, receive FCS %v; want Opened with FCS-32", s.IPCPState, s.LCP.RecvFCS)
		}
		pkt16, pkt32 := ipv4Packet(addrB, addrA, 100), ipv4Packet(addrB, addrA, 200)
		p.sendRaw(ppp.ProtoIPv4, pkt16)
		send32(ppp.ProtoIPv4, pkt32)
		synctest.Wait()
		if got := sink.got(); len(got) != 1 || !bytes.Equal(got[0], pkt32) {
			t.Errorf("received %d packets, want only the one with FCS-32", len(got))
		}
		if n := l.Status().Counters.DropWrongFCS; n != 1 {
			t.Errorf("DropWrongFCS = %d, want 1", n)
		}
		l.Close()
		<-done
	})
}
