// Package lcp is the Link Control Protocol of PPP: the options and extra
// codes that LCP adds to the shared negotiation automaton of package ppp.
//
// A Handler implements ppp.Handler (and ppp.LayerHandler, ppp.CodeHandler,
// ppp.OptionFormatter, ppp.CodeFormatter). It keeps four Options values, as
// pppd's lcp.c does: want (what we ask for), allow (what we let the peer ask
// for), got (what the peer acknowledged of our request) and his (what we
// acknowledged of the peer's request). When the automaton reaches Opened the
// handler reports a Negotiated value through Config.Up; the link applies it
// to its framing.
//
// # Configuration options
//
// Supported (RFC 1661 section 6, RFC 1570 section 2.1):
//
//   - Maximum-Receive-Unit (1). Requested only when Want.MRU differs from
//     the default 1500. The peer's MRU is accepted from MinMRU (128, pppd's
//     MINMRU) up to Allow.MRU and Nak'd with the nearest bound otherwise.
//   - Async-Control-Character-Map (2), RFC 1662 section 7.1. Requested with
//     Want.ACCM (0 by default: an SSH byte stream is 8-bit clean). The
//     peer's map is accepted when it includes Allow.ACCM.
//   - Authentication-Protocol (3): PAP (0xc023) and CHAP with MD5
//     (0xc223, algorithm 5). We ask the peer to authenticate only when
//     Want.NegAuth is set; we agree to authenticate ourselves only with the
//     methods in Allow.Auth, Nak'ing with one of them otherwise, and Reject
//     the option when Allow.NegAuth is off. The authentication protocols
//     themselves run above this package.
//   - Magic-Number (5), RFC 1661 section 6.4. A zero or colliding magic is
//     Nak'd with a fresh random one, even once Max-Failure is reached, and
//     collisions are counted to detect a looped-back line.
//   - Protocol-Field-Compression (7) and
//     Address-and-Control-Field-Compression (8).
//   - FCS-Alternatives (9), RFC 1570 section 2.1, only when the
//     configuration enables it: two pppssh ends agree on the 32-bit FCS.
//     pppd does not know option 9 and rejects it; the link then keeps the
//     16-bit FCS.
//
// Rejected: Quality-Protocol (4), since pppssh sends no Link Quality
// Reports, and every other option (callback, multilink, and so on), since
// pppssh implements none of them. A boolean option carrying data and any
// option with a length its type does not allow are rejected as well, as
// pppd does. A repeated option is rejected (never acknowledged twice).
//
// # Extra codes
//
// LCP codes beyond the seven shared ones (RFC 1661 section 5.7 to 5.9,
// RFC 1570 section 1):
//
//   - Protocol-Reject (8): passed to Config.ProtocolReject in Opened, so the
//     link can stop the rejected protocol (RXJ-); dropped otherwise.
//   - Echo-Request (9): answered in Opened with our magic number.
//   - Echo-Reply (10): matched against our outstanding Echo-Requests (see
//     EchoTimer) to measure the round-trip time and keep the link alive.
//   - Discard-Request (11): counted and dropped.
//   - Identification (12) and Time-Remaining (13): logged at info level.
//
// Any other code is left to the automaton, which answers with a
// Code-Reject.
//
// A Configure-Request whose magic equals ours, a Configure-Nak of our
// magic, or a Link-Maintenance packet carrying our own magic suggests a
// looped-back line (RFC 1661 section 6.4). After Config.LoopbackFail of one
// kind Looped reports true; the link's owner checks it after each packet
// and closes LCP with LoopedBackReason. Likewise EchoTimer reports a peer
// that stopped answering Echo-Requests.
//
// # References
//
//   - RFC 1661, The Point-to-Point Protocol (PPP), sections 5 and 6.
//   - RFC 1662, PPP in HDLC-like Framing, section 7.1 (ACCM).
//   - RFC 1570, PPP LCP Extensions: Identification, Time-Remaining,
//     FCS-Alternatives.
//   - RFC 1334 (PAP) and RFC 1994 (CHAP) for the authentication protocol
//     numbers.
package lcp
