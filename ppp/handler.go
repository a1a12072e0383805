package ppp

// Handler is the protocol-specific half of a control protocol (LCP, IPCP,
// IPV6CP): it builds our Configure-Request, learns from the peer's
// Ack/Nak/Reject of it, and judges the peer's requests. The Automaton owns the
// states, identifiers, counters and timer; a Handler only knows options.
// It plays the role of pppd's fsm_callbacks (resetci, addci, ackci, nakci,
// rejci, reqci).
//
// Every method is called by the Automaton, on the goroutine that drives it.
// No method may keep a slice it is given beyond the call.
type Handler interface {
	// Reset starts a fresh negotiation: the options we want are copied from
	// the configuration and everything learnt from the peer is forgotten
	// (pppd's resetci). The Automaton calls it just before the first
	// Configure-Request of a negotiation: when it leaves Starting, Closed,
	// Stopped or Opened towards Req-Sent or Ack-Sent. When it leaves Opened,
	// LayerHandler.Down has been called first.
	Reset()

	// AppendRequest appends the options of our next Configure-Request to b
	// (pppd's addci) and returns the extended slice. It must append the same
	// bytes until Reset, Naked or Rejected changes what we want, and must
	// change nothing itself: the Automaton also calls it to see whether a
	// Nak or Reject changed the request.
	AppendRequest(b []byte) []byte

	// Acked records that the peer acknowledged our request, whose options
	// are opts. The Automaton has already checked that opts repeats the
	// request exactly; Acked commits the values ("got" options).
	Acked(opts []byte)

	// Naked adjusts what we will request next from the peer's Configure-Nak
	// options (pppd's nakci). It returns an error, and changes nothing, when
	// the Nak is invalid (an option we did not send out of order is allowed
	// by RFC 1661 section 5.3 as a hint; a malformed one is not); the
	// Automaton then discards the packet. rejectIfDisagree is set once
	// Max-Failure Naks have been received: the handler should stop asking
	// for what the peer keeps refusing.
	Naked(opts []byte, rejectIfDisagree bool) error

	// Rejected stops requesting the options in the peer's Configure-Reject
	// (pppd's rejci). It returns an error, and changes nothing, when opts
	// is not a subset of our last request in the same order, or is
	// malformed; the Automaton then discards the packet.
	Rejected(opts []byte) error

	// CheckRequest judges the peer's Configure-Request options opts
	// (pppd's reqci). It appends the Data of the reply to reply (for an Ack,
	// opts unchanged; for a Nak, the options it objects to with acceptable
	// values; for a Reject, the unacceptable options verbatim) and returns
	// the reply's code and the extended slice. When rejectIfDisagree is set
	// (Max-Failure reached) it must Reject what it would otherwise Nak.
	// opts has been checked with CheckOptions. On Ack, the handler records
	// the peer's values ("his" options) for use once the layer is up.
	CheckRequest(reply, opts []byte, rejectIfDisagree bool) (Code, []byte)
}

// LayerHandler is implemented by a Handler that wants the This-Layer actions
// of RFC 1661 section 4.4: tlu (Up), tld (Down), tls (Started) and tlf
// (Finished). The Automaton calls them on its own goroutine, after its state
// has changed. They may call any method of other automata, and State, Err,
// Stats and Send of the one calling them, but not its event methods (Up,
// Down, Open, Close, Timeout, Input, ProtocolRejected): the transition that
// called them may not be finished.
type LayerHandler interface {
	Up()       // tlu: the automaton entered Opened
	Down()     // tld: the automaton left Opened
	Started()  // tls: the lower layer is needed
	Finished() // tlf: the lower layer is no longer needed
}

// CodeHandler is implemented by a Handler whose protocol has codes beyond
// the seven of RFC 1661 section 5 (LCP's Protocol-Reject, Echo, Discard,
// Identification, Time-Remaining). HandleCode is called by the Automaton for
// every packet with a code above 7 received in a state other than Initial
// and Starting, with the automaton so the handler can read its State and
// Send a reply (the RXR event: ser in Opened, nothing elsewhere). It may
// also call that automaton's event methods (ProtocolRejected for a
// Protocol-Reject of this very protocol, Close). It returns false for a code
// it does not know; the Automaton then answers with a Code-Reject (RUC).
// pkt stays valid only during the call.
type CodeHandler interface {
	HandleCode(a *Automaton, pkt Packet) bool
}

// OptionFormatter is implemented by a Handler that can print an option the
// way pppd's debug log does, without the angle brackets ("mru 1500",
// "magic 0x5e3f2a10", "addr 192.0.2.1", with any octets it has no words for
// after them, as AppendHex writes them: "compress VJ 0f 01"). It appends to
// b and returns the extended slice; appending nothing makes the option print
// as pppd prints one it does not know, every octet in hexadecimal. It is
// used only for logging, and must accept any option, even one with a wrong
// length.
type OptionFormatter interface {
	AppendOptionText(b []byte, opt Option) []byte
}

// CodeFormatter is implemented by a Handler whose protocol has codes beyond
// the seven shared ones, to print their packets as pppd does after the
// identifier and a space (for example "magic=0x3d1981f" for an
// Echo-Request, followed by any further octets as AppendHex writes them).
// It is called only for codes above 7. It appends to b and returns the
// extended slice; appending nothing makes the Data print in hexadecimal. It
// is used only for logging.
type CodeFormatter interface {
	AppendCodeText(b []byte, pkt Packet) []byte
}
