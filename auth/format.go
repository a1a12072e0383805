package auth

import (
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// The text below follows pppd's upap_printpkt (upap.c) and chap_print_pkt
// (chap.c, chap-new.c in 2.4.9), and format_packet (utils.c) around them:
//
//	[PAP AuthReq id=0x1 user="alice" password=<hidden>]
//	[PAP AuthAck id=0x1 "Login ok"]
//	[CHAP Challenge id=0x1 <4a5b…>, name = "server"]
//	[CHAP Response id=0x1 <…>, name = "alice"]
//	[CHAP Success id=0x1 "Access granted"]
//
// pppd hides the PAP password unless show-password is given; pppssh always
// hides it, and with it every other octet of an Authenticate-Request but
// the Peer-ID, including those a malformed request would show in
// hexadecimal, since they may hold part of a password.

// maxPadHex is how many octets after a packet's Length pppd prints (its
// format_packet) before " ...".
const maxPadHex = 32

var (
	papCodeNames  = [...]string{"", "AuthReq", "AuthAck", "AuthNak"}
	chapCodeNames = [...]string{"", "Challenge", "Response", "Success", "Failure"}
)

// AppendPacketText appends to b the text pppd's debug log gives the control
// packet pkt of protocol proto, from the opening bracket to the closing
// one, and returns the extended slice; callers put "sent " or "rcvd " in
// front. PAP and CHAP packets print as described above, never showing a
// PAP password; other protocols print as ppp.AppendPacketText prints them
// without a formatter. It accepts any octets, does not keep pkt, and
// allocates only if b must grow.
func AppendPacketText(b []byte, proto ppp.Protocol, pkt []byte) []byte {
	switch proto {
	case ppp.ProtoPAP:
		return appendPAPText(b, pkt)
	case ppp.ProtoCHAP:
		return appendCHAPText(b, pkt)
	}
	return ppp.AppendPacketText(b, proto, pkt, nil)
}

// Formatter is the formatter ppp.AppendPacketText takes for PAP and CHAP
// (a ppp.PacketFormatter): it prints their packets as AppendPacketText does.
type Formatter struct{}

// AppendPacketText is the package's AppendPacketText.
func (Formatter) AppendPacketText(b []byte, proto ppp.Protocol, pkt []byte) []byte {
	return AppendPacketText(b, proto, pkt)
}

// appendHidden appends " <N octets hidden>" for n > 0 octets of a PAP
// request that are not printed.
func appendHidden(b []byte, n int) []byte {
	if n == 0 {
		return b
	}
	b = append(b, " <"...)
	b = strconv.AppendInt(b, int64(n), 10)
	if n == 1 {
		return append(b, " octet hidden>"...)
	}
	return append(b, " octets hidden>"...)
}

// appendPadHex appends the octets after a packet's Length as pppd does.
func appendPadHex(b, pad []byte) []byte {
	if len(pad) <= maxPadHex {
		return ppp.AppendHex(b, pad)
	}
	return append(ppp.AppendHex(b, pad[:maxPadHex]), " ..."...)
}

// appendHead appends " Name id=0xN" for the code of p.
func appendHead(b []byte, names []string, p ppp.Packet) []byte {
	b = append(b, ' ')
	if c := int(p.Code()); c >= 1 && c < len(names) {
		b = append(b, names[c]...)
	} else {
		b = append(b, "code=0x"...)
		b = strconv.AppendUint(b, uint64(c), 16)
	}
	b = append(b, " id=0x"...)
	return strconv.AppendUint(b, uint64(p.ID()), 16)
}

func appendPAPText(b, pkt []byte) []byte {
	b = append(b, "[PAP"...)
	request := len(pkt) > 0 && pkt[0] == PAPAuthenticateRequest
	p, err := ppp.ParsePacket(pkt)
	if err != nil {
		// pppd prints the octets of a packet whose Length is wrong; those
		// of what may be a request could be a password.
		b = append(b, ']')
		if request {
			return appendHidden(b, len(pkt))
		}
		return appendPadHex(b, pkt)
	}
	b = appendHead(b, papCodeNames[:], p)
	d := p.Data()
	switch p.Code() {
	case PAPAuthenticateRequest:
		user, pw, err := ParsePAPRequest(p)
		if err != nil {
			b = appendHidden(b, len(d))
			break
		}
		b = append(b, " user="...)
		b = ppp.AppendQuoted(b, user)
		b = append(b, " password="+hidden...)
		b = appendHidden(b, len(d)-2-len(user)-pw.Len())
	case PAPAuthenticateAck, PAPAuthenticateNak:
		msg, err := ParsePAPReply(p)
		if err != nil || len(d) == 0 {
			b = ppp.AppendHex(b, d)
			break
		}
		b = append(b, ' ')
		b = ppp.AppendQuoted(b, msg)
		b = ppp.AppendHex(b, d[1+len(msg):])
	default:
		b = ppp.AppendHex(b, d)
	}
	b = append(b, ']')
	if request {
		return appendHidden(b, len(pkt)-len(p))
	}
	return appendPadHex(b, pkt[len(p):])
}

func appendCHAPText(b, pkt []byte) []byte {
	b = append(b, "[CHAP"...)
	p, err := ppp.ParsePacket(pkt)
	if err != nil {
		return appendPadHex(append(b, ']'), pkt)
	}
	b = appendHead(b, chapCodeNames[:], p)
	d := p.Data()
	switch p.Code() {
	case CHAPChallenge, CHAPResponse:
		// pppd prints nothing of a Value that runs past the end, and
		// accepts a Value-Size of zero here.
		if len(d) < 1 || len(d) < 1+int(d[0]) {
			break
		}
		const digits = "0123456789abcdef"
		b = append(b, " <"...)
		for _, c := range d[1 : 1+int(d[0])] {
			b = append(b, digits[c>>4], digits[c&15])
		}
		b = append(b, ">, name = "...)
		b = ppp.AppendQuoted(b, d[1+int(d[0]):])
	case CHAPSuccess, CHAPFailure:
		b = append(b, ' ')
		b = ppp.AppendQuoted(b, d)
	default:
		b = ppp.AppendHex(b, d)
	}
	b = append(b, ']')
	return appendPadHex(b, pkt[len(p):])
}
