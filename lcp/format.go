package lcp

import (
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// The text below follows pppd 2.4.9's lcp_printpkt, so that our debug log
// reads like pppd's: "<asyncmap 0x0> <magic 0x3d1981f> <pcomp> <accomp>".
// Octets a printer does not understand are printed in hex, " %.2x" each
// (ppp.AppendHex); an
// option whose type is unknown or whose length is wrong for its type is
// printed whole that way ("< 0a 03 01>").

// AppendOptionText appends opt as pppd prints it between "<" and ">" ("mru
// 1500", "asyncmap 0x0", "auth chap MD5", "magic 0x3d1981f", "pcomp",
// "accomp") and returns the extended slice. pppd 2.4.9 does not print
// FCS-Alternatives; it is printed the way pppd's Solaris port does ("fcs
// crc32"). It is used only for logging.
func (h *Handler) AppendOptionText(b []byte, opt ppp.Option) []byte {
	d := opt.Data
	used := -1 // octets of d printed as text; -1: print the whole option in hex
	switch opt.Type {
	case OptMRU, optMRRU:
		if len(d) == 2 {
			if opt.Type == OptMRU {
				b = append(b, "mru "...)
			} else {
				b = append(b, "mrru "...)
			}
			b = strconv.AppendUint(b, uint64(be16(d)), 10)
			used = 2
		}
	case OptACCM:
		if len(d) == 4 {
			b = append(b, "asyncmap 0x"...)
			b = strconv.AppendUint(b, uint64(be32(d)), 16)
			used = 4
		}
	case OptAuthProtocol:
		if len(d) >= 2 {
			b = append(b, "auth "...)
			used = 2
			switch p := ppp.Protocol(be16(d)); p {
			case ppp.ProtoPAP:
				b = append(b, "pap"...)
			case ppp.ProtoCHAP:
				b = append(b, "chap"...)
				if len(d) > 2 {
					switch d[2] {
					case chapMD5:
						b = append(b, " MD5"...)
						used++
					case 0x80:
						b = append(b, " MS"...)
						used++
					case 0x81:
						b = append(b, " MS-v2"...)
						used++
					}
				}
			case ppp.ProtoEAP:
				b = append(b, "eap"...)
			default:
				b = appendHex0x(b, uint64(p))
			}
		}
	case OptQualityProtocol:
		if len(d) >= 2 {
			b = append(b, "quality "...)
			if p := ppp.Protocol(be16(d)); p == ppp.ProtoLQR {
				b = append(b, "lqr"...)
			} else {
				b = appendHex0x(b, uint64(p))
			}
			used = 2
		}
	case optCallback:
		if len(d) >= 1 {
			b = append(b, "callback "...)
			if d[0] == 6 {
				b = append(b, "CBCP"...)
			} else {
				b = appendHex0x(b, uint64(d[0]))
			}
			used = 1
		}
	case OptMagicNumber:
		if len(d) == 4 {
			b = append(b, "magic 0x"...)
			b = strconv.AppendUint(b, uint64(be32(d)), 16)
			used = 4
		}
	case OptPFC:
		if len(d) == 0 {
			b = append(b, "pcomp"...)
			used = 0
		}
	case OptACFC:
		if len(d) == 0 {
			b = append(b, "accomp"...)
			used = 0
		}
	case OptFCSAlternatives:
		if len(d) >= 1 {
			b = appendFCS(append(b, "fcs "...), d[0])
			used = 1
		}
	case optSSNHF:
		if len(d) == 0 {
			b = append(b, "ssnhf"...)
			used = 0
		}
	case optEPDisc:
		if len(d) >= 1 {
			b = append(b, "endpoint ["...)
			used = 1 + min(len(d)-1, 20) // pppd keeps at most 20 octets
			b = appendEndpoint(b, d[0], d[1:used])
			b = append(b, ']')
		}
	}
	if used < 0 {
		b = ppp.AppendHex(b, []byte{opt.Type, byte(2 + len(d))})
		used = 0
	}
	return ppp.AppendHex(b, d[used:])
}

// AppendCodeText appends the body of an LCP packet with a code above 7 as
// pppd prints it after the identifier ("magic=0x3d1981f" for an Echo-Request
// or Echo-Reply; "magic=0x0 seconds=60 \"msg\"" for Time-Remaining; the
// data in hex, at most 32 octets then "...", for Protocol-Reject and
// unknown codes) and returns the extended slice. It is used only for
// logging.
func (h *Handler) AppendCodeText(b []byte, pkt ppp.Packet) []byte {
	if len(pkt) < ppp.HeaderLen {
		return b
	}
	start := len(b)
	d := pkt.Data()
	switch c := pkt.Code(); c {
	case ppp.CodeProtocolReject:
		// A rejected PAP packet may carry a password: only the protocol
		// and how many octets followed are shown.
		if len(d) > 2 && ppp.Protocol(be16(d)) == ppp.ProtoPAP {
			b = ppp.AppendHex(b, d[:2])
			b = strconv.AppendInt(append(b, " <"...), int64(len(d)-2), 10)
			b = append(b, " octets hidden>"...)
			d = nil
		}
	case ppp.CodeEchoRequest, ppp.CodeEchoReply, ppp.CodeDiscardRequest:
		if len(d) >= 4 {
			b = append(b, " magic=0x"...)
			b = strconv.AppendUint(b, uint64(be32(d)), 16)
			d = d[4:]
		}
	case ppp.CodeIdentification, ppp.CodeTimeRemaining:
		if len(d) >= 4 {
			b = append(b, " magic=0x"...)
			b = strconv.AppendUint(b, uint64(be32(d)), 16)
			d = d[4:]
		}
		if c == ppp.CodeTimeRemaining {
			if len(d) < 4 {
				break
			}
			b = append(b, " seconds="...)
			b = strconv.AppendUint(b, uint64(be32(d)), 10)
			d = d[4:]
		}
		if len(d) > 0 {
			b = ppp.AppendQuoted(append(b, ' '), d)
			d = nil
		}
	}
	if len(d) > maxHex {
		b = append(ppp.AppendHex(b, d[:maxHex]), " ..."...)
	} else {
		b = ppp.AppendHex(b, d)
	}
	// pppd starts every item with a space; the caller has written one
	// already after the identifier.
	if len(b) > start && b[start] == ' ' {
		b = append(b[:start], b[start+1:]...)
	}
	return b
}

// maxHex is how many trailing octets of a packet pppd prints before
// " ...".
const maxHex = 32

const hexDigits = "0123456789abcdef"

// appendHex0x appends "0x%x".
func appendHex0x(b []byte, v uint64) []byte {
	return strconv.AppendUint(append(b, "0x"...), v, 16)
}

// appendFCS appends the names of the bits of an FCS-Alternatives bitmask,
// comma-separated, then any unknown bits in hex ("crc16,crc32", "0x0").
func appendFCS(b []byte, v byte) []byte {
	names := [...]string{"null", "crc16", "crc32"}
	n := 0
	for i, name := range names {
		if v&(1<<i) != 0 {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, name...)
			v &^= 1 << i
			n++
		}
	}
	if v != 0 || n == 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendHex0x(b, uint64(v))
	}
	return b
}

// appendEndpoint appends a Multilink Endpoint Discriminator as pppd's
// epdisc_to_str does ("IP:192.0.2.1", "MAC:00:11:22:33:44:55",
// "magic:01020304", "local:01.02").
func appendEndpoint(b []byte, class byte, v []byte) []byte {
	names := [...]string{"null", "local", "IP", "MAC", "magic", "phone"}
	if class == 0 && len(v) == 0 {
		return append(b, "null"...)
	}
	if class == 2 && len(v) == 4 {
		b = append(b, "IP:"...)
		for i, c := range v {
			if i > 0 {
				b = append(b, '.')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		return b
	}
	sep, mask := byte('.'), 0
	switch {
	case class == 3 && len(v) == 6:
		sep = ':'
	case class == 4 && len(v)%4 == 0:
		mask = 3
	}
	if int(class) < len(names) {
		b = append(b, names[class]...)
	} else {
		b = strconv.AppendUint(b, uint64(class), 10)
	}
	c := byte(':')
	for i, x := range v {
		if i&mask == 0 {
			b = append(b, c)
			c = sep
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}
