package hdlc

import (
	"bytes"
	"testing"
)

// TestFrameFCS decodes frames of both FCS sizes: FrameFCS names the one
// each was checked with, in FCSEither mode the one it was sent with.
func TestFrameFCS(t *testing.T) {
	var e16, e32 Encoder
	e32.SetFCS(FCS32)
	var wire []byte
	var want []FCSSize
	for i := range 12 {
		frame := randomFrame(1+i*53, uint64(i))
		if i%3 == 1 {
			wire = e32.AppendFrame(wire, frame)
			want = append(want, FCS32)
		} else {
			wire = e16.AppendFrame(wire, frame)
			want = append(want, FCS16)
		}
	}
	for _, mode := range []FCSSize{FCSEither, FCS16, FCS32} {
		d := NewDecoder(bytes.NewReader(wire))
		d.SetFCS(mode)
		i := 0
		for _, w := range want {
			if mode != FCSEither && w != mode {
				continue
			}
			if _, err := d.ReadFrame(); err != nil {
				t.Fatalf("mode %d: frame %d: %v", mode, i, err)
			}
			if got := d.FrameFCS(); got != w {
				t.Errorf("mode %d: frame %d: FrameFCS = %d, want %d", mode, i, got, w)
			}
			i++
		}
	}
}
