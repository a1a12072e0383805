package lcp

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// automaton is the part of *ppp.Automaton that the extra codes use: its
// state and a way to send a packet with an LCP-only code. Tests provide
// their own.
type automaton interface {
	State() ppp.State
	Send(code ppp.Code, id uint8, data []byte)
}

// EchoTimeoutError is returned by EchoTimer when the peer left
// Config.EchoFailure Echo-Requests unanswered (pppd's lcp-echo-failure).
// The link closes LCP with Reason and reports the error.
type EchoTimeoutError struct {
	Unanswered int // Echo-Requests sent since the last Echo-Reply
}

// Reason returns the Close reason, "peer not responding to N
// echo-requests".
func (e *EchoTimeoutError) Reason() string {
	return "peer not responding to " + strconv.Itoa(e.Unanswered) + " echo-requests"
}

// Error returns "lcp: " followed by Reason.
func (e *EchoTimeoutError) Error() string {
	return "lcp: " + e.Reason()
}

// RTTStats summarises the round-trip times of answered Echo-Requests since
// LCP last reached Opened.
type RTTStats struct {
	Count int           // Echo-Replies matched to our Echo-Requests
	Last  time.Duration // round-trip time of the latest one
	Min   time.Duration
	Max   time.Duration
	Avg   time.Duration // mean over Count
}

// Counters counts the LCP packets of codes 8 to 13 handled since New.
type Counters struct {
	ProtocolRejects  uint64 // Protocol-Rejects passed to Config.ProtocolReject
	EchoRequests     uint64 // Echo-Requests answered
	EchoReplies      uint64 // Echo-Replies accepted (matched or not)
	UnmatchedReplies uint64 // Echo-Replies with an identifier we did not send or already saw
	Discards         uint64 // Discard-Requests received
	Dropped          uint64 // packets dropped: too short, wrong state, or carrying our own magic
}

// HandleCode handles a received LCP packet whose code is above 7 (pppd's
// lcp_extcode); the automaton calls it and answers a false result with a
// Code-Reject. See the package documentation for what each code does. pkt
// is not kept.
func (h *Handler) HandleCode(a *ppp.Automaton, pkt ppp.Packet) bool {
	return h.handleCode(a, pkt)
}

func (h *Handler) handleCode(a automaton, pkt ppp.Packet) bool {
	if len(pkt) < ppp.HeaderLen {
		h.counters.Dropped++
		return true
	}
	data := pkt.Data()
	opened := a.State() == ppp.StateOpened
	switch pkt.Code() {
	case ppp.CodeProtocolReject:
		// RFC 1661 section 5.7: discarded outside Opened.
		if !opened || len(data) < 2 {
			h.drop(pkt, "Protocol-Reject outside Opened or short")
			return true
		}
		h.counters.ProtocolRejects++
		if h.cfg.ProtocolReject != nil {
			h.cfg.ProtocolReject(ppp.Protocol(be16(data)), data[2:])
		}

	case ppp.CodeEchoRequest:
		if !opened || len(data) < 4 {
			h.drop(pkt, "Echo-Request outside Opened or short")
			return true
		}
		if h.ownMagic(data) {
			return true
		}
		h.buf = put32(h.buf[:0], h.ourMagic())
		h.buf = append(h.buf, data[4:]...)
		h.counters.EchoRequests++
		a.Send(ppp.CodeEchoReply, pkt.ID(), h.buf)

	case ppp.CodeEchoReply:
		if !opened || len(data) < 4 {
			h.drop(pkt, "Echo-Reply outside Opened or short")
			return true
		}
		if h.ownMagic(data) {
			return true
		}
		h.counters.EchoReplies++
		h.pending = 0 // any answer shows the peer is alive, as in pppd
		id := pkt.ID()
		if t := h.sent[id]; !t.IsZero() {
			h.sent[id] = time.Time{}
			h.recordRTT(h.cfg.Now().Sub(t))
		} else {
			h.counters.UnmatchedReplies++
		}

	case ppp.CodeDiscardRequest:
		h.counters.Discards++
		if opened && len(data) >= 4 {
			h.ownMagic(data)
		}

	case ppp.CodeIdentification:
		if len(data) < 4 {
			h.drop(pkt, "short Identification")
			return true
		}
		if opened && h.ownMagic(data) {
			return true
		}
		if h.log.Enabled(context.Background(), slog.LevelInfo) {
			h.log.Info("lcp: peer identification",
				"magic", "0x"+strconv.FormatUint(uint64(be32(data)), 16),
				"message", string(ppp.AppendQuoted(nil, data[4:])))
		}

	case ppp.CodeTimeRemaining:
		if len(data) < 8 {
			h.drop(pkt, "short Time-Remaining")
			return true
		}
		if opened && h.ownMagic(data) {
			return true
		}
		if h.log.Enabled(context.Background(), slog.LevelInfo) {
			h.log.Info("lcp: peer time remaining",
				"magic", "0x"+strconv.FormatUint(uint64(be32(data)), 16),
				"seconds", be32(data[4:]),
				"message", string(ppp.AppendQuoted(nil, data[8:])))
		}

	default:
		return false
	}
	return true
}

// ourMagic returns the magic number to put in Link-Maintenance packets:
// the one the peer acknowledged, or zero (RFC 1661 section 5.8).
func (h *Handler) ourMagic() uint32 {
	if h.got.NegMagic {
		return h.got.Magic
	}
	return 0
}

// ownMagic reports whether the magic number at the start of data is our
// own, which means the packet came back over a looped line (RFC 1661
// section 6.4); it then counts the packet as dropped and as a loop-back
// indication.
func (h *Handler) ownMagic(data []byte) bool {
	if !h.got.NegMagic || be32(data) != h.got.Magic {
		return false
	}
	h.counters.Dropped++
	h.echoLoops++
	h.noteLoop(h.echoLoops, "received a Link-Maintenance packet with our magic number")
	return true
}

func (h *Handler) drop(pkt ppp.Packet, why string) {
	h.counters.Dropped++
	if h.log.Enabled(context.Background(), slog.LevelDebug) {
		h.log.Debug("lcp: dropped packet", "code", pkt.Code().String(), "id", pkt.ID(), "reason", why)
	}
}

// EchoTimer is the keep-alive tick (pppd's LcpEchoCheck): the link's owner
// calls it every Config.EchoInterval while LCP is Opened. It sends an
// Echo-Request carrying our magic number, with an identifier that
// increments for each one, and counts it as outstanding until any
// Echo-Reply arrives. When Config.EchoFailure requests are outstanding it
// sends nothing and returns an *EchoTimeoutError; the link then closes LCP
// with the error's Reason. Outside Opened it does nothing.
func (h *Handler) EchoTimer(a *ppp.Automaton) error {
	return h.echoTimer(a)
}

func (h *Handler) echoTimer(a automaton) error {
	if a.State() != ppp.StateOpened {
		return nil
	}
	if h.cfg.EchoFailure > 0 && h.pending >= h.cfg.EchoFailure {
		return &EchoTimeoutError{Unanswered: h.pending}
	}
	id := h.echoID
	h.echoID++
	h.pending++
	h.sent[id] = h.cfg.Now()
	h.buf = put32(h.buf[:0], h.ourMagic())
	a.Send(ppp.CodeEchoRequest, id, h.buf)
	return nil
}

// Outstanding returns how many Echo-Requests were sent since the last
// Echo-Reply.
func (h *Handler) Outstanding() int {
	return h.pending
}

func (h *Handler) resetEcho() {
	h.echoID = 0
	h.pending = 0
	clear(h.sent[:])
}

func (h *Handler) recordRTT(d time.Duration) {
	r := &h.rtt
	if r.Count == 0 || d < r.Min {
		r.Min = d
	}
	if d > r.Max {
		r.Max = d
	}
	r.Count++
	r.Last = d
	h.rttSum += d
	r.Avg = h.rttSum / time.Duration(r.Count)
}

// RTT returns the round-trip times of Echo-Requests answered since LCP last
// reached Opened.
func (h *Handler) RTT() RTTStats {
	return h.rtt
}

// Counters returns the packet counters.
func (h *Handler) Counters() Counters {
	return h.counters
}
