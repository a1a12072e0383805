package peer

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/ppp"
)

// This file makes the frames the fuzzer sends. Each is a fuzzUnit: the
// octets written to the line and, when they are a frame framed the plain
// way (every control character escaped, a good FCS-16), the frame inside,
// so that the minimiser can shrink the frame and frame it again.
//
// Three sources feed a batch:
//   - valid traffic: the Configure-Requests, -Acks, -Naks and -Rejects,
//     Echo, Discard, Terminate, Code-Reject and Protocol-Reject packets a
//     valid initiator sends for LCP, IPCP, IPV6CP and CCP, the PAP, CHAP
//     and EAP packets of an authentication, IP data, and the control
//     frames the peer itself sent (captured on the line);
//   - the shapes of known bugs, built directly (mutGenerators);
//   - mutations of the first two (mutOps).

// Protocols whose packets the fuzzer sends.
const (
	mutProtoLQR    ppp.Protocol = 0xc025
	mutProtoBACP   ppp.Protocol = 0xc02b // Bandwidth Allocation Control Protocol, RFC 2125
	mutProtoIPXCP  ppp.Protocol = 0x802b
	mutProtoMPLSCP ppp.Protocol = 0x8281
)

// mutCfProtos are the protocols that negotiate with Configure-* packets.
var mutCfProtos = []ppp.Protocol{ppp.ProtoLCP, ppp.ProtoLCP, ppp.ProtoIPCP, ppp.ProtoIPCP, ppp.ProtoIPV6CP, ppp.ProtoCCP}

// mutInteresting8 are octet values that find off-by-one and sign bugs, and
// the two octets the framing treats specially.
var mutInteresting8 = []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x20, 0x3f, 0x40, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff}

// mutInteresting16 are 16-bit values for Length fields, MRUs and sizes.
var mutInteresting16 = []uint16{0, 1, 2, 3, 4, 5, 6, 64, 127, 128, 255, 256, 257, 1023, 1024, 1499, 1500, 1501, 1502, 1504, 1508, 2048, 4096, 8192, 16384, 0x7ffe, 0x7fff, 0x8000, 0xfffe, 0xffff}

// mutMRUs are MRUs to offer: the edges of pppd's MINMRU (128) and of
// the default 1500, and the large values that make a peer send (and
// build replies) past 1500 octets.
var mutMRUs = []uint16{0, 1, 4, 64, 127, 128, 129, 296, 576, 1499, 1500, 1501, 1502, 1504, 2048, 4096, 8192, 16384, 16385, 32767, 32768, 65000, 65531, 65535}

// mutBigSizes are packet lengths around the default MRU and beyond it.
var mutBigSizes = []int{1490, 1496, 1497, 1498, 1499, 1500, 1501, 1502, 1503, 1504, 1505, 1508, 1520, 1600, 2000, 2048, 3000, 4096, 8192, 16384, 32768, 65535}

// mutMaxFrame bounds the frames the fuzzer builds (before stuffing).
const mutMaxFrame = 4 + 65535 + 64

// A fuzzUnit is one thing sent on the line.
type fuzzUnit struct {
	raw []byte // the octets written to the line
	// frame is the frame inside raw (address, control, protocol and
	// information fields) when raw is wireFrame(frame); nil when the
	// framing itself is malformed.
	frame []byte
	what  string // how it was made, for people: "LCP option with length 0"
}

// mutGen makes the units of batches. It is used by one goroutine.
type mutGen struct {
	rng   *rand.Rand
	magic uint32   // our Magic-Number on the current line
	seeds [][]byte // valid frames of a valid initiator
	peer  [][]byte // control frames the peer sent, at most mutMaxPeerSeeds
	next  int      // where the next captured frame goes once peer is full
}

const mutMaxPeerSeeds = 64

func newMutGen() *mutGen {
	return &mutGen{seeds: mutValidFrames(0x5050_5353)}
}

// capture keeps a control frame the peer sent as a seed for mutations.
func (g *mutGen) capture(f Frame) {
	if f.HeaderErr != nil || len(f.Raw) > 2048 {
		return
	}
	if _, ok := f.Packet(); !ok {
		return
	}
	// Keep the full header, as we send it.
	c := append(ppp.AppendHeader(make([]byte, 0, 4+len(f.Info)), f.Proto, false, false), f.Info...)
	if len(g.peer) < mutMaxPeerSeeds {
		g.peer = append(g.peer, c)
		return
	}
	g.peer[g.next] = c
	g.next = (g.next + 1) % mutMaxPeerSeeds
}

// unit makes the next unit of a batch.
func (g *mutGen) unit() fuzzUnit {
	r := g.rng
	switch n := r.IntN(100); {
	case n < 30: // the shapes of known bugs
		gen := mutGenerators[r.IntN(len(mutGenerators))]
		c, what := gen.fn(g)
		return fuzzUnit{raw: wireFrame(c), frame: c, what: gen.name + ": " + what}
	case n < 40: // malformed framing
		return g.framing()
	case n < 48: // valid traffic as it is
		c, what := g.seed()
		return fuzzUnit{raw: wireFrame(c), frame: c, what: "valid " + what}
	default: // mutations of valid traffic and of the bug shapes
		var c []byte
		var what string
		if r.IntN(4) == 0 {
			gen := mutGenerators[r.IntN(len(mutGenerators))]
			c, _ = gen.fn(g)
			what = gen.name
		} else {
			c, what = g.seed()
		}
		c, ops := g.mutate(c)
		return fuzzUnit{raw: wireFrame(c), frame: c, what: what + " mutated: " + ops}
	}
}

// seed returns a copy of a valid frame: one of ours, or one the peer sent.
func (g *mutGen) seed() ([]byte, string) {
	if len(g.peer) > 0 && g.rng.IntN(4) == 0 {
		return mutClone(g.peer[g.rng.IntN(len(g.peer))]), "frame of the peer's"
	}
	return mutClone(g.seeds[g.rng.IntN(len(g.seeds))]), "frame"
}

func mutClone(b []byte) []byte { return append([]byte(nil), b...) }

// mutPacket returns the PPP frame (full header) carrying a control packet
// whose Length field is right.
func mutPacket(proto ppp.Protocol, code ppp.Code, id uint8, data []byte) []byte {
	b := ppp.AppendHeader(make([]byte, 0, 8+len(data)), proto, false, false)
	return ppp.AppendPacket(b, code, id, data)
}

// mutHeaderLen returns the length of content's PPP header, or -1 when it is
// not the full 4-octet one the fuzzer builds.
func mutHeaderLen(c []byte) int {
	if len(c) >= 4 && c[0] == ppp.AllStations && c[1] == ppp.UI {
		return 4
	}
	return -1
}

// mutFixLength sets the control packet's Length field to its real length.
func mutFixLength(c []byte) {
	if mutHeaderLen(c) == 4 && len(c) >= 8 && len(c)-4 <= 0xffff {
		binary.BigEndian.PutUint16(c[6:], uint16(len(c)-4))
	}
}

// mutOptions splits the options of a Configure-* packet in content, as far as
// they are well formed; off is where the first one starts.
func mutOptions(c []byte) (opts [][]byte, off int) {
	if mutHeaderLen(c) != 4 || len(c) < 8 {
		return nil, 0
	}
	off = 8
	rest := c[off:]
	for len(rest) >= 2 && int(rest[1]) >= 2 && int(rest[1]) <= len(rest) {
		opts = append(opts, rest[:rest[1]])
		rest = rest[rest[1]:]
	}
	return opts, off
}

// validOption returns a well-formed option of type typ of proto, with
// plausible data.
func (g *mutGen) validOption(proto ppp.Protocol, typ uint8) []byte {
	r := g.rng
	switch proto {
	case ppp.ProtoLCP:
		switch typ {
		case lcp.OptMRU:
			return ppp.AppendOptionUint16(nil, typ, mutPick(r, mutMRUs))
		case lcp.OptACCM:
			return ppp.AppendOptionUint32(nil, typ, mutPick(r, []uint32{0, 0x000a0000, 0xffffffff, r.Uint32()}))
		case lcp.OptAuthProtocol:
			switch r.IntN(4) {
			case 0:
				return ppp.AppendOptionUint16(nil, typ, uint16(ppp.ProtoPAP))
			case 1:
				return ppp.AppendOption(nil, typ, 0xc2, 0x23, mutPick(r, []byte{5, 0x80, 0x81, 0}))
			case 2:
				return ppp.AppendOptionUint16(nil, typ, uint16(ppp.ProtoEAP))
			default:
				return ppp.AppendOptionUint16(nil, typ, uint16(r.Uint32()))
			}
		case lcp.OptQualityProtocol:
			return ppp.AppendOption(nil, typ, 0xc0, 0x25, 0, 0, 0x0b, 0xb8)
		case lcp.OptMagicNumber:
			return ppp.AppendOptionUint32(nil, typ, mutPick(r, []uint32{0, 1, g.magic, r.Uint32()}))
		case lcp.OptPFC, lcp.OptACFC, 18: // 18: Short Sequence Number (RFC 1990)
			return ppp.AppendOption(nil, typ)
		case lcp.OptFCSAlternatives:
			return ppp.AppendOption(nil, typ, mutPick(r, []byte{1, 2, 4, 6, 0xff}))
		case 10: // Self-Describing-Padding (RFC 1570)
			return ppp.AppendOption(nil, typ, mutPick(r, []byte{1, 8, 0xff}))
		case 13: // Callback (RFC 1570)
			return ppp.AppendOption(nil, typ, append([]byte{mutPick(r, []byte{0, 1, 2, 3, 4, 6})}, "0123"[:r.IntN(5)]...)...)
		case 17: // Multilink MRRU (RFC 1990)
			return ppp.AppendOptionUint16(nil, typ, mutPick(r, mutMRUs))
		case 19: // Endpoint Discriminator (RFC 1990)
			return ppp.AppendOption(nil, typ, append([]byte{byte(r.IntN(6))}, mutRandBytes(r, r.IntN(21))...)...)
		}
	case ppp.ProtoIPCP:
		switch typ {
		case ipcp.OptIPAddresses:
			return ppp.AppendOption(nil, typ, 192, 0, 2, 2, 192, 0, 2, 1)
		case ipcp.OptIPCompressionProtocol:
			return ppp.AppendOption(nil, typ, 0x00, 0x2d, mutPick(r, []byte{0x0f, 0x00, 0xff}), byte(r.IntN(2)))
		case ipcp.OptIPAddress, 4, ipcp.OptPrimaryDNS, ipcp.OptPrimaryNBNS, ipcp.OptSecondaryDNS, ipcp.OptSecondaryNBNS:
			addr := mutPick(r, [][]byte{{0, 0, 0, 0}, {192, 0, 2, 2}, {192, 0, 2, 1}, {255, 255, 255, 255}, {127, 0, 0, 1}, {224, 0, 0, 1}})
			return ppp.AppendOption(nil, typ, addr...)
		}
	case ppp.ProtoIPV6CP:
		switch typ {
		case 1: // Interface-Identifier (RFC 5072)
			return ppp.AppendOption(nil, typ, mutRandBytes(r, 8)...)
		case 2: // IPv6-Compression-Protocol
			return ppp.AppendOption(nil, typ, 0x00, 0x4f, 0, 15)
		}
	case ppp.ProtoCCP:
		switch typ {
		case 0: // OUI
			return ppp.AppendOption(nil, typ, 0x00, 0x00, 0x5e, 1)
		case 17: // Stac LZS
			return ppp.AppendOption(nil, typ, 0, 1, 3)
		case 18: // MPPE/MPPC
			return ppp.AppendOptionUint32(nil, typ, mutPick(r, []uint32{0x01000060, 0x00000040, 0xffffffff}))
		case 21: // BSD-Compress
			return ppp.AppendOption(nil, typ, mutPick(r, []byte{0x2f, 0x29, 0x0f, 0xff}))
		case 24, 26: // Deflate (draft and RFC 1979)
			return ppp.AppendOption(nil, typ, mutPick(r, []byte{0x78, 0x08, 0xff}), 0)
		}
	}
	return ppp.AppendOption(nil, typ, mutRandBytes(r, r.IntN(7))...)
}

// mutOptionTypes lists the option types worth sending for proto.
func mutOptionTypes(proto ppp.Protocol) []uint8 {
	switch proto {
	case ppp.ProtoLCP:
		return []uint8{1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 17, 18, 19, 0, 14, 21, 27, 31, 255}
	case ppp.ProtoIPCP:
		return []uint8{1, 2, 3, 4, 129, 130, 131, 132, 0, 5, 128, 133, 255}
	case ppp.ProtoIPV6CP:
		return []uint8{1, 2, 0, 3, 255}
	case ppp.ProtoCCP:
		return []uint8{0, 17, 18, 21, 24, 26, 1, 2, 255}
	}
	return []uint8{0, 1, 2, 3, 255}
}

// randomOption returns a valid option of a random type of proto.
func (g *mutGen) randomOption(proto ppp.Protocol) []byte {
	return g.validOption(proto, mutPick(g.rng, mutOptionTypes(proto)))
}

func mutPick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func mutRandBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// id returns a random Identifier.
func (g *mutGen) id() uint8 { return byte(g.rng.Uint32()) }

// cfCode returns a Configure-* code, mostly Configure-Request.
func (g *mutGen) cfCode() ppp.Code {
	return mutPick(g.rng, []ppp.Code{ppp.CodeConfigureRequest, ppp.CodeConfigureRequest, ppp.CodeConfigureRequest, ppp.CodeConfigureAck, ppp.CodeConfigureNak, ppp.CodeConfigureReject})
}

// mutValidFrames returns the frames of a valid initiator of every protocol
// the fuzzer speaks, as seeds for mutations. magic is our Magic-Number.
func mutValidFrames(magic uint32) [][]byte {
	m := binary.BigEndian.AppendUint32(nil, magic)
	o16, o32, o := ppp.AppendOptionUint16, ppp.AppendOptionUint32, ppp.AppendOption
	var lcpReq []byte
	lcpReq = o32(lcpReq, lcp.OptACCM, 0)
	lcpReq = o32(lcpReq, lcp.OptMagicNumber, magic)
	lcpReq = o(lcpReq, lcp.OptPFC)
	lcpReq = o(lcpReq, lcp.OptACFC)
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	str := func(s string) []byte { return []byte(s) }
	lv := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	ipReq := o(nil, ipcp.OptIPAddress, 0, 0, 0, 0)
	ipReq = o(ipReq, ipcp.OptPrimaryDNS, 0, 0, 0, 0)
	ipReq = o(ipReq, ipcp.OptSecondaryDNS, 0, 0, 0, 0)
	confReq := mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, lcpReq)
	icmp := []byte{ // an ICMP echo request from 192.0.2.2 to 192.0.2.1
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0xf7, 0x8b, 192, 0, 2, 2, 192, 0, 2, 1,
		0x08, 0x00, 0xf7, 0xfe, 0x00, 0x01, 0x00, 0x00,
	}
	ipv4 := append(ppp.AppendHeader(nil, ppp.ProtoIPv4, false, false), icmp...)
	return [][]byte{
		// LCP
		confReq,
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 2, cat(o16(nil, lcp.OptMRU, 1500), lcpReq)),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 3, cat(o16(nil, lcp.OptMRU, 16384), o32(nil, lcp.OptMagicNumber, magic))),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 4, cat(o16(nil, lcp.OptAuthProtocol, uint16(ppp.ProtoPAP)), o32(nil, lcp.OptMagicNumber, magic))),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 5, cat(o(nil, lcp.OptAuthProtocol, 0xc2, 0x23, 5), o(nil, lcp.OptFCSAlternatives, 2))),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 6, cat(o16(nil, lcp.OptAuthProtocol, uint16(ppp.ProtoEAP)), o(nil, 13, 6), o16(nil, 17, 1524), o(nil, 19, 1, 'a', 'b'))),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureAck, 1, lcpReq),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureNak, 1, cat(o16(nil, lcp.OptMRU, 1500), o32(nil, lcp.OptMagicNumber, magic^1))),
		mutPacket(ppp.ProtoLCP, ppp.CodeConfigureReject, 1, cat(o(nil, lcp.OptPFC), o(nil, lcp.OptACFC))),
		mutPacket(ppp.ProtoLCP, ppp.CodeTerminateRequest, 7, str("User request")),
		mutPacket(ppp.ProtoLCP, ppp.CodeTerminateAck, 7, nil),
		mutPacket(ppp.ProtoLCP, ppp.CodeCodeReject, 8, mutPacket(ppp.ProtoLCP, 0x20, 1, nil)[4:]),
		mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, 9, cat([]byte{0x80, 0x57}, confReq[4:])),
		mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, 10, cat([]byte{0x80, 0x21}, mutPacket(ppp.ProtoIPCP, 1, 1, ipReq)[4:])),
		mutPacket(ppp.ProtoLCP, ppp.CodeEchoRequest, 11, cat(m, str("pppssh"))),
		mutPacket(ppp.ProtoLCP, ppp.CodeEchoReply, 11, m),
		mutPacket(ppp.ProtoLCP, ppp.CodeDiscardRequest, 12, cat(m, str("discard"))),
		mutPacket(ppp.ProtoLCP, ppp.CodeIdentification, 13, cat(m, str("pppssh fuzz-peer"))),
		mutPacket(ppp.ProtoLCP, ppp.CodeTimeRemaining, 14, cat(m, []byte{0, 0, 0x0e, 0x10}, str("1h"))),
		// IPCP
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureRequest, 1, ipReq),
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureRequest, 2, cat(o(nil, ipcp.OptIPAddress, 192, 0, 2, 2), o(nil, ipcp.OptIPCompressionProtocol, 0, 0x2d, 0x0f, 1))),
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureRequest, 3, cat(o(nil, ipcp.OptIPAddresses, 192, 0, 2, 2, 192, 0, 2, 1), o(nil, ipcp.OptPrimaryNBNS, 0, 0, 0, 0), o(nil, ipcp.OptSecondaryNBNS, 0, 0, 0, 0))),
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureAck, 1, o(nil, ipcp.OptIPAddress, 192, 0, 2, 1)),
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureNak, 1, cat(o(nil, ipcp.OptIPAddress, 192, 0, 2, 9), o(nil, ipcp.OptPrimaryDNS, 192, 0, 2, 53))),
		mutPacket(ppp.ProtoIPCP, ppp.CodeConfigureReject, 1, o(nil, ipcp.OptIPCompressionProtocol, 0, 0x2d, 0x0f, 1)),
		mutPacket(ppp.ProtoIPCP, ppp.CodeTerminateRequest, 2, nil),
		mutPacket(ppp.ProtoIPCP, ppp.CodeCodeReject, 3, mutPacket(ppp.ProtoIPCP, 9, 1, m)[4:]),
		// IPV6CP
		mutPacket(ppp.ProtoIPV6CP, ppp.CodeConfigureRequest, 1, o(nil, 1, 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x01)),
		mutPacket(ppp.ProtoIPV6CP, ppp.CodeConfigureNak, 1, o(nil, 1, 0, 0, 0, 0, 0, 0, 0, 1)),
		// CCP
		mutPacket(ppp.ProtoCCP, ppp.CodeConfigureRequest, 1, cat(o(nil, 26, 0x78, 0), o(nil, 24, 0x78, 0), o(nil, 21, 0x2f))),
		mutPacket(ppp.ProtoCCP, ppp.CodeConfigureRequest, 2, o32(nil, 18, 0x01000060)),
		mutPacket(ppp.ProtoCCP, 14, 3, nil), // Reset-Request
		mutPacket(ppp.ProtoCCP, 15, 3, nil), // Reset-Ack
		// PAP: Authenticate-Request (peer-id, password), -Ack, -Nak
		mutPacket(ppp.ProtoPAP, 1, 1, cat(lv("pppssh"), lv("secret"))),
		mutPacket(ppp.ProtoPAP, 2, 1, lv("Login ok")),
		mutPacket(ppp.ProtoPAP, 3, 1, lv("Login incorrect")),
		// CHAP: Challenge, Response (value-size, value, name), Success, Failure
		mutPacket(ppp.ProtoCHAP, 1, 1, cat([]byte{16}, make([]byte, 16), str("gw"))),
		mutPacket(ppp.ProtoCHAP, 2, 1, cat([]byte{16}, make([]byte, 16), str("pppssh"))),
		mutPacket(ppp.ProtoCHAP, 3, 1, str("Welcome")),
		mutPacket(ppp.ProtoCHAP, 4, 1, str("E=691 R=0")),
		// EAP (RFC 3748): Request/Response with a type, Success, Failure
		mutPacket(ppp.ProtoEAP, 1, 1, cat([]byte{1}, str("Name?"))),
		mutPacket(ppp.ProtoEAP, 2, 1, cat([]byte{1}, str("pppssh"))),
		mutPacket(ppp.ProtoEAP, 1, 2, cat([]byte{4, 16}, make([]byte, 16), str("gw"))),
		mutPacket(ppp.ProtoEAP, 2, 2, cat([]byte{4, 16}, make([]byte, 16), str("pppssh"))),
		mutPacket(ppp.ProtoEAP, 2, 3, []byte{3, 4}),
		mutPacket(ppp.ProtoEAP, 1, 4, cat([]byte{2}, str("notification"))),
		mutPacket(ppp.ProtoEAP, 3, 5, nil),
		mutPacket(ppp.ProtoEAP, 4, 5, nil),
		// data and protocols the peer may not run
		ipv4,
		append(ppp.AppendHeader(nil, ppp.ProtoIPv6, false, false), 0x60, 0, 0, 0, 0, 0, 59, 64),
		mutPacket(mutProtoLQR, 0, 0, make([]byte, 44))[:4+48],
		mutPacket(mutProtoBACP, ppp.CodeConfigureRequest, 1, o32(nil, 1, magic)),
		mutPacket(mutProtoIPXCP, ppp.CodeConfigureRequest, 1, o(nil, 1, 0, 0, 0, 1)),
		mutPacket(mutProtoMPLSCP, ppp.CodeConfigureRequest, 1, nil),
	}
}

// A mutGenerator builds a frame of the shape of a known bug class.
type mutGenerator struct {
	name string
	fn   func(*mutGen) (frame []byte, what string)
}

// mutGenerators are the bug classes. Each returns a frame content (full
// PPP header) and a few words on what it chose.
var mutGenerators = []mutGenerator{
	{"option length", (*mutGen).badOptionLength},
	{"duplicate options", (*mutGen).duplicateOptions},
	{"MRU", (*mutGen).mruValue},
	{"large packet", (*mutGen).largePacket},
	{"long Nak", (*mutGen).longNak},
	{"many options", (*mutGen).manyOptions},
	{"EAP", (*mutGen).eap},
	{"EAP", (*mutGen).eap},
	{"CHAP", (*mutGen).chap},
	{"PAP", (*mutGen).pap},
	{"Length field", (*mutGen).badLength},
	{"unknown code", (*mutGen).unknownCode},
	{"reject", (*mutGen).reject},
	{"header", (*mutGen).header},
	{"link maintenance", (*mutGen).linkMaintenance},
	{"data", (*mutGen).data},
}

// badOptionLength: an option whose Length is 0, 1, short of its type's
// size, or runs past the end of the packet, among valid ones.
func (g *mutGen) badOptionLength() ([]byte, string) {
	r := g.rng
	proto := mutPick(r, mutCfProtos)
	var data []byte
	for range r.IntN(4) {
		data = append(data, g.randomOption(proto)...)
	}
	typ := mutPick(r, mutOptionTypes(proto))
	last := r.IntN(3) != 0
	var after []byte
	if !last {
		after = g.randomOption(proto)
	}
	var l byte
	var what string
	switch r.IntN(5) {
	case 0:
		l, what = 0, "0"
	case 1:
		l, what = 1, "1"
	case 2:
		l, what = 2+byte(r.IntN(2)), "short"
	case 3:
		l, what = byte(min(255, 2+2+len(after)+1+r.IntN(3))), "past the end"
	default:
		l, what = 0xff, "255"
	}
	data = append(data, typ, l)
	if l >= 2 || r.IntN(2) == 0 {
		data = append(data, mutRandBytes(r, r.IntN(3))...)
	}
	data = append(data, after...)
	return mutPacket(proto, g.cfCode(), g.id(), data), fmt.Sprintf("%v option %d with length %s", proto, typ, what)
}

// duplicateOptions repeats one option, which a peer must not accept twice
// and which some store in a fixed table.
func (g *mutGen) duplicateOptions() ([]byte, string) {
	r := g.rng
	proto := mutPick(r, mutCfProtos)
	opt := g.randomOption(proto)
	n := mutPick(r, []int{2, 2, 3, 4, 16, 64, 255})
	var data []byte
	for range n {
		if r.IntN(8) == 0 {
			data = append(data, g.validOption(proto, opt[0])...) // same type, other value
		} else {
			data = append(data, opt...)
		}
	}
	return mutPacket(proto, g.cfCode(), g.id(), data), fmt.Sprintf("%v option %d %d times", proto, opt[0], n)
}

// mruValue offers an MRU at an edge: 0, below pppd's minimum of 128,
// around 1500, beyond it up to 65535, or with a wrong option length.
func (g *mutGen) mruValue() ([]byte, string) {
	r := g.rng
	mru := mutPick(r, mutMRUs)
	opt := ppp.AppendOptionUint16(nil, lcp.OptMRU, mru)
	switch r.IntN(6) {
	case 0:
		opt = ppp.AppendOption(nil, lcp.OptMRU, byte(mru>>8))
	case 1:
		opt = ppp.AppendOption(nil, lcp.OptMRU, byte(mru>>8), byte(mru), 0, 0)
	}
	data := opt
	if r.IntN(2) == 0 {
		data = append(data, ppp.AppendOptionUint32(nil, lcp.OptMagicNumber, g.magic^0xa5a5a5a5)...)
	}
	code := g.cfCode()
	return mutPacket(ppp.ProtoLCP, code, g.id(), data), fmt.Sprintf("%v with MRU %d", code, mru)
}

// largePacket builds a packet of a length around 1500 or far beyond:
// an Echo-Request, a Configure-Request of many options, a Code-Reject or
// Protocol-Reject carrying a large packet, or IP data.
func (g *mutGen) largePacket() ([]byte, string) {
	r := g.rng
	size := mutPick(r, mutBigSizes) // the packet's length, from Code to the end
	if size > 8192 && r.IntN(3) != 0 {
		size = mutPick(r, mutBigSizes[:12])
	}
	fill := func(proto ppp.Protocol) []byte {
		var data []byte
		for len(data) < size-4 {
			data = append(data, g.randomOption(proto)...)
		}
		return data[:size-4]
	}
	m := binary.BigEndian.AppendUint32(nil, g.magic)
	switch r.IntN(6) {
	case 0:
		return mutPacket(ppp.ProtoLCP, ppp.CodeEchoRequest, g.id(), append(m, make([]byte, max(0, size-8))...)), fmt.Sprintf("Echo-Request of %d octets", size)
	case 1:
		proto := mutPick(r, mutCfProtos)
		return mutPacket(proto, ppp.CodeConfigureRequest, g.id(), fill(proto)), fmt.Sprintf("%v Configure-Request of %d octets", proto, size)
	case 2:
		return mutPacket(ppp.ProtoLCP, ppp.CodeCodeReject, g.id(), fill(ppp.ProtoLCP)), fmt.Sprintf("Code-Reject of %d octets", size)
	case 3:
		data := append([]byte{0x80, 0x21}, fill(ppp.ProtoIPCP)[2:]...)
		return mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, g.id(), data), fmt.Sprintf("Protocol-Reject of %d octets", size)
	case 4:
		return mutPacket(ppp.ProtoLCP, ppp.CodeDiscardRequest, g.id(), append(m, mutRandBytes(r, max(0, size-8))...)), fmt.Sprintf("Discard-Request of %d octets", size)
	default:
		b := ppp.AppendHeader(nil, ppp.ProtoIPv4, false, false)
		ip := make([]byte, size)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(min(size, 0xffff)))
		ip[8], ip[9] = 64, 17
		copy(ip[12:], []byte{192, 0, 2, 2, 192, 0, 2, 1})
		return append(b, ip...), fmt.Sprintf("IPv4 packet of %d octets", size)
	}
}

// longNak sends a Configure-Nak or -Reject with many options, longer than
// any request the peer made.
func (g *mutGen) longNak() ([]byte, string) {
	r := g.rng
	proto := mutPick(r, mutCfProtos)
	n := mutPick(r, []int{16, 64, 128, 255, 400})
	var data []byte
	for range n {
		data = append(data, g.randomOption(proto)...)
	}
	code := mutPick(r, []ppp.Code{ppp.CodeConfigureNak, ppp.CodeConfigureNak, ppp.CodeConfigureReject})
	return mutPacket(proto, code, g.id(), data), fmt.Sprintf("%v %v with %d options", proto, code, n)
}

// manyOptions sends a Configure-Request whose options the peer must each
// Nak (addresses and name servers of 0.0.0.0, MRU 0, magic 0), so that
// its reply grows with the request: with a large MRU negotiated, past
// 1500 octets.
func (g *mutGen) manyOptions() ([]byte, string) {
	r := g.rng
	n := mutPick(r, []int{8, 32, 100, 200, 255, 300, 600})
	proto := mutPick(r, []ppp.Protocol{ppp.ProtoIPCP, ppp.ProtoIPCP, ppp.ProtoLCP, ppp.ProtoIPV6CP})
	var naks [][]byte
	switch proto {
	case ppp.ProtoIPCP:
		for _, t := range []uint8{ipcp.OptIPAddress, ipcp.OptPrimaryDNS, ipcp.OptSecondaryDNS, ipcp.OptPrimaryNBNS, ipcp.OptSecondaryNBNS} {
			naks = append(naks, ppp.AppendOption(nil, t, 0, 0, 0, 0))
		}
		naks = append(naks, ppp.AppendOption(nil, ipcp.OptIPCompressionProtocol, 0, 0x2d, 0xff, 1))
	case ppp.ProtoLCP:
		naks = [][]byte{ppp.AppendOptionUint16(nil, lcp.OptMRU, 0), ppp.AppendOptionUint32(nil, lcp.OptMagicNumber, 0), ppp.AppendOptionUint16(nil, lcp.OptAuthProtocol, 0x1234)}
	default:
		naks = [][]byte{ppp.AppendOption(nil, 1, 0, 0, 0, 0, 0, 0, 0, 0)}
	}
	var data []byte
	for range n {
		data = append(data, mutPick(r, naks)...)
	}
	return mutPacket(proto, ppp.CodeConfigureRequest, g.id(), data), fmt.Sprintf("%v Configure-Request with %d options to Nak (%d octets)", proto, n, len(data)+4)
}

// eap builds EAP packets (RFC 3748) with lengths that lie: the shape of
// CVE-2020-8597 (a Response or Request whose MD5-Challenge value size or
// name runs past the packet, or past a 256-octet name buffer), Identity
// names beyond the packet, EAP Length fields beyond the frame; and of
// unassigned types, which crash pppd 2.4.9's packet printer.
func (g *mutGen) eap() ([]byte, string) {
	r := g.rng
	code := mutPick(r, []ppp.Code{1, 2, 2, 1, 3, 4, 0, 5, 255})
	// Types 7, 8 and 20 are unassigned, where pppd 2.4.9's table of type
	// names holds NULL.
	typ := mutPick(r, []byte{1, 1, 4, 4, 4, 2, 3, 5, 6, 7, 8, 13, 20, 21, 25, 26, 254, 255, 0})
	nameLen := mutPick(r, []int{0, 1, 16, 255, 256, 257, 300, 512, 1024, 1400})
	name := make([]byte, nameLen)
	for i := range name {
		name[i] = 'A' + byte(i%26)
	}
	var data []byte
	what := fmt.Sprintf("code %d type %d, name of %d", code, typ, nameLen)
	if code == 1 || code == 2 {
		data = append(data, typ)
		switch typ {
		case 4: // MD5-Challenge: value-size, value, name
			vsize := mutPick(r, []byte{0, 1, 15, 16, 17, 0x7f, 0x80, 0xff})
			vlen := mutPick(r, []int{0, 1, 16, int(vsize), int(vsize) - 1})
			vlen = max(vlen, 0)
			data = append(data, vsize)
			data = append(data, make([]byte, vlen)...)
			what += fmt.Sprintf(", MD5 value-size %d with %d octets", vsize, vlen)
		case 3: // Nak: desired types
			data = append(data, mutPick(r, []byte{4, 7, 8, 20, 0, 255}))
			data = append(data, mutRandBytes(r, r.IntN(3))...)
		}
		data = append(data, name...)
	}
	b := mutPacket(ppp.ProtoEAP, code, g.id(), data)
	switch r.IntN(4) {
	case 0: // EAP Length beyond the frame
		l := mutPick(r, []uint16{uint16(len(b) - 4 + 1), uint16(len(b) - 4 + 256), 0xffff})
		binary.BigEndian.PutUint16(b[6:], l)
		what += fmt.Sprintf(", Length %d", l)
	case 1: // EAP Length cut inside the type data
		l := mutPick(r, []uint16{0, 4, 5, 6})
		binary.BigEndian.PutUint16(b[6:], l)
		what += fmt.Sprintf(", Length %d", l)
	}
	return b, what
}

// chap builds CHAP packets (RFC 1994) whose value size or name runs past
// the packet or a name buffer.
func (g *mutGen) chap() ([]byte, string) {
	r := g.rng
	code := mutPick(r, []ppp.Code{1, 2, 2, 3, 4, 0, 5})
	vsize := mutPick(r, []byte{0, 1, 16, 17, 49, 0x80, 0xff})
	vlen := mutPick(r, []int{0, 1, 16, int(vsize)})
	nameLen := mutPick(r, []int{0, 1, 255, 256, 257, 1024})
	data := append([]byte{vsize}, make([]byte, vlen)...)
	data = append(data, make([]byte, nameLen)...)
	b := mutPacket(ppp.ProtoCHAP, code, g.id(), data)
	if r.IntN(3) == 0 {
		binary.BigEndian.PutUint16(b[6:], mutPick(r, mutInteresting16))
	}
	return b, fmt.Sprintf("code %d value-size %d with %d octets, name of %d", code, vsize, vlen, nameLen)
}

// pap builds PAP packets (RFC 1334) whose Peer-ID, Password or Message
// lengths run past the packet.
func (g *mutGen) pap() ([]byte, string) {
	r := g.rng
	code := mutPick(r, []ppp.Code{1, 1, 2, 3, 0, 4})
	idLen := mutPick(r, []byte{0, 1, 8, 0xff})
	idReal := mutPick(r, []int{0, 1, int(idLen), 300})
	pwLen := mutPick(r, []byte{0, 1, 8, 0xff})
	pwReal := mutPick(r, []int{0, 1, int(pwLen)})
	data := append([]byte{idLen}, make([]byte, idReal)...)
	if r.IntN(3) != 0 {
		data = append(data, pwLen)
		data = append(data, make([]byte, pwReal)...)
	}
	return mutPacket(ppp.ProtoPAP, code, g.id(), data), fmt.Sprintf("code %d peer-id length %d with %d octets, password length %d with %d", code, idLen, idReal, pwLen, pwReal)
}

// badLength sends a valid packet whose Length field lies: below 4, one
// off, beyond the frame.
func (g *mutGen) badLength() ([]byte, string) {
	b, _ := g.seed()
	if mutHeaderLen(b) != 4 || len(b) < 8 {
		return b, "no Length field"
	}
	real := len(b) - 4
	l := mutPick(g.rng, append([]uint16{uint16(real - 1), uint16(real + 1), uint16(real + 2)}, mutInteresting16...))
	binary.BigEndian.PutUint16(b[6:], l)
	return b, fmt.Sprintf("%d octets with Length %d", real, l)
}

// unknownCode sends codes the protocol does not define.
func (g *mutGen) unknownCode() ([]byte, string) {
	r := g.rng
	proto := mutPick(r, []ppp.Protocol{ppp.ProtoLCP, ppp.ProtoLCP, ppp.ProtoIPCP, ppp.ProtoIPV6CP, ppp.ProtoCCP, ppp.ProtoPAP, ppp.ProtoCHAP, ppp.ProtoEAP})
	code := mutPick(r, []ppp.Code{0, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x7f, 0x80, 0xfe, 0xff})
	return mutPacket(proto, code, g.id(), mutRandBytes(r, mutPick(r, []int{0, 1, 4, 8, 64}))), fmt.Sprintf("%v code %d", proto, code)
}

// reject sends Code-Rejects and Protocol-Rejects: of LCP itself, of
// protocols in use, empty, truncated, nested.
func (g *mutGen) reject() ([]byte, string) {
	r := g.rng
	rejected := func() []byte { b, _ := g.seed(); return b[4:] }
	switch r.IntN(5) {
	case 0:
		proto := mutPick(r, []uint16{0xc021, 0x8021, 0x0021, 0x8057, 0x80fd, 0xc023, 0xc223, 0xc227, 0, 0xffff})
		data := binary.BigEndian.AppendUint16(nil, proto)
		data = append(data, rejected()...)
		return mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, g.id(), data), fmt.Sprintf("Protocol-Reject of 0x%04x", proto)
	case 1:
		l := mutPick(r, []int{0, 1})
		return mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, g.id(), []byte{0xc0, 0x21}[:l]), fmt.Sprintf("Protocol-Reject with %d octets", l)
	case 2:
		proto := mutPick(r, mutCfProtos)
		return mutPacket(proto, ppp.CodeCodeReject, g.id(), nil), fmt.Sprintf("empty %v Code-Reject", proto)
	case 3:
		proto := mutPick(r, mutCfProtos)
		inner := mutPacket(proto, ppp.CodeCodeReject, g.id(), rejected())[4:]
		return mutPacket(proto, ppp.CodeCodeReject, g.id(), inner), fmt.Sprintf("%v Code-Reject of a Code-Reject", proto)
	default:
		proto := mutPick(r, mutCfProtos)
		code := mutPick(r, []byte{1, 2, 3, 4, 5, 6, 9})
		inner := mutPacket(proto, ppp.Code(code), g.id(), nil)[4:]
		return mutPacket(proto, ppp.CodeCodeReject, g.id(), inner), fmt.Sprintf("%v Code-Reject of code %d", proto, code)
	}
}

// header sends frames whose PPP header is compressed where it must not be
// (LCP with ACFC), wrong (Address or Control other than 0xff 0x03, an even
// Protocol), or missing.
func (g *mutGen) header() ([]byte, string) {
	r := g.rng
	b, _ := g.seed()
	switch r.IntN(7) {
	case 0:
		return b[2:], "no Address and Control fields (ACFC)"
	case 1:
		if b[2] == 0 {
			return append([]byte{b[3]}, b[4:]...), "compressed Protocol field, no Address and Control (ACFC, PFC)"
		}
		return append([]byte{0xff, 0x03, b[3]}, b[4:]...), "Protocol field cut to its second octet (PFC of a protocol above 0xff)"
	case 2:
		b[0], b[1] = mutPick(r, []byte{0x00, 0x01, 0x03, 0xfe, 0x7d}), mutPick(r, []byte{0x00, 0x03, 0x13, 0xff})
		return b, fmt.Sprintf("Address 0x%02x Control 0x%02x", b[0], b[1])
	case 3:
		b[3] &^= 1
		return b, "even Protocol field"
	case 4:
		b[2] |= 1
		return b, "odd first Protocol octet"
	case 5:
		return b[:r.IntN(5)], "header only or less"
	default:
		b[2], b[3] = byte(r.Uint32()), byte(r.Uint32())|1
		return b, fmt.Sprintf("Protocol 0x%02x%02x", b[2], b[3])
	}
}

// linkMaintenance sends Echo, Discard, Identification and Time-Remaining
// packets too short for their magic number, carrying the peer's own
// magic (a looped-back line) or zero.
func (g *mutGen) linkMaintenance() ([]byte, string) {
	r := g.rng
	code := mutPick(r, []ppp.Code{ppp.CodeEchoRequest, ppp.CodeEchoRequest, ppp.CodeEchoReply, ppp.CodeDiscardRequest, ppp.CodeIdentification, ppp.CodeTimeRemaining})
	var magic uint32
	if len(g.peer) > 0 && r.IntN(2) == 0 {
		magic = g.peerMagic()
	} else {
		magic = mutPick(r, []uint32{0, g.magic, 0xffffffff})
	}
	data := binary.BigEndian.AppendUint32(nil, magic)
	data = append(data, mutRandBytes(r, mutPick(r, []int{0, 0, 3, 4, 100}))...)
	n := mutPick(r, []int{0, 1, 2, 3, len(data), len(data)})
	return mutPacket(ppp.ProtoLCP, code, g.id(), data[:n]), fmt.Sprintf("%v with %d octets of data, magic 0x%x", code, n, magic)
}

// peerMagic returns the Magic-Number of the peer's last captured LCP
// Configure-Request, or a random one.
func (g *mutGen) peerMagic() uint32 {
	for i := len(g.peer) - 1; i >= 0; i-- {
		b := g.peer[i]
		if len(b) < 8 || b[2] != 0xc0 || b[3] != 0x21 || b[4] != byte(ppp.CodeConfigureRequest) {
			continue
		}
		opts, _ := mutOptions(b)
		for _, o := range opts {
			if o[0] == lcp.OptMagicNumber && len(o) == 6 {
				return binary.BigEndian.Uint32(o[2:])
			}
		}
	}
	return g.rng.Uint32()
}

// data sends network-layer packets: IP with a lying header, VJ and
// compressed datagrams, in any phase.
func (g *mutGen) data() ([]byte, string) {
	r := g.rng
	proto := mutPick(r, []ppp.Protocol{ppp.ProtoIPv4, ppp.ProtoIPv4, ppp.ProtoIPv6, ppp.ProtoVJC, ppp.ProtoVJUC, ppp.ProtoCCPData, 0x003d, 0x0031})
	n := mutPick(r, []int{0, 1, 19, 20, 21, 40, 576, 1500})
	b := append(ppp.AppendHeader(nil, proto, false, false), mutRandBytes(r, n)...)
	if proto == ppp.ProtoIPv4 && n >= 20 {
		b[4] = mutPick(r, []byte{0x45, 0x4f, 0x40, 0x46, 0x00})
		binary.BigEndian.PutUint16(b[6:], mutPick(r, mutInteresting16))
	}
	return b, fmt.Sprintf("%v of %d octets", proto, n)
}

// framing builds malformed framing around a valid frame.
func (g *mutGen) framing() fuzzUnit {
	r := g.rng
	pkt, _ := g.seed()
	stuffed := stuff(nil, pkt)
	fcs := hdlc.Checksum16(pkt)
	withFCS := stuff(mutClone(stuffed), []byte{byte(fcs), byte(fcs >> 8)})
	frame := func(parts ...[]byte) []byte {
		b := []byte{0x7e}
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	switch r.IntN(12) {
	case 0:
		bad := fcs ^ uint16(1+r.IntN(0xfffe))
		return fuzzUnit{raw: frame(stuffed, stuff(nil, []byte{byte(bad), byte(bad >> 8)}), []byte{0x7e}), what: "bad FCS"}
	case 1:
		return fuzzUnit{raw: frame(withFCS, []byte{0x7d, 0x7e}), what: "escape before the closing flag (abort)"}
	case 2:
		return fuzzUnit{raw: frame([]byte{0x7d}, withFCS, []byte{0x7e}), what: "escape after the opening flag"}
	case 3:
		cut := r.IntN(len(stuffed) + 1)
		return fuzzUnit{raw: frame(stuffed[:cut], []byte{0x7d, 0x7e}, withFCS, []byte{0x7e}), what: "aborted frame, then the frame"}
	case 4:
		return fuzzUnit{raw: frame(withFCS[:r.IntN(len(withFCS)+1)]), what: "no closing flag"}
	case 5:
		noisy := frame()
		for _, c := range append(mutClone(pkt), byte(fcs), byte(fcs>>8)) {
			if c == 0x7d || c == 0x7e {
				noisy = append(noisy, 0x7d, c^0x20)
			} else {
				noisy = append(noisy, c)
			}
			if r.IntN(8) == 0 {
				noisy = append(noisy, byte(r.IntN(0x20)))
			}
		}
		return fuzzUnit{raw: append(noisy, 0x7e), what: "control characters unescaped and inserted"}
	case 6:
		f := hdlc.Checksum32(pkt)
		return fuzzUnit{raw: frame(stuffed, stuff(nil, []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}), []byte{0x7e}), what: "FCS-32 instead of FCS-16"}
	case 7:
		return fuzzUnit{raw: frame(stuffed, []byte{0x7e}), what: "no FCS"}
	case 8:
		n := mutPick(r, []int{1, 2, 3, 4})
		b := mutRandBytes(r, n)
		f := hdlc.Checksum16(b)
		return fuzzUnit{raw: frame(stuff(nil, append(b, byte(f), byte(f>>8))), []byte{0x7e}), what: fmt.Sprintf("runt frame of %d octets", n)}
	case 9:
		n := mutPick(r, []int{2, 16, 1000})
		b := make([]byte, n)
		for i := range b {
			b[i] = 0x7e
		}
		return fuzzUnit{raw: b, what: fmt.Sprintf("%d flags", n)}
	case 10:
		text := mutPick(r, []string{"ATZ\r\n", "+++", "CONNECT 115200\r\n", "\x7d\x7d\x7d\x7d", "\x7d\x5e\x7d\x5d", "~~\x7d~", "login: "})
		return fuzzUnit{raw: []byte(text), what: fmt.Sprintf("text %q between frames", text)}
	default:
		double := frame()
		for _, c := range withFCS {
			if c == 0x7d {
				double = append(double, 0x7d, 0x7d)
			} else {
				double = append(double, c)
			}
		}
		return fuzzUnit{raw: append(double, 0x7e), what: "escape octets doubled"}
	}
}

// mutOp is one mutation of a frame's content. It may return a new slice.
type mutOp struct {
	name string
	fn   func(*mutGen, []byte) []byte
	// length is set for operations that change the Length field
	// themselves: the field is not corrected after them.
	length bool
}

// mutOps are the mutations.
var mutOps = []mutOp{
	{"bit flip", (*mutGen).flipBits, false},
	{"interesting octet", (*mutGen).setInteresting8, false},
	{"interesting octet", (*mutGen).setInteresting8, false},
	{"interesting 16-bit value", (*mutGen).setInteresting16, false},
	{"Length field", (*mutGen).setLength, true},
	{"insertion", (*mutGen).insert, false},
	{"deletion", (*mutGen).deleteRange, false},
	{"truncation", (*mutGen).truncate, true},
	{"duplicated option", (*mutGen).duplicateOption, false},
	{"option length", (*mutGen).setOptionLength, false},
	{"added option", (*mutGen).addOption, false},
	{"removed option", (*mutGen).removeOption, false},
	{"splice", (*mutGen).splice, false},
	{"repetition", (*mutGen).repeat, false},
	{"other protocol", (*mutGen).otherProtocol, false},
	{"other code", (*mutGen).otherCode, false},
}

// mutate applies one to four mutations to b and returns the result and
// their names.
func (g *mutGen) mutate(b []byte) ([]byte, string) {
	r := g.rng
	n := 1 + r.IntN(4)
	names := ""
	lengthSet := false
	for i := range n {
		op := mutOps[r.IntN(len(mutOps))]
		b = op.fn(g, b)
		lengthSet = lengthSet || op.length
		if i > 0 {
			names += ", "
		}
		names += op.name
		if len(b) > mutMaxFrame {
			b = b[:mutMaxFrame]
		}
	}
	if !lengthSet && r.IntN(2) == 0 {
		mutFixLength(b)
		names += " (Length fixed)"
	}
	return b, names
}

// pos returns a position within b to mutate: mostly past the PPP header.
func (g *mutGen) pos(b []byte) int {
	if len(b) > 4 && g.rng.IntN(8) != 0 {
		return 4 + g.rng.IntN(len(b)-4)
	}
	return g.rng.IntN(len(b))
}

func (g *mutGen) flipBits(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	for range 1 + g.rng.IntN(4) {
		i := g.pos(b)
		b[i] ^= 1 << g.rng.IntN(8)
	}
	return b
}

func (g *mutGen) setInteresting8(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	i := g.pos(b)
	v := mutPick(g.rng, mutInteresting8)
	switch g.rng.IntN(6) {
	case 0: // the length of what follows, ±1
		v = byte(len(b) - i + g.rng.IntN(3) - 1)
	case 1:
		v = b[i] + byte(g.rng.IntN(3)) - 1
	}
	b[i] = v
	return b
}

func (g *mutGen) setInteresting16(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	i := g.pos(b[:len(b)-1])
	binary.BigEndian.PutUint16(b[i:], mutPick(g.rng, mutInteresting16))
	return b
}

func (g *mutGen) setLength(b []byte) []byte {
	if mutHeaderLen(b) != 4 || len(b) < 8 {
		return b
	}
	real := len(b) - 4
	binary.BigEndian.PutUint16(b[6:], mutPick(g.rng, append([]uint16{uint16(real - 1), uint16(real + 1)}, mutInteresting16...)))
	return b
}

func (g *mutGen) insert(b []byte) []byte {
	r := g.rng
	i := 0
	if len(b) > 0 {
		i = g.pos(b)
	}
	var ins []byte
	switch r.IntN(3) {
	case 0:
		ins = mutRandBytes(r, 1+r.IntN(16))
	case 1:
		for range 1 + r.IntN(8) {
			ins = append(ins, mutPick(r, mutInteresting8))
		}
	default:
		if len(b) > 0 {
			j := r.IntN(len(b))
			ins = mutClone(b[j : j+1+r.IntN(min(64, len(b)-j))])
		}
	}
	return append(b[:i], append(ins, b[i:]...)...)
}

func (g *mutGen) deleteRange(b []byte) []byte {
	if len(b) < 2 {
		return b
	}
	i := g.pos(b)
	n := 1 + g.rng.IntN(min(16, len(b)-i))
	return append(b[:i], b[i+n:]...)
}

func (g *mutGen) truncate(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	return b[:g.pos(b)]
}

func (g *mutGen) duplicateOption(b []byte) []byte {
	opts, _ := mutOptions(b)
	if len(opts) == 0 {
		return g.addOption(b)
	}
	o := mutClone(mutPick(g.rng, opts))
	n := mutPick(g.rng, []int{1, 1, 2, 8, 100})
	for range n {
		b = append(b, o...)
	}
	return b
}

func (g *mutGen) setOptionLength(b []byte) []byte {
	opts, off := mutOptions(b)
	if len(opts) == 0 {
		return g.setInteresting8(b)
	}
	k := g.rng.IntN(len(opts))
	for _, o := range opts[:k] {
		off += len(o)
	}
	rest := len(b) - off
	b[off+1] = mutPick(g.rng, []byte{0, 1, 2, 3, byte(len(opts[k]) - 1), byte(len(opts[k]) + 1), byte(min(rest+1, 255)), 0xff})
	return b
}

func (g *mutGen) addOption(b []byte) []byte {
	if mutHeaderLen(b) != 4 || len(b) < 8 {
		return b
	}
	proto := ppp.Protocol(binary.BigEndian.Uint16(b[2:]))
	return append(b, g.randomOption(proto)...)
}

func (g *mutGen) removeOption(b []byte) []byte {
	opts, off := mutOptions(b)
	if len(opts) == 0 {
		return b
	}
	k := g.rng.IntN(len(opts))
	for _, o := range opts[:k] {
		off += len(o)
	}
	return append(b[:off], b[off+len(opts[k]):]...)
}

func (g *mutGen) splice(b []byte) []byte {
	other, _ := g.seed()
	if len(b) == 0 || len(other) == 0 {
		return b
	}
	i, j := g.rng.IntN(len(b)+1), g.rng.IntN(len(other))
	return append(b[:i], other[j:]...)
}

func (g *mutGen) repeat(b []byte) []byte {
	if len(b) <= 4 {
		return b
	}
	data := mutClone(b[4:])
	for range 1 + g.rng.IntN(4) {
		b = append(b, data...)
	}
	return b
}

func (g *mutGen) otherProtocol(b []byte) []byte {
	if mutHeaderLen(b) != 4 {
		return b
	}
	p := mutPick(g.rng, []ppp.Protocol{ppp.ProtoLCP, ppp.ProtoIPCP, ppp.ProtoIPV6CP, ppp.ProtoCCP, ppp.ProtoPAP, ppp.ProtoCHAP, ppp.ProtoEAP, mutProtoLQR, mutProtoBACP})
	binary.BigEndian.PutUint16(b[2:], uint16(p))
	return b
}

func (g *mutGen) otherCode(b []byte) []byte {
	if mutHeaderLen(b) != 4 || len(b) < 5 {
		return b
	}
	b[4] = byte(1 + g.rng.IntN(15))
	return b
}
