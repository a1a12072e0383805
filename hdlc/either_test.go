package hdlc

import (
	"bytes"
	"io"
	"testing"
)

// TestDecoderFCSEither mixes frames with both FCS sizes on one stream, as a
// link sees while it switches to FCS-32: in FCSEither mode every frame
// decodes, in FCS16 or FCS32 mode only its own kind does.
func TestDecoderFCSEither(t *testing.T) {
	var e16, e32 Encoder
	e16.SetACCM(0)
	e32.SetACCM(0)
	e32.SetFCS(FCS32)
	var wire []byte
	var want [][]byte
	for i := range 40 {
		frame := randomFrame(1+i*37%1500, uint64(i))
		enc := &e16
		if i%3 == 0 {
			enc = &e32
		}
		wire = enc.AppendFrame(wire, frame)
		want = append(want, frame)
	}
	for _, tc := range []struct {
		fcs  FCSSize
		good int
	}{{FCSEither, 40}, {FCS16, 26}, {FCS32, 14}} {
		d := NewDecoder(bytes.NewReader(wire))
		d.SetACCM(0)
		d.SetFCS(tc.fcs)
		var got [][]byte
		for {
			f, err := d.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, bytes.Clone(f))
		}
		if len(got) != tc.good {
			t.Errorf("FCSSize %d: %d frames, want %d", tc.fcs, len(got), tc.good)
		}
		if tc.fcs == FCSEither {
			for i := range want {
				if i < len(got) && !bytes.Equal(got[i], want[i]) {
					t.Errorf("frame %d differs", i)
				}
			}
		}
		if s := d.Stats(); s.Frames+s.BadFCS+s.Short != 40 {
			t.Errorf("FCSSize %d: stats %+v do not add up to 40 frames", tc.fcs, s)
		}
	}
}
