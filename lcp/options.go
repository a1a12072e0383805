package lcp

import (
	"github.com/pppssh/pppssh/ppp"
)

// LCP Configuration Option types (RFC 1661 section 6, RFC 1570 section 2).
const (
	OptMRU             uint8 = 1 // Maximum-Receive-Unit
	OptACCM            uint8 = 2 // Async-Control-Character-Map
	OptAuthProtocol    uint8 = 3 // Authentication-Protocol
	OptQualityProtocol uint8 = 4 // Quality-Protocol (always rejected)
	OptMagicNumber     uint8 = 5 // Magic-Number
	OptPFC             uint8 = 7 // Protocol-Field-Compression
	OptACFC            uint8 = 8 // Address-and-Control-Field-Compression
	OptFCSAlternatives uint8 = 9 // FCS-Alternatives (RFC 1570)
)

// Option types that pppd prints but pppssh never negotiates.
const (
	optCallback uint8 = 13 // Callback (RFC 1570)
	optMRRU     uint8 = 17 // Multilink-MRRU (RFC 1990)
	optSSNHF    uint8 = 18 // Multilink-Short-Sequence-Number-Header-Format
	optEPDisc   uint8 = 19 // Multilink-Endpoint-Discriminator
)

// MRU limits (RFC 1661 section 6.1).
const (
	// DefaultMRU is the MRU in force when none was negotiated. RFC 1661
	// section 6.1 requires every implementation to be able to receive it
	// whatever was negotiated.
	DefaultMRU = 1500
	// MinMRU is the smallest MRU accepted from a peer (pppd's MINMRU); a
	// smaller one is Nak'd with MinMRU.
	MinMRU = 128
	// MaxMRU is the largest value the option can carry.
	MaxMRU = 65535
)

// DefaultLoopbackFail is how many loop-back indications end the link when
// Config.LoopbackFail is zero (pppd's lcp_loopbackfail).
const DefaultLoopbackFail = 10

// FCS is a bitmask of Frame Check Sequences, using the bit values of the
// FCS-Alternatives option (RFC 1570 section 2.1). In a Negotiated value it
// holds exactly one bit.
type FCS uint8

// FCS values of RFC 1570 section 2.1.
const (
	FCSNull FCS = 0x01 // no FCS; never negotiated by pppssh
	FCS16   FCS = 0x02 // CCITT 16-bit FCS, the default of RFC 1662
	FCS32   FCS = 0x04 // CCITT 32-bit FCS
)

// String returns "crc16", "crc32", "null", or a comma-separated list of
// them for a bitmask with several bits (the names pppd uses in its "fcs"
// option).
func (f FCS) String() string {
	if f == 0 {
		return "0x0"
	}
	return string(appendFCS(nil, byte(f)))
}

// strongest returns the strongest FCS of f that pppssh can produce: FCS32
// if present, else FCS16 if present, else 0.
func (f FCS) strongest() FCS {
	switch {
	case f&FCS32 != 0:
		return FCS32
	case f&FCS16 != 0:
		return FCS16
	}
	return 0
}

// AuthMethod is a set of authentication methods, each one value of the
// Authentication-Protocol option (RFC 1661 section 6.2). In a Negotiated
// value and in the got and his options it holds at most one method.
type AuthMethod uint8

// Authentication methods pppssh can negotiate.
const (
	// AuthPAP is the Password Authentication Protocol (0xc023, RFC 1334).
	AuthPAP AuthMethod = 1 << iota
	// AuthCHAPMD5 is CHAP (0xc223, RFC 1994) with algorithm 5, MD5.
	AuthCHAPMD5
)

// chapMD5 is the CHAP algorithm number of MD5 (RFC 1994 section 3).
const chapMD5 = 5

// preferred returns the method of m pppssh prefers: CHAP-MD5, then PAP, as
// pppd does; 0 if m is empty.
func (m AuthMethod) preferred() AuthMethod {
	switch {
	case m&AuthCHAPMD5 != 0:
		return AuthCHAPMD5
	case m&AuthPAP != 0:
		return AuthPAP
	}
	return 0
}

// String returns pppd's name of the method ("pap", "chap MD5"), names
// joined by "|" for a set, or "none".
func (m AuthMethod) String() string {
	var b []byte
	if m&AuthCHAPMD5 != 0 {
		b = append(b, "chap MD5"...)
	}
	if m&AuthPAP != 0 {
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, "pap"...)
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

// authMethodOf returns the single method the Data of an
// Authentication-Protocol option names, or 0 if pppssh does not know it.
func authMethodOf(data []byte) AuthMethod {
	switch {
	case len(data) == 2 && be16(data) == uint16(ppp.ProtoPAP):
		return AuthPAP
	case len(data) == 3 && be16(data) == uint16(ppp.ProtoCHAP) && data[2] == chapMD5:
		return AuthCHAPMD5
	}
	return 0
}

// appendAuthOption appends an Authentication-Protocol option for the single
// method m.
func appendAuthOption(b []byte, m AuthMethod) []byte {
	if m == AuthCHAPMD5 {
		return append(b, OptAuthProtocol, 5, byte(ppp.ProtoCHAP>>8), byte(ppp.ProtoCHAP&0xff), chapMD5)
	}
	return ppp.AppendOptionUint16(b, OptAuthProtocol, uint16(ppp.ProtoPAP))
}

// Options is one set of LCP option values: a Neg flag per option saying
// whether it is (to be) negotiated, and its value. A Handler keeps four of
// them, as pppd does: want (Config.Want, what we ask for), allow
// (Config.Allow, what the peer may ask of us), got (what the peer
// acknowledged of our request) and his (what we acknowledged of the peer's).
// Options is a plain value, cheap to copy.
type Options struct {
	// NegMRU and MRU: Maximum-Receive-Unit. In want, the MRU we announce
	// (sent only when it differs from DefaultMRU); in allow, the largest
	// MRU the peer may announce.
	NegMRU bool
	MRU    uint16

	// NegACCM and ACCM: Async-Control-Character-Map (RFC 1662 section 7.1),
	// bit n set for character n to be escaped. In want, the characters the
	// peer must escape when sending to us; in allow, the characters the
	// peer's map must include, since we escape them anyway.
	NegACCM bool
	ACCM    uint32

	// NegAuth and Auth: Authentication-Protocol. In want, the methods the
	// peer may authenticate itself to us with (we ask for the preferred
	// one, CHAP-MD5 before PAP); in allow, the methods we can authenticate
	// ourselves with, i.e. have credentials for. In got and his, the one
	// method agreed.
	NegAuth bool
	Auth    AuthMethod

	// NegMagic and Magic: Magic-Number. In want, Magic is ignored: Reset
	// draws a fresh random number for every negotiation.
	NegMagic bool
	Magic    uint32

	// NegPFC: Protocol-Field-Compression. NegACFC:
	// Address-and-Control-Field-Compression.
	NegPFC  bool
	NegACFC bool

	// NegFCS and FCS: FCS-Alternatives (RFC 1570 section 2.1). The option
	// names the FCS its sender wants to receive. In want, the FCS we ask
	// the peer to send (one bit; pppssh asks for FCS32); in allow, the
	// FCSes we can send (FCS16 is always possible). In his, the one FCS we
	// chose to send among those the peer listed.
	NegFCS bool
	FCS    FCS
}

// Append appends o as the options of a Configure-Request, in type order,
// and returns the extended slice. MRU is left out when it equals
// DefaultMRU, as pppd does; of a set of Auth methods only the preferred one
// is requested. It does not allocate when b has room.
func (o Options) Append(b []byte) []byte {
	if o.NegMRU && o.MRU != DefaultMRU {
		b = ppp.AppendOptionUint16(b, OptMRU, o.MRU)
	}
	if o.NegACCM {
		b = ppp.AppendOptionUint32(b, OptACCM, o.ACCM)
	}
	if o.NegAuth {
		if m := o.Auth.preferred(); m != 0 {
			b = appendAuthOption(b, m)
		}
	}
	if o.NegMagic {
		b = ppp.AppendOptionUint32(b, OptMagicNumber, o.Magic)
	}
	if o.NegPFC {
		b = append(b, OptPFC, 2)
	}
	if o.NegACFC {
		b = append(b, OptACFC, 2)
	}
	if o.NegFCS {
		b = append(b, OptFCSAlternatives, 3, byte(o.FCS))
	}
	return b
}

// requests reports whether Append includes an option of type typ.
func (o Options) requests(typ uint8) bool {
	switch typ {
	case OptMRU:
		return o.NegMRU && o.MRU != DefaultMRU
	case OptACCM:
		return o.NegACCM
	case OptAuthProtocol:
		return o.NegAuth && o.Auth.preferred() != 0
	case OptMagicNumber:
		return o.NegMagic
	case OptPFC:
		return o.NegPFC
	case OptACFC:
		return o.NegACFC
	case OptFCSAlternatives:
		return o.NegFCS
	}
	return false
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
