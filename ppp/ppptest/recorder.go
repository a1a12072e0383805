package ppptest

import (
	"bytes"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Recorder stands in for the owner of an automaton: its Send and SetTimer
// methods fit ppp.Config's Send and Timer, and it records, in order, the
// RFC 1661 actions they reveal ("scr", "sca", "scn", "str", "sta", "scj",
// "ser") together with the This-Layer actions a Handler reports to Layer.
type Recorder struct {
	Actions    []string        // actions in the order they happened
	Packets    []ppp.Packet    // copies of the packets sent
	Timer      time.Duration   // the restart timer's current arming; 0 when stopped
	TimerCalls []time.Duration // every call to SetTimer
}

// Send records a packet sent by the automaton and the action it reveals.
func (r *Recorder) Send(pkt []byte) {
	p := ppp.Packet(bytes.Clone(pkt))
	r.Packets = append(r.Packets, p)
	r.Actions = append(r.Actions, ActionOf(p))
}

// SetTimer records an arming (d > 0) or stop (d == 0) of the restart timer.
func (r *Recorder) SetTimer(d time.Duration) {
	r.Timer = d
	r.TimerCalls = append(r.TimerCalls, d)
}

// Layer records a This-Layer action. A nil Recorder ignores it.
func (r *Recorder) Layer(action string) {
	if r != nil {
		r.Actions = append(r.Actions, action)
	}
}

// Clear forgets the actions, packets and timer calls recorded so far; the
// timer's current arming stays.
func (r *Recorder) Clear() {
	r.Actions, r.Packets, r.TimerCalls = nil, nil, nil
}

// Last returns the last packet sent, or nil.
func (r *Recorder) Last() ppp.Packet {
	if len(r.Packets) == 0 {
		return nil
	}
	return r.Packets[len(r.Packets)-1]
}

// LastOf returns the last packet sent with the given code, or nil.
func (r *Recorder) LastOf(c ppp.Code) ppp.Packet {
	for i := len(r.Packets) - 1; i >= 0; i-- {
		if len(r.Packets[i]) >= ppp.HeaderLen && r.Packets[i].Code() == c {
			return r.Packets[i]
		}
	}
	return nil
}

// ActionOf names the RFC 1661 action a sent packet performs: "scr", "sca",
// "scn" (Nak or Reject), "str", "sta", "scj" or "ser" (Echo-Reply), or
// "send " and pppd's name of the code for any other.
func ActionOf(p ppp.Packet) string {
	if len(p) < ppp.HeaderLen {
		return "send ?"
	}
	switch p.Code() {
	case ppp.CodeConfigureRequest:
		return "scr"
	case ppp.CodeConfigureAck:
		return "sca"
	case ppp.CodeConfigureNak, ppp.CodeConfigureReject:
		return "scn"
	case ppp.CodeTerminateRequest:
		return "str"
	case ppp.CodeTerminateAck:
		return "sta"
	case ppp.CodeCodeReject:
		return "scj"
	case ppp.CodeEchoReply:
		return "ser"
	}
	return "send " + p.Code().String()
}
