package ipcp

import (
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// AppendOptionText appends opt as pppd's ipcp_printpkt prints it between the
// angle brackets, and returns the extended slice: "addr 192.0.2.1",
// "addrs 192.0.2.1 192.0.2.2", "compress VJ 0f 01", "ms-dns1 192.0.2.53"
// (Primary-DNS; Secondary-DNS prints as ms-dns2) and "ms-wins 192.0.2.137"
// (both NBNS options), with any octets beyond those in hexadecimal. For an
// unknown or misshapen option it appends nothing, so that ppp prints its raw
// octets ("< 05 06 00 00 00 00>"), as pppd does. It is used only for logging.
func (h *Handler) AppendOptionText(b []byte, opt ppp.Option) []byte {
	d := opt.Data
	switch opt.Type {
	case OptIPAddresses:
		if len(d) == 8 {
			b = append(b, "addrs "...)
			b = addr4(d[:4]).AppendTo(b)
			b = append(b, ' ')
			return addr4(d[4:]).AppendTo(b)
		}
	case OptIPCompressionProtocol:
		if len(d) >= 2 {
			b = append(b, "compress "...)
			switch p := uint16(d[0])<<8 | uint16(d[1]); p {
			case vjComp:
				b = append(b, "VJ"...)
			case vjCompOld:
				b = append(b, "old-VJ"...)
			default:
				b = append(b, "0x"...)
				b = strconv.AppendUint(b, uint64(p), 16)
			}
			return ppp.AppendHex(b, d[2:])
		}
	case OptIPAddress:
		if len(d) == 4 {
			b = append(b, "addr "...)
			return addr4(d).AppendTo(b)
		}
	case OptPrimaryDNS, OptSecondaryDNS:
		if len(d) >= 4 {
			b = append(b, "ms-dns"...)
			b = append(b, '1'+byte(secondary(opt.Type)), ' ')
			b = addr4(d).AppendTo(b)
			return ppp.AppendHex(b, d[4:])
		}
	case OptPrimaryNBNS, OptSecondaryNBNS:
		if len(d) >= 4 {
			b = append(b, "ms-wins "...)
			b = addr4(d).AppendTo(b)
			return ppp.AppendHex(b, d[4:])
		}
	}
	return b
}
