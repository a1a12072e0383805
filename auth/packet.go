package auth

import (
	"crypto/md5"

	"github.com/pppssh/pppssh/ppp"
)

// PAP codes (RFC 1334 section 2.2). PAP and CHAP packets use the
// Code/Identifier/Length format of RFC 1661 section 5 (ppp.Packet), with
// codes of their own.
const (
	PAPAuthenticateRequest = 1 // Authenticate-Request: Peer-ID and Password
	PAPAuthenticateAck     = 2 // Authenticate-Ack: a Message
	PAPAuthenticateNak     = 3 // Authenticate-Nak: a Message
)

// CHAP codes (RFC 1994 section 4).
const (
	CHAPChallenge = 1 // Challenge: a Value and the authenticator's Name
	CHAPResponse  = 2 // Response: a Value and the peer's Name
	CHAPSuccess   = 3 // Success: a Message
	CHAPFailure   = 4 // Failure: a Message
)

// CHAPMD5 is the CHAP algorithm number of MD5 (RFC 1994 section 2.1), the
// only one pppssh speaks; LCP negotiates it.
const CHAPMD5 = 5

// MD5 challenge lengths: pppd's chap-md5.c draws a length from
// MD5_MIN_CHALLENGE up to, but not including, MD5_MAX_CHALLENGE.
const (
	minChallenge = 16
	maxChallenge = 24
)

// MD5Size is the length of a CHAP MD5 response value.
const MD5Size = md5.Size

// MaxNameLen is the longest name or password PAP can carry (a one-octet
// length field); pppssh holds CHAP names to it as well.
const MaxNameLen = 255

// AppendPAPRequest appends a PAP Authenticate-Request with identifier id,
// Peer-ID peerID and Password password (RFC 1334 section 2.2.1) to dst and
// returns the extended slice. peerID and password are cut to MaxNameLen
// octets; callers check their lengths first.
func AppendPAPRequest(dst []byte, id uint8, peerID []byte, password Secret) []byte {
	pw := password.bytes()
	peerID, pw = peerID[:min(len(peerID), MaxNameLen)], pw[:min(len(pw), MaxNameLen)]
	dst, start := ppp.StartPacket(dst, PAPAuthenticateRequest, id)
	dst = append(dst, byte(len(peerID)))
	dst = append(dst, peerID...)
	dst = append(dst, byte(len(pw)))
	dst = append(dst, pw...)
	return ppp.FinishPacket(dst, start)
}

// ParsePAPRequest returns the Peer-ID and Password of the
// Authenticate-Request p. Both alias p. It returns ppp.ErrMalformed when a
// length field runs past the end of the packet; octets after the Password
// are ignored, as pppd ignores them.
func ParsePAPRequest(p ppp.Packet) (peerID []byte, password Secret, err error) {
	d := p.Data()
	if len(d) < 1 || len(d) < 1+int(d[0])+1 {
		return nil, Secret{}, ppp.ErrMalformed
	}
	peerID, d = d[1:1+int(d[0])], d[1+int(d[0]):]
	if len(d) < 1+int(d[0]) {
		return nil, Secret{}, ppp.ErrMalformed
	}
	return peerID, secretView(d[1 : 1+int(d[0])]), nil
}

// AppendPAPReply appends a PAP Authenticate-Ack or Authenticate-Nak (code)
// with identifier id and message msg (RFC 1334 sections 2.2.2) to dst and
// returns the extended slice. msg is cut to 255 octets.
func AppendPAPReply(dst []byte, code, id uint8, msg []byte) []byte {
	msg = msg[:min(len(msg), MaxNameLen)]
	dst, start := ppp.StartPacket(dst, ppp.Code(code), id)
	dst = append(dst, byte(len(msg)))
	dst = append(dst, msg...)
	return ppp.FinishPacket(dst, start)
}

// ParsePAPReply returns the Message of the Authenticate-Ack or
// Authenticate-Nak p, aliasing p. A packet without data has an empty
// message, as pppd accepts it; a Msg-Length past the end of the packet is
// ppp.ErrMalformed.
func ParsePAPReply(p ppp.Packet) (msg []byte, err error) {
	d := p.Data()
	if len(d) == 0 {
		return nil, nil
	}
	if len(d) < 1+int(d[0]) {
		return nil, ppp.ErrMalformed
	}
	return d[1 : 1+int(d[0])], nil
}

// AppendCHAPValue appends a CHAP Challenge or Response (code) with
// identifier id, Value value and Name name (RFC 1994 section 4.1) to dst
// and returns the extended slice. value is cut to 255 octets.
func AppendCHAPValue(dst []byte, code, id uint8, value, name []byte) []byte {
	value = value[:min(len(value), 255)]
	dst, start := ppp.StartPacket(dst, ppp.Code(code), id)
	dst = append(dst, byte(len(value)))
	dst = append(dst, value...)
	dst = append(dst, name...)
	return ppp.FinishPacket(dst, start)
}

// ParseCHAPValue returns the Value and Name of the CHAP Challenge or
// Response p, both aliasing p. It returns ppp.ErrMalformed when the packet
// has no Value-Size, a Value-Size of zero (RFC 1994 section 4.1 requires
// one octet or more) or a Value running past the end of the packet.
func ParseCHAPValue(p ppp.Packet) (value, name []byte, err error) {
	d := p.Data()
	if len(d) < 1 || d[0] == 0 || len(d) < 1+int(d[0]) {
		return nil, nil, ppp.ErrMalformed
	}
	return d[1 : 1+int(d[0])], d[1+int(d[0]):], nil
}

// AppendCHAPStatus appends a CHAP Success or Failure (code) with identifier
// id and message msg (RFC 1994 section 4.2) to dst and returns the extended
// slice. The message is the whole Data field.
func AppendCHAPStatus(dst []byte, code, id uint8, msg []byte) []byte {
	return ppp.AppendPacket(dst, ppp.Code(code), id, msg)
}

// MD5Response returns the CHAP MD5 response to the Challenge value
// challenge sent with identifier id: MD5 over the Identifier, the secret
// and the Challenge Value, in that order (RFC 1994 section 2, with the
// algorithm of RFC 1321).
func MD5Response(id uint8, secret Secret, challenge []byte) [MD5Size]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret.bytes())
	h.Write(challenge)
	var sum [MD5Size]byte
	h.Sum(sum[:0])
	return sum
}
