package lcp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pppssh/pppssh/ppp"
)

// openedHandler returns a Handler whose negotiation finished with our magic
// magic1 and the peer's 0x1305b050, and a fake automaton in Opened.
func openedHandler(t *testing.T, mods ...func(*Config)) (*Handler, *fakeAutomaton) {
	t.Helper()
	h := newTest(mods...)
	h.Acked(request(h))
	if code, _ := h.CheckRequest(nil, peerRequest, false); code != ppp.CodeConfigureAck {
		t.Fatalf("CheckRequest = %v", code)
	}
	h.Up()
	return h, &fakeAutomaton{state: ppp.StateOpened, keep: true}
}

func TestEchoRequestAnswered(t *testing.T) {
	h, a := openedHandler(t)
	req := packet(ppp.CodeEchoRequest, 7, cat(u32(0x1305b050), []byte("ping")))
	if !h.HandleCode(nil, nil) { // a nil packet is dropped, not Code-Rejected
		t.Error("HandleCode(nil) = false")
	}
	if !h.handleCode(a, req) {
		t.Fatal("Echo-Request not handled")
	}
	want := []sentPacket{{ppp.CodeEchoReply, 7, cat(u32(magic1), []byte("ping"))}}
	if d := cmp.Diff(want, a.sent, cmp.AllowUnexported(sentPacket{})); d != "" {
		t.Errorf("sent (-want +got):\n%s", d)
	}
	if h.Counters().EchoRequests != 1 {
		t.Errorf("counters = %+v", h.Counters())
	}
}

func TestEchoRequestNotOpened(t *testing.T) {
	for _, s := range []ppp.State{ppp.StateReqSent, ppp.StateAckRcvd, ppp.StateAckSent, ppp.StateClosing, ppp.StateStopped} {
		h := newTest()
		a := &fakeAutomaton{state: s, keep: true}
		if !h.handleCode(a, packet(ppp.CodeEchoRequest, 1, u32(0))) {
			t.Errorf("%v: Echo-Request not handled (would be Code-Rejected)", s)
		}
		if len(a.sent) != 0 {
			t.Errorf("%v: answered outside Opened: %v", s, a.sent)
		}
	}
}

// Without a negotiated magic number the reply carries zero.
func TestEchoRequestWithoutMagic(t *testing.T) {
	h, a := openedHandler(t, withWant(func(w *Options) { w.NegMagic = false }))
	h.handleCode(a, packet(ppp.CodeEchoRequest, 1, u32(0x1305b050)))
	if len(a.sent) != 1 || !bytes.Equal(a.sent[0].data, u32(0)) {
		t.Errorf("sent %v, want an Echo-Reply with magic 0", a.sent)
	}
}

func TestEchoShort(t *testing.T) {
	h, a := openedHandler(t)
	for _, c := range []ppp.Code{ppp.CodeEchoRequest, ppp.CodeEchoReply, ppp.CodeIdentification, ppp.CodeTimeRemaining, ppp.CodeProtocolReject} {
		if !h.handleCode(a, packet(c, 1, []byte{1})) {
			t.Errorf("%v: short packet not handled", c)
		}
	}
	if len(a.sent) != 0 {
		t.Errorf("sent %v", a.sent)
	}
	if got := h.Counters().Dropped; got != 5 {
		t.Errorf("Dropped = %d, want 5", got)
	}
}

func TestEchoLoopback(t *testing.T) {
	h, a := openedHandler(t)
	for i := range DefaultLoopbackFail {
		if h.Looped() {
			t.Fatalf("Looped after %d", i)
		}
		// Our own Echo-Request and Echo-Reply coming back.
		code := ppp.CodeEchoRequest
		if i%2 == 1 {
			code = ppp.CodeEchoReply
		}
		h.handleCode(a, packet(code, uint8(i), u32(magic1)))
	}
	if !h.Looped() {
		t.Error("not Looped after our magic came back")
	}
	if len(a.sent) != 0 {
		t.Errorf("answered our own Echo-Request: %v", a.sent)
	}
	// Opening again starts counting afresh.
	h.Up()
	if h.Looped() {
		t.Error("Looped after Up")
	}
}

func TestEchoTimerAndRTT(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	h, a := openedHandler(t, func(c *Config) { c.Now = clock.Now; c.EchoFailure = 3; c.EchoInterval = time.Second })
	if h.EchoInterval() != time.Second {
		t.Errorf("EchoInterval = %v", h.EchoInterval())
	}
	reply := func(id uint8) {
		t.Helper()
		if !h.handleCode(a, packet(ppp.CodeEchoReply, id, u32(0x1305b050))) {
			t.Fatal("Echo-Reply not handled")
		}
	}
	tick := func() {
		t.Helper()
		if err := h.echoTimer(a); err != nil {
			t.Fatalf("echoTimer: %v", err)
		}
	}

	tick() // id 0
	clock.Advance(30 * time.Millisecond)
	reply(0)
	tick() // id 1
	clock.Advance(10 * time.Millisecond)
	tick() // id 2
	clock.Advance(50 * time.Millisecond)
	reply(1) // 60ms
	reply(1) // duplicate: unmatched
	reply(9) // never sent: unmatched

	want := []sentPacket{
		{ppp.CodeEchoRequest, 0, u32(magic1)},
		{ppp.CodeEchoRequest, 1, u32(magic1)},
		{ppp.CodeEchoRequest, 2, u32(magic1)},
	}
	if d := cmp.Diff(want, a.sent, cmp.AllowUnexported(sentPacket{})); d != "" {
		t.Errorf("sent (-want +got):\n%s", d)
	}
	wantRTT := RTTStats{Count: 2, Last: 60 * time.Millisecond, Min: 30 * time.Millisecond, Max: 60 * time.Millisecond, Avg: 45 * time.Millisecond}
	if d := cmp.Diff(wantRTT, h.RTT()); d != "" {
		t.Errorf("RTT (-want +got):\n%s", d)
	}
	c := h.Counters()
	if c.EchoReplies != 4 || c.UnmatchedReplies != 2 {
		t.Errorf("counters = %+v", c)
	}
	if h.Outstanding() != 0 {
		t.Errorf("Outstanding = %d after a reply", h.Outstanding())
	}
}

func TestEchoTimerDead(t *testing.T) {
	h, a := openedHandler(t, func(c *Config) { c.EchoFailure = 4 })
	for i := range 4 {
		if err := h.echoTimer(a); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
	}
	err := h.echoTimer(a)
	var te *EchoTimeoutError
	if !errors.As(err, &te) || te.Unanswered != 4 {
		t.Fatalf("fifth tick: %v, want an EchoTimeoutError for 4", err)
	}
	if got, want := te.Reason(), "peer not responding to 4 echo-requests"; got != want {
		t.Errorf("Reason = %q, want %q", got, want)
	}
	if got, want := err.Error(), "lcp: peer not responding to 4 echo-requests"; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	if len(a.sent) != 4 {
		t.Errorf("sent %d Echo-Requests, want 4", len(a.sent))
	}
}

// A reply carrying our own magic does not keep the link alive.
func TestEchoOwnReplyNotAlive(t *testing.T) {
	h, a := openedHandler(t, func(c *Config) { c.EchoFailure = 1 })
	if err := h.echoTimer(a); err != nil {
		t.Fatal(err)
	}
	h.handleCode(a, packet(ppp.CodeEchoReply, 0, u32(magic1)))
	if err := h.echoTimer(a); err == nil {
		t.Error("our own Echo-Reply kept the peer alive")
	}
}

func TestEchoTimerNeverDead(t *testing.T) {
	h, a := openedHandler(t)
	a.keep = false
	for range 1000 {
		if err := h.echoTimer(a); err != nil {
			t.Fatal(err)
		}
	}
	if h.Outstanding() != 1000 {
		t.Errorf("Outstanding = %d", h.Outstanding())
	}
}

func TestEchoTimerNotOpened(t *testing.T) {
	h := newTest(func(c *Config) { c.EchoFailure = 1 })
	a := &fakeAutomaton{state: ppp.StateAckSent, keep: true}
	for range 3 {
		if err := h.echoTimer(a); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.sent) != 0 {
		t.Errorf("sent %v outside Opened", a.sent)
	}
}

// Up restarts identifiers and the count of outstanding requests.
func TestEchoStateResetByUp(t *testing.T) {
	h, a := openedHandler(t)
	h.echoTimer(a)
	h.echoTimer(a)
	h.Down()
	h.Up()
	h.echoTimer(a)
	if got := a.sent[len(a.sent)-1].id; got != 0 {
		t.Errorf("first Echo-Request after Up has id %d, want 0", got)
	}
	if h.Outstanding() != 1 {
		t.Errorf("Outstanding = %d", h.Outstanding())
	}
}

func TestProtocolReject(t *testing.T) {
	type rej struct {
		proto ppp.Protocol
		info  []byte
	}
	var got []rej
	h, a := openedHandler(t, func(c *Config) {
		c.ProtocolReject = func(p ppp.Protocol, info []byte) { got = append(got, rej{p, bytes.Clone(info)}) }
	})
	h.handleCode(a, packet(ppp.CodeProtocolReject, 3, []byte{0x80, 0xfd, 1, 1, 0, 4}))
	h.handleCode(a, packet(ppp.CodeProtocolReject, 4, []byte{0xc0, 0x21}))
	a.state = ppp.StateAckSent
	h.handleCode(a, packet(ppp.CodeProtocolReject, 5, []byte{0x80, 0x21})) // outside Opened: dropped
	want := []rej{{ppp.ProtoCCP, []byte{1, 1, 0, 4}}, {ppp.ProtoLCP, []byte{}}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(rej{})); d != "" {
		t.Errorf("ProtocolReject calls (-want +got):\n%s", d)
	}
	if c := h.Counters(); c.ProtocolRejects != 2 || c.Dropped != 1 {
		t.Errorf("counters = %+v", c)
	}
}

func TestDiscardIdentificationTimeRemaining(t *testing.T) {
	var logged bytes.Buffer
	h, a := openedHandler(t, func(c *Config) { c.Logger = newTextLogger(&logged) })
	for _, p := range []ppp.Packet{
		packet(ppp.CodeDiscardRequest, 1, u32(0x1305b050)),
		packet(ppp.CodeDiscardRequest, 2, nil),
		packet(ppp.CodeIdentification, 3, cat(u32(0x1305b050), []byte("pppd 2.4.9"))),
		packet(ppp.CodeTimeRemaining, 4, cat(u32(0x1305b050), u32(3600), []byte("bye"))),
	} {
		if !h.handleCode(a, p) {
			t.Errorf("%v not handled", p.Code())
		}
	}
	if len(a.sent) != 0 {
		t.Errorf("sent %v", a.sent)
	}
	if c := h.Counters(); c.Discards != 2 {
		t.Errorf("counters = %+v", c)
	}
	for _, want := range []string{
		`level=INFO msg="lcp: peer identification" magic=0x1305b050 message="\"pppd 2.4.9\""`,
		`level=INFO msg="lcp: peer time remaining" magic=0x1305b050 seconds=3600 message="\"bye\""`,
	} {
		if !bytes.Contains(logged.Bytes(), []byte(want)) {
			t.Errorf("log lacks %s:\n%s", want, logged.String())
		}
	}
	// Identification is accepted before Opened too (RFC 1570 section 1.1).
	a.state = ppp.StateReqSent
	if !h.handleCode(a, packet(ppp.CodeIdentification, 5, u32(0))) {
		t.Error("Identification outside Opened not handled")
	}
}

func TestUnknownCodes(t *testing.T) {
	h, a := openedHandler(t)
	for _, c := range []ppp.Code{14, 15, 0x80, 0xff} {
		if h.handleCode(a, packet(c, 1, []byte{1, 2})) {
			t.Errorf("code %d handled, want false (Code-Reject)", c)
		}
	}
}

func TestAllocsEcho(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	h, a := openedHandler(t, func(c *Config) { c.Now = clock.Now; c.EchoFailure = 1000 })
	a.keep = false
	req := packet(ppp.CodeEchoRequest, 1, cat(u32(0x1305b050), make([]byte, 40)))
	replies := make([]ppp.Packet, 256)
	for i := range replies {
		replies[i] = packet(ppp.CodeEchoReply, uint8(i), u32(0x1305b050))
	}
	discard := packet(ppp.CodeDiscardRequest, 1, u32(0x1305b050))
	h.handleCode(a, req) // grow the reply buffer once
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		h.handleCode(a, req)
		if err := h.echoTimer(a); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Millisecond)
		h.handleCode(a, replies[i%256])
		h.handleCode(a, discard)
		i++
	})
	if allocs != 0 {
		t.Errorf("Echo handling allocates %v times per run, want 0", allocs)
	}
	if h.RTT().Count == 0 {
		t.Error("no RTT recorded")
	}
}
