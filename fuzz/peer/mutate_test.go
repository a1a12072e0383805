package peer

import (
	"bytes"
	"testing"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

// TestFuzzFrameIsPlainFraming: wireFrame frames exactly as an hdlc.Encoder
// with the default settings (every control character escaped, FCS-16),
// and the decoder takes the frames back, also those with an FCS-32.
func TestFuzzFrameIsPlainFraming(t *testing.T) {
	g := newMutGen()
	g.rng = fuzzRand(1, 1)
	var enc hdlc.Encoder
	for i, frame := range g.seeds {
		if got, want := wireFrame(frame), enc.AppendFrame(nil, frame); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: wireFrame = % x, the encoder gives % x", i, got, want)
		}
	}
	var enc32 hdlc.Encoder
	enc32.SetFCS(hdlc.FCS32)
	frame := g.seeds[0]
	got := hdlc.Checksum32(frame)
	raw := enc32.AppendFrame(nil, frame)
	d := hdlc.NewDecoder(bytes.NewReader(raw))
	d.SetFCS(hdlc.FCS32)
	d.SetACCM(0)
	if back, err := d.ReadFrame(); err != nil || !bytes.Equal(back, frame) {
		t.Fatalf("FCS-32 frame did not decode: %v", err)
	}
	want := stuff(nil, []byte{byte(got), byte(got >> 8), byte(got >> 16), byte(got >> 24)})
	if !bytes.HasSuffix(raw[:len(raw)-1], want) {
		t.Errorf("hdlc.Checksum32 = %08x; the encoder's frame ends % x", got, raw[len(raw)-9:])
	}
}

// TestMutGenDeterministic: the same seed and batch make the same units;
// another seed makes others.
func TestMutGenDeterministic(t *testing.T) {
	units := func(seed int64) [][]byte {
		g := newMutGen()
		g.rng, g.magic = fuzzRand(seed, 3), 0x01020304
		var out [][]byte
		for range 200 {
			out = append(out, g.unit().raw)
		}
		return out
	}
	a, b, c := units(42), units(42), units(43)
	same := 0
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("unit %d differs between two runs of seed 42", i)
		}
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same > 20 {
		t.Errorf("seeds 42 and 43 made %d equal units of 200", same)
	}
}

// TestMutGenUnits makes many units of every kind: none panics, each is
// bounded, plain ones frame what they say, and the bug classes show up
// (options of length 0 and 1 and past the packet, large packets, EAP,
// compressed LCP, bad FCS).
func TestMutGenUnits(t *testing.T) {
	g := newMutGen()
	g.rng, g.magic = fuzzRand(9, 9), 0x5eed
	// A captured frame of the peer's, as the fuzzer keeps them.
	g.capture(Frame{Raw: mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, ppp.AppendOptionUint32(nil, 5, 0xabcdef01)), Proto: ppp.ProtoLCP,
		Info: mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 1, ppp.AppendOptionUint32(nil, 5, 0xabcdef01))[4:]})
	seen := map[string]int{}
	for range 20000 {
		u := g.unit()
		if len(u.raw) == 0 || len(u.raw) > hdlc.MaxEncodedLen(mutMaxFrame)+8 {
			t.Fatalf("unit %q of %d octets", u.what, len(u.raw))
		}
		if u.frame != nil && !bytes.Equal(u.raw, wireFrame(u.frame)) {
			t.Fatalf("unit %q: raw is not its frame in plain framing", u.what)
		}
		for _, class := range []string{"option length", "duplicate options", "MRU", "large packet", "long Nak", "many options", "EAP", "CHAP", "PAP", "Length field", "unknown code", "reject", "header", "bad FCS", "escape before the closing flag", "mutated", "valid", "frame of the peer's", "no Address and Control fields"} {
			if bytes.Contains([]byte(u.what), []byte(class)) {
				seen[class]++
			}
		}
		if u.frame != nil && len(u.frame) > 4+1500 {
			seen["beyond 1500"]++
		}
	}
	for _, class := range []string{"option length", "duplicate options", "MRU", "large packet", "long Nak", "many options", "EAP", "CHAP", "PAP", "Length field", "unknown code", "reject", "header", "bad FCS", "escape before the closing flag", "mutated", "valid", "frame of the peer's", "no Address and Control fields", "beyond 1500"} {
		if seen[class] == 0 {
			t.Errorf("no unit of class %q in 20000", class)
		}
	}
	t.Logf("units by class: %v", seen)
}

// TestMutGenEAPShape: the EAP generator makes the shape of CVE-2020-8597,
// an MD5-Challenge Response whose value size runs past the packet.
func TestMutGenEAPShape(t *testing.T) {
	g := newMutGen()
	g.rng = fuzzRand(5, 5)
	for range 5000 {
		b, _ := g.eap()
		pkt, err := ppp.ParsePacket(b[4:])
		if err != nil || pkt.Code() != 2 {
			continue
		}
		d := pkt.Data()
		if len(d) >= 2 && d[0] == 4 && int(d[1]) > len(d)-2 {
			return
		}
	}
	t.Error("no EAP Response MD5-Challenge with a value size past the packet in 5000")
}

// TestSendsReject: an LCP Code-Reject or Protocol-Reject is seen in the
// octets sent, so a silent end of the link after it is no finding.
func TestSendsReject(t *testing.T) {
	for _, tc := range []struct {
		raw  []byte
		want bool
	}{
		{wireFrame(mutPacket(ppp.ProtoLCP, ppp.CodeCodeReject, 1, []byte{0x20, 1, 0, 4})), true},
		{wireFrame(mutPacket(ppp.ProtoLCP, ppp.CodeProtocolReject, 1, []byte{0xc0, 0x21})), true},
		{wireFrame(mutPacket(ppp.ProtoIPCP, ppp.CodeCodeReject, 1, nil)), false},
		{wireFrame(mutPacket(ppp.ProtoLCP, ppp.CodeEchoRequest, 1, nil)), false},
		{[]byte("garbage"), false},
	} {
		if got := fuzzSendsReject(tc.raw); got != tc.want {
			t.Errorf("sendsReject(% x) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

// TestFuzzTextAuth: PAP, CHAP and EAP packets print with their codes'
// names; malformed packets with their Length.
func TestFuzzTextAuth(t *testing.T) {
	for _, tc := range []struct {
		frame []byte
		want  string
	}{
		{mutPacket(ppp.ProtoEAP, 2, 1, []byte{1, 'a'}), "[EAP Response id=0x1 01 61]"},
		{mutPacket(ppp.ProtoCHAP, 1, 2, nil), "[CHAP Challenge id=0x2]"},
		{mutPacket(ppp.ProtoPAP, 9, 2, nil), "[PAP code=0x9 id=0x2]"},
		{mutPacket(ppp.ProtoLCP, ppp.CodeConfigureRequest, 3, ppp.AppendOptionUint16(nil, 1, 1500)), "[LCP ConfReq id=0x3 <mru 1500>]"},
		{append(mutPacket(ppp.ProtoEAP, 2, 1, nil)[:6], 0xff, 0xff), "(Length 65535, 4 octets)"},
		{[]byte{0xff, 0x01}, "[bad header: ff 01]"},
	} {
		if got := fuzzText(tc.frame); !bytes.Contains([]byte(got), []byte(tc.want)) {
			t.Errorf("fuzzText(% x) = %q, want %q in it", tc.frame, got, tc.want)
		}
	}
}

// TestFuzzCrashIndex: crash reports are found where their line starts; a
// Go panic only at the start of a line, not quoted in a debug log.
func TestFuzzCrashIndex(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		want   int
	}{
		{"", -1},
		{"panic: runtime error: index out of range\n", 0},
		{"rcvd [PAP AuthReq user=\"panic: x\"]\n", -1},
		{"log\npanic: boom\n", 4},
		{"==12==ERROR: AddressSanitizer: heap-buffer-overflow\n", 0},
		{"ok\nlcp.c:12:3: runtime error: index 300 out of bounds\n", 3},
		{"a\nb\n*** stack smashing detected ***: terminated\n", 4},
	} {
		if got := fuzzCrashIndex(tc.stderr); got != tc.want {
			t.Errorf("fuzzCrashIndex(%q) = %d, want %d", tc.stderr, got, tc.want)
		}
	}
}
