package ppp

import (
	"log/slog"
	"time"
)

// State is one of the ten states of the option negotiation automaton
// (RFC 1661 section 4.2).
type State uint8

// The automaton's states, numbered as in RFC 1661 section 4.1.
const (
	StateInitial  State = iota // lower layer down, no Open
	StateStarting              // lower layer down, Open
	StateClosed                // lower layer up, no Open
	StateStopped               // lower layer up, Open, negotiation ended
	StateClosing               // Terminate-Request sent after Close
	StateStopping              // Terminate-Request sent, Open
	StateReqSent               // Configure-Request sent
	StateAckRcvd               // Configure-Ack received
	StateAckSent               // Configure-Ack sent
	StateOpened                // layer up
)

// Defaults of the restart timer and counters (RFC 1661 section 4.6).
const (
	DefaultRestartInterval = 3 * time.Second
	DefaultMaxTerminate    = 2
	DefaultMaxConfigure    = 10
	DefaultMaxFailure      = 5
)

// Config configures an Automaton. Zero fields take the defaults above.
type Config struct {
	// Protocol is the control protocol's number (ProtoLCP, ProtoIPCP, …),
	// used for logging and errors.
	Protocol Protocol
	// Handler supplies the protocol's options. It may also implement
	// LayerHandler, CodeHandler, OptionFormatter and CodeFormatter.
	Handler Handler
	// Send transmits one control packet (Code, Identifier, Length, Data) of
	// this protocol; the caller adds the PPP header and framing. It is
	// called synchronously from the automaton's methods and must not keep
	// pkt.
	Send func(pkt []byte)
	// Timer arms the restart timer to fire after d, replacing any earlier
	// arming, or stops it when d is 0. When it fires, the owner calls
	// Timeout. It is called synchronously from the automaton's methods.
	Timer func(d time.Duration)

	RestartInterval time.Duration // Restart timer period; pppd's lcp-restart
	MaxTerminate    int           // Terminate-Requests sent before giving up
	MaxConfigure    int           // Configure-Requests sent without answer before giving up
	MaxFailure      int           // Configure-Naks sent before Naks turn into Rejects

	// Passive makes a timed-out negotiation wait in Stopped for the peer
	// instead of giving up (pppd's passive option).
	Passive bool
	// Silent makes the automaton wait for the peer's first Configure-Request
	// before sending its own (pppd's silent option).
	Silent bool

	// Logger receives packet traces at debug level, in pppd's format
	// ("sent [LCP ConfReq id=0x1 <mru 1500>]"), and state changes. Nil
	// discards them.
	Logger *slog.Logger
}

// NegotiationError says why a control protocol finished without or after
// reaching Opened: the peer refused our options, stopped answering, or
// terminated the link.
type NegotiationError struct {
	Protocol Protocol // the control protocol
	State    State    // the state in which it gave up
	Reason   string   // what happened, for people
}

// Error returns a message such as
// "ppp: LCP: no answer to 10 Configure-Requests (state Req-Sent)".
func (e *NegotiationError) Error() string {
	return "ppp: " + e.Protocol.String() + ": " + e.Reason + " (state " + e.State.String() + ")"
}
