package fuzz

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/tunnel"
	"github.com/pppssh/pppssh/tunnel/tuntest"
)

// maxPairOps caps the operations of a FuzzEnginePair script.
const maxPairOps = 200

// The link addresses of the two engines, A and B.
var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("198.51.100.1")
)

// Flags of the first octet of a FuzzEnginePair script.
const (
	epEcho     = 1 << iota // keep-alives on both ends
	epFast                 // a restart interval of 1 s instead of 3 s
	epBOpen                // B has no addresses configured: A's Naks give them
	epSmallMRU             // B asks for an MRU of 296
	epFewTries             // Max-Configure 3, Max-Failure 2
	epClampMSS             // both engines clamp the TCP MSS
)

// pairSetup is the configuration of both engines.
type pairSetup struct {
	restart time.Duration
	maxConf int
	maxTerm int
	echo    time.Duration
	echoN   int
	mruB    int
}

// engineConfig returns the configuration of engine A (b false) or B.
//
// Both ends negotiate the 32-bit FCS (RFC 1570), as two pppssh ends do, so
// that the integrity check of FuzzEnginePair is sound: with the 16-bit FCS
// a frame the middle damages or truncates passes the check once in 65536,
// which a fuzzer running millions of frames through would hit, and the
// check would report the framing doing all it can. Once FCS-32 is agreed
// the link takes frames other than LCP only with a good 32-bit FCS
// (link.Counters.DropWrongFCS), so damage gets through once in 2^32.
func (ps pairSetup) engineConfig(flags byte, b bool) tunnel.Config {
	lc := lcp.DefaultConfig()
	lc.Want.NegFCS, lc.Want.FCS = true, lcp.FCS32
	lc.Allow.NegFCS, lc.Allow.FCS = true, lcp.FCS16|lcp.FCS32
	lc.EchoInterval, lc.EchoFailure = ps.echo, ps.echoN
	ic := ipcp.Config{Local: addrA, Remote: addrB}
	if b {
		lc.Magic = magicSource(0x1305b050)
		ic = ipcp.Config{Local: addrB, Remote: addrA}
		if flags&epBOpen != 0 {
			ic = ipcp.Config{}
		}
		if ps.mruB != 0 {
			lc.Want.MRU = uint16(ps.mruB)
		}
	} else {
		lc.Magic = magicSource(captureMagic)
	}
	cfg := tunnel.Config{
		Link: link.Config{
			LCP:             &lc,
			IPCP:            ic,
			RestartInterval: ps.restart,
			MaxConfigure:    ps.maxConf,
			MaxTerminate:    ps.maxTerm,
		},
		ClampMSS: flags&epClampMSS != 0,
	}
	if flags&epFewTries != 0 {
		cfg.Link.MaxFailure = 2
	}
	return cfg
}

func newPairSetup(flags byte) pairSetup {
	ps := pairSetup{restart: ppp.DefaultRestartInterval, maxConf: ppp.DefaultMaxConfigure, maxTerm: ppp.DefaultMaxTerminate}
	if flags&epFast != 0 {
		ps.restart = time.Second
	}
	if flags&epEcho != 0 {
		ps.echo, ps.echoN = 4*time.Second, 3
	}
	if flags&epSmallMRU != 0 {
		ps.mruB = 296
	}
	if flags&epFewTries != 0 {
		ps.maxConf = 3
	}
	return ps
}

// direction is one way through the middle: the frames one engine wrote,
// waiting to be delivered to the other.
type direction struct {
	name  string
	src   net.Conn // the middle's end of the sending engine's stream
	dst   net.Conn // the middle's end of the receiving engine's stream
	split frameSplitter

	mu     sync.Mutex
	queue  [][]byte // raw frames, flags excluded, in the order written
	eof    bool     // the sender's stream has ended
	healed bool     // the middle forwards everything unchanged now
	held   [][]byte // frames held back, to be delivered later
}

// maxQueue bounds the frames a direction keeps; older ones are dropped,
// as a full line would lose them.
const maxQueue = 256

// read is the direction's reader goroutine: it splits what the sender
// writes into frames and queues them, or, once healed, forwards them.
func (d *direction) read() {
	buf := make([]byte, 64<<10)
	for {
		n, err := d.src.Read(buf)
		frames := d.split.write(buf[:n])
		d.mu.Lock()
		for _, f := range frames {
			d.queue = append(d.queue, f.raw)
		}
		if len(d.queue) > maxQueue {
			d.queue = append(d.queue[:0], d.queue[len(d.queue)-maxQueue:]...)
		}
		var out [][]byte
		if d.healed {
			out, d.queue = d.queue, nil
		}
		if err != nil {
			d.eof = true
		}
		healedEOF := d.healed && d.eof
		d.mu.Unlock()
		for _, f := range out {
			d.deliver(f)
		}
		if healedEOF {
			d.dst.Close()
		}
		if err != nil {
			return
		}
	}
}

// deliver writes one raw frame, between flags, to the receiving engine.
// Once that engine has ended the write fails, and is ignored.
func (d *direction) deliver(raw []byte) {
	b := make([]byte, 0, len(raw)+2)
	b = append(append(append(b, flagSeq), raw...), flagSeq)
	_, _ = d.dst.Write(b)
}

// next takes the oldest queued frame, or returns nil.
func (d *direction) next() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return nil
	}
	f := d.queue[0]
	d.queue = d.queue[1:]
	return f
}

// takeAll takes every queued frame.
func (d *direction) takeAll() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queue
	d.queue = nil
	return q
}

// end is one engine with its device and what it received.
type end struct {
	name string
	eng  *tunnel.Engine
	dev  *tuntest.Device
	done chan error
	err  error
	over bool // Run returned

	mu   sync.Mutex
	sent map[string]bool // packets injected into this end's device
	got  map[string]int  // packets this end's device received, by content
}

// collect is the end's device reader goroutine: it takes what the engine
// writes to the device and checks that the peer's device sent it.
func (e *end) collect(t *testing.T, peer *end) {
	take := func(p []byte) {
		peer.mu.Lock()
		ok := peer.sent[string(p)]
		peer.mu.Unlock()
		if !ok {
			t.Errorf("%s's device received a packet %s never sent (%d octets): % x", e.name, peer.name, len(p), p)
		}
		e.mu.Lock()
		e.got[string(p)]++
		e.mu.Unlock()
	}
	for {
		select {
		case p := <-e.dev.Inbound:
			take(p)
		case <-e.dev.Closed():
			for {
				select {
				case p := <-e.dev.Inbound:
					take(p)
				default:
					return
				}
			}
		}
	}
}

// received reports whether the end's device received p.
func (e *end) received(p []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got[string(p)] > 0
}

// poll notes whether Run has returned.
func (e *end) poll() {
	if e.over {
		return
	}
	select {
	case e.err = <-e.done:
		e.over = true
	default:
	}
}

// pairRun is one execution of FuzzEnginePair.
type pairRun struct {
	t     *testing.T
	s     script
	setup pairSetup
	a, b  *end
	ab    *direction // A to B
	ba    *direction // B to A
	seq   int        // packets injected so far
	wg    sync.WaitGroup

	scripted int // packets the devices received during the script
}

// FuzzEnginePair runs two engines joined through a mutating middle, in fake
// time. See the package documentation for what it checks.
//
// The script: a flags octet (epEcho …), then operations, each an opcode
// whose lowest bit picks the direction (A to B, or B to A) and its
// operands (see pairRun.step).
func FuzzEnginePair(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxInput {
			in = in[:maxInput]
		}
		synctest.Test(t, func(t *testing.T) { runPair(t, in) })
	})
}

func runPair(t *testing.T, in []byte) *pairRun {
	s := script{b: in}
	r := startPair(t, s.byte())
	r.s = s
	for r.s.next(maxPairOps) {
		synctest.Wait()
		r.step(r.s.byte())
	}
	synctest.Wait()
	r.a.mu.Lock()
	r.b.mu.Lock()
	r.scripted = len(r.a.got) + len(r.b.got)
	r.b.mu.Unlock()
	r.a.mu.Unlock()
	r.heal()
	r.converge()
	r.close()
	r.wg.Wait()
	return r
}

// startPair starts two engines configured by flags, joined through the
// middle, and the goroutines that read the middle and the devices.
func startPair(t *testing.T, flags byte) *pairRun {
	ps := newPairSetup(flags)
	r := &pairRun{t: t, setup: ps}
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	// After a failure, end the engines and the goroutines.
	t.Cleanup(func() {
		for _, c := range []net.Conn{a1, a2, b1, b2} {
			c.Close()
		}
	})
	newEnd := func(name string, c net.Conn, cfg tunnel.Config) *end {
		e := &end{name: name, dev: tuntest.New(8, 64), done: make(chan error, 1), sent: map[string]bool{}, got: map[string]int{}}
		e.eng = tunnel.New(c, e.dev, cfg)
		return e
	}
	r.a = newEnd("A", a1, ps.engineConfig(flags, false))
	r.b = newEnd("B", b1, ps.engineConfig(flags, true))
	r.ab = &direction{name: "A to B", src: a2, dst: b2}
	r.ba = &direction{name: "B to A", src: b2, dst: a2}
	for _, e := range []*end{r.a, r.b} {
		go func() { e.done <- e.eng.Run(context.Background()) }()
	}
	r.wg.Go(func() { r.a.collect(t, r.b) })
	r.wg.Go(func() { r.b.collect(t, r.a) })
	r.wg.Go(r.ab.read)
	r.wg.Go(r.ba.read)
	return r
}

// step performs one operation of the script on the direction its lowest
// bit picks.
func (r *pairRun) step(op byte) {
	s := &r.s
	d, from := r.ab, r.a
	if op&1 != 0 {
		d, from = r.ba, r.b
	}
	tracef(r.t, "%v %s: op %d", time.Now().Format("15:04:05.00"), d.name, op>>1%12)
	switch op >> 1 % 12 {
	case 0: // pass the next frame
		if f := d.next(); f != nil {
			d.deliver(f)
		}
	case 1: // flip a bit
		if f := d.next(); f != nil {
			i := int(s.uint16())
			f[i/8%len(f)] ^= 1 << (i % 8)
			d.deliver(f)
		}
	case 2: // drop
		d.next()
	case 3: // duplicate
		if f := d.next(); f != nil {
			d.deliver(f)
			d.deliver(f)
		}
	case 4: // hold back, to deliver later: reorder
		if f := d.next(); f != nil {
			d.held = append(d.held, f)
		}
	case 5: // deliver what was held back
		for _, f := range d.held {
			d.deliver(f)
		}
		d.held = nil
	case 6: // truncate
		if f := d.next(); f != nil {
			d.deliver(f[:int(s.byte())%len(f)])
		}
	case 7: // time passes
		time.Sleep(time.Duration(s.byte()) * 50 * time.Millisecond)
	case 8: // the host of the sending end sends an IP packet
		r.inject(from, int(s.byte()))
	case 9: // pass everything queued
		for _, f := range d.takeAll() {
			d.deliver(f)
		}
	case 10: // line noise between frames
		noise := s.bytes(int(s.byte()%16) + 1)
		_, _ = d.dst.Write(noise)
	case 11: // pass the next frame, split in two writes
		if f := d.next(); f != nil {
			b := append(append([]byte{flagSeq}, f...), flagSeq)
			k := int(s.byte()) % len(b)
			_, _ = d.dst.Write(b[:k])
			_, _ = d.dst.Write(b[k:])
		}
	}
}

// inject puts an IPv4 packet into e's device, as if its host had routed
// it into the tunnel: UDP from e's network to the other's, its payload
// carrying a sequence number so that every packet is distinct, n octets of
// payload in all (at least the sequence number). It returns the packet.
func (r *pairRun) inject(e *end, n int) []byte {
	src, dst := addrA.As4(), addrB.As4()
	if e == r.b {
		src, dst = dst, src
	}
	src[3], dst[3] = 10, 20
	r.seq++
	payload := make([]byte, max(n, 4))
	binary.BigEndian.PutUint32(payload, uint32(r.seq))
	for i := 4; i < len(payload); i++ {
		payload[i] = byte(r.seq + i) // 0x7d and 0x7e among them
	}
	pkt := ipv4UDP(src, dst, payload)
	e.mu.Lock()
	e.sent[string(pkt)] = true
	e.mu.Unlock()
	select {
	case e.dev.Outbound <- pkt:
	default: // the device's queue is full: the host's packet is lost
	}
	return pkt
}

// ipv4UDP builds an IPv4 UDP packet with valid checksums.
func ipv4UDP(src, dst [4]byte, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0], p[8], p[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	copy(p[12:], src[:])
	copy(p[16:], dst[:])
	binary.BigEndian.PutUint16(p[10:], ^checksum(0, p[:20]))
	binary.BigEndian.PutUint16(p[20:], 4000)
	binary.BigEndian.PutUint16(p[22:], 5000)
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	pseudo := append(append(append([]byte{}, src[:]...), dst[:]...), 0, 17, byte((8+len(payload))>>8), byte(8+len(payload)))
	if c := ^checksum(uint32(checksum(0, pseudo)), p[20:]); c != 0 {
		binary.BigEndian.PutUint16(p[26:], c)
	} else {
		binary.BigEndian.PutUint16(p[26:], 0xffff)
	}
	return p
}

// checksum adds b to the one's complement sum s (RFC 1071).
func checksum(s uint32, b []byte) uint16 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// heal makes the middle a plain wire: frames held back are dropped as
// lost, those queued are delivered, and from an idle moment with nothing
// queued on, both directions forward everything as it comes. A direction
// whose sender has ended passes the end of its stream on.
func (r *pairRun) heal() {
	for _, d := range []*direction{r.ab, r.ba} {
		d.held = nil
	}
	for {
		synctest.Wait()
		r.ab.mu.Lock()
		r.ba.mu.Lock()
		qab, qba := r.ab.queue, r.ba.queue
		r.ab.queue, r.ba.queue = nil, nil
		var eofs []*direction
		if len(qab)+len(qba) == 0 {
			r.ab.healed, r.ba.healed = true, true
			for _, d := range []*direction{r.ab, r.ba} {
				if d.eof {
					eofs = append(eofs, d)
				}
			}
		}
		r.ba.mu.Unlock()
		r.ab.mu.Unlock()
		if len(qab)+len(qba) == 0 {
			for _, d := range eofs {
				d.dst.Close()
			}
			return
		}
		for _, f := range qab {
			r.ab.deliver(f)
		}
		for _, f := range qba {
			r.ba.deliver(f)
		}
	}
}

// converge waits, on a healed wire, for longer than any negotiation takes,
// then requires both ends to have reached IPCP Opened with matching
// addresses and to carry a packet each way, or both to have ended with a
// reason.
func (r *pairRun) converge() {
	t, ps := r.t, r.setup
	time.Sleep(ps.restart*time.Duration(2*ps.maxConf+ps.maxTerm+4) + ps.echo*time.Duration(ps.echoN+2))
	synctest.Wait()
	r.a.poll()
	r.b.poll()
	switch {
	case r.a.over && r.b.over:
		checkReason(t, r.a.err)
		checkReason(t, r.b.err)
		return
	case r.a.over || r.b.over:
		t.Fatalf("on a healed wire, A ended %v (%v) and B ended %v (%v): the other end missed the end of its stream", r.a.over, r.a.err, r.b.over, r.b.err)
	}
	sa, sb := r.a.eng.Status(), r.b.eng.Status()
	if sa.IPCPState != ppp.StateOpened || sb.IPCPState != ppp.StateOpened {
		t.Fatalf("on a healed wire, neither ended and A is in LCP %v IPCP %v, B in LCP %v IPCP %v", sa.LCPState, sa.IPCPState, sb.LCPState, sb.IPCPState)
	}
	if sa.IPCP.Local != sb.IPCP.Peer || sa.IPCP.Peer != sb.IPCP.Local {
		t.Fatalf("A has %v peer %v, B has %v peer %v", sa.IPCP.Local, sa.IPCP.Peer, sb.IPCP.Local, sb.IPCP.Peer)
	}
	if sa.IPCP.Local != addrA || sa.IPCP.Peer != addrB {
		t.Fatalf("A has %v peer %v, configured %v peer %v", sa.IPCP.Local, sa.IPCP.Peer, addrA, addrB)
	}
	if sa.LCP.SendFCS != lcp.FCS32 || sb.LCP.SendFCS != lcp.FCS32 {
		t.Fatalf("FCS %v and %v, both ends offer FCS-32", sa.LCP.SendFCS, sb.LCP.SendFCS)
	}
	// Both are up: a packet goes through each way.
	for _, e := range []*end{r.a, r.b} {
		peer := r.b
		if e == r.b {
			peer = r.a
		}
		p := r.inject(e, 100)
		time.Sleep(time.Second)
		synctest.Wait()
		if !peer.received(p) {
			t.Fatalf("both ends are up, and the packet %s sent did not reach %s (A %+v, B %+v)", e.name, peer.name, sa.Counters, sb.Counters)
		}
	}
}

// close closes both engines: each Run returns within the restart timer's
// Terminate-Requests and the link's watchdog, with a reason, and every
// goroutine ends (synctest.Test waits for them).
func (r *pairRun) close() {
	t, ps := r.t, r.setup
	r.a.eng.Close()
	r.b.eng.Close()
	limit := ps.restart*time.Duration(ps.maxTerm+1) + 2*time.Second
	deadline := time.After(limit)
	for _, e := range []*end{r.a, r.b} {
		if e.over {
			continue
		}
		select {
		case e.err = <-e.done:
			e.over = true
		case <-deadline:
			t.Fatalf("%s's Run did not return within %v of Close", e.name, limit)
		}
		checkReason(t, e.err)
	}
	// The middle ends when both streams are closed.
	r.ab.src.Close()
	r.ba.src.Close()
}
