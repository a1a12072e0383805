package ipv6cp

import (
	"strconv"

	"github.com/pppssh/pppssh/ppp"
)

// AppendOptionText appends opt as pppd's ipv6cp_printpkt prints it between
// the angle brackets, and returns the extended slice: an Interface-Identifier
// as "addr" and the link-local address pppd's llv6_ntoa writes, every group
// of four hexadecimal digits in full ("addr fe80::0123:4567:89ab:cdef"), and
// an IPv6-Compression-Protocol as "compress" and its protocol number in
// hexadecimal ("compress 0x4f"), with any further octets in hexadecimal. For
// an unknown or misshapen option it appends nothing, so that ppp prints its
// raw octets ("< 01 06 00 00 00 01>"), as pppd does. It is used only for
// logging.
func (h *Handler) AppendOptionText(b []byte, opt ppp.Option) []byte {
	d := opt.Data
	switch opt.Type {
	case OptInterfaceIdentifier:
		if id, ok := decodeID(d); ok {
			return appendLinkLocal(append(b, "addr "...), id)
		}
	case OptIPv6CompressionProtocol:
		if len(d) >= 2 {
			b = append(b, "compress 0x"...)
			b = strconv.AppendUint(b, uint64(d[0])<<8|uint64(d[1]), 16)
			return ppp.AppendHex(b, d[2:])
		}
	}
	return b
}

// appendLinkLocal appends id as pppd's llv6_ntoa writes it:
// "fe80::0123:4567:89ab:cdef".
func appendLinkLocal(b []byte, id InterfaceID) []byte {
	const digits = "0123456789abcdef"
	b = append(b, "fe80:"...)
	for i, c := range id {
		if i%2 == 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&15])
	}
	return b
}
