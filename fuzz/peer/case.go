package peer

import (
	"github.com/pppssh/pppssh/ppp"
)

// Values the cases send that no PPP implementation knows.
var (
	// unknownLCPOption and unknownIPCPOption use an unassigned option
	// type, with two octets of data.
	unknownLCPOption  = ppp.Option{Type: 0xf8, Data: []byte{0x70, 0x74}}
	unknownIPCPOption = ppp.Option{Type: 0xf8, Data: []byte{0x70, 0x74}}
	// unknownBoolOption is an unassigned option type without data.
	unknownBoolOption = ppp.Option{Type: 0xf9}
)

const (
	// unknownCode is an unassigned LCP and IPCP code.
	unknownCode ppp.Code = 0x3c
	// unknownProto is an unassigned network-layer protocol number (a
	// valid one: even high octet, odd low octet).
	unknownProto ppp.Protocol = 0x3c01
)

// Suite returns pppssh's conformance cases for a peer configured as cfg
// describes: the behaviours of RFC 1661 (the automaton, its timers and
// counters, packet formats and options), RFC 1662 (framing) and RFC 1332
// with RFC 1877 (IPCP), each checked on a line of its own. The Doc of
// each case says what it sends and what the peer must do.
func Suite(cfg SuiteConfig) []Case {
	s := &suite{cfg: cfg.withDefaults()}
	short := s.timeout(2)
	cases := []Case{
		// Framing, RFC 1662.
		{"hdlc/default-accm", "RFC 1662 §7.1", Must,
			"The peer's frames before LCP reaches Opened escape every control character (0x00-0x1f): the ACCM is 0xffffffff until negotiated.",
			short, s.defaultACCM},
		{"hdlc/accm", "RFC 1662 §7.1", Must,
			"With an ACCM negotiated (0x000a0000 by default), the peer escapes the characters it flags in every frame, checked on an Echo-Reply carrying all 32 control characters.",
			short, s.accm},
		{"hdlc/bad-fcs", "RFC 1662 §3.1", Must,
			"A Configure-Request whose FCS is wrong is discarded: the peer answers only the same request sent again with a good FCS.",
			short, s.badFCS},
		{"hdlc/aborted-frame", "RFC 1662 §4.3", Must,
			"A Configure-Request ended by the abort sequence (Control Escape, Flag) is discarded, even with a good FCS before it.",
			short, s.abortedFrame},
		{"hdlc/truncated-frame", "RFC 1662 §4.3", Must,
			"A frame cut off half-way, its rest never sent, is discarded; the next frame, behind its own Flag, is answered.",
			short, s.truncatedFrame},

		// Header compression, RFC 1661 sections 6.5 and 6.6.
		{"lcp/acfc-pfc-lcp", "RFC 1661 §6.5, §6.6", Must,
			"With PFC and ACFC agreed, every LCP packet (Echo-Reply, Code-Reject and Terminate-Ack included) still carries the Address, Control and two-octet Protocol fields.",
			short, s.acfcPFCLCP},
		{"lcp/acfc-pfc-unnegotiated", "RFC 1661 §6.5, §6.6", Must,
			"Without PFC or ACFC offered, no frame of the peer (LCP, IPCP) compresses its header.",
			short, s.acfcPFCUnnegotiated},

		// The restart timer and counters, RFC 1661 section 4.6.
		{"lcp/restart-timer", "RFC 1661 §4.6", Must,
			"Left without an answer, the peer retransmits its Configure-Request, at intervals near its restart timer (--restart; a SHOULD finding when far off).",
			short, s.restartTimer},
		{"lcp/max-configure", "RFC 1661 §4.6", Must,
			"Left without an answer, the peer gives up after Max-Configure Configure-Requests (10, or --max-configure) and goes quiet, closes the line or sends a Terminate-Request; a count other than the configured one is a SHOULD finding.",
			s.timeout(2 * s.cfg.MaxConfigure), s.maxConfigure},
		{"lcp/max-terminate", "RFC 1661 §4.6", Must,
			"Made to terminate (a Protocol-Reject of LCP) and left without a Terminate-Ack, the peer retransmits its Terminate-Request Max-Terminate times (2, or --max-terminate), then stops; another count is a SHOULD finding.",
			s.timeout(2 * s.cfg.MaxTerminate), s.maxTerminate},
		{"lcp/max-failure", "RFC 1661 §4.6", Must,
			"Sent Configure-Requests for MRU 64 again and again, the peer Naks them Max-Failure times (5, or --max-failure), then turns its Nak into a Configure-Reject; another count is a SHOULD finding, never turning is a failure.",
			short, s.maxFailure},

		// Identifiers and replies, RFC 1661 sections 5.1 to 5.4.
		{"lcp/stale-ack", "RFC 1661 §5.2", Must,
			"A Configure-Ack whose Identifier is not that of the peer's request is discarded: an Echo-Request sent right after it is not answered; the correct Ack then opens LCP.",
			short, s.staleAck},
		{"lcp/ack-altered", "RFC 1661 §5.2", Must,
			"A Configure-Ack with the right Identifier whose options differ from the request is discarded, checked as in lcp/stale-ack.",
			short, s.ackAltered},
		{"lcp/stale-reject", "RFC 1661 §5.4", Must,
			"A Configure-Reject with a wrong Identifier is discarded: the peer's next Configure-Request still holds the option it named.",
			short, s.staleReject},
		{"lcp/new-id", "RFC 1661 §5.1, §5.4", Must,
			"After a valid Configure-Reject of one of its options, the peer's next Configure-Request leaves the option out and carries a new Identifier.",
			short, s.newID},
		{"lcp/ack-repeats-request", "RFC 1661 §5.2", Must,
			"The peer's Configure-Ack of our request (MRU, ACCM, Magic-Number, PFC, ACFC) carries its Identifier and repeats its options octet for octet.",
			short, s.ackRepeats},
		{"lcp/duplicate-request", "RFC 1661 §5.1", Must,
			"Two identical Configure-Requests sent back to back are each answered.",
			short, s.duplicateRequest},
		{"lcp/unknown-option", "RFC 1661 §5.4", Must,
			"A Configure-Request holding only an unknown option is answered with a Configure-Reject holding exactly that option.",
			short, s.unknownOption},
		{"lcp/nak-reject-valid", "RFC 1661 §5.3, §5.4", Must,
			"A request mixing unknown options with MRU 64 is first Rejected (only options we sent, unaltered, in order), then Nak'd (values the peer then acknowledges, no boolean option Nak'd), then acknowledged.",
			short, s.nakRejectValid},
		{"lcp/renegotiate", "RFC 1661 §4.1", Must,
			"A Configure-Request in the Opened state makes the peer renegotiate: it answers it and sends a Configure-Request of its own (tld, scr, sca).",
			short, s.renegotiate},

		// Codes and protocols, RFC 1661 sections 5.6, 5.7 and 3.
		{"lcp/unknown-code", "RFC 1661 §5.6", Must,
			"An LCP packet with an unknown code is answered with a Code-Reject holding the whole packet, with a new Identifier for each Code-Reject.",
			short, s.unknownCode},
		{"lcp/code-reject-fatal", "RFC 1661 §5.6", Should,
			"A Code-Reject of Configure-Request, a code LCP cannot do without, makes the Opened peer drop the link (Terminate-Request: the RXJ- event).",
			short, s.codeRejectFatal},
		{"lcp/code-reject-permitted", "RFC 1661 §5.6", Should,
			"A Code-Reject of an extension code (Identification, RFC 1570) leaves the peer Opened (the RXJ+ event).",
			short, s.codeRejectPermitted},
		{"lcp/protocol-reject", "RFC 1661 §5.7", Must,
			"A frame of an unknown protocol in the Network phase is answered with a Protocol-Reject holding the protocol and the information, a new Identifier for each.",
			short, s.protocolReject},
		{"lcp/protocol-reject-truncated", "RFC 1661 §5.7", Must,
			"With a small MRU agreed (296, or --mru), the Protocol-Reject of a 1200-octet frame is cut to fit that MRU and starts with the rejected information.",
			short, s.protocolRejectTruncated},
		{"lcp/protocol-reject-ipcp", "RFC 1661 §5.7", Must,
			"After a Protocol-Reject of IPCP the peer sends no more IPCP packets.",
			s.timeout(3), s.protocolRejectIPCP},
		{"lcp/non-lcp-before-opened", "RFC 1661 §3.4", Must,
			"Before LCP is Opened, IPCP, IPv4 and unknown-protocol frames are silently discarded: no IPCP reply, no Protocol-Reject.",
			short, s.nonLCPBeforeOpened},

		// MRU, Echo, Discard and the magic number, RFC 1661 sections 5.8,
		// 5.9, 6.1 and 6.4.
		{"lcp/mru", "RFC 1661 §5, §6.1", Must,
			"With a small MRU agreed (296, or --mru), no frame of the peer exceeds it, the Echo-Reply to a 1200-octet Echo-Request included.",
			short, s.mru},
		{"lcp/echo-reply", "RFC 1661 §5.8, §6.4", Must,
			"An Echo-Request in the Opened state is answered with an Echo-Reply with its Identifier and the peer's own negotiated magic number (zero without one).",
			short, s.echoReply},
		{"lcp/echo-before-opened", "RFC 1661 §5.8", Must,
			"An Echo-Request before LCP is Opened gets no Echo-Reply: Echo packets are only sent in the Opened state.",
			short, s.echoBeforeOpened},
		{"lcp/discard-request", "RFC 1661 §5.9", Must,
			"A Discard-Request is silently discarded: no Code-Reject, no reply.",
			short, s.discardRequest},
		{"lcp/magic-collision", "RFC 1661 §6.4", Must,
			"A Configure-Request carrying the peer's own magic number is answered with a Configure-Nak suggesting a different one, never an Ack or a Reject.",
			short, s.magicCollision},
		{"lcp/loopback", "RFC 1661 §6.4", Should,
			"On a looped-back line (every frame it sends comes back) the peer never reaches Opened and gives up: a Terminate-Request, silence or a closed line.",
			s.timeout(s.cfg.MaxConfigure + 2), s.loopback},

		// Termination, RFC 1661 sections 5.5 and 4.1.
		{"lcp/terminate-opened", "RFC 1661 §5.5", Must,
			"A Terminate-Request in the Opened state is answered with a Terminate-Ack with its Identifier.",
			short, s.terminateOpened},
		{"lcp/terminate-negotiating", "RFC 1661 §5.5, §4.1", Must,
			"A Terminate-Request during negotiation is answered with a Terminate-Ack, and negotiation goes on to Opened.",
			short, s.terminateNegotiating},
		{"lcp/unsolicited-termack-negotiating", "RFC 1661 §4.1", Should,
			"An unelicited Terminate-Ack during negotiation is ignored: the peer answers the next Configure-Request and reaches Opened.",
			short, s.unsolicitedTermAckNegotiating},
		{"lcp/unsolicited-termack-opened", "RFC 1661 §4.1, §5.5", Should,
			"An unelicited Terminate-Ack in the Opened state makes the peer renegotiate (tld, scr): it sends a Configure-Request.",
			short, s.unsolicitedTermAckOpened},
		{"lcp/unsolicited-ack-opened", "RFC 1661 §5.2", Must,
			"In the Opened state, a Configure-Ack with an Identifier the peer never used is discarded: the peer stays Opened.",
			short, s.unsolicitedAckOpened},
		{"lcp/unsolicited-nak-opened", "RFC 1661 §5.3", Must,
			"In the Opened state, a Configure-Nak with an Identifier the peer never used is discarded: the peer stays Opened.",
			short, s.unsolicitedNakOpened},

		// Packet lengths, RFC 1661 sections 5 and 6.
		{"lcp/length-short", "RFC 1661 §5", Must,
			"A Configure-Request whose Length field is below 4 is silently discarded.",
			short, s.lengthShort},
		{"lcp/length-long", "RFC 1661 §5", Must,
			"A Configure-Request whose Length field runs past the end of the frame is silently discarded.",
			short, s.lengthLong},
		{"lcp/padding", "RFC 1661 §5", Must,
			"Octets after the Length field (padding that looks like an MRU option) are ignored: the request is answered as if they were absent.",
			short, s.padding},
		{"lcp/bad-option-length", "RFC 1661 §5.4, §6", Should,
			"A Configure-Request with an option whose Length runs past the packet is never acknowledged: discarded or rejected, and the peer keeps answering.",
			short, s.badOptionLength},

		// IPCP, RFC 1332 and RFC 1877.
		{"ipcp/open", "RFC 1332 §3.3, RFC 1661 §5.2", Must,
			"IPCP reaches Opened with IP-Address options both ways; the peer's Acks repeat our requests.",
			short, s.ipcpOpen},
		{"ipcp/address-nak", "RFC 1332 §3.3", Should,
			"A request for IP-Address 0.0.0.0 (give me an address) is Nak'd with a usable address, which the peer then acknowledges; a peer with no address to give rejects it (not applicable).",
			short, s.ipcpAddressNak},
		{"ipcp/dns", "RFC 1877 §1", Should,
			"Requests for the primary and secondary DNS and NBNS servers with 0.0.0.0 are each Nak'd with an address or rejected, never acknowledged as 0.0.0.0.",
			short, s.ipcpDNS},
		{"ipcp/unknown-option", "RFC 1661 §5.4", Must,
			"An IPCP Configure-Request with an unknown option is answered with a Configure-Reject holding exactly that option.",
			short, s.ipcpUnknownOption},
		{"ipcp/unknown-code", "RFC 1661 §5.6", Must,
			"An IPCP packet with an unknown code is answered with an IPCP Code-Reject holding the whole packet.",
			short, s.ipcpUnknownCode},
		{"ipcp/terminate", "RFC 1661 §5.5", Must,
			"An IPCP Terminate-Request in the Opened state is answered with an IPCP Terminate-Ack with its Identifier.",
			short, s.ipcpTerminate},
	}
	return cases
}
