// Package ppp holds what every PPP control protocol shares: protocol
// numbers, the PPP header, the Code/Identifier/Length packet format and its
// options, and the option negotiation automaton that LCP, IPCP and IPV6CP
// each run with their own Handler.
//
// The automaton follows RFC 1661 section 4 exactly: the ten states of
// section 4.2, the sixteen events of section 4.3, the actions of section 4.4
// and the restart timer and counters of section 4.6, with the packet rules of
// section 5 (Identifiers, Configure-Ack repeating the request, Code-Reject of
// unknown codes). It does no I/O and holds no lock: the goroutine that owns a
// link calls its event methods and gets packets and timer requests back
// through the functions in Config.
//
// The state transition table below is the one of RFC 1661 section 4.1.
// States run across, events down; each cell reads actions/new-state, "-"
// marks an event that cannot happen in that state (the automaton counts and
// ignores it), and a letter after the state refers to a note.
//
//	      | State
//	      |    0         1         2         3         4         5
//	Events| Initial   Starting  Closed    Stopped   Closing   Stopping
//	------+-----------------------------------------------------------
//	 Up   |    2     irc,scr/6     -         -         -         -
//	 Down |    -         -         0       tls/1       0         1
//	 Open |  tls/1       1     irc,scr/6     3r        5r        5r
//	 Close|    0       tlf/0       2         2         4         4
//	      |
//	  TO+ |    -         -         -         -       str/4     str/5
//	  TO- |    -         -         -         -       tlf/2     tlf/3
//	      |
//	 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5
//	 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5
//	 RCA  |    -         -       sta/2     sta/3       4         5
//	 RCN  |    -         -       sta/2     sta/3       4         5
//	      |
//	 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5
//	 RTA  |    -         -         2         3       tlf/2     tlf/3
//	      |
//	 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5
//	 RXJ+ |    -         -         2         3         4         5
//	 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3
//	      |
//	 RXR  |    -         -         2         3         4         5
//
//	      | State
//	      |    6         7         8           9
//	Events| Req-Sent  Ack-Rcvd  Ack-Sent    Opened
//	------+-----------------------------------------
//	 Up   |    -         -         -           -
//	 Down |    1         1         1         tld/1
//	 Open |    6         7         8           9r
//	 Close|irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
//	      |
//	  TO+ |  scr/6     scr/6     scr/8         -
//	  TO- |  tlf/3p    tlf/3p    tlf/3p        -
//	      |
//	 RCR+ |  sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
//	 RCR- |  scn/6     scn/7     scn/6   tld,scr,scn/6
//	 RCA  |  irc/7     scr/6x  irc,tlu/9   tld,scr/6x
//	 RCN  |irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
//	      |
//	 RTR  |  sta/6     sta/6     sta/6   tld,zrc,sta/5
//	 RTA  |    6         6         8       tld,scr/6
//	      |
//	 RUC  |  scj/6     scj/7     scj/8       scj/9
//	 RXJ+ |    6         6         8           9
//	 RXJ- |  tlf/3     tlf/3     tlf/3   tld,irc,str/5
//	      |
//	 RXR  |    6         7         8         ser/9
//
// Events: Up and Down (the lower layer), Open and Close (the administrator),
// TO+ and TO- (the restart timer fired with the counter above zero, or
// expired), RCR+ and RCR- (a Configure-Request we can Ack, or must Nak or
// Reject), RCA (Configure-Ack), RCN (Configure-Nak or Configure-Reject), RTR
// and RTA (Terminate-Request, Terminate-Ack), RUC (unknown code), RXJ+ and
// RXJ- (Code-Reject or Protocol-Reject of something we can do without, or of
// something we cannot), RXR (Echo-Request, Echo-Reply, Discard-Request).
//
// Actions: tlu, tld, tls, tlf (This-Layer-Up, -Down, -Started, -Finished:
// LayerHandler's Up, Down, Started, Finished), irc and zrc (set the restart
// counter to Max-Configure or Max-Terminate, or to zero with the timer
// running), scr, sca, scn (send Configure-Request, -Ack, -Nak or -Reject),
// str, sta (send Terminate-Request, -Ack), scj (send Code-Reject), ser (send
// Echo-Reply).
//
// Notes: [p] with Config.Passive, TO- does not call tlf and the automaton
// waits in Stopped for the peer; [r] with Config.Restart, Open renegotiates
// through Down and Up; [x] a valid reply in Ack-Rcvd or Opened means a
// crossed connection, which is logged and counted.
//
// The RXR events reach the Handler's CodeHandler, which answers an
// Echo-Request in Opened (ser) through Automaton.Send. With Config.Silent, Up
// in Starting and Open in Closed go to Stopped without actions, to wait for
// the peer's Configure-Request (pppd's silent option).
//
// References:
//
//   - RFC 1661, The Point-to-Point Protocol (PPP): sections 2 (protocol
//     field), 4 (the automaton), 5 (packet formats), 6 (options).
//   - RFC 1662, PPP in HDLC-like Framing: section 3.1 (the Address and
//     Control fields of the header).
//   - RFC 1570, PPP LCP Extensions: the Identification and Time-Remaining
//     codes.
//   - pppd's fsm.c and the printpkt functions of lcp.c and ipcp.c: the
//     behaviour of the passive, silent and restart options, and the text of
//     the debug log.
package ppp
