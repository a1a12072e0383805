package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/pppssh/pppssh/internal/linecap"
)

// userDLT is the pcap link type of the files given to tshark: DLT_USER0,
// which tshark is told to dissect as a raw asynchronous HDLC stream (flags,
// escapes and FCS as on the line), the way its "ppp_raw_hdlc" dissector
// reads it.
const userDLT = 147

// tsharkPrefs make tshark decode userDLT as raw HDLC and check the 16-bit
// FCS of every frame.
var tsharkPrefs = []string{
	"-o", `uat:user_dlts:"User 0 (DLT=147)","ppp_raw_hdlc","0","","0",""`,
	"-o", "ppp.fcs_type:16-Bit",
}

// readCapture reads a capture file in the format of captureFile.
func readCapture(t *testing.T, name string) []linecap.Record {
	t.Helper()
	recs, err := linecap.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// rawFrames splits a direction's octets at its flags and returns each frame
// as it was on the line, escapes and FCS included, between two flags.
func rawFrames(b []byte) [][]byte {
	var out [][]byte
	for _, f := range bytes.Split(b, []byte{0x7e}) {
		if len(f) > 0 {
			out = append(out, append(append([]byte{0x7e}, f...), 0x7e))
		}
	}
	return out
}

// writePcap writes frames as a pcap file of link type userDLT.
func writePcap(t *testing.T, name string, frames [][]byte) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkType(userDLT)); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// tshark runs tshark on a pcap file with tsharkPrefs and args and returns
// its standard output. Its configuration directory is empty, so that no
// preference of the host's user changes the decode.
func tshark(t *testing.T, file string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatal("tshark not found; install it: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tshark")
	}
	home := t.TempDir()
	cmd := exec.Command(path, append(append([]string{"-n", "-r", file}, tsharkPrefs...), args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
	}
	return string(out)
}

// TestCaptureTshark has Wireshark's dissectors read the golden capture as
// the raw octets of the line: every frame's FCS must be good, the frames
// and their protocols those our decoder finds, and the LCP and IPCP options
// and the echoed UDP datagram what the capture's header describes.
func TestCaptureTshark(t *testing.T) {
	t.Parallel()
	recs := readCapture(t, captureFile)
	dir := t.TempDir()
	for _, d := range []struct {
		tx   bool
		who  string
		want []string // in tshark -V's text, in this order
	}{
		{true, "our", []string{
			"Configuration Request (1)",
			"Async Control Character Map: 0x00000000",
			"Magic Number: 0x51e7b038",
			"Protocol Field Compression",
			"Address and Control Field Compression",
			"Configuration Ack (2)",
			"Magic Number: 0xdcea3388",
			"PPP IP Control Protocol\n    Code: Configuration Request (1)",
			"IP Address: 0.0.0.0",
			"PPP IP Control Protocol\n    Code: Configuration Reject (4)",
			"IP Compression Protocol: VJ compression (0x002d)",
			"PPP IP Control Protocol\n    Code: Configuration Request (1)",
			"IP Address: 192.0.2.2",
			"PPP IP Control Protocol\n    Code: Configuration Ack (2)",
			"IP Address: 192.0.2.1",
			"Source Address: 192.0.2.2",
			"Destination Address: 192.0.2.1",
			"Destination Port: 7",
			"Code: Termination Request (5)",
		}},
		{false, "pppd's", []string{
			"Configuration Request (1)",
			"Magic Number: 0xdcea3388",
			"Configuration Ack (2)",
			"Magic Number: 0x51e7b038",
			"PPP IP Control Protocol\n    Code: Configuration Request (1)",
			"IP Compression Protocol: VJ compression (0x002d)",
			"IP Address: 192.0.2.1",
			"PPP IP Control Protocol\n    Code: Configuration Nak (3)",
			"IP Address: 192.0.2.2",
			"PPP IP Control Protocol\n    Code: Configuration Ack (2)",
			"IP Address: 192.0.2.2",
			"Source Address: 192.0.2.1",
			"Destination Address: 192.0.2.2",
			"Source Port: 7",
			"Code: Termination Ack (6)",
		}},
	} {
		octets := linecap.Stream(recs, d.tx)
		raw := rawFrames(octets)
		ours, _ := decodeStream(t, octets)
		name := filepath.Join(dir, strings.TrimSuffix(d.who, "'s")+".pcap")
		writePcap(t, name, raw)

		// One line per frame: its FCS status (1 is good) and protocol.
		fields := tshark(t, name, "-T", "fields", "-e", "ppp.fcs.status", "-e", "ppp.protocol")
		lines := strings.Split(strings.TrimSuffix(fields, "\n"), "\n")
		if len(lines) != len(raw) || len(lines) != len(ours) {
			t.Errorf("%s stream: tshark shows %d frames, %d were written, our decoder finds %d", d.who, len(lines), len(raw), len(ours))
		}
		for i, l := range lines {
			fcs, proto, _ := strings.Cut(l, "\t")
			if fcs != "1" {
				t.Errorf("%s frame %d: tshark's FCS status %q, want 1 (good): % x", d.who, i+1, fcs, raw[i])
			}
			if i < len(ours) && proto != fmt.Sprintf("0x%04x", uint16(ours[i].proto)) {
				t.Errorf("%s frame %d: tshark's protocol %s, our decoder's 0x%04x", d.who, i+1, proto, uint16(ours[i].proto))
			}
		}

		text := tshark(t, name, "-V")
		rest := text
		for _, w := range d.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s stream: tshark -V lacks %q (in order)", d.who, w)
				continue
			}
			rest = rest[i+len(w):]
		}
		if strings.Contains(text, "[Malformed") || strings.Contains(text, "Expert Info (Error") {
			t.Errorf("%s stream: tshark reports a malformed or erroneous packet", d.who)
		}
		if t.Failed() {
			t.Logf("tshark -V of the %s stream:\n%s", d.who, text)
		}
	}
}
