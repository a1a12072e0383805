package auth

import (
	"crypto/subtle"
	"io"
	"log/slog"

	"github.com/pppssh/pppssh/ppp"
)

// Messages of pppd's chap-md5.c in its CHAP Success and Failure.
const (
	chapMessageOK     = "Access granted"
	chapMessageFailed = "Access denied"
)

// chapAuthenticator authenticates the peer with CHAP and MD5 (RFC 1994;
// pppd's chap.c server side). It sends a Challenge, a random value of 16
// to 23 octets (pppd's chap-md5.c) and our name, and sends the same packet
// again every RestartInterval until the peer responds or MaxTransmits went
// unanswered. It checks the Response against MD5(Identifier, secret,
// challenge), the secret being that of the peer's name (Config.PeerName if
// set) as client and ours as server, and answers Success or Failure; it
// answers a repeated Response to the same challenge the same way. With
// RechallengeInterval set, it challenges again that long after each
// success, with a new Identifier and value.
type chapAuthenticator struct {
	base
	id        uint8  // Identifier of the current challenge
	value     []byte // its Value
	challenge []byte // the Challenge packet, sent again as is
	sent      int    // transmissions of the current challenge
	open      bool   // the current challenge awaits its Response
	answered  bool   // a Response to the current challenge was judged
	code      uint8  // the status sent for it
	msg       string // and its message
	again     bool   // the current challenge is a re-challenge
	peerName  string // the name the peer authenticated with
}

func (a *chapAuthenticator) Start() {
	if a.started || a.stopped {
		return
	}
	a.started = true
	var id [1]byte
	if _, err := io.ReadFull(a.cfg.Rand, id[:]); err != nil {
		a.fail(&Error{Cause: LocalFailure, Server: a.cfg.Name, Err: err}, "", nil, "")
		return
	}
	// pppd starts from a random Identifier; each challenge takes the next.
	a.id = id[0]
	a.newChallenge()
}

// newChallenge draws a fresh challenge with the next Identifier and sends
// it.
func (a *chapAuthenticator) newChallenge() {
	var n [1]byte
	if _, err := io.ReadFull(a.cfg.Rand, n[:]); err != nil {
		a.fail(&Error{Cause: LocalFailure, Server: a.cfg.Name, Again: a.res.Status == Succeeded, Err: err}, a.peerName, a.res.Entry, "")
		return
	}
	size := minChallenge + int(n[0])%(maxChallenge-minChallenge)
	a.value = append(a.value[:0], make([]byte, size)...)
	if _, err := io.ReadFull(a.cfg.Rand, a.value); err != nil {
		a.fail(&Error{Cause: LocalFailure, Server: a.cfg.Name, Again: a.res.Status == Succeeded, Err: err}, a.peerName, a.res.Entry, "")
		return
	}
	a.id++
	a.again = a.res.Status == Succeeded
	a.challenge = AppendCHAPValue(a.challenge[:0], CHAPChallenge, a.id, a.value, []byte(a.cfg.Name))
	a.sent, a.open, a.answered = 0, true, false
	a.transmit()
}

// transmit sends the current challenge and arms the restart timer.
func (a *chapAuthenticator) transmit() {
	a.sent++
	a.send(a.challenge)
	a.setTimer(a.cfg.RestartInterval)
}

func (a *chapAuthenticator) Input(pkt []byte) {
	p, ok := a.parse(pkt)
	if !ok || p.Code() != CHAPResponse || p.ID() != a.id {
		return
	}
	switch {
	case a.open:
		a.judge(p)
	case a.answered:
		// The peer did not get our status: the same again (pppd).
		a.status(a.id)
	}
}

// judge checks the Response p to the open challenge and answers it.
func (a *chapAuthenticator) judge(p ppp.Packet) {
	value, name, err := ParseCHAPValue(p)
	if err != nil {
		return
	}
	peer := a.lookupName(name)
	a.open = false
	a.setTimer(0)
	var ferr *Error
	secret, e, lerr := a.cfg.Secrets.Lookup(peer, a.cfg.Name)
	switch {
	case a.again && peer != a.peerName:
		ferr = &Error{Cause: NameChanged, Client: peer, Server: a.cfg.Name}
	case lerr != nil:
		ferr = lookupError(lerr, peer, a.cfg.Name)
	default:
		// The response must be an MD5 digest (pppd checks its length
		// first); anything else, such as an MS-CHAP response from a
		// peer that ignored what LCP agreed, is wrong.
		want := MD5Response(a.id, secret, a.value)
		if len(value) != MD5Size || subtle.ConstantTimeCompare(value, want[:]) != 1 {
			ferr = &Error{Cause: WrongSecret, Client: peer, Server: a.cfg.Name}
		}
	}
	a.answered = true
	if ferr != nil {
		a.code, a.msg = CHAPFailure, chapMessageFailed
		a.status(a.id)
		ferr.Again = a.again
		a.fail(ferr, peer, e, a.msg)
		return
	}
	a.code, a.msg = CHAPSuccess, chapMessageOK
	a.status(a.id)
	if a.cfg.RechallengeInterval > 0 {
		a.setTimer(a.cfg.RechallengeInterval)
	}
	if a.again {
		return
	}
	a.peerName = peer
	a.logf(slog.LevelInfo, "Peer "+string(ppp.AppendQuoted(nil, []byte(peer)))+" authenticated with CHAP")
	a.succeed(peer, e, a.msg)
}

// status sends the Success or Failure decided for the current challenge.
func (a *chapAuthenticator) status(id uint8) {
	a.buf = AppendCHAPStatus(a.buf[:0], a.code, id, []byte(a.msg))
	a.send(a.buf)
}

func (a *chapAuthenticator) Timeout() {
	if !a.timerFired() || a.res.Status == Failed {
		return
	}
	switch {
	case !a.open:
		// The re-challenge interval is over.
		a.newChallenge()
	case a.sent >= a.cfg.MaxTransmits:
		a.open = false
		a.fail(&Error{Cause: TimedOut, Client: a.peerName, Server: a.cfg.Name, Count: a.sent, Again: a.again},
			a.peerName, a.res.Entry, "")
	default:
		a.transmit()
	}
}

func (a *chapAuthenticator) ProtocolRejected() { a.protocolRejected() }
func (a *chapAuthenticator) Stop()             { a.stop() }

// chapAuthenticatee authenticates us to the peer with CHAP and MD5
// (RFC 1994; pppd's chap.c client side). It answers every Challenge with
// a Response, MD5(Identifier, secret, challenge) and our name, the secret
// being that of our name as client and the peer's (Config.PeerName, or the
// Name in the Challenge) as server. A Success or Failure carrying the
// Identifier of our last Response decides; the first must come within
// Timeout of Start. It keeps answering the peer's re-challenges after a
// success, and a Failure then is a failure too.
type chapAuthenticatee struct {
	base
	id        uint8 // Identifier of our last Response
	responded bool
	peerName  string
	entry     *Entry
}

func (a *chapAuthenticatee) Start() { a.startWaiting() }

func (a *chapAuthenticatee) Input(pkt []byte) {
	p, ok := a.parse(pkt)
	if !ok || a.res.Status == Failed {
		return
	}
	switch p.Code() {
	case CHAPChallenge:
		a.respond(p)
	case CHAPSuccess, CHAPFailure:
		if !a.responded || p.ID() != a.id {
			return
		}
		msg := p.Data()
		if p.Code() == CHAPSuccess {
			if a.res.Status == Pending {
				a.setTimer(0)
				a.logf(slog.LevelInfo, "CHAP authentication succeeded"+remoteMessage(msg))
				a.succeed(a.peerName, a.entry, string(msg))
			}
			return
		}
		a.fail(&Error{Cause: PeerRefused, Client: a.cfg.Name, Server: a.peerName,
			Message: string(msg), Again: a.res.Status == Succeeded}, a.peerName, a.entry, string(msg))
	}
}

// respond answers the Challenge p.
func (a *chapAuthenticatee) respond(p ppp.Packet) {
	value, name, err := ParseCHAPValue(p)
	if err != nil {
		return
	}
	peer := a.lookupName(name)
	var (
		secret Secret
		e      *Entry
	)
	if a.cfg.Password != nil {
		secret = *a.cfg.Password
	} else if secret, e, err = a.cfg.Secrets.Lookup(a.cfg.Name, peer); err != nil {
		// pppd answers with an empty secret and a warning; the peer
		// would refuse that, so fail now and say why.
		ferr := lookupError(err, a.cfg.Name, peer)
		ferr.Again = a.res.Status == Succeeded
		a.fail(ferr, peer, e, "")
		return
	}
	a.peerName, a.entry = peer, e
	sum := MD5Response(p.ID(), secret, value)
	a.id, a.responded = p.ID(), true
	a.buf = AppendCHAPValue(a.buf[:0], CHAPResponse, a.id, sum[:], []byte(a.cfg.Name))
	a.send(a.buf)
}

func (a *chapAuthenticatee) Timeout() {
	if !a.timerFired() || a.res.Status != Pending {
		return
	}
	a.fail(&Error{Cause: TimedOut, Client: a.cfg.Name, Server: a.peerName, Wait: a.cfg.Timeout},
		a.peerName, a.entry, "")
}

func (a *chapAuthenticatee) ProtocolRejected() { a.protocolRejected() }
func (a *chapAuthenticatee) Stop()             { a.stop() }
