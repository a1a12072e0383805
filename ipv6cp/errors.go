package ipv6cp

import (
	"errors"
	"fmt"

	"github.com/pppssh/pppssh/ppp"
)

// Errors for a Configure-Nak or Configure-Reject that the Handler refuses.
// The Automaton discards such packets, so these only reach debug logs.
var (
	errMalformedNak    = fmt.Errorf("ipv6cp: Configure-Nak: %w", ppp.ErrMalformed)
	errMalformedReject = fmt.Errorf("ipv6cp: Configure-Reject: %w", ppp.ErrMalformed)
	errBadNak          = errors.New("ipv6cp: invalid Configure-Nak (option repeated or of the wrong length)")
	errBadReject       = errors.New("ipv6cp: invalid Configure-Reject (not the Interface-Identifier option we requested)")
)

// Errors of ParseInterfaceIdentifier.
var (
	errNotInterfaceIdentifier    = fmt.Errorf("ipv6cp: not an Interface-Identifier option (type %d): %w", OptInterfaceIdentifier, ppp.ErrMalformed)
	errInterfaceIdentifierLength = fmt.Errorf("ipv6cp: Interface-Identifier option without exactly 8 octets of data: %w", ppp.ErrMalformed)
)

// IdentifierProblem says what kept IPV6CP from settling on usable interface
// identifiers; see IdentifierError.
type IdentifierProblem uint8

// The identifier problems an IdentifierError reports.
const (
	// PeerIdentifierConflict: we require the peer to use our Remote
	// identifier (Ours) and it keeps requesting another one (Theirs).
	// AcceptRemote (pppd's ipv6cp-accept-remote) lets the peer choose.
	PeerIdentifierConflict IdentifierProblem = iota + 1
	// LocalIdentifierConflict: we insist on our Local identifier (Ours) and
	// the peer keeps Naking it with another one (Theirs). AcceptLocal
	// (pppd's ipv6cp-accept-local) lets the peer choose.
	LocalIdentifierConflict
	// SameIdentifier: the peer requested the identifier we use (Ours),
	// typically because both ends are configured with it, or both ends
	// ended up with it (pppd's "local and remote LL addresses are equal").
	SameIdentifier
	// NoPeerIdentifier: negotiation ended without an identifier for the
	// peer: none was configured as Remote and the peer sent no usable one
	// (pppd's "Could not determine remote LL address").
	NoPeerIdentifier
)

// IdentifierError explains why IPV6CP could not agree on usable interface
// identifiers. The Handler returns it from Err and puts it in
// Negotiated.Err. Which of Ours and Theirs are set depends on Problem (see
// the IdentifierProblem constants); the others are zero.
type IdentifierError struct {
	Problem IdentifierProblem
	Ours    InterfaceID // the identifier we insisted on
	Theirs  InterfaceID // the identifier the peer insisted on
}

// Error returns a message that names both identifiers, written as pppd's
// ipv6 option takes them, and what to change, such as "ipv6cp: interface
// identifier conflict: we require peer ::2, peer insists on ::9 (set
// ipv6cp-accept-remote or fix the configuration)".
func (e *IdentifierError) Error() string {
	switch e.Problem {
	case PeerIdentifierConflict:
		return "ipv6cp: interface identifier conflict: we require peer " + e.Ours.String() +
			", peer insists on " + e.Theirs.String() +
			" (set ipv6cp-accept-remote or fix the configuration)"
	case LocalIdentifierConflict:
		return "ipv6cp: interface identifier conflict: we require local " + e.Ours.String() +
			", peer insists on giving us " + e.Theirs.String() +
			" (set ipv6cp-accept-local or fix the configuration)"
	case SameIdentifier:
		return "ipv6cp: interface identifier conflict: peer wants our own identifier " + e.Ours.String() +
			" (give each end its own identifier, or set ipv6cp-accept-local on one end)"
	case NoPeerIdentifier:
		return "ipv6cp: could not determine remote interface identifier" +
			" (configure one for the peer, or use a peer that sends its own)"
	}
	return "ipv6cp: interface identifier problem"
}
