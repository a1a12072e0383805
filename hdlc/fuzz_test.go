package hdlc

import (
	"bytes"
	"io"
	"sync"
	"testing"
)

// decoders keeps Decoders for reuse: a fresh one per input would have the
// garbage collector run for every input.
var decoders sync.Pool

// fuzzDecoder returns a Decoder reading r, as NewDecoder would.
func fuzzDecoder(r io.Reader) *Decoder {
	if d, ok := decoders.Get().(*Decoder); ok {
		d.reset(r)
		return d
	}
	return NewDecoder(r)
}

// FuzzDecoder feeds arbitrary octets, settings and read sizes to a Decoder.
// It must not panic, must return no frame above the maximum, and must agree
// in every frame, counter and garbage octet with the octet-at-a-time
// reference decoder.
func FuzzDecoder(f *testing.F) {
	var e Encoder
	f.Add([]byte{}, uint32(DefaultACCM), false, uint16(DefaultMaxFrame), uint8(0))
	f.Add([]byte("bash: pppssh: command not found\n"), uint32(DefaultACCM), false, uint16(DefaultMaxFrame), uint8(3))
	f.Add(e.AppendFrame([]byte("~x~~\x7d~"), []byte{0xff, 0x03, 0xc0, 0x21, 0x7e, 0x7d}), uint32(0), false, uint16(5), uint8(1))
	f.Add(testStream(), uint32(DefaultACCM), false, uint16(DefaultMaxFrame), uint8(7))
	f.Add(testStream(), uint32(0x000a0000), true, uint16(30), uint8(0))

	f.Fuzz(func(t *testing.T, in []byte, accm uint32, fcs32 bool, maxFrame uint16, chunk uint8) {
		fcs := FCS16
		if fcs32 {
			fcs = FCS32
		}
		d := fuzzDecoder(&chunkReader{data: in, size: func(int) int {
			if chunk == 0 {
				return len(in)
			}
			return int(chunk)
		}})
		defer decoders.Put(d)
		d.SetACCM(ACCM(accm))
		d.SetFCS(fcs)
		d.SetMaxFrame(int(maxFrame))
		limit := max(int(maxFrame), 1)

		var got [][]byte
		for {
			frame, err := d.ReadFrame()
			if err != nil {
				if err != io.EOF {
					t.Fatalf("ReadFrame error %v", err)
				}
				break
			}
			if len(frame) == 0 || len(frame) > limit {
				t.Fatalf("frame of %d octets, maximum %d", len(frame), limit)
			}
			got = append(got, append([]byte(nil), frame...))
		}

		want, n := naiveDecodeAll(in, ACCM(accm), fcs, limit)
		if diff := diffFrames(want, got); diff != "" {
			t.Fatalf("frames differ from the reference (-want +got):\n%s", diff)
		}
		st := d.Stats()
		if st != n.st {
			t.Fatalf("Stats = %+v, reference %+v", st, n.st)
		}
		if d.LastDrop() != n.lastDrop {
			t.Fatalf("LastDrop = %v, reference %v", d.LastDrop(), n.lastDrop)
		}
		g := d.Garbage()
		if !bytes.Equal(g, n.Garbage()) {
			t.Fatalf("Garbage = %q, reference %q", g, n.Garbage())
		}
		if len(g) > garbageSize {
			t.Fatalf("Garbage of %d octets", len(g))
		}

		// Octets outside frames: before the first flag and after the
		// last. Every flag after the first closes at most one frame.
		flags := bytes.Count(in, []byte{flagSequence})
		outside := len(in)
		if flags > 0 {
			outside = bytes.IndexByte(in, flagSequence) + len(in) - 1 - bytes.LastIndexByte(in, flagSequence)
		}
		if st.Outside != uint64(outside) {
			t.Fatalf("Outside = %d, want %d", st.Outside, outside)
		}
		if closed := st.Frames + st.BadFCS + st.Oversized + st.Short + st.Aborted; closed > uint64(max(flags-1, 0)) {
			t.Fatalf("%d frames counted with %d flags", closed, flags)
		}
		if st.Frames != uint64(len(got)) {
			t.Fatalf("Stats.Frames = %d, %d returned", st.Frames, len(got))
		}
	})
}

// FuzzRoundTrip encodes an arbitrary frame twice with arbitrary settings and
// decodes the result through a read split at an arbitrary point: the frames
// come back as they were, and the encoding matches the reference encoder.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04}, uint32(DefaultACCM), uint64(0), uint64(0), false, uint16(0))
	f.Add([]byte{0x21, 0x7e, 0x7d, 0x5e, 0x5d, 0x00}, uint32(0), uint64(1)<<63, uint64(0xff), true, uint16(5))
	f.Add([]byte{}, uint32(0x000a0000), uint64(0), uint64(0), false, uint16(1))

	f.Fuzz(func(t *testing.T, frame []byte, accm uint32, escLo, escHi uint64, fcs32 bool, split uint16) {
		fcs := FCS16
		if fcs32 {
			fcs = FCS32
		}
		// Words 0-3 of the escape map come from escLo and 4-7 from
		// escHi, in overlapping windows; octets that cannot be escaped
		// are left out.
		var esc EscapeMap
		for i := range esc {
			bits := escLo
			if i >= 4 {
				bits = escHi
			}
			esc[i] = uint32(bits>>(16*(i%4))) &^ unescapable[i]
		}
		var e Encoder
		e.SetACCM(ACCM(accm))
		e.SetFCS(fcs)
		if err := e.SetEscape(esc); err != nil {
			t.Fatal(err)
		}
		wire := e.AppendFrame(nil, frame)
		if want := naiveAppendFrame(nil, frame, ACCM(accm), esc, fcs); !bytes.Equal(wire, want) {
			t.Fatalf("AppendFrame = %x, reference %x", wire, want)
		}
		if len(wire) > MaxEncodedLen(len(frame)) {
			t.Fatalf("%d octets encoded, MaxEncodedLen %d", len(wire), MaxEncodedLen(len(frame)))
		}
		wire = e.AppendFrame(wire, frame)

		k := int(split) % (len(wire) + 1)
		d := fuzzDecoder(&chunkReader{data: wire, size: func(i int) int {
			if i == 0 {
				return k
			}
			return len(wire)
		}})
		defer decoders.Put(d)
		d.SetACCM(ACCM(accm))
		d.SetFCS(fcs)
		d.SetMaxFrame(maxMaxFrame)
		got, err := decodeAll(d)
		if err != io.EOF {
			t.Fatal(err)
		}
		st := d.Stats()
		switch {
		case len(frame) == 0:
			if len(got) != 0 || st != (Stats{Short: 2}) {
				t.Fatalf("empty frames: got %d frames, Stats %+v", len(got), st)
			}
		case len(frame) > maxMaxFrame:
			if len(got) != 0 || st != (Stats{Oversized: 2}) {
				t.Fatalf("oversized frames: got %d frames, Stats %+v", len(got), st)
			}
		default:
			if diff := diffFrames([][]byte{frame, frame}, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			if st != (Stats{Frames: 2}) {
				t.Fatalf("Stats = %+v", st)
			}
		}
	})
}
