package auth

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
	"github.com/pppssh/pppssh/ppp/ppptest"
)

// FuzzPacketText prints arbitrary PAP (even proto) and CHAP (odd proto)
// packets as pppd's debug log does, as the exchanges log every packet they
// receive: no panic, one line of printable ASCII, bracketed for a
// well-formed packet without padding, of a bounded length.
func FuzzPacketText(f *testing.F) {
	f.Add(byte(0), AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("s3cr3t"))))
	f.Add(byte(0), AppendPAPReply(nil, PAPAuthenticateNak, 1, []byte("Login incorrect\n")))
	f.Add(byte(1), AppendCHAPValue(nil, CHAPChallenge, 1, seq(0x40, 17), []byte("gw")))
	f.Add(byte(1), AppendCHAPStatus(nil, CHAPFailure, 1, []byte("E=691 R=1 C=0123")))
	f.Add(byte(1), []byte{CHAPResponse, 1, 0, 5, 0, 0xff})
	f.Fuzz(func(t *testing.T, proto byte, pkt []byte) {
		pr := ppp.ProtoPAP
		if proto&1 != 0 {
			pr = ppp.ProtoCHAP
		}
		text := AppendPacketText(nil, pr, pkt)
		ppptest.CheckText(t, text, pkt, "["+pr.String())
	})
}

// FuzzPAPHidesPassword checks that the text of a PAP Authenticate-Request,
// well formed or not (its Length changed by delta, the packet cut to cut
// octets, octets added after it), does not depend on the password's octets:
// the same request with every octet of the password changed prints the
// same.
func FuzzPAPHidesPassword(f *testing.F) {
	f.Add([]byte("alice"), []byte("s3cr3t"), []byte{}, int8(0), uint16(0xffff))
	f.Add([]byte("alice"), []byte("s3cr3t"), []byte("xy"), int8(2), uint16(0xffff))
	f.Add([]byte(""), []byte("pw"), []byte{}, int8(-3), uint16(0xffff))
	f.Add([]byte("bob"), []byte("hunter2"), []byte{1, 2, 3}, int8(0), uint16(9))
	f.Fuzz(func(t *testing.T, user, pw, tail []byte, delta int8, cut uint16) {
		build := func(pw []byte) []byte {
			b := append(AppendPAPRequest(nil, 1, user, NewSecret(pw)), tail...)
			n := int(b[2])<<8 | int(b[3]) + int(delta)
			b[2], b[3] = byte(n>>8), byte(n)
			return b[:min(len(b), int(cut))]
		}
		other := bytes.Clone(pw)
		for i := range other {
			other[i] ^= 0xff
		}
		a := AppendPacketText(nil, ppp.ProtoPAP, build(pw))
		b := AppendPacketText(nil, ppp.ProtoPAP, build(other))
		if !bytes.Equal(a, b) {
			t.Fatalf("the password shows:\n%s\n%s", a, b)
		}
	})
}
