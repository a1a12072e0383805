package hdlc

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pppssh/pppssh/ppp"
)

// pppdFrame is one frame of testdata/pppd-2.4.9-tx.hex: the octets pppd wrote
// for it and the line pppd logged when it sent it.
type pppdFrame struct {
	wire []byte
	log  string
}

func readPPPDFrames(t testing.TB) []pppdFrame {
	t.Helper()
	f, err := os.Open("testdata/pppd-2.4.9-tx.hex")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []pppdFrame
	var log string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# sent ["):
			log = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, "#"):
		default:
			b, err := hex.DecodeString(line)
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, pppdFrame{wire: b, log: log})
			log = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return frames
}

// TestPPPDCapture decodes what a real pppd 2.4.9 wrote on its line while it
// brought a link up, checks every frame against pppd's own debug log, and
// re-encodes each frame to the exact octets pppd sent.
func TestPPPDCapture(t *testing.T) {
	raw, err := os.ReadFile("testdata/pppd-2.4.9-tx.raw")
	if err != nil {
		t.Fatal(err)
	}
	logText, err := os.ReadFile("testdata/pppd-2.4.9-debug.txt")
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for line := range strings.Lines(string(logText)) {
		if strings.HasPrefix(line, "sent [") {
			sent = append(sent, strings.TrimSpace(line))
		}
	}
	frames := readPPPDFrames(t)
	if len(frames) != len(sent) || len(frames) != 16 {
		t.Fatalf("%d frames in the hex file, %d sent lines in the log; want 16 of each", len(frames), len(sent))
	}

	// The hex file is the raw capture cut at its frames.
	var joined []byte
	for i, f := range frames {
		joined = append(joined, f.wire...)
		if f.log != sent[i] {
			t.Errorf("hex file frame %d is labelled %q, log says %q", i, f.log, sent[i])
		}
	}
	if !bytes.Equal(joined, raw) {
		t.Fatal("the frames of the hex file do not add up to pppd-2.4.9-tx.raw")
	}

	// Every frame decodes with a good FCS, in order, with nothing else.
	d := NewDecoder(bytes.NewReader(raw))
	decoded, err := decodeAll(d)
	if err != io.EOF {
		t.Fatal(err)
	}
	if got := d.Stats(); got != (Stats{Frames: 16}) {
		t.Errorf("Stats = %+v, want 16 good frames and nothing else", got)
	}
	if g := d.Garbage(); g != nil {
		t.Errorf("Garbage = %q, want none", g)
	}
	if len(decoded) != len(frames) {
		t.Fatalf("decoded %d frames, want %d", len(decoded), len(frames))
	}

	var enc Encoder // pppd's peer asked for no ACCM: DefaultACCM throughout
	var prev []byte
	for i, frame := range decoded {
		// What pppd logged: protocol, code and identifier.
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			continue
		}
		pkt, err := ppp.ParsePacket(info)
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			continue
		}
		prefix := fmt.Sprintf("sent [%v %v id=0x%x", proto, pkt.Code(), pkt.ID())
		if !strings.HasPrefix(sent[i], prefix) {
			t.Errorf("frame %d decodes to %q..., pppd logged %q", i, prefix, sent[i])
		}
		// ACFC: after LCP opened, pppd dropped ff 03 except on LCP
		// Configure packets.
		full := frame[0] == 0xff
		if wantFull := proto == ppp.ProtoLCP && pkt.Code() <= ppp.CodeConfigureReject; full != wantFull {
			t.Errorf("frame %d (%s): Address and Control present = %v, want %v", i, sent[i], full, wantFull)
		}

		// Re-encoding gives pppd's octets, flags included: a frame that
		// pppd opened with a flag of its own starts a fresh buffer.
		if frames[i].wire[0] == flagSequence {
			prev = nil
		}
		out := enc.AppendFrame(prev, frame)
		if got := out[len(prev):]; !bytes.Equal(got, frames[i].wire) {
			t.Errorf("frame %d re-encoded:\n got %x\nwant %x", i, got, frames[i].wire)
		}
		prev = out
	}

	// Two details of the log, checked on the decoded options.
	for _, tt := range []struct {
		frame int
		want  []byte
	}{
		{0, []byte{0x02, 0x06, 0x00, 0x00, 0x00, 0x00}}, // <asyncmap 0x0>
		{0, []byte{0x05, 0x06, 0x03, 0xd1, 0x98, 0x1f}}, // <magic 0x3d1981f>
		{2, []byte{0x03, 0xd1, 0x98, 0x1f}},             // EchoReq magic=0x3d1981f
		{6, []byte{0x03, 0x06, 0x0a, 0x00, 0x02, 0x02}}, // IPCP ConfAck <addr 10.0.2.2>
	} {
		if !bytes.Contains(decoded[tt.frame], tt.want) {
			t.Errorf("frame %d (%s) lacks %x", tt.frame, sent[tt.frame], tt.want)
		}
	}
}
