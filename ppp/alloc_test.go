package ppp_test

import (
	"log/slog"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

var (
	goodRequest = peerRequest(1, peerGood)
	badRequest  = peerRequest(1, peerBad)
	echoRequest = pkt(ppp.CodeEchoRequest, 1, 0, 0, 0, 1)
	unknownCode = pkt(0x0e, 1, 1, 2, 3)
)

// TestZeroAllocations checks that the automaton's steady state allocates
// nothing, with logging off and with debug disabled, and neither does
// packet formatting into a buffer with room.
func TestZeroAllocations(t *testing.T) {
	infoLog, _, _ := newCapture(slog.LevelInfo)
	tests := []struct {
		name  string
		state ppp.State
		run   func(f *fixture)
	}{
		{"RCR+ in Ack-Sent", ppp.StateAckSent, func(f *fixture) { f.a.Input(goodRequest) }},
		{"RCR- in Req-Sent", ppp.StateReqSent, func(f *fixture) { f.a.Input(badRequest) }},
		{"Echo-Request in Opened", ppp.StateOpened, func(f *fixture) { f.a.Input(echoRequest) }},
		{"unknown code in Opened", ppp.StateOpened, func(f *fixture) { f.a.Input(unknownCode) }},
		{"TO+ in Req-Sent", ppp.StateReqSent, func(f *fixture) { f.a.Timeout() }},
		{"Send", ppp.StateOpened, func(f *fixture) { f.a.Send(ppp.CodeDiscardRequest, 1, echoRequest[4:]) }},
	}
	for _, logger := range []*slog.Logger{nil, infoLog} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, func(c *ppp.Config) {
					c.Logger = logger
					c.MaxConfigure = 1 << 30
				})
				f.driveTo(t, tt.state)
				f.quiet = true
				tt.run(f) // warm up
				f.sent = 0
				if n := testing.AllocsPerRun(100, func() { tt.run(f) }); n != 0 {
					t.Errorf("%v allocations per run, want 0", n)
				}
				if f.sent == 0 {
					t.Error("nothing was sent")
				}
				if f.a.State() != tt.state {
					t.Errorf("state moved to %v", f.a.State())
				}
			})
		}
	}
	t.Run("AppendPacketText", func(t *testing.T) {
		buf := make([]byte, 0, 256)
		p := pkt(ppp.CodeConfigureRequest, 1, 0x01, 0x04, 0x05, 0xdc, 0x05, 0x06, 1, 2, 3, 4, 0x07, 0x02, 0x0d, 0x03, 0x06)
		if n := testing.AllocsPerRun(100, func() { ppp.AppendPacketText(buf[:0], ppp.ProtoLCP, p, lcpText{}) }); n != 0 {
			t.Errorf("%v allocations per run, want 0", n)
		}
	})
}
