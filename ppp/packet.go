package ppp

import (
	"errors"
	"strconv"
)

// ErrMalformed is returned for a control packet, option list or PPP header
// that breaks the length rules of RFC 1661 sections 2, 5 and 6. Receivers
// count and drop such input silently, as RFC 1661 section 5 requires.
var ErrMalformed = errors.New("ppp: malformed packet")

// Code is the Code field of a control packet (RFC 1661 section 5).
type Code uint8

// Control packet codes. Codes 1-7 are shared by every control protocol
// (RFC 1661 section 5); 8-11 are LCP's own, and 12-13 are LCP extensions of
// RFC 1570.
const (
	CodeConfigureRequest Code = 1  // Configure-Request
	CodeConfigureAck     Code = 2  // Configure-Ack
	CodeConfigureNak     Code = 3  // Configure-Nak
	CodeConfigureReject  Code = 4  // Configure-Reject
	CodeTerminateRequest Code = 5  // Terminate-Request
	CodeTerminateAck     Code = 6  // Terminate-Ack
	CodeCodeReject       Code = 7  // Code-Reject
	CodeProtocolReject   Code = 8  // Protocol-Reject (LCP only)
	CodeEchoRequest      Code = 9  // Echo-Request (LCP only)
	CodeEchoReply        Code = 10 // Echo-Reply (LCP only)
	CodeDiscardRequest   Code = 11 // Discard-Request (LCP only)
	CodeIdentification   Code = 12 // Identification (LCP only, RFC 1570)
	CodeTimeRemaining    Code = 13 // Time-Remaining (LCP only, RFC 1570)
)

var codeNames = [...]string{
	CodeConfigureRequest: "ConfReq",
	CodeConfigureAck:     "ConfAck",
	CodeConfigureNak:     "ConfNak",
	CodeConfigureReject:  "ConfRej",
	CodeTerminateRequest: "TermReq",
	CodeTerminateAck:     "TermAck",
	CodeCodeReject:       "CodeRej",
	CodeProtocolReject:   "ProtRej",
	CodeEchoRequest:      "EchoReq",
	CodeEchoReply:        "EchoRep",
	CodeDiscardRequest:   "DiscReq",
	CodeIdentification:   "Ident",
	CodeTimeRemaining:    "TimeRem",
}

// String returns pppd's short name for c ("ConfReq", "TermAck"), or
// "code=0x%x" as pppd prints an unknown code.
func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "code=0x" + strconv.FormatUint(uint64(c), 16)
}

// HeaderLen is the length of the Code, Identifier and Length fields that
// start every control packet.
const HeaderLen = 4

// Packet is a validated control packet: Code, Identifier, Length and Data
// (RFC 1661 section 5). Its length equals its Length field. A Packet aliases
// the buffer it was parsed from.
type Packet []byte

// ParsePacket validates b as a control packet and returns it trimmed to its
// Length field; octets after Length are padding and are ignored (RFC 1661
// section 5). It returns ErrMalformed when b is shorter than 4 octets or the
// Length field is below 4 or beyond len(b). It does not allocate.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return nil, ErrMalformed
	}
	n := int(b[2])<<8 | int(b[3])
	if n < HeaderLen || n > len(b) {
		return nil, ErrMalformed
	}
	return Packet(b[:n:n]), nil
}

// Code returns the packet's Code field.
func (p Packet) Code() Code { return Code(p[0]) }

// ID returns the packet's Identifier field.
func (p Packet) ID() uint8 { return p[1] }

// Data returns the packet's Data field (everything after the four header
// octets, up to Length).
func (p Packet) Data() []byte { return p[HeaderLen:] }

// AppendPacket appends a control packet with the given code, identifier and
// data to dst and returns the extended slice. It fills in the Length field.
// The caller keeps len(data)+4 within 65535 and within the peer's MRU.
func AppendPacket(dst []byte, code Code, id uint8, data []byte) []byte {
	n := HeaderLen + len(data)
	dst = append(dst, byte(code), id, byte(n>>8), byte(n))
	return append(dst, data...)
}

// StartPacket appends the header of a control packet whose data the caller
// appends next, and returns the extended slice and the offset of the packet's
// first octet; FinishPacket then fills in the Length field. Together they let
// a handler build options directly into the send buffer.
func StartPacket(dst []byte, code Code, id uint8) (b []byte, start int) {
	return append(dst, byte(code), id, 0, 0), len(dst)
}

// FinishPacket sets the Length field of the packet that StartPacket began at
// offset start of b, to cover everything appended since.
func FinishPacket(b []byte, start int) []byte {
	n := len(b) - start
	b[start+2], b[start+3] = byte(n>>8), byte(n)
	return b
}
