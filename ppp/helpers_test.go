package ppp_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// Values of the test handler's single option in the automaton tests: we
// request wantValue, accept peerGood from the peer and Nak peerBad, and the
// peer's Naks suggest nakValue.
const (
	wantValue = 0x0a
	peerGood  = 0x0b
	peerBad   = 0x0c
	nakValue  = 0x0d

	testMaxConfigure = 10
	testMaxTerminate = 2
)

// fixture is an automaton with a recording handler and owner.
type fixture struct {
	a       *ppp.Automaton
	h       *ppptest.Handler
	rec     *ppptest.Recorder
	lastReq ppp.Packet // our last Configure-Request, kept across Clear

	// quiet makes send only count packets, in sent, without recording
	// them, for the allocation tests.
	quiet bool
	sent  int
}

func newFixture(t testing.TB, mod func(*ppp.Config)) *fixture {
	t.Helper()
	f := &fixture{rec: &ppptest.Recorder{}}
	f.h = &ppptest.Handler{Request: true, Want: wantValue, Accept: peerGood, Rec: f.rec}
	c := ppp.Config{
		Protocol:     ppp.ProtoIPCP,
		Handler:      f.h,
		Send:         f.send,
		Timer:        f.setTimer,
		MaxConfigure: testMaxConfigure,
		MaxTerminate: testMaxTerminate,
	}
	if mod != nil {
		mod(&c)
	}
	f.a = ppp.NewAutomaton(c)
	return f
}

func (f *fixture) send(pkt []byte) {
	f.sent++
	if f.quiet {
		return
	}
	if len(pkt) >= ppp.HeaderLen && ppp.Code(pkt[0]) == ppp.CodeConfigureRequest {
		f.lastReq = ppp.Packet(bytes.Clone(pkt))
	}
	f.rec.Send(pkt)
}

func (f *fixture) setTimer(d time.Duration) {
	if !f.quiet {
		f.rec.SetTimer(d)
	}
}

// pkt builds a control packet.
func pkt(code ppp.Code, id uint8, data ...byte) []byte {
	return ppp.AppendPacket(nil, code, id, data)
}

// valueOpt is the test handler's option carrying v.
func valueOpt(v uint32) []byte { return ppp.AppendOptionUint32(nil, ppptest.OptValue, v) }

// peerRequest is a Configure-Request from the peer asking for v.
func peerRequest(id uint8, v uint32) []byte {
	return pkt(ppp.CodeConfigureRequest, id, valueOpt(v)...)
}

// ack acknowledges our last Configure-Request, or makes up one.
func (f *fixture) ack() []byte {
	if f.lastReq == nil {
		return pkt(ppp.CodeConfigureAck, 0x33, valueOpt(wantValue)...)
	}
	return pkt(ppp.CodeConfigureAck, f.lastReq.ID(), f.lastReq.Data()...)
}

// nak Naks our last Configure-Request, suggesting v.
func (f *fixture) nak(v uint32) []byte {
	id := uint8(0x33)
	if f.lastReq != nil {
		id = f.lastReq.ID()
	}
	return pkt(ppp.CodeConfigureNak, id, valueOpt(v)...)
}

// codeReject rejects a packet of the given code.
func codeReject(id uint8, rejected ppp.Code) []byte {
	return pkt(ppp.CodeCodeReject, id, byte(rejected), 0x07, 0x00, 0x04)
}

// driveTo brings f's automaton from Initial to s through real events, then
// forgets what was recorded on the way.
func (f *fixture) driveTo(t testing.TB, s ppp.State) {
	t.Helper()
	a := f.a
	switch s {
	case ppp.StateInitial:
	case ppp.StateStarting:
		a.Open()
	case ppp.StateClosed:
		a.Up()
	case ppp.StateStopped:
		a.Up()
		a.Open()
		a.Input(codeReject(0x40, ppp.CodeConfigureRequest)) // RXJ-: tlf/3
	case ppp.StateClosing:
		a.Up()
		a.Open()
		a.Close("")
	case ppp.StateStopping:
		a.Up()
		a.Open()
		a.Close("")
		a.Open() // 5r
	case ppp.StateReqSent:
		a.Up()
		a.Open()
	case ppp.StateAckRcvd:
		a.Up()
		a.Open()
		a.Input(f.ack())
	case ppp.StateAckSent:
		a.Up()
		a.Open()
		a.Input(peerRequest(0x41, peerGood))
	case ppp.StateOpened:
		a.Up()
		a.Open()
		a.Input(peerRequest(0x41, peerGood))
		a.Input(f.ack())
	}
	if a.State() != s {
		t.Fatalf("driving to %v: reached %v", s, a.State())
	}
	f.rec.Clear()
}

// countOf counts occurrences of s in list.
func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
