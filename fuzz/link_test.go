package fuzz

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

// Caps that keep one execution of a target short.
const (
	maxInput   = 4096 // octets of a script that are read
	maxLinkOps = 160  // operations of a FuzzLinkStream script
	maxWrites  = 1024 // writes of the peer cut into small pieces, each a goroutine switch
)

// Addresses of the links under test.
var (
	ourAddr   = netip.MustParseAddr("192.0.2.1")
	theirAddr = netip.MustParseAddr("192.0.2.2")
)

// captureMagic is the Magic-Number our link drew in interop's capture of a
// link with pppd (interop/testdata/pppd-2.4.9-link.txt). The links under
// test draw it first, so that pppd's acknowledgement in that capture
// matches their request when the capture is replayed as a seed.
const captureMagic = 0x51e7b038

// magicSource returns a deterministic Magic-Number source, so that a fuzzed
// run does not depend on math/rand: it yields first twice (lcp.New draws
// one number, and the first negotiation's Reset the one it requests), then
// a linear congruential sequence.
func magicSource(first uint32) func() uint32 {
	x, n := first, 0
	return func() uint32 {
		if n >= 2 {
			x = x*1664525 + 1013904223
		}
		n++
		return x
	}
}

// linkSetup is the configuration of the link under test, chosen by the
// first two octets of a FuzzLinkStream script, and the limits it implies.
type linkSetup struct {
	cfg      link.Config
	fcs32    bool // we offer and accept FCS-32
	passive  bool
	silent   bool
	restart  time.Duration
	maxConf  int
	maxTerm  int
	echo     time.Duration // 0: no keep-alives
	echoFail int
	accm     uint32 // the ACCM we ask for
	mru      int    // the MRU we ask for
	fixed    bool   // IPCP has our address and the peer's configured
}

// Flags of the first octet of a FuzzLinkStream script.
const (
	lsFCS32 = 1 << iota
	lsPassive
	lsSilent
	lsEcho
	lsSmallMRU
	lsAddresses
	lsACCM
	lsNoMagic
)

func newLinkSetup(flags, counters byte) linkSetup {
	s := linkSetup{
		fcs32:    flags&lsFCS32 != 0,
		passive:  flags&lsPassive != 0,
		silent:   flags&lsSilent != 0,
		restart:  ppp.DefaultRestartInterval,
		maxConf:  ppp.DefaultMaxConfigure,
		maxTerm:  ppp.DefaultMaxTerminate,
		echoFail: 2,
		mru:      lcp.DefaultMRU,
		fixed:    flags&lsAddresses != 0,
	}
	lc := lcp.DefaultConfig()
	lc.Magic = magicSource(captureMagic)
	if s.fcs32 {
		lc.Want.NegFCS, lc.Want.FCS = true, lcp.FCS32
		lc.Allow.NegFCS, lc.Allow.FCS = true, lcp.FCS16|lcp.FCS32
	}
	if flags&lsEcho != 0 {
		s.echo = 5 * time.Second
		lc.EchoInterval, lc.EchoFailure = s.echo, s.echoFail
	}
	if flags&lsSmallMRU != 0 {
		s.mru = 576
		lc.Want.MRU = 576
	}
	if flags&lsACCM != 0 {
		s.accm = 0x000a0000
		lc.Want.ACCM = s.accm
	}
	if flags&lsNoMagic != 0 {
		lc.Want.NegMagic = false
	}
	if n := int(counters & 7); n != 0 {
		s.maxConf = n
	}
	if n := int(counters >> 3 & 3); n != 0 {
		s.maxTerm = n
	}
	maxFail := 0
	if n := int(counters >> 5 & 3); n != 0 {
		maxFail = n
	}
	if counters&0x80 != 0 {
		s.restart = time.Second
	}
	s.cfg = link.Config{
		LCP:             &lc,
		RestartInterval: s.restart,
		MaxConfigure:    s.maxConf,
		MaxTerminate:    s.maxTerm,
		MaxFailure:      maxFail,
		Passive:         s.passive,
		Silent:          s.silent,
	}
	if s.fixed {
		s.cfg.IPCP = ipcp.Config{Local: ourAddr, Remote: theirAddr}
	}
	return s
}

// timeline records, in one order, the octets the link writes and the
// events it reports. Both happen on the goroutine that causes them (the
// control loop, or WritePacket's caller), so the order is the true one.
type timeline struct {
	mu      sync.Mutex
	entries []entry
}

type entry struct {
	out []byte // octets written, or nil for an event
	ev  link.Event
}

func (tl *timeline) add(e entry) {
	tl.mu.Lock()
	tl.entries = append(tl.entries, e)
	tl.mu.Unlock()
}

func (tl *timeline) take() []entry {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	e := tl.entries
	tl.entries = nil
	return e
}

// recStream is the link's end of the pipe; it records what the link writes.
type recStream struct {
	net.Conn
	tl *timeline
}

func (s recStream) Write(b []byte) (int, error) {
	s.tl.add(entry{out: bytes.Clone(b)})
	return s.Conn.Write(b)
}

// ackedLCP is what our last LCP Configure-Ack acknowledged of the peer's
// request: what the link must apply to the frames it sends once LCP opens.
type ackedLCP struct {
	mru       int
	accm      uint32
	pfc, acfc bool
	fcs       lcp.FCS // the FCS option's list, 0 if absent
}

func defaultAcked() ackedLCP { return ackedLCP{mru: lcp.DefaultMRU, accm: uint32(hdlc.DefaultACCM)} }

// linkChecker checks everything the link under test sends and reports,
// in the order of the timeline.
type linkChecker struct {
	t     *testing.T
	setup linkSetup
	split frameSplitter

	lcpUp, ipcpUp bool
	opened        bool // IPCP was up at some point
	dead          bool
	neg           lcp.Negotiated
	acked         ackedLCP
	lastReq       map[ppp.Protocol]ppp.Packet

	// Packets sent since the peer last wrote anything (or the link was
	// closed locally): the restart counters bound them, plus one for each
	// frame of that write, since each may start a negotiation afresh.
	confReqs, termReqs map[ppp.Protocol]int
	echoReqs           int
	slack              int // frames the last write may have completed

	in, inputs int // octets the peer wrote, and in how many writes
	out        int // octets the link wrote
	dataOut    int // octets of IP packets offered to WritePacket, with overhead
}

func newLinkChecker(t *testing.T, s linkSetup) *linkChecker {
	return &linkChecker{
		t:        t,
		setup:    s,
		acked:    defaultAcked(),
		lastReq:  map[ppp.Protocol]ppp.Packet{},
		confReqs: map[ppp.Protocol]int{},
		termReqs: map[ppp.Protocol]int{},
	}
}

// trigger notes that something outside the link's timers happened: the
// peer wrote, or the link was closed. The counters start again.
func (c *linkChecker) trigger() {
	clear(c.confReqs)
	clear(c.termReqs)
	c.echoReqs = 0
	c.slack = 0
}

// input notes a write of the peer.
func (c *linkChecker) input(b []byte) {
	tracef(c.t, "peer writes %d octets", len(b))
	c.in += len(b)
	c.inputs++
	c.trigger()
	c.slack = bytes.Count(b, []byte{flagSeq})
}

// process checks the entries of the timeline in order.
func (c *linkChecker) process(entries []entry) {
	for _, e := range entries {
		if e.out == nil {
			c.event(e.ev)
			continue
		}
		c.out += len(e.out)
		for _, f := range c.split.write(e.out) {
			c.frame(f)
		}
	}
	// Output is bounded by input: each frame the peer sends is answered
	// with a few packets at most a little longer than it, and between two
	// inputs only the restart timers and keep-alives send, each within
	// its counter, each packet short.
	s := c.setup
	perInput := (2*(s.maxConf+s.maxTerm) + s.echoFail + 8) * 160
	if budget := 8*c.in + 2*c.dataOut + (c.inputs+1)*perInput; c.out > budget {
		c.t.Fatalf("the link wrote %d octets for %d octets in %d writes from the peer and %d of data: more than %d", c.out, c.in, c.inputs, c.dataOut, budget)
	}
}

func (c *linkChecker) event(ev link.Event) {
	t := c.t
	tracef(t, "event %+v", ev)
	if c.dead {
		t.Fatalf("event %+v after the link reported PhaseDead", ev)
	}
	switch ev.Kind {
	case link.EventLCPUp:
		if c.lcpUp {
			t.Fatal("LCP up twice")
		}
		c.lcpUp, c.neg = true, ev.LCP
		a := c.acked
		wantFCS := lcp.FCS16
		if a.fcs&lcp.FCS32 != 0 {
			wantFCS = lcp.FCS32
		}
		n := ev.LCP
		if n.PeerMRU != a.mru || n.SendACCM != a.accm || n.SendPFC != a.pfc || n.SendACFC != a.acfc || n.SendFCS != wantFCS {
			t.Fatalf("LCP up with %+v, but our last Configure-Ack acknowledged %+v", n, a)
		}
		if n.RecvFCS == lcp.FCS32 && !c.setup.fcs32 || n.SendFCS == lcp.FCS32 && !c.setup.fcs32 {
			t.Fatalf("LCP up with FCS-32 (%v, %v), which we do not offer", n.RecvFCS, n.SendFCS)
		}
		// Our MRU is the one of our last request, which the peer
		// acknowledged (a Nak or Reject may have changed it).
		wantMRU := lcp.DefaultMRU
		if v, ok := findOption(c.lastReq[ppp.ProtoLCP].Data(), lcp.OptMRU); ok && len(v) == 2 {
			wantMRU = int(binary.BigEndian.Uint16(v))
		}
		if n.MRU != wantMRU {
			t.Fatalf("LCP up with our MRU %d, but our last request asked for %d", n.MRU, wantMRU)
		}
	case link.EventLCPDown:
		if !c.lcpUp || c.ipcpUp {
			t.Fatalf("LCP down: LCP up %v, IPCP up %v", c.lcpUp, c.ipcpUp)
		}
		c.lcpUp = false
	case link.EventIPCPUp:
		if !c.lcpUp || c.ipcpUp {
			t.Fatalf("IPCP up: LCP up %v, IPCP up %v", c.lcpUp, c.ipcpUp)
		}
		c.ipcpUp, c.opened = true, true
		n := ev.IPCP
		if !n.Local.Is4() || !n.Peer.Is4() || n.Local == n.Peer || n.Local.IsUnspecified() || n.Peer.IsUnspecified() {
			t.Fatalf("IPCP up with addresses %v and %v", n.Local, n.Peer)
		}
		if c.setup.fixed && (n.Local != ourAddr || n.Peer != theirAddr) {
			t.Fatalf("IPCP up with %v:%v, configured %v:%v", n.Local, n.Peer, ourAddr, theirAddr)
		}
	case link.EventIPCPDown:
		if !c.ipcpUp {
			t.Fatal("IPCP down while not up")
		}
		c.ipcpUp = false
	case link.EventPhase:
		if ev.Phase == ppp.PhaseDead {
			c.dead = true
			if c.lcpUp || c.ipcpUp {
				t.Fatalf("dead with LCP up %v, IPCP up %v", c.lcpUp, c.ipcpUp)
			}
		}
	default:
		t.Fatalf("event of kind %d", ev.Kind)
	}
}

// isLCPControl reports whether a frame carries an LCP Configure-*,
// Terminate-* or Code-Reject packet, which the link sends with the default
// ACCM and FCS whatever was negotiated (RFC 1662 section 7.1, RFC 1570).
func isLCPControl(body []byte) bool {
	return len(body) >= 5 && body[0] == ppp.AllStations && body[1] == ppp.UI &&
		body[2] == 0xc0 && body[3] == 0x21 && body[4] >= 1 && body[4] <= 7
}

// frame checks one frame the link sent.
func (c *linkChecker) frame(f rawFrame) {
	t := c.t
	fcs, accm, acfc, pfc := 16, uint32(hdlc.DefaultACCM), false, false
	limit := lcp.DefaultMRU
	if c.lcpUp {
		limit = c.neg.PeerMRU
		if !isLCPControl(f.body) {
			accm, acfc, pfc = c.neg.SendACCM, c.neg.SendACFC, c.neg.SendPFC
			if c.neg.SendFCS == lcp.FCS32 {
				fcs = 32
			}
		}
	}
	if !goodFCS(f.body, fcs) {
		t.Fatalf("we sent a frame without a good FCS-%d: % x", fcs, f.body)
	}
	esc := false
	for _, b := range f.raw {
		switch {
		case esc:
			esc = false
		case b == ctlEsc:
			esc = true
		case b < 0x20 && accm&(1<<b) != 0:
			t.Fatalf("we sent %#x unescaped under ACCM %#x: % x", b, accm, f.raw)
		}
	}
	if esc {
		t.Fatalf("we sent a frame ending in an escape: % x", f.raw)
	}
	frame := f.body[:len(f.body)-fcs/8]
	proto, info, err := ppp.ParseHeader(frame)
	if err != nil {
		t.Fatalf("we sent a frame with a bad header: % x", frame)
	}
	tracef(t, "sent %v % x", proto, info)
	hasAC := frame[0] == ppp.AllStations
	protoLen := len(frame) - len(info)
	if hasAC {
		protoLen -= 2
	}
	if hasAC == (acfc && proto != ppp.ProtoLCP) {
		t.Fatalf("we sent %v with Address and Control %v, ACFC agreed %v: % x", proto, hasAC, acfc, frame)
	}
	if (protoLen == 1) != (pfc && proto.Compressible()) {
		t.Fatalf("we sent %v with a %d-octet Protocol field, PFC agreed %v: % x", proto, protoLen, pfc, frame)
	}
	if len(info) > limit {
		t.Fatalf("we sent %d octets of %v, the peer's MRU is %d (LCP up %v)", len(info), proto, limit, c.lcpUp)
	}
	if !proto.IsControl() {
		if proto != ppp.ProtoIPv4 || !c.ipcpUp {
			t.Fatalf("we sent a %v packet with IPCP up %v", proto, c.ipcpUp)
		}
		return
	}
	pkt, err := ppp.ParsePacket(info)
	if err != nil || len(pkt) != len(info) {
		t.Fatalf("we sent a malformed %v packet: % x", proto, info)
	}
	code := pkt.Code()
	switch proto {
	case ppp.ProtoLCP:
		if code > ppp.CodeTimeRemaining {
			t.Fatalf("we sent LCP code %d", code)
		}
		if code > ppp.CodeCodeReject && !c.lcpUp {
			t.Fatalf("we sent LCP %v while LCP is not Opened", code)
		}
	case ppp.ProtoIPCP:
		if code > ppp.CodeCodeReject || !c.lcpUp {
			t.Fatalf("we sent IPCP %v with LCP up %v", code, c.lcpUp)
		}
	default:
		t.Fatalf("we sent a %v packet, a protocol we do not run", proto)
	}
	switch code {
	case ppp.CodeConfigureRequest:
		if ppp.CheckOptions(pkt.Data()) != nil {
			t.Fatalf("we sent a malformed %v Configure-Request: % x", proto, pkt)
		}
		c.lastReq[proto] = ppp.Packet(bytes.Clone(pkt))
		if c.confReqs[proto]++; c.confReqs[proto] > c.setup.maxConf+c.slack {
			t.Fatalf("we sent %d %v Configure-Requests since the peer's last write of %d frames; Max-Configure is %d", c.confReqs[proto], proto, c.slack, c.setup.maxConf)
		}
	case ppp.CodeTerminateRequest:
		if c.termReqs[proto]++; c.termReqs[proto] > c.setup.maxTerm+c.slack {
			t.Fatalf("we sent %d %v Terminate-Requests since the peer's last write of %d frames; Max-Terminate is %d", c.termReqs[proto], proto, c.slack, c.setup.maxTerm)
		}
	case ppp.CodeConfigureAck:
		if proto == ppp.ProtoLCP {
			c.acked = ackedOptions(pkt.Data())
		}
	case ppp.CodeEchoRequest:
		if c.setup.echo == 0 {
			t.Fatal("we sent an Echo-Request without keep-alives configured")
		}
		if c.echoReqs++; c.echoReqs > c.setup.echoFail+c.slack {
			t.Fatalf("we sent %d Echo-Requests since the peer's last write of %d frames; the echo failure limit is %d", c.echoReqs, c.slack, c.setup.echoFail)
		}
	}
}

// ackedOptions reads the LCP options we acknowledged.
func ackedOptions(opts []byte) ackedLCP {
	a := defaultAcked()
	for _, o := range options(opts) {
		d := o[2:]
		switch {
		case o[0] == lcp.OptMRU && len(d) == 2:
			a.mru = int(binary.BigEndian.Uint16(d))
		case o[0] == lcp.OptACCM && len(d) == 4:
			a.accm = binary.BigEndian.Uint32(d)
		case o[0] == lcp.OptPFC:
			a.pfc = true
		case o[0] == lcp.OptACFC:
			a.acfc = true
		case o[0] == lcp.OptFCSAlternatives && len(d) == 1:
			a.fcs = lcp.FCS(d[0])
		}
	}
	return a
}

// checkStatus checks a snapshot of the link taken while it is idle against
// what its events said.
func (c *linkChecker) checkStatus(st link.Status) {
	t := c.t
	if st.LCPState > ppp.StateOpened || st.IPCPState > ppp.StateOpened {
		t.Fatalf("states %v and %v", st.LCPState, st.IPCPState)
	}
	if (st.LCPState == ppp.StateOpened) != c.lcpUp || (st.IPCPState == ppp.StateOpened) != c.ipcpUp {
		t.Fatalf("states LCP %v IPCP %v, but the events say LCP up %v, IPCP up %v", st.LCPState, st.IPCPState, c.lcpUp, c.ipcpUp)
	}
	if c.dead {
		if st.Phase != ppp.PhaseDead {
			t.Fatalf("phase %v after PhaseDead", st.Phase)
		}
		return
	}
	want := st.Phase
	switch st.LCPState {
	case ppp.StateOpened:
		want = ppp.PhaseNetwork
	case ppp.StateClosing, ppp.StateStopping:
		want = ppp.PhaseTerminate
	case ppp.StateReqSent, ppp.StateAckRcvd, ppp.StateAckSent:
		want = ppp.PhaseEstablish
	}
	if st.Phase != want {
		t.Fatalf("phase %v with LCP %v", st.Phase, st.LCPState)
	}
}

// checkReason fails unless err is one of the reasons link.Run documents.
func checkReason(t *testing.T, err error) {
	t.Helper()
	var (
		ne *ppp.NegotiationError
		ee *lcp.EchoTimeoutError
		ae *ipcp.AddressError
		se *link.StreamError
	)
	switch {
	case err == nil:
		t.Fatal("Run returned nil")
	case errors.As(err, &ne), errors.As(err, &ee), errors.As(err, &ae), errors.As(err, &se),
		errors.Is(err, link.ErrClosed), errors.Is(err, lcp.ErrLoopedBack):
	case err.Error() == "link: LCP finished", strings.HasPrefix(err.Error(), "link: the peer rejected LCP itself"):
	default:
		t.Fatalf("Run returned %T %v, not a documented reason", err, err)
	}
}

// packetCounter is the link's PacketHandler: it checks the size of what it
// is given, and counts it.
type packetCounter struct {
	t     *testing.T
	limit int
	mu    sync.Mutex
	n     int
}

func (p *packetCounter) HandlePacket(proto ppp.Protocol, pkt []byte) {
	if proto != ppp.ProtoIPv4 || len(pkt) > p.limit {
		p.t.Errorf("HandlePacket(%v, %d octets), receive limit %d", proto, len(pkt), p.limit)
	}
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
}

func (p *packetCounter) Flush() {}

func (p *packetCounter) packets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// FuzzLinkStream runs a whole link against a peer played by a script, in
// fake time. See the package documentation for what it checks.
//
// The script: a flags octet (lsFCS32 …) and a counters octet for the
// link's configuration (see newLinkSetup), then operations, each an opcode
// and its operands (see linkRun.step).
func FuzzLinkStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxInput {
			in = in[:maxInput]
		}
		synctest.Test(t, func(t *testing.T) { runLinkStream(t, in) })
	})
}

// linkRun is one execution of FuzzLinkStream.
type linkRun struct {
	t      *testing.T
	s      script
	setup  linkSetup
	c      *linkChecker
	tl     *timeline
	l      *link.Link
	theirs net.Conn
	done   chan error
	pc     *packetCounter

	chunk     int  // write the peer's octets in pieces of this size; 0 for whole
	writes    int  // writes to the stream so far
	gone      bool // the link's end of the stream is closed
	ended     bool // Run returned
	closed    bool // Close was called
	streamEnd bool // the peer closed the stream
	runErr    error
	peerMagic uint32
}

func runLinkStream(t *testing.T, in []byte) *linkRun {
	s := script{b: in}
	setup := newLinkSetup(s.byte(), s.byte())
	r := &linkRun{t: t, s: s, setup: setup, tl: &timeline{}, done: make(chan error, 1), peerMagic: 0x1305b050}
	r.c = newLinkChecker(t, setup)
	r.pc = &packetCounter{t: t, limit: max(setup.mru, lcp.DefaultMRU)}
	cfg := setup.cfg
	cfg.Events = func(ev link.Event) { r.tl.add(entry{ev: ev}) }
	cfg.Packets = r.pc
	ours, theirs := net.Pipe()
	r.theirs = theirs
	// After a failure, end the link and the goroutines.
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	r.l = link.New(recStream{Conn: ours, tl: r.tl}, cfg)
	go func() { r.done <- r.l.Run(context.Background()) }()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := theirs.Read(buf); err != nil {
				return
			}
		}
	}()

	r.settle()
	for !r.ended && !r.streamEnd && r.s.next(maxLinkOps) {
		r.step(r.s.byte())
		r.settle()
	}
	if !r.ended && !r.streamEnd {
		r.quiet()
	}
	if !r.streamEnd {
		theirs.Close()
	}
	start := time.Now()
	if !r.ended {
		select {
		case err := <-r.done:
			r.ended, r.runErr = true, err
		case <-time.After(r.setup.restart*time.Duration(r.setup.maxTerm+1) + 2*time.Second):
			t.Fatalf("Run did not return %v after the stream ended", time.Since(start))
		}
	}
	<-drained
	r.c.process(r.tl.take())
	checkReason(t, r.runErr)
	if !r.c.dead {
		t.Fatal("Run returned without the PhaseDead event")
	}
	st := r.l.Status()
	if st.Phase != ppp.PhaseDead {
		t.Fatalf("phase %v after Run returned", st.Phase)
	}
	if n := r.pc.packets(); uint64(n) != st.Counters.PacketsIn {
		t.Fatalf("the handler got %d packets, the link counted %d", n, st.Counters.PacketsIn)
	}
	return r
}

// settle waits until every goroutine of the run is idle, then checks what
// happened meanwhile.
func (r *linkRun) settle() {
	synctest.Wait()
	r.c.process(r.tl.take())
	if !r.ended {
		select {
		case err := <-r.done:
			r.ended, r.runErr = true, err
		default:
		}
	}
	r.c.checkStatus(r.l.Status())
}

// quiet lets the link's timers run with a silent peer for longer than
// they need to end any negotiation, then checks that the link is open and
// idle, waiting passively, or has ended.
func (r *linkRun) quiet() {
	s := r.setup
	time.Sleep(s.restart*time.Duration(s.maxConf+s.maxTerm+2) + s.echo*time.Duration(s.echoFail+2) + 2*time.Second)
	r.settle()
	if r.ended {
		return
	}
	st := r.l.Status()
	waiting := s.passive || s.silent
	switch {
	case r.closed:
		r.t.Fatalf("Close was called and Run has not returned (LCP %v, IPCP %v)", st.LCPState, st.IPCPState)
	case s.echo == 0 && st.LCPState == ppp.StateOpened && st.IPCPState == ppp.StateOpened:
	case s.echo == 0 && st.LCPState == ppp.StateOpened && st.IPCPState == ppp.StateStopped && waiting:
		// Passive and Silent apply to IPCP as well (link.Config).
	case st.LCPState == ppp.StateStopped && waiting:
	default:
		r.t.Fatalf("the peer has been silent for %v and the link is still in LCP %v, IPCP %v (passive %v, silent %v, keep-alives %v)",
			s.restart*time.Duration(s.maxConf+s.maxTerm+2), st.LCPState, st.IPCPState, s.passive, s.silent, s.echo)
	}
}

// send writes octets of the peer to the link, in pieces of r.chunk.
func (r *linkRun) send(b []byte) {
	if len(b) == 0 || r.gone {
		return
	}
	r.c.input(b)
	for len(b) > 0 {
		n := len(b)
		if r.chunk > 0 && r.writes < maxWrites {
			n = min(n, r.chunk)
		}
		r.writes++
		if _, err := r.theirs.Write(b[:n]); err != nil {
			r.gone = true // the link has ended and closed its end
			return
		}
		b = b[n:]
	}
}

// framing returns how the peer frames a packet of proto and code for the
// script octet b: as a well-behaved peer would (the FCS agreed for it, the
// full header, every control character escaped) when bit 7 is clear,
// otherwise as bits 0-5 say.
func (r *linkRun) framing(proto ppp.Protocol, code ppp.Code, b byte) framing {
	if b&0x80 == 0 {
		n := r.c.neg
		return wireFraming(r.c.lcpUp && n.RecvFCS == lcp.FCS32 && !(proto == ppp.ProtoLCP && code <= ppp.CodeCodeReject))
	}
	fr := framing{fcs32: b&1 != 0, acfc: b&2 != 0, pfc: b&4 != 0, badFCS: b&16 != 0, unfinished: b&32 != 0}
	if b&8 == 0 {
		fr.accm = hdlc.DefaultACCM
	}
	return fr
}

// sendPacket frames and sends a control packet.
func (r *linkRun) sendPacket(proto ppp.Protocol, code ppp.Code, id uint8, data []byte, fb byte) {
	r.send(appendFrame(nil, proto, ppp.AppendPacket(nil, code, id, data), r.framing(proto, code, fb)))
}

// Protocols the peer sends packets of.
var peerProtocols = [...]ppp.Protocol{ppp.ProtoLCP, ppp.ProtoLCP, ppp.ProtoIPCP, ppp.ProtoIPv4, ppp.ProtoCCP, ppp.ProtoIPV6CP, ppp.ProtoPAP}

// step performs one operation of the script.
func (r *linkRun) step(op byte) {
	s := &r.s
	tracef(r.t, "%v op %d", time.Now().Format("15:04:05.0"), op%13)
	switch op % 13 {
	case 0: // raw octets
		r.send(s.bytes(int(s.byte()) + 1))
	case 1, 2: // a packet of any protocol and code
		b := s.byte()
		proto := peerProtocols[int(b)%len(peerProtocols)]
		if int(b)%8 == 7 {
			proto = ppp.Protocol(s.uint16())
		}
		code, id := ppp.Code(s.byte()), s.byte()
		data := s.bytes(int(s.byte()) % 80)
		info := ppp.AppendPacket(nil, code, id, data)
		if !proto.IsControl() {
			info = data
		}
		if b&0x80 != 0 && len(info) >= 4 { // a Length field that lies
			binary.BigEndian.PutUint16(info[2:], uint16(s.byte()))
		}
		r.send(appendFrame(nil, proto, info, r.framing(proto, code, s.byte())))
	case 3: // a reply to our last Configure-Request
		r.reply(s.byte())
	case 4: // an LCP Configure-Request
		r.lcpRequest()
	case 5: // an IPCP Configure-Request
		r.ipcpRequest()
	case 6: // an LCP packet with a code above 7, carrying a magic number
		code := ppp.Code(9 + s.byte()%5)
		var magic uint32
		switch k := s.byte(); k % 4 {
		case 0:
			magic = r.peerMagic
		case 1:
			magic = r.c.neg.Magic // ours: a looped-back line
		case 2:
			magic = s.uint32()
		}
		id := s.byte()
		data := binary.BigEndian.AppendUint32(nil, magic)
		data = append(data, s.bytes(int(s.byte())%32)...)
		r.sendPacket(ppp.ProtoLCP, code, id, data, s.byte())
	case 7: // time passes
		d := time.Duration(s.byte()) * 100 * time.Millisecond
		tracef(r.t, "pause %v", d)
		time.Sleep(d)
	case 8: // the host sends an IP packet
		r.writePacket(int(s.byte())*8 + int(s.byte()%8))
	case 9: // a large packet: Echo-Request, unknown code, unknown protocol
		r.large(s.byte(), int(s.uint16())%4096)
	case 10:
		r.chunk = int(s.byte())
	case 11:
		r.l.Close()
		r.closed = true
		r.c.trigger()
	case 12:
		r.theirs.Close()
		r.streamEnd = true
	}
}

// reply answers our last Configure-Request of LCP (k even) or IPCP (k odd)
// with an Ack, a Nak of some of its options with values from the script,
// a Reject of some of its options, or a bad Ack.
func (r *linkRun) reply(k byte) {
	s := &r.s
	proto := ppp.ProtoLCP
	if k&1 != 0 {
		proto = ppp.ProtoIPCP
	}
	req := r.c.lastReq[proto]
	if req == nil {
		return
	}
	id, code, data := req.ID(), ppp.CodeConfigureAck, req.Data()
	switch k >> 1 % 4 {
	case 1:
		code = ppp.CodeConfigureNak
		mask := s.byte()
		data = nil
		for i, o := range options(req.Data()) {
			if mask>>(i%8)&1 == 0 {
				continue
			}
			v := make([]byte, len(o)-2)
			copy(v, s.bytes(len(v)))
			data = append(append(data, o[0], o[1]), v...)
		}
	case 2:
		code = ppp.CodeConfigureReject
		mask := s.byte()
		data = nil
		for i, o := range options(req.Data()) {
			if mask>>(i%8)&1 != 0 {
				data = append(data, o...)
			}
		}
	case 3:
		if b := s.byte(); b&1 != 0 {
			id += b
		} else if len(data) > 0 {
			data = bytes.Clone(data)
			data[int(b/2)%len(data)] ^= s.byte() | 1
		}
	}
	r.sendPacket(proto, code, id, data, s.byte())
}

// lcpRequest sends an LCP Configure-Request with the options a mask octet
// selects, their values from the script.
func (r *linkRun) lcpRequest() {
	s := &r.s
	m := s.byte()
	var opts []byte
	if m&1 != 0 {
		opts = ppp.AppendOptionUint16(opts, lcp.OptMRU, s.uint16())
	}
	if m&2 != 0 {
		opts = ppp.AppendOptionUint32(opts, lcp.OptACCM, s.uint32())
	}
	if m&4 != 0 {
		switch k := s.byte(); k % 3 {
		case 0:
			opts = ppp.AppendOptionUint16(opts, lcp.OptAuthProtocol, uint16(ppp.ProtoPAP))
		case 1:
			opts = ppp.AppendOption(opts, lcp.OptAuthProtocol, 0xc2, 0x23, 5)
		case 2:
			opts = ppp.AppendOptionUint16(opts, lcp.OptAuthProtocol, s.uint16())
		}
	}
	if m&8 != 0 {
		magic := r.peerMagic
		if k := s.byte(); k&1 != 0 {
			magic = s.uint32()
			r.peerMagic = magic
		}
		opts = ppp.AppendOptionUint32(opts, lcp.OptMagicNumber, magic)
	}
	if m&16 != 0 {
		opts = ppp.AppendOption(opts, lcp.OptPFC)
	}
	if m&32 != 0 {
		opts = ppp.AppendOption(opts, lcp.OptACFC)
	}
	if m&64 != 0 {
		opts = ppp.AppendOption(opts, lcp.OptFCSAlternatives, s.byte())
	}
	if m&128 != 0 {
		opts = append(opts, s.bytes(int(s.byte())%16)...)
	}
	r.sendPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, s.byte(), opts, s.byte())
}

// ipcpRequest sends an IPCP Configure-Request with the options a mask
// octet selects.
func (r *linkRun) ipcpRequest() {
	s := &r.s
	m := s.byte()
	var opts []byte
	if m&1 != 0 {
		var a uint32
		switch k := s.byte(); k % 6 {
		case 1:
			a = 0xc0000201 // 192.0.2.1, our address
		case 2:
			a = 0xc0000202 // 192.0.2.2, the peer's
		case 3:
			a = 0xc0000203
		case 4:
			a = 0xffffffff
		case 5:
			a = s.uint32()
		}
		opts = ppp.AppendOptionUint32(opts, ipcp.OptIPAddress, a)
	}
	if m&2 != 0 {
		opts = ppp.AppendOption(opts, ipcp.OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01)
	}
	if m&4 != 0 {
		opts = ppp.AppendOptionUint32(opts, ipcp.OptPrimaryDNS, 0)
	}
	if m&8 != 0 {
		opts = ppp.AppendOptionUint32(opts, ipcp.OptSecondaryDNS, s.uint32())
	}
	if m&16 != 0 {
		opts = ppp.AppendOptionUint32(opts, ipcp.OptPrimaryNBNS, 0)
	}
	if m&32 != 0 {
		opts = ppp.AppendOption(opts, ipcp.OptIPAddresses, s.bytes(8)...)
	}
	if m&64 != 0 {
		opts = append(opts, s.bytes(int(s.byte())%16)...)
	}
	r.sendPacket(ppp.ProtoIPCP, ppp.CodeConfigureRequest, s.byte(), opts, s.byte())
}

// large sends a packet of n octets of data whose answer, if any, is as
// large: an Echo-Request, an LCP or IPCP packet of an unknown code, or a
// packet of a protocol the link does not run.
func (r *linkRun) large(k byte, n int) {
	data := make([]byte, max(n, 4))
	for i := range data {
		data[i] = byte(i)
	}
	switch k % 4 {
	case 0:
		binary.BigEndian.PutUint32(data, r.peerMagic)
		r.sendPacket(ppp.ProtoLCP, ppp.CodeEchoRequest, k, data, 0)
	case 1:
		r.sendPacket(ppp.ProtoLCP, 0x40, k, data, 0)
	case 2:
		r.sendPacket(ppp.ProtoIPCP, 0x40, k, data, 0)
	case 3:
		r.send(appendFrame(nil, ppp.ProtoCCP, ppp.AppendPacket(nil, ppp.CodeConfigureRequest, k, data), r.framing(ppp.ProtoCCP, 1, 0)))
	}
}

// writePacket offers an IP packet of n octets to the link, which sends it
// if IPCP is Opened and it fits the peer's MRU, and otherwise drops and
// counts it.
func (r *linkRun) writePacket(n int) {
	pkt := make([]byte, n)
	for i := range pkt {
		pkt[i] = byte(i * 7)
	}
	if n > 0 {
		pkt[0] = 0x45
	}
	r.c.dataOut += n + 16
	before := r.l.Status().Counters
	if err := r.l.WritePacket(ppp.ProtoIPv4, pkt); err != nil {
		var se *link.StreamError
		if !errors.As(err, &se) {
			r.t.Fatalf("WritePacket: %v", err)
		}
		return
	}
	after := r.l.Status().Counters
	switch {
	case !r.c.ipcpUp:
		if after.DropNotOpen != before.DropNotOpen+1 {
			r.t.Fatalf("WritePacket with IPCP down: counters %+v -> %+v", before, after)
		}
	case n > r.c.neg.PeerMRU:
		if after.DropTooBig != before.DropTooBig+1 || after.PacketsOut != before.PacketsOut {
			r.t.Fatalf("WritePacket of %d octets, peer MRU %d: counters %+v -> %+v", n, r.c.neg.PeerMRU, before, after)
		}
	default:
		if after.PacketsOut != before.PacketsOut+1 {
			r.t.Fatalf("WritePacket of %d octets, peer MRU %d: counters %+v -> %+v", n, r.c.neg.PeerMRU, before, after)
		}
	}
}
