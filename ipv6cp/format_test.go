package ipv6cp

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/internal/ncptest"
	"github.com/pppssh/pppssh/ppp"
)

// readCapture reads testdata/pppd-2.4.9-ipv6cp.hex: the IPV6CP packets of
// real pppd negotiations, each with the line pppd logged for it.
func readCapture(t testing.TB) []ncptest.CapturePacket {
	return ncptest.ReadCapture(t, "testdata/pppd-2.4.9-ipv6cp.hex")
}

func TestAppendOptionTextCapture(t *testing.T) {
	h := newHandler(t, howto)
	for _, c := range readCapture(t) {
		want := c.Line[len("sent "):]
		if got := string(ppp.AppendPacketText(nil, ppp.ProtoIPV6CP, c.Pkt, h)); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestAppendOptionText(t *testing.T) {
	tests := []struct {
		opt  []byte
		want string
	}{
		{iio(id1), "addr fe80::0000:0000:0000:0001"},
		{iio(InterfaceID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}), "addr fe80::0123:4567:89ab:cdef"},
		{iio(idB), "addr fe80::0d8d:4730:bb4d:4a1f"},
		{iio(zero), "addr fe80::0000:0000:0000:0000"},
		{raw(OptIPv6CompressionProtocol, 0x00, 0x4f), "compress 0x4f"},
		{raw(OptIPv6CompressionProtocol, 0x00, 0x03), "compress 0x3"},
		{raw(OptIPv6CompressionProtocol, 0x00, 0x4f, 0x00, 0x0f, 0xff), "compress 0x4f 00 0f ff"},
		{raw(OptIPv6CompressionProtocol, 0xab, 0xcd), "compress 0xabcd"},
		// Misshapen and unknown options are left to ppp, which prints
		// their raw octets as pppd does.
		{raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 1), " 01 09 00 00 00 00 00 00 01"},
		{raw(OptInterfaceIdentifier, 0, 0, 0, 0, 0, 0, 0, 1, 2), " 01 0b 00 00 00 00 00 00 00 01 02"},
		{raw(OptInterfaceIdentifier), " 01 02"},
		{raw(OptIPv6CompressionProtocol, 0x4f), " 02 03 4f"},
		{raw(0x55, 0xde, 0xad), " 55 04 de ad"},
	}
	h := newHandler(t, howto)
	for _, tt := range tests {
		pkt := ppp.AppendPacket(nil, ppp.CodeConfigureRequest, 1, tt.opt)
		want := "[IPV6CP ConfReq id=0x1 <" + tt.want + ">]"
		if got := string(ppp.AppendPacketText(nil, ppp.ProtoIPV6CP, pkt, h)); got != want {
			t.Errorf("option % x prints as %s, want %s", tt.opt, got, want)
		}
	}
}

func TestAppendOptionTextAllocs(t *testing.T) {
	h := newHandler(t, howto)
	b := make([]byte, 0, 64)
	opt := ppp.Option{Type: OptInterfaceIdentifier, Data: idA[:]}
	if n := testing.AllocsPerRun(100, func() { h.AppendOptionText(b[:0], opt) }); n != 0 {
		t.Errorf("AppendOptionText allocates %v times", n)
	}
}

// TestCapturePeer answers pppd's requests from the captures as pppssh ends
// configured in different ways would.
func TestCapturePeer(t *testing.T) {
	for _, c := range readCapture(t) {
		req := c.Pkt.Data()
		pppdID, err := ParseInterfaceIdentifier(ppp.Option{Type: req[0], Data: req[2:]})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			cfg      Config
			wantCode ppp.Code
			want     []byte
		}{
			{"nothing configured", Config{Rand: draws(idC)}, ack, req},
			{"Local only", Config{Local: id1}, ack, req},
			{"HOWTO", howto, nak, iio(id2)},
			{"HOWTO with AcceptRemote", Config{Local: id1, Remote: id2, AcceptRemote: true}, ack, req},
			{"our random identifier collides", Config{Rand: draws(pppdID, idC)}, nak, iio(idC)},
		}
		for _, tt := range tests {
			h := newHandler(t, tt.cfg)
			code, reply := h.CheckRequest(nil, req, false)
			if code != tt.wantCode || !bytes.Equal(reply, tt.want) {
				t.Errorf("%s: %s: got %v % x, want %v % x", c.Line, tt.name, code, reply, tt.wantCode, tt.want)
			}
		}
	}
}
