package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// rawPeer is the far end of a stream driven by hand: it decodes our frames
// and lets the test answer them with packets it builds itself.
type rawPeer struct {
	c   net.Conn
	dec *hdlc.Decoder
	enc hdlc.Encoder
}

func newRawPeer(c net.Conn) *rawPeer {
	p := &rawPeer{c: c, dec: hdlc.NewDecoder(c)}
	p.dec.SetACCM(0)
	p.dec.SetMaxFrame(70000)
	return p
}

// next returns the next packet we sent, skipping none.
func (p *rawPeer) next() (ppp.Protocol, ppp.Packet, error) {
	frame, err := p.dec.ReadFrame()
	if err != nil {
		return 0, nil, err
	}
	proto, info, err := ppp.ParseHeader(frame)
	if err != nil {
		return 0, nil, err
	}
	if !proto.IsControl() {
		return proto, ppp.Packet(bytes.Clone(info)), nil
	}
	pkt, err := ppp.ParsePacket(info)
	return proto, ppp.Packet(bytes.Clone(pkt)), err
}

func (p *rawPeer) send(proto ppp.Protocol, code ppp.Code, id uint8, data []byte) {
	p.sendRaw(proto, ppp.AppendPacket(nil, code, id, data))
}

func (p *rawPeer) sendRaw(proto ppp.Protocol, info []byte) {
	frame := append(ppp.AppendHeader(nil, proto, false, false), info...)
	_, _ = p.c.Write(p.enc.AppendFrame(nil, frame))
}

// openLCP answers our LCP negotiation with a request of its own carrying
// opts and acknowledges ours, until LCP is Opened on our side.
func (p *rawPeer) openLCP(t *testing.T, opts []byte) {
	t.Helper()
	p.send(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, opts)
	acked, gotAck := false, false
	for !acked || !gotAck {
		proto, pkt, err := p.next()
		if err != nil {
			t.Fatalf("raw peer: %v", err)
		}
		if proto != ppp.ProtoLCP {
			continue
		}
		switch pkt.Code() {
		case ppp.CodeConfigureRequest:
			p.send(ppp.ProtoLCP, ppp.CodeConfigureAck, pkt.ID(), pkt.Data())
			acked = true
		case ppp.CodeConfigureAck:
			gotAck = true
		}
	}
}

func runLink(ctx context.Context, c io.ReadWriteCloser, cfg Config) (*Link, chan error) {
	l := New(c, cfg)
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	return l, done
}

// A peer that never answers: LCP gives up after Max-Configure
// Configure-Requests, one restart interval apart.
func TestPeerNeverAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		start := time.Now()
		_, done := runLink(t.Context(), ours, Config{})
		err := <-done
		var ne *ppp.NegotiationError
		if !errors.As(err, &ne) || ne.Protocol != ppp.ProtoLCP {
			t.Fatalf("Run = %v, want an LCP NegotiationError", err)
		}
		if d := time.Since(start); d != 10*ppp.DefaultRestartInterval {
			t.Errorf("gave up after %v, want 10 restart intervals (%v)", d, 10*ppp.DefaultRestartInterval)
		}
		theirs.Close()
	})
}

// A peer that Naks our MRU forever with a value we cannot take: after
// Max-Failure the automaton stops asking... and the link either opens
// without the option or gives up; it must not loop forever.
func TestPeerNaksForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		lc := lcp.DefaultConfig()
		lc.Want.MRU = 4000
		_, done := runLink(t.Context(), ours, Config{LCP: &lc})
		p := newRawPeer(theirs)
		naks := 0
		go func() {
			for {
				proto, pkt, err := p.next()
				if err != nil {
					return
				}
				if proto == ppp.ProtoLCP && pkt.Code() == ppp.CodeConfigureRequest {
					// Nak every option with a nonsense value.
					var nak []byte
					r := ppp.OptionReader(pkt.Data())
					for o, ok := r.Next(); ok; o, ok = r.Next() {
						nak = ppp.AppendOption(nak, o.Type, bytes.Repeat([]byte{0}, len(o.Data))...)
					}
					if nak == nil {
						p.send(ppp.ProtoLCP, ppp.CodeConfigureAck, pkt.ID(), pkt.Data())
						continue
					}
					naks++
					p.send(ppp.ProtoLCP, ppp.CodeConfigureNak, pkt.ID(), nak)
				}
			}
		}()
		select {
		case err := <-done:
			var ne *ppp.NegotiationError
			if !errors.As(err, &ne) {
				t.Fatalf("Run = %v, want a NegotiationError", err)
			}
		case <-time.After(time.Hour):
			t.Fatal("link still negotiating after an hour of Naks")
		}
		theirs.Close()
		if naks == 0 {
			t.Fatal("the peer never Nak'd")
		}
	})
}

// loopback is a stream whose writes come back as reads: a looped-back line.
type loopback struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func newLoopback() *loopback {
	r, w := io.Pipe()
	return &loopback{r, w}
}
func (l *loopback) Read(p []byte) (int, error)  { return l.r.Read(p) }
func (l *loopback) Write(p []byte) (int, error) { return l.w.Write(p) }
func (l *loopback) Close() error                { l.r.Close(); return l.w.Close() }

func TestLoopedBackLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, done := runLink(t.Context(), newLoopback(), Config{})
		err := <-done
		if !errors.Is(err, lcp.ErrLoopedBack) {
			t.Fatalf("Run = %v, want lcp.ErrLoopedBack", err)
		}
	})
}

// The far end prints text instead of speaking PPP, then hangs up: Run
// reports the text.
func TestFarEndPrintsText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		go func() {
			_, _ = theirs.Write([]byte("bash: line 1: pppssh: command not found\n"))
			theirs.Close()
		}()
		_, done := runLink(t.Context(), ours, Config{})
		err := <-done
		var se *StreamError
		if !errors.As(err, &se) {
			t.Fatalf("Run = %v, want a StreamError", err)
		}
		if !strings.Contains(string(se.Output), "pppssh: command not found") {
			t.Errorf("Output = %q, want the far end's message", se.Output)
		}
		if !strings.Contains(err.Error(), "command not found") {
			t.Errorf("error %q does not show the far end's message", err)
		}
	})
}

// An unknown protocol in the Network phase gets an LCP Protocol-Reject with
// the information truncated to the peer's MRU; before the Network phase it
// is dropped silently.
func TestProtocolReject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		l, done := runLink(t.Context(), ours, Config{})
		p := newRawPeer(theirs)

		// Before LCP is up: dropped silently.
		p.sendRaw(0x4021, []byte{1, 2, 3})
		p.openLCP(t, ppp.AppendOptionUint16(nil, lcp.OptMRU, 600))
		synctest.Wait()
		if n := l.Status().Counters.ProtocolRejects; n != 0 {
			t.Fatalf("%d Protocol-Rejects sent before the Network phase", n)
		}

		// In the Network phase: rejected, truncated to the peer's MRU.
		big := bytes.Repeat([]byte{0xab}, 1400)
		p.sendRaw(0x4021, big)
		for {
			proto, pkt, err := p.next()
			if err != nil {
				t.Fatalf("reading our Protocol-Reject: %v (Run: %v)", err, <-done)
			}
			if proto != ppp.ProtoLCP || pkt.Code() != ppp.CodeProtocolReject {
				continue
			}
			d := pkt.Data()
			if len(pkt) != 600 {
				t.Errorf("Protocol-Reject of %d octets, want it truncated to the peer's MRU 600", len(pkt))
			}
			if d[0] != 0x40 || d[1] != 0x21 || !bytes.Equal(d[2:], big[:len(d)-2]) {
				t.Errorf("Protocol-Reject data % x..., want 40 21 then the rejected information", d[:8])
			}
			break
		}
		l.Close()
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("Run = %v, want ErrClosed", err)
		}
	})
}

// mute drops everything written through it once muted: a peer that stops
// answering mid-link.
type mute struct {
	net.Conn
	on atomic.Bool
}

func (m *mute) Write(p []byte) (int, error) {
	if m.on.Load() {
		return len(p), nil
	}
	return m.Conn.Write(p)
}

func TestEchoTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca, cb := net.Pipe()
		lc := lcp.DefaultConfig()
		lc.EchoInterval = 5 * time.Second
		lc.EchoFailure = 3
		a := start(t.Context(), ca, Config{LCP: &lc, IPCP: ipcp.Config{Local: addrA, Remote: addrB}})
		mb := &mute{Conn: cb}
		_, doneB := runLink(t.Context(), mb, Config{})
		a.waitIPCP(t)
		// Echoes are answered while B speaks.
		time.Sleep(12 * time.Second)
		if rtt := a.l.Status().RTT; rtt.Count < 2 {
			t.Fatalf("%d echo round trips after 12s at a 5s interval, want 2", rtt.Count)
		}
		mb.on.Store(true)
		start := time.Now()
		err := <-a.done
		var ee *lcp.EchoTimeoutError
		if !errors.As(err, &ee) {
			t.Fatalf("Run = %v, want an EchoTimeoutError", err)
		}
		// pppd's rule: dead when EchoFailure requests are outstanding at
		// the next tick; then Terminate-Requests go unanswered for
		// Max-Terminate restart intervals.
		if d, limit := time.Since(start), (3+1)*5*time.Second+ppp.DefaultMaxTerminate*ppp.DefaultRestartInterval; d > limit {
			t.Errorf("link ended %v after the peer went silent, want within %v", d, limit)
		}
		<-doneB
	})
}

func TestContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		a, b := pipePair(t, ctx, Config{IPCP: ipcp.Config{Local: addrA, Remote: addrB}}, Config{})
		a.waitIPCP(t)
		b.waitIPCP(t)
		cancel()
		if err := <-a.done; !errors.Is(err, context.Canceled) {
			t.Errorf("A: Run = %v, want context.Canceled", err)
		}
		if err := <-b.done; !errors.Is(err, context.Canceled) {
			t.Errorf("B: Run = %v, want context.Canceled", err)
		}
	})
}

// TestAddressConfigurations covers who assigns addresses: one side only,
// both, or neither side willing to give in.
func TestAddressConfigurations(t *testing.T) {
	other := addrB.Next()
	tests := []struct {
		name    string
		a, b    ipcp.Config
		wantErr bool
		wantA   [2]string // local, peer as A sees them
	}{
		{"A assigns both", ipcp.Config{Local: addrA, Remote: addrB}, ipcp.Config{}, false, [2]string{"192.0.2.1", "192.0.2.2"}},
		{"each its own", ipcp.Config{Local: addrA}, ipcp.Config{Local: addrB}, false, [2]string{"192.0.2.1", "192.0.2.2"}},
		{"both agree", ipcp.Config{Local: addrA, Remote: addrB}, ipcp.Config{Local: addrB, Remote: addrA}, false, [2]string{"192.0.2.1", "192.0.2.2"}},
		{"B accepts A's idea", ipcp.Config{Local: addrA, Remote: addrB}, ipcp.Config{Local: other, AcceptLocal: true}, false, [2]string{"192.0.2.1", "192.0.2.2"}},
		{"conflict", ipcp.Config{Local: addrA, Remote: addrB}, ipcp.Config{Local: other}, true, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := pipePair(t, t.Context(), Config{IPCP: tt.a}, Config{IPCP: tt.b})
				if tt.wantErr {
					errA := <-a.done
					<-b.done
					var ae *ipcp.AddressError
					if !errors.As(errA, &ae) {
						t.Fatalf("A: Run = %v, want an ipcp.AddressError", errA)
					}
					if !strings.Contains(errA.Error(), other.String()) || !strings.Contains(errA.Error(), addrB.String()) {
						t.Errorf("error %q does not name both addresses", errA)
					}
					return
				}
				na := a.waitIPCP(t)
				b.waitIPCP(t)
				if got := [2]string{na.Local.String(), na.Peer.String()}; got != tt.wantA {
					t.Errorf("A: local/peer %v, want %v", got, tt.wantA)
				}
				a.l.Close()
				<-a.done
				<-b.done
			})
		})
	}
}

// An Echo-Request longer than the peer's MRU gets an Echo-Reply cut to that
// MRU (RFC 1661 section 5: the Length MUST NOT exceed the MRU), as pppd's
// fsm_sdata cuts it; so does a Code-Reject of a long packet.
func TestRepliesWithinPeerMRU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		l, done := runLink(t.Context(), ours, Config{})
		p := newRawPeer(theirs)
		p.openLCP(t, ppp.AppendOptionUint16(nil, lcp.OptMRU, 296))
		big := bytes.Repeat([]byte{0xcd}, 1200)
		p.send(ppp.ProtoLCP, ppp.CodeEchoRequest, 0x42, append([]byte{0, 0, 0, 0}, big...))
		p.send(ppp.ProtoLCP, 0x3c, 0x43, big)
		for got := 0; got < 2; {
			proto, pkt, err := p.next()
			if err != nil {
				t.Fatalf("reading our replies: %v", err)
			}
			if proto != ppp.ProtoLCP || (pkt.Code() != ppp.CodeEchoReply && pkt.Code() != ppp.CodeCodeReject) {
				continue
			}
			got++
			if len(pkt) != 296 {
				t.Errorf("%v of %d octets, want it cut to the peer's MRU 296", pkt.Code(), len(pkt))
			}
		}
		l.Close()
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("Run = %v, want ErrClosed", err)
		}
	})
}
