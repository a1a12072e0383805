package hdlc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// decodeAll reads frames from d until an error, copying each.
func decodeAll(d *Decoder) ([][]byte, error) {
	var frames [][]byte
	for {
		f, err := d.ReadFrame()
		if err != nil {
			return frames, err
		}
		frames = append(frames, append([]byte(nil), f...))
	}
}

// naiveDecodeAll decodes in with the reference decoder.
func naiveDecodeAll(in []byte, accm ACCM, fcs FCSSize, maxFrame int) ([][]byte, *naiveDecoder) {
	n := newNaiveDecoder(accm, fcs, maxFrame)
	var frames [][]byte
	n.write(in, func(f []byte) { frames = append(frames, append([]byte(nil), f...)) })
	n.eof()
	return frames, n
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// diffFrames is cmp.Diff for lists of frames, quick when they are equal.
func diffFrames(want, got [][]byte) string {
	if len(want) == len(got) {
		equal := true
		for i := range want {
			equal = equal && bytes.Equal(want[i], got[i])
		}
		if equal {
			return ""
		}
	}
	return cmp.Diff(want, got)
}

// wire16 frames p as a peer does before LCP opens: default ACCM, FCS-16, an
// opening flag of its own.
func wire16(p []byte) []byte { return naiveAppendFrame(nil, p, DefaultACCM, EscapeMap{}, FCS16) }

func TestDecoder(t *testing.T) {
	a := []byte{0xff, 0x03, 0xc0, 0x21, 0x09, 0x00, 0x00, 0x08, 0x7e, 0x7d, 0x11, 0x13}
	b := []byte{0x21, 0x45, 0x00, 0x00, 0x14}
	big := randomFrame(100, 5)

	// a, with its FCS corrupted in the second octet of the body.
	badA := wire16(a)
	badA[2] ^= 0x01
	// a, with XON and XOFF inserted by the line, one right after an escape.
	noisyA := wire16(a)
	esc := bytes.IndexByte(noisyA[1:], controlEscape) + 1
	noisyA = cat(noisyA[:esc+1], []byte{0x11}, noisyA[esc+1:esc+4], []byte{0x13, 0x11}, noisyA[esc+4:])
	// 21 5d 41 sent with its 5d as Control Escape, Control Escape.
	fcs := fcs16([]byte{0x21, 0x5d, 0x41})
	doubleEscape := cat([]byte{0x7e, 0x21, 0x7d, 0x7d, 0x41}, stuff([]byte{byte(fcs), byte(fcs >> 8)}), []byte{0x7e})
	// a with FCS-32.
	a32 := naiveAppendFrame(nil, a, DefaultACCM, EscapeMap{}, FCS32)

	tests := []struct {
		name        string
		accm        ACCM
		fcs         FCSSize
		maxFrame    int
		in          []byte
		want        [][]byte
		wantStats   Stats
		wantDrop    error
		wantGarbage string
	}{
		{
			name:      "one frame",
			accm:      DefaultACCM,
			in:        wire16(a),
			want:      [][]byte{a},
			wantStats: Stats{Frames: 1},
		},
		{
			name:      "shared flag",
			accm:      DefaultACCM,
			in:        cat(wire16(a), wire16(b)[1:], wire16(a)[1:]),
			want:      [][]byte{a, b, a},
			wantStats: Stats{Frames: 3},
		},
		{
			name:      "empty frames between flags are skipped",
			accm:      DefaultACCM,
			in:        cat([]byte{0x7e, 0x7e, 0x7e}, wire16(a), []byte{0x7e, 0x7e}, wire16(b)),
			want:      [][]byte{a, b},
			wantStats: Stats{Frames: 2},
		},
		{
			name:        "text before the first flag",
			accm:        DefaultACCM,
			in:          cat([]byte("Last login: today\r\n"), wire16(a)),
			want:        [][]byte{a},
			wantStats:   Stats{Frames: 1, Outside: 19},
			wantGarbage: "Last login: today\r\n",
		},
		{
			name:        "aborted frame",
			accm:        DefaultACCM,
			in:          cat(wire16(a)[:10], []byte{0x7d}, wire16(b)),
			want:        [][]byte{b},
			wantStats:   Stats{Frames: 1, Aborted: 1},
			wantDrop:    ErrAborted,
			wantGarbage: string(wire16(a)[:10]) + "\x7d",
		},
		{
			name:      "abort of an empty frame",
			accm:      DefaultACCM,
			in:        cat(wire16(b), []byte{0x7d, 0x7e}),
			want:      [][]byte{b},
			wantStats: Stats{Frames: 1, Aborted: 1},
			wantDrop:  ErrAborted,
		},
		{
			name:        "bad FCS",
			accm:        DefaultACCM,
			in:          cat(badA, wire16(b)[1:]),
			want:        [][]byte{b},
			wantStats:   Stats{Frames: 1, BadFCS: 1},
			wantDrop:    ErrBadFCS,
			wantGarbage: string(badA[:len(badA)-1]),
		},
		{
			name:        "too short for FCS-16",
			accm:        DefaultACCM,
			in:          []byte{0x7e, 0x21, 0x7e, 0x21, 0x21, 0x7e, 0x21, 0x21, 0x21, 0x7e},
			wantStats:   Stats{Short: 2, BadFCS: 1},
			wantDrop:    ErrBadFCS,
			wantGarbage: "\x7e\x21\x7e\x21\x21\x7e\x21\x21\x21",
		},
		{
			name:        "too short for FCS-32",
			accm:        DefaultACCM,
			fcs:         FCS32,
			in:          []byte{0x7e, 0x21, 0x21, 0x21, 0x21, 0x7e},
			wantStats:   Stats{Short: 1},
			wantDrop:    ErrShort,
			wantGarbage: "\x7e\x21\x21\x21\x21",
		},
		{
			name:      "FCS-32",
			fcs:       FCS32,
			in:        cat(naiveAppendFrame(nil, a, 0, EscapeMap{}, FCS32), naiveAppendFrame(nil, big, 0, EscapeMap{}, FCS32)),
			want:      [][]byte{a, big},
			wantStats: Stats{Frames: 2},
		},
		{
			name:        "FCS-32 frame read as FCS-16",
			accm:        DefaultACCM,
			in:          a32,
			wantStats:   Stats{BadFCS: 1},
			wantDrop:    ErrBadFCS,
			wantGarbage: string(a32[:len(a32)-1]),
		},
		{
			name:      "frame of exactly the maximum",
			accm:      DefaultACCM,
			maxFrame:  len(big),
			in:        wire16(big),
			want:      [][]byte{big},
			wantStats: Stats{Frames: 1},
		},
		{
			name:      "oversized frame",
			accm:      DefaultACCM,
			maxFrame:  len(big) - 1,
			in:        cat(wire16(b), wire16(big)[1:], wire16(b)[1:]),
			want:      [][]byte{b, b},
			wantStats: Stats{Frames: 2, Oversized: 1},
			wantDrop:  ErrOversized,
		},
		{
			name:      "line noise removed",
			accm:      DefaultACCM,
			in:        noisyA,
			want:      [][]byte{a},
			wantStats: Stats{Frames: 1},
		},
		{
			name:        "line noise kept with ACCM 0",
			accm:        0,
			in:          noisyA,
			wantStats:   Stats{BadFCS: 1},
			wantDrop:    ErrBadFCS,
			wantGarbage: string(noisyA[:len(noisyA)-1]),
		},
		{
			name:      "escaped Control Escape",
			accm:      DefaultACCM,
			in:        doubleEscape,
			want:      [][]byte{{0x21, 0x5d, 0x41}},
			wantStats: Stats{Frames: 1},
		},
		{
			name:      "header compressed",
			accm:      0,
			in:        cat(naiveAppendFrame(nil, []byte{0x21, 0x45}, 0, EscapeMap{}, FCS16), naiveAppendFrame(nil, []byte{0xc0, 0x21, 0x09}, 0, EscapeMap{}, FCS16)),
			want:      [][]byte{{0x21, 0x45}, {0xc0, 0x21, 0x09}},
			wantStats: Stats{Frames: 2},
		},
		{
			name:      "unfinished frame at the end",
			accm:      DefaultACCM,
			in:        cat(wire16(a), []byte{0x21, 0x7d, 0x22, 0x23}),
			want:      [][]byte{a},
			wantStats: Stats{Frames: 1, Outside: 4},
		},
		{
			name:        "only removed control characters between flags",
			accm:        DefaultACCM,
			in:          []byte{0x7e, 0x11, 0x13, 0x7e, 0x7e},
			wantGarbage: "\x7e\x11\x13",
		},
		{
			name:        "no flag at all",
			accm:        DefaultACCM,
			in:          []byte("bash: pppd: command not found\n"),
			wantStats:   Stats{Outside: 30},
			wantGarbage: "bash: pppd: command not found\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fcs := tt.fcs
			if fcs == 0 {
				fcs = FCS16
			}
			maxFrame := tt.maxFrame
			if maxFrame == 0 {
				maxFrame = DefaultMaxFrame
			}
			d := NewDecoder(bytes.NewReader(tt.in))
			d.SetACCM(tt.accm)
			d.SetFCS(fcs)
			d.SetMaxFrame(maxFrame)
			got, err := decodeAll(d)
			if err != io.EOF {
				t.Errorf("ReadFrame error = %v, want io.EOF", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStats, d.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			if got := d.LastDrop(); got != tt.wantDrop {
				t.Errorf("LastDrop = %v, want %v", got, tt.wantDrop)
			}
			if diff := cmp.Diff(tt.wantGarbage, string(d.Garbage())); diff != "" {
				t.Errorf("Garbage (-want +got):\n%s", diff)
			}

			// The reference decoder agrees.
			nf, n := naiveDecodeAll(tt.in, tt.accm, fcs, maxFrame)
			if diff := cmp.Diff(tt.want, nf); diff != "" {
				t.Errorf("naive frames (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStats, n.st); diff != "" {
				t.Errorf("naive Stats (-want +got):\n%s", diff)
			}
		})
	}
}

// stuff escapes p for ACCM 0.
func stuff(p []byte) []byte { return appendStuffed(nil, p, &EscapeMap{3: always}) }

// testStream returns a stream with a bit of everything: text, good frames
// with and without shared flags, escapes, line noise, a bad frame, an
// aborted one and an unfinished one.
func testStream() []byte {
	var e Encoder
	var s []byte
	s = append(s, "Welcome ~ to the host\r\n"...)
	for i := range 12 {
		s = e.AppendFrame(s, randomFrame(20+i*7, uint64(i)))
		if i%4 == 3 {
			s = append(s, 0x11, 0x7e)
		}
	}
	bad := e.AppendFrame(nil, randomFrame(30, 99))
	bad[5] ^= 0x40
	s = append(s, bad...)
	s = append(s, 0x21, 0x22, 0x7d, 0x7e)
	s = e.AppendFrame(s, []byte{0x7e, 0x7d, 0x7e})
	return append(s, 0x21, 0x7d)
}

// chunkReader returns at most the next size(i) octets on its i'th call.
type chunkReader struct {
	data []byte
	i    int
	size func(i int) int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), max(r.size(r.i), 1))
	r.i++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func TestDecoderSplitReads(t *testing.T) {
	in := testStream()
	wantFrames, n := naiveDecodeAll(in, DefaultACCM, FCS16, DefaultMaxFrame)
	wantStats, wantGarbage := n.st, n.Garbage()
	// "Welcome " is outside frames; the '~' makes the rest of the line a
	// frame with a bad FCS; the stream ends in an unfinished frame.
	if len(wantFrames) != 13 || wantStats.BadFCS != 2 || wantStats.Aborted != 1 || wantStats.Outside != 8+2 {
		t.Fatalf("test stream decodes to %d frames, %+v", len(wantFrames), wantStats)
	}

	check := func(t *testing.T, name string, r io.Reader) {
		t.Helper()
		d := NewDecoder(r)
		got, err := decodeAll(d)
		if err != io.EOF {
			t.Fatalf("%s: error %v, want io.EOF", name, err)
		}
		if diff := diffFrames(wantFrames, got); diff != "" {
			t.Fatalf("%s: frames (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantStats, d.Stats()); diff != "" {
			t.Fatalf("%s: Stats (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantGarbage, d.Garbage()); diff != "" {
			t.Fatalf("%s: Garbage (-want +got):\n%s", name, diff)
		}
	}

	check(t, "one read", bytes.NewReader(in))
	check(t, "one octet per read", iotest.OneByteReader(bytes.NewReader(in)))
	check(t, "data with EOF", iotest.DataErrReader(bytes.NewReader(in)))
	for k := range len(in) + 1 {
		r := &chunkReader{data: in, size: func(i int) int {
			if i == 0 {
				return k
			}
			return len(in)
		}}
		check(t, fmt.Sprintf("split at %d", k), r)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		limit := 1 + rng.IntN(64)
		r := &chunkReader{data: in, size: func(int) int { return 1 + rng.IntN(limit) }}
		check(t, fmt.Sprintf("random chunks %d", i), r)
	}
}

func TestDecoderGarbage(t *testing.T) {
	t.Run("command not found", func(t *testing.T) {
		const msg = "bash: pppssh: command not found\n"
		d := NewDecoder(strings.NewReader(msg))
		if f, err := d.ReadFrame(); err != io.EOF {
			t.Fatalf("ReadFrame = %x, %v; want io.EOF", f, err)
		}
		if got := string(d.Garbage()); got != msg {
			t.Errorf("Garbage = %q, want %q", got, msg)
		}
		if got := d.Stats(); got != (Stats{Outside: uint64(len(msg))}) {
			t.Errorf("Stats = %+v", got)
		}
	})

	t.Run("sudo prompt then frames", func(t *testing.T) {
		const msg = "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\nsudo: a password is required\n"
		var e Encoder
		in := append([]byte(msg), e.AppendFrame(nil, []byte{0xc0, 0x21, 0x01})...)
		in = append(in, "later text is not kept"...)
		d := NewDecoder(bytes.NewReader(in))
		frames, _ := decodeAll(d)
		if len(frames) != 1 {
			t.Fatalf("got %d frames, want 1", len(frames))
		}
		if got := string(d.Garbage()); got != msg {
			t.Errorf("Garbage = %q, want %q", got, msg)
		}
	})

	t.Run("text with a tilde and control characters", func(t *testing.T) {
		// A '~' is a Flag Sequence: the rest of the line becomes a bad
		// frame, whose raw octets still read back as the text.
		const msg = "Welcome ~ to the }host{\r\n\x1b[0m"
		var e Encoder
		in := append([]byte(msg), e.AppendFrame(nil, []byte{0xc0, 0x21, 0x01})...)
		d := NewDecoder(bytes.NewReader(in))
		frames, _ := decodeAll(d)
		if len(frames) != 1 {
			t.Fatalf("got %d frames, want 1", len(frames))
		}
		if got := string(d.Garbage()); got != msg {
			t.Errorf("Garbage = %q, want %q", got, msg)
		}
		if got := d.Stats(); got != (Stats{Frames: 1, BadFCS: 1, Outside: 8}) {
			t.Errorf("Stats = %+v", got)
		}
	})

	t.Run("only the last 4 KiB", func(t *testing.T) {
		var msg []byte
		for i := 0; len(msg) < 3*garbageSize; i++ {
			msg = fmt.Appendf(msg, "line %d ~ of noise\n", i)
		}
		d := NewDecoder(iotest.HalfReader(bytes.NewReader(msg)))
		if _, err := decodeAll(d); err != io.EOF {
			t.Fatal(err)
		}
		if got, want := d.Garbage(), msg[len(msg)-garbageSize:]; !bytes.Equal(got, want) {
			t.Errorf("Garbage = %q...\nwant %q...", got[:40], want[:40])
		}
	})

	t.Run("a copy", func(t *testing.T) {
		d := NewDecoder(strings.NewReader("abc"))
		decodeAll(d)
		g := d.Garbage()
		g[0] = 'x'
		if got := string(d.Garbage()); got != "abc" {
			t.Errorf("Garbage changed through its result: %q", got)
		}
	})
}

// TestDecoderOversizedBounded checks that a long run without a closing flag
// is discarded as it arrives: the buffer keeps its size, nothing is
// allocated, and the frame after the run is read.
func TestDecoderOversizedBounded(t *testing.T) {
	var e Encoder
	good := e.AppendFrame(nil, []byte{0xc0, 0x21, 0x09, 0x01})
	run := bytes.Repeat([]byte("0123456789abcdef\x7d\x5d"), 100_000/18)
	in := cat(good, run, good)

	for _, maxFrame := range []int{DefaultMaxFrame, maxMaxFrame} {
		t.Run(fmt.Sprint(maxFrame), func(t *testing.T) {
			r := bytes.NewReader(in)
			d := NewDecoder(r)
			d.SetMaxFrame(maxFrame)
			frames, err := decodeAll(d)
			if err != io.EOF || len(frames) != 2 {
				t.Fatalf("got %d frames, %v; want 2, io.EOF", len(frames), err)
			}
			st := d.Stats()
			if st.Oversized != 1 || st.Frames != 2 {
				t.Fatalf("Stats = %+v", st)
			}
			size := len(d.buf)
			if limit := max(readSize, 2*(maxFrame+4)+minRead); size > limit {
				t.Errorf("buffer of %d octets, want at most %d", size, limit)
			}
			allocs := testing.AllocsPerRun(20, func() {
				r.Reset(in)
				for {
					if _, err := d.ReadFrame(); err != nil {
						break
					}
				}
			})
			if allocs != 0 {
				t.Errorf("decoding a 100 KB run allocates %v times, want 0", allocs)
			}
			if len(d.buf) != size {
				t.Errorf("buffer grew from %d to %d octets", size, len(d.buf))
			}
		})
	}
}

func TestDecoderAllocs(t *testing.T) {
	for _, cfg := range benchConfigs {
		for _, size := range benchSizes {
			t.Run(fmt.Sprintf("%s/%d", cfg.name, size), func(t *testing.T) {
				d := NewDecoder(&loopReader{data: benchStream(size, cfg.accm, cfg.fcs)})
				d.SetACCM(cfg.accm)
				d.SetFCS(cfg.fcs)
				allocs := testing.AllocsPerRun(1000, func() {
					if _, err := d.ReadFrame(); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("ReadFrame allocates %v times per frame, want 0", allocs)
				}
				if st := d.Stats(); st.Frames < 1000 || st.BadFCS+st.Oversized+st.Short+st.Aborted != 0 {
					t.Errorf("Stats = %+v", st)
				}
			})
		}
	}
}

// TestDecoderSettingsApplyToNextFrame checks that settings made between two
// calls apply to the frames the second call returns, even when their octets
// arrived in the same read as the frame before.
func TestDecoderSettingsApplyToNextFrame(t *testing.T) {
	var before, after Encoder
	after.SetACCM(0)
	after.SetFCS(FCS32)
	confAck := []byte{0xff, 0x03, 0xc0, 0x21, 0x02, 0x01, 0x00, 0x04}
	big := randomFrame(3000, 8)
	in := before.AppendFrame(nil, confAck)
	in = after.AppendFrame(in, big)
	in = after.AppendFrame(in, []byte{0x21, 0x11, 0x13})

	d := NewDecoder(bytes.NewReader(in))
	f, err := d.ReadFrame()
	if err != nil || !bytes.Equal(f, confAck) {
		t.Fatalf("first frame %x, %v", f, err)
	}
	d.SetFCS(FCS32)
	d.SetACCM(0)
	d.SetMaxFrame(len(big))
	rest, err := decodeAll(d)
	if err != io.EOF {
		t.Fatal(err)
	}
	if diff := diffFrames([][]byte{big, {0x21, 0x11, 0x13}}, rest); diff != "" {
		t.Errorf("frames after the switch (-want +got):\n%s", diff)
	}
	if got := d.Stats(); got != (Stats{Frames: 3}) {
		t.Errorf("Stats = %+v", got)
	}
}

func TestSetMaxFrameClamps(t *testing.T) {
	d := NewDecoder(nil)
	for _, tt := range []struct{ in, want int }{
		{-5, 1}, {0, 1}, {1, 1}, {1504, 1504}, {65539, 65539}, {1 << 40, 65539},
	} {
		d.SetMaxFrame(tt.in)
		if got := int(d.maxFrame.Load()); got != tt.want {
			t.Errorf("SetMaxFrame(%d) stores %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestDecoderConcurrent runs the setters and readers of a Decoder on other
// goroutines while ReadFrame runs; run it under the race detector. Every
// frame is counted once, whatever the settings were when it arrived.
func TestDecoderConcurrent(t *testing.T) {
	pr, pw := io.Pipe()
	const frames = 3000
	go func() {
		var e Encoder
		e.SetACCM(0)
		var buf []byte
		for i := range frames {
			buf = e.AppendFrame(buf[:0], randomFrame(1+i%1600, uint64(i)))
			pw.Write(buf)
		}
		pw.Close()
	}()
	d := NewDecoder(pr)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d.SetACCM(ACCM(i & 1))
			d.SetFCS([]FCSSize{FCS16, FCS32}[i/7%2])
			d.SetMaxFrame(1000 + i%2000)
			_ = d.Stats()
			_ = d.LastDrop()
			_ = d.Garbage()
		}
	})
	n := 0
	for {
		f, err := d.ReadFrame()
		if err != nil {
			if err != io.EOF {
				t.Error(err)
			}
			break
		}
		if len(f) == 0 || len(f) > 3000 {
			t.Errorf("frame of %d octets", len(f))
		}
		n++
	}
	close(stop)
	wg.Wait()
	st := d.Stats()
	if total := st.Frames + st.BadFCS + st.Oversized + st.Short + st.Aborted; total != frames || st.Frames != uint64(n) {
		t.Errorf("Stats = %+v for %d frames sent, %d returned", st, frames, n)
	}
}

// errAfter returns data, then err with no data, once.
type errAfter struct {
	parts [][]byte
	errs  []error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	err := r.errs[0]
	r.parts, r.errs = r.parts[1:], r.errs[1:]
	return n, err
}

func TestDecoderReadErrors(t *testing.T) {
	errTimeout := errors.New("timeout")
	var e Encoder
	frame := []byte{0xc0, 0x21, 0x09, 0x00, 0x00, 0x04}
	wire := e.AppendFrame(nil, frame)

	t.Run("frames before the error", func(t *testing.T) {
		r := &errAfter{parts: [][]byte{cat(wire, wire[1:])}, errs: []error{errTimeout}}
		d := NewDecoder(r)
		for range 2 {
			if f, err := d.ReadFrame(); err != nil || !bytes.Equal(f, frame) {
				t.Fatalf("ReadFrame = %x, %v", f, err)
			}
		}
		if _, err := d.ReadFrame(); err != errTimeout {
			t.Fatalf("ReadFrame error = %v, want %v", err, errTimeout)
		}
		if _, err := d.ReadFrame(); err != io.EOF {
			t.Fatalf("ReadFrame error = %v, want io.EOF", err)
		}
	})

	t.Run("unfinished frame survives an error", func(t *testing.T) {
		r := &errAfter{parts: [][]byte{wire[:5], nil, wire[5:]}, errs: []error{nil, errTimeout, nil}}
		d := NewDecoder(r)
		if _, err := d.ReadFrame(); err != errTimeout {
			t.Fatalf("ReadFrame error = %v, want %v", err, errTimeout)
		}
		if f, err := d.ReadFrame(); err != nil || !bytes.Equal(f, frame) {
			t.Fatalf("ReadFrame = %x, %v", f, err)
		}
	})

	t.Run("reader error", func(t *testing.T) {
		d := NewDecoder(iotest.ErrReader(errTimeout))
		if _, err := d.ReadFrame(); err != errTimeout {
			t.Fatalf("ReadFrame error = %v, want %v", err, errTimeout)
		}
	})

	t.Run("no progress", func(t *testing.T) {
		d := NewDecoder(&chunkReader{data: []byte{1}, size: func(int) int { return 0 }})
		d.r = readerFunc(func([]byte) (int, error) { return 0, nil })
		if _, err := d.ReadFrame(); err != io.ErrNoProgress {
			t.Fatalf("ReadFrame error = %v, want io.ErrNoProgress", err)
		}
	})

	t.Run("reader claims too much", func(t *testing.T) {
		d := NewDecoder(readerFunc(func(p []byte) (int, error) { return len(p) + 1, nil }))
		if _, err := d.ReadFrame(); err != errBadCount {
			t.Fatalf("ReadFrame error = %v, want errBadCount", err)
		}
		d = NewDecoder(readerFunc(func(p []byte) (int, error) { return -1, nil }))
		if _, err := d.ReadFrame(); err != errBadCount {
			t.Fatalf("ReadFrame error = %v, want errBadCount", err)
		}
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestDecoderLargeFrames reads frames of the largest size LCP allows, which
// do not fit the initial buffer.
func TestDecoderLargeFrames(t *testing.T) {
	var e Encoder
	e.SetACCM(0)
	e.SetFCS(FCS32)
	small := randomFrame(100, 1)
	largest := randomFrame(maxMaxFrame, 2)
	var wire []byte
	for _, f := range [][]byte{small, largest, randomFrame(maxMaxFrame+1, 3), largest, small} {
		wire = e.AppendFrame(wire, f)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, limit := range []int{1 << 20, 70000, 4096, 100} {
		d := NewDecoder(&chunkReader{data: wire, size: func(int) int { return 1 + rng.IntN(limit) }})
		d.SetACCM(0)
		d.SetFCS(FCS32)
		d.SetMaxFrame(1 << 30)
		got, err := decodeAll(d)
		if err != io.EOF {
			t.Fatal(err)
		}
		if diff := diffFrames([][]byte{small, largest, largest, small}, got); diff != "" {
			t.Fatalf("reads up to %d: frames differ", limit)
		}
		if st := d.Stats(); st != (Stats{Frames: 4, Oversized: 1}) {
			t.Errorf("reads up to %d: Stats = %+v", limit, st)
		}
		if len(d.buf) > 2*(maxMaxFrame+4)+minRead {
			t.Errorf("reads up to %d: buffer of %d octets", limit, len(d.buf))
		}
	}
}

// TestDecoderCompaction checks that moving an unfinished frame to the front
// of the buffer costs no more than the octets read, also when a large frame
// trickles in one octet at a time between control characters the ACCM
// removes.
func TestDecoderCompaction(t *testing.T) {
	var e Encoder
	large := e.AppendFrame(nil, randomFrame(65000, 1))
	noise := bytes.Repeat([]byte{0x01}, 100_000)
	in := cat(large[:64000], noise, large[64000:], large[1:])
	for _, size := range []int{1, 7, 4096, 1 << 20} {
		d := NewDecoder(&chunkReader{data: in, size: func(int) int { return size }})
		d.SetMaxFrame(maxMaxFrame)
		frames, err := decodeAll(d)
		if err != io.EOF || len(frames) != 2 {
			t.Fatalf("reads of %d: %d frames, %v", size, len(frames), err)
		}
		if d.moved > len(in) {
			t.Errorf("reads of %d: %d octets moved for %d read", size, d.moved, len(in))
		}
	}
}
