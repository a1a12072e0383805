package lcp

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// checkText fails unless text is one line of printable ASCII that starts
// with prefix, bracketed if pkt is well formed and unpadded (a malformed
// packet prints as "[LCP]" and its octets, padding follows the bracket), as
// pppd prints a packet, of at most a few characters per octet of pkt.
func checkText(t *testing.T, text, pkt []byte, prefix string) {
	t.Helper()
	p, err := ppp.ParsePacket(pkt)
	if !bytes.HasPrefix(text, []byte(prefix)) || err == nil && len(p) == len(pkt) && !bytes.HasSuffix(text, []byte("]")) {
		t.Fatalf("text %q for % x", text, pkt)
	}
	for _, c := range text {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("octet %#x in the text %q", c, text)
		}
	}
	if limit := 8*len(pkt) + 64; len(text) > limit {
		t.Fatalf("%d characters for %d octets: %q", len(text), len(pkt), text)
	}
}

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
		checkText(t, ppp.AppendPacketText(nil, ppp.ProtoLCP, pkt, h), pkt, "[LCP")
	})
}
