package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Defaults of pppd's options for PAP (upap.h, upap.c) and CHAP (chap.c,
// chap-new.c in 2.4.9).
const (
	// DefaultRestartInterval is pppd's pap-restart and chap-restart: the
	// time between Authenticate-Requests, and between Challenges.
	DefaultRestartInterval = 3 * time.Second
	// DefaultMaxTransmits is pppd's pap-max-authreq and
	// chap-max-challenge: how many Authenticate-Requests, or Challenges,
	// go unanswered before the exchange fails.
	DefaultMaxTransmits = 10
	// DefaultPAPTimeout is pppd's pap-timeout: how long the PAP
	// authenticator waits for the peer's Authenticate-Request.
	DefaultPAPTimeout = 30 * time.Second
	// DefaultCHAPTimeout is pppd's chap-timeout: how long the CHAP
	// authenticatee waits for the peer to challenge it and tell it the
	// outcome.
	DefaultCHAPTimeout = 60 * time.Second
)

// Config configures one exchange; see New. The zero values of the timing
// fields take pppd's defaults.
type Config struct {
	// Name is our name: the Peer-ID of our PAP request and the Name of our
	// CHAP packets, and the server name of the secrets when we
	// authenticate the peer (pppd's name and user options; pppd defaults
	// both to the host name). At most MaxNameLen octets.
	Name string
	// PeerName is the peer's name, if known (pppd's remotename). The
	// Authenticatee looks its secret up with it as the server (PAP: any
	// server when empty; CHAP: the name in the peer's Challenge when
	// empty); the CHAP Authenticator looks the peer's secret up with it
	// instead of the name in the peer's Response, as pppd does.
	PeerName string

	// Secrets holds the secrets: pppd's pap-secrets for PAP, chap-secrets
	// for CHAP. The Authenticator requires it.
	Secrets *Secrets
	// Password, if set, is the secret the Authenticatee uses instead of
	// looking one up (pppd's password option); it may be empty.
	Password *Secret

	// RestartInterval is the time between our Authenticate-Requests (PAP
	// Authenticatee) or Challenges (CHAP Authenticator): pppd's
	// pap-restart, chap-restart. Zero means DefaultRestartInterval.
	RestartInterval time.Duration
	// MaxTransmits is how many of them may go unanswered: pppd's
	// pap-max-authreq, chap-max-challenge. Zero or less means
	// DefaultMaxTransmits.
	MaxTransmits int
	// Timeout is how long the PAP Authenticator waits for the peer's
	// request (pppd's pap-timeout, DefaultPAPTimeout), or the CHAP
	// Authenticatee for the outcome of its first authentication (pppd's
	// chap-timeout, DefaultCHAPTimeout). Zero means the default; a
	// negative value, no limit (pppd's pap-timeout 0).
	Timeout time.Duration
	// RechallengeInterval, for the CHAP Authenticator, is the time from a
	// success to the next challenge (pppd's chap-interval); zero never
	// challenges again.
	RechallengeInterval time.Duration

	// Rand supplies the CHAP challenges and first identifier. Nil means
	// crypto/rand.Reader.
	Rand io.Reader

	// Send transmits one packet of the protocol (Code, Identifier,
	// Length, Data); the owner adds the PPP header and framing. It is
	// called synchronously from the exchange's methods and must not keep
	// pkt. Nil discards the packets.
	Send func(proto ppp.Protocol, pkt []byte)
	// Timer arms the exchange's one timer to fire after d, replacing any
	// earlier arming, or stops it when d is 0. When it fires, the owner
	// calls Timeout. It is called synchronously from the exchange's
	// methods. Nil means the owner never calls Timeout.
	Timer func(d time.Duration)
	// Done is called, synchronously from the exchange's methods, when the
	// exchange succeeds or fails (see Exchange for when). It may read the
	// exchange but must not call its Start, Input, Timeout,
	// ProtocolRejected or Stop. Nil means the owner polls Status.
	Done func(Result)

	// Logger receives the packets sent and received at debug level, in
	// pppd's words ("sent [PAP AuthReq id=0x1 user="alice"
	// password=<hidden>]"), and the outcome at info level, as pppd logs
	// it. Nil discards them.
	Logger *slog.Logger
}

// Status is where an exchange stands.
type Status uint8

// The statuses of an exchange.
const (
	Pending   Status = iota // not decided yet
	Succeeded               // authentication succeeded
	Failed                  // authentication failed; Result().Err says why
)

var statusNames = [...]string{"pending", "succeeded", "failed"}

// String returns "pending", "succeeded" or "failed".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Result is the outcome of an exchange, as Done reports it and Result
// returns it.
type Result struct {
	Status Status
	// Err is nil on success and an *Error on failure.
	Err error
	// PeerName is, for the Authenticator, the name the peer authenticated
	// with (pppd's peer_authname); for the Authenticatee, the name the
	// peer gave in its CHAP Challenge, or Config.PeerName.
	PeerName string
	// Entry is the secrets entry used, if any; for the Authenticator its
	// Addresses say which IP addresses the peer may use.
	Entry *Entry
	// Message is the message of the Authenticate-Ack or -Nak, or CHAP
	// Success or Failure, that decided the exchange: the peer's for the
	// Authenticatee, ours for the Authenticator.
	Message string
}

// Exchange is one direction of authentication over one protocol: PAP or
// CHAP with MD5, as Authenticator or Authenticatee. It holds no lock,
// starts no goroutine and reads no clock: its owner calls its methods on
// one goroutine (the one that owns LCP), and it sends packets and arms its
// timer through the functions in Config, synchronously.
//
// Done is called once when the exchange succeeds or fails. After a
// success the CHAP Authenticator keeps re-challenging the peer if
// Config.RechallengeInterval is set, and the CHAP Authenticatee keeps
// answering challenges; if such a re-authentication fails, Done is called
// a second time, with the failure. After a failure nothing changes any
// more: the owner closes LCP (with Error.Reason).
type Exchange interface {
	// Protocol returns ppp.ProtoPAP or ppp.ProtoCHAP.
	Protocol() ppp.Protocol
	// Role returns Authenticator or Authenticatee.
	Role() Role
	// Start begins the exchange, once LCP is Opened: the PAP Authenticatee
	// sends its first request, the CHAP Authenticator its first
	// challenge, the others arm their timeout. Packets that arrive before
	// Start are ignored. Start may call Done (a missing secret).
	Start()
	// Input handles one received packet of the exchange's protocol (Code,
	// Identifier, Length, Data; octets after Length are ignored). Packets
	// meant for the other role (a PAP Authenticate-Ack given to the
	// Authenticator, say), malformed packets and packets with an
	// unexpected identifier are ignored, as RFC 1334 and RFC 1994 require.
	// Input does not keep pkt.
	Input(pkt []byte)
	// Timeout tells the exchange that its timer fired. A stale call is
	// ignored.
	Timeout()
	// ProtocolRejected tells the exchange that the peer sent an LCP
	// Protocol-Reject of its protocol: a pending exchange fails with
	// ProtocolRejected, and every exchange stops.
	ProtocolRejected()
	// Stop ends the exchange because LCP left Opened: it stops the timer
	// and ignores every later call. It calls neither Send nor Done.
	Stop()
	// Status returns where the exchange stands.
	Status() Status
	// Result returns the outcome so far (Status Pending until decided).
	Result() Result
}

// New returns an exchange of proto (ppp.ProtoPAP, or ppp.ProtoCHAP with
// MD5) in role, configured by cfg. It starts nothing; call Start once LCP
// is Opened. It fails when proto or role is not one of those, when Name is
// longer than MaxNameLen, or when the exchange has no secret to use: the
// Authenticator needs Config.Secrets, the Authenticatee Config.Password or
// Config.Secrets.
func New(proto ppp.Protocol, role Role, cfg Config) (Exchange, error) {
	if proto != ppp.ProtoPAP && proto != ppp.ProtoCHAP {
		return nil, errors.New("auth: protocol " + proto.String() + " is neither PAP nor CHAP")
	}
	if len(cfg.Name) > MaxNameLen {
		return nil, errors.New("auth: our name is " + strconv.Itoa(len(cfg.Name)) + " octets long; PAP and CHAP carry at most 255 (shorten the name or user option)")
	}
	switch role {
	case Authenticator:
		if cfg.Secrets == nil {
			return nil, errors.New("auth: authenticating the peer with " + proto.String() + " needs its secrets (pppd's " + secretsFileName(proto) + ")")
		}
	case Authenticatee:
		if cfg.Secrets == nil && cfg.Password == nil {
			return nil, errors.New("auth: authenticating ourselves with " + proto.String() + " needs a password or secrets (pppd's " + secretsFileName(proto) + ")")
		}
	default:
		return nil, errors.New("auth: unknown role " + role.String())
	}
	b := base{cfg: cfg, role: role, proto: proto}
	b.init()
	switch {
	case proto == ppp.ProtoPAP && role == Authenticator:
		return &papAuthenticator{base: b}, nil
	case proto == ppp.ProtoPAP:
		return &papAuthenticatee{base: b}, nil
	case role == Authenticator:
		return &chapAuthenticator{base: b}, nil
	default:
		return &chapAuthenticatee{base: b}, nil
	}
}

func secretsFileName(proto ppp.Protocol) string {
	if proto == ppp.ProtoCHAP {
		return "chap-secrets"
	}
	return "pap-secrets"
}

// base holds what every exchange shares: the configuration with defaults
// filled in, the state common to all (started, stopped, the result), the
// send buffer and the logger.
type base struct {
	cfg   Config
	role  Role
	proto ppp.Protocol
	log   *slog.Logger

	started bool
	stopped bool // Stop or ProtocolRejected: every call is ignored
	armed   bool // the timer is armed
	res     Result

	buf  []byte // packets being sent
	text []byte // packet traces
}

func (b *base) init() {
	if b.cfg.RestartInterval <= 0 {
		b.cfg.RestartInterval = DefaultRestartInterval
	}
	if b.cfg.MaxTransmits <= 0 {
		b.cfg.MaxTransmits = DefaultMaxTransmits
	}
	if b.cfg.Timeout == 0 {
		b.cfg.Timeout = DefaultPAPTimeout
		if b.proto == ppp.ProtoCHAP {
			b.cfg.Timeout = DefaultCHAPTimeout
		}
	}
	if b.cfg.RechallengeInterval < 0 {
		b.cfg.RechallengeInterval = 0
	}
	if b.cfg.Rand == nil {
		b.cfg.Rand = rand.Reader
	}
	b.log = b.cfg.Logger
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
}

func (b *base) Protocol() ppp.Protocol { return b.proto }
func (b *base) Role() Role             { return b.role }
func (b *base) Status() Status         { return b.res.Status }
func (b *base) Result() Result         { return b.res }

// active reports whether events are to be handled: Start has been called
// and neither Stop nor ProtocolRejected.
func (b *base) active() bool { return b.started && !b.stopped }

// startWaiting is Start for the roles that wait for the peer to begin (the
// PAP authenticator, the CHAP authenticatee): it arms Config.Timeout, if
// any.
func (b *base) startWaiting() {
	if b.started || b.stopped {
		return
	}
	b.started = true
	if b.cfg.Timeout > 0 {
		b.setTimer(b.cfg.Timeout)
	}
}

// lookupName is the peer's name for a secrets lookup: Config.PeerName
// (pppd's remotename) when set, else the name the peer sent.
func (b *base) lookupName(sent []byte) string {
	if b.cfg.PeerName != "" {
		return b.cfg.PeerName
	}
	return string(sent)
}

// send logs pkt and transmits it.
func (b *base) send(pkt []byte) {
	b.trace("sent ", pkt)
	if b.cfg.Send != nil {
		b.cfg.Send(b.proto, pkt)
	}
}

// setTimer arms the timer for d, or stops it when d is 0.
func (b *base) setTimer(d time.Duration) {
	if d == 0 && !b.armed {
		return
	}
	b.armed = d > 0
	if b.cfg.Timer != nil {
		b.cfg.Timer(d)
	}
}

// timerFired reports whether a Timeout call is current (the timer was
// armed), and disarms it.
func (b *base) timerFired() bool {
	if !b.active() || !b.armed {
		return false
	}
	b.armed = false
	return true
}

// succeed records a success and reports it.
func (b *base) succeed(peerName string, e *Entry, msg string) {
	b.res = Result{Status: Succeeded, PeerName: peerName, Entry: e, Message: msg}
	b.done()
}

// fail records a failure, stops the timer and reports it.
func (b *base) fail(err *Error, peerName string, e *Entry, msg string) {
	b.setTimer(0)
	err.Protocol, err.Role = b.proto, b.role
	if err.Secrets == "" && b.cfg.Secrets != nil {
		err.Secrets = b.cfg.Secrets.Name()
	}
	if e != nil && err.Source == "" {
		err.Source = e.where()
	}
	b.res = Result{Status: Failed, Err: err, PeerName: peerName, Entry: e, Message: msg}
	b.logf(slog.LevelWarn, err.Error())
	b.done()
}

func (b *base) done() {
	if b.cfg.Done != nil {
		b.cfg.Done(b.res)
	}
}

// stop implements Stop.
func (b *base) stop() {
	if b.stopped {
		return
	}
	b.setTimer(0)
	b.stopped = true
	clear(b.buf)
}

// protocolRejected implements ProtocolRejected.
func (b *base) protocolRejected() {
	if b.stopped {
		return
	}
	if b.started && b.res.Status == Pending {
		b.fail(&Error{Cause: ProtocolRejected}, "", nil, "")
	}
	b.stop()
}

// parse validates an input packet and traces it; it returns false for a
// packet to drop.
func (b *base) parse(pkt []byte) (ppp.Packet, bool) {
	b.trace("rcvd ", pkt)
	if !b.active() {
		return nil, false
	}
	p, err := ppp.ParsePacket(pkt)
	if err != nil {
		return nil, false
	}
	return p, true
}

// trace logs a packet at debug level, as pppd does.
func (b *base) trace(prefix string, pkt []byte) {
	if !b.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	b.text = append(b.text[:0], prefix...)
	b.text = AppendPacketText(b.text, b.proto, pkt)
	b.log.LogAttrs(context.Background(), slog.LevelDebug, string(b.text))
}

// logf logs msg at level.
func (b *base) logf(level slog.Level, msg string) {
	if b.log.Enabled(context.Background(), level) {
		b.log.LogAttrs(context.Background(), level, msg)
	}
}

// lookupError turns the error of a secrets lookup into an *Error.
func lookupError(err error, client, server string) *Error {
	if errors.Is(err, ErrNoSecret) {
		return &Error{Cause: NoSecret, Client: client, Server: server}
	}
	return &Error{Cause: SecretUnusable, Client: client, Server: server, Err: unwrapLookup(err)}
}

// unwrapLookup strips the description of the entry from a lookup error,
// which the *Error repeats in its own words, and keeps what failed.
func unwrapLookup(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
