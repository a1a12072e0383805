package peer

import (
	"slices"
	"strings"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// defaultACCM: see Suite.
func (s *suite) defaultACCM(t *T) {
	s.firstRequest(t)
	raw := t.Raw()
	escaped := 0
	for _, f := range t.conn.History() {
		w := wireFrameOf(raw, f)
		if w == nil {
			continue
		}
		if bad := unescapedControls(w, uint32(hdlc.DefaultACCM)); len(bad) > 0 {
			t.Fail("the peer sent %v with the control characters % x unescaped before LCP was Opened, when the ACCM is still 0xffffffff", f, bad)
		}
		e, _ := controlCounts(w)
		escaped += e
	}
	if escaped == 0 {
		t.NotApplicable("the peer's first frames held no control character to escape")
	}
	t.Pass("all %d control characters in the peer's first frames were escaped", escaped)
}

// accm: see Suite.
func (s *suite) accm(t *T) {
	want := s.cfg.ACCM
	l := s.openLCP(t, lcpWant{accm: &want, magic: true})
	o, ok := l.agreed(lcp.OptACCM)
	if !ok {
		t.NotApplicable("the peer rejected the Async-Control-Character-Map option")
	}
	m := be32(o.Data)
	if m == 0 {
		t.NotApplicable("the peer agreed to an empty ACCM only, which flags nothing to check")
	}
	payload := make([]byte, 0, 64)
	for c := range 0x20 {
		payload = append(payload, byte(c))
	}
	payload = append(payload, flagSeq, ctrlEscape, 'p', 'p', 'p')
	reply, _ := l.mustEcho(payload)
	raw := t.Raw()
	for _, f := range t.conn.History() {
		w := wireFrameOf(raw, f)
		if w == nil {
			continue
		}
		if bad := unescapedControls(w, m); len(bad) > 0 {
			t.Fail("with ACCM %#08x agreed, the peer sent %v with the flagged characters % x unescaped", m, f, bad)
		}
	}
	carried := false
	for _, c := range reply.Raw {
		if c < 0x20 && m&(1<<c) != 0 {
			carried = true
		}
	}
	if !carried {
		t.NotApplicable("the peer's Echo-Reply carried none of the characters ACCM %#08x flags", m)
	}
	_, plain := controlCounts(wireFrameOf(raw, reply))
	t.Pass("ACCM %#08x: the flagged characters went escaped; %d unflagged ones went as they are in the Echo-Reply", m, plain)
}

// discardedFrame sends a Configure-Request on the line as damage turns its
// frame into octets (damaged), then a good one, and checks that only the
// second is answered.
func (s *suite) discardedFrame(t *T, what string, damage func(frame []byte) []byte) {
	s.firstRequest(t)
	l := s.newLCP(t, wantMagic)
	id := t.id()
	frame := controlFrame(ppp.ProtoLCP, ppp.AppendPacket(nil, ppp.CodeConfigureRequest, id, l.want.bytes()))
	t.Logf("sending a Configure-Request id=%#x %s", id, what)
	t.sendRaw(damage(frame))
	for _, f := range l.barrier(s.answer()) {
		if isReply(ppp.ProtoLCP, id)(f) {
			t.Fail("the peer answered a Configure-Request %s: %v", what, f)
		}
	}
	t.Pass("ignored the Configure-Request %s and answered the next one", what)
}

// badFCS: see Suite.
func (s *suite) badFCS(t *T) {
	s.discardedFrame(t, "with a bad FCS", func(frame []byte) []byte {
		b := withFCS(frame)
		b[len(b)-1] ^= 0x5a
		return append(stuff([]byte{flagSeq}, b), flagSeq)
	})
}

// abortedFrame: see Suite.
func (s *suite) abortedFrame(t *T) {
	s.discardedFrame(t, "ended by the abort sequence 0x7d 0x7e", func(frame []byte) []byte {
		return append(stuff([]byte{flagSeq}, withFCS(frame)), ctrlEscape, flagSeq)
	})
}

// truncatedFrame: see Suite.
func (s *suite) truncatedFrame(t *T) {
	s.discardedFrame(t, "cut off half-way (no closing Flag)", func(frame []byte) []byte {
		w := wireFrame(frame)
		return w[:len(w)/2]
	})
}

// acfcPFCLCP: see Suite.
func (s *suite) acfcPFCLCP(t *T) {
	l := s.openLCP(t, lcpWant{magic: true, pfc: true, acfc: true})
	_, pfc := l.agreed(lcp.OptPFC)
	_, acfc := l.agreed(lcp.OptACFC)
	if !pfc && !acfc {
		t.NotApplicable("the peer rejected both PFC and ACFC")
	}
	l.mustEcho([]byte("pppssh test-peer"))
	unknown := ppp.AppendPacket(nil, unknownCode, t.id(), []byte("code"))
	t.sendPacket(ppp.ProtoLCP, unknown)
	t.Expect(s.answer(), isPacket(ppp.ProtoLCP, ppp.CodeCodeReject))
	id := t.id()
	t.Send(ppp.ProtoLCP, ppp.CodeTerminateRequest, id, []byte("pppssh test-peer"))
	t.Expect(s.answer(), isCode(ppp.ProtoLCP, ppp.CodeTerminateAck, id))
	lcps, others, compressed := 0, 0, 0
	var how []string               // the kinds of compression seen on LCP packets
	codes := map[string][]string{} // the codes sent with each
	for _, f := range t.conn.History() {
		if f.HeaderErr != nil {
			continue
		}
		if f.Proto == ppp.ProtoLCP {
			lcps++
			if p, ok := f.Packet(); ok && (f.ACFC || f.PFC) {
				h := compression(f)
				if !slices.Contains(how, h) {
					how = append(how, h)
				}
				if c := p.Code().String(); !slices.Contains(codes[h], c) {
					codes[h] = append(codes[h], c)
				}
				t.Logf("compressed: %v", f)
			}
			continue
		}
		others++
		if f.ACFC || f.PFC {
			compressed++
		}
	}
	if len(how) > 0 {
		var bad []string
		for _, h := range how {
			bad = append(bad, strings.Join(codes[h], ", ")+" "+h)
		}
		t.Fail("with PFC and ACFC agreed, the peer sent LCP packets with compressed headers: %s; LCP packets always carry the Address, Control and two-octet Protocol fields",
			strings.Join(bad, "; "))
	}
	t.Pass("%d LCP frames, all with full headers (PFC %s, ACFC %s); the peer compressed %d of its %d other frames", lcps, agreedWord(pfc), agreedWord(acfc), compressed, others)
}

func agreedWord(ok bool) string {
	if ok {
		return "agreed"
	}
	return "rejected"
}

// compression names the header fields a frame compressed.
func compression(f Frame) string {
	switch {
	case f.ACFC && f.PFC:
		return "without Address and Control fields, with a one-octet Protocol field"
	case f.ACFC:
		return "without Address and Control fields"
	}
	return "with a one-octet Protocol field"
}

// acfcPFCUnnegotiated: see Suite.
func (s *suite) acfcPFCUnnegotiated(t *T) {
	l := s.openLCP(t, wantMagic)
	c := s.newIPCP(t, ipcpWant{})
	c.open()
	l.mustEcho(nil)
	n := 0
	for _, f := range t.conn.History() {
		if f.HeaderErr != nil {
			continue
		}
		n++
		if f.ACFC || f.PFC {
			t.Fail("the peer sent %v %s, though we never offered PFC or ACFC", f, compression(f))
		}
	}
	t.Pass("%d frames, none with a compressed header", n)
}
