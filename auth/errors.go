package auth

import (
	"strconv"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Role says which way an exchange authenticates.
type Role uint8

// The two roles of an authentication exchange.
const (
	// Authenticator: we authenticate the peer (pppd's "auth"; the server
	// of pppd's secrets files). The peer's name is the client.
	Authenticator Role = iota + 1
	// Authenticatee: we authenticate ourselves to the peer (RFC 1994's
	// "peer"; the client of pppd's secrets files). Our name is the client.
	Authenticatee
)

// String returns "authenticator" or "authenticatee".
func (r Role) String() string {
	switch r {
	case Authenticator:
		return "authenticator"
	case Authenticatee:
		return "authenticatee"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Cause says why an exchange failed; see Error.
type Cause uint8

// The causes an Error reports.
const (
	// WrongSecret: the peer does not know the secret: a wrong PAP
	// password, or a CHAP response that does not match ours.
	WrongSecret Cause = iota + 1
	// NoSecret: the secrets hold no entry for the names (Error.Client,
	// Error.Server).
	NoSecret
	// SecretUnusable: an entry matched but its secret could not be used:
	// its file ("@/path") could not be read (Error.Err says why), it is
	// longer than PAP can carry, or it is pppd's "@login" (a check against
	// the system's password database), which pppssh does not do.
	SecretUnusable
	// PeerRefused: the peer refused our authentication (PAP
	// Authenticate-Nak, CHAP Failure); Error.Message holds its message.
	PeerRefused
	// TimedOut: no answer to Error.Count requests or challenges, or
	// nothing from the peer for Error.Wait.
	TimedOut
	// NameChanged: the peer answered a CHAP re-challenge with a name other
	// than the one it authenticated with (Error.Client); pppssh takes that
	// as a failure.
	NameChanged
	// ProtocolRejected: the peer sent an LCP Protocol-Reject of the
	// authentication protocol it agreed to.
	ProtocolRejected
	// LocalFailure: the random source for a CHAP challenge failed
	// (Error.Err).
	LocalFailure
)

var causeNames = [...]string{
	WrongSecret:      "wrong secret",
	NoSecret:         "no secret",
	SecretUnusable:   "secret unusable",
	PeerRefused:      "refused by the peer",
	TimedOut:         "timed out",
	NameChanged:      "name changed",
	ProtocolRejected: "protocol rejected",
	LocalFailure:     "local failure",
}

// String returns a short description of the cause ("wrong secret").
func (c Cause) String() string {
	if int(c) < len(causeNames) && causeNames[c] != "" {
		return causeNames[c]
	}
	return "Cause(" + strconv.Itoa(int(c)) + ")"
}

// Error is why an authentication exchange failed. It never holds a secret
// or a password, ours or the peer's.
type Error struct {
	Protocol ppp.Protocol // ppp.ProtoPAP or ppp.ProtoCHAP
	Role     Role
	Cause    Cause

	// Client and Server are the names the secret was (or would have been)
	// looked up with: for the Authenticator the peer's name and ours, for
	// the Authenticatee ours and the peer's. Server is empty when the peer
	// did not say its name and none was configured (PAP).
	Client, Server string
	// Secrets is the name of the secrets file, Source the "file:line" of
	// the entry used, when there was one.
	Secrets, Source string

	// Message is the peer's message, for PeerRefused.
	Message string
	// Count is how many requests or challenges went unanswered, or Wait
	// how long the peer was silent, for TimedOut.
	Count int
	Wait  time.Duration
	// Again is set when the failure came after a success, in a CHAP
	// re-authentication (pppd's chap-interval).
	Again bool
	// Err is the underlying error, if any (a secret file that could not
	// be read, a failed random source).
	Err error
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether the error is target: an Error with cause NoSecret is
// ErrNoSecret.
func (e *Error) Is(target error) bool { return target == ErrNoSecret && e.Cause == NoSecret }

// Reason returns the text pppd puts in the LCP Terminate-Request when an
// authentication fails: "Authentication failed" when the peer failed to
// authenticate itself, "Failed to authenticate ourselves to peer" when we
// failed (pppd's auth_peer_fail and auth_withpeer_fail).
func (e *Error) Reason() string {
	if e.Role == Authenticator {
		return "Authentication failed"
	}
	return "Failed to authenticate ourselves to peer"
}

func quote(s string) string { return strconv.Quote(s) }

// Error describes the failure and what to check, such as
// `auth: PAP: peer "alice" sent a wrong password (check its secret for
// server "gw" in /etc/ppp/pap-secrets:3 against the peer's)`.
func (e *Error) Error() string {
	s := "auth: " + e.Protocol.String() + ": "
	if e.Again {
		s += "re-authentication: "
	}
	what := "password"
	if e.Protocol == ppp.ProtoCHAP {
		what = "response"
	}
	entry := ""
	switch {
	case e.Source != "":
		entry = " in " + e.Source
	case e.Secrets != "":
		entry = " in " + e.Secrets
	}
	switch e.Cause {
	case WrongSecret:
		s += "peer " + quote(e.Client) + " sent a wrong " + what +
			" (check its secret for server " + quote(e.Server) + entry + " against the peer's)"
	case NoSecret:
		if e.Role == Authenticator {
			s += "no secret for peer " + quote(e.Client) + " and server " + quote(e.Server) + entry +
				" (add a line: " + quote(e.Client) + " " + quote(e.Server) + " SECRET)"
		} else {
			s += "no secret to authenticate us as " + quote(e.Client) + serverText(e.Server) + entry +
				" (add a line: " + quote(e.Client) + " " + lineServer(e.Server) + " SECRET, or give a password)"
		}
	case SecretUnusable:
		s += "the secret for client " + quote(e.Client) + serverText(e.Server) + entry + " cannot be used"
	case PeerRefused:
		s += "the peer refused us as " + quote(e.Client)
		if e.Message != "" {
			s += ": " + quote(e.Message)
		}
		s += " (check our secret for " + quote(e.Client) + serverText(e.Server) + entry + ")"
	case TimedOut:
		switch {
		case e.Count > 0 && e.Protocol == ppp.ProtoPAP:
			s += "no reply to " + strconv.Itoa(e.Count) + " Authenticate-Requests (is the peer authenticating us with PAP?)"
		case e.Count > 0:
			s += "no response to " + strconv.Itoa(e.Count) + " Challenges (is the peer answering CHAP?)"
		case e.Role == Authenticator:
			s += "the peer sent no Authenticate-Request in " + e.Wait.String()
		default:
			s += "the peer did not finish authenticating us in " + e.Wait.String()
		}
	case NameChanged:
		s += "the peer answered a challenge as " + quote(e.Client) + ", not as the name it authenticated with"
	case ProtocolRejected:
		s += "the peer rejected the protocol it agreed to use"
	case LocalFailure:
		s += "local failure"
	default:
		s += e.Cause.String()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// serverText returns ` on server "NAME"`, or nothing for an unknown server.
func serverText(server string) string {
	if server == "" {
		return ""
	}
	return " on server " + quote(server)
}

// lineServer returns the server word of a secrets line to suggest.
func lineServer(server string) string {
	if server == "" {
		return Wildcard
	}
	return quote(server)
}
