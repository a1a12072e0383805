package ipv6cp

import (
	"crypto/rand"
	"errors"
	"io"
	"net/netip"

	"github.com/pppssh/pppssh/ppp"
)

// Configuration option types of IPV6CP (RFC 5072 section 4). They are
// untyped so that they compare with ppp.Option.Type.
const (
	OptInterfaceIdentifier     = 1 // Interface-Identifier (RFC 5072 section 4.1)
	OptIPv6CompressionProtocol = 2 // IPv6-Compression-Protocol (RFC 5072 section 4.2)
)

// InterfaceID is an IPv6 interface identifier: the low 64 bits of an IPv6
// unicast address (RFC 4291 section 2.5.1), in network byte order. IPV6CP
// negotiates one for each end of the link, and each end's link-local
// address is fe80::/64 followed by its identifier (RFC 5072 section 5). The
// zero InterfaceID means "none".
type InterfaceID [8]byte

// IsZero reports whether id is the zero identifier, which no end may use.
func (id InterfaceID) IsZero() bool { return id == InterfaceID{} }

// LinkLocal returns the link-local address fe80::id (RFC 4291 section
// 2.5.6, RFC 5072 section 5), or the zero Addr for the zero identifier.
func (id InterfaceID) LinkLocal() netip.Addr {
	if id.IsZero() {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 8: id[0], 9: id[1], 10: id[2], 11: id[3],
		12: id[4], 13: id[5], 14: id[6], 15: id[7]})
}

// String returns id as pppd's ipv6 option writes it, an IPv6 address whose
// first 64 bits are zero ("::1", "::dead:beef", "::123:4567:89ab:cdef"), so
// that ParseInterfaceID reads it back; the zero identifier is "::". (pppd's
// debug log prints the link-local form, "fe80::0000:0000:0000:0001"; see
// Handler.AppendOptionText.)
func (id InterfaceID) String() string {
	return netip.AddrFrom16([16]byte{8: id[0], 9: id[1], 10: id[2], 11: id[3],
		12: id[4], 13: id[5], 14: id[6], 15: id[7]}).String()
}

// AppendInterfaceIdentifier appends an Interface-Identifier option (RFC 5072
// section 4.1: type 1, length 10) carrying id to b and returns the extended
// slice. ParseInterfaceIdentifier decodes it.
func AppendInterfaceIdentifier(b []byte, id InterfaceID) []byte {
	b = append(b, OptInterfaceIdentifier, 10)
	return append(b, id[:]...)
}

// ParseInterfaceIdentifier returns the identifier an Interface-Identifier
// option carries. It returns an error wrapping ppp.ErrMalformed when opt is
// of another type or does not carry exactly 8 octets of data.
func ParseInterfaceIdentifier(opt ppp.Option) (InterfaceID, error) {
	if opt.Type != OptInterfaceIdentifier {
		return InterfaceID{}, errNotInterfaceIdentifier
	}
	id, ok := decodeID(opt.Data)
	if !ok {
		return InterfaceID{}, errInterfaceIdentifierLength
	}
	return id, nil
}

// decodeID returns the identifier in an Interface-Identifier option's data,
// or false if the data is not 8 octets long.
func decodeID(d []byte) (InterfaceID, bool) {
	if len(d) != 8 {
		return InterfaceID{}, false
	}
	return InterfaceID(d), true
}

// Config configures a Handler. The zero Config requests a random identifier
// for us, takes whatever identifier the peer assigns us instead, and lets the
// peer use any identifier it asks for.
type Config struct {
	// Local is our interface identifier, the first half of pppd's
	// "ipv6 ::1,::2" argument (see ParseIdentifiers). When it is zero we
	// request a random one, drawn from Rand once when the Handler is
	// created, and take the identifier a Configure-Nak offers instead; that
	// implies AcceptLocal.
	Local InterfaceID
	// Remote is the identifier the peer must use, the second half of
	// pppd's ipv6 argument. It is given to the peer in a Configure-Nak when
	// it asks for the zero identifier, for ours, for another one (unless
	// AcceptRemote is set) or for none. When it is zero the peer chooses its
	// own identifier; that implies AcceptRemote.
	Remote InterfaceID
	// AcceptLocal takes the peer's idea of our identifier over Local
	// (pppd's ipv6cp-accept-local).
	AcceptLocal bool
	// AcceptRemote lets the peer use another identifier than Remote
	// (pppd's ipv6cp-accept-remote).
	AcceptRemote bool

	// UseIPAddr derives Local from LocalIPv4 and Remote from RemoteIPv4 when
	// they are zero, as pppd's ipv6cp-use-ipaddr does from the IPv4
	// addresses configured for IPCP: the identifier is the IPv4 address in
	// its low 32 bits (192.0.2.1 gives ::c000:201). A derived identifier
	// counts as configured. Unset or 0.0.0.0 addresses derive nothing.
	UseIPAddr bool
	// LocalIPv4 and RemoteIPv4 are the IPv4 addresses UseIPAddr derives
	// identifiers from, normally ipcp.Config's Local and Remote.
	LocalIPv4, RemoteIPv4 netip.Addr

	// Rand is the source of random identifiers: ours when Local is zero,
	// and those we suggest to a peer that asks for the zero identifier or
	// for ours while we have no Remote. Nil means crypto/rand.Reader;
	// tests give a deterministic source. A random identifier has the
	// universal/local bit cleared (RFC 4291 appendix A), as pppd's are.
	// If Rand fails or keeps giving unusable values, New fails when it
	// needs our identifier; later, we keep our identifier, or Reject the
	// peer's option when we have nothing to suggest.
	Rand io.Reader

	// Up is called when IPV6CP reaches Opened (tlu), with what was agreed.
	// If n.Err is non-nil the identifiers are unusable: do not configure
	// the interface, and Close the automaton with n.Err.Error() as the
	// reason once the automaton call that led here has returned.
	Up func(n Negotiated)
	// Down is called when IPV6CP leaves Opened (tld), after an Up.
	Down func()
	// Started is called when IPV6CP needs the lower layer (tls).
	Started func()
	// Finished is called when IPV6CP no longer needs the lower layer (tlf).
	Finished func()
}

// Negotiated is what IPV6CP agreed on, reported to Config.Up.
type Negotiated struct {
	// Local and Peer are the two ends' interface identifiers; both are
	// non-zero and distinct unless Err is set, when both are zero.
	Local, Peer InterfaceID
	// Err is non-nil, an *IdentifierError, when the negotiation ended
	// without usable identifiers; the layer must then be closed.
	Err error
}

// LocalAddr returns our link-local address, fe80:: followed by Local, or
// the zero Addr when Err is set.
func (n Negotiated) LocalAddr() netip.Addr { return n.Local.LinkLocal() }

// PeerAddr returns the peer's link-local address, fe80:: followed by Peer,
// or the zero Addr when Err is set.
func (n Negotiated) PeerAddr() netip.Addr { return n.Peer.LinkLocal() }

// state is what the Handler knows in one negotiation, from Reset to Reset.
// It plays the roles of pppd's ipv6cp_gotoptions and ipv6cp_hisoptions.
type state struct {
	ours       InterfaceID // the identifier we request, or would if request were set
	request    bool        // we include Interface-Identifier in our requests
	his        InterfaceID // the peer's identifier, when acked
	acked      bool        // our last Configure-Ack carried the peer's identifier
	suggested  InterfaceID // the identifier we last offered the peer in a Nak (pppd's go->hisid)
	nakMissing bool        // we may still append Remote to a Nak of a request lacking the option (pppd's req_ifaceid)

	// localConflict and peerConflict hold the disagreement seen last about
	// our identifier and the peer's, while it lasts.
	localConflict IdentifierError
	peerConflict  IdentifierError
}

// conflict returns the disagreement that explains most, or nil: the peer
// asking for our own identifier (the cause when both ends are configured
// with the same one), then our identifier, then the peer's.
func (s *state) conflict() *IdentifierError {
	var e IdentifierError
	switch {
	case s.peerConflict.Problem == SameIdentifier:
		e = s.peerConflict
	case s.localConflict.Problem != 0:
		e = s.localConflict
	case s.peerConflict.Problem != 0:
		e = s.peerConflict
	default:
		return nil
	}
	return &e
}

// Handler is IPV6CP's half of a ppp.Automaton (RFC 5072): it implements
// ppp.Handler, ppp.LayerHandler and ppp.OptionFormatter. Like the
// automaton, it is owned by one goroutine and has no lock.
type Handler struct {
	cfg          Config
	rand         io.Reader
	local        InterfaceID // configured (or derived) Local, zero if none
	remote       InterfaceID // configured (or derived) Remote, zero if none
	acceptLocal  bool        // take the peer's idea of our identifier
	acceptRemote bool        // let the peer choose its own identifier
	tentative    InterfaceID // our identifier at the start of each negotiation

	st  state
	err *IdentifierError // why the last Up found the identifiers unusable

	buf   [8]byte // random draws land here, so that they do not allocate
	reply ppp.Reply
}

var (
	_ ppp.Handler         = (*Handler)(nil)
	_ ppp.LayerHandler    = (*Handler)(nil)
	_ ppp.OptionFormatter = (*Handler)(nil)
)

// maxDraws bounds the random draws for one identifier, so that a source
// that keeps giving unusable values cannot hang the Handler.
const maxDraws = 16

// New returns a Handler for c, ready for ppp.Config.Handler. It returns an
// error when Local and Remote (as given or derived with UseIPAddr) are the
// same, when UseIPAddr is given an address that is not IPv4, or when Local
// is zero and Rand cannot supply a random identifier.
func New(c Config) (*Handler, error) {
	h := &Handler{cfg: c, rand: c.Rand, local: c.Local, remote: c.Remote}
	if h.rand == nil {
		h.rand = rand.Reader
	}
	if c.UseIPAddr {
		var err error
		if h.local.IsZero() {
			if h.local, err = fromIPv4("LocalIPv4", c.LocalIPv4); err != nil {
				return nil, err
			}
		}
		if h.remote.IsZero() {
			if h.remote, err = fromIPv4("RemoteIPv4", c.RemoteIPv4); err != nil {
				return nil, err
			}
		}
	}
	if !h.local.IsZero() && h.local == h.remote {
		return nil, errors.New("ipv6cp: Local and Remote are both " + h.local.String() +
			" (each end needs its own interface identifier)")
	}
	h.acceptLocal = c.AcceptLocal || h.local.IsZero()
	h.acceptRemote = c.AcceptRemote || h.remote.IsZero()
	h.tentative = h.local
	if h.tentative.IsZero() {
		id, ok := h.draw(h.remote, h.remote)
		if !ok {
			return nil, errors.New("ipv6cp: Rand gave no usable random interface identifier" +
				" (set Local, or give Rand a working source of randomness)")
		}
		h.tentative = id
	}
	h.Reset()
	return h, nil
}

// fromIPv4 derives an identifier from an IPv4 address as pppd's
// eui64_setlo32 does: the address in the low 32 bits. An unset address or
// 0.0.0.0 gives the zero identifier.
func fromIPv4(name string, a netip.Addr) (InterfaceID, error) {
	if !a.IsValid() {
		return InterfaceID{}, nil
	}
	a = a.Unmap()
	if !a.Is4() {
		return InterfaceID{}, errors.New("ipv6cp: " + name + " " + a.String() + " is not an IPv4 address")
	}
	a4 := a.As4()
	return InterfaceID{4: a4[0], 5: a4[1], 6: a4[2], 7: a4[3]}, nil
}

// draw returns a random identifier that is neither zero nor a nor b, with
// the universal/local bit cleared as pppd's eui64_magic does, or false if
// Rand failed or gave no such value in maxDraws tries.
func (h *Handler) draw(a, b InterfaceID) (InterfaceID, bool) {
	for range maxDraws {
		if _, err := io.ReadFull(h.rand, h.buf[:]); err != nil {
			return InterfaceID{}, false
		}
		id := InterfaceID(h.buf)
		id[0] &^= 0x02
		if !id.IsZero() && id != a && id != b {
			return id, true
		}
	}
	return InterfaceID{}, false
}

// peerID returns the peer's identifier as far as we know it: the one we
// acknowledged, else the one we last suggested, else Remote.
func (h *Handler) peerID() InterfaceID {
	switch {
	case h.st.acked:
		return h.st.his
	case !h.st.suggested.IsZero():
		return h.st.suggested
	}
	return h.remote
}

// typeSet is a set of option types.
type typeSet [8]uint32

// add adds typ to s and reports whether it was there already.
func (s *typeSet) add(typ uint8) bool {
	w, bit := typ>>5, uint32(1)<<(typ&31)
	had := s[w]&bit != 0
	s[w] |= bit
	return had
}

// Reset starts a fresh negotiation (pppd's resetci): we request our
// tentative identifier again (Local, or the random one drawn by New) and
// forget what the peer said. The Automaton calls it.
func (h *Handler) Reset() {
	h.st = state{ours: h.tentative, request: true, nakMissing: true}
	h.err = nil
}

// AppendRequest appends the options of our Configure-Request to b (pppd's
// addci): Interface-Identifier with our identifier, unless the peer rejected
// it or we gave it up after Max-Failure Naks. IPv6-Compression-Protocol is
// never requested. The Automaton calls it.
func (h *Handler) AppendRequest(b []byte) []byte {
	if h.st.request {
		b = AppendInterfaceIdentifier(b, h.st.ours)
	}
	return b
}

// Acked records that the peer acknowledged our last request (pppd's
// ackci): our identifier is agreed. The Automaton calls it after checking
// that opts repeats the request.
func (h *Handler) Acked(opts []byte) {
	if h.st.request {
		h.st.localConflict = IdentifierError{}
	}
}

// Naked adjusts our next request to the peer's Configure-Nak (pppd's
// nakci). Each option may appear once; Interface-Identifier must carry 8
// octets and IPv6-Compression-Protocol at least 2.
//
// For the Interface-Identifier we requested: a non-zero suggestion other
// than the peer's own identifier is taken when AcceptLocal is set or Local
// is zero; otherwise we keep requesting Local and note the conflict. When
// Local is zero and the suggestion is zero or the peer's own identifier, we
// request a new random identifier. With rejectIfDisagree we stop requesting
// the option instead.
//
// An Interface-Identifier we did not request (the peer rejected it before)
// is a hint, as in pppd: a suggestion we would take makes us request it, and
// a zero one makes us request our random identifier when Local is zero;
// others, and all hints with rejectIfDisagree, are ignored. Other options
// are ignored. An invalid Nak returns an error and changes nothing. The
// Automaton calls it.
func (h *Handler) Naked(opts []byte, rejectIfDisagree bool) error {
	if ppp.CheckOptions(opts) != nil {
		return errMalformedNak
	}
	var seen typeSet
	var id InterfaceID
	found := false
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if seen.add(opt.Type) {
			return errBadNak
		}
		switch opt.Type {
		case OptInterfaceIdentifier:
			if id, ok = decodeID(opt.Data); !ok {
				return errBadNak
			}
			found = true
		case OptIPv6CompressionProtocol:
			if len(opt.Data) < 2 {
				return errBadNak
			}
		}
	}
	if !found {
		return nil
	}

	st := h.st
	peer := h.peerID()
	switch {
	case st.request && rejectIfDisagree:
		st.request = false
	case st.request && id == st.ours:
		// Nothing to change.
	case st.request && !id.IsZero() && h.acceptLocal && id != peer:
		st.ours = id
		st.localConflict = IdentifierError{}
	case st.request && !id.IsZero() && !h.acceptLocal:
		st.localConflict = IdentifierError{Problem: LocalIdentifierConflict, Ours: st.ours, Theirs: id}
	case st.request && h.local.IsZero():
		// The peer refused ours without a usable suggestion: pick another.
		if v, ok := h.draw(peer, st.ours); ok {
			st.ours = v
		}
	case st.request, rejectIfDisagree:
		// Local is configured: keep it. Or a hint we no longer follow.
	case !id.IsZero() && h.acceptLocal && id != peer:
		st.ours, st.request = id, true
		st.localConflict = IdentifierError{}
	case id.IsZero() && h.local.IsZero():
		st.request = true
		if st.ours == peer {
			if v, ok := h.draw(peer, peer); ok {
				st.ours = v
			}
		}
	}
	h.st = st
	return nil
}

// Rejected stops requesting the Interface-Identifier option when the peer's
// Configure-Reject lists it (pppd's rejci); we still use our identifier. The
// Reject must carry exactly the option we sent, once; otherwise Rejected
// returns an error and changes nothing. The Automaton calls it.
func (h *Handler) Rejected(opts []byte) error {
	if ppp.CheckOptions(opts) != nil {
		return errMalformedReject
	}
	st := h.st
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		id, valid := decodeID(opt.Data)
		if opt.Type != OptInterfaceIdentifier || !valid || !st.request || id != st.ours {
			return errBadReject
		}
		st.request = false
	}
	h.st = st
	return nil
}

// CheckRequest judges the peer's Configure-Request (pppd's reqci) and
// appends the reply's options to reply. The rules, for each option:
//
//   - Interface-Identifier: when we have a Remote and AcceptRemote is not
//     set, any other identifier is Nak'd with Remote. Otherwise the zero
//     identifier (the peer asks us to choose) and our own identifier (a
//     collision, RFC 5072 section 4.1) are Nak'd with Remote, or with a
//     fresh random identifier other than ours when we have no Remote, and
//     any other identifier is Acked. A request without the option gets a
//     Nak carrying Remote, if we have one, until a request would otherwise
//     have been Acked.
//   - IPv6-Compression-Protocol (header compression gains nothing inside an
//     SSH stream), unknown options, repeated options and malformed ones:
//     Reject.
//
// With rejectIfDisagree every Nak becomes a Reject. On Ack the peer's
// identifier is recorded for Up. The Automaton calls it; it does not
// allocate once its buffers have grown, unless Rand does.
func (h *Handler) CheckRequest(reply, opts []byte, rejectIfDisagree bool) (ppp.Code, []byte) {
	rp := &h.reply
	rp.Reset()
	st := &h.st
	var his InterfaceID
	acked, rejected, saw := false, false, false
	reject := func(opt ppp.Option) {
		rp.Reject(opt)
		rejected = true
	}
	nak := func(opt ppp.Option, id InterfaceID) {
		rp.Nak(opt, id[:], rejectIfDisagree)
		rejected = rejected || rejectIfDisagree
	}

	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if rp.Duplicate(opt.Type) {
			reject(opt)
			continue
		}
		if opt.Type != OptInterfaceIdentifier {
			// IPv6-Compression-Protocol, unknown options.
			reject(opt)
			continue
		}
		id, valid := decodeID(opt.Data)
		if !valid {
			reject(opt)
			continue
		}
		saw = true
		ours := st.ours
		switch {
		case !h.remote.IsZero() && !h.acceptRemote && id != h.remote:
			switch {
			case id == ours:
				st.peerConflict = IdentifierError{Problem: SameIdentifier, Ours: ours}
			case !id.IsZero():
				st.peerConflict = IdentifierError{Problem: PeerIdentifierConflict, Ours: h.remote, Theirs: id}
			}
			st.suggested = h.remote
			nak(opt, h.remote)
		case id.IsZero() || id == ours:
			if id == ours {
				st.peerConflict = IdentifierError{Problem: SameIdentifier, Ours: ours}
			}
			s := h.remote
			if s.IsZero() {
				if rejectIfDisagree {
					reject(opt)
					continue
				}
				var drawn bool
				if s, drawn = h.draw(ours, ours); !drawn {
					reject(opt) // nothing to suggest
					continue
				}
			}
			st.suggested = s
			nak(opt, s)
		default:
			his, acked = id, true
			st.peerConflict = IdentifierError{}
		}
	}
	if tail := []byte(r); len(tail) > 0 {
		// Options the Automaton should have refused: reject the rest of
		// the packet as one option of its leading type, as pppd does.
		data := tail[min(2, len(tail)):]
		reject(ppp.Option{Type: tail[0], Data: data[:min(len(data), 253)]})
	}

	// The peer did not send its identifier but we have one for it (RFC
	// 1661 section 5.3: the option MAY be appended to a Nak). Only
	// Interface-Identifier can be Nak'd, so this request would otherwise
	// have been Acked: the next such request is.
	if !saw && !rejected && !rejectIfDisagree && st.nakMissing && !h.remote.IsZero() {
		st.nakMissing = false
		nak(ppp.Option{Type: OptInterfaceIdentifier}, h.remote)
	}

	code, out := rp.Finish(reply, opts)
	if code == ppp.CodeConfigureAck {
		st.his, st.acked = his, acked
	}
	return code, out
}

// Up is tlu: IPV6CP reached Opened. It works out the Negotiated identifiers
// and calls Config.Up. The Automaton calls it.
func (h *Handler) Up() {
	n := h.negotiated()
	if h.cfg.Up != nil {
		h.cfg.Up(n)
	}
}

// Down is tld: IPV6CP left Opened. It calls Config.Down. The Automaton
// calls it.
func (h *Handler) Down() {
	if h.cfg.Down != nil {
		h.cfg.Down()
	}
}

// Started is tls; it calls Config.Started. The Automaton calls it.
func (h *Handler) Started() {
	if h.cfg.Started != nil {
		h.cfg.Started()
	}
}

// Finished is tlf; it calls Config.Finished. The Automaton calls it.
func (h *Handler) Finished() {
	if h.cfg.Finished != nil {
		h.cfg.Finished()
	}
}

// Err returns an *IdentifierError explaining why the identifiers could not
// be agreed: the failure found at the last Up, or else the disagreement
// seen last in the current negotiation, which the peer may still resolve
// and which remains after the Automaton gives up (Max-Failure,
// Max-Configure). It returns nil when there is nothing to explain. Reset
// clears it.
func (h *Handler) Err() error {
	if h.err != nil {
		return h.err
	}
	if e := h.st.conflict(); e != nil {
		return e
	}
	return nil
}

// negotiated works out the result at Up, as pppd's ipv6cp_up does, and
// records a failure in h.err. We always have an identifier of our own; it
// is unusable only if we gave up requesting it over a conflict. A peer that
// did not send its identifier is taken to use Remote, as pppd 2.4.9 and
// package ipcp do.
func (h *Handler) negotiated() Negotiated {
	st := &h.st
	local, peer := st.ours, h.remote
	var fail *IdentifierError
	switch {
	case st.acked:
		peer = st.his
		fail = st.conflict() // only a conflict about our identifier remains
	case st.peerConflict.Problem != 0 || st.localConflict.Problem != 0:
		fail = st.conflict()
	case peer.IsZero():
		fail = &IdentifierError{Problem: NoPeerIdentifier}
	}
	if fail == nil && local == peer {
		fail = &IdentifierError{Problem: SameIdentifier, Ours: local}
	}
	h.err = fail
	if fail != nil {
		return Negotiated{Err: fail}
	}
	return Negotiated{Local: local, Peer: peer}
}
