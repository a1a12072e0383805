package hdlc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func escapeMapOf(cs ...byte) EscapeMap {
	var m EscapeMap
	for _, c := range cs {
		m.Set(c)
	}
	return m
}

func TestAppendFrame(t *testing.T) {
	// The expected octets were computed independently of this package, from
	// the rules of RFC 1662 section 4 and appendix C.
	tests := []struct {
		name   string
		accm   ACCM
		fcs    FCSSize
		escape EscapeMap
		dst    string
		frame  string
		want   string
	}{
		{
			name:  "LCP TermReq, default ACCM",
			accm:  DefaultACCM,
			frame: "ff03c021050100040000",
			want:  "7eff7d23c0217d257d217d207d247d207d202ebb7e",
		},
		{
			name:  "ACCM 0 escapes only flag and escape",
			frame: "0021457e7d001f5e5d20",
			want:  "7e0021457d5e7d5d001f5e5d20b2ec7e",
		},
		{
			name:  "XON/XOFF ACCM",
			accm:  0x000a0000,
			frame: "21111312",
			want:  "7e217d317d3312153c7e",
		},
		{
			name:  "FCS-32, default ACCM",
			accm:  DefaultACCM,
			fcs:   FCS32,
			frame: "ff03c021050100040000",
			want:  "7eff7d23c0217d257d217d207d247d207d2067e688427e",
		},
		{
			name:  "FCS-32, ACCM 0",
			fcs:   FCS32,
			frame: "0021457e7d001f",
			want:  "7e0021457d5e7d5d001f8dff4e9b7e",
		},
		{
			name:   "escape map",
			escape: escapeMapOf(0xff, 0x91),
			frame:  "21ff91927f",
			want:   "7e217ddf7db1927f48137e",
		},
		{
			name:  "FCS octet escaped",
			frame: "212b",
			want:  "7e212b7d5daa7e",
		},
		{
			name:  "empty frame",
			accm:  DefaultACCM,
			frame: "",
			want:  "7e7d207d207e",
		},
		{
			name:  "shares the closing flag in dst",
			dst:   "7e0102037e",
			frame: "212b",
			want:  "7e0102037e212b7d5daa7e",
		},
		{
			name:  "opens with a flag after other octets",
			dst:   "0102",
			frame: "212b",
			want:  "01027e212b7d5daa7e",
		},
		{
			name:  "opens with a flag after an escaped flag",
			dst:   "7e7d5e",
			frame: "212b",
			want:  "7e7d5e7e212b7d5daa7e",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			e.SetACCM(tt.accm)
			if tt.fcs != 0 {
				e.SetFCS(tt.fcs)
			}
			if err := e.SetEscape(tt.escape); err != nil {
				t.Fatal(err)
			}
			got := e.AppendFrame(mustHex(t, tt.dst), mustHex(t, tt.frame))
			if diff := cmp.Diff(tt.want, hex.EncodeToString(got)); diff != "" {
				t.Errorf("AppendFrame (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncoderZeroValue(t *testing.T) {
	// The zero Encoder sends what RFC 1662 prescribes before LCP has
	// negotiated: every control character escaped, FCS-16.
	var e Encoder
	p := randomFrame(600, 3)
	got := e.AppendFrame(nil, p)
	want := naiveAppendFrame(nil, p, DefaultACCM, EscapeMap{}, FCS16)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zero Encoder (-want +got):\n%s", diff)
	}
}

func TestAppendFrameMatchesNaive(t *testing.T) {
	accms := []ACCM{0, DefaultACCM, 0x000a0000, 0x5a5a5a5a}
	for bit := range 32 {
		accms = append(accms, 1<<bit, DefaultACCM&^(1<<bit))
	}
	escapes := []EscapeMap{{}, escapeMapOf(0xff), escapeMapOf(0x7d, 0x7e, 0x7f, 0x80, 0x91, 0x93, 0xfe, 0x00, 0x11)}
	var all EscapeMap
	for c := range 256 {
		if !unescapable.Has(byte(c)) {
			all.Set(byte(c))
		}
	}
	escapes = append(escapes, all)

	frames := [][]byte{nil, {0x7e}, {0x7d}, {0x7d, 0x7e, 0x7d}}
	for n := range 40 {
		frames = append(frames, randomFrame(n, uint64(100+n)))
	}
	frames = append(frames, randomFrame(1500, 1), randomFrame(4000, 2))
	for i := range 256 {
		frames = append(frames, []byte{byte(i), byte(i), 0x21})
	}

	for _, accm := range accms {
		for ei, esc := range escapes {
			for _, fcs := range []FCSSize{FCS16, FCS32} {
				var e Encoder
				e.SetACCM(accm)
				e.SetFCS(fcs)
				if err := e.SetEscape(esc); err != nil {
					t.Fatal(err)
				}
				for _, p := range frames {
					got := e.AppendFrame(nil, p)
					want := naiveAppendFrame(nil, p, accm, esc, fcs)
					if !bytesEqual(got, want) {
						t.Fatalf("ACCM %#x escape map %d %v, frame %x:\n got %x\nwant %x", accm, ei, fcs, p, got, want)
					}
				}
			}
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func TestSetEscape(t *testing.T) {
	for c := range 256 {
		var e Encoder
		e.SetACCM(0)
		err := e.SetEscape(escapeMapOf(byte(c)))
		bad := 0x20 <= c && c <= 0x3f || c == 0x5d || c == 0x5e
		switch {
		case bad && !errors.Is(err, ErrUnescapable):
			t.Errorf("SetEscape(%#02x) = %v, want ErrUnescapable", c, err)
		case !bad && err != nil:
			t.Errorf("SetEscape(%#02x) = %v, want nil", c, err)
		}
		got := e.AppendFrame(nil, []byte{0x21, byte(c)})
		want := naiveAppendFrame(nil, []byte{0x21, byte(c)}, 0, EscapeMap{}, FCS16)
		if !bad {
			want = naiveAppendFrame(nil, []byte{0x21, byte(c)}, 0, escapeMapOf(byte(c)), FCS16)
		}
		if !bytesEqual(got, want) {
			t.Errorf("after SetEscape(%#02x): got %x, want %x", c, got, want)
		}
	}

	// A rejected map leaves the one set before in force; the zero map
	// clears it.
	var e Encoder
	e.SetACCM(0)
	if err := e.SetEscape(escapeMapOf(0xff)); err != nil {
		t.Fatal(err)
	}
	if err := e.SetEscape(escapeMapOf(0xfe, 0x5e)); err == nil {
		t.Fatal("SetEscape with 0x5e succeeded")
	}
	if got, want := e.AppendFrame(nil, []byte{0xfe, 0xff}), naiveAppendFrame(nil, []byte{0xfe, 0xff}, 0, escapeMapOf(0xff), FCS16); !bytesEqual(got, want) {
		t.Errorf("after a rejected map: got %x, want %x", got, want)
	}
	if err := e.SetEscape(EscapeMap{}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.AppendFrame(nil, []byte{0xfe, 0xff}), naiveAppendFrame(nil, []byte{0xfe, 0xff}, 0, EscapeMap{}, FCS16); !bytesEqual(got, want) {
		t.Errorf("after clearing the map: got %x, want %x", got, want)
	}
}

func TestEscapeMap(t *testing.T) {
	var m EscapeMap
	m.Set(0x00)
	m.Set(0x1f)
	m.Set(0x7e)
	m.Set(0xff)
	want := EscapeMap{0: 0x80000001, 3: 0x40000000, 7: 0x80000000}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("EscapeMap layout (-want +got):\n%s", diff)
	}
	for c := range 256 {
		if got, want := m.Has(byte(c)), c == 0 || c == 0x1f || c == 0x7e || c == 0xff; got != want {
			t.Errorf("Has(%#02x) = %v, want %v", c, got, want)
		}
	}
}

func TestMaxEncodedLen(t *testing.T) {
	// The worst case: every octet of the frame and of the FCS escaped.
	var all EscapeMap
	for c := range 256 {
		if !unescapable.Has(byte(c)) {
			all.Set(byte(c))
		}
	}
	for _, n := range []int{0, 1, 64, 1500} {
		p := make([]byte, n)
		for i := range p {
			p[i] = 0x7e
		}
		for _, fcs := range []FCSSize{FCS16, FCS32} {
			var e Encoder
			e.SetFCS(fcs)
			if err := e.SetEscape(all); err != nil {
				t.Fatal(err)
			}
			got := len(e.AppendFrame(nil, p))
			if got > MaxEncodedLen(n) {
				t.Errorf("%v frame of %d octets took %d > MaxEncodedLen %d", fcs, n, got, MaxEncodedLen(n))
			}
			if min := 2*n + 2 + 2; got < min {
				t.Errorf("%v frame of %d flags took %d octets, want at least %d", fcs, n, got, min)
			}
		}
	}
}

func TestAppendFrameAllocs(t *testing.T) {
	for _, cfg := range benchConfigs {
		for _, esc := range []EscapeMap{{}, escapeMapOf(0xff)} {
			t.Run(fmt.Sprintf("%s/escape=%v", cfg.name, esc != EscapeMap{}), func(t *testing.T) {
				var e Encoder
				e.SetACCM(cfg.accm)
				e.SetFCS(cfg.fcs)
				if err := e.SetEscape(esc); err != nil {
					t.Fatal(err)
				}
				p := randomFrame(1500, 9)
				buf := make([]byte, 0, 3*MaxEncodedLen(len(p)))
				allocs := testing.AllocsPerRun(100, func() {
					// Two frames sharing a flag, as in a batch.
					b := e.AppendFrame(buf[:0], p)
					e.AppendFrame(b, p[:64])
				})
				if allocs != 0 {
					t.Errorf("AppendFrame allocates %v times per frame, want 0", allocs)
				}
			})
		}
	}
}

func TestEncoderConcurrentSettings(t *testing.T) {
	// The link's control goroutine switches settings while a pump encodes;
	// run under the race detector. Every frame is framed with one complete
	// set of settings.
	var e Encoder
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			e.SetACCM(ACCM(i) * 0x9e3779b9)
			e.SetFCS([]FCSSize{FCS16, FCS32}[i%2])
			if err := e.SetEscape(escapeMapOf(byte(0x80 + i%64))); err != nil {
				panic(err)
			}
		}
	}()
	p := randomFrame(256, 4)
	for range 2000 {
		b := e.AppendFrame(nil, p)
		// Whatever the settings were, a receiver with ACCM 0 and the
		// right FCS size reads the frame back.
		got, ok := decodeOne(b)
		if !ok || !bytesEqual(got, p) {
			t.Fatalf("frame %x does not decode to the input", b)
		}
	}
	<-done
}

// decodeOne decodes a single encoded frame with ACCM 0, trying both FCS
// sizes.
func decodeOne(b []byte) ([]byte, bool) {
	for _, fcs := range []FCSSize{FCS16, FCS32} {
		n := newNaiveDecoder(0, fcs, maxMaxFrame)
		var got []byte
		n.write(b, func(f []byte) { got = append([]byte(nil), f...) })
		if got != nil {
			return got, true
		}
	}
	return nil, false
}
