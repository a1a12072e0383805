package ppp

import (
	"log/slog"
	"strconv"
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

var stateNames = [...]string{
	StateInitial:  "Initial",
	StateStarting: "Starting",
	StateClosed:   "Closed",
	StateStopped:  "Stopped",
	StateClosing:  "Closing",
	StateStopping: "Stopping",
	StateReqSent:  "Req-Sent",
	StateAckRcvd:  "Ack-Rcvd",
	StateAckSent:  "Ack-Sent",
	StateOpened:   "Opened",
}

// String returns the state's name as RFC 1661 writes it ("Req-Sent"), or
// "State(n)" for a value outside the ten states.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Defaults of the restart timer and counters (RFC 1661 section 4.6), and of
// the largest control packet sent (RFC 1661 section 6.1: the default MRU).
const (
	DefaultRestartInterval = 3 * time.Second
	DefaultMaxTerminate    = 2
	DefaultMaxConfigure    = 10
	DefaultMaxFailure      = 5
	DefaultMRU             = 1500
)

// Config configures an Automaton. Zero fields take the defaults above.
type Config struct {
	// Protocol is the control protocol's number (ProtoLCP, ProtoIPCP, …),
	// used for logging and errors.
	Protocol Protocol
	// Handler supplies the protocol's options. It may also implement
	// LayerHandler, CodeHandler, OptionFormatter and CodeFormatter. A nil
	// Handler requests no options and rejects every option the peer
	// requests.
	Handler Handler
	// Send transmits one control packet (Code, Identifier, Length, Data) of
	// this protocol; the caller adds the PPP header and framing. It is
	// called synchronously from the automaton's methods and must not keep
	// pkt. Nil discards the packets.
	Send func(pkt []byte)
	// Timer arms the restart timer to fire after d, replacing any earlier
	// arming, or stops it when d is 0. When it fires, the owner calls
	// Timeout. It is called synchronously from the automaton's methods.
	// Nil means the owner never calls Timeout.
	Timer func(d time.Duration)
	// MaxSend returns the length of the longest control packet, from Code
	// to the end of Data, that may be sent: the peer's MRU (RFC 1661
	// section 6.1). It is called before every send, so it may follow what
	// LCP negotiates. Longer packets are cut to fit: a Configure-Request at
	// an option boundary, anything else (a Code-Reject carrying the
	// rejected packet, a long Terminate-Request reason) at that length, as
	// pppd does. Nil means DefaultMRU, that is 1496 octets of Data. Results
	// are held between HeaderLen and 65535.
	MaxSend func() int

	RestartInterval time.Duration // Restart timer period; pppd's lcp-restart
	MaxTerminate    int           // Terminate-Requests sent before giving up
	MaxConfigure    int           // Configure-Requests sent without answer before giving up
	MaxFailure      int           // Configure-Naks sent before Naks turn into Rejects

	// Passive makes a timed-out negotiation wait in Stopped for the peer
	// instead of giving up: the TO- event in Req-Sent, Ack-Rcvd and
	// Ack-Sent goes to Stopped without This-Layer-Finished (the [p] option
	// of RFC 1661 section 4.1, pppd's passive option).
	Passive bool
	// Silent makes the automaton wait for the peer's first Configure-Request
	// before sending its own: Open with the lower layer up, or Up after
	// Open, goes to Stopped instead of Req-Sent (pppd's silent option).
	Silent bool
	// Restart makes an Open event in Stopped, Closing, Stopping or Opened
	// renegotiate the link by a Down event followed by an Up event (the [r]
	// option of RFC 1661 section 4.1, pppd's OPT_RESTART). Without it such
	// an Open changes nothing but Closing to Stopping, as the table says.
	Restart bool

	// Logger receives packet traces at debug level, in pppd's format
	// ("sent [LCP ConfReq id=0x1 <mru 1500>]"), and state changes. Nil
	// discards them.
	Logger *slog.Logger
}

// Stats counts what an Automaton did with the packets and events it was
// given. Every packet dropped is counted in exactly one of the drop fields.
type Stats struct {
	Sent     uint64 // control packets sent
	Received uint64 // control packets given to Input

	Malformed  uint64 // dropped: bad Length, or options that break RFC 1661 section 6
	Unexpected uint64 // events the state table marks impossible ("-"), packets in Initial and Starting, stale Timeouts
	WrongID    uint64 // Configure-Ack/Nak/Reject dropped: identifier not that of an unanswered request
	BadAck     uint64 // Configure-Ack dropped: options differ from the request sent
	BadNakRej  uint64 // Configure-Nak/Reject dropped: the Handler refused it
	Futile     uint64 // Configure-Nak/Reject dropped: it left our request unchanged once too often (see Automaton)

	Retransmits     uint64 // Configure- and Terminate-Requests sent again on TO+
	Truncated       uint64 // packets cut to Config.MaxSend
	Crossed         uint64 // valid Configure-Ack/Nak/Reject in Ack-Rcvd or Opened (RFC 1661 [x])
	CodeRejectsSent uint64 // Code-Rejects sent (RUC)
	CodeRejectsRcvd uint64 // Code-Rejects received (RXJ+ and RXJ-)
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
