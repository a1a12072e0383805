package ppp

// Hooks for the external tests. They read or set what the RFC 1661 table
// test must observe (irc, zrc) or arrange (a counter value, a reply that is
// still awaited), never the state itself.

// RestartCounter returns a's restart counter.
func RestartCounter(a *Automaton) int { return a.restart }

// SetRestartCounter sets a's restart counter, so that the next Timeout is
// TO+ (n > 0) or TO- (n == 0).
func SetRestartCounter(a *Automaton, n int) { a.restart = n }

// AwaitReply makes a's last Configure-Request await a reply again, so that
// the Configure-Ack/Nak/Reject cells of Ack-Rcvd and Opened (RFC 1661 [x],
// a crossed connection) can be reached.
func AwaitReply(a *Automaton) { a.pending = true }

// TimerArmed reports whether a believes its restart timer is armed.
func TimerArmed(a *Automaton) bool { return a.timerOn }
