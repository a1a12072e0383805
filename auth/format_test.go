package auth

import (
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestPacketText(t *testing.T) {
	req := AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("s3cr3t")))
	for _, c := range []struct {
		name  string
		proto ppp.Protocol
		pkt   []byte
		want  string
	}{
		{"PAP request", ppp.ProtoPAP, req, `[PAP AuthReq id=0x1 user="alice" password=<hidden>]`},
		{"PAP request, empty", ppp.ProtoPAP, AppendPAPRequest(nil, 0x2a, nil, Secret{}), `[PAP AuthReq id=0x2a user="" password=<hidden>]`},
		{"PAP request, odd user", ppp.ProtoPAP, AppendPAPRequest(nil, 1, []byte("a\"b\\c\td\x01"), NewSecret([]byte("s3cr3t"))), `[PAP AuthReq id=0x1 user="a\"b\\c\td\001" password=<hidden>]`},
		{"PAP request, octets after the password", ppp.ProtoPAP,
			packetOf(1, 1, cat([]byte{5}, []byte("alice"), []byte{6}, []byte("s3cr3t"), []byte("3t"))...),
			`[PAP AuthReq id=0x1 user="alice" password=<hidden> <2 octets hidden>]`},
		{"PAP request, padded", ppp.ProtoPAP, cat(req, []byte("s3c")), `[PAP AuthReq id=0x1 user="alice" password=<hidden>] <3 octets hidden>`},
		{"PAP request, password cut short", ppp.ProtoPAP, packetOf(1, 1, cat([]byte{5}, []byte("alice"), []byte{9}, []byte("s3cr3t"))...),
			`[PAP AuthReq id=0x1 <13 octets hidden>]`},
		{"PAP request, no password length", ppp.ProtoPAP, packetOf(1, 1, cat([]byte{5}, []byte("alice"))...), `[PAP AuthReq id=0x1 <6 octets hidden>]`},
		{"PAP request, one octet", ppp.ProtoPAP, packetOf(1, 1, 0x73), `[PAP AuthReq id=0x1 <1 octet hidden>]`},
		{"PAP request, no data", ppp.ProtoPAP, packetOf(1, 1), `[PAP AuthReq id=0x1]`},
		{"PAP request, bad Length", ppp.ProtoPAP, req[:len(req)-1], `[PAP] <16 octets hidden>`},
		{"PAP request, short", ppp.ProtoPAP, []byte{1, 1}, `[PAP] <2 octets hidden>`},
		{"PAP ack", ppp.ProtoPAP, AppendPAPReply(nil, 2, 1, []byte("Login ok")), `[PAP AuthAck id=0x1 "Login ok"]`},
		{"PAP nak", ppp.ProtoPAP, AppendPAPReply(nil, 3, 0xff, []byte("bad \"pw\"\n")), `[PAP AuthNak id=0xff "bad \"pw\"\n"]`},
		{"PAP ack, empty message", ppp.ProtoPAP, AppendPAPReply(nil, 2, 1, nil), `[PAP AuthAck id=0x1 ""]`},
		{"PAP ack, no data", ppp.ProtoPAP, packetOf(2, 1), `[PAP AuthAck id=0x1]`},
		{"PAP ack, message past the end", ppp.ProtoPAP, packetOf(2, 1, 9, 'L', 'o'), `[PAP AuthAck id=0x1 09 4c 6f]`},
		{"PAP ack, trailing octets", ppp.ProtoPAP, packetOf(2, 1, 2, 'o', 'k', 0xff), `[PAP AuthAck id=0x1 "ok" ff]`},
		{"PAP ack, padded", ppp.ProtoPAP, cat(packetOf(2, 1, 2, 'o', 'k'), []byte{0, 0}), `[PAP AuthAck id=0x1 "ok"] 00 00`},
		{"PAP unknown code", ppp.ProtoPAP, packetOf(4, 1, 1, 2), `[PAP code=0x4 id=0x1 01 02]`},
		{"PAP code 0", ppp.ProtoPAP, packetOf(0, 1), `[PAP code=0x0 id=0x1]`},
		{"PAP bad Length", ppp.ProtoPAP, []byte{2, 1, 0, 9, 0}, `[PAP] 02 01 00 09 00`},
		{"PAP empty", ppp.ProtoPAP, nil, `[PAP]`},

		{"CHAP challenge", ppp.ProtoCHAP, AppendCHAPValue(nil, 1, 1, []byte{0x4a, 0x5b, 0x6c}, []byte("server")), `[CHAP Challenge id=0x1 <4a5b6c>, name = "server"]`},
		{"CHAP response", ppp.ProtoCHAP, AppendCHAPValue(nil, 2, 0x10, seq(0xf0, 16), []byte("alice")),
			`[CHAP Response id=0x10 <f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff>, name = "alice"]`},
		{"CHAP challenge, no name", ppp.ProtoCHAP, AppendCHAPValue(nil, 1, 1, []byte{1}, nil), `[CHAP Challenge id=0x1 <01>, name = ""]`},
		{"CHAP challenge, empty value", ppp.ProtoCHAP, packetOf(1, 1, 0, 'x'), `[CHAP Challenge id=0x1 <>, name = "x"]`},
		{"CHAP challenge, value past the end", ppp.ProtoCHAP, packetOf(1, 1, 9, 1, 2), `[CHAP Challenge id=0x1]`},
		{"CHAP challenge, no data", ppp.ProtoCHAP, packetOf(1, 1), `[CHAP Challenge id=0x1]`},
		{"CHAP success", ppp.ProtoCHAP, AppendCHAPStatus(nil, 3, 1, []byte("Access granted")), `[CHAP Success id=0x1 "Access granted"]`},
		{"CHAP success, empty", ppp.ProtoCHAP, AppendCHAPStatus(nil, 3, 1, nil), `[CHAP Success id=0x1 ""]`},
		{"CHAP failure", ppp.ProtoCHAP, AppendCHAPStatus(nil, 4, 2, []byte("E=691 R=1")), `[CHAP Failure id=0x2 "E=691 R=1"]`},
		{"CHAP success, padded", ppp.ProtoCHAP, cat(AppendCHAPStatus(nil, 3, 1, []byte("ok")), []byte{0, 0}), `[CHAP Success id=0x1 "ok"] 00 00`},
		{"CHAP unknown code", ppp.ProtoCHAP, packetOf(5, 1, 1, 2), `[CHAP code=0x5 id=0x1 01 02]`},
		{"CHAP bad Length", ppp.ProtoCHAP, []byte{3, 1, 0}, `[CHAP] 03 01 00`},
		{"CHAP long padding", ppp.ProtoCHAP, cat(AppendCHAPStatus(nil, 3, 1, nil), make([]byte, 40)),
			`[CHAP Success id=0x1 ""]` + strings.Repeat(" 00", 32) + " ..."},

		{"LCP", ppp.ProtoLCP, ppp.AppendPacket(nil, ppp.CodeTerminateRequest, 2, []byte("bye")), `[LCP TermReq id=0x2 "bye"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(AppendPacketText(nil, c.proto, c.pkt))
			if got != c.want {
				t.Errorf("AppendPacketText(% x)\n got %s\nwant %s", c.pkt, got, c.want)
			}
			checkNoSecret(t, got, "s3cr3t", "s3c", "73 33")
		})
	}
	// It appends.
	if got := string(AppendPacketText([]byte("sent "), ppp.ProtoPAP, req)); !strings.HasPrefix(got, "sent [PAP AuthReq") {
		t.Errorf("got %q", got)
	}
}
