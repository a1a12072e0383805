package tunnel

import (
	"errors"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"

	"github.com/pppssh/pppssh/internal/nstest"
	"github.com/pppssh/pppssh/ppp"
)

// TestReceiverCoalesces hands the receiver of an engine on a kernel TUN
// with offloads the segments of one TCP flow, as the link delivers them
// from one read of the stream, and watches the interface with a packet
// socket: the kernel must get them as a few large packets, not one per
// segment (which costs the receiving end most of its time in write calls).
func TestReceiverCoalesces(t *testing.T) {
	ns := nstest.New(t)
	tt := mustOpenTUN(t, ns, TUNConfig{Name: "gro0"})
	if !tt.Offload() {
		t.Fatal("the TUN has no offloads: this kernel should have them (IFF_VNET_HDR, TUNSETOFFLOAD)")
	}
	ns.Run("ip", "addr", "add", "192.0.2.1", "peer", "192.0.2.2", "dev", "gro0")
	ns.Run("ip", "link", "set", "gro0", "up")
	ifi, err := net.InterfaceByName("gro0")
	if err == nil {
		t.Fatal("gro0 is visible outside the test's namespace")
	}
	var fd int
	ns.MustDo(func() error {
		if ifi, err = net.InterfaceByName("gro0"); err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi.Index})
	})
	defer unix.Close(fd)
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 2}); err != nil {
		t.Fatal(err)
	}

	e := New(nil, tt, Config{})
	e.prepare()
	const segments, payload = 40, 1448
	for i := range segments {
		e.rx.HandlePacket(ppp.ProtoIPv4, tcpSegment(t, uint32(1000+i*payload), payload, i == segments-1))
	}
	e.rx.Flush()
	if c := e.n.snapshot(); c.PacketsWritten != segments || c.DropWrite != 0 {
		t.Fatalf("device counters after the batch: %+v, want %d packets written", c, segments)
	}

	// Every octet of payload must arrive, in fewer packets than segments.
	var lengths []int
	buf := make([]byte, 1<<16)
	for got := 0; got < segments*payload; {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_TRUNC)
		if errors.Is(err, unix.EAGAIN) {
			t.Fatalf("packets seen on gro0: %v (%d of %d payload octets), then nothing for 2 s", lengths, got, segments*payload)
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < 40 || buf[9] != unix.IPPROTO_TCP {
			continue // the kernel's own traffic on a new link
		}
		lengths = append(lengths, n)
		got += n - 40
	}
	t.Logf("%d segments of %d octets reached the kernel as packets of %v octets", segments, payload, lengths)
	if max := segments*payload/coalesceRoom + 2; len(lengths) > max {
		t.Errorf("%d segments reached the kernel as %d packets, want at most %d", segments, len(lengths), max)
	}
}

// tcpSegment builds a segment of payload octets of a TCP flow from
// 192.0.2.2:40000 to 192.0.2.1:5201, at sequence number seq, checksums
// computed; psh sets PSH, as the last segment of a send does.
func tcpSegment(t *testing.T, seq uint32, payload int, psh bool) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{192, 0, 2, 2}, DstIP: net.IP{192, 0, 2, 1}}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 5201, Seq: seq, Ack: 1, ACK: true, PSH: psh, Window: 1024}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, payload)
	for i := range data {
		data[i] = byte(seq) + byte(i)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ip, tcp, gopacket.Payload(data)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// htons converts a 16-bit value to network byte order, as the packet
// socket calls take their protocol.
func htons(v uint16) uint16 { return v<<8 | v>>8 }
