// Package auth is PPP authentication: PAP (RFC 1334) and CHAP with MD5
// (RFC 1994), each as authenticator and as authenticatee, and pppd's
// secrets files (pap-secrets, chap-secrets).
//
// LCP negotiates which protocol each side uses (its Authentication-Protocol
// option, lcp.Negotiated's AuthPeer and AuthSelf); this package runs the
// protocols themselves in the Authenticate phase that follows LCP's Opened
// state (RFC 1661 section 3.5). Each direction is one Exchange, made by
// New: the peer authenticating itself to us (Authenticator) and we to the
// peer (Authenticatee), each with PAP or CHAP, so a link runs none, one or
// two of them.
//
// # Driving an exchange
//
// An Exchange is a state machine like ppp.Automaton: it holds no lock,
// starts no goroutine, reads no clock and does no I/O except reading the
// file of a secret written as "@/path". Its owner calls it on one
// goroutine, and it answers through the functions in Config, synchronously:
// Send for packets, Timer to arm or stop its one timer, Done for its
// outcome. This is how package link is meant to drive it, from its control
// loop, the goroutine that owns the LCP automaton:
//
//   - When LCP reaches Opened with lcp.Negotiated.AuthPeer or AuthSelf
//     set, the link enters ppp.PhaseAuthenticate instead of
//     ppp.PhaseNetwork and does not start IPCP yet. It makes one Exchange
//     per direction: New(proto, Authenticator, …) for AuthPeer and
//     New(proto, Authenticatee, …) for AuthSelf, proto being ppp.ProtoPAP
//     for lcp.AuthPAP and ppp.ProtoCHAP for lcp.AuthCHAPMD5. Config.Name
//     is pppd's name for the Authenticator and its user for the
//     Authenticatee (both the host name by default), Config.PeerName its
//     remotename; Config.Send is the link's sendControl, Config.Timer
//     resets a time.Timer of the exchange's own (one per exchange, as for
//     each automaton), Config.Done is a method of the link. Then the link
//     calls Start on each. Start may call Done at once (no secret): since
//     LCP's Up callback is still running then, the link defers the LCP
//     Close it decides on (its "later" queue), as for IPCP's failures.
//   - Every PAP or CHAP packet received while LCP is Opened goes to Input
//     of each exchange of that protocol (both, when PAP or CHAP runs both
//     ways): each takes the codes of its role and ignores the others. A
//     PAP or CHAP packet with no exchange of its protocol is dropped and
//     counted, not Protocol-Rejected (pppd passes it to its PAP or CHAP
//     code, which ignores it). In the Authenticate phase, packets of the
//     network protocols (IPCP, IPv4) are dropped (RFC 1661 section 3.5).
//   - When an exchange's timer fires, the control loop calls its Timeout.
//   - Done(Result) with Status Succeeded: when every exchange of the link
//     has succeeded, the link enters ppp.PhaseNetwork and opens IPCP, as
//     pppd's network_phase does. Result.PeerName is the name the peer
//     authenticated with, and, for the Authenticator, Result.Entry.Addresses
//     the addresses the secrets allow it (for IPCP to check later).
//   - Done(Result) with Status Failed: the link records Result.Err (an
//     *Error, the error Run returns) and closes LCP with Error.Reason() as
//     the Terminate-Request's text, as pppd's auth_peer_fail and
//     auth_withpeer_fail do. This can happen in the Network phase too: a
//     CHAP re-challenge (Config.RechallengeInterval) failed, or the peer
//     refused one of our answers to its own re-challenges.
//   - An LCP Protocol-Reject of PAP or CHAP goes to ProtocolRejected of the
//     exchanges of that protocol; a pending one fails.
//   - When LCP leaves Opened, the link calls Stop on each exchange and
//     drops them; a new LCP negotiation makes new ones.
//   - The link logs nothing for these packets: each exchange logs the
//     packets it sends and receives at debug level, in pppd's words, to
//     Config.Logger, and its outcome at info or warning level. Other code
//     that prints PAP or CHAP packets (the decode command, the foreign
//     peer's trace) uses AppendPacketText.
//
// The secrets come from ParseSecrets, once per file when the link is
// configured. Lookups read nothing but a secret's own file ("@/path"),
// at each authentication, as pppd does.
//
// # PAP
//
// The Authenticatee sends Authenticate-Requests (RFC 1334 section 2.2.1),
// a new Identifier each, every Config.RestartInterval (pppd's pap-restart,
// 3 s) until an Authenticate-Ack or -Nak answers one of them, or fails
// after Config.MaxTransmits requests (pppd's pap-max-authreq, 10). Its
// password is Config.Password or the secret of our name (Config.Name, the
// Peer-ID) for the peer's (Config.PeerName, or any server when that is
// empty, as pppd's get_pap_passwd does).
//
// The Authenticator waits Config.Timeout (pppd's pap-timeout, 30 s by
// default in pppd's upap.h; negative means no limit, as pppd's 0) for an
// Authenticate-Request, looks up the secret of the Peer-ID (client) for
// our name (server), and answers "Login ok" (Ack) or "Login incorrect"
// (Nak), as pppd's check_passwd does. It answers every later request with
// the same code and message. Unlike pppd, where an empty secret accepts
// any password (pppd(8), AUTHENTICATION, meant for its login option), an
// empty secret fails with SecretUnusable; and pppssh neither tries
// crypt(3) on the password (secrets stored encrypted, papcrypt) nor checks
// the system's password database (the secret "@login", which fails with
// SecretUnusable), and compares passwords octet for octet, without pppd's
// rewriting of unprintable characters.
//
// # CHAP with MD5
//
// The Authenticator sends a Challenge (RFC 1994 section 4.1): a value of
// 16 to 23 random octets from Config.Rand (pppd's chap-md5.c) and our
// name, with a random first Identifier. It sends the same packet every
// Config.RestartInterval (pppd's chap-restart, 3 s) until a Response with
// its Identifier arrives, or fails after Config.MaxTransmits (pppd's
// chap-max-challenge, 10). The Response must be MD5(Identifier, secret,
// challenge) (RFC 1994 section 2), the secret being that of the peer's
// name (client; Config.PeerName instead of the name in the Response when
// set, as pppd's remotename) for our name (server); the answer is Success
// "Access granted" or Failure "Access denied", sent again to a repeated
// Response. With Config.RechallengeInterval (pppd's chap-interval, 0 by
// default: never) it challenges the peer again, with a new Identifier and
// value, that long after each success; a re-challenge that fails (wrong
// response, no response, or the peer answering under another name) fails
// the exchange.
//
// The Authenticatee answers every Challenge with MD5(Identifier, secret,
// challenge) and our name, the secret being that of our name (client) for
// the peer's (server: Config.PeerName, else the Name in the Challenge), or
// Config.Password. The first Success or Failure must come within
// Config.Timeout (pppd's chap-timeout, 60 s). Only a Success or Failure
// with the Identifier of our last Response counts (RFC 1994 section 4.2);
// pppd does not check it. Without a secret it fails at once, where pppd
// would answer with an empty secret and a warning.
//
// Only MD5 (algorithm 5) is spoken; LCP refuses the others. A packet of
// another algorithm is handled as MD5 would be: an MS-CHAP Response fails
// as a wrong response, an MS-CHAP Challenge gets an MD5 Response.
//
// # Secrets
//
// ParseSecrets reads pppd's secrets file format; Secrets.Lookup picks an
// entry with pppd's precedence. A Secret never prints: String, GoString,
// Format and LogValue give "<hidden>", and no error of this package
// contains a secret or a password. AppendPacketText prints PAP and CHAP
// packets as pppd's debug log does, but always hides the PAP password, as
// pppd does unless given show-password.
//
// # References
//
//   - RFC 1334, PPP Authentication Protocols, section 2 (PAP).
//   - RFC 1994, PPP Challenge Handshake Authentication Protocol (CHAP).
//   - RFC 1321, The MD5 Message-Digest Algorithm.
//   - RFC 1661, The Point-to-Point Protocol, sections 3.5 (the
//     Authenticate phase) and 6.2 (Authentication-Protocol).
//   - pppd(8), sections AUTHENTICATION and OPTIONS; pppd's upap.c,
//     chap.c (chap-new.c in 2.4.9), chap-md5.c, auth.c (check_passwd,
//     get_secret, scan_authfile) and options.c (getword).
package auth
