// Package ipv6cp implements the IPv6 Control Protocol's options as a Handler
// for the shared automaton of package ppp: IPV6CP of RFC 5072 (protocol
// 0x8057, ppp.ProtoIPV6CP), negotiated with the packets and automaton of RFC
// 1661. Its decisions follow pppd's ipv6cp.c, so that a pppssh end and a
// pppd end agree on the same configurations.
//
// # Interface identifiers
//
// IPV6CP does not assign addresses. Each end asks the other to agree on its
// 64-bit interface identifier with the Interface-Identifier option (RFC 5072
// section 4.1); each end then forms its link-local address, fe80::/64
// followed by its identifier (RFC 4291 sections 2.5.1 and 2.5.6, RFC 5072
// section 5), and Negotiated.LocalAddr and PeerAddr return the two.
// Config.Local and Config.Remote are both optional, like the two halves of
// pppd's "ipv6 ::1,::2" argument, which ParseIdentifiers reads:
//
//   - We request Local, or, when it is unset, a random non-zero identifier
//     drawn from Config.Rand when the Handler is created, with the
//     universal/local bit cleared (RFC 4291 appendix A). A Configure-Nak
//     offering us another non-zero identifier, other than the peer's own,
//     is taken when Local is unset or AcceptLocal is set; otherwise we keep
//     requesting Local. A Nak with the zero identifier, or with the peer's
//     own, makes us draw a new random identifier when Local is unset.
//   - The peer's identifier is Nak'd with Remote when we have a Remote, it
//     differs, and AcceptRemote is not set. Otherwise the zero identifier
//     (the peer asks us to choose) and our own identifier (a collision)
//     are Nak'd with Remote, or with a fresh random identifier other than
//     ours when we have no Remote, and any other identifier is Acked.
//   - A peer that does not send its identifier while we have a Remote for
//     it is sent a Nak carrying Remote (RFC 1661 section 5.3), until one of
//     its requests would otherwise have been Acked; if it still does not
//     send one, it is taken to use Remote.
//   - A peer that rejects the option leaves us our own identifier, as in
//     pppd.
//
// With Config.UseIPAddr (pppd's ipv6cp-use-ipaddr), an unset Local or
// Remote is derived from the IPv4 address configured for that end: the
// address becomes the identifier's low 32 bits.
//
// When both ends insist on different identifiers, or both are configured
// with the same one, the automaton's Max-Failure counter turns the Naks
// into Rejects and the layer comes up without agreed identifiers. Up then
// reports Negotiated.Err, an *IdentifierError naming the identifier each
// side insisted on, instead of identifiers; Handler.Err returns the same
// error, and also the disagreement seen last if the automaton gives up
// before Opened. Up fails in the same way when the peer is left without an
// identifier (none configured and none sent, pppd's "Could not determine
// remote LL address"), or when both ends got the same one. The owner then
// closes the layer with that reason.
//
// # Differences from pppd and RFC 5072
//
// Where pppd's versions differ, the Handler follows the current pppd (2.5),
// whose enforcement of configured identifiers and ipv6cp-accept-local and
// ipv6cp-accept-remote work as documented, with two exceptions: a peer that
// never sends its identifier is taken to use Remote, as in pppd 2.4.9 and as
// package ipcp treats addresses, where pppd 2.5 closes the layer; and we
// append the option to a Nak of a request lacking it only with Remote,
// never with the zero identifier as pppd does, since RFC 1661 section 5.3
// requires a value we would accept. Our random identifier is drawn once
// per Handler rather than at every negotiation as pppd does, since RFC 5072
// asks for one that is stable across negotiations. RFC 5072 requires an
// end to Ack any non-zero identifier other than its own and to take the
// identifier a Nak suggests; configured identifiers without AcceptRemote
// and AcceptLocal deliberately override both, as in pppd.
//
// # Rejected options
//
// IPv6-Compression-Protocol (RFC 5072 section 4.2) is Rejected and never
// requested: IPv6 header compression (RFC 2507, RFC 3241) saves a few
// dozen octets per packet on slow serial lines, which an SSH stream is not,
// and keeps per-flow context that a lost or reordered packet corrupts.
// Unknown options, options of the wrong length and repeats of an option in
// one request are Rejected; a repeat is never Acknowledged.
//
// # Logging
//
// Handler implements ppp.OptionFormatter, printing options as pppd's debug
// log does: <addr fe80::0123:4567:89ab:cdef>, <compress 0x4f>.
//
// # References
//
//   - RFC 1661, The Point-to-Point Protocol (PPP)
//   - RFC 5072, IP Version 6 over PPP
//   - RFC 4291, IP Version 6 Addressing Architecture: section 2.5.1
//     (interface identifiers), appendix A (the universal/local bit)
package ipv6cp
