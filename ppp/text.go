package ppp

import "strconv"

// Packets are printed the way pppd's debug log prints them (pppd's
// format_packet and the protocols' printpkt functions), so that our logs and
// pppd's can be compared line by line:
//
//	[LCP ConfReq id=0x1 <asyncmap 0x0> <magic 0x3d1981f> <pcomp> <accomp>]
//	[LCP TermReq id=0x2 "User request"]
//	[LCP CodeRej id=0x3 0e 01 00 04]

// PacketFormatter is implemented by the formatters of protocols whose
// packets are not option negotiations, such as PAP and CHAP (package auth):
// AppendPacketText hands them the whole packet.
type PacketFormatter interface {
	// AppendPacketText appends the text of pkt, from the opening bracket
	// to the closing one, as AppendPacketText does.
	AppendPacketText(b []byte, proto Protocol, pkt []byte) []byte
}

// appendPAPHidden prints a PAP packet without its Data, which may hold a
// password: "[PAP code=0x1 id=0x2 len=13]".
func appendPAPHidden(b, pkt []byte) []byte {
	b = append(b, "[PAP"...)
	if len(pkt) >= 4 {
		b = append(b, " code=0x"...)
		b = strconv.AppendUint(b, uint64(pkt[0]), 16)
		b = append(b, " id=0x"...)
		b = strconv.AppendUint(b, uint64(pkt[1]), 16)
	}
	b = append(b, " len="...)
	b = strconv.AppendInt(b, int64(len(pkt)), 10)
	return append(b, ']')
}

// maxLCPHex is how many trailing octets pppd prints for an LCP packet before
// it writes " ..." (lcp_printpkt); the other protocols print them all.
const maxLCPHex = 32

// AppendPacketText appends to b the text pppd's debug log gives the control
// packet pkt of protocol proto, from the opening bracket to the closing one
// ("[LCP ConfReq id=0x1 <mru 1500>]"); callers put "sent " or "rcvd " in
// front. f supplies the protocol's own text: if it implements
// OptionFormatter, for the options of Configure-* packets, and if it
// implements CodeFormatter, for the Data of codes beyond the seven shared
// ones. Options f does not format print as pppd prints an unknown option,
// every octet in hexadecimal ("< 0d 03 06>"). A packet whose Length is wrong
// prints as "[LCP]" followed by its octets. If f implements PacketFormatter,
// it prints the whole packet instead. A PAP packet without one prints only
// its code, identifier and length: an Authenticate-Request carries a
// password. AppendPacketText does not keep pkt; it allocates only if b must
// grow.
func AppendPacketText(b []byte, proto Protocol, pkt []byte, f any) []byte {
	if pf, ok := f.(PacketFormatter); ok {
		return pf.AppendPacketText(b, proto, pkt)
	}
	if proto == ProtoPAP {
		return appendPAPHidden(b, pkt)
	}
	b = append(b, '[')
	b = append(b, proto.String()...)
	p, err := ParsePacket(pkt)
	if err != nil {
		b = append(b, ']')
		return appendHexLimit(b, pkt, maxLCPHex)
	}
	limit := len(pkt)
	if proto == ProtoLCP {
		limit = maxLCPHex
	}
	b = append(b, ' ')
	if proto != ProtoLCP && p.Code() > CodeCodeReject {
		// pppd names only the shared codes outside LCP.
		b = append(b, "code=0x"...)
		b = strconv.AppendUint(b, uint64(p.Code()), 16)
	} else {
		b = append(b, p.Code().String()...)
	}
	b = append(b, " id=0x"...)
	b = strconv.AppendUint(b, uint64(p.ID()), 16)

	rest := p.Data()
	switch c := p.Code(); {
	case c >= CodeConfigureRequest && c <= CodeConfigureReject:
		of, _ := f.(OptionFormatter)
		for len(rest) >= 2 {
			n := int(rest[1])
			if n < 2 || n > len(rest) {
				break
			}
			b = append(b, " <"...)
			b = appendOptionText(b, Option{Type: rest[0], Data: rest[2:n:n]}, rest[:n], of)
			b = append(b, '>')
			rest = rest[n:]
		}
	case c == CodeTerminateRequest || c == CodeTerminateAck:
		if len(rest) > 0 && rest[0] >= ' ' && rest[0] < 0x7f {
			b = append(b, ' ')
			b = AppendQuoted(b, rest)
			rest = nil
		}
	case c > CodeCodeReject:
		if cf, ok := f.(CodeFormatter); ok {
			n := len(b)
			b = cf.AppendCodeText(append(b, ' '), p)
			if len(b) > n+1 {
				rest = nil
			} else {
				b = b[:n]
			}
		}
	}
	b = appendHexLimit(b, rest, limit)
	b = append(b, ']')
	// Octets after Length (padding) follow the bracket, as in pppd.
	return appendHexLimit(b, pkt[len(p):], maxLCPHex)
}

// appendOptionText appends one option's text without its angle brackets:
// the formatter's, or every octet of raw (the whole option) in hexadecimal.
func appendOptionText(b []byte, o Option, raw []byte, of OptionFormatter) []byte {
	if of != nil {
		n := len(b)
		if b = of.AppendOptionText(b, o); len(b) > n {
			return b
		}
	}
	return AppendHex(b, raw)
}

// appendOptionsText appends the options in opts as pppd lists them
// (" <mru 1500> <pcomp>"), for error messages.
func appendOptionsText(b, opts []byte, f any) []byte {
	of, _ := f.(OptionFormatter)
	r := OptionReader(opts)
	for o, ok := r.Next(); ok; o, ok = r.Next() {
		b = append(b, " <"...)
		b = appendOptionText(b, o, opts[len(opts)-len(r)-o.Len():len(opts)-len(r)], of)
		b = append(b, '>')
	}
	return AppendHex(b, r)
}

// AppendHex appends every octet of data to b as pppd prints octets it has
// no words for: a space and two lowercase hexadecimal digits each
// (" 0f 01"). OptionFormatter and CodeFormatter implementations use it for
// trailing octets.
func AppendHex(b, data []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range data {
		b = append(b, ' ', digits[c>>4], digits[c&15])
	}
	return b
}

// appendHexLimit appends at most limit octets of data in hexadecimal, then
// " ..." if some were left out.
func appendHexLimit(b, data []byte, limit int) []byte {
	if len(data) <= limit {
		return AppendHex(b, data)
	}
	return append(AppendHex(b, data[:limit]), " ..."...)
}

// AppendQuoted appends s in double quotes as pppd's print_string does:
// printable ASCII as is, with backslashes before '\\' and '"', \n, \r and
// \t, and every other octet as a backslash and three octal digits.
func AppendQuoted(b, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '\\' || c == '"':
			b = append(b, '\\', c)
		case c >= ' ' && c <= '~':
			b = append(b, c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', '0'+c>>6, '0'+c>>3&7, '0'+c&7)
		}
	}
	return append(b, '"')
}
