package ppp

import "strconv"

// Phase is a phase of the link as a whole (RFC 1661 section 3.2):
//
//	Dead -> Establish -> Authenticate -> Network -> Terminate -> Dead
//
// LCP moves the link from Establish to Authenticate (or straight to
// Network when no authentication was negotiated) when it reaches Opened, and
// back to Terminate when it leaves Opened. Network-layer control protocols
// (IPCP, IPV6CP) run only in the Network phase; packets of any protocol other
// than LCP (and, in Authenticate, the authentication protocol) are silently
// discarded before it.
type Phase uint8

// The link phases, in the order a link goes through them.
const (
	PhaseDead         Phase = iota // no lower layer
	PhaseEstablish                 // LCP negotiating
	PhaseAuthenticate              // LCP Opened, authentication running
	PhaseNetwork                   // LCP Opened, NCPs running
	PhaseTerminate                 // LCP terminating
)

var phaseNames = [...]string{"Dead", "Establish", "Authenticate", "Network", "Terminate"}

// String returns the phase's name as RFC 1661 writes it ("Establish").
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}
