package ipcp

import (
	"net/netip"
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// FuzzPacketText prints arbitrary IPCP packets as pppd's debug log does,
// with the Handler's option formatter, as the link logs every packet it
// receives: no panic, one line of printable ASCII, bracketed for a
// well-formed packet without padding, of a bounded length.
func FuzzPacketText(f *testing.F) {
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, []byte{0x03, 0x06, 10, 0, 2, 2, 0x02, 0x06, 0x00, 0x2d, 0x0f, 0x01}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureNak, 2, []byte{0x81, 0x06, 192, 0, 2, 53, 0x83, 0x06, 0, 0, 0, 0, 0x82, 0x06, 1, 2, 3, 4}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureReject, 3, []byte{0x01, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0x04, 0x00, 0x2d}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeTerminateRequest, 4, []byte("No network protocols running")))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, err := New(Config{Local: netip.MustParseAddr("192.0.2.1")})
		if err != nil {
			t.Fatal(err)
		}
		text := ppp.AppendPacketText(nil, ppp.ProtoIPCP, pkt, h)
		ppptest.CheckText(t, text, pkt, "[IPCP")
	})
}
