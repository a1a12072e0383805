package lcp

import (
	"log/slog"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Keep-alive settings pppssh suggests, those of Debian's stock
// /etc/ppp/options (lcp-echo-interval 30, lcp-echo-failure 4). A zero
// Config does not send Echo-Requests, as pppd does by default.
const (
	DefaultEchoInterval = 30 * time.Second
	DefaultEchoFailure  = 4
)

// Config configures a Handler. Use DefaultConfig for pppd's defaults; the
// zero value asks for nothing and allows nothing.
//
// The callbacks are called on the goroutine that drives the automaton,
// from within its methods; nil callbacks are skipped.
type Config struct {
	// Want holds the options we request; Allow the options the peer may
	// request. See Options for what each field means in each role.
	Want, Allow Options

	// LoopbackFail is how many loop-back indications (see Looped) mean the
	// line is looped back; 0 means DefaultLoopbackFail.
	LoopbackFail int

	// EchoInterval is how often the link's owner should call EchoTimer
	// while LCP is Opened (pppd's lcp-echo-interval); 0 disables
	// keep-alives. The Handler does not run a timer itself.
	EchoInterval time.Duration
	// EchoFailure is how many unanswered Echo-Requests make EchoTimer
	// report the peer dead (pppd's lcp-echo-failure); 0 never does.
	EchoFailure int

	// Now returns the current time, for round-trip times. Nil means
	// time.Now.
	Now func() time.Time
	// Magic returns random numbers for Magic-Numbers. Nil means
	// math/rand/v2's Uint32. Zero and repeated values are skipped.
	Magic func() uint32

	// Logger receives Identification and Time-Remaining messages at info
	// level, loop-back warnings and dropped packets at debug level. Nil
	// discards them.
	Logger *slog.Logger

	// Up is called when LCP reaches Opened (tlu) with the negotiated
	// values; the link applies them to its framing from then on.
	Up func(Negotiated)
	// Down is called when LCP leaves Opened (tld); the link reverts to the
	// defaults of RFC 1662 (ACCM 0xffffffff, no compression, FCS-16,
	// MRU 1500).
	Down func()
	// Started is called when LCP needs the lower layer (tls).
	Started func()
	// Finished is called when LCP no longer needs the lower layer (tlf).
	Finished func()

	// ProtocolReject is called when the peer rejects protocol proto while
	// LCP is Opened (RFC 1661 section 5.7); info is the start of the
	// rejected packet's Information field and is valid only during the
	// call. The link passes the event to that protocol's automaton
	// (RXJ-). A rejection of LCP itself is passed on too: the link decides
	// what to do about it.
	ProtocolReject func(proto ppp.Protocol, info []byte)
}

// DefaultConfig returns pppd's LCP defaults: MRU 1500 (so not requested),
// ACCM 0 requested, a magic number requested, PFC and ACFC requested and
// allowed, no authentication either way, FCS-Alternatives off (set
// Want.NegFCS and Allow.NegFCS on both pppssh ends to use the 32-bit FCS),
// no keep-alives.
func DefaultConfig() Config {
	return Config{
		Want: Options{
			NegMRU:   true,
			MRU:      DefaultMRU,
			NegACCM:  true,
			ACCM:     0,
			NegMagic: true,
			NegPFC:   true,
			NegACFC:  true,
			FCS:      FCS32,
		},
		Allow: Options{
			NegMRU:   true,
			MRU:      MaxMRU,
			NegACCM:  true,
			NegMagic: true,
			NegPFC:   true,
			NegACFC:  true,
			FCS:      FCS16 | FCS32,
		},
		LoopbackFail: DefaultLoopbackFail,
	}
}

// Negotiated is what LCP agreed, delivered by Config.Up when LCP reaches
// Opened, i.e. once both Configure-Acks were exchanged, which is when
// RFC 1662 section 7.1 and RFC 1661 sections 6.5 and 6.6 let each direction
// switch to the negotiated ACCM, PFC and ACFC. Options not negotiated hold
// their defaults.
//
// "Recv" values apply to frames the peer sends us, "Send" values to frames
// we send. LCP packets themselves are always sent with the Address, Control
// and Protocol fields uncompressed, all control characters escaped while
// negotiating, and (RFC 1570 section 2.1) the default FCS outside the
// Authentication and Network-Layer phases; on receiving an LCP
// Configure-Request or Terminate-Request the link must return to the
// default FCS in both directions.
type Negotiated struct {
	// MRU is the MRU we announced and the peer acknowledged (DefaultMRU if
	// none). RFC 1661 section 6.1 still requires us to receive frames of
	// DefaultMRU: size the decoder with ReceiveLimit, not MRU.
	MRU int
	// PeerMRU is the peer's MRU: the largest Information field we may
	// send (DefaultMRU if it announced none).
	PeerMRU int

	// RecvACCM is the map the peer escapes when sending to us; SendACCM
	// the characters we must escape (0xffffffff when not negotiated).
	RecvACCM, SendACCM uint32

	// RecvPFC and RecvACFC say the peer may compress the Protocol field and
	// omit the Address and Control fields of frames it sends us (a robust
	// receiver accepts both forms anyway); SendPFC and SendACFC say we may.
	RecvPFC, RecvACFC bool
	SendPFC, SendACFC bool

	// RecvFCS is the FCS the peer appends to frames it sends us, SendFCS
	// the one we append: FCS16 unless FCS-Alternatives was agreed.
	RecvFCS, SendFCS FCS

	// Magic is our magic number and PeerMagic the peer's, 0 when not
	// negotiated.
	Magic, PeerMagic uint32

	// AuthPeer is how the peer must authenticate itself to us (it
	// acknowledged our Authentication-Protocol), AuthSelf how we must
	// authenticate ourselves to the peer; 0 for none.
	AuthPeer, AuthSelf AuthMethod
}

// ReceiveLimit returns the largest Information field the link must accept:
// the larger of MRU and DefaultMRU, since RFC 1661 section 6.1 requires
// frames of 1500 octets to be received even when a smaller MRU was agreed.
func (n Negotiated) ReceiveLimit() int {
	return max(n.MRU, DefaultMRU)
}

// negotiated computes the agreed values from got and his.
func negotiated(got, his Options) Negotiated {
	n := Negotiated{
		MRU:      DefaultMRU,
		PeerMRU:  DefaultMRU,
		RecvACCM: 0xffffffff,
		SendACCM: 0xffffffff,
		RecvFCS:  FCS16,
		SendFCS:  FCS16,
	}
	if got.NegMRU {
		n.MRU = int(got.MRU)
	}
	if his.NegMRU {
		n.PeerMRU = int(his.MRU)
	}
	if got.NegACCM {
		n.RecvACCM = got.ACCM
	}
	if his.NegACCM {
		n.SendACCM = his.ACCM
	}
	n.RecvPFC, n.RecvACFC = got.NegPFC, got.NegACFC
	n.SendPFC, n.SendACFC = his.NegPFC, his.NegACFC
	if got.NegFCS {
		if f := got.FCS.strongest(); f != 0 {
			n.RecvFCS = f
		}
	}
	if his.NegFCS {
		if f := his.FCS.strongest(); f != 0 {
			n.SendFCS = f
		}
	}
	if got.NegMagic {
		n.Magic = got.Magic
	}
	if his.NegMagic {
		n.PeerMagic = his.Magic
	}
	if got.NegAuth {
		n.AuthPeer = got.Auth.preferred()
	}
	if his.NegAuth {
		n.AuthSelf = his.Auth.preferred()
	}
	return n
}
