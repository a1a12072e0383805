package hdlc

import (
	"encoding/binary"
	"hash/crc32"
)

// Frame Check Sequence values of RFC 1662 appendix C.
const (
	initFCS16 = 0xffff     // FCS-16 register before the first octet
	goodFCS16 = 0xf0b8     // FCS-16 register after a good frame and its FCS
	goodFCS32 = 0xdebb20e3 // FCS-32 register after a good frame and its FCS
	polyFCS16 = 0x8408     // x**0 + x**5 + x**12 + x**16, bit-reversed
)

// fcs16Tables holds the FCS-16 lookup tables for slicing-by-16: row 0 is the
// table of RFC 1662 appendix C.1, and row k gives the effect of an octet
// followed by k zero octets, so that sixteen octets are folded in with
// sixteen independent lookups.
var fcs16Tables = makeFCS16Tables()

func makeFCS16Tables() *[16][256]uint16 {
	t := new([16][256]uint16)
	for b := range 256 {
		v := uint16(b)
		for range 8 {
			if v&1 != 0 {
				v = v>>1 ^ polyFCS16
			} else {
				v >>= 1
			}
		}
		t[0][b] = v
	}
	for k := 1; k < len(t); k++ {
		for b := range 256 {
			v := t[k-1][b]
			t[k][b] = v>>8 ^ t[0][byte(v)]
		}
	}
	return t
}

// updateFCS16 returns the FCS-16 register after p has been fed into fcs. It
// computes what pppfcs16 of RFC 1662 appendix C.2 computes, sixteen octets
// per step.
func updateFCS16(fcs uint16, p []byte) uint16 {
	t := fcs16Tables
	for len(p) >= 16 {
		a := binary.LittleEndian.Uint64(p)
		b := binary.LittleEndian.Uint64(p[8:])
		// Octets 2-15 do not depend on the register: look them up while
		// the previous step finishes, and fold in the two that do last.
		x := (t[13][byte(a>>16)] ^ t[12][byte(a>>24)]) ^
			(t[11][byte(a>>32)] ^ t[10][byte(a>>40)]) ^
			(t[9][byte(a>>48)] ^ t[8][byte(a>>56)]) ^
			(t[7][byte(b)] ^ t[6][byte(b>>8)]) ^
			(t[5][byte(b>>16)] ^ t[4][byte(b>>24)]) ^
			(t[3][byte(b>>32)] ^ t[2][byte(b>>40)]) ^
			(t[1][byte(b>>48)] ^ t[0][byte(b>>56)])
		fcs ^= uint16(a)
		fcs = x ^ t[15][byte(fcs)] ^ t[14][byte(fcs>>8)]
		p = p[16:]
	}
	for _, b := range p {
		fcs = fcs>>8 ^ t[0][byte(fcs)^b]
	}
	return fcs
}

// fcs16 returns the FCS-16 to transmit after p: the ones complement of the
// register, sent least significant octet first (RFC 1662 appendix C.2).
func fcs16(p []byte) uint16 {
	return ^updateFCS16(initFCS16, p)
}

// fcs32 returns the FCS-32 to transmit after p (RFC 1662 appendix C.3). The
// FCS-32 is the IEEE 802.3 CRC-32, which hash/crc32 computes with the
// processor's carry-less multiply where there is one.
func fcs32(p []byte) uint32 {
	return crc32.ChecksumIEEE(p)
}

// goodFCS reports whether frame, its FCS of fcsLen octets included, has a
// good FCS: the register ends at the magic residue of RFC 1662 appendix C.
func goodFCS(frame []byte, fcsLen int) bool {
	if fcsLen == 4 {
		return ^crc32.ChecksumIEEE(frame) == goodFCS32
	}
	return updateFCS16(initFCS16, frame) == goodFCS16
}

// Checksum16 returns the 16-bit FCS of RFC 1662 appendix C.2 to send after p,
// least significant octet first. Encoder appends it itself; Checksum16 is for
// building frames by hand, such as a test harness that sends deliberately
// broken framing.
func Checksum16(p []byte) uint16 { return fcs16(p) }

// Checksum32 returns the 32-bit FCS of RFC 1662 appendix C.3 to send after p,
// least significant octet first; see Checksum16.
func Checksum32(p []byte) uint32 { return fcs32(p) }
