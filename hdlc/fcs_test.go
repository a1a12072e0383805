package hdlc

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func TestFCSCheckValues(t *testing.T) {
	// The check values of the CRC catalogues: CRC-16/X-25 and CRC-32 of
	// the ASCII string "123456789".
	check := []byte("123456789")
	tests := []struct {
		name string
		got  uint32
		want uint32
	}{
		{"fcs16/123456789", uint32(fcs16(check)), 0x906e},
		{"fcs16-naive/123456789", uint32(^naiveUpdateFCS16(initFCS16, check)), 0x906e},
		{"fcs32/123456789", fcs32(check), 0xcbf43926},
		{"fcs32-naive/123456789", ^naiveUpdateFCS32(0xffffffff, check), 0xcbf43926},
		{"fcs16/empty", uint32(fcs16(nil)), 0x0000},
		{"fcs32/empty", fcs32(nil), 0x00000000},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestFCS16Table(t *testing.T) {
	// The first and last lines of the table printed in RFC 1662 appendix
	// C.2.
	tests := []struct {
		index int
		want  uint16
	}{
		{0x00, 0x0000}, {0x01, 0x1189}, {0x02, 0x2312}, {0x03, 0x329b},
		{0x04, 0x4624}, {0x05, 0x57ad}, {0x06, 0x6536}, {0x07, 0x74bf},
		{0xf8, 0x7bc7}, {0xf9, 0x6a4e}, {0xfa, 0x58d5}, {0xfb, 0x495c},
		{0xfc, 0x3de3}, {0xfd, 0x2c6a}, {0xfe, 0x1ef1}, {0xff, 0x0f78},
	}
	for _, tt := range tests {
		if got := fcs16Tables[0][tt.index]; got != tt.want {
			t.Errorf("fcstab[%#02x] = %#04x, want %#04x", tt.index, got, tt.want)
		}
	}
	if fcs16Tables[0] != naiveFCS16Table {
		t.Error("slicing table row 0 differs from the RFC 1662 table")
	}
	if naiveFCS32Table != *crc32.IEEETable {
		t.Error("FCS-32 table of RFC 1662 appendix C.3 differs from hash/crc32's IEEE table")
	}
}

func TestUpdateFCS16MatchesNaive(t *testing.T) {
	p := randomFrame(300, 7)
	for n := range len(p) {
		for _, init := range []uint16{initFCS16, 0, 0x1234} {
			if got, want := updateFCS16(init, p[:n]), naiveUpdateFCS16(init, p[:n]); got != want {
				t.Fatalf("updateFCS16(%#x, %d octets) = %#x, want %#x", init, n, got, want)
			}
		}
	}
}

func TestGoodResidue(t *testing.T) {
	// RFC 1662 appendix C: running the FCS over a frame and the FCS sent
	// after it, least significant octet first, ends at a fixed residue.
	for n := range 70 {
		p := randomFrame(n, uint64(n))
		f16 := binary.LittleEndian.AppendUint16(append([]byte(nil), p...), fcs16(p))
		if got := updateFCS16(initFCS16, f16); got != goodFCS16 {
			t.Errorf("FCS-16 residue of %d octets = %#x, want %#x", n, got, goodFCS16)
		}
		f32 := binary.LittleEndian.AppendUint32(append([]byte(nil), p...), fcs32(p))
		if got := ^naiveUpdateFCS32(0xffffffff, f32); ^got != goodFCS32 {
			t.Errorf("FCS-32 residue of %d octets = %#x, want %#x", n, ^got, uint32(goodFCS32))
		}
		if !goodFCS(f16, 2) || !goodFCS(f32, 4) {
			t.Errorf("goodFCS rejects a good frame of %d octets", n)
		}
		// Every single-bit error is caught.
		for i := range len(f16) * 8 {
			f16[i/8] ^= 1 << (i % 8)
			if goodFCS(f16, 2) {
				t.Fatalf("FCS-16 misses bit %d flipped in %d octets", i, len(f16))
			}
			f16[i/8] ^= 1 << (i % 8)
		}
		for i := range len(f32) * 8 {
			f32[i/8] ^= 1 << (i % 8)
			if goodFCS(f32, 4) {
				t.Fatalf("FCS-32 misses bit %d flipped in %d octets", i, len(f32))
			}
			f32[i/8] ^= 1 << (i % 8)
		}
	}
}
