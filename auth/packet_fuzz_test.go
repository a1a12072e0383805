package auth

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// FuzzPAPPacket decodes arbitrary PAP packets as the exchanges do: no
// panic, and what decodes encodes back to the same octets
// (decode(encode(x)) = x), up to the octets the decoders ignore.
func FuzzPAPPacket(f *testing.F) {
	f.Add(AppendPAPRequest(nil, 1, []byte("alice"), NewSecret([]byte("s3cr3t"))))
	f.Add(AppendPAPReply(nil, PAPAuthenticateAck, 1, []byte("Login ok")))
	f.Add(AppendPAPReply(nil, PAPAuthenticateNak, 2, []byte("Login incorrect")))
	f.Add(packetOf(PAPAuthenticateRequest, 3, 5, 'a', 'l'))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p, err := ppp.ParsePacket(pkt)
		if err != nil {
			return
		}
		if id, pw, err := ParsePAPRequest(p); err == nil {
			enc := AppendPAPRequest(nil, p.ID(), id, pw)
			if n := len(enc) - ppp.HeaderLen; n > len(p.Data()) || !bytes.Equal(enc[ppp.HeaderLen:], p.Data()[:n]) || enc[1] != p.ID() {
				t.Fatalf("request % x encodes back as % x", pkt, enc)
			}
		}
		if msg, err := ParsePAPReply(p); err == nil && len(p.Data()) > 0 {
			enc := AppendPAPReply(nil, uint8(p.Code()), p.ID(), msg)
			if n := len(enc) - ppp.HeaderLen; n > len(p.Data()) || !bytes.Equal(enc[ppp.HeaderLen:], p.Data()[:n]) || enc[0] != pkt[0] {
				t.Fatalf("reply % x encodes back as % x", pkt, enc)
			}
		}
	})
}

// FuzzCHAPPacket is FuzzPAPPacket for CHAP.
func FuzzCHAPPacket(f *testing.F) {
	f.Add(AppendCHAPValue(nil, CHAPChallenge, 1, seq(0x40, 16), []byte("gw")))
	f.Add(AppendCHAPValue(nil, CHAPResponse, 1, seq(0, 16), []byte("alice")))
	f.Add(AppendCHAPStatus(nil, CHAPSuccess, 1, []byte("Access granted")))
	f.Add(packetOf(CHAPChallenge, 1, 0))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p, err := ppp.ParsePacket(pkt)
		if err != nil {
			return
		}
		if v, name, err := ParseCHAPValue(p); err == nil {
			if len(v) == 0 {
				t.Fatalf("empty value accepted in % x", pkt)
			}
			enc := AppendCHAPValue(nil, uint8(p.Code()), p.ID(), v, name)
			if !bytes.Equal(enc, p) {
				t.Fatalf("% x encodes back as % x", p, enc)
			}
		}
	})
}
