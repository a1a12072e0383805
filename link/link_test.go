package link

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
	dns1  = netip.MustParseAddr("198.51.100.53")
	dns2  = netip.MustParseAddr("198.51.100.54")
)

// tap is a stream end that records every octet written through it.
type tap struct {
	net.Conn
	mu     sync.Mutex
	out    bytes.Buffer
	writes []int // the length of every write
}

func (t *tap) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.out.Write(p)
	t.writes = append(t.writes, len(p))
	t.mu.Unlock()
	return t.Conn.Write(p)
}

// writeSizes returns the lengths of the writes from the nth on.
func (t *tap) writeSizes(n int) []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]int(nil), t.writes[n:]...)
}

func (t *tap) written() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.out.Bytes())
}

// end is one side of a test link: the Link, what it wrote, its events and
// the result of Run.
type end struct {
	l      *Link
	tap    *tap
	events chan Event
	done   chan error
	pkts   *packetSink
}

// packetSink keeps the packets handed to it until Flush, as a batching
// handler does: a test sees only flushed packets.
type packetSink struct {
	mu       sync.Mutex
	pending  [][]byte
	pendingP []ppp.Protocol
	pkts     [][]byte
	protos   []ppp.Protocol // the protocol of each of pkts
	flushes  int            // Flush calls that delivered packets
}

func (s *packetSink) HandlePacket(proto ppp.Protocol, pkt []byte) {
	s.mu.Lock()
	s.pending = append(s.pending, bytes.Clone(pkt))
	s.pendingP = append(s.pendingP, proto)
	s.mu.Unlock()
}

func (s *packetSink) Flush() {
	s.mu.Lock()
	if len(s.pending) > 0 {
		s.flushes++
	}
	s.pkts = append(s.pkts, s.pending...)
	s.protos = append(s.protos, s.pendingP...)
	s.pending, s.pendingP = nil, nil
	s.mu.Unlock()
}

// gotProtos returns the protocols of the packets got returns.
func (s *packetSink) gotProtos() []ppp.Protocol {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.protos
}

func (s *packetSink) got() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pkts
}

func start(ctx context.Context, c net.Conn, cfg Config) *end {
	e := &end{
		tap:    &tap{Conn: c},
		events: make(chan Event, 64),
		done:   make(chan error, 1),
		pkts:   &packetSink{},
	}
	cfg.Packets = e.pkts
	cfg.Events = func(ev Event) {
		select {
		case e.events <- ev:
		default:
		}
	}
	e.l = New(e.tap, cfg)
	go func() { e.done <- e.l.Run(ctx) }()
	return e
}

// waitIPCP waits for IPCP to come up (or the link to end) and returns its
// results.
func (e *end) waitIPCP(t *testing.T) ipcp.Negotiated {
	t.Helper()
	for {
		select {
		case ev := <-e.events:
			if ev.Kind == EventIPCPUp {
				return ev.IPCP
			}
		case err := <-e.done:
			t.Fatalf("link ended before IPCP came up: %v", err)
		}
	}
}

func pipePair(t *testing.T, ctx context.Context, a, b Config) (*end, *end) {
	ca, cb := net.Pipe()
	return start(ctx, ca, a), start(ctx, cb, b)
}

func lcpConfig(f func(*lcp.Config)) *lcp.Config {
	c := lcp.DefaultConfig()
	if f != nil {
		f(&c)
	}
	return &c
}

// TestNegotiateCombinations brings two links up over an in-memory stream in
// every combination of the LCP options that change the framing, with and
// without DNS servers offered, checks what each side learnt, moves IP packets
// both ways, terminates from one side, and decodes every frame that crossed
// the wire with gopacket.
func TestNegotiateCombinations(t *testing.T) {
	for _, accm := range []bool{false, true} {
		for _, comp := range []bool{false, true} {
			for _, mru := range []uint16{576, 1500, 4000} {
				for _, dns := range []bool{false, true} {
					name := fmt.Sprintf("accm=%v/pfc+acfc=%v/mru=%d/dns=%v", accm, comp, mru, dns)
					t.Run(name, func(t *testing.T) {
						testNegotiate(t, accm, comp, mru, dns)
					})
				}
			}
		}
	}
}

func testNegotiate(t *testing.T, accm, comp bool, mru uint16, dns bool) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		lc := lcpConfig(func(c *lcp.Config) {
			c.Want.NegACCM = accm
			c.Want.NegPFC, c.Want.NegACFC = comp, comp
			c.Allow.NegPFC, c.Allow.NegACFC = comp, comp
			c.Want.MRU = mru
		})
		ca := Config{LCP: lc, IPCP: ipcp.Config{Local: addrA, Remote: addrB}}
		cb := Config{LCP: lc, IPCP: ipcp.Config{UsePeerDNS: dns}}
		if dns {
			ca.IPCP.DNS = [2]netip.Addr{dns1, dns2}
		}
		a, b := pipePair(t, ctx, ca, cb)
		na, nb := a.waitIPCP(t), b.waitIPCP(t)
		synctest.Wait() // let both control loops settle their status

		if na.Local != addrA || na.Peer != addrB || nb.Local != addrB || nb.Peer != addrA {
			t.Fatalf("addresses: A %v->%v, B %v->%v; want A %v->%v", na.Local, na.Peer, nb.Local, nb.Peer, addrA, addrB)
		}
		if dns && nb.DNS != [2]netip.Addr{dns1, dns2} {
			t.Errorf("B learnt DNS %v, want %v", nb.DNS, [2]netip.Addr{dns1, dns2})
		}
		if !dns && nb.DNS[0].IsValid() {
			t.Errorf("B learnt DNS %v though none was offered", nb.DNS)
		}
		sa, sb := a.l.Status(), b.l.Status()
		for _, s := range []Status{sa, sb} {
			if s.Phase != ppp.PhaseNetwork || s.LCPState != ppp.StateOpened || s.IPCPState != ppp.StateOpened {
				t.Fatalf("status %v/%v/%v, want Network/Opened/Opened", s.Phase, s.LCPState, s.IPCPState)
			}
			if s.LCP.PeerMRU != int(mru) {
				t.Errorf("peer MRU %d, want %d", s.LCP.PeerMRU, mru)
			}
			wantACCM := uint32(0xffffffff)
			if accm {
				wantACCM = 0
			}
			if s.LCP.SendACCM != wantACCM || s.LCP.RecvACCM != wantACCM {
				t.Errorf("ACCM send %#x recv %#x, want %#x", s.LCP.SendACCM, s.LCP.RecvACCM, wantACCM)
			}
			if s.LCP.SendPFC != comp || s.LCP.SendACFC != comp {
				t.Errorf("PFC/ACFC %v/%v, want %v", s.LCP.SendPFC, s.LCP.SendACFC, comp)
			}
		}

		// IP packets cross both ways, intact, up to the peer's MRU.
		pkt := ipv4Packet(addrA, addrB, int(mru))
		if err := a.l.WritePacket(ppp.ProtoIPv4, pkt); err != nil {
			t.Fatal(err)
		}
		back := ipv4Packet(addrB, addrA, 100)
		if err := b.l.WritePacket(ppp.ProtoIPv4, back); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := b.pkts.got(); len(got) != 1 || !bytes.Equal(got[0], pkt) {
			t.Errorf("B received %d packets, want the %d-octet one A sent", len(got), len(pkt))
		}
		if got := a.pkts.got(); len(got) != 1 || !bytes.Equal(got[0], back) {
			t.Errorf("A received %d packets, want the one B sent", len(got))
		}
		// One octet over the peer's MRU is dropped and counted.
		if err := a.l.WritePacket(ppp.ProtoIPv4, ipv4Packet(addrA, addrB, int(mru)+1)); err != nil {
			t.Fatal(err)
		}
		if n := a.l.Status().Counters.DropTooBig; n != 1 {
			t.Errorf("DropTooBig = %d, want 1", n)
		}

		a.l.Close()
		errA, errB := <-a.done, <-b.done
		if !errors.Is(errA, ErrClosed) {
			t.Errorf("A ended with %v, want ErrClosed", errA)
		}
		var ne *ppp.NegotiationError
		if !errors.As(errB, &ne) || !strings.Contains(ne.Reason, "Terminate-Request") {
			t.Errorf("B ended with %v, want the peer's Terminate-Request", errB)
		}
		checkWire(t, a.tap.written(), comp)
		checkWire(t, b.tap.written(), comp)
	})
}

// ipv4Packet returns a well-formed IPv4 packet of n octets (n >= 20).
func ipv4Packet(src, dst netip.Addr, n int) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	payload := bytes.Repeat([]byte{0x7e, 0x7d, 0x11, 0x00}, n)[:n-28]
	udp := &layers.UDP{SrcPort: 9, DstPort: 9}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, udp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// checkWire decodes every frame one end wrote with our decoder, then the PPP
// layer with gopacket, and checks the protocol fields and header rules: LCP
// always with Address, Control and a two-octet Protocol field (RFC 1661
// sections 6.5 and 6.6), other protocols compressed only when negotiated.
func checkWire(t *testing.T, wire []byte, comp bool) {
	t.Helper()
	d := hdlc.NewDecoder(bytes.NewReader(wire))
	d.SetFCS(hdlc.FCS16)
	d.SetACCM(0) // keep control characters the sender did not escape
	d.SetMaxFrame(8000)
	seen := map[ppp.Protocol]int{}
	for {
		frame, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			t.Fatalf("frame % x: %v", frame, err)
		}
		seen[proto]++
		body := frame
		hasAC := len(frame) >= 2 && frame[0] == 0xff && frame[1] == 0x03
		if hasAC {
			body = frame[2:]
		}
		p := gopacket.NewPacket(body, layers.LayerTypePPP, gopacket.Default)
		l, ok := p.Layer(layers.LayerTypePPP).(*layers.PPP)
		if !ok {
			t.Fatalf("gopacket found no PPP layer in % x", frame)
		}
		if ppp.Protocol(l.PPPType) != proto {
			t.Errorf("gopacket reads protocol %#04x, we wrote %v", uint16(l.PPPType), proto)
		}
		if !bytes.Equal(l.Payload, info) {
			t.Errorf("gopacket payload differs for %v", proto)
		}
		if proto == ppp.ProtoLCP && (!hasAC || len(body)-len(info) != 2) {
			t.Errorf("LCP frame with compressed header: % x", frame[:4])
		}
		if proto == ppp.ProtoIPv4 {
			if !comp && (!hasAC || len(body)-len(info) != 2) {
				t.Errorf("IPv4 frame compressed without negotiation: % x", frame[:4])
			}
			if comp && (hasAC || len(body)-len(info) != 1) {
				t.Errorf("IPv4 frame not compressed though negotiated: % x", frame[:4])
			}
			if ip, ok := gopacket.NewPacket(info, layers.LayerTypeIPv4, gopacket.Default).Layer(layers.LayerTypeIPv4).(*layers.IPv4); !ok || ip.Version != 4 {
				t.Errorf("gopacket cannot decode the IPv4 packet we sent")
			}
		}
	}
	if seen[ppp.ProtoLCP] == 0 || seen[ppp.ProtoIPCP] == 0 || seen[ppp.ProtoIPv4] == 0 {
		t.Errorf("frames seen per protocol %v: want LCP, IPCP and IPv4", seen)
	}
}

// TestFCS32 negotiates the 32-bit FCS between two pppssh ends (RFC 1570
// FCS-Alternatives) and keeps FCS-16 when only one end offers it, as with
// pppd; packets cross either way.
func TestFCS32(t *testing.T) {
	for _, both := range []bool{true, false} {
		t.Run(fmt.Sprintf("both=%v", both), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				on := lcpConfig(func(c *lcp.Config) { c.Want.NegFCS, c.Allow.NegFCS = true, true })
				other := on
				if !both {
					other = lcpConfig(nil)
				}
				a, b := pipePair(t, t.Context(),
					Config{LCP: on, IPCP: ipcp.Config{Local: addrA, Remote: addrB}},
					Config{LCP: other})
				a.waitIPCP(t)
				b.waitIPCP(t)
				synctest.Wait()
				want := lcp.FCS16
				if both {
					want = lcp.FCS32
				}
				for _, e := range []*end{a, b} {
					if s := e.l.Status().LCP; s.SendFCS != want || s.RecvFCS != want {
						t.Errorf("FCS send %v recv %v, want %v", s.SendFCS, s.RecvFCS, want)
					}
				}
				pkt := ipv4Packet(addrA, addrB, 1500)
				if err := a.l.WritePacket(ppp.ProtoIPv4, pkt); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if got := b.pkts.got(); len(got) != 1 || !bytes.Equal(got[0], pkt) {
					t.Errorf("B received %d packets, want the one A sent", len(got))
				}
				a.l.Close()
				<-a.done
				<-b.done
			})
		})
	}
}

// TestPeerTerminateThenCancel checks that a link whose peer terminated it
// ends with the peer's reason even when the context is cancelled before
// the link has finished (pppssh server cancels a session's context when the
// client hangs up right after our Terminate-Ack).
func TestPeerTerminateThenCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctxB, cancelB := context.WithCancel(t.Context())
		defer cancelB()
		ca, cb := net.Pipe()
		cfg := Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}
		// A's end of the stream stays open after A's Run, so B sees
		// no end of stream before its context ends.
		a, b := start(t.Context(), keepOpen{ca}, cfg), start(ctxB, cb, Config{})
		a.waitIPCP(t)
		b.waitIPCP(t)
		a.l.Close()
		synctest.Wait() // B has acknowledged and waits out its restart timer
		cancelB()
		errB := <-b.done
		var ne *ppp.NegotiationError
		if !errors.As(errB, &ne) || !strings.Contains(ne.Reason, "Terminate-Request") {
			t.Errorf("B ended with %v, want the peer's Terminate-Request", errB)
		}
		<-a.done
	})
}

// keepOpen is a stream whose Close does nothing.
type keepOpen struct{ net.Conn }

func (keepOpen) Close() error { return nil }
