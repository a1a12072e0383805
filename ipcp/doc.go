// Package ipcp implements the IP Control Protocol's options as a Handler for
// the shared automaton of package ppp: IPCP of RFC 1332 with the name server
// options of RFC 1877, negotiated with the packets and automaton of RFC 1661.
// Its decisions follow pppd's ipcp.c, so that a pppssh end and a pppd end
// agree on the same configurations.
//
// # Addresses
//
// Each end asks for its own address with the IP-Address option (RFC 1332
// section 3.3). Config.Local and Config.Remote are both optional, like the
// two halves of pppd's "192.0.2.1:192.0.2.2" argument:
//
//   - We request Local, or 0.0.0.0 when it is unset. A Configure-Nak
//     offering us another address is taken when Local is unset or
//     AcceptLocal is set; otherwise we keep requesting Local.
//   - The peer's requested address is Acked if it equals Remote, or if we
//     have no Remote or AcceptRemote is set. Otherwise it is Nak'd with
//     Remote. A request for 0.0.0.0 (the peer asks us to choose), for an
//     address that is not unicast, or for our own address is Nak'd with
//     Remote, or Rejected when we have no Remote to give.
//   - A peer that does not request an address while we have a Remote for it
//     is sent a Nak carrying Remote (RFC 1332: the option SHOULD be appended),
//     until one of its requests would otherwise have been Acked; if it still
//     does not ask, it is taken to use Remote.
//
// When both ends insist on different addresses, the automaton's Max-Failure
// counter turns the Naks into Rejects and the layer comes up without an
// agreed address. Up then reports Negotiated.Err, an *AddressError naming
// the address each side insisted on, instead of addresses; Handler.Err
// returns the same error, and also the disagreement seen last if the
// automaton gives up before Opened. Up fails in the same way when an end is
// left without a usable address (pppd's "Could not determine local IP
// address"), when the peer rejects our configured address, or when both ends
// got the same one. The owner then closes the layer with that reason.
//
// # Name servers
//
// The Primary- and Secondary-DNS and -NBNS options of RFC 1877 are answered
// from Config.DNS and Config.NBNS (pppd's ms-dns and ms-wins): the configured
// server is Acked, any other value (typically 0.0.0.0, a request) is Nak'd
// with it, and the option is Rejected when nothing is configured. With
// Config.UsePeerDNS (pppd's usepeerdns) we request both DNS options with
// 0.0.0.0, take the values the peer Naks, and stop asking for those it
// rejects.
//
// # Rejected options
//
// IP-Compression-Protocol (RFC 1332 section 3.2) is Rejected and never
// requested: Van Jacobson header compression saves a few octets per packet
// on slow serial lines, which an SSH stream is not, and needs state that a
// lost packet corrupts. IP-Addresses (RFC 1332 section 3.1) is deprecated in
// favour of IP-Address and Rejected. Unknown options, options of the wrong
// length and repeats of an option in one request are Rejected; a repeat is
// never Acknowledged.
//
// # Logging
//
// Handler implements ppp.OptionFormatter, printing options as pppd's debug
// log does: <addr 192.0.2.1>, <compress VJ 0f 01>, <ms-dns1 192.0.2.53>.
//
// # References
//
//   - RFC 1661, The Point-to-Point Protocol (PPP)
//   - RFC 1332, The PPP Internet Protocol Control Protocol (IPCP)
//   - RFC 1877, PPP Internet Protocol Control Protocol Extensions for Name
//     Server Addresses
package ipcp
