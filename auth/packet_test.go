package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

func mustParse(t *testing.T, b []byte) ppp.Packet {
	t.Helper()
	p, err := ppp.ParsePacket(b)
	if err != nil {
		t.Fatalf("ParsePacket(% x): %v", b, err)
	}
	return p
}

func TestPAPCodec(t *testing.T) {
	// RFC 1334 section 2.2.1: Code, Identifier, Length, Peer-ID Length,
	// Peer-ID, Passwd-Length, Password.
	req := AppendPAPRequest([]byte{0xee}, 7, []byte("bob"), NewSecret([]byte("pw")))
	want := []byte{0xee, 1, 7, 0, 11, 3, 'b', 'o', 'b', 2, 'p', 'w'}
	if !bytes.Equal(req, want) {
		t.Fatalf("AppendPAPRequest = % x, want % x", req, want)
	}
	id, pw, err := ParsePAPRequest(mustParse(t, req[1:]))
	if err != nil || string(id) != "bob" || !pw.Equal(NewSecret([]byte("pw"))) {
		t.Errorf("ParsePAPRequest: %q, %v", id, err)
	}
	// Octets after the Password are ignored; an empty Peer-ID and
	// Password are fine.
	if id, pw, err := ParsePAPRequest(mustParse(t, packetOf(1, 1, 0, 0, 9, 9))); err != nil || len(id) != 0 || pw.Len() != 0 {
		t.Errorf("empty request: %q, %d, %v", id, pw.Len(), err)
	}
	for _, bad := range [][]byte{
		packetOf(1, 1),
		packetOf(1, 1, 3, 'b', 'o', 'b'),
		packetOf(1, 1, 4, 'b', 'o', 'b'),
		packetOf(1, 1, 3, 'b', 'o', 'b', 3, 'p', 'w'),
	} {
		if _, _, err := ParsePAPRequest(mustParse(t, bad)); !errors.Is(err, ppp.ErrMalformed) {
			t.Errorf("ParsePAPRequest(% x): %v", bad, err)
		}
	}
	// Fields longer than 255 octets are cut.
	long := AppendPAPRequest(nil, 1, bytes.Repeat([]byte("u"), 300), NewSecret(bytes.Repeat([]byte("p"), 300)))
	if id, pw, err := ParsePAPRequest(mustParse(t, long)); err != nil || len(id) != 255 || pw.Len() != 255 || len(long) != 4+2+510 {
		t.Errorf("long request: %d, %d, %v", len(id), pw.Len(), err)
	}

	ack := AppendPAPReply(nil, PAPAuthenticateAck, 9, []byte("ok"))
	if !bytes.Equal(ack, []byte{2, 9, 0, 7, 2, 'o', 'k'}) {
		t.Errorf("AppendPAPReply = % x", ack)
	}
	if msg, err := ParsePAPReply(mustParse(t, ack)); err != nil || string(msg) != "ok" {
		t.Errorf("ParsePAPReply: %q, %v", msg, err)
	}
	if msg, err := ParsePAPReply(mustParse(t, packetOf(3, 1))); err != nil || msg != nil {
		t.Errorf("ParsePAPReply without data: %q, %v", msg, err)
	}
	if _, err := ParsePAPReply(mustParse(t, packetOf(3, 1, 3, 'o', 'k'))); !errors.Is(err, ppp.ErrMalformed) {
		t.Errorf("ParsePAPReply past the end: %v", err)
	}
	if n := len(AppendPAPReply(nil, 3, 1, []byte(strings.Repeat("m", 300)))); n != 4+1+255 {
		t.Errorf("long reply: %d octets", n)
	}
}

func TestCHAPCodec(t *testing.T) {
	// RFC 1994 section 4.1: Code, Identifier, Length, Value-Size, Value,
	// Name.
	ch := AppendCHAPValue(nil, CHAPChallenge, 0x80, []byte{1, 2, 3}, []byte("gw"))
	if !bytes.Equal(ch, []byte{1, 0x80, 0, 10, 3, 1, 2, 3, 'g', 'w'}) {
		t.Fatalf("AppendCHAPValue = % x", ch)
	}
	v, name, err := ParseCHAPValue(mustParse(t, ch))
	if err != nil || !bytes.Equal(v, []byte{1, 2, 3}) || string(name) != "gw" {
		t.Errorf("ParseCHAPValue: % x, %q, %v", v, name, err)
	}
	for _, bad := range [][]byte{packetOf(1, 1), packetOf(2, 1, 0, 'x'), packetOf(1, 1, 4, 1, 2, 3)} {
		if _, _, err := ParseCHAPValue(mustParse(t, bad)); !errors.Is(err, ppp.ErrMalformed) {
			t.Errorf("ParseCHAPValue(% x): %v", bad, err)
		}
	}
	if st := AppendCHAPStatus(nil, CHAPSuccess, 5, []byte("ok")); !bytes.Equal(st, []byte{3, 5, 0, 6, 'o', 'k'}) {
		t.Errorf("AppendCHAPStatus = % x", st)
	}
}
