package lcp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// ErrLoopedBack says the line is looped back: our own Configure-Requests,
// Naks or Echo packets keep coming back to us (RFC 1661 section 6.4). The
// link closes LCP with LoopedBackReason and reports this error; the cure is
// outside PPP (fix the cabling, the modem, or the remote command).
var ErrLoopedBack = errors.New("lcp: serial line is looped back")

// LoopedBackReason is the Close reason for a looped-back line, the message
// pppd logs in that case.
const LoopedBackReason = "Serial line is looped back"

// Errors returned by Naked and Rejected; the automaton discards the packet.
var (
	errBadNak    = errors.New("lcp: invalid Configure-Nak")
	errBadReject = errors.New("lcp: invalid Configure-Reject")
)

// Handler is LCP's half of the negotiation: it implements ppp.Handler,
// ppp.LayerHandler, ppp.CodeHandler, ppp.OptionFormatter and
// ppp.CodeFormatter for an automaton of protocol ppp.ProtoLCP.
//
// A Handler is owned by the goroutine that drives its automaton: every
// method, including the accessors, must be called from that goroutine. No
// method keeps a slice it is given.
type Handler struct {
	cfg Config
	log *slog.Logger

	// The four option sets of pppd's lcp.c, plus req: what we request now,
	// which Naked and Rejected adjust and Acked copies into got.
	want, allow Options
	req         Options
	got, his    Options

	reply   ppp.Reply // reused for every CheckRequest
	scratch []byte    // our last request, rebuilt by Rejected

	// Loop-back indications (RFC 1661 section 6.4), counted separately so
	// that a looped line, which produces one of the first two per round,
	// is detected after LoopbackFail rounds as in pppd.
	reqLoops  int // peer's Configure-Request carried our magic
	nakLoops  int // peer Nak'd our magic
	echoLoops int // a Link-Maintenance packet carried our magic
	loopLimit int

	up  bool
	neg Negotiated

	// Keep-alive state, reset by Up.
	echoID   uint8
	pending  int
	sent     [256]time.Time // when each outstanding Echo-Request left; zero if none
	rtt      RTTStats
	rttSum   time.Duration
	buf      []byte // Echo-Request and Echo-Reply data
	counters Counters
}

var (
	_ ppp.Handler         = (*Handler)(nil)
	_ ppp.LayerHandler    = (*Handler)(nil)
	_ ppp.CodeHandler     = (*Handler)(nil)
	_ ppp.OptionFormatter = (*Handler)(nil)
	_ ppp.CodeFormatter   = (*Handler)(nil)
)

// New returns a Handler for cfg. Out-of-range values are brought into
// range: an MRU below MinMRU is raised to it, Want.FCS keeps only its
// strongest bit and Allow.FCS always includes FCS16. New starts nothing.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, want: cfg.Want, allow: cfg.Allow}
	h.log = cfg.Logger
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.cfg.Now == nil {
		h.cfg.Now = time.Now
	}
	if h.cfg.Magic == nil {
		h.cfg.Magic = rand.Uint32
	}
	h.loopLimit = cfg.LoopbackFail
	if h.loopLimit <= 0 {
		h.loopLimit = DefaultLoopbackFail
	}

	w, a := &h.want, &h.allow
	if w.MRU == 0 {
		w.MRU = DefaultMRU
	}
	w.MRU = max(w.MRU, MinMRU)
	if a.MRU == 0 {
		a.MRU = MaxMRU
	}
	a.MRU = max(a.MRU, MinMRU)
	w.Auth &= AuthPAP | AuthCHAPMD5
	a.Auth &= AuthPAP | AuthCHAPMD5
	if w.FCS = w.FCS.strongest(); w.FCS == 0 {
		w.FCS = FCS32
	}
	a.FCS = (a.FCS | FCS16) & (FCS16 | FCS32)
	h.buf = make([]byte, 0, 64)
	h.Reset()
	return h
}

// Reset starts a fresh negotiation (pppd's lcp_resetci): we request want
// again with a new random magic number, and forget the peer's values and
// the loop-back counts. The automaton calls it.
func (h *Handler) Reset() {
	h.req = h.want
	if h.req.NegMagic {
		h.req.Magic = h.newMagic(0, 0)
	}
	h.got, h.his = Options{}, Options{}
	h.reqLoops, h.nakLoops, h.echoLoops = 0, 0, 0
}

// AppendRequest appends the options of our Configure-Request to b (pppd's
// lcp_addci). The automaton calls it.
func (h *Handler) AppendRequest(b []byte) []byte {
	return h.req.Append(b)
}

// Acked records that the peer acknowledged our request (pppd's
// lcp_ackci): what we requested becomes got. The automaton has checked that
// opts repeats our request.
func (h *Handler) Acked(opts []byte) {
	h.got = h.req
	if h.got.NegAuth {
		h.got.Auth = h.got.Auth.preferred()
		h.got.NegAuth = h.got.Auth != 0
	}
	if h.got.NegFCS {
		h.got.FCS = h.got.FCS.strongest()
	}
}

// Naked adjusts our next request to the peer's Configure-Nak (pppd's
// lcp_nakci):
//
//   - MRU: take the peer's value if it is at most what we want or
//     DefaultMRU (never below MinMRU); a suggested MRU we did not request
//     is taken when it is below DefaultMRU.
//   - ACCM: add the peer's characters to our map.
//   - Authentication-Protocol: switch to the suggested method if Want
//     allows it, else drop the method Nak'd (and stop asking when none is
//     left).
//   - Magic-Number: draw a new random magic and count a loop-back
//     indication.
//   - FCS-Alternatives: stop asking (the default FCS-16 stays).
//
// Options we did not request are hints (RFC 1661 section 5.3) and are
// otherwise ignored. With rejectIfDisagree (Max-Failure Naks received) we
// stop requesting every Nak'd option except the magic number.
//
// It returns an error and changes nothing when a Nak'd option we requested
// is out of order or repeated, when a known option has a wrong length, when
// a boolean option (PFC, ACFC) is Nak'd, or when the options are malformed.
func (h *Handler) Naked(opts []byte, rejectIfDisagree bool) error {
	try := h.req
	loops := h.nakLoops
	var seen [8]uint32
	last := uint8(0)
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		w, bit := opt.Type>>5, uint32(1)<<(opt.Type&31)
		if seen[w]&bit != 0 {
			return errBadNak
		}
		seen[w] |= bit
		d := opt.Data
		if !h.req.requests(opt.Type) {
			if !h.hint(&try, opt, rejectIfDisagree) {
				return errBadNak
			}
			continue
		}
		if opt.Type < last {
			return errBadNak
		}
		last = opt.Type
		switch opt.Type {
		case OptMRU:
			if len(d) != 2 {
				return errBadNak
			}
			v := be16(d)
			switch {
			case rejectIfDisagree:
				try.NegMRU = false
			case v <= h.want.MRU || v <= DefaultMRU:
				try.MRU = max(v, MinMRU)
			}
		case OptACCM:
			if len(d) != 4 {
				return errBadNak
			}
			if rejectIfDisagree {
				try.NegACCM = false
			} else {
				try.ACCM |= be32(d)
			}
		case OptAuthProtocol:
			if len(d) < 2 {
				return errBadNak
			}
			asked := try.Auth.preferred()
			s := authMethodOf(d)
			switch {
			case s == asked:
				return errBadNak // Nak'd our method, suggesting it back
			case !rejectIfDisagree && s != 0 && h.want.Auth&s != 0:
				try.Auth = s
			default:
				try.Auth &^= asked
				try.NegAuth = try.Auth != 0 && !rejectIfDisagree
			}
		case OptMagicNumber:
			if len(d) != 4 {
				return errBadNak
			}
			try.Magic = h.newMagic(h.req.Magic, be32(d))
			loops++
		case OptPFC, OptACFC:
			return errBadNak // a boolean option can only be Rejected
		case OptFCSAlternatives:
			if len(d) != 1 {
				return errBadNak
			}
			try.NegFCS = false
		}
	}
	if r.Err() != nil {
		return errBadNak
	}
	h.req = try
	if loops != h.nakLoops {
		h.nakLoops = loops
		h.noteLoop(h.nakLoops, "peer Nak'd our magic number")
	}
	return nil
}

// hint handles a Nak'd option we did not request. It reports false when
// the option is malformed.
func (h *Handler) hint(try *Options, opt ppp.Option, rejectIfDisagree bool) bool {
	d := opt.Data
	switch opt.Type {
	case OptMRU:
		if len(d) != 2 {
			return false
		}
		// A peer that can only receive less than the default MRU asks us to
		// announce a smaller one; doing so is harmless.
		if v := be16(d); h.want.NegMRU && !rejectIfDisagree && v >= MinMRU && v < DefaultMRU {
			try.NegMRU, try.MRU = true, v
		}
	case OptACCM, OptMagicNumber:
		return len(d) == 4
	case OptAuthProtocol:
		return len(d) >= 2
	case OptPFC, OptACFC:
		return len(d) == 0
	case OptFCSAlternatives:
		return len(d) == 1
	}
	return true
}

// Rejected stops requesting the options of the peer's Configure-Reject
// (pppd's lcp_rejci). Rejecting our magic number turns loop-back detection
// off; rejecting FCS-Alternatives leaves the default FCS-16 (pppd does not
// know the option). It returns an error and changes nothing unless opts
// lists options of our last request, verbatim and in the same order.
func (h *Handler) Rejected(opts []byte) error {
	h.scratch = h.req.Append(h.scratch[:0])
	sent := ppp.OptionReader(h.scratch)
	try := h.req
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		found := false
		for s, ok := sent.Next(); ok; s, ok = sent.Next() {
			if s.Type == opt.Type && bytes.Equal(s.Data, opt.Data) {
				found = true
				break
			}
		}
		if !found {
			return errBadReject
		}
		switch opt.Type {
		case OptMRU:
			try.NegMRU = false
		case OptACCM:
			try.NegACCM = false
		case OptAuthProtocol:
			try.NegAuth = false
		case OptMagicNumber:
			try.NegMagic = false
		case OptPFC:
			try.NegPFC = false
		case OptACFC:
			try.NegACFC = false
		case OptFCSAlternatives:
			try.NegFCS = false
		}
	}
	if r.Err() != nil {
		return errBadReject
	}
	h.req = try
	return nil
}

// CheckRequest judges the peer's Configure-Request options (pppd's
// lcp_reqci) and appends the reply's Data to reply; see the package
// documentation for the rules of each option. It does not allocate in
// steady state. On Ack it records the peer's values as his.
//
// opts should have passed ppp.CheckOptions; if it did not, the malformed
// tail is rejected as one option running to the end of the packet, as pppd
// does, and the reply stays well-formed.
func (h *Handler) CheckRequest(reply, opts []byte, rejectIfDisagree bool) (ppp.Code, []byte) {
	rp := &h.reply
	rp.Reset()
	var his Options
	r := ppp.OptionReader(opts)
	for opt, ok := r.Next(); ok; opt, ok = r.Next() {
		if rp.Duplicate(opt.Type) {
			rp.Reject(opt)
			continue
		}
		h.checkOption(rp, &his, opt, rejectIfDisagree)
	}
	if tail := []byte(r); len(tail) > 0 {
		bad := ppp.Option{Type: tail[0]}
		if len(tail) > 2 {
			bad.Data = tail[2:min(len(tail), 255)]
		}
		rp.Reject(bad)
	}
	code, out := rp.Finish(reply, opts)
	if code == ppp.CodeConfigureAck {
		h.his = his
	} else {
		h.his = Options{}
	}
	return code, out
}

// checkOption judges one option of the peer's request: it records a
// Reject or Nak in rp, or the accepted value in his.
func (h *Handler) checkOption(rp *ppp.Reply, his *Options, opt ppp.Option, rejectIfDisagree bool) {
	d := opt.Data
	a := &h.allow
	var s [5]byte // suggested value of a Nak
	switch opt.Type {
	case OptMRU:
		if !a.NegMRU || len(d) != 2 {
			rp.Reject(opt)
			return
		}
		switch v := be16(d); {
		case v < MinMRU:
			rp.Nak(opt, put16(s[:0], MinMRU), rejectIfDisagree)
		case v > a.MRU:
			rp.Nak(opt, put16(s[:0], a.MRU), rejectIfDisagree)
		default:
			his.NegMRU, his.MRU = true, v
		}

	case OptACCM:
		if !a.NegACCM || len(d) != 4 {
			rp.Reject(opt)
			return
		}
		if v := be32(d); a.ACCM&^v != 0 {
			rp.Nak(opt, put32(s[:0], a.ACCM|v), rejectIfDisagree)
		} else {
			his.NegACCM, his.ACCM = true, v
		}

	case OptAuthProtocol:
		// We cannot authenticate ourselves without credentials.
		if !a.NegAuth || a.Auth == 0 || len(d) < 2 {
			rp.Reject(opt)
			return
		}
		proto := ppp.Protocol(be16(d))
		if (proto == ppp.ProtoPAP && len(d) != 2) || (proto == ppp.ProtoCHAP && len(d) != 3) {
			rp.Reject(opt)
			return
		}
		if m := authMethodOf(d); m != 0 && a.Auth&m != 0 {
			his.NegAuth, his.Auth = true, m
			return
		}
		sug := appendAuthOption(s[:0], a.Auth.preferred())
		rp.Nak(opt, sug[2:], rejectIfDisagree)

	case OptMagicNumber:
		if !(a.NegMagic || h.req.NegMagic) || len(d) != 4 {
			rp.Reject(opt)
			return
		}
		// RFC 1661 section 6.4: a zero magic must be Nak'd, and an equal one
		// may mean the line is looped back. Both are Nak'd whatever
		// rejectIfDisagree says: rejecting would defeat loop detection.
		v := be32(d)
		switch {
		case v == 0:
			rp.Nak(opt, put32(s[:0], h.newMagic(h.req.Magic, 0)), false)
		case h.req.NegMagic && v == h.req.Magic:
			rp.Nak(opt, put32(s[:0], h.newMagic(h.req.Magic, 0)), false)
			h.reqLoops++
			h.noteLoop(h.reqLoops, "peer's Configure-Request carries our magic number")
		default:
			his.NegMagic, his.Magic = true, v
		}

	case OptPFC:
		if !a.NegPFC || len(d) != 0 {
			rp.Reject(opt)
			return
		}
		his.NegPFC = true

	case OptACFC:
		if !a.NegACFC || len(d) != 0 {
			rp.Reject(opt)
			return
		}
		his.NegACFC = true

	case OptFCSAlternatives:
		if !a.NegFCS || len(d) != 1 {
			rp.Reject(opt)
			return
		}
		// The option lists the FCSes the peer accepts to receive; we send
		// the strongest one we can.
		if f := (FCS(d[0]) & a.FCS).strongest(); f != 0 {
			his.NegFCS, his.FCS = true, f
			return
		}
		s[0] = byte(a.FCS)
		rp.Nak(opt, s[:1], rejectIfDisagree)

	default: // Quality-Protocol (no LQR here) and everything unknown
		rp.Reject(opt)
	}
}

func put16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

func put32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// newMagic returns a random magic number that is neither zero nor one of
// the two values to avoid.
func (h *Handler) newMagic(avoid1, avoid2 uint32) uint32 {
	for range 8 {
		if v := h.cfg.Magic(); v != 0 && v != avoid1 && v != avoid2 {
			return v
		}
	}
	// A broken random source: step through all values with an odd stride.
	v := avoid1
	for {
		v += 0x9e3779b9
		if v != 0 && v != avoid1 && v != avoid2 {
			return v
		}
	}
}

// noteLoop logs once when a loop-back count reaches the limit.
func (h *Handler) noteLoop(n int, what string) {
	if n == h.loopLimit {
		h.log.Warn("lcp: serial line is looped back", "reason", what, "count", n)
	} else if h.log.Enabled(context.Background(), slog.LevelDebug) {
		h.log.Debug("lcp: possible loop-back", "reason", what, "count", n)
	}
}

// Looped reports whether the line appears looped back: LoopbackFail
// Configure-Requests carrying our magic number, or LoopbackFail Naks of our
// magic number, since the negotiation started, or LoopbackFail
// Link-Maintenance packets carrying our magic since LCP opened. The link
// checks it after passing a packet to the automaton and then closes it with
// LoopedBackReason (reporting ErrLoopedBack).
func (h *Handler) Looped() bool {
	return h.reqLoops >= h.loopLimit || h.nakLoops >= h.loopLimit || h.echoLoops >= h.loopLimit
}

// Up is tlu: LCP reached Opened. It computes the Negotiated values, resets
// the keep-alive state and calls Config.Up.
func (h *Handler) Up() {
	h.up = true
	h.neg = negotiated(h.got, h.his)
	h.resetEcho()
	h.echoLoops = 0
	h.rtt, h.rttSum = RTTStats{}, 0
	if h.cfg.Up != nil {
		h.cfg.Up(h.neg)
	}
}

// Down is tld: LCP left Opened. It stops keep-alive accounting and calls
// Config.Down; the link reverts to the default framing.
func (h *Handler) Down() {
	h.up = false
	h.neg = Negotiated{}
	h.resetEcho()
	if h.cfg.Down != nil {
		h.cfg.Down()
	}
}

// Started is tls: it calls Config.Started.
func (h *Handler) Started() {
	if h.cfg.Started != nil {
		h.cfg.Started()
	}
}

// Finished is tlf: it calls Config.Finished.
func (h *Handler) Finished() {
	if h.cfg.Finished != nil {
		h.cfg.Finished()
	}
}

// Negotiated returns the values agreed when LCP last reached Opened, and
// whether it is still Opened.
func (h *Handler) Negotiated() (Negotiated, bool) {
	return h.neg, h.up
}

// EchoInterval returns Config.EchoInterval: how often the link should call
// EchoTimer while LCP is Opened, 0 for never.
func (h *Handler) EchoInterval() time.Duration {
	return h.cfg.EchoInterval
}
