package lcp

import (
	"bytes"
	"io"
	"log/slog"
	"time"

	"github.com/pppssh/pppssh/ppp"
)

// Magic numbers the test source hands out, in order: Reset takes the first.
const (
	magic1 = 0x11111111
	magic2 = 0x22222222
	magic3 = 0x33333333
)

// seqMagic returns a Magic source yielding magic1, magic2, magic3, then
// incrementing values.
func seqMagic() func() uint32 {
	next := uint32(magic1)
	return func() uint32 {
		v := next
		if next < magic3 {
			next += magic1
		} else {
			next++
		}
		return v
	}
}

// testConfig is DefaultConfig with a deterministic magic source, modified by
// mods.
func testConfig(mods ...func(*Config)) Config {
	c := DefaultConfig()
	c.Magic = seqMagic()
	for _, m := range mods {
		m(&c)
	}
	return c
}

func newTest(mods ...func(*Config)) *Handler {
	return New(testConfig(mods...))
}

// o builds one option with the given type and data.
func o(typ uint8, data ...byte) []byte {
	return append([]byte{typ, byte(2 + len(data))}, data...)
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
func u32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func mru(v uint16) []byte       { return o(OptMRU, u16(v)...) }
func accm(v uint32) []byte      { return o(OptACCM, u32(v)...) }
func magic(v uint32) []byte     { return o(OptMagicNumber, u32(v)...) }
func pap() []byte               { return o(OptAuthProtocol, 0xc0, 0x23) }
func chap(alg byte) []byte      { return o(OptAuthProtocol, 0xc2, 0x23, alg) }
func fcs(v byte) []byte         { return o(OptFCSAlternatives, v) }
func pfc() []byte               { return o(OptPFC) }
func acfc() []byte              { return o(OptACFC) }
func lqr(period uint32) []byte  { return o(OptQualityProtocol, append(u16(0xc025), u32(period)...)...) }
func request(h *Handler) []byte { return h.AppendRequest(nil) }

// sentPacket is one packet a fakeAutomaton was asked to send.
type sentPacket struct {
	code ppp.Code
	id   uint8
	data []byte
}

// fakeAutomaton stands in for *ppp.Automaton in tests of the extra codes.
type fakeAutomaton struct {
	state ppp.State
	sent  []sentPacket
	keep  bool // record sent packets (off for allocation tests)
}

func (f *fakeAutomaton) State() ppp.State { return f.state }

func (f *fakeAutomaton) Send(code ppp.Code, id uint8, data []byte) {
	if f.keep {
		f.sent = append(f.sent, sentPacket{code, id, bytes.Clone(data)})
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// packet builds a control packet.
func packet(code ppp.Code, id uint8, data []byte) ppp.Packet {
	return ppp.Packet(ppp.AppendPacket(nil, code, id, data))
}

// newTextLogger logs every level to w as text, without times.
func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}
