package lcp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// end is one side of a back-to-back link.
type end struct {
	h   *Handler
	a   *ppp.Automaton
	neg []Negotiated // Config.Up calls
}

// newEnd builds an LCP automaton whose Config.Up is recorded; send is the
// wire's SendA or SendB.
func newEnd(cfg Config, send func([]byte)) *end {
	e := &end{}
	up := cfg.Up
	cfg.Up = func(n Negotiated) {
		e.neg = append(e.neg, n)
		if up != nil {
			up(n)
		}
	}
	e.h = New(cfg)
	e.a = ppp.NewAutomaton(ppp.Config{
		Protocol: ppp.ProtoLCP,
		Handler:  e.h,
		Send:     send,
		Timer:    func(time.Duration) {},
	})
	return e
}

// link runs two LCP automata back to back until they are quiet.
func link(t *testing.T, ca, cb Config) (a, b *end, w *ppptest.Wire) {
	t.Helper()
	w = &ppptest.Wire{}
	a, b = newEnd(ca, w.SendA), newEnd(cb, w.SendB)
	w.A, w.B, w.Formatter = a.a, b.a, a.h
	for _, e := range []*end{a, b} {
		e.a.Up()
		e.a.Open()
	}
	w.Run(200)
	if w.Pending() != 0 {
		t.Fatalf("still %d packets queued:\n%s", w.Pending(), strings.Join(w.Trace, "\n"))
	}
	return a, b, w
}

func TestBackToBack(t *testing.T) {
	def := func(mods ...func(*Config)) Config {
		c := DefaultConfig()
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	noACCM := withWant(func(w *Options) { w.NegACCM = false })
	noComp := func(c *Config) {
		c.Want.NegPFC, c.Want.NegACFC, c.Allow.NegPFC, c.Allow.NegACFC = false, false, false, false
	}
	mruTo := func(v uint16) func(*Config) { return withWant(func(w *Options) { w.MRU = v }) }
	fcs32 := func(c *Config) { c.Want.NegFCS, c.Allow.NegFCS = true, true }

	// base is what two default ends agree, seen from either end, but for
	// the magic numbers, which are random.
	base := Negotiated{
		MRU: 1500, PeerMRU: 1500,
		RecvACCM: 0, SendACCM: 0,
		RecvPFC: true, RecvACFC: true, SendPFC: true, SendACFC: true,
		RecvFCS: FCS16, SendFCS: FCS16,
	}
	with := func(f func(*Negotiated)) Negotiated { n := base; f(&n); return n }

	tests := []struct {
		name   string
		a, b   Config
		wantA  Negotiated
		wantB  Negotiated
		traceA []string // lines expected in the trace, if any
	}{
		{name: "defaults", a: def(), b: def(), wantA: base, wantB: base},
		{name: "A asks no ACCM", a: def(noACCM), b: def(),
			wantA: with(func(n *Negotiated) { n.RecvACCM = 0xffffffff }),
			wantB: with(func(n *Negotiated) { n.SendACCM = 0xffffffff })},
		{name: "neither asks ACCM", a: def(noACCM), b: def(noACCM),
			wantA: with(func(n *Negotiated) { n.RecvACCM, n.SendACCM = 0xffffffff, 0xffffffff }),
			wantB: with(func(n *Negotiated) { n.RecvACCM, n.SendACCM = 0xffffffff, 0xffffffff })},
		{name: "A without PFC and ACFC", a: def(noComp), b: def(),
			wantA:  with(func(n *Negotiated) { n.RecvPFC, n.RecvACFC, n.SendPFC, n.SendACFC = false, false, false, false }),
			wantB:  with(func(n *Negotiated) { n.RecvPFC, n.RecvACFC, n.SendPFC, n.SendACFC = false, false, false, false }),
			traceA: []string{"A>B [LCP ConfRej id=0x1 <pcomp> <accomp>]"}},
		{name: "MRU 576", a: def(mruTo(576)), b: def(),
			wantA: with(func(n *Negotiated) { n.MRU = 576 }),
			wantB: with(func(n *Negotiated) { n.PeerMRU = 576 })},
		{name: "MRU 1500 not requested", a: def(mruTo(1500)), b: def(mruTo(1500)), wantA: base, wantB: base},
		{name: "MRU 4000 both", a: def(mruTo(4000)), b: def(mruTo(4000)),
			wantA: with(func(n *Negotiated) { n.MRU, n.PeerMRU = 4000, 4000 }),
			wantB: with(func(n *Negotiated) { n.MRU, n.PeerMRU = 4000, 4000 })},
		{name: "MRU 4000 capped by peer", a: def(mruTo(4000)), b: def(withAllow(func(a *Options) { a.MRU = 2000 })),
			wantA:  with(func(n *Negotiated) { n.MRU = 2000 }),
			wantB:  with(func(n *Negotiated) { n.PeerMRU = 2000 }),
			traceA: []string{"B>A [LCP ConfNak id=0x1 <mru 2000>]"}},
		{name: "FCS-32 both ends", a: def(fcs32), b: def(fcs32),
			wantA: with(func(n *Negotiated) { n.RecvFCS, n.SendFCS = FCS32, FCS32 }),
			wantB: with(func(n *Negotiated) { n.RecvFCS, n.SendFCS = FCS32, FCS32 })},
		{name: "FCS-32 one end", a: def(fcs32), b: def(), wantA: base, wantB: base,
			traceA: []string{"B>A [LCP ConfRej id=0x1 <fcs crc32>]"}},
		{name: "FCS-32 asked, not allowed back", a: def(fcs32), b: def(withAllow(func(a *Options) { a.NegFCS = true })),
			wantA: with(func(n *Negotiated) { n.RecvFCS = FCS32 }),
			wantB: with(func(n *Negotiated) { n.SendFCS = FCS32 })},
		{name: "auth CHAP Nak'd to PAP", a: def(withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthPAP|AuthCHAPMD5 })),
			b:      def(withAllow(func(a *Options) { a.NegAuth, a.Auth = true, AuthPAP })),
			wantA:  with(func(n *Negotiated) { n.AuthPeer = AuthPAP }),
			wantB:  with(func(n *Negotiated) { n.AuthSelf = AuthPAP }),
			traceA: []string{"B>A [LCP ConfNak id=0x1 <auth pap>]"}},
		{name: "auth refused", a: def(withWant(func(w *Options) { w.NegAuth, w.Auth = true, AuthCHAPMD5 })), b: def(),
			wantA: base, wantB: base,
			traceA: []string{"B>A [LCP ConfRej id=0x1 <auth chap MD5>]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, w := link(t, tt.a, tt.b)
			trace := strings.Join(w.Trace, "\n")
			if a.a.State() != ppp.StateOpened || b.a.State() != ppp.StateOpened {
				t.Fatalf("states %v, %v; trace:\n%s", a.a.State(), b.a.State(), trace)
			}
			if len(a.neg) != 1 || len(b.neg) != 1 {
				t.Fatalf("Config.Up calls: %d, %d", len(a.neg), len(b.neg))
			}
			na, nb := a.neg[0], b.neg[0]
			if na.Magic == 0 || na.Magic != nb.PeerMagic || nb.Magic == 0 || nb.Magic != na.PeerMagic || na.Magic == nb.Magic {
				t.Errorf("magic numbers: A %#x/%#x, B %#x/%#x", na.Magic, na.PeerMagic, nb.Magic, nb.PeerMagic)
			}
			na.Magic, na.PeerMagic, nb.Magic, nb.PeerMagic = 0, 0, 0, 0
			if d := cmp.Diff(tt.wantA, na); d != "" {
				t.Errorf("A's Negotiated (-want +got):\n%s\ntrace:\n%s", d, trace)
			}
			if d := cmp.Diff(tt.wantB, nb); d != "" {
				t.Errorf("B's Negotiated (-want +got):\n%s\ntrace:\n%s", d, trace)
			}
			// Each direction must agree with itself.
			if na.SendACCM != nb.RecvACCM || na.SendPFC != nb.RecvPFC || na.SendACFC != nb.RecvACFC ||
				na.SendFCS != nb.RecvFCS || na.PeerMRU != nb.MRU || na.AuthSelf != nb.AuthPeer {
				t.Errorf("A→B disagrees: A %+v, B %+v", na, nb)
			}
			for _, line := range tt.traceA {
				if !strings.Contains(trace, line) {
					t.Errorf("trace lacks %q:\n%s", line, trace)
				}
			}
		})
	}
}

func TestBackToBackEchoAndProtocolReject(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var rejected []ppp.Protocol
	ca := DefaultConfig()
	ca.Now, ca.EchoFailure = clock.Now, 2
	ca.ProtocolReject = func(p ppp.Protocol, _ []byte) { rejected = append(rejected, p) }
	a, b, w := link(t, ca, DefaultConfig())
	if a.a.State() != ppp.StateOpened {
		t.Fatalf("A in %v", a.a.State())
	}
	for range 3 {
		if err := a.h.EchoTimer(a.a); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Millisecond)
		w.Run(10)
	}
	if r := a.h.RTT(); r.Count != 3 || r.Avg != 5*time.Millisecond {
		t.Errorf("RTT = %+v", r)
	}
	if b.h.Counters().EchoRequests != 3 {
		t.Errorf("B answered %d Echo-Requests", b.h.Counters().EchoRequests)
	}

	// B stops answering: A gives up after EchoFailure ticks.
	w.Drop = func(toB bool, _ ppp.Packet) bool { return toB }
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = a.h.EchoTimer(a.a)
		w.Run(10)
	}
	if err == nil || err.Error() != "lcp: peer not responding to 2 echo-requests" {
		t.Errorf("EchoTimer error = %v", err)
	}
	w.Drop = nil

	b.a.Send(ppp.CodeProtocolReject, 9, []byte{0x80, 0x57, 1, 1, 0, 4})
	w.Run(10)
	if d := cmp.Diff([]ppp.Protocol{ppp.ProtoIPV6CP}, rejected); d != "" {
		t.Errorf("ProtocolReject (-want +got):\n%s", d)
	}

	// An unknown code is Code-Rejected by the automaton.
	b.a.Send(14, 10, []byte{1})
	w.Run(10)
	if last := w.Trace[len(w.Trace)-1]; !strings.HasPrefix(last, "A>B [LCP CodeRej") {
		t.Errorf("last packet %q, want a Code-Reject", last)
	}
	trace := strings.Join(w.Trace, "\n")
	for _, want := range []string{"A>B [LCP EchoReq id=0x0 magic=0x", "B>A [LCP EchoRep id=0x2 magic=0x", "B>A [LCP ProtRej id=0x9 80 57 01 01 00 04]"} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
}

// A looped-back line: everything A sends comes back to A.
func TestLoopedLine(t *testing.T) {
	w := &ppptest.Wire{}
	a := newEnd(DefaultConfig(), w.SendA)
	w.A, w.B, w.Formatter = a.a, a.a, a.h
	a.a.Up()
	a.a.Open()
	for n := 0; !a.h.Looped(); n++ {
		if w.Pending() == 0 || n > 200 {
			t.Fatalf("not Looped after %d packets, state %v:\n%s", n, a.a.State(), strings.Join(w.Trace, "\n"))
		}
		w.Run(1)
	}
	if a.a.State() == ppp.StateOpened || len(a.neg) != 0 {
		t.Errorf("a looped line opened")
	}
	a.a.Close(LoopedBackReason)
	w.Run(10)
	trace := strings.Join(w.Trace, "\n")
	if !strings.Contains(trace, `TermReq id=`) || !strings.Contains(trace, `"Serial line is looped back"`) {
		t.Errorf("no Terminate-Request with the reason:\n%s", trace)
	}
}

// Our handler against the exact options pppd 2.4.9 sent and acknowledged in
// the capture.
func TestAgainstCapturedPppd(t *testing.T) {
	var sent [][]byte
	h := New(DefaultConfig())
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoLCP, Handler: h, Send: func(p []byte) { sent = append(sent, bytes.Clone(p)) }, Timer: func(time.Duration) {}})
	a.Up()
	a.Open()
	ours := ppp.Packet(sent[0]).Data()
	a.Input(packet(ppp.CodeConfigureRequest, 1, pppdRequest))
	if c := ppp.Packet(sent[1]).Code(); c != ppp.CodeConfigureAck {
		t.Fatalf("answered pppd's request with %v", c)
	}
	a.Input(packet(ppp.CodeConfigureAck, ppp.Packet(sent[0]).ID(), ours))
	if a.State() != ppp.StateOpened {
		t.Fatalf("state %v", a.State())
	}
	n, _ := h.Negotiated()
	if n.PeerMagic != 0x03d1981f || n.SendACCM != 0 || !n.SendPFC || !n.SendACFC || n.PeerMRU != 1500 {
		t.Errorf("Negotiated = %+v", n)
	}
	// pppd's keep-alive is answered with our magic.
	a.Input(packet(ppp.CodeEchoRequest, 0, u32(0x03d1981f)))
	last := ppp.Packet(sent[len(sent)-1])
	if last.Code() != ppp.CodeEchoReply || !bytes.Equal(last.Data(), u32(n.Magic)) {
		t.Errorf("Echo-Reply % x", []byte(last))
	}
}

// Steady state through the real automaton: answering Echo-Requests and
// judging a renegotiating Configure-Request allocate nothing.
func TestAllocsThroughAutomaton(t *testing.T) {
	var opened bool
	h := New(testConfig(func(c *Config) { c.EchoFailure = 1 << 30 }))
	h.cfg.Up = func(Negotiated) { opened = true }
	a := ppp.NewAutomaton(ppp.Config{Protocol: ppp.ProtoLCP, Handler: h, Send: func([]byte) {}, Timer: func(time.Duration) {}})
	a.Up()
	a.Open()
	a.Input(packet(ppp.CodeConfigureRequest, 1, peerRequest))
	a.Input(packet(ppp.CodeConfigureAck, 1, request(h)))
	if !opened || a.State() != ppp.StateOpened {
		t.Fatalf("state %v", a.State())
	}
	echo := packet(ppp.CodeEchoRequest, 1, cat(u32(0x1305b050), make([]byte, 100)))
	reply := packet(ppp.CodeEchoReply, 0, u32(0x1305b050))
	a.Input(echo)
	allocs := testing.AllocsPerRun(100, func() {
		a.Input(echo)
		if err := h.EchoTimer(a); err != nil {
			t.Fatal(err)
		}
		a.Input(reply)
	})
	if allocs != 0 {
		t.Errorf("Echo handling through the automaton allocates %v times per run", allocs)
	}

	// The peer renegotiates: we leave Opened for Ack-Sent, where every
	// further Configure-Request is judged and acknowledged again.
	req := packet(ppp.CodeConfigureRequest, 2, peerRequest)
	a.Input(req)
	if a.State() != ppp.StateAckSent {
		t.Fatalf("state %v after renegotiation", a.State())
	}
	allocs = testing.AllocsPerRun(100, func() { a.Input(req) })
	if allocs != 0 {
		t.Errorf("Configure-Request through the automaton allocates %v times per run", allocs)
	}
}
