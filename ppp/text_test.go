package ppp_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// Test-local formatters for the options and codes in the pppd capture,
// printing what pppd's lcp.c, ipcp.c, ccp.c and ipv6cp.c print.
type lcpText struct{}

func (lcpText) AppendOptionText(b []byte, o ppp.Option) []byte {
	switch {
	case o.Type == 1 && len(o.Data) == 2:
		return strconv.AppendUint(append(b, "mru "...), uint64(binary.BigEndian.Uint16(o.Data)), 10)
	case o.Type == 2 && len(o.Data) == 4:
		return strconv.AppendUint(append(b, "asyncmap 0x"...), uint64(binary.BigEndian.Uint32(o.Data)), 16)
	case o.Type == 5 && len(o.Data) == 4:
		return strconv.AppendUint(append(b, "magic 0x"...), uint64(binary.BigEndian.Uint32(o.Data)), 16)
	case o.Type == 7 && len(o.Data) == 0:
		return append(b, "pcomp"...)
	case o.Type == 8 && len(o.Data) == 0:
		return append(b, "accomp"...)
	}
	return b
}

func (lcpText) AppendCodeText(b []byte, p ppp.Packet) []byte {
	if d := p.Data(); p.Code() >= ppp.CodeEchoRequest && p.Code() <= ppp.CodeDiscardRequest && len(d) >= 4 {
		b = strconv.AppendUint(append(b, "magic=0x"...), uint64(binary.BigEndian.Uint32(d)), 16)
		return ppp.AppendHex(b, d[4:])
	}
	return b
}

type ipcpText struct{}

func (ipcpText) AppendOptionText(b []byte, o ppp.Option) []byte {
	switch {
	case o.Type == 3 && len(o.Data) == 4:
		return fmt.Appendf(b, "addr %d.%d.%d.%d", o.Data[0], o.Data[1], o.Data[2], o.Data[3])
	case o.Type == 2 && len(o.Data) >= 2 && binary.BigEndian.Uint16(o.Data) == 0x002d:
		return ppp.AppendHex(append(b, "compress VJ"...), o.Data[2:])
	}
	return b
}

type ccpText struct{}

func (ccpText) AppendOptionText(b []byte, o ppp.Option) []byte {
	switch {
	case (o.Type == 26 || o.Type == 24) && len(o.Data) >= 2:
		name := "deflate"
		if o.Type == 24 {
			name = "deflate(old#)"
		}
		return ppp.AppendHex(fmt.Appendf(b, "%s %d", name, o.Data[0]>>4+8), o.Data[2:])
	case o.Type == 21 && len(o.Data) >= 1:
		return ppp.AppendHex(fmt.Appendf(b, "bsd v%d %d", o.Data[0]>>5, o.Data[0]&0x1f), o.Data[1:])
	}
	return b
}

type ipv6cpText struct{}

func (ipv6cpText) AppendOptionText(b []byte, o ppp.Option) []byte {
	if o.Type == 1 && len(o.Data) == 8 {
		d := o.Data
		return fmt.Appendf(b, "addr fe80::%02x%02x:%02x%02x:%02x%02x:%02x%02x", d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7])
	}
	return b
}

var formatters = map[string]struct {
	proto ppp.Protocol
	f     any
}{
	"LCP":    {ppp.ProtoLCP, lcpText{}},
	"IPCP":   {ppp.ProtoIPCP, ipcpText{}},
	"CCP":    {ppp.ProtoCCP, ccpText{}},
	"IPV6CP": {ppp.ProtoIPV6CP, ipv6cpText{}},
}

// TestPacketTextCapture formats every control packet of a pppd 2.4.9
// session and compares the result with pppd's own debug log.
func TestPacketTextCapture(t *testing.T) {
	var want []string
	for _, l := range readLines(t, "testdata/pppd-2.4.9-debug.txt") {
		if strings.HasPrefix(l, "sent [") || strings.HasPrefix(l, "rcvd [") {
			want = append(want, l)
		}
	}
	var got []string
	for _, l := range readLines(t, "testdata/pppd-2.4.9.hex") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		dir, rest, _ := strings.Cut(l, " ")
		name, h, _ := strings.Cut(rest, " ")
		p, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		fm, ok := formatters[name]
		if !ok {
			t.Fatalf("%q: unknown protocol", l)
		}
		got = append(got, string(ppp.AppendPacketText([]byte(dir+" "), fm.proto, p, fm.f)))
	}
	if len(got) != len(want) || len(got) != 31 {
		t.Fatalf("%d packets for %d log lines, want 31", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestPacketText(t *testing.T) {
	long := make([]byte, 40)
	for i := range long {
		long[i] = byte(i)
	}
	tests := []struct {
		name  string
		proto ppp.Protocol
		pkt   []byte
		f     any
		want  string
	}{
		{"TermReq with reason", ppp.ProtoLCP, pkt(ppp.CodeTerminateRequest, 2, []byte("User request")...), nil,
			`[LCP TermReq id=0x2 "User request"]`},
		{"TermReq quoting", ppp.ProtoLCP, pkt(ppp.CodeTerminateRequest, 2, []byte("a\"b\\c\n\r\t\x01\xff")...), nil,
			`[LCP TermReq id=0x2 "a\"b\\c\n\r\t\001\377"]`},
		{"TermAck starting unprintable", ppp.ProtoLCP, pkt(ppp.CodeTerminateAck, 3, 0x01, 'a'), nil,
			`[LCP TermAck id=0x3 01 61]`},
		{"TermAck empty", ppp.ProtoIPCP, pkt(ppp.CodeTerminateAck, 3), nil, `[IPCP TermAck id=0x3]`},
		{"CodeRej", ppp.ProtoLCP, pkt(ppp.CodeCodeReject, 3, 0x0e, 0x01, 0x00, 0x04), nil,
			`[LCP CodeRej id=0x3 0e 01 00 04]`},
		{"EchoReq", ppp.ProtoLCP, pkt(ppp.CodeEchoRequest, 0, 0x03, 0xd1, 0x98, 0x1f), lcpText{},
			`[LCP EchoReq id=0x0 magic=0x3d1981f]`},
		{"EchoReq without formatter", ppp.ProtoLCP, pkt(ppp.CodeEchoRequest, 0, 0x03, 0xd1, 0x98, 0x1f), nil,
			`[LCP EchoReq id=0x0 03 d1 98 1f]`},
		{"ProtRej", ppp.ProtoLCP, pkt(ppp.CodeProtocolReject, 4, 0x80, 0x57, 0x01), lcpText{},
			`[LCP ProtRej id=0x4 80 57 01]`},
		{"unknown code in LCP", ppp.ProtoLCP, pkt(0x20, 5), nil, `[LCP code=0x20 id=0x5]`},
		{"LCP code in IPCP", ppp.ProtoIPCP, pkt(ppp.CodeEchoRequest, 5, 1), nil, `[IPCP code=0x9 id=0x5 01]`},
		{"unknown option", ppp.ProtoLCP, pkt(ppp.CodeConfigureRequest, 1, 0x0d, 0x03, 0x06, 0x01, 0x04, 0x05, 0xdc), lcpText{},
			`[LCP ConfReq id=0x1 < 0d 03 06> <mru 1500>]`},
		{"known option with a bad length", ppp.ProtoLCP, pkt(ppp.CodeConfigureRequest, 1, 0x01, 0x03, 0x05), lcpText{},
			`[LCP ConfReq id=0x1 < 01 03 05>]`},
		{"malformed option", ppp.ProtoLCP, pkt(ppp.CodeConfigureNak, 1, 0x07, 0x02, 0x01, 0x09, 0x00), lcpText{},
			`[LCP ConfNak id=0x1 <pcomp> 01 09 00]`},
		{"zero-length option", ppp.ProtoIPCP, pkt(ppp.CodeConfigureReject, 1, 0x03, 0x00), nil,
			`[IPCP ConfRej id=0x1 03 00]`},
		{"LCP stops after 32 octets", ppp.ProtoLCP, pkt(ppp.CodeCodeReject, 6, long...), nil,
			`[LCP CodeRej id=0x6` + hexList(long[:32]) + ` ...]`},
		{"IPCP prints everything", ppp.ProtoIPCP, pkt(ppp.CodeCodeReject, 6, long...), nil,
			`[IPCP CodeRej id=0x6` + hexList(long) + `]`},
		{"padding", ppp.ProtoIPCP, append(pkt(ppp.CodeTerminateAck, 7), 0, 0), nil, `[IPCP TermAck id=0x7] 00 00`},
		{"bad Length", ppp.ProtoLCP, []byte{1, 1, 0, 9, 1}, nil, `[LCP] 01 01 00 09 01`},
		{"too short", ppp.ProtoLCP, []byte{1}, nil, `[LCP] 01`},
		{"unnamed protocol", ppp.Protocol(0x8281), pkt(ppp.CodeConfigureAck, 1), nil, `[0x8281 ConfAck id=0x1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(ppp.AppendPacketText(nil, tt.proto, tt.pkt, tt.f)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func hexList(b []byte) string { return string(ppp.AppendHex(nil, b)) }

// wholeText is a PacketFormatter that prints every packet as "[whole N]".
type wholeText struct{}

func (wholeText) AppendPacketText(b []byte, _ ppp.Protocol, pkt []byte) []byte {
	return fmt.Appendf(b, "[whole %d]", len(pkt))
}

// TestPacketTextPAP checks that a PAP Authenticate-Request printed without
// a formatter shows nothing of its password, and that a PacketFormatter
// prints whole packets.
func TestPacketTextPAP(t *testing.T) {
	// Authenticate-Request id 2: Peer-ID "alice", Password "s3cr3t".
	req := []byte{1, 2, 0, 17, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c', 'r', '3', 't'}
	got := string(ppp.AppendPacketText([]byte("sent "), ppp.ProtoPAP, req, nil))
	if want := "sent [PAP code=0x1 id=0x2 len=17]"; got != want {
		t.Errorf("PAP request printed as %q, want %q", got, want)
	}
	for _, short := range [][]byte{nil, {1, 2}} {
		if got := string(ppp.AppendPacketText(nil, ppp.ProtoPAP, short, nil)); strings.Contains(got, "0x") {
			t.Errorf("% x printed as %q, want only its length", short, got)
		}
	}
	if got := string(ppp.AppendPacketText([]byte("rcvd "), ppp.ProtoCHAP, req, wholeText{})); got != "rcvd [whole 17]" {
		t.Errorf("with a PacketFormatter: %q, want %q", got, "rcvd [whole 17]")
	}
}
