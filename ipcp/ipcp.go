package ipcp

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/pppssh/pppssh/ppp"
)

// Configuration option types of IPCP (RFC 1332 section 3 and RFC 1877
// section 1). They are untyped so that they compare with ppp.Option.Type.
const (
	OptIPAddresses           = 1   // IP-Addresses, deprecated (RFC 1332 section 3.1)
	OptIPCompressionProtocol = 2   // IP-Compression-Protocol (RFC 1332 section 3.2)
	OptIPAddress             = 3   // IP-Address (RFC 1332 section 3.3)
	OptPrimaryDNS            = 129 // Primary-DNS-Address (RFC 1877 section 1.1)
	OptPrimaryNBNS           = 130 // Primary-NBNS-Address (RFC 1877 section 1.2)
	OptSecondaryDNS          = 131 // Secondary-DNS-Address (RFC 1877 section 1.3)
	OptSecondaryNBNS         = 132 // Secondary-NBNS-Address (RFC 1877 section 1.4)
)

// IP-Compression-Protocol values pppd names in its logs.
const (
	vjComp    = 0x002d // Van Jacobson Compressed TCP/IP (RFC 1332 section 4.1)
	vjCompOld = 0x0037 // an older value some implementations send, pppd's old-VJ
)

// Config configures a Handler. The zero Config requests 0.0.0.0 for us, takes
// whatever address the peer assigns, lets the peer have any address it asks
// for, and offers it no name servers.
type Config struct {
	// Local is our address. When it is unset (the zero Addr or 0.0.0.0) we
	// request 0.0.0.0 and take the address the peer Naks, like pppd with
	// noipdefault; that implies AcceptLocal.
	Local netip.Addr
	// Remote is the address the peer must use, given to it in a
	// Configure-Nak when it asks for 0.0.0.0, for another address, or for
	// none. When it is unset the peer chooses its own address; that implies
	// AcceptRemote. Local and Remote together are pppd's
	// "192.0.2.1:192.0.2.2" argument; either side may be left empty.
	Remote netip.Addr
	// AcceptLocal takes the peer's idea of our address over Local
	// (pppd's ipcp-accept-local).
	AcceptLocal bool
	// AcceptRemote lets the peer use another address than Remote
	// (pppd's ipcp-accept-remote).
	AcceptRemote bool

	// DNS holds the primary and secondary DNS servers we give a peer that
	// asks for them (RFC 1877; pppd's ms-dns). If only one is set it is
	// given as both, as pppd does with a single ms-dns. When neither is set
	// the peer's requests for them are rejected.
	DNS [2]netip.Addr
	// NBNS holds the primary and secondary NetBIOS name servers we give a
	// peer that asks for them (RFC 1877; pppd's ms-wins), with the same
	// rules as DNS.
	NBNS [2]netip.Addr
	// UsePeerDNS asks the peer for its DNS servers (pppd's usepeerdns):
	// we request both with 0.0.0.0 and take the values it Naks. If the peer
	// rejects them we stop asking.
	UsePeerDNS bool

	// Up is called when IPCP reaches Opened (tlu), with what was agreed.
	// If n.Err is non-nil the addresses are unusable: do not configure the
	// interface, and Close the automaton with n.Err.Error() as the reason
	// once the automaton call that led here has returned.
	Up func(n Negotiated)
	// Down is called when IPCP leaves Opened (tld), after an Up.
	Down func()
	// Started is called when IPCP needs the lower layer (tls).
	Started func()
	// Finished is called when IPCP no longer needs the lower layer (tlf).
	Finished func()
}

// Negotiated is what IPCP agreed on, reported to Config.Up.
type Negotiated struct {
	// Local and Peer are the two ends' addresses; both are IPv4, distinct
	// and usable unless Err is set, when both are the zero Addr.
	Local, Peer netip.Addr
	// DNS holds the primary and secondary DNS servers the peer gave us, when
	// Config.UsePeerDNS is set; an entry is the zero Addr when the peer gave
	// none.
	DNS [2]netip.Addr
	// OfferedDNS and OfferedNBNS hold the servers the peer asked for and we
	// acknowledged; an entry is the zero Addr when it did not ask.
	OfferedDNS, OfferedNBNS [2]netip.Addr
	// Err is non-nil, an *AddressError, when the negotiation ended without
	// usable addresses; the layer must then be closed.
	Err error
}

// options is one set of IPCP option values. The Handler keeps four, in the
// roles of pppd's ipcp_options: want (what we ask for at the start of each
// negotiation), allow (what we let the peer have), got (what we ask for now
// and, once Acked, what the peer agreed to) and his (what we acknowledged of
// the peer's request). Addresses are IPv4 and 0.0.0.0 when unknown.
type options struct {
	addr         bool          // IP-Address: requested (want, got), allowed (allow) or acked (his)
	local        netip.Addr    // our address
	remote       netip.Addr    // the peer's address
	acceptLocal  bool          // take the peer's idea of our address
	acceptRemote bool          // let the peer choose its own address
	dns          [2]bool       // Primary/Secondary-DNS: requested, offered or acked
	dnsAddr      [2]netip.Addr // their values
	nbns         [2]bool       // Primary/Secondary-NBNS: offered (allow) or acked (his)
	nbnsAddr     [2]netip.Addr // their values
}

// Handler is IPCP's half of a ppp.Automaton (RFC 1332, RFC 1877): it
// implements ppp.Handler, ppp.LayerHandler and ppp.OptionFormatter. Like the
// automaton, it is owned by one goroutine and has no lock.
type Handler struct {
	cfg   Config
	want  options
	allow options
	got   options
	his   options

	// nakAddr is set while we may still append an IP-Address option to a
	// Configure-Nak for a request that lacks one (pppd's req_addr).
	nakAddr bool
	// localConflict and peerConflict hold the address disagreement seen
	// last about our address and the peer's, while it lasts.
	localConflict AddressError
	peerConflict  AddressError
	// err is why the last Up found the addresses unusable.
	err *AddressError

	reply ppp.Reply
}

var (
	_ ppp.Handler         = (*Handler)(nil)
	_ ppp.LayerHandler    = (*Handler)(nil)
	_ ppp.OptionFormatter = (*Handler)(nil)
)

var unspecified = netip.IPv4Unspecified()

// New returns a Handler for c, ready for ppp.Config.Handler. It returns an
// error when an address in c is not IPv4 (IPv4-mapped IPv6 is accepted),
// when Local or Remote is not a unicast address, or when both are the same.
func New(c Config) (*Handler, error) {
	var err error
	if c.Local, err = configAddr("Local", c.Local, true); err != nil {
		return nil, err
	}
	if c.Remote, err = configAddr("Remote", c.Remote, true); err != nil {
		return nil, err
	}
	if known(c.Local) && c.Local == c.Remote {
		return nil, errors.New("ipcp: Local and Remote are both " + c.Local.String() + " (each end needs its own address)")
	}
	for i := range 2 {
		if c.DNS[i], err = configAddr("DNS", c.DNS[i], false); err != nil {
			return nil, err
		}
		if c.NBNS[i], err = configAddr("NBNS", c.NBNS[i], false); err != nil {
			return nil, err
		}
	}
	h := &Handler{cfg: c}
	h.want = options{
		addr:         true,
		local:        c.Local,
		remote:       c.Remote,
		acceptLocal:  c.AcceptLocal || !known(c.Local),
		acceptRemote: c.AcceptRemote || !known(c.Remote),
		dns:          [2]bool{c.UsePeerDNS, c.UsePeerDNS},
		dnsAddr:      [2]netip.Addr{unspecified, unspecified},
	}
	h.allow = options{addr: true}
	h.allow.dns, h.allow.dnsAddr = servers(c.DNS)
	h.allow.nbns, h.allow.nbnsAddr = servers(c.NBNS)
	h.Reset()
	return h, nil
}

// configAddr checks one configured address and returns it as IPv4, with
// 0.0.0.0 for an unset one.
func configAddr(name string, a netip.Addr, unicast bool) (netip.Addr, error) {
	if !a.IsValid() {
		return unspecified, nil
	}
	a = a.Unmap()
	if !a.Is4() {
		return unspecified, errors.New("ipcp: " + name + " " + a.String() + " is not an IPv4 address")
	}
	if unicast && !a.IsUnspecified() && !usable(a) {
		return unspecified, errors.New("ipcp: " + name + " " + a.String() + " is not a unicast address")
	}
	return a, nil
}

// servers returns the servers to offer for a DNS or NBNS configuration: a
// single one serves as both primary and secondary.
func servers(c [2]netip.Addr) (offer [2]bool, addr [2]netip.Addr) {
	addr = c
	switch {
	case !known(addr[0]):
		addr[0] = addr[1]
	case !known(addr[1]):
		addr[1] = addr[0]
	}
	return [2]bool{known(addr[0]), known(addr[1])}, addr
}

// known reports whether a is an address rather than unset or 0.0.0.0.
func known(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() }

// usable reports whether a can be an end of the link: an IPv4 unicast
// address, not 0.0.0.0, loopback, multicast, broadcast or class E.
func usable(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && a.As4()[0] < 240
}

// addr4 returns the address in an option's four data octets.
func addr4(d []byte) netip.Addr { return netip.AddrFrom4([4]byte(d)) }

// appendAddrOption appends an option of type typ carrying address a.
func appendAddrOption(b []byte, typ uint8, a netip.Addr) []byte {
	a4 := a.As4()
	return ppp.AppendOptionUint32(b, typ, binary.BigEndian.Uint32(a4[:]))
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

// rank gives the position of each option we request in our
// Configure-Request, which a Configure-Nak or Configure-Reject must keep.
func rank(typ uint8) int {
	switch typ {
	case OptIPAddress:
		return 1
	case OptPrimaryDNS:
		return 2
	case OptSecondaryDNS:
		return 3
	}
	return 0
}

// secondary maps Primary-DNS/NBNS to 0 and Secondary-DNS/NBNS to 1.
func secondary(typ uint8) int {
	if typ == OptSecondaryDNS || typ == OptSecondaryNBNS {
		return 1
	}
	return 0
}

// Reset starts a fresh negotiation (pppd's resetci): we ask again for what
// the Config wants and forget what the peer said. The Automaton calls it.
func (h *Handler) Reset() {
	h.got = h.want
	h.his = options{}
	h.nakAddr = true
	h.localConflict = AddressError{}
	h.peerConflict = AddressError{}
	h.err = nil
}

// AppendRequest appends the options of our Configure-Request to b (pppd's
// addci): IP-Address with our address, or 0.0.0.0 when we have none yet,
// then Primary-DNS and Secondary-DNS when we ask the peer for them.
// IP-Compression-Protocol is never requested. The Automaton calls it.
func (h *Handler) AppendRequest(b []byte) []byte {
	if h.got.addr {
		b = appendAddrOption(b, OptIPAddress, h.got.local)
	}
	if h.got.dns[0] {
		b = appendAddrOption(b, OptPrimaryDNS, h.got.dnsAddr[0])
	}
	if h.got.dns[1] {
		b = appendAddrOption(b, OptSecondaryDNS, h.got.dnsAddr[1])
	}
	return b
}

// Acked records that the peer acknowledged our last request (pppd's ackci):
// what we asked for is now agreed. The Automaton calls it after checking
// that opts repeats the request.
func (h *Handler) Acked(opts []byte) {
	if h.got.addr {
		h.localConflict = AddressError{}
	}
}

// Naked adjusts our next request to the peer's Configure-Nak (pppd's
// nakci). The options we requested must come in our order, once each, with
// four octets of address. For IP-Address we take the peer's address for us
// if we have none or AcceptLocal is set, and otherwise keep insisting on
// ours; for the DNS options we take the peer's values. Options we did not
// request are hints: an IP-Address or DNS one makes us request it (as pppd
// does), others are ignored. With rejectIfDisagree we stop requesting the
// Nak'd options instead, and ignore hints. An invalid Nak returns an error
// and changes nothing. The Automaton calls it.
func (h *Handler) Naked(opts []byte, rejectIfDisagree bool) error {
	if ppp.CheckOptions(opts) != nil {
		return errMalformedNak
	}
	try := h.got
	conflict := h.localConflict
	var seen typeSet
	last := 0
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if seen.add(opt.Type) {
			return errBadNak
		}
		requested := false
		switch opt.Type {
		case OptIPAddress:
			requested = h.got.addr
		case OptPrimaryDNS, OptSecondaryDNS:
			requested = h.got.dns[secondary(opt.Type)]
		}
		if requested {
			if rank(opt.Type) <= last {
				return errBadNak
			}
			last = rank(opt.Type)
		}
		switch opt.Type {
		case OptIPAddress:
			if len(opt.Data) != 4 {
				return errBadNak
			}
			a := addr4(opt.Data)
			switch {
			case requested && rejectIfDisagree:
				try.addr = false
			case rejectIfDisagree, !known(a), a == try.local:
				// A hint we no longer follow, or nothing to change.
			case try.acceptLocal && usable(a):
				try.local = a
				conflict = AddressError{}
			case requested && !try.acceptLocal:
				conflict = AddressError{Problem: LocalAddressConflict, Ours: try.local, Theirs: a}
			}
			if !requested && !rejectIfDisagree && known(try.local) {
				try.addr = true
			}
		case OptPrimaryDNS, OptSecondaryDNS:
			if len(opt.Data) != 4 {
				return errBadNak
			}
			i := secondary(opt.Type)
			switch {
			case requested && rejectIfDisagree:
				try.dns[i] = false
			case rejectIfDisagree:
			default:
				try.dns[i] = true
				try.dnsAddr[i] = addr4(opt.Data)
			}
		case OptPrimaryNBNS, OptSecondaryNBNS:
			if len(opt.Data) != 4 {
				return errBadNak
			}
		case OptIPAddresses:
			if len(opt.Data) != 8 {
				return errBadNak
			}
		case OptIPCompressionProtocol:
			if len(opt.Data) < 2 {
				return errBadNak
			}
		}
	}
	h.got = try
	h.localConflict = conflict
	return nil
}

// Rejected stops requesting the options of the peer's Configure-Reject
// (pppd's rejci). They must be options of our last request, in its order,
// with the values we sent; otherwise Rejected returns an error and changes
// nothing. The Automaton calls it.
func (h *Handler) Rejected(opts []byte) error {
	if ppp.CheckOptions(opts) != nil {
		return errMalformedReject
	}
	try := h.got
	last := 0
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if rank(opt.Type) <= last || len(opt.Data) != 4 {
			return errBadReject
		}
		last = rank(opt.Type)
		a := addr4(opt.Data)
		switch opt.Type {
		case OptIPAddress:
			if !h.got.addr || a != h.got.local {
				return errBadReject
			}
			try.addr = false
		default: // Primary-DNS or Secondary-DNS
			i := secondary(opt.Type)
			if !h.got.dns[i] || a != h.got.dnsAddr[i] {
				return errBadReject
			}
			try.dns[i] = false
		}
	}
	h.got = try
	return nil
}

// CheckRequest judges the peer's Configure-Request (pppd's reqci) and
// appends the reply's options to reply. The rules, for each option:
//
//   - IP-Address: Ack the address configured as Remote. Any other usable
//     address is Acked when we have no Remote or AcceptRemote is set, and
//     Nak'd with Remote otherwise. 0.0.0.0, an address that is not unicast,
//     and our own address are Nak'd with Remote, or Rejected when we have
//     none to give. A request without IP-Address gets a Nak carrying Remote,
//     if we have one, until a request would otherwise have been Acked.
//   - Primary/Secondary-DNS and -NBNS: Ack the configured server, Nak any
//     other value with it, Reject when none is configured.
//   - IP-Compression-Protocol (VJ compression gains nothing inside an SSH
//     stream), the deprecated IP-Addresses, unknown options, repeated
//     options and malformed ones: Reject.
//
// With rejectIfDisagree every Nak becomes a Reject. On Ack the peer's values
// are recorded for Up. The Automaton calls it; it does not allocate once its
// buffers have grown.
func (h *Handler) CheckRequest(reply, opts []byte, rejectIfDisagree bool) (ppp.Code, []byte) {
	rp := &h.reply
	rp.Reset()
	var his options
	naked, rejected, sawAddr := false, false, false
	reject := func(opt ppp.Option) {
		rp.Reject(opt)
		rejected = true
	}
	nak := func(opt ppp.Option, a netip.Addr) {
		a4 := a.As4()
		rp.Nak(opt, a4[:], rejectIfDisagree)
		if rejectIfDisagree {
			rejected = true
		} else {
			naked = true
		}
	}

	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if rp.Duplicate(opt.Type) {
			reject(opt)
			continue
		}
		switch opt.Type {
		case OptIPAddress:
			if len(opt.Data) != 4 {
				reject(opt)
				continue
			}
			a := addr4(opt.Data)
			remote, local := h.want.remote, h.got.local
			switch {
			case known(remote) && a == remote:
				his.addr, his.remote = true, a
				h.peerConflict = AddressError{}
			case !usable(a) || a == local:
				if usable(a) { // the peer wants our address
					h.peerConflict = AddressError{Problem: SameAddress, Ours: local}
				}
				if !known(remote) {
					reject(opt)
					continue
				}
				nak(opt, remote)
			case known(remote) && !h.want.acceptRemote:
				h.peerConflict = AddressError{Problem: PeerAddressConflict, Ours: remote, Theirs: a}
				nak(opt, remote)
			default:
				his.addr, his.remote = true, a
				h.peerConflict = AddressError{}
			}
			sawAddr = true
		case OptPrimaryDNS, OptSecondaryDNS:
			i := secondary(opt.Type)
			if !h.allow.dns[i] || len(opt.Data) != 4 {
				reject(opt)
				continue
			}
			if srv := h.allow.dnsAddr[i]; addr4(opt.Data) != srv {
				nak(opt, srv)
				continue
			}
			his.dns[i], his.dnsAddr[i] = true, h.allow.dnsAddr[i]
		case OptPrimaryNBNS, OptSecondaryNBNS:
			i := secondary(opt.Type)
			if !h.allow.nbns[i] || len(opt.Data) != 4 {
				reject(opt)
				continue
			}
			if srv := h.allow.nbnsAddr[i]; addr4(opt.Data) != srv {
				nak(opt, srv)
				continue
			}
			his.nbns[i], his.nbnsAddr[i] = true, h.allow.nbnsAddr[i]
		default: // IP-Addresses, IP-Compression-Protocol, unknown
			reject(opt)
		}
	}
	if tail := []byte(r); len(tail) > 0 {
		// Options the Automaton should have refused: reject the rest of
		// the packet as one option of its leading type, as pppd does.
		data := tail[min(2, len(tail)):]
		reject(ppp.Option{Type: tail[0], Data: data[:min(len(data), 253)]})
	}

	// The peer did not ask for an address but we have one for it
	// (RFC 1332 section 3.3: the option SHOULD be appended to a Nak).
	if !sawAddr && !rejected && !rejectIfDisagree && h.nakAddr && known(h.want.remote) {
		if !naked {
			h.nakAddr = false // the next such request is Acked
		}
		nak(ppp.Option{Type: OptIPAddress}, h.want.remote)
	}

	code, out := rp.Finish(reply, opts)
	if code == ppp.CodeConfigureAck {
		h.his = his
	}
	return code, out
}

// Up is tlu: IPCP reached Opened. It works out the Negotiated addresses and
// calls Config.Up. The Automaton calls it.
func (h *Handler) Up() {
	n := h.negotiated()
	if h.cfg.Up != nil {
		h.cfg.Up(n)
	}
}

// Down is tld: IPCP left Opened. It calls Config.Down. The Automaton calls
// it.
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

// Err returns an *AddressError explaining why the addresses could not be
// agreed: the failure found at the last Up, or else the disagreement seen
// last in the current negotiation, which the peer may still resolve and
// which remains after the Automaton gives up (Max-Failure, Max-Configure).
// It returns nil when there is nothing to explain. Reset clears it.
func (h *Handler) Err() error {
	switch {
	case h.err != nil:
		return h.err
	case h.localConflict.Problem != 0:
		e := h.localConflict
		return &e
	case h.peerConflict.Problem != 0:
		e := h.peerConflict
		return &e
	}
	return nil
}

// negotiated works out the result at Up, as pppd's ipcp_up does, and
// records a failure in h.err. When both ends have a problem, a disagreement
// the peer insisted on explains more than what followed from it, so it is
// reported first; otherwise our own address comes first, as in pppd.
func (h *Handler) negotiated() Negotiated {
	var n Negotiated

	local, localFail := h.got.local, (*AddressError)(nil)
	switch {
	case h.got.addr:
		if !usable(local) {
			localFail = &AddressError{Problem: NoLocalAddress}
		}
	case h.localConflict.Problem != 0:
		e := h.localConflict
		localFail = &e
	case known(h.want.local):
		localFail = &AddressError{Problem: LocalAddressRefused, Ours: h.want.local}
	case !usable(local):
		localFail = &AddressError{Problem: NoLocalAddress}
	}

	peer, peerFail := h.want.remote, (*AddressError)(nil)
	switch {
	case h.his.addr:
		peer = h.his.remote
	case h.peerConflict.Problem != 0:
		e := h.peerConflict
		peerFail = &e
	case !usable(peer):
		peerFail = &AddressError{Problem: NoPeerAddress}
	}

	fail := localFail
	switch {
	case localFail != nil && localFail.conflict():
	case peerFail != nil && (peerFail.conflict() || localFail == nil):
		fail = peerFail
	case localFail == nil && local == peer:
		fail = &AddressError{Problem: SameAddress, Ours: local}
	}

	h.err = fail
	if fail != nil {
		n.Err = fail
	} else {
		n.Local, n.Peer = local, peer
	}
	for i := range 2 {
		if h.cfg.UsePeerDNS && h.got.dns[i] && usable(h.got.dnsAddr[i]) {
			n.DNS[i] = h.got.dnsAddr[i]
		}
		if h.his.dns[i] {
			n.OfferedDNS[i] = h.his.dnsAddr[i]
		}
		if h.his.nbns[i] {
			n.OfferedNBNS[i] = h.his.nbnsAddr[i]
		}
	}
	return n
}
