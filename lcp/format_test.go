package lcp

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// rawFrames splits an RFC 1662 async HDLC byte stream into frames without
// flags, escapes and FCS, checking each FCS-16 (RFC 1662 appendix C).
func rawFrames(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	var frames [][]byte
	for _, f := range bytes.Split(stream, []byte{0x7e}) {
		if len(f) == 0 {
			continue
		}
		var b []byte
		for i := 0; i < len(f); i++ {
			c := f[i]
			if c == 0x7d && i+1 < len(f) {
				i++
				c = f[i] ^ 0x20
			}
			b = append(b, c)
		}
		fcs := uint16(0xffff)
		for _, c := range b {
			fcs ^= uint16(c)
			for range 8 {
				if fcs&1 != 0 {
					fcs = fcs>>1 ^ 0x8408
				} else {
					fcs >>= 1
				}
			}
		}
		if fcs != 0xf0b8 || len(b) < 2 {
			t.Fatalf("frame % x: bad FCS", b)
		}
		frames = append(frames, b[:len(b)-2])
	}
	return frames
}

// captureLines returns the LCP lines of pppd's debug log that start with
// prefix ("sent " or "rcvd ").
func captureLines(t *testing.T, prefix string) []string {
	t.Helper()
	f, err := os.Open("testdata/pppd-2.4.9-debug.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), prefix+"[LCP ") {
			lines = append(lines, s.Text())
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestFormatCaptureSent decodes every LCP frame pppd 2.4.9 sent and prints
// it with our formatter: the text must equal pppd's own debug line.
func TestFormatCaptureSent(t *testing.T) {
	raw, err := os.ReadFile("testdata/pppd-2.4.9-tx.raw")
	if err != nil {
		t.Fatal(err)
	}
	h := New(DefaultConfig())
	var got []string
	for _, f := range rawFrames(t, raw) {
		proto, info, err := ppp.ParseHeader(f)
		if err != nil {
			t.Fatalf("frame % x: %v", f, err)
		}
		if proto == ppp.ProtoLCP {
			got = append(got, string(ppp.AppendPacketText([]byte("sent "), proto, info, h)))
		}
	}
	want := captureLines(t, "sent ")
	if len(want) != 3 {
		t.Fatalf("capture has %d sent LCP lines, want 3", len(want))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("formatted:\n%s\npppd:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFormatCaptureRcvd rebuilds the packets pppd received (its peer's
// request is in pppd's Configure-Ack) and compares the text.
func TestFormatCaptureRcvd(t *testing.T) {
	h := New(DefaultConfig())
	pkts := []ppp.Packet{
		packet(ppp.CodeConfigureRequest, 1, peerRequest),
		packet(ppp.CodeConfigureAck, 1, pppdRequest),
		packet(ppp.CodeEchoReply, 0, u32(0x1305b050)),
	}
	var got []string
	for _, p := range pkts {
		got = append(got, string(ppp.AppendPacketText([]byte("rcvd "), ppp.ProtoLCP, p, h)))
	}
	want := captureLines(t, "rcvd ")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("formatted:\n%s\npppd:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAppendOptionText(t *testing.T) {
	tests := []struct {
		opt  []byte
		want string
	}{
		{mru(1500), "mru 1500"},
		{accm(0), "asyncmap 0x0"},
		{accm(0x000a0000), "asyncmap 0xa0000"},
		{pap(), "auth pap"},
		{chap(5), "auth chap MD5"},
		{chap(0x80), "auth chap MS"},
		{chap(0x81), "auth chap MS-v2"},
		{chap(0x7f), "auth chap 7f"},
		{o(OptAuthProtocol, 0xc2, 0x23), "auth chap"},
		{o(OptAuthProtocol, 0xc2, 0x27), "auth eap"},
		{o(OptAuthProtocol, 0xc0, 0x27, 9), "auth 0xc027 09"},
		{o(OptAuthProtocol, 0xc0, 0x23, 1, 2), "auth pap 01 02"},
		{lqr(3000), "quality lqr 00 00 0b b8"},
		{o(OptQualityProtocol, 0x12, 0x34), "quality 0x1234"},
		{magic(0x3d1981f), "magic 0x3d1981f"},
		{pfc(), "pcomp"},
		{acfc(), "accomp"},
		{fcs(0x04), "fcs crc32"},
		{fcs(0x06), "fcs crc16,crc32"},
		{fcs(0x01), "fcs null"},
		{fcs(0x00), "fcs 0x0"},
		{fcs(0x0c), "fcs crc32,0x8"},
		{o(13, 6), "callback CBCP"},
		{o(13, 1, 0x41), "callback 0x1 41"},
		{o(17, 0x05, 0xdc), "mrru 1500"},
		{o(18), "ssnhf"},
		{o(19, 0), "endpoint [null]"},
		{o(19, 1, 0xab, 0xcd), "endpoint [local:ab.cd]"},
		{o(19, 2, 192, 0, 2, 1), "endpoint [IP:192.0.2.1]"},
		{o(19, 3, 0, 0x11, 0x22, 0x33, 0x44, 0x55), "endpoint [MAC:00:11:22:33:44:55]"},
		{o(19, 4, 1, 2, 3, 4, 5, 6, 7, 8), "endpoint [magic:01020304.05060708]"},
		{o(19, 9, 1), "endpoint [9:01]"},
		{o(19, append([]byte{1}, make([]byte, 21)...)...), "endpoint [local:" + strings.Repeat("00.", 19) + "00] 00"},
		// Unknown types and wrong lengths: every octet in hex.
		{o(OptMRU, 5), " 01 03 05"},
		{o(OptACCM), " 02 02"},
		{o(OptMagicNumber, 1, 2, 3, 4, 5), " 05 07 01 02 03 04 05"},
		{o(OptPFC, 0), " 07 03 00"},
		{o(OptAuthProtocol, 0xc0), " 03 03 c0"},
		{o(0x7f, 0xaa), " 7f 03 aa"},
		{o(0), " 00 02"},
	}
	h := New(Config{})
	for _, tt := range tests {
		opt := ppp.Option{Type: tt.opt[0], Data: tt.opt[2:]}
		if got := string(h.AppendOptionText([]byte("x"), opt)); got != "x"+tt.want {
			t.Errorf("AppendOptionText(% x) = %q, want %q", tt.opt, got[1:], tt.want)
		}
	}
}

func TestAppendCodeText(t *testing.T) {
	long := make([]byte, 40)
	for i := range long {
		long[i] = byte(i)
	}
	tests := []struct {
		pkt  ppp.Packet
		want string
	}{
		{packet(ppp.CodeEchoRequest, 0, u32(0x3d1981f)), "magic=0x3d1981f"},
		{packet(ppp.CodeEchoReply, 0, cat(u32(0x1305b050), []byte{1, 2})), "magic=0x1305b050 01 02"},
		{packet(ppp.CodeDiscardRequest, 0, u32(0)), "magic=0x0"},
		{packet(ppp.CodeEchoRequest, 0, []byte{1, 2}), "01 02"},
		{packet(ppp.CodeEchoRequest, 0, nil), ""},
		{packet(ppp.CodeEchoRequest, 0, cat(u32(1), long)), "magic=0x1" + hexRun(long[:32]) + " ..."},
		{packet(ppp.CodeProtocolReject, 2, []byte{0x80, 0xfd, 1, 1, 0, 4}), "80 fd 01 01 00 04"},
		// A rejected PAP Authenticate-Request: its password stays hidden.
		{packet(ppp.CodeProtocolReject, 2, []byte{0xc0, 0x23, 1, 1, 0, 8, 1, 'a', 2, 'p', 'w'}), "c0 23 <9 octets hidden>"},
		{packet(ppp.CodeProtocolReject, 2, []byte{0xc0, 0x23}), "c0 23"},
		{packet(ppp.CodeIdentification, 3, cat(u32(0), []byte("pppd \"2.4.9\"\n\x01\xff"))), `magic=0x0 "pppd \"2.4.9\"\n\001\377"`},
		{packet(ppp.CodeIdentification, 3, u32(7)), "magic=0x7"},
		{packet(ppp.CodeIdentification, 3, []byte{1}), `"\001"`},
		{packet(ppp.CodeTimeRemaining, 4, cat(u32(0), u32(3600))), "magic=0x0 seconds=3600"},
		{packet(ppp.CodeTimeRemaining, 4, cat(u32(0), u32(0xffffffff), []byte("x"))), `magic=0x0 seconds=4294967295 "x"`},
		{packet(ppp.CodeTimeRemaining, 4, cat(u32(0), []byte{9})), "magic=0x0 09"},
		{packet(14, 5, []byte{0xde, 0xad}), "de ad"},
		{ppp.Packet{9, 0}, ""},
	}
	h := New(Config{})
	for _, tt := range tests {
		if got := string(h.AppendCodeText([]byte("x"), tt.pkt)); got != "x"+tt.want {
			t.Errorf("AppendCodeText(% x) = %q, want %q", []byte(tt.pkt), got[1:], tt.want)
		}
	}
}

func hexRun(b []byte) string { return string(ppp.AppendHex(nil, b)) }

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{FCS32.String(), "crc32"},
		{(FCS16 | FCS32).String(), "crc16,crc32"},
		{FCS(0).String(), "0x0"},
		{AuthPAP.String(), "pap"},
		{AuthCHAPMD5.String(), "chap MD5"},
		{(AuthPAP | AuthCHAPMD5).String(), "chap MD5|pap"},
		{AuthMethod(0).String(), "none"},
	} {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}
