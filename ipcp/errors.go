package ipcp

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pppssh/pppssh/ppp"
)

// Errors for a Configure-Nak or Configure-Reject that the Handler refuses.
// The Automaton discards such packets, so these only reach debug logs.
var (
	errMalformedNak    = fmt.Errorf("ipcp: Configure-Nak: %w", ppp.ErrMalformed)
	errMalformedReject = fmt.Errorf("ipcp: Configure-Reject: %w", ppp.ErrMalformed)
	errBadNak          = errors.New("ipcp: invalid Configure-Nak (option out of order, repeated or of the wrong length)")
	errBadReject       = errors.New("ipcp: invalid Configure-Reject (not a subset of our request in the same order)")
)

// AddressProblem says what kept IPCP from settling on usable addresses; see
// AddressError.
type AddressProblem uint8

// The address problems an AddressError reports.
const (
	// PeerAddressConflict: we require the peer to use our Remote address
	// (Ours) and it keeps requesting another one (Theirs). AcceptRemote
	// (pppd's ipcp-accept-remote) lets the peer choose.
	PeerAddressConflict AddressProblem = iota + 1
	// LocalAddressConflict: we insist on our Local address (Ours) and the
	// peer keeps Naking it with another one (Theirs). AcceptLocal (pppd's
	// ipcp-accept-local) lets the peer choose.
	LocalAddressConflict
	// SameAddress: the peer requested the address we use (Ours), or both
	// ends ended up with it.
	SameAddress
	// LocalAddressRefused: the peer rejected the IP-Address option carrying
	// our configured Local address (Ours), as pppd reports "Peer refused to
	// agree to our IP address".
	LocalAddressRefused
	// NoLocalAddress: negotiation ended without an address for us: none was
	// configured and the peer did not assign one (pppd's "Could not
	// determine local IP address").
	NoLocalAddress
	// NoPeerAddress: negotiation ended without an address for the peer: none
	// was configured and the peer did not request a usable one.
	NoPeerAddress
)

// AddressError explains why IPCP could not agree on usable addresses. The
// Handler returns it from Err and puts it in Negotiated.Err. Which of Ours and
// Theirs are set depends on Problem (see the AddressProblem constants); the
// others are the zero Addr.
type AddressError struct {
	Problem AddressProblem
	Ours    netip.Addr // the address we insisted on
	Theirs  netip.Addr // the address the peer insisted on
}

// conflict reports whether the problem is a disagreement between the ends,
// rather than something missing.
func (e *AddressError) conflict() bool {
	switch e.Problem {
	case PeerAddressConflict, LocalAddressConflict, SameAddress:
		return true
	}
	return false
}

// Error returns a message that names both addresses and what to change, such
// as "ipcp: address conflict: we require peer 192.0.2.2, peer insists on
// 192.0.2.9 (set ipcp-accept-remote or fix the configuration)".
func (e *AddressError) Error() string {
	switch e.Problem {
	case PeerAddressConflict:
		return "ipcp: address conflict: we require peer " + e.Ours.String() +
			", peer insists on " + e.Theirs.String() +
			" (set ipcp-accept-remote or fix the configuration)"
	case LocalAddressConflict:
		return "ipcp: address conflict: we require local " + e.Ours.String() +
			", peer insists on giving us " + e.Theirs.String() +
			" (set ipcp-accept-local or fix the configuration)"
	case SameAddress:
		return "ipcp: address conflict: peer wants our own address " + e.Ours.String() +
			" (assign the peer another address or fix its configuration)"
	case LocalAddressRefused:
		return "ipcp: peer refused to agree to our IP address " + e.Ours.String() +
			" (leave the local address unset to let the peer assign one, or fix the peer's configuration)"
	case NoLocalAddress:
		return "ipcp: could not determine local IP address" +
			" (configure one, or use a peer that assigns one)"
	case NoPeerAddress:
		return "ipcp: could not determine remote IP address" +
			" (configure one for the peer, or use a peer that requests one)"
	}
	return "ipcp: address problem"
}
