package auth

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// Messages of pppd's check_passwd (auth.c) in its PAP replies.
const (
	papMessageOK     = "Login ok"
	papMessageFailed = "Login incorrect"
)

// loginSecret is the pap-secrets secret with which pppd checks the
// password against the system's password database instead.
const loginSecret = "@login"

// papAuthenticatee authenticates us to the peer with PAP (RFC 1334 section
// 2; pppd's upap.c client side): it sends Authenticate-Requests, each with
// a new Identifier, every RestartInterval until the peer acknowledges one
// or MaxTransmits went unanswered.
type papAuthenticatee struct {
	base
	password Secret
	entry    *Entry
	firstID  uint8 // the Identifier of our first request
	id       uint8 // the Identifier of our last request
	sent     int   // requests sent
}

func (a *papAuthenticatee) Start() {
	if a.started || a.stopped {
		return
	}
	a.started = true
	pw, e, err := a.secret()
	if err != nil {
		a.fail(err, a.cfg.PeerName, e, "")
		return
	}
	a.password, a.entry = pw, e
	a.firstID = a.id + 1
	a.request()
}

// secret finds our password: Config.Password, or the secrets' entry for our
// name and the peer's (any server when the peer's name is not known, as
// pppd's get_pap_passwd does).
func (a *papAuthenticatee) secret() (Secret, *Entry, *Error) {
	var (
		pw  Secret
		e   *Entry
		err error
	)
	switch {
	case a.cfg.Password != nil:
		pw = *a.cfg.Password
	case a.cfg.PeerName != "":
		pw, e, err = a.cfg.Secrets.Lookup(a.cfg.Name, a.cfg.PeerName)
	default:
		pw, e, err = a.cfg.Secrets.LookupClient(a.cfg.Name)
	}
	if err != nil {
		return Secret{}, e, lookupError(err, a.cfg.Name, a.cfg.PeerName)
	}
	if pw.Len() > MaxNameLen {
		return Secret{}, e, &Error{Cause: SecretUnusable, Client: a.cfg.Name, Server: a.cfg.PeerName,
			Err: errors.New("it is " + strconv.Itoa(pw.Len()) + " octets long; PAP carries at most 255")}
	}
	return pw, e, nil
}

// request sends the next Authenticate-Request and arms the restart timer.
func (a *papAuthenticatee) request() {
	a.id++
	a.sent++
	a.buf = AppendPAPRequest(a.buf[:0], a.id, []byte(a.cfg.Name), a.password)
	a.send(a.buf)
	a.setTimer(a.cfg.RestartInterval)
}

func (a *papAuthenticatee) Input(pkt []byte) {
	p, ok := a.parse(pkt)
	if !ok || a.res.Status != Pending {
		return
	}
	if c := p.Code(); c != PAPAuthenticateAck && c != PAPAuthenticateNak {
		return
	}
	// RFC 1334 section 2.2.2: a reply copies the Identifier of the
	// request it answers; any of ours will do.
	if a.sent < 256 && int(p.ID()-a.firstID) >= a.sent {
		return
	}
	msg, err := ParsePAPReply(p)
	if err != nil {
		return
	}
	a.setTimer(0)
	clear(a.buf)
	if p.Code() == PAPAuthenticateAck {
		a.logf(slog.LevelInfo, "PAP authentication succeeded"+remoteMessage(msg))
		a.succeed(a.cfg.PeerName, a.entry, string(msg))
		return
	}
	a.fail(&Error{Cause: PeerRefused, Client: a.cfg.Name, Server: a.cfg.PeerName, Message: string(msg)},
		a.cfg.PeerName, a.entry, string(msg))
}

func (a *papAuthenticatee) Timeout() {
	if !a.timerFired() || a.res.Status != Pending {
		return
	}
	if a.sent >= a.cfg.MaxTransmits {
		clear(a.buf)
		a.fail(&Error{Cause: TimedOut, Client: a.cfg.Name, Server: a.cfg.PeerName, Count: a.sent},
			a.cfg.PeerName, a.entry, "")
		return
	}
	a.request()
}

func (a *papAuthenticatee) ProtocolRejected() { a.protocolRejected() }
func (a *papAuthenticatee) Stop()             { a.stop() }

// remoteMessage returns `: "MESSAGE"` for a peer's message, or nothing.
func remoteMessage(msg []byte) string {
	if len(msg) == 0 {
		return ""
	}
	return ": " + string(ppp.AppendQuoted(nil, msg))
}

// papAuthenticator authenticates the peer with PAP (RFC 1334 section 2;
// pppd's upap.c server side): it waits up to Timeout for an
// Authenticate-Request, checks the Peer-ID and Password against the
// secrets (the Peer-ID as client, our name as server) and answers with an
// Authenticate-Ack or -Nak. It answers any later request with the same
// code and message, as RFC 1334 section 2.2.1 requires (the Ack may have
// been lost).
type papAuthenticator struct {
	base
	code uint8  // the reply once decided
	msg  string // its message
}

func (a *papAuthenticator) Start() { a.startWaiting() }

func (a *papAuthenticator) Input(pkt []byte) {
	p, ok := a.parse(pkt)
	if !ok || p.Code() != PAPAuthenticateRequest {
		return
	}
	if a.res.Status != Pending {
		a.reply(p.ID())
		return
	}
	peerID, pw, err := ParsePAPRequest(p)
	if err != nil {
		return
	}
	a.setTimer(0)
	name := string(peerID)
	secret, e, lerr := a.cfg.Secrets.Lookup(name, a.cfg.Name)
	var ferr *Error
	switch {
	case lerr != nil:
		ferr = lookupError(lerr, name, a.cfg.Name)
	case e.SecretFile == "" && string(secret.bytes()) == loginSecret:
		ferr = &Error{Cause: SecretUnusable, Client: name, Server: a.cfg.Name,
			Err: errors.New("the secret " + loginSecret + " asks for the system's password database, which pppssh does not check (write the password instead)")}
	case secret.Len() == 0:
		// pppd takes any password for an empty secret (pppd(8),
		// AUTHENTICATION), meant for its login option, which pppssh
		// does not have: refuse rather than let anyone in.
		ferr = &Error{Cause: SecretUnusable, Client: name, Server: a.cfg.Name,
			Err: errors.New("the secret in " + e.where() + " is empty, which pppd would take as any password; pppssh refuses it (write the password there)")}
	case !secret.Equal(pw):
		ferr = &Error{Cause: WrongSecret, Client: name, Server: a.cfg.Name}
	}
	if ferr != nil {
		a.code, a.msg = PAPAuthenticateNak, papMessageFailed
		a.reply(p.ID())
		a.fail(ferr, name, e, a.msg)
		return
	}
	a.code, a.msg = PAPAuthenticateAck, papMessageOK
	a.reply(p.ID())
	a.logf(slog.LevelInfo, "PAP peer authentication succeeded for "+string(ppp.AppendQuoted(nil, peerID)))
	a.succeed(name, e, a.msg)
}

// reply sends our decision with identifier id.
func (a *papAuthenticator) reply(id uint8) {
	a.buf = AppendPAPReply(a.buf[:0], a.code, id, []byte(a.msg))
	a.send(a.buf)
}

func (a *papAuthenticator) Timeout() {
	if !a.timerFired() || a.res.Status != Pending {
		return
	}
	// A request that comes after all is refused, as pppd's BADAUTH
	// state refuses it.
	a.code, a.msg = PAPAuthenticateNak, papMessageFailed
	a.fail(&Error{Cause: TimedOut, Server: a.cfg.Name, Wait: a.cfg.Timeout}, "", nil, "")
}

func (a *papAuthenticator) ProtocolRejected() { a.protocolRejected() }
func (a *papAuthenticator) Stop()             { a.stop() }
