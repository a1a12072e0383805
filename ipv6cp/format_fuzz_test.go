package ipv6cp

import (
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// FuzzPacketText prints arbitrary IPV6CP packets as pppd's debug log does,
// with the Handler's option formatter, as the link logs every packet it
// receives: no panic, one line of printable ASCII, bracketed for a
// well-formed packet without padding, of a bounded length.
func FuzzPacketText(f *testing.F) {
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, []byte{0x01, 0x0a, 0x58, 0x0b, 0x61, 0x52, 0xaa, 0x75, 0xc0, 0x02}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureNak, 2, []byte{0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 2}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureReject, 3, []byte{0x02, 0x06, 0x00, 0x4f, 0x00, 0x0f, 0x01, 0x09, 1, 2, 3, 4, 5, 6, 7}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeTerminateRequest, 4, []byte("ipv6cp: could not determine remote interface identifier")))
	f.Add(ppp.AppendPacket(nil, ppp.CodeCodeReject, 5, []byte{0x0c, 0x01, 0x00, 0x04}))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, err := New(Config{Local: id1})
		if err != nil {
			t.Fatal(err)
		}
		text := ppp.AppendPacketText(nil, ppp.ProtoIPV6CP, pkt, h)
		ppptest.CheckText(t, text, pkt, "[IPV6CP")
	})
}
