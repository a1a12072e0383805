package ppp

// STUB: the ppp helper replaces this file with the real automaton. The
// method set below is the contract other packages rely on.

// Automaton is the option negotiation automaton of RFC 1661 section 4 for one
// control protocol.
type Automaton struct {
	cfg   Config
	state State
}

// NewAutomaton returns an automaton in the Initial state.
func NewAutomaton(c Config) *Automaton { return &Automaton{cfg: c} }

// State returns the current state.
func (a *Automaton) State() State { return a.state }

// Protocol returns the control protocol's number.
func (a *Automaton) Protocol() Protocol { return a.cfg.Protocol }

// Up is the Up event: the lower layer is ready.
func (a *Automaton) Up() { panic("unimplemented") }

// Down is the Down event: the lower layer is gone.
func (a *Automaton) Down() { panic("unimplemented") }

// Open is the Open event: the administrator allows the link.
func (a *Automaton) Open() { panic("unimplemented") }

// Close is the Close event; reason is sent in the Terminate-Request.
func (a *Automaton) Close(reason string) { panic("unimplemented") }

// Timeout is the TO+ or TO- event.
func (a *Automaton) Timeout() { panic("unimplemented") }

// Input handles one received control packet of this protocol.
func (a *Automaton) Input(pkt []byte) { panic("unimplemented") }

// ProtocolRejected is the RXJ- event for a Protocol-Reject of this protocol.
func (a *Automaton) ProtocolRejected() { panic("unimplemented") }

// Send transmits a packet with an extra code.
func (a *Automaton) Send(code Code, id uint8, data []byte) { panic("unimplemented") }

// Err returns why the protocol last finished.
func (a *Automaton) Err() error { return nil }

// String returns the state's name as RFC 1661 writes it ("Req-Sent").
func (s State) String() string { return "?" }
