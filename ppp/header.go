package ppp

// The PPP header inside an HDLC-like frame (RFC 1662 section 3.1 and
// RFC 1661 sections 2, 6.5 and 6.6): the All-Stations address 0xff and the
// Unnumbered Information control field 0x03, omitted when
// Address-and-Control-Field-Compression is in force, then the Protocol
// field, one octet when Protocol-Field-Compression is in force and the
// protocol allows it.

// Address and Control values of the PPP header (RFC 1662 section 3.1).
const (
	AllStations = 0xff // Address field: All-Stations
	UI          = 0x03 // Control field: Unnumbered Information
)

// AppendHeader appends the PPP header for proto to dst and returns the
// extended slice. acfc omits the Address and Control fields and pfc
// compresses the Protocol field to one octet when proto allows it; the caller
// decides both from what the peer acknowledged. LCP packets must always be
// sent with both fields uncompressed (RFC 1661 sections 6.5 and 6.6):
// AppendHeader enforces that whatever acfc and pfc say.
func AppendHeader(dst []byte, proto Protocol, acfc, pfc bool) []byte {
	if proto == ProtoLCP {
		acfc, pfc = false, false
	}
	if !acfc {
		dst = append(dst, AllStations, UI)
	}
	if pfc && proto.Compressible() {
		return append(dst, byte(proto))
	}
	return append(dst, byte(proto>>8), byte(proto))
}

// ParseHeader splits a received frame (without flags and FCS) into its
// protocol and information field. It accepts the Address and Control fields
// present or absent and the Protocol field in one or two octets, whatever was
// negotiated, as RFC 1661 section 6.5 asks of a robust receiver. It returns
// ErrMalformed when the frame is too short, starts with the Address 0xff not
// followed by the Control 0x03, or has an invalid Protocol field. The
// returned info aliases frame.
func ParseHeader(frame []byte) (proto Protocol, info []byte, err error) {
	b := frame
	if len(b) >= 1 && b[0] == AllStations {
		// 0xff is never a compressed Protocol field (see Compressible).
		if len(b) < 2 || b[1] != UI {
			return 0, nil, ErrMalformed
		}
		b = b[2:]
	}
	if len(b) == 0 {
		return 0, nil, ErrMalformed
	}
	if b[0]&1 == 1 { // compressed: one octet, odd
		return Protocol(b[0]), b[1:], nil
	}
	if len(b) < 2 {
		return 0, nil, ErrMalformed
	}
	p := Protocol(b[0])<<8 | Protocol(b[1])
	if !p.Valid() {
		return 0, nil, ErrMalformed
	}
	return p, b[2:], nil
}
