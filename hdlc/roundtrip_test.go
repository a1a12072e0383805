package hdlc

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// TestRoundTrip encodes batches of random frames with every ACCM bit, both
// FCS sizes and extended escape maps, and decodes them again through reads
// of random sizes.
func TestRoundTrip(t *testing.T) {
	accms := []ACCM{0, DefaultACCM, 0x000a0000}
	for bit := range 32 {
		accms = append(accms, 1<<bit, DefaultACCM&^(1<<bit))
	}
	escapes := []EscapeMap{{}, escapeMapOf(0xff, 0x7f, 0x80, 0x91, 0x93, 0xc0, 0x40, 0x5f, 0x60)}

	rng := rand.New(rand.NewPCG(3, 4))
	var frames [][]byte
	for i := range 40 {
		frames = append(frames, randomFrame(1+rng.IntN(1+i*40), uint64(i)))
	}
	frames = append(frames, bytes.Repeat([]byte{0x7e}, 1000), bytes.Repeat([]byte{0x7d, 0x00, 0x1f}, 100))

	for _, accm := range accms {
		for ei, esc := range escapes {
			for _, fcs := range []FCSSize{FCS16, FCS32} {
				var e Encoder
				e.SetACCM(accm)
				e.SetFCS(fcs)
				if err := e.SetEscape(esc); err != nil {
					t.Fatal(err)
				}
				var wire []byte
				for _, f := range frames {
					wire = e.AppendFrame(wire, f)
				}
				limit := 1 + rng.IntN(4096)
				d := NewDecoder(&chunkReader{data: wire, size: func(int) int { return 1 + rng.IntN(limit) }})
				d.SetACCM(accm)
				d.SetFCS(fcs)
				got, err := decodeAll(d)
				if err != io.EOF {
					t.Fatal(err)
				}
				if diff := diffFrames(frames, got); diff != "" {
					t.Fatalf("ACCM %#x, escape map %d, %v (-want +got):\n%s", accm, ei, fcs, diff)
				}
				if st := d.Stats(); st != (Stats{Frames: uint64(len(frames))}) {
					t.Fatalf("ACCM %#x, escape map %d, %v: Stats = %+v", accm, ei, fcs, st)
				}
			}
		}
	}
}

// TestRoundTripEverySplit cuts an encoded batch at every octet boundary.
func TestRoundTripEverySplit(t *testing.T) {
	frames := [][]byte{{0x21}, randomFrame(40, 1), {0x7d, 0x7e, 0x5d, 0x5e, 0x00, 0x20}, randomFrame(70, 2)}
	for _, cfg := range []struct {
		accm ACCM
		fcs  FCSSize
		esc  EscapeMap
	}{
		{0, FCS16, EscapeMap{}},
		{DefaultACCM, FCS32, escapeMapOf(0xff, 0x80)},
	} {
		var e Encoder
		e.SetACCM(cfg.accm)
		e.SetFCS(cfg.fcs)
		if err := e.SetEscape(cfg.esc); err != nil {
			t.Fatal(err)
		}
		var wire []byte
		for _, f := range frames {
			wire = e.AppendFrame(wire, f)
		}
		for k := range len(wire) + 1 {
			t.Run(fmt.Sprintf("%#x/%v/%d", cfg.accm, cfg.fcs, k), func(t *testing.T) {
				d := NewDecoder(&chunkReader{data: wire, size: func(i int) int {
					if i == 0 {
						return k
					}
					return len(wire)
				}})
				d.SetACCM(cfg.accm)
				d.SetFCS(cfg.fcs)
				got, err := decodeAll(d)
				if err != io.EOF {
					t.Fatal(err)
				}
				if diff := diffFrames(frames, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}
