package tunnel

import (
	"encoding/binary"
	"math/bits"
)

// IPv4 and TCP header layout, as much as ClampMSS reads (RFC 791 section
// 3.1, RFC 9293 section 3.1).
const (
	ipv4MinHeader = 20 // an IPv4 header without options
	tcpMinHeader  = 20 // a TCP header without options
	protoTCP      = 6  // the IPv4 Protocol field for TCP
	tcpFlagSYN    = 0x02
	tcpOptEOL     = 0 // End of Option List
	tcpOptNOP     = 1 // No-Operation
	tcpOptMSS     = 2 // Maximum Segment Size, 4 octets
	tcpChecksum   = 16

	// MSSOverhead is what ClampMSS's callers subtract from the MTU for
	// IPv4: the IPv4 and TCP headers without options.
	MSSOverhead = ipv4MinHeader + tcpMinHeader
)

// ClampMSS lowers to mss the Maximum Segment Size option (RFC 9293 section
// 3.7.1) of a TCP segment with SYN set carried in the IPv4 packet pkt, when
// the option asks for more, and reports whether it changed pkt. It updates
// the TCP checksum incrementally (RFC 1624), so a valid checksum stays
// valid; the IPv4 header, and so its checksum, is not touched. This is
// pppd's and iptables' "clamp MSS to PMTU": with mss = MTU − MSSOverhead,
// neither end of a TCP connection crossing the tunnel sends segments too
// large for it.
//
// ClampMSS changes nothing but MSS values and the checksum, and leaves
// alone what it cannot read safely: packets other than IPv4 carrying TCP,
// fragments other than the first, truncated headers, and the options after
// one that is malformed (a length below 2, which would never advance, or
// running past the header). An MSS option of the wrong length is skipped.
// It does not allocate.
func ClampMSS(pkt []byte, mss uint16) bool {
	if len(pkt) < ipv4MinHeader || pkt[0]>>4 != 4 || pkt[9] != protoTCP {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if ihl < ipv4MinHeader || total < ihl || total > len(pkt) {
		return false
	}
	if binary.BigEndian.Uint16(pkt[6:8])&0x1fff != 0 {
		return false // not the first fragment: no TCP header here
	}
	tcp := pkt[ihl:total]
	if len(tcp) < tcpMinHeader || tcp[13]&tcpFlagSYN == 0 {
		return false
	}
	hlen := int(tcp[12]>>4) * 4
	if hlen < tcpMinHeader || hlen > len(tcp) {
		return false
	}
	changed := false
	for i := tcpMinHeader; i < hlen; {
		switch tcp[i] {
		case tcpOptEOL:
			return changed
		case tcpOptNOP:
			i++
			continue
		}
		if i+1 >= hlen {
			return changed
		}
		n := int(tcp[i+1])
		if n < 2 || i+n > hlen {
			return changed
		}
		if tcp[i] == tcpOptMSS && n == 4 {
			if old := binary.BigEndian.Uint16(tcp[i+2:]); old > mss {
				binary.BigEndian.PutUint16(tcp[i+2:], mss)
				o, m := old, mss
				if (i+2)%2 == 1 {
					// The value straddles two 16-bit words of the
					// checksum: its octets count swapped.
					o, m = bits.ReverseBytes16(o), bits.ReverseBytes16(m)
				}
				c := binary.BigEndian.Uint16(tcp[tcpChecksum:])
				binary.BigEndian.PutUint16(tcp[tcpChecksum:], updateChecksum(c, o, m))
				changed = true
			}
		}
		i += n
	}
	return changed
}

// updateChecksum returns the Internet checksum hc updated for a 16-bit word
// of the checksummed data changing from old to new: RFC 1624 equation 3,
// HC' = ~(~HC + ~m + m').
func updateChecksum(hc, old, new uint16) uint16 {
	sum := uint32(^hc) + uint32(^old) + uint32(new)
	sum = sum&0xffff + sum>>16
	sum = sum&0xffff + sum>>16
	return ^uint16(sum)
}
