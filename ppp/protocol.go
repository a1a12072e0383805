package ppp

import "strconv"

// Protocol is a PPP Protocol field value (RFC 1661 section 2; the assigned
// numbers are kept by IANA's "PPP DLL Protocol Numbers" registry).
type Protocol uint16

// Protocol numbers used by pppssh or named in its logs.
const (
	ProtoIPv4    Protocol = 0x0021 // Internet Protocol version 4
	ProtoVJC     Protocol = 0x002d // Van Jacobson compressed TCP/IP
	ProtoVJUC    Protocol = 0x002f // Van Jacobson uncompressed TCP/IP
	ProtoIPv6    Protocol = 0x0057 // Internet Protocol version 6
	ProtoCCPData Protocol = 0x00fd // compressed datagram
	ProtoIPCP    Protocol = 0x8021 // IP Control Protocol, RFC 1332
	ProtoIPV6CP  Protocol = 0x8057 // IPv6 Control Protocol, RFC 5072
	ProtoCCP     Protocol = 0x80fd // Compression Control Protocol, RFC 1962
	ProtoLCP     Protocol = 0xc021 // Link Control Protocol, RFC 1661
	ProtoPAP     Protocol = 0xc023 // Password Authentication Protocol, RFC 1334
	ProtoLQR     Protocol = 0xc025 // Link Quality Report, RFC 1989
	ProtoCHAP    Protocol = 0xc223 // Challenge Handshake Authentication Protocol, RFC 1994
	ProtoEAP     Protocol = 0xc227 // Extensible Authentication Protocol, RFC 3748
)

var protocolNames = map[Protocol]string{
	ProtoIPv4:    "IP",
	ProtoVJC:     "VJC_COMP",
	ProtoVJUC:    "VJC_UNCOMP",
	ProtoIPv6:    "IPv6",
	ProtoCCPData: "COMP",
	ProtoIPCP:    "IPCP",
	ProtoIPV6CP:  "IPV6CP",
	ProtoCCP:     "CCP",
	ProtoLCP:     "LCP",
	ProtoPAP:     "PAP",
	ProtoLQR:     "LQR",
	ProtoCHAP:    "CHAP",
	ProtoEAP:     "EAP",
}

// String returns the name pppd uses for p in its logs ("LCP", "IPCP"), or
// the number in hexadecimal (0x80fd style) when p has no name.
func (p Protocol) String() string {
	if s, ok := protocolNames[p]; ok {
		return s
	}
	return "0x" + strconv.FormatUint(uint64(p), 16)
}

// Valid reports whether p is a well-formed protocol number: RFC 1661
// section 2 requires the least significant bit of the most significant octet
// to be 0 and the least significant bit of the least significant octet to be 1.
func (p Protocol) Valid() bool {
	return p&0x0100 == 0 && p&0x0001 == 1
}

// IsControl reports whether p is a network-layer or link-layer control
// protocol (0x8000-0xffff), whose packets use the Code/Identifier/Length
// format of RFC 1661 section 5.
func (p Protocol) IsControl() bool {
	return p >= 0x8000
}

// Compressible reports whether p may be sent with a one-octet Protocol field
// when Protocol-Field-Compression has been negotiated (RFC 1661 section
// 6.5): only values below 0x0100, except 0x00ff, whose single octet a
// receiver would take for the All-Stations address (RFC 1662 section 3.1).
func (p Protocol) Compressible() bool {
	return p < 0x0100 && p != AllStations
}
