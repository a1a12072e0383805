package hdlc

import (
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// This file keeps plain, octet-at-a-time versions of the FCS, the encoder and
// the decoder beside the benchmarks, so that the gain of the fast ones stays
// visible, and so that the tests and fuzz targets can check the fast ones
// against them.

// naiveFCS16Table is the FCS-16 table of RFC 1662 appendix C.1.
var naiveFCS16Table = func() (t [256]uint16) {
	for b := range 256 {
		v := uint16(b)
		for range 8 {
			if v&1 != 0 {
				v = v>>1 ^ polyFCS16
			} else {
				v >>= 1
			}
		}
		t[b] = v
	}
	return t
}()

// naiveFCS32Table is the FCS-32 table of RFC 1662 appendix C.3.
var naiveFCS32Table = func() (t [256]uint32) {
	for b := range 256 {
		v := uint32(b)
		for range 8 {
			if v&1 != 0 {
				v = v>>1 ^ 0xedb88320
			} else {
				v >>= 1
			}
		}
		t[b] = v
	}
	return t
}()

func naiveUpdateFCS16(fcs uint16, p []byte) uint16 {
	for _, b := range p {
		fcs = fcs>>8 ^ naiveFCS16Table[byte(fcs)^b]
	}
	return fcs
}

func naiveUpdateFCS32(fcs uint32, p []byte) uint32 {
	for _, b := range p {
		fcs = fcs>>8 ^ naiveFCS32Table[byte(fcs)^b]
	}
	return fcs
}

// naiveAppendFrame frames p the way RFC 1662 section 4 describes it, one
// octet at a time. The opening flag is always sent.
func naiveAppendFrame(dst, p []byte, accm ACCM, esc EscapeMap, fcs FCSSize) []byte {
	var tail []byte
	if fcs == FCS32 {
		v := ^naiveUpdateFCS32(0xffffffff, p)
		tail = []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	} else {
		v := ^naiveUpdateFCS16(initFCS16, p)
		tail = []byte{byte(v), byte(v >> 8)}
	}
	dst = append(dst, flagSequence)
	for _, s := range [][]byte{p, tail} {
		for _, c := range s {
			if c == flagSequence || c == controlEscape || c < 0x20 && accm&(1<<c) != 0 || esc.Has(c) {
				dst = append(dst, controlEscape, c^escapeXOR)
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, flagSequence)
}

// naiveDecoder is a Decoder that looks at one octet at a time and keeps
// everything in growing slices. It implements the same rules and the same
// counters, and is fed with write and eof instead of reading.
type naiveDecoder struct {
	accm   ACCM
	fcsLen int
	limit  int

	hunting, escaped, tossing, synced bool
	frame                             []byte // unstuffed octets of the current frame
	raw                               []byte // raw octets of the current frame, from its flag
	garbage                           []byte
	st                                Stats
	lastDrop                          error
}

func newNaiveDecoder(accm ACCM, fcs FCSSize, maxFrame int) *naiveDecoder {
	n := &naiveDecoder{accm: accm, fcsLen: 2, hunting: true}
	if fcs == FCS32 {
		n.fcsLen = 4
	}
	n.limit = maxFrame + n.fcsLen
	return n
}

func (n *naiveDecoder) begin() {
	n.escaped, n.tossing = false, false
	n.frame = n.frame[:0]
	n.raw = append(n.raw[:0], flagSequence)
}

// write decodes p and calls emit with each good frame, FCS removed.
func (n *naiveDecoder) write(p []byte, emit func([]byte)) {
	for _, c := range p {
		if n.hunting {
			if c == flagSequence {
				n.hunting = false
				n.begin()
				continue
			}
			n.st.Outside++
			if !n.synced {
				n.garbage = append(n.garbage, c)
			}
			continue
		}
		if c == flagSequence {
			n.finish(emit)
			n.begin()
			continue
		}
		n.raw = append(n.raw, c)
		if n.tossing || c < 0x20 && n.accm&(1<<c) != 0 {
			continue
		}
		if n.escaped {
			c ^= escapeXOR
			n.escaped = false
		} else if c == controlEscape {
			n.escaped = true
			continue
		}
		n.frame = append(n.frame, c)
		if len(n.frame) > n.limit {
			n.tossing = true
			n.frame = n.frame[:0]
		}
	}
}

func (n *naiveDecoder) finish(emit func([]byte)) {
	var drop error
	switch {
	case n.tossing:
		drop = ErrOversized
		n.st.Oversized++
	case n.escaped:
		drop = ErrAborted
		n.st.Aborted++
	case len(n.frame) == 0:
	case len(n.frame) <= n.fcsLen:
		drop = ErrShort
		n.st.Short++
	case n.fcsLen == 2 && naiveUpdateFCS16(initFCS16, n.frame) != goodFCS16,
		n.fcsLen == 4 && naiveUpdateFCS32(0xffffffff, n.frame) != goodFCS32:
		drop = ErrBadFCS
		n.st.BadFCS++
	}
	if drop != nil {
		n.lastDrop = drop
	}
	good := drop == nil && len(n.frame) > 0
	if !n.synced {
		if good {
			n.synced = true
		} else if drop != nil || len(n.raw) > 1 {
			n.garbage = append(n.garbage, n.raw...)
		}
	}
	if good {
		n.st.Frames++
		emit(n.frame[:len(n.frame)-n.fcsLen])
	}
}

// eof ends the stream: an unfinished frame counts as octets outside frames.
func (n *naiveDecoder) eof() {
	if n.hunting {
		return
	}
	n.st.Outside += uint64(len(n.raw) - 1)
	if !n.synced && len(n.raw) > 1 {
		n.garbage = append(n.garbage, n.raw...)
	}
	n.hunting = true
}

// Garbage returns what Decoder.Garbage would: the last 4 KiB, or nil.
func (n *naiveDecoder) Garbage() []byte {
	g := n.garbage
	if len(g) > garbageSize {
		g = g[len(g)-garbageSize:]
	}
	if len(g) == 0 {
		return nil
	}
	return append([]byte(nil), g...)
}

// benchSizes are the frame sizes benchmarked: a small packet, the classic
// minimum MTU and an Ethernet-size packet.
var benchSizes = []int{64, 576, 1500}

// benchConfigs are the settings benchmarked: the ACCM in force over SSH and
// the default one, with either FCS.
var benchConfigs = []struct {
	name string
	accm ACCM
	fcs  FCSSize
}{
	{"accm0/fcs16", 0, FCS16},
	{"accm0/fcs32", 0, FCS32},
	{"accmFF/fcs16", DefaultACCM, FCS16},
	{"accmFF/fcs32", DefaultACCM, FCS32},
}

// randomFrame returns n octets of reproducible random data, like encrypted
// traffic: flags, escapes and control characters in their natural share.
func randomFrame(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

func BenchmarkFCS(b *testing.B) {
	for _, size := range benchSizes {
		p := randomFrame(size, 1)
		b.Run(fmt.Sprintf("fcs16/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				updateFCS16(initFCS16, p)
			}
		})
		b.Run(fmt.Sprintf("fcs16-naive/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				naiveUpdateFCS16(initFCS16, p)
			}
		})
		b.Run(fmt.Sprintf("fcs32/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				crc32.ChecksumIEEE(p)
			}
		})
		b.Run(fmt.Sprintf("fcs32-naive/%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				naiveUpdateFCS32(0xffffffff, p)
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, cfg := range benchConfigs {
		for _, size := range benchSizes {
			p := randomFrame(size, 2)
			var e Encoder
			e.SetACCM(cfg.accm)
			e.SetFCS(cfg.fcs)
			buf := make([]byte, 0, MaxEncodedLen(size))
			b.Run(fmt.Sprintf("%s/%d", cfg.name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					buf = e.AppendFrame(buf[:0], p)
				}
			})
			b.Run(fmt.Sprintf("%s/%d/naive", cfg.name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					buf = naiveAppendFrame(buf[:0], p, cfg.accm, EscapeMap{}, cfg.fcs)
				}
			})
		}
	}
}

// loopReader returns the same stream over and over, as much as is asked.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// benchStream returns about 256 KiB of distinct random frames of the given
// size, encoded back to back with shared flags.
func benchStream(size int, accm ACCM, fcs FCSSize) []byte {
	var e Encoder
	e.SetACCM(accm)
	e.SetFCS(fcs)
	var stream []byte
	for i := 0; len(stream) < 256<<10; i++ {
		stream = e.AppendFrame(stream, randomFrame(size, uint64(i)))
	}
	return stream
}

func BenchmarkDecoder(b *testing.B) {
	for _, cfg := range benchConfigs {
		for _, size := range benchSizes {
			stream := benchStream(size, cfg.accm, cfg.fcs)
			b.Run(fmt.Sprintf("%s/%d", cfg.name, size), func(b *testing.B) {
				d := NewDecoder(&loopReader{data: stream})
				d.SetACCM(cfg.accm)
				d.SetFCS(cfg.fcs)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.ReadFrame(); err != nil {
						b.Fatal(err)
					}
				}
				if st := d.Stats(); st.BadFCS+st.Oversized+st.Short+st.Aborted != 0 {
					b.Fatalf("dropped frames: %+v", st)
				}
			})
			b.Run(fmt.Sprintf("%s/%d/naive", cfg.name, size), func(b *testing.B) {
				n := newNaiveDecoder(cfg.accm, cfg.fcs, DefaultMaxFrame)
				r := &loopReader{data: stream}
				chunk := make([]byte, 64<<10)
				var ready int
				emit := func([]byte) { ready++ }
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					for ready == 0 {
						r.Read(chunk[:MaxEncodedLen(size)])
						n.write(chunk[:MaxEncodedLen(size)], emit)
					}
					ready--
				}
			})
		}
	}
}

var _ io.Reader = (*loopReader)(nil)
