package ipcp

import (
	"testing"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// readCapture reads testdata/pppd-2.4.9-ipcp.hex: the IPCP packets of a
// real pppd negotiation, each with the line pppd logged for it.
func readCapture(t testing.TB) []ncptest.CapturePacket {
	return ncptest.ReadCapture(t, "testdata/pppd-2.4.9-ipcp.hex")
}

func TestAppendOptionTextCapture(t *testing.T) {
	h := newHandler(t, Config{})
	for _, c := range readCapture(t) {
		want := c.Line[len("sent "):]
		if got := string(ppp.AppendPacketText(nil, ppp.ProtoIPCP, c.Pkt, h)); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestAppendOptionText(t *testing.T) {
	tests := []struct {
		opt  []byte
		want string
	}{
		{ao(OptIPAddress, addr1), "addr 192.0.2.1"},
		{raw(OptIPAddresses, 192, 0, 2, 1, 192, 0, 2, 2), "addrs 192.0.2.1 192.0.2.2"},
		{raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01), "compress VJ 0f 01"},
		{raw(OptIPCompressionProtocol, 0x00, 0x37), "compress old-VJ"},
		{raw(OptIPCompressionProtocol, 0x00, 0x61, 0xab), "compress 0x61 ab"},
		{ao(OptPrimaryDNS, dns1), "ms-dns1 198.51.100.53"},
		{ao(OptSecondaryDNS, dns2), "ms-dns2 198.51.100.54"},
		{ao(OptPrimaryNBNS, nbns1), "ms-wins 203.0.113.137"},
		{ao(OptSecondaryNBNS, nbns2), "ms-wins 203.0.113.138"},
		{raw(OptPrimaryDNS, 198, 51, 100, 53, 0xff), "ms-dns1 198.51.100.53 ff"},
		// Misshapen and unknown options are left to ppp, which prints
		// their raw octets as pppd does.
		{raw(OptIPAddress, 192, 0, 2), " 03 05 c0 00 02"},
		{raw(OptIPAddresses, 192, 0, 2, 1), " 01 06 c0 00 02 01"},
		{raw(OptIPCompressionProtocol, 0x2d), " 02 03 2d"},
		{raw(OptSecondaryDNS), " 83 02"},
		{raw(OptPrimaryNBNS, 1, 2), " 82 04 01 02"},
		{raw(0x55, 0xde, 0xad), " 55 04 de ad"},
	}
	h := newHandler(t, Config{})
	for _, tt := range tests {
		pkt := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, tt.opt)
		want := "[IPCP ConfReq id=0x1 <" + tt.want + ">]"
		if got := string(ppp.AppendPacketText(nil, ppp.ProtoIPCP, pkt, h)); got != want {
			t.Errorf("option % x prints as %s, want %s", tt.opt, got, want)
		}
	}
}

// TestCapturePeer answers pppd's requests from the capture as the other end
// (10.0.2.2, giving pppd 10.0.2.15) would with this package.
func TestCapturePeer(t *testing.T) {
	c := readCapture(t)
	pppdReq := c[0].Pkt.Data() // <compress VJ 0f 01> <addr 0.0.0.0>
	h := newHandler(t, Config{Local: netip4("10.0.2.2"), Remote: netip4("10.0.2.15")})
	code, reply := h.CheckRequest(nil, pppdReq, false)
	if want := raw(OptIPCompressionProtocol, 0x00, 0x2d, 0x0f, 0x01); code != rej || string(reply) != string(want) {
		t.Fatalf("first request: %v % x, want a Reject of VJ", code, reply)
	}
	code, reply = h.CheckRequest(nil, ao(OptIPAddress, zero), false)
	if want := ao(OptIPAddress, netip4("10.0.2.15")); code != nak || string(reply) != string(want) {
		t.Fatalf("second request: %v % x, want a Nak with 10.0.2.15", code, reply)
	}
	code, _ = h.CheckRequest(nil, ao(OptIPAddress, netip4("10.0.2.15")), false)
	if code != ack {
		t.Fatalf("third request: %v, want an Ack", code)
	}
}
