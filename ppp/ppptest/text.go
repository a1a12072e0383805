package ppptest

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// CheckText fails the test unless text, what a protocol's formatter made
// of the packet pkt, is one line of printable ASCII that starts with
// prefix ("[LCP"), ends with the closing bracket if pkt is well formed and
// unpadded (a malformed packet prints as "[LCP]" and its octets; padding
// follows the bracket), as pppd prints a packet, and takes at most a few
// characters per octet of pkt. The fuzz targets of the formatters share it.
func CheckText(t testing.TB, text, pkt []byte, prefix string) {
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
