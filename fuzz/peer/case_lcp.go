package peer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// restartTimer: see Suite.
func (s *suite) restartTimer(t *T) {
	first := s.firstRequestFrame(t)
	times := []time.Time{first.At}
	ids := []uint8{packet(first).ID()}
	for len(times) < 3 {
		f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest))
		if !ok {
			break
		}
		times = append(times, f.At)
		ids = append(ids, packet(f).ID())
	}
	if len(times) == 1 {
		t.Fail("the peer did not retransmit its Configure-Request within %v of getting no answer (the restart timer's TO+ event)", s.quiet())
	}
	var gaps []string
	var sum time.Duration
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		sum += d
		gaps = append(gaps, fmt.Sprintf("%.2f s", d.Seconds()))
	}
	mean := sum / time.Duration(len(times)-1)
	idText := "keeping its Identifier"
	if ids[1] != ids[0] {
		idText = "with new Identifiers"
	}
	if mean < s.cfg.Restart/2 || mean > 2*s.cfg.Restart+time.Second {
		t.FailAt(Should, "the peer retransmitted its Configure-Request after %s, far from the restart timer of %v it was said to use (give the peer's with --restart)",
			strings.Join(gaps, ", "), s.cfg.Restart)
	}
	t.Pass("retransmitted its Configure-Request after %s (restart timer %v), %s", strings.Join(gaps, ", "), s.cfg.Restart, idText)
}

// firstRequestFrame is firstRequest returning the frame.
func (s *suite) firstRequestFrame(t *T) Frame {
	s.firstRequest(t)
	h := t.conn.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Is(ppp.ProtoLCP, ppp.CodeConfigureRequest) {
			return h[i]
		}
	}
	panic("peer: firstRequest returned without a Configure-Request in the history")
}

// gaveUp describes how a peer that sent no more requests stopped.
func gaveUp(t *T, term Frame, sawTerm bool) string {
	switch {
	case sawTerm:
		return "then sent " + term.String()
	case t.Closed():
		return "then closed the line"
	}
	return "then went quiet"
}

// maxConfigure: see Suite.
func (s *suite) maxConfigure(t *T) {
	s.firstRequest(t)
	n := 1
	var term Frame
	sawTerm := false
	limit := s.cfg.MaxConfigure + 5
	for !sawTerm {
		f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, ppp.CodeTerminateRequest))
		if !ok {
			break
		}
		if packet(f).Code() == ppp.CodeTerminateRequest {
			term, sawTerm = f, true
			break
		}
		n++
		if n > limit {
			t.Fail("the peer sent %d Configure-Requests without an answer and kept going; it must give up after Max-Configure (%d configured)", n, s.cfg.MaxConfigure)
		}
	}
	how := gaveUp(t, term, sawTerm)
	if n != s.cfg.MaxConfigure {
		t.FailAt(Should, "the peer gave up after %d Configure-Requests, %s; Max-Configure was said to be %d (RFC default 10; give the peer's with --max-configure)", n, how, s.cfg.MaxConfigure)
	}
	t.Pass("gave up after %d Configure-Requests, %s", n, how)
}

// lcpRejectOfLCP returns an LCP Protocol-Reject of LCP itself, carrying
// a Configure-Request as the rejected information.
func lcpRejectOfLCP(t *T, l *lcpSession) []byte {
	rejected := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, l.peerID, l.peer.bytes())
	return ppp.AppendPacket(nil, ppp.CodeProtocolReject, t.id(), append(u16(uint16(ppp.ProtoLCP)), rejected...))
}

// maxTerminate: see Suite.
func (s *suite) maxTerminate(t *T) {
	l := s.openLCP(t, wantMagic)
	t.Logf("a Protocol-Reject of LCP is catastrophic (RXJ-): the peer should terminate the link")
	t.sendPacket(ppp.ProtoLCP, lcpRejectOfLCP(t, l))
	first, ok := t.Expect(s.answer(), isPacket(ppp.ProtoLCP, ppp.CodeTerminateRequest))
	if !ok {
		t.NotApplicable("the peer did not terminate the link on a Protocol-Reject of LCP, so its Terminate-Requests cannot be counted")
	}
	times := []time.Time{first.At}
	for {
		f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeTerminateRequest))
		if !ok {
			break
		}
		times = append(times, f.At)
		if len(times) > s.cfg.MaxTerminate+5 {
			t.Fail("the peer sent %d Terminate-Requests without an answer and kept going; it must give up after Max-Terminate (%d configured)", len(times), s.cfg.MaxTerminate)
		}
	}
	n := len(times)
	how := "then went quiet"
	if t.Closed() {
		how = "then closed the line"
	}
	var gaps []string
	for i := 1; i < n; i++ {
		gaps = append(gaps, fmt.Sprintf("%.2f s", times[i].Sub(times[i-1]).Seconds()))
	}
	apart := ""
	if len(gaps) > 0 {
		apart = " (" + strings.Join(gaps, ", ") + " apart)"
	}
	if n != s.cfg.MaxTerminate {
		t.FailAt(Should, "the peer sent %d Terminate-Requests%s, %s; Max-Terminate was said to be %d (RFC default 2; give the peer's with --max-terminate)", n, apart, how, s.cfg.MaxTerminate)
	}
	t.Pass("sent %d Terminate-Requests%s, %s", n, apart, how)
}

// maxFailure: see Suite.
func (s *suite) maxFailure(t *T) {
	s.firstRequest(t)
	l := s.newLCP(t, lcpWant{mru: 64, magic: true})
	naks := 0
	for range s.cfg.MaxFailure + 12 {
		l.request()
		f, ok := t.Expect(s.answer(), isReply(ppp.ProtoLCP, l.id))
		if !ok {
			if t.Closed() {
				s.naksCounted(t, naks, "then closed the line")
			}
			t.Abort("the peer did not answer our Configure-Request id=%#x within %v", l.id, s.answer())
		}
		p := packet(f)
		o, _ := parseOpts(p.Data())
		_, mru := o.find(lcp.OptMRU)
		switch {
		case p.Code() == ppp.CodeConfigureAck && naks == 0:
			t.NotApplicable("the peer accepts MRU 64, so it has nothing to Nak")
		case p.Code() == ppp.CodeConfigureAck:
			s.naksCounted(t, naks, "then acknowledged MRU 64")
		case p.Code() == ppp.CodeConfigureReject && mru:
			s.naksCounted(t, naks, "then rejected the option")
		case p.Code() == ppp.CodeConfigureNak && mru:
			naks++
		default:
			t.Abort("the peer answered our request for MRU 64 with %v, which this case does not expect", f)
		}
	}
	t.Fail("the peer Nak'd MRU 64 %d times without turning its Nak into a Configure-Reject (Max-Failure %d configured)", naks, s.cfg.MaxFailure)
}

// naksCounted ends the max-failure case once the peer stopped Naking.
func (s *suite) naksCounted(t *T, naks int, how string) {
	if naks != s.cfg.MaxFailure {
		t.FailAt(Should, "the peer sent %d Configure-Naks for MRU 64, %s; Max-Failure was said to be %d (RFC default 5; give the peer's with --max-failure)", naks, how, s.cfg.MaxFailure)
	}
	t.Pass("Nak'd MRU 64 %d times, %s", naks, how)
}

// acknowledgedOnly sends our request and takes the peer's replies until
// it acknowledges it, and answers the peer's requests until one is
// acceptable, which it does not acknowledge but returns: the peer is then
// one Configure-Ack short of Opened. first is the peer's request so far.
func (l *lcpSession) acknowledgedOnly(first ppp.Packet) ppp.Packet {
	t := l.t
	var acceptable ppp.Packet
	consider := func(p ppp.Packet) {
		req, err := parseOpts(p.Data())
		if err != nil {
			t.FailAt(Must, "the peer sent an LCP Configure-Request with malformed options: %s", packetText(ppp.ProtoLCP, p))
		}
		acceptable = nil
		if code, reply := l.judge(req); code != ppp.CodeConfigureAck {
			t.Send(ppp.ProtoLCP, code, p.ID(), reply)
			return
		}
		acceptable = p
	}
	consider(first)
	l.request()
	for !l.gotAck || acceptable == nil {
		f, ok := t.Expect(l.s.answer()+l.s.cfg.Restart, isPacket(ppp.ProtoLCP))
		if !ok {
			if !l.gotAck {
				t.Abort("the peer did not acknowledge our Configure-Request %s within %v", optionsText(ppp.ProtoLCP, l.req), l.s.answer())
			}
			t.Abort("the peer sent no Configure-Request the harness can acknowledge")
		}
		p := packet(f)
		switch p.Code() {
		case ppp.CodeConfigureRequest:
			consider(p)
		case ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject, ppp.CodeTerminateRequest:
			l.handle(f)
		}
	}
	return acceptable
}

// badAckThenGood sends the peer an Ack that it must discard, an
// Echo-Request, the correct Ack, and another Echo-Request: only the second
// may be answered.
func (s *suite) badAckThenGood(t *T, what string, bad func(req ppp.Packet) (id uint8, data []byte)) {
	first := s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	req := l.acknowledgedOnly(first)
	id, data := bad(req)
	t.Logf("sending a Configure-Ack %s", what)
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureAck, id, data)
	probe := t.id()
	t.Send(ppp.ProtoLCP, ppp.CodeEchoRequest, probe, u32(l.ourMagic()))
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureAck, req.ID(), req.Data())
	l.peer, _ = parseOpts(req.Data())
	l.peerID, l.sentAck = req.ID(), true
	_, before := l.mustEcho(nil)
	for _, f := range before {
		if isCode(ppp.ProtoLCP, ppp.CodeEchoReply, probe)(f) {
			t.Fail("the peer took a Configure-Ack %s: it answered an Echo-Request sent right after it, as only an Opened peer does", what)
		}
	}
	t.Pass("discarded the Configure-Ack %s; the correct Ack then opened LCP", what)
}

// staleAck: see Suite.
func (s *suite) staleAck(t *T) {
	s.badAckThenGood(t, "with a wrong Identifier", func(req ppp.Packet) (uint8, []byte) {
		return req.ID() ^ 0x80, req.Data()
	})
}

// ackAltered: see Suite.
func (s *suite) ackAltered(t *T) {
	s.badAckThenGood(t, "whose options differ from the request", func(req ppp.Packet) (uint8, []byte) {
		o, _ := parseOpts(req.Data())
		for i := len(o) - 1; i >= 0; i-- {
			if len(o[i].Data) > 0 {
				alt := append(opts(nil), o...)
				d := bytes.Clone(o[i].Data)
				d[len(d)-1] ^= 0x01
				alt[i] = ppp.Option{Type: o[i].Type, Data: d}
				return req.ID(), alt.bytes()
			}
		}
		return req.ID(), append(o.bytes(), ppp.AppendOptionUint16(nil, lcp.OptMRU, 1500)...)
	})
}

// rejectable returns the option of a request that the harness rejects in
// the identifier cases: a compression, magic, ACCM or MRU option, never
// authentication.
func rejectable(o opts) (ppp.Option, bool) {
	for _, typ := range []uint8{lcp.OptPFC, lcp.OptACFC, lcp.OptMagicNumber, lcp.OptACCM, lcp.OptMRU} {
		if opt, ok := o.find(typ); ok {
			return opt, true
		}
	}
	for _, opt := range o {
		if opt.Type != lcp.OptAuthProtocol {
			return opt, true
		}
	}
	return ppp.Option{}, false
}

// staleReject: see Suite.
func (s *suite) staleReject(t *T) {
	first := s.firstRequest(t)
	o, _ := parseOpts(first.Data())
	opt, ok := rejectable(o)
	if !ok {
		t.NotApplicable("the peer's Configure-Request has no option to reject")
	}
	stale := first.ID() ^ 0x80
	rej := opts{opt}.bytes()
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureReject, stale, rej)
	f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest))
	if !ok {
		t.Abort("the peer sent no further Configure-Request within %v", s.quiet())
	}
	next, _ := parseOpts(packet(f).Data())
	if !next.contains(opt) {
		t.Fail("the peer dropped %s from its Configure-Request after a Configure-Reject with a wrong Identifier (%#x; its request had %#x)",
			optionsText(ppp.ProtoLCP, rej), stale, first.ID())
	}
	t.Pass("ignored a Configure-Reject with Identifier %#x (its request had %#x): its next request still holds %s", stale, first.ID(), optionsText(ppp.ProtoLCP, rej))
}

// newID: see Suite.
func (s *suite) newID(t *T) {
	first := s.firstRequest(t)
	o, _ := parseOpts(first.Data())
	opt, ok := rejectable(o)
	if !ok {
		t.NotApplicable("the peer's Configure-Request has no option to reject")
	}
	rej := opts{opt}.bytes()
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureReject, first.ID(), rej)
	// A retransmission of the old request may cross the Reject on the
	// line: judge the first request that differs from it, or the last.
	l := s.newLCP(t, wantMagic)
	var next ppp.Packet
	for _, f := range l.barrier(s.answer()) {
		if f.Is(ppp.ProtoLCP, ppp.CodeConfigureRequest) {
			next = packet(f)
			if !bytes.Equal(next, first) {
				break
			}
		}
	}
	if next == nil {
		f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest))
		if !ok {
			t.Fail("the peer sent no new Configure-Request after a valid Configure-Reject (the RCN event: irc, scr)")
		}
		next = packet(f)
	}
	nextOpts, _ := parseOpts(next.Data())
	if _, still := nextOpts.find(opt.Type); still {
		t.Fail("the peer's next Configure-Request %s still holds %s after a Configure-Reject of it", packetText(ppp.ProtoLCP, next), optionsText(ppp.ProtoLCP, rej))
	}
	if next.ID() == first.ID() {
		t.Fail("the peer kept Identifier %#x in its next Configure-Request, though its options changed and a valid reply had arrived", first.ID())
	}
	t.Pass("its next Configure-Request has Identifier %#x (was %#x) and leaves out %s", next.ID(), first.ID(), optionsText(ppp.ProtoLCP, rej))
}

// ackRepeats: see Suite.
func (s *suite) ackRepeats(t *T) {
	zero := uint32(0)
	l := s.openLCP(t, lcpWant{mru: 1492, accm: &zero, magic: true, pfc: true, acfc: true})
	t.Pass("acknowledged %s with Identifier %#x, repeated octet for octet", optionsText(ppp.ProtoLCP, l.req), l.id)
}

// duplicateRequest: see Suite.
func (s *suite) duplicateRequest(t *T) {
	s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	l.request()
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureRequest, l.id, l.req)
	var replies []string
	for len(replies) < 2 {
		f, ok := t.Expect(s.answer(), isReply(ppp.ProtoLCP, l.id))
		if !ok {
			break
		}
		replies = append(replies, f.String())
	}
	switch len(replies) {
	case 0:
		t.Fail("the peer answered neither of two identical Configure-Requests id=%#x", l.id)
	case 1:
		t.Fail("the peer answered only one of two identical Configure-Requests id=%#x (%s); every Configure-Request gets a reply", l.id, replies[0])
	}
	t.Pass("answered both: %s", strings.Join(replies, ", "))
}

// unknownOption: see Suite.
func (s *suite) unknownOption(t *T) {
	s.configureUnknown(t, ppp.ProtoLCP, s.newLCP(t, lcpWant{extra: opts{unknownLCPOption}}).negotiation, unknownLCPOption)
}

// configureUnknown sends n's request, which holds the unknown option u,
// and checks that the peer rejects exactly u.
func (s *suite) configureUnknown(t *T, proto ppp.Protocol, n *negotiation, u ppp.Option) {
	n.request()
	p, ok := n.awaitReply(s.answer())
	if !ok {
		t.Fail("the peer did not answer a %v Configure-Request with an unknown option within %v", proto, s.answer())
	}
	want := opts{u}.bytes()
	switch {
	case p.Code() != ppp.CodeConfigureReject:
		t.Fail("the peer answered a %v Configure-Request holding the unknown option %s with %s; unknown options are rejected",
			proto, optionsText(proto, want), packetText(proto, p))
	case !bytes.Equal(p.Data(), want):
		t.Fail("the peer's %v Configure-Reject holds %s, not exactly the unknown option %s", proto, optionsText(proto, p.Data()), optionsText(proto, want))
	}
	t.Pass("Configure-Reject id=%#x holding exactly %s", p.ID(), optionsText(proto, want))
}

// awaitReply waits for the peer's reply to our outstanding request,
// answering the peer's requests meanwhile and keeping other frames for
// later. It does not take the reply: the caller checks it, then takes it
// with reply.
func (n *negotiation) awaitReply(within time.Duration) (ppp.Packet, bool) {
	t := n.t
	var other []Frame
	defer func() { t.unread(other...) }()
	for {
		f, _, ok := t.until(within, func(Frame) bool { return true })
		if !ok {
			return nil, false
		}
		switch {
		case isReply(n.proto, n.id)(f):
			return packet(f), true
		case f.Is(n.proto, ppp.CodeConfigureRequest):
			n.handle(f)
		default:
			other = append(other, f)
		}
	}
}

// nakRejectValid: see Suite.
func (s *suite) nakRejectValid(t *T) {
	zero := uint32(0)
	l := s.newLCP(t, lcpWant{magic: true, accm: &zero, pfc: true, acfc: true})
	// Unknown options among known ones, MRU 64 (below any usual
	// minimum) first.
	l.want = append(opts{{Type: lcp.OptMRU, Data: u16(64)}, unknownLCPOption}, append(l.want, unknownBoolOption)...)
	unknown := opts{unknownLCPOption, unknownBoolOption}
	var rejected, naked []string
	nakd := map[uint8][]byte{} // the values the peer suggested
	l.request()
	for l.rounds < 8 {
		p, ok := l.awaitReply(s.answer())
		if !ok {
			t.Abort("the peer did not answer our Configure-Request %s within %v", optionsText(ppp.ProtoLCP, l.req), s.answer())
		}
		sent, _ := parseOpts(l.req)
		got, _ := parseOpts(p.Data())
		switch p.Code() {
		case ppp.CodeConfigureAck:
			l.reply(p)
			if len(rejected) == 0 && len(naked) == 0 {
				t.Fail("the peer acknowledged %s, unknown options included", optionsText(ppp.ProtoLCP, l.req))
			}
			t.Pass("rejected %s; Nak'd %s; then acknowledged %s", orNone(rejected), orNone(naked), optionsText(ppp.ProtoLCP, l.req))
		case ppp.CodeConfigureNak:
			for _, u := range unknown {
				if sent.contains(u) {
					t.Fail("the peer sent a Configure-Nak %s while our request held the unknown option %s, which it must reject first",
						optionsText(ppp.ProtoLCP, p.Data()), optionsText(ppp.ProtoLCP, opts{u}.bytes()))
				}
			}
			for _, o := range got {
				if prev, again := nakd[o.Type]; again && bytes.Equal(prev, sentValue(sent, o.Type)) {
					t.Fail("the peer Nak'd %s, then Nak'd our request of the very value it had suggested", optionsText(ppp.ProtoLCP, opts{o}.bytes()))
				}
				nakd[o.Type] = bytes.Clone(o.Data)
			}
			naked = append(naked, optionsText(ppp.ProtoLCP, p.Data()))
			l.reply(p)
		case ppp.CodeConfigureReject:
			rejected = append(rejected, optionsText(ppp.ProtoLCP, p.Data()))
			l.reply(p)
		}
	}
	t.Fail("no agreement after %d Configure-Requests (rejected %s; Nak'd %s)", l.rounds, orNone(rejected), orNone(naked))
}

// sentValue returns the data of option typ in sent.
func sentValue(sent opts, typ uint8) []byte {
	o, _ := sent.find(typ)
	return o.Data
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", then ")
}

// renegotiate: see Suite.
func (s *suite) renegotiate(t *T) {
	l := s.openLCP(t, wantMagic)
	l.request()
	var answered, own bool
	var replyText string
	ctxWait := time.Now().Add(s.answer())
	for !(answered && own) && time.Now().Before(ctxWait) {
		f, ok := t.Expect(time.Until(ctxWait), isPacket(ppp.ProtoLCP))
		if !ok {
			break
		}
		p := packet(f)
		switch {
		case isReply(ppp.ProtoLCP, l.id)(f):
			answered, replyText = true, f.String()
		case p.Code() == ppp.CodeConfigureRequest:
			own = true
		}
	}
	switch {
	case !answered:
		t.Fail("the peer did not answer a Configure-Request sent in the Opened state")
	case !own:
		t.Fail("the peer answered a Configure-Request in the Opened state (%s) without sending a Configure-Request of its own, as renegotiation requires", replyText)
	}
	t.Pass("answered the new request (%s) and sent a Configure-Request of its own", replyText)
}

// unknownCode: see Suite.
func (s *suite) unknownCode(t *T) {
	s.openLCP(t, wantMagic)
	s.codeRejected(t, ppp.ProtoLCP)
}

// codeRejected sends two packets of proto with an unknown code and checks
// the Code-Rejects.
func (s *suite) codeRejected(t *T, proto ppp.Protocol) {
	var ids []uint8
	for i := range 2 {
		pkt := ppp.AppendPacket(nil, unknownCode, t.id(), fmt.Appendf(nil, "pppssh test-peer %d", i))
		t.sendPacket(proto, pkt)
		f, ok := t.Expect(s.answer(), isPacket(proto, ppp.CodeCodeReject))
		if !ok {
			t.Fail("no %v Code-Reject within %v of a %v packet with the unknown code %d", proto, s.answer(), proto, unknownCode)
		}
		p := packet(f)
		if !bytes.Equal(p.Data(), pkt) {
			t.Fail("the peer's Code-Reject holds % x, not the rejected packet % x", p.Data(), pkt)
		}
		ids = append(ids, p.ID())
	}
	if ids[0] == ids[1] {
		t.Fail("the peer's two Code-Rejects share the Identifier %#x; each Code-Reject gets a new one", ids[0])
	}
	t.Pass("Code-Rejects holding the whole packet, Identifiers %#x and %#x", ids[0], ids[1])
}

// codeRejectFatal: see Suite.
func (s *suite) codeRejectFatal(t *T) {
	l := s.openLCP(t, wantMagic)
	rejected := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, l.peerID, l.peer.bytes())
	t.Send(ppp.ProtoLCP, ppp.CodeCodeReject, t.id(), rejected)
	_, before, answered := l.echo(nil)
	for _, f := range before {
		if f.Is(ppp.ProtoLCP, ppp.CodeTerminateRequest) {
			t.Pass("terminated the link: %v", f)
		}
	}
	if answered {
		t.Fail("the peer stayed Opened after a Code-Reject of Configure-Request (it answered an Echo-Request): it takes the rejection of a code LCP cannot do without as harmless instead of dropping the link")
	}
	if t.Closed() {
		t.Pass("closed the line")
	}
	if f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeTerminateRequest)); ok {
		t.Pass("terminated the link: %v", f)
	}
	t.Pass("left the Opened state (no Echo-Reply)")
}

// codeRejectPermitted: see Suite.
func (s *suite) codeRejectPermitted(t *T) {
	l := s.openLCP(t, wantMagic)
	ident := ppp.AppendPacket(nil, ppp.CodeIdentification, t.id(), append(u32(l.ourMagic()), "pppssh"...))
	t.Send(ppp.ProtoLCP, ppp.CodeCodeReject, t.id(), ident)
	_, before, answered := l.echo(nil)
	for _, f := range before {
		if f.Is(ppp.ProtoLCP, ppp.CodeTerminateRequest) || f.Is(ppp.ProtoLCP, ppp.CodeConfigureRequest) {
			t.Fail("the peer left the Opened state after a Code-Reject of Identification, an extension it can do without: %v", f)
		}
	}
	if !answered {
		t.Fail("the peer stopped answering Echo-Requests after a Code-Reject of Identification, an extension it can do without")
	}
	t.Pass("stayed Opened")
}

// protocolReject: see Suite.
func (s *suite) protocolReject(t *T) {
	s.openLCP(t, wantMagic)
	var ids []uint8
	for i := range 2 {
		info := fmt.Appendf(nil, "pppssh test-peer: protocol %v, frame %d", unknownProto, i)
		if err := t.conn.Send(unknownProto, info); err != nil {
			t.lineFailed(err)
		}
		f, ok := t.Expect(s.answer(), isPacket(ppp.ProtoLCP, ppp.CodeProtocolReject))
		if !ok {
			t.Fail("no Protocol-Reject within %v of a frame of the unknown protocol %v in the Network phase", s.answer(), unknownProto)
		}
		p := packet(f)
		want := append(u16(uint16(unknownProto)), info...)
		if !bytes.Equal(p.Data(), want) {
			t.Fail("the peer's Protocol-Reject holds % x, not the protocol and the information % x", p.Data(), want)
		}
		ids = append(ids, p.ID())
	}
	if ids[0] == ids[1] {
		t.Fail("the peer's two Protocol-Rejects share the Identifier %#x; each gets a new one", ids[0])
	}
	t.Pass("Protocol-Rejects holding the protocol and the whole information, Identifiers %#x and %#x", ids[0], ids[1])
}

// smallMRU opens LCP asking for the configured small MRU, and returns the
// MRU agreed; the case is not applicable if the peer refuses it.
func (s *suite) smallMRU(t *T) (*lcpSession, int) {
	l := s.openLCP(t, lcpWant{mru: s.cfg.MRU, magic: true})
	o, ok := l.agreed(lcp.OptMRU)
	if !ok {
		t.NotApplicable("the peer rejected the Maximum-Receive-Unit option")
	}
	mru := int(binary.BigEndian.Uint16(o.Data))
	if mru >= 1200 {
		t.NotApplicable("the peer Nak'd our MRU %d up to %d, too large to check", s.cfg.MRU, mru)
	}
	return l, mru
}

// pattern returns n octets of a recognisable pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

// protocolRejectTruncated: see Suite.
func (s *suite) protocolRejectTruncated(t *T) {
	_, mru := s.smallMRU(t)
	info := pattern(1200)
	if err := t.conn.Send(unknownProto, info); err != nil {
		t.lineFailed(err)
	}
	f, ok := t.Expect(s.answer(), isPacket(ppp.ProtoLCP, ppp.CodeProtocolReject))
	if !ok {
		t.Fail("no Protocol-Reject within %v of a 1200-octet frame of the unknown protocol %v", s.answer(), unknownProto)
	}
	if len(f.Info) > mru {
		t.Fail("the peer's Protocol-Reject is %d octets, more than the MRU %d we agreed; the rejected information must be cut to fit", len(f.Info), mru)
	}
	d := packet(f).Data()
	want := append(u16(uint16(unknownProto)), info...)
	if len(d) < 2 || !bytes.HasPrefix(want, d) {
		t.Fail("the peer's Protocol-Reject does not hold the protocol and the start of the rejected information")
	}
	t.Pass("Protocol-Reject of %d octets within the MRU %d, holding the first %d octets of the information", len(f.Info), mru, len(d)-2)
}

// protocolRejectIPCP: see Suite.
func (s *suite) protocolRejectIPCP(t *T) {
	l := s.openLCP(t, wantMagic)
	f, ok := t.Expect(s.answer()+s.cfg.Restart, isPacket(ppp.ProtoIPCP))
	if !ok {
		t.NotApplicable("the peer sent no IPCP packet after LCP opened")
	}
	t.Send(ppp.ProtoLCP, ppp.CodeProtocolReject, t.id(), append(u16(uint16(ppp.ProtoIPCP)), f.Info...))
	// Frames before the Echo-Reply may have left the peer before it saw
	// the Protocol-Reject; anything after may not.
	if _, _, ok := l.echo(nil); !ok {
		t.Logf("no Echo-Reply: the peer left the Opened state")
	}
	watch := 2*s.cfg.Restart + 500*time.Millisecond
	for _, f := range t.collect(watch) {
		if f.Proto == ppp.ProtoIPCP {
			t.Fail("the peer sent %v after a Protocol-Reject of IPCP; it must stop sending the rejected protocol", f)
		}
	}
	t.Pass("no IPCP packet in the %v after the Protocol-Reject", watch)
}

// nonLCPBeforeOpened: see Suite.
func (s *suite) nonLCPBeforeOpened(t *T) {
	s.firstRequest(t)
	t.Send(ppp.ProtoIPCP, ppp.CodeConfigureRequest, t.id(), ppp.AppendOptionUint32(nil, 3, 0))
	if err := t.conn.Send(unknownProto, []byte("pppssh test-peer")); err != nil {
		t.lineFailed(err)
	}
	if err := t.conn.Send(ppp.ProtoIPv4, pattern(28)); err != nil {
		t.lineFailed(err)
	}
	l := s.newLCP(t, wantMagic)
	for _, f := range l.barrier(s.answer()) {
		if f.Proto != ppp.ProtoLCP || f.Is(ppp.ProtoLCP, ppp.CodeProtocolReject) || f.Is(ppp.ProtoLCP, ppp.CodeCodeReject) {
			t.Fail("the peer answered non-LCP frames before LCP was Opened: %v", f)
		}
	}
	t.Pass("discarded IPCP, IPv4 and unknown-protocol frames before LCP was Opened")
}

// mru: see Suite.
func (s *suite) mru(t *T) {
	l, mru := s.smallMRU(t)
	reply, _, ok := l.echo(pattern(1200))
	what := ""
	if ok {
		what = fmt.Sprintf("the Echo-Reply to a 1200-octet Echo-Request was %d octets", len(reply.Info))
	} else {
		l.mustEcho(nil)
		what = "the peer sent no Echo-Reply to a 1200-octet Echo-Request, but answered a short one"
	}
	for _, f := range t.conn.History() {
		// Configure packets may precede the agreement; nothing else may
		// exceed it.
		if f.HeaderErr == nil && len(f.Info) > mru && !isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject)(f) {
			t.Fail("the peer sent %v, %d octets, more than the MRU %d we agreed", f, len(f.Info), mru)
		}
	}
	t.Pass("MRU %d: %s; no frame exceeded it", mru, what)
}

// echoReply: see Suite.
func (s *suite) echoReply(t *T) {
	l := s.openLCP(t, wantMagic)
	data := []byte("pppssh test-peer echo")
	reply, _, ok := l.echo(data)
	if !ok {
		t.Fail("no Echo-Reply within %v to an Echo-Request in the Opened state", s.answer())
	}
	d := packet(reply).Data()
	if len(d) < 4 {
		t.Fail("the peer's Echo-Reply has no Magic-Number field: %v", reply)
	}
	want := l.peerMagic()
	if got := be32(d); got != want {
		t.Fail("the peer's Echo-Reply carries the magic number %#x; it negotiated %#x, which its Echo packets must carry (zero without one)", got, want)
	}
	copied := "copied our data"
	if !bytes.Equal(d[4:], data) {
		copied = "did not copy our data"
	}
	t.Pass("Echo-Reply id=%#x with the peer's magic number %#x; it %s", packet(reply).ID(), want, copied)
}

// echoBeforeOpened: see Suite.
func (s *suite) echoBeforeOpened(t *T) {
	s.firstRequest(t)
	t.Send(ppp.ProtoLCP, ppp.CodeEchoRequest, t.id(), append(u32(0), "pppssh"...))
	l := s.newLCP(t, wantMagic)
	for _, f := range l.barrier(s.answer()) {
		if f.Is(ppp.ProtoLCP, ppp.CodeEchoReply) {
			t.Fail("the peer sent an Echo-Reply before LCP was Opened: %v", f)
		}
	}
	t.Pass("no Echo-Reply before LCP was Opened")
}

// discardRequest: see Suite.
func (s *suite) discardRequest(t *T) {
	l := s.openLCP(t, wantMagic)
	t.Send(ppp.ProtoLCP, ppp.CodeDiscardRequest, t.id(), append(u32(l.ourMagic()), "pppssh test-peer"...))
	_, before := l.mustEcho(nil)
	for _, f := range before {
		if f.Proto == ppp.ProtoLCP && !peerInitiated(f) {
			t.Fail("the peer answered a Discard-Request: %v", f)
		}
	}
	t.Pass("silently discarded")
}

// magicCollision: see Suite.
func (s *suite) magicCollision(t *T) {
	first := s.firstRequest(t)
	o, _ := parseOpts(first.Data())
	magic, ok := o.find(lcp.OptMagicNumber)
	if !ok || len(magic.Data) != 4 {
		t.NotApplicable("the peer does not negotiate a Magic-Number")
	}
	m := be32(magic.Data)
	l := s.newLCP(t, lcpWant{})
	l.want = opts{magic}
	l.request()
	f, ok := t.Expect(s.answer(), isReply(ppp.ProtoLCP, l.id))
	if !ok {
		t.Fail("the peer did not answer a Configure-Request carrying its own magic number within %v", s.answer())
	}
	p := packet(f)
	switch p.Code() {
	case ppp.CodeConfigureAck:
		t.Fail("the peer acknowledged a Configure-Request carrying its own magic number %#x; it must Nak it with a different one", m)
	case ppp.CodeConfigureReject:
		t.Fail("the peer rejected the Magic-Number option though it uses one itself (%#x); it must Nak it with a different one", m)
	}
	got, _ := parseOpts(p.Data())
	nak, ok := got.find(lcp.OptMagicNumber)
	if !ok || len(nak.Data) != 4 {
		t.Fail("the peer's Configure-Nak %s does not suggest another magic number", optionsText(ppp.ProtoLCP, p.Data()))
	}
	if be32(nak.Data) == m {
		t.Fail("the peer Nak'd its own magic number %#x with that same number", m)
	}
	t.Pass("Nak'd its own magic number %#x, suggesting %#x", m, be32(nak.Data))
}

// loopback: see Suite.
func (s *suite) loopback(t *T) {
	first := s.firstRequestFrame(t)
	t.Logf("looping every frame of the peer back to it")
	if err := t.conn.SendFrame(first.Raw); err != nil {
		t.lineFailed(err)
	}
	deadline := time.Now().Add(time.Duration(s.cfg.MaxConfigure+2)*s.cfg.Restart + s.answer())
	requests := 1
	for time.Now().Before(deadline) {
		f, ok := t.Expect(s.quiet(), func(Frame) bool { return true })
		if !ok {
			how := "went quiet"
			if t.Closed() {
				how = "closed the line"
			}
			t.Pass("%s after %d of its own Configure-Requests came back", how, requests)
		}
		switch {
		case f.Proto != ppp.ProtoLCP:
			t.Fail("the peer reached Opened on a looped-back line: it sent %v", f)
		case f.Is(ppp.ProtoLCP, ppp.CodeTerminateRequest):
			t.Pass("detected the loop after %d of its own Configure-Requests came back: %v", requests, f)
		case f.Is(ppp.ProtoLCP, ppp.CodeConfigureRequest):
			requests++
		}
		if err := t.conn.SendFrame(f.Raw); err != nil {
			t.lineFailed(err)
		}
	}
	t.Fail("the peer was still negotiating with itself after %d Configure-Requests looped back", requests)
}

// terminateOpened: see Suite.
func (s *suite) terminateOpened(t *T) {
	s.openLCP(t, wantMagic)
	s.terminateAcked(t, ppp.ProtoLCP, "in the Opened state")
	t.Pass("Terminate-Ack with the request's Identifier")
}

// terminateAcked sends a Terminate-Request of proto and checks the
// Terminate-Ack.
func (s *suite) terminateAcked(t *T, proto ppp.Protocol, when string) {
	id := t.id()
	t.Send(proto, ppp.CodeTerminateRequest, id, []byte("pppssh test-peer"))
	if _, ok := t.Expect(s.answer(), isCode(proto, ppp.CodeTerminateAck, id)); !ok {
		t.Fail("no %v Terminate-Ack id=%#x within %v of a Terminate-Request %s", proto, id, s.answer(), when)
	}
}

// terminateNegotiating: see Suite.
func (s *suite) terminateNegotiating(t *T) {
	first := s.firstRequestFrame(t)
	s.terminateAcked(t, ppp.ProtoLCP, "during negotiation")
	t.unread(first) // to be acknowledged, without waiting for a retransmission
	s.openLCP(t, wantMagic)
	t.Pass("Terminate-Ack, then negotiation went on to Opened")
}

// unsolicitedTermAckNegotiating: see Suite.
func (s *suite) unsolicitedTermAckNegotiating(t *T) {
	first := s.firstRequestFrame(t)
	t.Send(ppp.ProtoLCP, ppp.CodeTerminateAck, t.id(), nil)
	l := s.newLCP(t, wantMagic)
	for _, f := range l.barrier(s.answer()) {
		if f.Is(ppp.ProtoLCP, ppp.CodeTerminateRequest) {
			t.Fail("the peer gave up negotiating on an unelicited Terminate-Ack: %v", f)
		}
	}
	t.unread(first)
	l.open()
	t.Pass("ignored it and reached Opened")
}

// unsolicitedTermAckOpened: see Suite.
func (s *suite) unsolicitedTermAckOpened(t *T) {
	l := s.openLCP(t, wantMagic)
	t.Send(ppp.ProtoLCP, ppp.CodeTerminateAck, t.id(), nil)
	_, before, answered := l.echo(nil)
	for _, f := range before {
		if f.Is(ppp.ProtoLCP, ppp.CodeConfigureRequest) {
			t.Pass("renegotiated: %v", f)
		}
	}
	if !answered {
		if f, ok := t.Expect(s.quiet(), isPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest)); ok {
			t.Pass("renegotiated: %v", f)
		}
		t.Fail("the peer left the Opened state on an unelicited Terminate-Ack without renegotiating")
	}
	t.Fail("the peer stayed Opened after an unelicited Terminate-Ack (it answered an Echo-Request, sent no Configure-Request), where the state table renegotiates (RTA in Opened: tld, scr)")
}

// staysOpened sends an LCP packet with code, id and data to an Opened peer,
// which must discard it and stay Opened.
func (s *suite) staysOpened(t *T, l *lcpSession, code ppp.Code, id uint8, data []byte) {
	t.Send(ppp.ProtoLCP, code, id, data)
	_, before, answered := l.echo(nil)
	for _, f := range before {
		if f.Proto == ppp.ProtoLCP && !peerInitiated(f) {
			t.Fail("the peer did not discard a %v with an Identifier it never used (%#x): it sent %v", code, id, f)
		}
	}
	if !answered {
		t.Fail("the peer left the Opened state on a %v with an Identifier it never used (%#x)", code, id)
	}
	t.Pass("discarded the %v with Identifier %#x and stayed Opened", code, id)
}

// unusedID returns an Identifier the peer has not used for its requests.
func unusedID(l *lcpSession) uint8 { return l.peerID + 0x40 }

// unsolicitedAckOpened: see Suite.
func (s *suite) unsolicitedAckOpened(t *T) {
	l := s.openLCP(t, wantMagic)
	s.staysOpened(t, l, ppp.CodeConfigureAck, unusedID(l), l.peer.bytes())
}

// unsolicitedNakOpened: see Suite.
func (s *suite) unsolicitedNakOpened(t *T) {
	l := s.openLCP(t, wantMagic)
	s.staysOpened(t, l, ppp.CodeConfigureNak, unusedID(l), ppp.AppendOptionUint16(nil, lcp.OptMRU, 1000))
}

// lengthDiscarded sends a Configure-Request whose Length field is set to
// length, which makes it invalid, and checks that it is not answered.
func (s *suite) lengthDiscarded(t *T, length int, what string) {
	s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	id := t.id()
	pkt := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, id, l.want.bytes())
	binary.BigEndian.PutUint16(pkt[2:], uint16(length))
	t.Logf("sending a Configure-Request id=%#x of %d octets with Length %d", id, len(pkt), length)
	t.sendPacket(ppp.ProtoLCP, pkt)
	for _, f := range l.barrier(s.answer()) {
		if isReply(ppp.ProtoLCP, id)(f) {
			t.Fail("the peer answered a Configure-Request whose Length field %s: %v", what, f)
		}
	}
	t.Pass("silently discarded the Configure-Request whose Length field %s", what)
}

// lengthShort: see Suite.
func (s *suite) lengthShort(t *T) { s.lengthDiscarded(t, 3, "is 3, shorter than the header") }

// lengthLong: see Suite.
func (s *suite) lengthLong(t *T) {
	s.lengthDiscarded(t, 4+6+20, "runs 20 octets past the end of the frame")
}

// padding: see Suite.
func (s *suite) padding(t *T) {
	s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	id := t.id()
	opts := l.want.bytes()
	pad := append(ppp.AppendOptionUint16(nil, lcp.OptMRU, 1500), 0, 0)
	t.sendPacket(ppp.ProtoLCP, append(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, id, opts), pad...))
	f, ok := t.Expect(s.answer(), isReply(ppp.ProtoLCP, id))
	if !ok {
		t.Fail("the peer did not answer a Configure-Request followed by padding; octets after the Length field are to be ignored")
	}
	p := packet(f)
	got, _ := parseOpts(p.Data())
	if _, mru := got.find(lcp.OptMRU); mru || (p.Code() == ppp.CodeConfigureAck && !bytes.Equal(p.Data(), opts)) {
		t.Fail("the peer took the padding after the Length field for options: it answered %v", f)
	}
	t.Pass("ignored the padding: %v", f)
}

// badOptionLength: see Suite.
func (s *suite) badOptionLength(t *T) {
	s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	id := t.id()
	bad := append(l.want.bytes(), lcp.OptACCM, 10, 0, 0, 0, 0)
	t.Send(ppp.ProtoLCP, ppp.CodeConfigureRequest, id, bad)
	var answer string
	for _, f := range l.barrier(s.answer()) {
		if !isReply(ppp.ProtoLCP, id)(f) {
			continue
		}
		if packet(f).Code() == ppp.CodeConfigureAck {
			t.Fail("the peer acknowledged a Configure-Request with an option running past the packet: %v", f)
		}
		answer = f.String()
	}
	if answer == "" {
		t.Pass("discarded the malformed Configure-Request")
	}
	t.Pass("refused the malformed option: %s", answer)
}
