package lcp

import (
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// FuzzPacketText prints arbitrary LCP packets as pppd's debug log does,
// with the Handler's option and code formatters, as the link logs every
// packet it receives: no panic, one line of printable ASCII, bracketed for
// a well-formed packet, of a bounded length.
func FuzzPacketText(f *testing.F) {
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, pppdRequest))
	f.Add(ppp.AppendPacket(nil, ppp.CodeConfigureNak, 2, cat(mru(100), accm(1), chap(0x81), lqr(0), magic(0), pfc(), acfc(), fcs(1))))
	f.Add(ppp.AppendPacket(nil, ppp.CodeEchoRequest, 3, []byte{0x03, 0xd1, 0x98, 0x1f}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeTimeRemaining, 4, []byte{0, 0, 0, 1, 0, 0, 0, 60, 'b', 'y', 'e', '\n', 0xff}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeIdentification, 5, []byte{0, 0, 0, 1, '"', '\\'}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeProtocolReject, 6, []byte{0x80, 0xfd, 1, 1, 0, 4}))
	f.Add(ppp.AppendPacket(nil, ppp.CodeTerminateRequest, 7, []byte("User request")))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h := New(testConfig())
		ppptest.CheckText(t, ppp.AppendPacketText(nil, ppp.ProtoLCP, pkt, h), pkt, "[LCP")
	})
}
