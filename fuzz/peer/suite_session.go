package peer

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// suite builds the cases of Suite from one configuration, with its
// defaults filled in.
type suite struct{ cfg SuiteConfig }

// answer bounds the wait for a reply the peer should send at once (an
// Ack, an Echo-Reply): generous, since it is spent only when the peer
// fails to answer.
func (s *suite) answer() time.Duration { return 2*time.Second + s.cfg.Restart }

// quiet is how long the peer must stay silent after its last
// retransmission for the harness to conclude it has given up: two restart
// intervals and a second, since a loaded machine (or an emulated one)
// stretches a peer's timers.
func (s *suite) quiet() time.Duration { return 2*s.cfg.Restart + time.Second }

// negotiate bounds a whole negotiation by the harness (LCP or IPCP).
func (s *suite) negotiate() time.Duration { return s.cfg.Start + 2*s.answer() }

// timeout is the bound of a case that waits for at most rounds restart
// intervals besides its negotiations.
func (s *suite) timeout(rounds int) time.Duration {
	return 2*s.negotiate() + 5*time.Second + time.Duration(rounds)*2*s.cfg.Restart
}

// opts is a list of configuration options, each holding its own copy of
// its data.
type opts []ppp.Option

// parseOpts reads the options of a Configure-* packet.
func parseOpts(b []byte) (opts, error) {
	if err := ppp.CheckOptions(b); err != nil {
		return nil, err
	}
	var o opts
	r := ppp.OptionReader(b)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		o = append(o, ppp.Option{Type: opt.Type, Data: bytes.Clone(opt.Data)})
	}
	return o, r.Err()
}

// bytes returns the options as they go in a packet.
func (o opts) bytes() []byte {
	b := []byte{}
	for _, opt := range o {
		b = ppp.AppendOption(b, opt.Type, opt.Data...)
	}
	return b
}

// find returns the first option of type typ.
func (o opts) find(typ uint8) (ppp.Option, bool) {
	for _, opt := range o {
		if opt.Type == typ {
			return opt, true
		}
	}
	return ppp.Option{}, false
}

// with returns o with the option of type typ set to data: replaced where
// it is, or appended.
func (o opts) with(typ uint8, data ...byte) opts {
	out := append(opts(nil), o...)
	for i, opt := range out {
		if opt.Type == typ {
			out[i] = ppp.Option{Type: typ, Data: bytes.Clone(data)}
			return out
		}
	}
	return append(out, ppp.Option{Type: typ, Data: bytes.Clone(data)})
}

// contains reports whether o holds opt, octet for octet.
func (o opts) contains(opt ppp.Option) bool {
	for _, x := range o {
		if x.Type == opt.Type && bytes.Equal(x.Data, opt.Data) {
			return true
		}
	}
	return false
}

// optionsText returns options as pppd prints them: "<mru 64> <magic 0x1>",
// or "none".
func optionsText(proto ppp.Protocol, b []byte) string {
	if len(b) == 0 {
		return "none"
	}
	o, err := parseOpts(b)
	if err != nil {
		return fmt.Sprintf("malformed options % x", b)
	}
	f, _ := Formatter(proto).(ppp.OptionFormatter)
	var out []byte
	for _, opt := range o {
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, '<')
		n := len(out)
		if f != nil {
			out = f.AppendOptionText(out, opt)
		}
		if len(out) == n {
			out = ppp.AppendHex(out, []byte{opt.Type, byte(opt.Len())})
			out = ppp.AppendHex(out, opt.Data)
		}
		out = append(out, '>')
	}
	return string(out)
}

// packetText returns a control packet as pppd prints it.
func packetText(proto ppp.Protocol, pkt []byte) string {
	return string(ppp.AppendPacketText(nil, proto, pkt, Formatter(proto)))
}

// be32 reads a 32-bit value in network byte order.
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// u32 returns v in network byte order.
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// u16 returns v in network byte order.
func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// isPacket returns a match for well-formed control packets of proto with
// one of codes (any code when none is given).
func isPacket(proto ppp.Protocol, codes ...ppp.Code) func(Frame) bool {
	return func(f Frame) bool {
		if f.Proto != proto {
			return false
		}
		p, ok := f.Packet()
		if !ok {
			return false
		}
		if len(codes) == 0 {
			return true
		}
		return bytes.Contains(codesBytes(codes), []byte{byte(p.Code())})
	}
}

// isReply returns a match for a Configure-Ack, -Nak or -Reject of proto
// with identifier id.
func isReply(proto ppp.Protocol, id uint8) func(Frame) bool {
	return func(f Frame) bool {
		if !isPacket(proto, ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject)(f) {
			return false
		}
		p, _ := f.Packet()
		return p.ID() == id
	}
}

// isCode returns a match for a packet of proto with code and identifier id.
func isCode(proto ppp.Protocol, code ppp.Code, id uint8) func(Frame) bool {
	return func(f Frame) bool {
		if !f.Is(proto, code) {
			return false
		}
		p, _ := f.Packet()
		return p.ID() == id
	}
}

func codesBytes(codes []ppp.Code) []byte {
	b := make([]byte, len(codes))
	for i, c := range codes {
		b[i] = byte(c)
	}
	return b
}

// peerInitiated reports whether f is an LCP packet a peer sends on its own
// rather than in answer to something (Echo-Request, Discard-Request,
// Identification, Time-Remaining): pppd, for one, sends an Echo-Request
// as soon as LCP is Opened when it runs keep-alives.
func peerInitiated(f Frame) bool {
	for _, c := range []ppp.Code{ppp.CodeEchoRequest, ppp.CodeDiscardRequest, ppp.CodeIdentification, ppp.CodeTimeRemaining} {
		if f.Is(ppp.ProtoLCP, c) {
			return true
		}
	}
	return false
}

// packet returns the control packet of a frame that a match function has
// already accepted as one.
func packet(f Frame) ppp.Packet {
	p, _ := f.Packet()
	return p
}

// next returns the next frame: one put back with unread first, else the
// next from the line.
func (t *T) next(ctx context.Context) (Frame, error) {
	if len(t.stash) > 0 {
		f := t.stash[0]
		t.stash = t.stash[1:]
		return f, nil
	}
	return t.conn.Next(ctx)
}

// unread puts frames back, to be returned by the next reads in their
// order.
func (t *T) unread(fs ...Frame) {
	t.stash = append(append([]Frame(nil), fs...), t.stash...)
}

// A negotiation is the harness's end of one control protocol's option
// negotiation (RFC 1661 section 4): it sends its own Configure-Requests
// and adapts them to the peer's Naks and Rejects, and judges the peer's
// requests with judge. It checks the peer's replies against RFC 1661
// sections 5.2 to 5.4 as they come, and ends the case with a MUST failure
// when one breaks them.
type negotiation struct {
	t     *T
	proto ppp.Protocol
	want  opts // what the next Configure-Request asks for
	// judge decides the reply to the peer's request: the code and the
	// reply's options.
	judge func(req opts) (ppp.Code, []byte)
	// naked adapts want to the options of a valid Configure-Nak.
	naked func(nak opts)

	id      uint8  // identifier of our last Configure-Request
	req     []byte // its options
	pending bool   // it has had no valid reply
	gotAck  bool   // the peer acknowledged our latest request
	sentAck bool   // we acknowledged the peer's latest request
	peer    opts   // the options of the peer's latest request
	peerID  uint8
	rounds  int // Configure-Requests sent
}

// maxRounds bounds the harness's Configure-Requests in one negotiation.
const maxRounds = 30

// open runs the negotiation until both ends have acknowledged each
// other's requests (the peer is then Opened), sending our first request
// unless one is out. Frames of other protocols that arrive meanwhile are
// kept for later reads. It ends the case with Error if that takes longer
// than within.
func (n *negotiation) open(within time.Duration) {
	t := n.t
	if n.rounds == 0 {
		n.request()
	}
	ctx, cancel := context.WithTimeout(t.ctx, within)
	defer cancel()
	var other []Frame
	defer func() { t.unread(other...) }()
	for !n.gotAck || !n.sentAck {
		f, err := t.next(ctx)
		if err != nil {
			t.unread(other...)
			other = nil
			n.stuck(within)
		}
		if !n.handle(f) {
			other = append(other, f)
		}
	}
}

// stuck ends the case when the negotiation did not finish.
func (n *negotiation) stuck(within time.Duration) {
	t := n.t
	state := "the peer never acknowledged our Configure-Request"
	switch {
	case n.gotAck && !n.sentAck:
		state = "the peer acknowledged our request but sent none we could acknowledge"
	case !n.gotAck && n.sentAck:
		state = "we acknowledged the peer's request, it never acknowledged ours (" + optionsText(n.proto, n.req) + ")"
	}
	if t.Closed() {
		t.Abort("%v did not open: the peer closed the line (%s)", n.proto, state)
	}
	t.Abort("%v did not open within %v: %s", n.proto, within.Round(time.Millisecond), state)
}

// request sends a Configure-Request with the options in want and a new
// identifier.
func (n *negotiation) request() {
	n.rounds++
	if n.rounds > maxRounds {
		n.t.Abort("%v: no agreement after %d Configure-Requests of ours", n.proto, maxRounds)
	}
	n.id = n.t.id()
	n.req = n.want.bytes()
	n.pending = true
	n.gotAck = false
	n.t.Send(n.proto, ppp.CodeConfigureRequest, n.id, n.req)
}

// handle takes one frame: it answers the peer's Configure-Request, takes
// replies to ours and acknowledges Terminate-Requests. It returns false
// for frames that are not of the negotiation's protocol, or not about the
// negotiation.
func (n *negotiation) handle(f Frame) bool {
	t := n.t
	if f.Proto != n.proto {
		return false
	}
	p, ok := f.Packet()
	if !ok {
		return false
	}
	switch p.Code() {
	case ppp.CodeConfigureRequest:
		req, err := parseOpts(p.Data())
		if err != nil {
			t.FailAt(Must, "the peer sent a %v Configure-Request with malformed options: %s (RFC 1661 §6)", n.proto, packetText(n.proto, p))
		}
		code, reply := n.judge(req)
		n.peer, n.peerID = req, p.ID()
		n.sentAck = code == ppp.CodeConfigureAck
		t.Send(n.proto, code, p.ID(), reply)
	case ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject:
		if !t.wasRequested(n.proto, p.ID()) {
			t.FailAt(Must, "the peer sent %s with an Identifier none of our Configure-Requests had; a reply carries the Identifier of the request it answers",
				packetText(n.proto, p))
		}
		if !n.pending || p.ID() != n.id {
			t.Logf("ignored: a reply to no outstanding request of ours")
			return true
		}
		n.reply(p)
	case ppp.CodeTerminateRequest:
		t.Send(n.proto, ppp.CodeTerminateAck, p.ID(), nil)
		t.Abort("the peer terminated %v during its negotiation: %s", n.proto, packetText(n.proto, p))
	default:
		return false
	}
	return true
}

// reply takes the peer's valid reply to our outstanding request, checks it
// against RFC 1661 sections 5.2 to 5.4 and adapts the next request.
func (n *negotiation) reply(p ppp.Packet) {
	t := n.t
	n.pending = false
	got, err := parseOpts(p.Data())
	if err != nil {
		t.FailAt(Must, "the peer's %v reply has malformed options: %s (RFC 1661 §6)", n.proto, packetText(n.proto, p))
	}
	switch p.Code() {
	case ppp.CodeConfigureAck:
		if !bytes.Equal(p.Data(), n.req) {
			t.FailAt(Must, "the peer's %v Configure-Ack id=%#x does not repeat our request: we sent %s, it acknowledged %s (RFC 1661 §5.2)",
				n.proto, p.ID(), optionsText(n.proto, n.req), optionsText(n.proto, p.Data()))
		}
		n.gotAck = true
	case ppp.CodeConfigureNak:
		sent, _ := parseOpts(n.req)
		for _, o := range got {
			if _, ours := sent.find(o.Type); ours && len(o.Data) == 0 {
				t.FailAt(Must, "the peer Nak'd the boolean option %s of our %v request; boolean options MUST be rejected instead (RFC 1661 §5.3)",
					optionsText(n.proto, ppp.AppendOption(nil, o.Type)), n.proto)
			}
		}
		if err := sameOrder(sent, got); err != "" {
			t.FailAt(Must, "the peer's %v Configure-Nak %s: %s (RFC 1661 §5.3)", n.proto, optionsText(n.proto, p.Data()), err)
		}
		n.naked(got)
		n.request()
	case ppp.CodeConfigureReject:
		sent, _ := parseOpts(n.req)
		if err := subset(sent, got); err != "" {
			t.FailAt(Must, "the peer's %v Configure-Reject %s of our request %s: %s (RFC 1661 §5.4)",
				n.proto, optionsText(n.proto, p.Data()), optionsText(n.proto, n.req), err)
		}
		var keep opts
		for _, o := range n.want {
			if !got.contains(o) {
				keep = append(keep, o)
			}
		}
		n.want = keep
		n.request()
	}
}

// subset checks that rej lists options of sent, unaltered and in their
// order, as a Configure-Reject must; it returns what is wrong, or "".
func subset(sent, rej opts) string {
	i := 0
	for _, o := range rej {
		for i < len(sent) && !(sent[i].Type == o.Type && bytes.Equal(sent[i].Data, o.Data)) {
			i++
		}
		if i == len(sent) {
			if sent.contains(o) {
				return "it reorders our options"
			}
			return fmt.Sprintf("option type %d with data % x is not one we sent unaltered", o.Type, o.Data)
		}
		i++
	}
	if len(rej) == 0 {
		return "it rejects nothing"
	}
	return ""
}

// sameOrder checks that the options of a Configure-Nak that we sent come
// in the order we sent them; options we did not send (hints) may follow.
func sameOrder(sent, nak opts) string {
	last := -1
	for _, o := range nak {
		for i, s := range sent {
			if s.Type == o.Type {
				if i < last {
					return "it reorders our options"
				}
				last = i
				break
			}
		}
	}
	return ""
}

// lcpSession is the harness's LCP: a negotiation with the options the
// case asks for, and what was agreed.
type lcpSession struct {
	*negotiation
	s     *suite
	magic uint32 // our magic number, while we request one
}

// wantMagic asks for a magic number only: the harness's usual LCP
// request.
var wantMagic = lcpWant{magic: true}

// lcpWant is what a case wants in the harness's LCP Configure-Request.
type lcpWant struct {
	mru       int     // MRU to request; 0 requests none
	accm      *uint32 // ACCM to request; nil requests none
	magic     bool
	pfc, acfc bool
	extra     opts // appended as they are (unknown options)
}

// newLCP starts the harness's LCP with the options of w; nothing is sent
// yet.
func (s *suite) newLCP(t *T, w lcpWant) *lcpSession {
	l := &lcpSession{s: s}
	var o opts
	if w.mru > 0 {
		o = o.with(lcp.OptMRU, u16(uint16(w.mru))...)
	}
	if w.accm != nil {
		o = o.with(lcp.OptACCM, u32(*w.accm)...)
	}
	if w.magic {
		l.magic = newMagic(0)
		o = o.with(lcp.OptMagicNumber, u32(l.magic)...)
	}
	if w.pfc {
		o = o.with(lcp.OptPFC)
	}
	if w.acfc {
		o = o.with(lcp.OptACFC)
	}
	o = append(o, w.extra...)
	l.negotiation = &negotiation{t: t, proto: ppp.ProtoLCP, want: o, judge: l.judge, naked: l.naked}
	return l
}

// newMagic returns a random magic number other than zero and not.
func newMagic(not uint32) uint32 {
	for {
		if m := rand.Uint32(); m != 0 && m != not {
			return m
		}
	}
}

// judge answers the peer's LCP request as a minimal implementation does:
// MRU, ACCM, Magic-Number, PFC and ACFC are acknowledged (a magic number
// equal to ours is Nak'd), everything else rejected (authentication too:
// the harness cannot authenticate).
func (l *lcpSession) judge(req opts) (ppp.Code, []byte) {
	var rej, nak opts
	for _, o := range req {
		switch {
		case o.Type == lcp.OptMRU && len(o.Data) == 2,
			o.Type == lcp.OptACCM && len(o.Data) == 4,
			o.Type == lcp.OptPFC && len(o.Data) == 0,
			o.Type == lcp.OptACFC && len(o.Data) == 0:
		case o.Type == lcp.OptMagicNumber && len(o.Data) == 4:
			if m := be32(o.Data); m == 0 || (l.magic != 0 && m == l.magic) {
				nak = append(nak, ppp.Option{Type: o.Type, Data: u32(newMagic(l.magic))})
			}
		default:
			rej = append(rej, o)
		}
	}
	return replyCode(req, nak, rej)
}

// naked takes the values the peer suggests for MRU and ACCM, and a new
// magic number if it Nak'd ours.
func (l *lcpSession) naked(nak opts) {
	for _, o := range nak {
		if _, ours := l.want.find(o.Type); !ours {
			continue // a hint: the harness asks for what its case needs only
		}
		switch {
		case o.Type == lcp.OptMRU && len(o.Data) == 2, o.Type == lcp.OptACCM && len(o.Data) == 4:
			l.want = l.want.with(o.Type, o.Data...)
		case o.Type == lcp.OptMagicNumber:
			l.magic = newMagic(l.magic)
			l.want = l.want.with(o.Type, u32(l.magic)...)
		}
	}
}

// open brings LCP to Opened, or ends the case with Error.
func (l *lcpSession) open() {
	if l.rounds == 0 && len(l.t.conn.History()) == 0 {
		// Tell a peer that never speaks from one that does not agree.
		l.request()
		f, ok := l.t.Expect(l.s.cfg.Start, func(Frame) bool { return true })
		if !ok {
			if l.t.Closed() {
				l.t.Abort("the peer closed the line without sending a frame")
			}
			l.t.Abort("the peer sent no frame within %v of the line opening", l.s.cfg.Start)
		}
		l.t.unread(f)
	}
	l.negotiation.open(l.s.negotiate())
}

// ourMagic returns the magic number the peer acknowledged, or zero.
func (l *lcpSession) ourMagic() uint32 {
	if o, ok := l.want.find(lcp.OptMagicNumber); ok && l.gotAck {
		return be32(o.Data)
	}
	return 0
}

// peerMagic returns the magic number of the peer's acknowledged request,
// or zero.
func (l *lcpSession) peerMagic() uint32 {
	if o, ok := l.peer.find(lcp.OptMagicNumber); ok && len(o.Data) == 4 {
		return be32(o.Data)
	}
	return 0
}

// agreed returns the value of our option typ as the peer acknowledged it.
func (l *lcpSession) agreed(typ uint8) (ppp.Option, bool) {
	if !l.gotAck {
		return ppp.Option{}, false
	}
	return l.want.find(typ)
}

// echo sends an Echo-Request carrying our magic number and data, and
// waits for the Echo-Reply with its identifier. It returns the reply and
// the frames that came before it; ok is false when none came in time.
func (l *lcpSession) echo(data []byte) (reply Frame, before []Frame, ok bool) {
	t := l.t
	id := t.id()
	t.Send(ppp.ProtoLCP, ppp.CodeEchoRequest, id, append(u32(l.ourMagic()), data...))
	return t.until(l.s.answer(), isCode(ppp.ProtoLCP, ppp.CodeEchoReply, id))
}

// mustEcho is echo for a peer that must be Opened: it ends the case with
// Error when no Echo-Reply comes.
func (l *lcpSession) mustEcho(data []byte) (reply Frame, before []Frame) {
	reply, before, ok := l.echo(data)
	if !ok {
		if l.t.Closed() {
			l.t.Abort("the peer closed the line instead of answering an Echo-Request in the Opened state")
		}
		l.t.Abort("no Echo-Reply within %v to an Echo-Request in the Opened state (RFC 1661 §5.8 requires one)", l.s.answer())
	}
	return reply, before
}

// barrier sends a new Configure-Request and waits for the peer's reply to
// it, which it takes; it returns the frames that came before the reply.
// Since a peer handles packets in order, anything it answered to packets
// sent before the barrier arrives among them. The case ends with Error if
// no reply comes.
func (n *negotiation) barrier(within time.Duration) []Frame {
	t := n.t
	n.request()
	f, before, ok := t.until(within, isReply(n.proto, n.id))
	if !ok {
		if t.Closed() {
			t.Abort("the peer closed the line instead of answering our %v Configure-Request", n.proto)
		}
		t.Abort("the peer did not answer our %v Configure-Request id=%#x within %v (RFC 1661 §5.1: an appropriate reply MUST be transmitted)", n.proto, n.id, within)
	}
	n.handle(f)
	return before
}

// firstRequest waits for the peer's first LCP Configure-Request on the new
// line and returns it; the case ends with Error if none comes within the
// configured start time.
func (s *suite) firstRequest(t *T) ppp.Packet {
	f, ok := t.Expect(s.cfg.Start, isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest))
	if !ok {
		if t.Closed() {
			t.Abort("the peer closed the line without sending an LCP Configure-Request")
		}
		t.Abort("the peer sent no LCP Configure-Request within %v of the line opening (a silent or passive peer cannot be tested)", s.cfg.Start)
	}
	return packet(f)
}

// openLCP brings LCP up with the options of w, starting with the peer's
// first request, and returns the session.
func (s *suite) openLCP(t *T, w lcpWant) *lcpSession {
	l := s.newLCP(t, w)
	l.open()
	return l
}

// ipcpSession is the harness's IPCP.
type ipcpSession struct {
	*negotiation
	s *suite
}

// ipcpWant is what a case wants in the harness's IPCP request.
type ipcpWant struct {
	addr  netip.Addr // requested as is; unset means SuiteConfig.Address, or 0.0.0.0
	dns   bool       // request both DNS servers (RFC 1877) with 0.0.0.0
	nbns  bool       // request both NBNS servers with 0.0.0.0
	extra opts
}

// newIPCP starts the harness's IPCP; nothing is sent yet.
func (s *suite) newIPCP(t *T, w ipcpWant) *ipcpSession {
	a := w.addr
	if !a.IsValid() {
		a = s.cfg.Address
	}
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	b := a.As4()
	o := opts{{Type: ipcp.OptIPAddress, Data: b[:]}}
	zero := []byte{0, 0, 0, 0}
	if w.dns {
		o = o.with(ipcp.OptPrimaryDNS, zero...).with(ipcp.OptSecondaryDNS, zero...)
	}
	if w.nbns {
		o = o.with(ipcp.OptPrimaryNBNS, zero...).with(ipcp.OptSecondaryNBNS, zero...)
	}
	o = append(o, w.extra...)
	c := &ipcpSession{s: s}
	c.negotiation = &negotiation{t: t, proto: ppp.ProtoIPCP, want: o, judge: c.judge, naked: c.naked}
	return c
}

// judge acknowledges the peer's IP-Address, gives the configured peer
// address to a peer that asks for one, and rejects everything else
// (compression, name server requests, unknown options).
func (c *ipcpSession) judge(req opts) (ppp.Code, []byte) {
	var rej, nak opts
	for _, o := range req {
		switch {
		case o.Type == ipcp.OptIPAddress && len(o.Data) == 4:
			if a := netip.AddrFrom4([4]byte(o.Data)); a.IsUnspecified() {
				b := c.s.cfg.PeerAddress.As4()
				nak = append(nak, ppp.Option{Type: o.Type, Data: b[:]})
			}
		default:
			rej = append(rej, o)
		}
	}
	return replyCode(req, nak, rej)
}

// naked takes the addresses the peer offers.
func (c *ipcpSession) naked(nak opts) {
	for _, o := range nak {
		if _, ours := c.want.find(o.Type); ours && len(o.Data) == 4 {
			c.want = c.want.with(o.Type, o.Data...)
		}
	}
}

// open brings IPCP to Opened, or ends the case with Error.
func (c *ipcpSession) open() { c.negotiation.open(c.s.negotiate()) }

// address returns the IPv4 address of option typ in opts, if present.
func address(o opts, typ uint8) (netip.Addr, bool) {
	opt, ok := o.find(typ)
	if !ok || len(opt.Data) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(opt.Data)), true
}

// replyCode returns the reply RFC 1661 section 5 gives a Configure-Request
// req: a Configure-Reject of rej if there is any, else a Configure-Nak of
// nak if there is any, else a Configure-Ack repeating req.
func replyCode(req, nak, rej opts) (ppp.Code, []byte) {
	switch {
	case len(rej) > 0:
		return ppp.CodeConfigureReject, rej.bytes()
	case len(nak) > 0:
		return ppp.CodeConfigureNak, nak.bytes()
	}
	return ppp.CodeConfigureAck, req.bytes()
}
