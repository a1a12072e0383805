package interop

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/pppssh/pppssh/internal/linecap"
	"github.com/pppssh/pppssh/ipcp"
	"github.com/pppssh/pppssh/lcp"
	"github.com/pppssh/pppssh/link"
	"github.com/pppssh/pppssh/ppp"
)

var update = flag.Bool("update", false, "rewrite testdata/ from TestCapture's live capture")

const (
	captureFile = "testdata/pppd-2.4.9-link.txt"
	captureLog  = "testdata/pppd-2.4.9-link.log"
)

const captureHeader = `# One PPP link between pppssh's link package and pppd 2.4.9 (Debian's, with
# its stock /etc/ppp/options, "noauth 192.0.2.1:192.0.2.2", debug twice),
# recorded by TestCapture -update on the host end of the VM's virtio line.
# Our link sends Echo-Requests every 300 ms; once IPCP is Opened it sends one
# UDP datagram to the guest's echo service (192.0.2.1 port 7), which comes
# back through pppd; then it closes the link.
#
# Each line is one write of ours ("tx") or one read of pppd's octets ("rx"),
# in hexadecimal, in the order they happened. pppd-2.4.9-link.log is pppd's
# debug log of the same link.
`

// TestCapture records one whole link with pppd, checks the recording
// (see checkCapture), and with -update keeps it as testdata.
func TestCapture(t *testing.T) {
	t.Parallel()
	vm := startPPPD(t, pppdAssigns)
	ctx := testContext(t)
	lc := lcp.DefaultConfig()
	lc.EchoInterval, lc.EchoFailure = 300*time.Millisecond, 10
	o := runLink(t, ctx, vm, link.Config{LCP: &lc})
	o.waitIPCP(t, ctx)
	waitLog(t, ctx, vm, "remote IP address "+ourAddr.String())
	waitLogCount(t, ctx, vm, "rcvd [LCP EchoReq", 2)
	if err := udpEcho(ctx, o, ourAddr, pppdAddr, 300); err != nil {
		t.Fatal(err)
	}
	o.l.Close()
	if err := o.wait(t, ctx); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Run = %v, want ErrClosed", err)
	}
	waitLog(t, ctx, vm, "sent [LCP TermAck")
	recs, _ := o.tap.capture()
	log := pppdLog(vm.Log())
	checkCapture(t, recs, log)
	if *update && !t.Failed() {
		var b bytes.Buffer
		if err := linecap.Write(&b, captureHeader, recs); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(captureFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(captureLog, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCaptureGolden checks the recording kept in testdata.
func TestCaptureGolden(t *testing.T) {
	t.Parallel()
	recs := readCapture(t, captureFile)
	log, err := os.ReadFile(captureLog)
	if err != nil {
		t.Fatal(err)
	}
	checkCapture(t, recs, string(log))
}

// pppdLog returns pppd's own lines of the VM's console.
func pppdLog(console string) string {
	var b strings.Builder
	for _, l := range strings.Split(console, "\n") {
		if l == "" || strings.HasPrefix(l, "pppdvm") || strings.HasPrefix(l, "[") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// checkCapture checks a recorded link: every frame in both directions
// decodes with a good FCS; gopacket reads the same PPP Protocol field and
// Information as we do; each control packet we sent is one pppd logged as
// received ("rcvd [...]", printed the same way by our formatter) and each
// one pppd sent, one it logged as sent, in the same order; our LCP packets
// keep their full header, and our IPv4 frames are compressed as agreed; the
// UDP datagram we sent to the echo service came back, as gopacket decodes
// both.
func checkCapture(t *testing.T, recs []linecap.Record, log string) {
	t.Helper()
	var sent, rcvd []string
	for _, l := range pppdLines(log) {
		if strings.HasPrefix(l, "sent ") {
			sent = append(sent, l)
		} else {
			rcvd = append(rcvd, l)
		}
	}
	var udp [2][]byte // payloads: [0] ours to port 7, [1] pppd's from port 7
	for _, dir := range []struct {
		tx     bool
		who    string
		logged []string // pppd's log lines for these frames
		verb   string
	}{
		{true, "our", rcvd, "rcvd "},
		{false, "pppd's", sent, "sent "},
	} {
		frames, st := decodeStream(t, linecap.Stream(recs, dir.tx))
		if st.BadFCS+st.Short+st.Aborted+st.Oversized != 0 || st.Outside != 0 {
			t.Errorf("%s stream: decoder counters %+v, want only good frames", dir.who, st)
		}
		if st.Frames != uint64(len(frames)) || len(frames) == 0 {
			t.Errorf("%s stream: %d frames, decoder counted %d", dir.who, len(frames), st.Frames)
		}
		var texts []string
		for _, f := range frames {
			checkGopacketPPP(t, dir.who, f)
			switch {
			case f.proto == ppp.ProtoIPv4:
				if dir.tx && !(f.acfc && f.pfc) {
					t.Errorf("our IPv4 frame without ACFC and PFC, though both were agreed")
				}
				u, _, _, ok := decodeUDP(f.info)
				if !ok {
					t.Errorf("%s IPv4 packet does not decode with gopacket: % x", dir.who, f.info)
					continue
				}
				if dir.tx && u.DstPort == 7 {
					udp[0] = u.Payload
				}
				if !dir.tx && u.SrcPort == 7 {
					udp[1] = u.Payload
				}
			case f.proto.IsControl():
				// RFC 1661 section 6.6: no LCP packet with ACFC. Linux's
				// ppp_async (pppd's framing) applies the rule to codes 1
				// to 7 only (Configure-*, Terminate-*, Code-Reject, as
				// RFC 1662 section 7.1 does for the ACCM) and sends
				// Echo and Protocol-Reject packets without Address and
				// Control; we keep the RFC 1661 rule.
				full := !dir.tx && len(f.info) > 0 && f.info[0] >= 1 && f.info[0] <= 7
				if f.proto == ppp.ProtoLCP && f.compressed && (dir.tx || full) {
					t.Errorf("%s LCP frame with a compressed header: [%s]", dir.who, packetText(f))
				}
				texts = append(texts, dir.verb+packetText(f))
			default:
				t.Errorf("%s frame of unexpected protocol %v", dir.who, f.proto)
			}
		}
		// pppd reads and writes LCP on the kernel's PPP channel and the
		// network control protocols on its PPP unit, two descriptors:
		// its log keeps the order within each, not between them.
		for _, lcpOnly := range []bool{true, false} {
			a, b := byChannel(texts, lcpOnly), byChannel(dir.logged, lcpOnly)
			if len(a) != len(b) {
				t.Errorf("%s stream: %d control packets (LCP only: %v), pppd logged %d", dir.who, len(a), lcpOnly, len(b))
			}
			for i := 0; i < len(a) && i < len(b); i++ {
				if !sameText(a[i], b[i]) {
					t.Errorf("%s control packet: we read\n\t%s\npppd logged\n\t%s", dir.who, a[i], b[i])
				}
			}
		}
	}
	if udp[0] == nil || !bytes.Equal(udp[0], udp[1]) {
		t.Errorf("UDP echo: sent %d octets, got %d back, or they differ", len(udp[0]), len(udp[1]))
	}
}

// byChannel returns the lines about LCP packets, or the others.
func byChannel(lines []string, lcpOnly bool) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, " [LCP ") == lcpOnly {
			out = append(out, l)
		}
	}
	return out
}

// checkGopacketPPP decodes a frame's PPP header with gopacket and compares
// it with ours.
func checkGopacketPPP(t *testing.T, who string, f frame) {
	t.Helper()
	hdr := []byte{byte(f.proto >> 8), byte(f.proto)}
	if f.pfc {
		hdr = hdr[1:]
	}
	body := append(hdr, f.info...)
	p := gopacket.NewPacket(body, layers.LayerTypePPP, gopacket.Default)
	l, ok := p.Layer(layers.LayerTypePPP).(*layers.PPP)
	if !ok {
		t.Errorf("%s frame: gopacket finds no PPP layer in % x", who, body)
		return
	}
	if ppp.Protocol(l.PPPType) != f.proto || !bytes.Equal(l.Payload, f.info) {
		t.Errorf("%s frame: gopacket reads protocol %#04x and %d octets, we %v and %d", who, uint16(l.PPPType), len(l.Payload), f.proto, len(f.info))
	}
}

// packetText prints a control packet as pppd's debug log does, with our
// formatters for LCP and IPCP options.
func packetText(f frame) string {
	var fm any
	switch f.proto {
	case ppp.ProtoLCP:
		fm = lcp.New(lcp.DefaultConfig())
	case ppp.ProtoIPCP:
		fm, _ = ipcp.New(ipcp.Config{})
	}
	return string(ppp.AppendPacketText(nil, f.proto, f.info, fm))
}

// sameText compares our text of a packet with pppd's line. For protocols
// we do not run (CCP, IPV6CP) only the part before the options is
// compared: pppd names their options, we print them in hexadecimal.
func sameText(ours, pppds string) bool {
	if strings.Contains(ours, "[LCP ") || strings.Contains(ours, "[IPCP ") {
		return ours == pppds
	}
	head := func(s string) string {
		if i := strings.Index(s, " <"); i >= 0 {
			return s[:i]
		}
		return strings.TrimSuffix(s, "]")
	}
	return head(ours) == head(pppds)
}
