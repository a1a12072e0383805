package ppp

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
)

// Automaton is the option negotiation automaton of RFC 1661 section 4 for one
// control protocol: the state transition table of section 4.1 (reproduced in
// the package documentation), the restart timer and its counters, and the
// packet rules of section 5. The protocol's options come from a Handler.
//
// An Automaton has no lock and does no I/O: one goroutine owns it and calls
// every method. It sends through Config.Send and asks for the restart timer
// through Config.Timer; the owner calls Timeout when that timer fires.
//
// Identifiers. Each new Configure-Request and Terminate-Request gets the next
// Identifier (1 first, then 2, wrapping after 255). A retransmission on TO+
// keeps the Identifier when the request's options are unchanged and no valid
// reply has arrived, as RFC 1661 section 5.1 allows and pppd does; otherwise
// it gets a new one. A Configure-Ack, Configure-Nak or Configure-Reject is
// valid only if its Identifier is that of our last Configure-Request and that
// request has had no valid reply yet; a Configure-Ack must moreover repeat
// the options last sent octet for octet. Anything else is discarded and
// counted in Stats. Code-Rejects get new Identifiers too.
//
// Convergence. Once Config.MaxFailure Configure-Naks have been sent without
// a Configure-Ack, the Handler must Reject what it would Nak (RFC 1661
// section 4.6; CheckRequest's rejectIfDisagree). Once Config.MaxFailure
// Configure-Naks have been received with no Configure-Ack or
// Configure-Reject in between, the Handler is asked to treat them as
// Rejects (Naked's rejectIfDisagree), as pppd does. Once
// Config.MaxFailure Configure-Naks or Configure-Rejects in a row have left
// our next Configure-Request unchanged, further such replies are discarded
// (Stats.Futile) instead of producing an identical request at once: the
// restart timer then paces the retransmissions and Max-Configure ends the
// negotiation, where the table alone would loop as fast as the link allows.
type Automaton struct {
	cfg   Config
	h     Handler
	layer LayerHandler // nil when h does not implement it
	codes CodeHandler  // nil when h does not implement it
	log   *slog.Logger

	state   State
	ev      event // the event being handled, for logging
	restart int   // restart counter (RFC 1661 section 4.6)
	timerOn bool  // the restart timer is armed

	lastID  uint8 // last Identifier handed out
	reqID   uint8 // Identifier of our last Configure-Request
	termID  uint8 // Identifier of our last Terminate-Request
	pending bool  // our last Configure-Request has had no valid reply

	unanswered int // Configure-Requests sent since the last valid reply
	naksSent   int // Configure-Naks sent since our last Configure-Ack
	naksRcvd   int // Configure-Naks received since the last Configure-Ack or -Reject
	futile     int // Naks/Rejects in a row that left our request unchanged
	dropped    int // futile Naks/Rejects discarded in this negotiation

	req   []byte // options of our last Configure-Request, as sent
	next  []byte // scratch for the next Configure-Request
	reply []byte // scratch given to Handler.CheckRequest
	out   []byte // the packet being sent

	reason []byte // Data of our Terminate-Requests (the Close reason)
	text   []byte // log line scratch
	stuck  []byte // the last futile Nak/Reject's options, for Err
	stuckC Code   // its code

	answerCode Code   // judge's verdict on the peer's Configure-Request
	answerData []byte // and the reply's Data, valid until answer

	err   *NegotiationError
	stats Stats
}

// event is one of the sixteen events of RFC 1661 section 4.3.
type event uint8

const (
	evUp event = iota
	evDown
	evOpen
	evClose
	evTOPlus
	evTOMinus
	evRCRPlus
	evRCRMinus
	evRCA
	evRCN
	evRTR
	evRTA
	evRUC
	evRXJPlus
	evRXJMinus
	evRXR
)

var eventNames = [...]string{
	evUp: "Up", evDown: "Down", evOpen: "Open", evClose: "Close",
	evTOPlus: "TO+", evTOMinus: "TO-",
	evRCRPlus: "RCR+", evRCRMinus: "RCR-", evRCA: "RCA", evRCN: "RCN",
	evRTR: "RTR", evRTA: "RTA", evRUC: "RUC",
	evRXJPlus: "RXJ+", evRXJMinus: "RXJ-", evRXR: "RXR",
}

// scrMode says what kind of Configure-Request scr sends.
type scrMode uint8

const (
	scrFresh      scrMode = iota // first of a negotiation: the Handler is Reset
	scrNew                       // a new request within the negotiation
	scrRetransmit                // TO+: the same request again
)

// NewAutomaton returns an automaton in the Initial state. It allocates its
// buffers once, so that steady-state operation allocates nothing.
func NewAutomaton(c Config) *Automaton {
	if c.RestartInterval <= 0 {
		c.RestartInterval = DefaultRestartInterval
	}
	if c.MaxTerminate <= 0 {
		c.MaxTerminate = DefaultMaxTerminate
	}
	if c.MaxConfigure <= 0 {
		c.MaxConfigure = DefaultMaxConfigure
	}
	if c.MaxFailure <= 0 {
		c.MaxFailure = DefaultMaxFailure
	}
	a := &Automaton{cfg: c, h: c.Handler, log: c.Logger}
	if a.h == nil {
		a.h = noOptions{}
	}
	a.layer, _ = a.h.(LayerHandler)
	a.codes, _ = a.h.(CodeHandler)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	buf := make([]byte, 4*DefaultMRU)
	a.out = buf[0:0:DefaultMRU]
	a.reply = buf[DefaultMRU : DefaultMRU : 2*DefaultMRU]
	a.req = buf[2*DefaultMRU : 2*DefaultMRU : 3*DefaultMRU]
	a.next = buf[3*DefaultMRU : 3*DefaultMRU : 4*DefaultMRU]
	return a
}

// State returns the current state.
func (a *Automaton) State() State { return a.state }

// Protocol returns the control protocol's number.
func (a *Automaton) Protocol() Protocol { return a.cfg.Protocol }

// Stats returns the automaton's counters.
func (a *Automaton) Stats() Stats { return a.stats }

// Err returns why the protocol last finished or stopped negotiating: a
// *NegotiationError such as "peer sent Terminate-Request: \"User request\""
// or "no answer to 10 Configure-Requests". The first cause is kept until the
// layer comes up again (tlu) or an Open event starts a fresh negotiation
// from Initial or Closed, which reset it to nil. A Close of our own is not
// an error.
func (a *Automaton) Err() error {
	if a.err == nil {
		return nil
	}
	return a.err
}

// Up is the Up event: the lower layer is ready (RFC 1661 section 4.3).
func (a *Automaton) Up() {
	from := a.state
	a.up()
	a.settle(from)
}

// Down is the Down event: the lower layer is gone. The restart timer is
// stopped.
func (a *Automaton) Down() {
	from := a.state
	a.down()
	a.settle(from)
}

// Open is the Open event: the administrator allows the link. With
// Config.Restart it renegotiates a link that is Stopped, Closing, Stopping or
// Opened.
func (a *Automaton) Open() {
	from := a.state
	a.ev = evOpen
	switch a.state {
	case StateInitial: // Open: tls/1
		a.err = nil
		a.enter(StateStarting)
		a.tls()
	case StateStarting: // Open: 1
	case StateClosed: // Open: irc,scr/6 (Silent: wait in Stopped)
		a.err = nil
		if a.cfg.Silent {
			a.enter(StateStopped)
			break
		}
		a.enter(StateReqSent)
		a.ircConfigure()
		a.scr(scrFresh)
	case StateStopped, StateOpened: // Open: 3r, 9r
		if a.cfg.Restart {
			a.restartLink()
		}
	case StateClosing, StateStopping: // Open: 5r
		a.enter(StateStopping)
		if a.cfg.Restart {
			a.restartLink()
		}
	case StateReqSent, StateAckRcvd, StateAckSent: // Open: 6, 7, 8
	default:
		a.illegal()
	}
	a.settle(from)
}

// restartLink is the [r] option: a Down event immediately followed by an Up
// event, so that the link is negotiated again from Starting.
func (a *Automaton) restartLink() {
	a.down()
	a.up()
	a.err = nil // a renegotiation asked for, not a failure
}

// Close is the Close event: the administrator wants the link down. reason is
// sent as the Data of the Terminate-Requests ("User request").
func (a *Automaton) Close(reason string) {
	from := a.state
	a.ev = evClose
	a.reason = append(a.reason[:0], reason...)
	switch a.state {
	case StateInitial: // Close: 0
	case StateStarting: // Close: tlf/0
		a.enter(StateInitial)
		a.tlf()
	case StateClosed: // Close: 2
	case StateStopped: // Close: 2
		a.enter(StateClosed)
	case StateClosing: // Close: 4
	case StateStopping: // Close: 4
		a.enter(StateClosing)
	case StateReqSent, StateAckRcvd, StateAckSent: // Close: irc,str/4
		a.enter(StateClosing)
		a.ircTerminate()
		a.str(false)
	case StateOpened: // Close: tld,irc,str/4
		a.enter(StateClosing)
		a.tld()
		a.ircTerminate()
		a.str(false)
	default:
		a.illegal()
	}
	a.settle(from)
}

// Timeout is the TO+ or TO- event, chosen by the restart counter. The owner
// calls it when the timer armed through Config.Timer fires; a call while no
// timer is armed is counted as unexpected and ignored.
func (a *Automaton) Timeout() {
	from := a.state
	if !a.timerOn {
		a.ev = evTOPlus
		a.illegal()
		return
	}
	a.timerOn = false
	if a.restart > 0 {
		a.toPlus()
	} else {
		a.toMinus()
	}
	a.settle(from)
}

// ProtocolRejected is the RXJ- event for a Protocol-Reject of this protocol
// (RFC 1661 section 5.7): the link layer calls it when the peer rejects the
// protocol.
func (a *Automaton) ProtocolRejected() {
	from := a.state
	a.ev = evRXJMinus
	if a.state == StateInitial || a.state == StateStarting {
		a.illegal()
		return
	}
	a.rxjMinus("peer sent Protocol-Reject")
	a.settle(from)
}

// Send transmits a control packet of this protocol with the given code,
// identifier and data, logged like every other packet and cut to
// Config.MaxSend. A CodeHandler calls it from HandleCode to answer an
// extended code (Echo-Reply: the ser action). data must not alias the
// packet last passed to Config.Send.
func (a *Automaton) Send(code Code, id uint8, data []byte) {
	a.send(code, id, data)
}

// Input handles one received control packet of this protocol (Code,
// Identifier, Length, Data; octets beyond Length are ignored). Packets whose
// Length is wrong, and Configure-* packets whose options are malformed, are
// dropped and counted in Stats.Malformed, as RFC 1661 section 5 requires.
// Input does not keep pkt.
func (a *Automaton) Input(pkt []byte) {
	a.stats.Received++
	p, err := ParsePacket(pkt)
	if err != nil {
		a.trace("rcvd ", pkt)
		a.stats.Malformed++
		return
	}
	a.trace("rcvd ", pkt) // with any padding, as pppd prints it
	if a.state == StateInitial || a.state == StateStarting {
		// Receive events are impossible ("-") with the lower layer down.
		a.ev = receiveEvent(p.Code())
		a.illegal()
		return
	}
	from := a.state
	switch p.Code() {
	case CodeConfigureRequest:
		a.rcr(p)
	case CodeConfigureAck:
		a.rca(p)
	case CodeConfigureNak, CodeConfigureReject:
		a.rcn(p)
	case CodeTerminateRequest:
		a.rtr(p)
	case CodeTerminateAck:
		a.rta()
	case CodeCodeReject:
		a.rxj(p)
	default:
		// Codes beyond the seven of RFC 1661 section 5 belong to the
		// Handler (RXR: Echo, Discard); any it does not know are RUC.
		if p.Code() > CodeCodeReject && a.codes != nil {
			a.ev = evRXR
			if a.codes.HandleCode(a, p) {
				break
			}
		}
		a.ruc(p)
	}
	a.settle(from)
}

// receiveEvent names the receive event a packet code would be, for logging.
func receiveEvent(c Code) event {
	switch c {
	case CodeConfigureRequest:
		return evRCRPlus
	case CodeConfigureAck:
		return evRCA
	case CodeConfigureNak, CodeConfigureReject:
		return evRCN
	case CodeTerminateRequest:
		return evRTR
	case CodeTerminateAck:
		return evRTA
	case CodeCodeReject:
		return evRXJPlus
	}
	return evRUC
}

// up implements the Up event.
func (a *Automaton) up() {
	a.ev = evUp
	switch a.state {
	case StateInitial: // Up: 2
		a.enter(StateClosed)
	case StateStarting: // Up: irc,scr/6 (Silent: wait in Stopped)
		if a.cfg.Silent {
			a.enter(StateStopped)
			return
		}
		a.enter(StateReqSent)
		a.ircConfigure()
		a.scr(scrFresh)
	default: // Up: - in every other state
		a.illegal()
	}
}

// down implements the Down event.
func (a *Automaton) down() {
	a.ev = evDown
	switch a.state {
	case StateClosed: // Down: 0
		a.enter(StateInitial)
	case StateStopped: // Down: tls/1
		a.enter(StateStarting)
		a.tls()
	case StateClosing: // Down: 0
		a.enter(StateInitial)
	case StateStopping: // Down: 1
		a.enter(StateStarting)
	case StateReqSent, StateAckRcvd, StateAckSent: // Down: 1
		a.fail("lower layer went down")
		a.enter(StateStarting)
	case StateOpened: // Down: tld/1
		a.fail("lower layer went down")
		a.enter(StateStarting)
		a.tld()
	default: // Down: - in Initial and Starting
		a.illegal()
	}
}

// toPlus implements TO+, a timeout with the restart counter above zero.
func (a *Automaton) toPlus() {
	a.ev = evTOPlus
	switch a.state {
	case StateClosing, StateStopping: // TO+: str/4, str/5
		a.stats.Retransmits++
		a.str(true)
	case StateReqSent, StateAckSent: // TO+: scr/6, scr/8
		a.stats.Retransmits++
		a.scr(scrRetransmit)
	case StateAckRcvd: // TO+: scr/6
		a.stats.Retransmits++
		a.enter(StateReqSent)
		a.scr(scrRetransmit)
	default: // TO+: - (the timer never runs here)
		a.illegal()
	}
}

// toMinus implements TO-, a timeout with the restart counter expired.
func (a *Automaton) toMinus() {
	a.ev = evTOMinus
	switch a.state {
	case StateClosing: // TO-: tlf/2
		a.enter(StateClosed)
		a.tlf()
	case StateStopping: // TO-: tlf/3
		a.enter(StateStopped)
		a.tlf()
	case StateReqSent, StateAckRcvd, StateAckSent: // TO-: tlf/3p
		a.fail(a.timeoutReason())
		a.logf(slog.LevelWarn, "timeout sending Config-Requests")
		a.enter(StateStopped)
		if !a.cfg.Passive { // [p]: wait passively, without tlf
			a.tlf()
		}
	default: // TO-: -
		a.illegal()
	}
}

// timeoutReason describes a negotiation that ran out of Configure-Requests.
func (a *Automaton) timeoutReason() string {
	n := strconv.Itoa(a.unanswered)
	if a.dropped == 0 {
		return "no answer to " + n + " Configure-Requests"
	}
	var b []byte
	if a.stuckC == CodeConfigureNak {
		b = append(b, "peer kept Naking"...)
	} else {
		b = append(b, "peer kept Rejecting"...)
	}
	b = appendOptionsText(b, a.stuck, a.h)
	if a.naksRcvd >= a.cfg.MaxFailure {
		b = append(b, "; after "...)
		b = strconv.AppendInt(b, int64(a.cfg.MaxFailure), 10)
		b = append(b, " Naks we treated them as Rejects"...)
	}
	b = append(b, "; no agreement after "...)
	b = append(b, n...)
	b = append(b, " Configure-Requests"...)
	return string(b)
}

// rcr handles a Configure-Request: the RCR+ and RCR- events.
func (a *Automaton) rcr(p Packet) {
	a.ev = evRCRPlus
	if CheckOptions(p.Data()) != nil {
		a.stats.Malformed++
		return
	}
	switch a.state {
	case StateClosed: // RCR+, RCR-: sta/2
		a.sta(p.ID())
	case StateStopped: // RCR+: irc,scr,sca/8; RCR-: irc,scr,scn/6
		a.ircConfigure()
		a.scr(scrFresh)
		if a.judge(p) {
			a.enter(StateAckSent)
		} else {
			a.enter(StateReqSent)
		}
		a.answer(p)
	case StateClosing, StateStopping: // RCR+, RCR-: 4, 5
	case StateReqSent, StateAckSent: // RCR+: sca/8; RCR-: scn/6
		if a.judge(p) {
			a.enter(StateAckSent)
		} else {
			a.enter(StateReqSent)
		}
		a.answer(p)
	case StateAckRcvd: // RCR+: sca,tlu/9; RCR-: scn/7
		if a.judge(p) {
			a.enter(StateOpened)
			a.answer(p)
			a.tlu()
		} else {
			a.answer(p)
		}
	case StateOpened: // RCR+: tld,scr,sca/8; RCR-: tld,scr,scn/6
		a.state = StateReqSent // left Opened; settled below
		a.tld()
		a.scr(scrFresh)
		if a.judge(p) {
			a.enter(StateAckSent)
		} else {
			a.enter(StateReqSent)
		}
		a.answer(p)
	}
}

// judge asks the Handler about the peer's Configure-Request (reqci) and
// keeps its verdict for answer. It reports whether the request is acceptable
// (RCR+) or not (RCR-). Once Max-Failure Configure-Naks have been sent
// without an Ack, the Handler must Reject what it would Nak.
func (a *Automaton) judge(p Packet) bool {
	reject := a.naksSent >= a.cfg.MaxFailure
	code, reply := a.h.CheckRequest(a.reply[:0], p.Data(), reject)
	switch code {
	case CodeConfigureAck:
		a.answerCode, a.answerData = code, nil
	case CodeConfigureNak, CodeConfigureReject:
		a.answerCode, a.answerData = code, reply
	default: // a Handler bug: refuse everything rather than guess
		a.answerCode, a.answerData = CodeConfigureReject, p.Data()
	}
	if a.answerCode != CodeConfigureAck {
		a.ev = evRCRMinus
		return false
	}
	return true
}

// answer sends the reply judge prepared: sca or scn.
func (a *Automaton) answer(p Packet) {
	code, data := a.answerCode, a.answerData
	a.answerCode, a.answerData = 0, nil
	if code == CodeConfigureAck {
		a.sca(p)
		return
	}
	a.scn(code, p.ID(), data)
}

// rca handles a Configure-Ack: the RCA event.
func (a *Automaton) rca(p Packet) {
	a.ev = evRCA
	switch a.state {
	case StateClosed, StateStopped: // RCA: sta/2, sta/3
		a.sta(p.ID())
		return
	case StateClosing, StateStopping: // RCA: 4, 5
		return
	}
	if !a.validReply(p) {
		return
	}
	if !bytes.Equal(p.Data(), a.req) {
		a.stats.BadAck++
		return
	}
	a.replied()
	a.agreed()
	a.h.Acked(p.Data())
	switch a.state {
	case StateReqSent: // RCA: irc/7
		a.enter(StateAckRcvd)
		a.ircConfigure()
	case StateAckRcvd: // RCA: scr/6x
		a.crossed()
		a.enter(StateReqSent)
		a.scr(scrNew)
	case StateAckSent: // RCA: irc,tlu/9
		a.enter(StateOpened)
		a.ircConfigure()
		a.tlu()
	case StateOpened: // RCA: tld,scr/6x
		a.crossed()
		a.enter(StateReqSent)
		a.tld()
		a.scr(scrFresh)
	}
}

// rcn handles a Configure-Nak or Configure-Reject: the RCN event.
func (a *Automaton) rcn(p Packet) {
	a.ev = evRCN
	opts := p.Data()
	if CheckOptions(opts) != nil {
		a.stats.Malformed++
		return
	}
	switch a.state {
	case StateClosed, StateStopped: // RCN: sta/2, sta/3
		a.sta(p.ID())
		return
	case StateClosing, StateStopping: // RCN: 4, 5
		return
	}
	if !a.validReply(p) {
		return
	}
	nak := p.Code() == CodeConfigureNak
	var err error
	if nak {
		err = a.h.Naked(opts, a.naksRcvd+1 >= a.cfg.MaxFailure)
	} else {
		err = a.h.Rejected(opts)
	}
	if err != nil {
		a.stats.BadNakRej++
		return
	}
	if nak {
		a.naksRcvd++
	} else {
		a.naksRcvd = 0
	}
	if a.state != StateOpened {
		a.next, _ = a.buildRequest(a.next)
		if !bytes.Equal(a.next, a.req) {
			a.futile = 0
		} else if a.futile++; a.futile > a.cfg.MaxFailure {
			a.stats.Futile++
			a.dropped++
			a.stuck = append(a.stuck[:0], opts...)
			a.stuckC = p.Code()
			return
		}
	}
	a.replied()
	switch a.state {
	case StateReqSent: // RCN: irc,scr/6
		a.ircConfigure()
		a.scr(scrNew)
	case StateAckRcvd: // RCN: scr/6x
		a.crossed()
		a.enter(StateReqSent)
		a.scr(scrNew)
	case StateAckSent: // RCN: irc,scr/8
		a.ircConfigure()
		a.scr(scrNew)
	case StateOpened: // RCN: tld,scr/6x
		a.crossed()
		a.enter(StateReqSent)
		a.tld()
		a.scr(scrFresh)
	}
}

// validReply reports whether p answers our outstanding Configure-Request,
// counting it as WrongID if not.
func (a *Automaton) validReply(p Packet) bool {
	if !a.pending || p.ID() != a.reqID {
		a.stats.WrongID++
		return false
	}
	return true
}

// replied records a valid reply to our Configure-Request: the next request
// needs a new Identifier.
func (a *Automaton) replied() {
	a.pending = false
	a.unanswered = 0
}

// agreed records a Configure-Ack of our request: convergence is no longer
// in doubt.
func (a *Automaton) agreed() {
	a.naksRcvd, a.futile, a.dropped = 0, 0, 0
}

// crossed notes a valid reply in Ack-Rcvd or Opened: RFC 1661 [x], a
// crossed connection or an implementation error, which SHOULD be logged.
func (a *Automaton) crossed() {
	a.stats.Crossed++
	a.logf(slog.LevelWarn, "crossed connection: "+eventNames[a.ev]+" in state "+a.state.String())
}

// rtr handles a Terminate-Request: the RTR event.
func (a *Automaton) rtr(p Packet) {
	a.ev = evRTR
	switch a.state {
	case StateClosed, StateStopped, StateClosing, StateStopping, StateReqSent:
		// RTR: sta/2, sta/3, sta/4, sta/5, sta/6
		a.sta(p.ID())
	case StateAckRcvd, StateAckSent: // RTR: sta/6
		a.enter(StateReqSent)
		a.sta(p.ID())
	case StateOpened: // RTR: tld,zrc,sta/5
		reason := "peer sent Terminate-Request"
		if len(p.Data()) > 0 {
			reason = string(AppendQuoted(append([]byte(reason), ": "...), p.Data()))
		}
		a.fail(reason)
		a.logf(slog.LevelInfo, reason)
		a.enter(StateStopping)
		a.tld()
		a.zrc()
		a.sta(p.ID())
	}
}

// rta handles a Terminate-Ack: the RTA event.
func (a *Automaton) rta() {
	a.ev = evRTA
	switch a.state {
	case StateClosed, StateStopped: // RTA: 2, 3
	case StateClosing: // RTA: tlf/2
		a.enter(StateClosed)
		a.tlf()
	case StateStopping: // RTA: tlf/3
		a.enter(StateStopped)
		a.tlf()
	case StateReqSent, StateAckSent: // RTA: 6, 8
	case StateAckRcvd: // RTA: 6
		a.enter(StateReqSent)
	case StateOpened: // RTA: tld,scr/6
		a.enter(StateReqSent)
		a.tld()
		a.scr(scrFresh)
	}
}

// ruc handles a packet with an unknown code: the RUC event, answered with
// scj in every state where packets arrive (scj/2 … scj/9).
func (a *Automaton) ruc(p Packet) {
	a.ev = evRUC
	a.scj(p)
}

// rxj handles a Code-Reject: RXJ+ when the rejected code is one we can do
// without (beyond the seven of RFC 1661 section 5), RXJ- when it is one of
// them (RFC 1661 section 5.6: catastrophic).
func (a *Automaton) rxj(p Packet) {
	a.ev = evRXJPlus
	data := p.Data()
	if len(data) < HeaderLen { // the rejected packet's header at least
		a.stats.Malformed++
		return
	}
	a.stats.CodeRejectsRcvd++
	rejected := Code(data[0])
	if rejected < CodeConfigureRequest || rejected > CodeCodeReject {
		a.logf(slog.LevelInfo, "peer sent Code-Reject of "+rejected.String())
		switch a.state {
		case StateAckRcvd: // RXJ+: 6
			a.enter(StateReqSent)
		default: // RXJ+: 2, 3, 4, 5, 6, 8, 9
		}
		return
	}
	a.ev = evRXJMinus
	a.rxjMinus("peer sent Code-Reject of " + rejected.String() + " (catastrophic)")
}

// rxjMinus implements the RXJ- event, for a Code-Reject of a core code or a
// Protocol-Reject of this protocol.
func (a *Automaton) rxjMinus(reason string) {
	a.fail(reason)
	a.logf(slog.LevelWarn, reason)
	switch a.state {
	case StateClosed: // RXJ-: tlf/2
		a.tlf()
	case StateStopped: // RXJ-: tlf/3
		a.tlf()
	case StateClosing: // RXJ-: tlf/2
		a.enter(StateClosed)
		a.tlf()
	case StateStopping, StateReqSent, StateAckRcvd, StateAckSent: // RXJ-: tlf/3
		a.enter(StateStopped)
		a.tlf()
	case StateOpened: // RXJ-: tld,irc,str/5
		a.enter(StateStopping)
		a.tld()
		a.ircTerminate()
		a.reason = a.reason[:0]
		a.str(false)
	}
}

// enter moves to state s, stopping the restart timer in the states where it
// does not run (RFC 1661 section 4.2: it runs only in Closing, Stopping,
// Req-Sent, Ack-Rcvd and Ack-Sent).
func (a *Automaton) enter(s State) {
	a.state = s
	if a.timerOn && (s < StateClosing || s > StateAckSent) {
		a.timerOn = false
		if a.cfg.Timer != nil {
			a.cfg.Timer(0)
		}
	}
}

// armTimer (re)starts the restart timer.
func (a *Automaton) armTimer() {
	a.timerOn = true
	if a.cfg.Timer != nil {
		a.cfg.Timer(a.cfg.RestartInterval)
	}
}

// tlu is This-Layer-Up.
func (a *Automaton) tlu() {
	a.err = nil
	if a.layer != nil {
		a.layer.Up()
	}
}

// tld is This-Layer-Down.
func (a *Automaton) tld() {
	if a.layer != nil {
		a.layer.Down()
	}
}

// tls is This-Layer-Started.
func (a *Automaton) tls() {
	if a.layer != nil {
		a.layer.Started()
	}
}

// tlf is This-Layer-Finished.
func (a *Automaton) tlf() {
	if a.layer != nil {
		a.layer.Finished()
	}
}

// ircConfigure is Initialize-Restart-Count before Configure-Requests.
func (a *Automaton) ircConfigure() { a.restart = a.cfg.MaxConfigure }

// ircTerminate is Initialize-Restart-Count before Terminate-Requests.
func (a *Automaton) ircTerminate() { a.restart = a.cfg.MaxTerminate }

// zrc is Zero-Restart-Count. RFC 1661 section 4.4 also requires a timeout,
// so that the peer has time to see our Terminate-Ack before TO- finishes
// the layer: the restart timer is armed.
func (a *Automaton) zrc() {
	a.restart = 0
	a.armTimer()
}

// scr is Send-Configure-Request. It decrements the restart counter and
// (re)arms the restart timer.
func (a *Automaton) scr(mode scrMode) {
	if mode == scrFresh { // not negotiating yet: start afresh (resetci)
		a.h.Reset()
		a.pending = false
		a.unanswered, a.naksSent = 0, 0
		a.agreed()
	}
	var cut bool
	a.next, cut = a.buildRequest(a.next)
	if mode != scrRetransmit || !a.pending || !bytes.Equal(a.next, a.req) {
		a.reqID = a.newID()
	}
	a.req, a.next = a.next, a.req
	if cut {
		a.stats.Truncated++
	}
	a.pending = true
	a.unanswered++
	a.restart--
	a.send(CodeConfigureRequest, a.reqID, a.req)
	a.armTimer()
}

// buildRequest writes the options of our next Configure-Request into b,
// cut at an option boundary to fit Config.MaxSend, and reports whether it
// had to cut.
func (a *Automaton) buildRequest(b []byte) ([]byte, bool) {
	b = a.h.AppendRequest(b[:0])
	limit := a.maxSend() - HeaderLen
	if len(b) <= limit {
		return b, false
	}
	n := 0
	for r := OptionReader(b); ; {
		o, ok := r.Next()
		if !ok || n+o.Len() > limit {
			break
		}
		n += o.Len()
	}
	return b[:n], true
}

// sca is Send-Configure-Ack: the peer's options, repeated unchanged.
func (a *Automaton) sca(p Packet) {
	a.naksSent = 0
	a.send(CodeConfigureAck, p.ID(), p.Data())
}

// scn is Send-Configure-Nak/Rej.
func (a *Automaton) scn(code Code, id uint8, data []byte) {
	if code == CodeConfigureNak {
		a.naksSent++
		if a.naksSent == a.cfg.MaxFailure {
			a.logf(slog.LevelInfo, "Max-Failure Configure-Naks sent: rejecting from now on")
		}
	}
	a.send(code, id, data)
}

// str is Send-Terminate-Request, carrying the Close reason. It decrements
// the restart counter and (re)arms the restart timer.
func (a *Automaton) str(retransmit bool) {
	if !retransmit {
		a.termID = a.newID()
	}
	a.restart--
	a.send(CodeTerminateRequest, a.termID, a.reason)
	a.armTimer()
}

// sta is Send-Terminate-Ack, with the Identifier of the packet answered.
func (a *Automaton) sta(id uint8) {
	a.send(CodeTerminateAck, id, nil)
}

// scj is Send-Code-Reject, carrying the rejected packet.
func (a *Automaton) scj(p Packet) {
	a.stats.CodeRejectsSent++
	a.send(CodeCodeReject, a.newID(), p)
}

// newID returns the next Identifier.
func (a *Automaton) newID() uint8 {
	a.lastID++
	return a.lastID
}

// maxSend returns Config.MaxSend, or its default, within bounds.
func (a *Automaton) maxSend() int {
	n := DefaultMRU
	if a.cfg.MaxSend != nil {
		n = a.cfg.MaxSend()
	}
	return min(max(n, HeaderLen), 0xffff)
}

// send builds, logs and transmits one packet, cut to Config.MaxSend.
func (a *Automaton) send(code Code, id uint8, data []byte) {
	if limit := a.maxSend() - HeaderLen; len(data) > limit {
		data = data[:limit]
		a.stats.Truncated++
	}
	a.out = AppendPacket(a.out[:0], code, id, data)
	a.stats.Sent++
	a.trace("sent ", a.out)
	if a.cfg.Send != nil {
		a.cfg.Send(a.out)
	}
}

// fail records why the layer is finishing, unless a cause is recorded
// already.
func (a *Automaton) fail(reason string) {
	if a.err == nil {
		a.err = &NegotiationError{Protocol: a.cfg.Protocol, State: a.state, Reason: reason}
	}
}

// illegal counts an event the state table marks impossible ("-").
func (a *Automaton) illegal() {
	a.stats.Unexpected++
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		a.log.LogAttrs(context.Background(), slog.LevelDebug,
			a.cfg.Protocol.String()+": unexpected "+eventNames[a.ev]+" event in state "+a.state.String())
	}
}

// settle logs a state change made by the event just handled.
func (a *Automaton) settle(from State) {
	if a.state == from || !a.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	a.log.LogAttrs(context.Background(), slog.LevelDebug,
		a.cfg.Protocol.String()+": "+from.String()+" -> "+a.state.String(),
		slog.String("event", eventNames[a.ev]))
}

// logf logs msg, prefixed with the protocol's name, at level.
func (a *Automaton) logf(level slog.Level, msg string) {
	if a.log.Enabled(context.Background(), level) {
		a.log.LogAttrs(context.Background(), level, a.cfg.Protocol.String()+": "+msg,
			slog.String("state", a.state.String()))
	}
}

// trace logs a packet sent or received at debug level, formatted as pppd
// does ("sent [LCP ConfReq id=0x1 <mru 1500>]").
func (a *Automaton) trace(prefix string, pkt []byte) {
	if !a.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	a.text = append(a.text[:0], prefix...)
	a.text = AppendPacketText(a.text, a.cfg.Protocol, pkt, a.h)
	a.log.LogAttrs(context.Background(), slog.LevelDebug, string(a.text))
}

// noOptions is the Handler of an automaton configured without one: it
// requests nothing and rejects every option the peer requests, as pppd does
// for a protocol without reqci.
type noOptions struct{}

func (noOptions) Reset()                        {}
func (noOptions) AppendRequest(b []byte) []byte { return b }
func (noOptions) Acked([]byte)                  {}
func (noOptions) Naked([]byte, bool) error      { return nil }
func (noOptions) Rejected([]byte) error         { return nil }
func (noOptions) CheckRequest(reply, opts []byte, _ bool) (Code, []byte) {
	if len(opts) == 0 {
		return CodeConfigureAck, reply
	}
	return CodeConfigureReject, append(reply, opts...)
}
